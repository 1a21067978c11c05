"""The daemon's resident memory, and with it what the kernel caches of the
mount's files, stays under the budget plus a small margin while a store
several times the budget is read end to end."""

import ctypes
import mmap
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


def _fill(mounted, size):
    """Writes size bytes of pages through data, from page 1 on, and commits."""
    chunk = bytes(range(256)) * (1 << 12)  # 1 MiB
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        for off in range(PAGE, size + PAGE, len(chunk)):
            os.pwrite(fd, chunk, off)
        os.fsync(fd)
    finally:
        os.close(fd)


def test_rss_stays_under_budget_while_reading_ten_times_the_budget(mounted):
    _fill(mounted, STORE)
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


class _CachestatRange(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _Cachestat(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in
                ("nr_cache", "nr_dirty", "nr_writeback", "nr_evicted", "nr_recently_evicted")]


_libc = ctypes.CDLL(None, use_errno=True)
_SYS_CACHESTAT = {"x86_64": 451, "aarch64": 451}.get(os.uname().machine)


def kernel_cached_bytes(path):
    """Bytes of path in the kernel's page cache: cachestat(2) (Linux >= 6.5),
    else mincore(2) over a read-only mapping."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _SYS_CACHESTAT is not None:
            rng, cs = _CachestatRange(0, 0), _Cachestat()
            if _libc.syscall(_SYS_CACHESTAT, fd, ctypes.byref(rng), ctypes.byref(cs), 0) == 0:
                return cs.nr_cache * PAGE
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m:
            pages = (size + PAGE - 1) // PAGE
            vec = (ctypes.c_ubyte * pages)()
            buf = (ctypes.c_char * size).from_buffer(m)
            try:
                _libc.mincore(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(size), vec)
            finally:
                del buf
            return sum(v & 1 for v in vec) * PAGE
    finally:
        os.close(fd)


KERNEL_STORE = 4 * BUDGET


def test_the_kernels_cached_pages_and_the_daemon_stay_within_the_budget(mounted):
    """A store four times the budget read whole through data and committed:
    what the kernel caches of the mount's files (measured by the kernel) plus
    the daemon's resident memory stays within the budget plus the margin, and
    the daemon's count is an upper bound of the kernel's figure."""
    _fill(mounted, KERNEL_STORE)
    mounted.remount()  # nothing cached anywhere
    files = [mounted.data(), mounted.mnt / "data" / "committed"]
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            total = rss_bytes(mounted.pid) + sum(kernel_cached_bytes(f) for f in files)
            peak[0] = max(peak[0], total)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        for path in files:
            with open(path, "rb", buffering=0) as f:
                total = 0
                while block := f.read(1 << 20):
                    total += len(block)
            assert total == KERNEL_STORE + PAGE
    finally:
        stop.set()
        sampler.join()
    stats = mounted.stats()
    cached = sum(kernel_cached_bytes(f) for f in files)
    k = stats["kernel_cache"]
    assert cached <= k["bytes"] <= k["limit"]  # the daemon's count bounds the kernel's
    assert k["evictions"] > 0
    assert cached > BUDGET // 4  # the kernel did cache: most of the budget is its
    end = rss_bytes(mounted.pid) + cached
    assert end <= BUDGET + MARGIN, f"{end >> 20} MiB at the end"
    assert peak[0] <= BUDGET + MARGIN, f"peak {peak[0] >> 20} MiB"
    print(f"peak daemon RSS + kernel cache {peak[0] / 2**20:.1f} MiB, "
          f"kernel {cached / 2**20:.1f} MiB, for a {BUDGET >> 20} MiB budget")
