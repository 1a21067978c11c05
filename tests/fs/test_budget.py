"""The daemon's resident memory stays under its budget plus a small margin
while a store ten times the budget is read end to end."""

import os
import threading
import time

PAGE = 4096
BUDGET = 16 << 20
STORE = 10 * BUDGET
# What the daemon holds beyond its cache: code, libstdc++, libfuse's receive
# buffers and one reply buffer per worker thread (1 MiB each, 8 threads).
MARGIN = 24 << 20


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_rss_stays_under_budget_while_reading_ten_times_the_budget(mounted):
    chunk = bytes(range(256)) * (1 << 12)  # 1 MiB
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        for off in range(PAGE, STORE + PAGE, len(chunk)):
            os.pwrite(fd, chunk, off)
        os.fsync(fd)
    finally:
        os.close(fd)
    mounted.remount()  # a cold cache

    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes(mounted.pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    total = 0
    try:
        fd = os.open(mounted.data(), os.O_RDONLY)
        try:
            while True:
                block = os.read(fd, 1 << 20)
                if not block:
                    break
                total += len(block)
        finally:
            os.close(fd)
    finally:
        stop.set()
        sampler.join()
    assert total == STORE + PAGE
    stats = mounted.stats()
    assert stats["misses"] >= STORE // PAGE
    assert stats["resident"] <= BUDGET
    assert peak[0] <= BUDGET + MARGIN, f"peak RSS {peak[0] >> 20} MiB"
    print(f"peak daemon RSS {peak[0] / 2**20:.1f} MiB for a {BUDGET >> 20} MiB budget")
