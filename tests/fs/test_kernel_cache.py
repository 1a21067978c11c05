"""The kernel's page cache serves read-only opens of data, pages/<id> and
committed, and never a stale page: every change (writes through data or a
page file, hole punches, rm, commits, the rollback of a dead writer) is
answered only once the kernel has dropped the cached pages it changed, in
every file that shows them and in existing read-only mappings."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from conftest import fill_data

PAGE = 4096
PAGES = 16
_libc = ctypes.CDLL(None, use_errno=True)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
IOCTL_CLAIM_WRITER = (2 << 30) | (16 << 16) | (ord("P") << 8) | 1  # _IOR('P', 1, 16 bytes)
IOCTL_RELEASE_WRITER = (ord("P") << 8) | 5  # _IO('P', 5)


def punch(fd, off, length):
    if _libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                       ctypes.c_long(off), ctypes.c_long(length)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def fill(path, pages=PAGES, letter=b"a"):
    """Pages 1..pages of data, page i holding letter + i, committed."""
    fd = os.open(path, os.O_RDWR)
    try:
        for i in range(1, pages + 1):
            os.pwrite(fd, bytes([letter[0] + i % 20]) * PAGE, i * PAGE)
        os.fsync(fd)
    finally:
        os.close(fd)


def page_file(mounted, i, prefix="data"):
    return mounted.mnt / prefix / "pages" / f"{i:016x}"


def kernel_bytes(mounted):
    return mounted.stats()["kernel_cache"]["bytes"]


def test_a_page_rewritten_through_its_page_file_reads_new_through_data_and_a_mapping(mounted):
    fill(mounted.data())
    fd = os.open(mounted.data(), os.O_RDONLY)
    try:
        before = os.pread(fd, PAGES * PAGE, PAGE)
        assert kernel_bytes(mounted) >= PAGES * PAGE  # the kernel holds them now
        hits = mounted.stats()["hits"] + mounted.stats()["misses"]
        assert os.pread(fd, PAGES * PAGE, PAGE) == before
        # Served by the kernel: no request reached the daemon's cache.
        assert mounted.stats()["hits"] + mounted.stats()["misses"] == hits
        with mmap.mmap(fd, (PAGES + 1) * PAGE, prot=mmap.PROT_READ) as view:
            assert view[3 * PAGE:4 * PAGE] == before[2 * PAGE:3 * PAGE]
            with open(page_file(mounted, 3), "r+b", buffering=0) as f:
                f.write(b"N" * PAGE)
            assert os.pread(fd, PAGE, 3 * PAGE) == b"N" * PAGE
            assert view[3 * PAGE:4 * PAGE] == b"N" * PAGE
            # And the other way: data written, the page file's cached copy dropped.
            with open(page_file(mounted, 4), "rb", buffering=0) as f:
                assert f.read() == before[3 * PAGE:4 * PAGE]
                w = os.open(mounted.data(), os.O_RDWR)
                try:
                    os.pwrite(w, b"M" * PAGE, 4 * PAGE)
                finally:
                    os.close(w)
                assert os.pread(f.fileno(), PAGE, 0) == b"M" * PAGE
            assert view[4 * PAGE:5 * PAGE] == b"M" * PAGE
            # A part of a page: the whole page is dropped, the rest kept intact.
            with open(page_file(mounted, 5), "r+b", buffering=0) as f:
                f.seek(100)
                f.write(b"P" * 10)
            want = before[4 * PAGE:5 * PAGE]
            want = want[:100] + b"P" * 10 + want[110:]
            assert view[5 * PAGE:6 * PAGE] == want
            assert os.pread(fd, PAGE, 5 * PAGE) == want
    finally:
        os.close(fd)


def test_a_punched_hole_and_a_removed_page_read_as_zeros(mounted):
    fill(mounted.data())
    fd = os.open(mounted.data(), os.O_RDONLY)
    try:
        assert os.pread(fd, PAGES * PAGE, PAGE).count(0) == 0
        with mmap.mmap(fd, (PAGES + 1) * PAGE, prot=mmap.PROT_READ) as view:
            assert view[6 * PAGE] != 0
            with open(page_file(mounted, 7), "rb", buffering=0) as p:
                assert p.read() != bytes(PAGE)
                w = os.open(mounted.data(), os.O_RDWR)
                try:
                    punch(w, 6 * PAGE, 2 * PAGE)
                    punch(w, 9 * PAGE + 1000, 24)  # part of a page: zeroed there
                finally:
                    os.close(w)
                assert os.pread(fd, 2 * PAGE, 6 * PAGE) == bytes(2 * PAGE)
                assert view[6 * PAGE:8 * PAGE] == bytes(2 * PAGE)
                page9 = os.pread(fd, PAGE, 9 * PAGE)
                assert page9[1000:1024] == bytes(24) and page9[999] != 0 and page9[1024] != 0
                try:
                    got = os.pread(p.fileno(), PAGE, 0)  # the page is gone
                except OSError as e:
                    assert e.errno == errno.ENOENT
                else:
                    raise AssertionError(f"read {len(got)} bytes of a freed page")
            assert not page_file(mounted, 7).exists()
            os.unlink(page_file(mounted, 11))
            assert os.pread(fd, PAGE, 11 * PAGE) == bytes(PAGE)
            assert view[11 * PAGE:12 * PAGE] == bytes(PAGE)
    finally:
        os.close(fd)


def read_header(fd):
    h = os.pread(fd, 48, 0)
    assert h[:8] == b"PFCOMCST"
    return int.from_bytes(h[8:16], "little"), int.from_bytes(h[40:48], "little")


def test_a_reader_of_committed_sees_each_commit_after_it_reopens_and_its_own_until_then(mounted):
    committed = mounted.mnt / "data" / "committed"
    fill(mounted.data(), letter=b"A")
    w = os.open(mounted.data(), os.O_RDWR)
    old = os.open(committed, os.O_RDONLY)
    try:
        first, latest = read_header(old)
        assert first == latest
        pages = os.pread(old, PAGES * PAGE, PAGE)
        view = mmap.mmap(old, (PAGES + 1) * PAGE, prot=mmap.PROT_READ)
        for round_ in range(1, 4):
            letter = ord("K") + round_
            for i in range(1, PAGES + 1, 2):
                os.pwrite(w, bytes([letter]) * PAGE, i * PAGE)
            os.fsync(w)
            # The old open keeps its commit, whole, and its header names the newest.
            assert read_header(old) == (first, first + round_)
            assert os.pread(old, PAGES * PAGE, PAGE) == pages
            assert view[PAGE:(PAGES + 1) * PAGE] == pages
            # A new open is bound to the new commit, mapped or read.
            new = os.open(committed, os.O_RDONLY)
            try:
                assert read_header(new) == (first + round_, first + round_)
                with mmap.mmap(new, (PAGES + 1) * PAGE, prot=mmap.PROT_READ) as nv:
                    for i in range(1, PAGES + 1):
                        got = nv[i * PAGE:(i + 1) * PAGE]
                        if i % 2:
                            assert got == bytes([letter]) * PAGE, i
                        else:
                            assert got == pages[(i - 1) * PAGE:i * PAGE], i
            finally:
                os.close(new)
        view.close()
    finally:
        os.close(old)
        os.close(w)
    assert kernel_bytes(mounted) > 0


def test_readers_reopening_committed_never_see_a_torn_or_stale_commit(mounted):
    """A writer commits versions; each reader reopens at every new latest
    epoch and checks that all pages of its commit carry one version, newer
    than or equal to the last one it saw."""
    committed = mounted.mnt / "data" / "committed"
    w = os.open(mounted.data(), os.O_RDWR)
    os.pwrite(w, bytes([255]) * (PAGES * PAGE), PAGE)  # version 255 first
    os.fsync(w)
    os.close(w)
    stop = threading.Event()
    problems, seen = [], []
    versions = {}  # epoch -> version committed in it

    def writer():
        w = os.open(mounted.data(), os.O_RDWR)
        try:
            version = 1
            while not stop.is_set():
                block = bytes([version % 250 + 1]) * (PAGES * PAGE)
                os.pwrite(w, block, PAGE)
                os.fsync(w)
                epoch = mounted.info()["epoch"]
                versions[epoch] = version % 250 + 1
                version += 1
        finally:
            os.close(w)

    def reader():
        last_epoch = 0
        while not stop.is_set():
            try:
                fd = os.open(committed, os.O_RDONLY)
            except OSError as e:
                if e.errno != errno.ESTALE:  # a commit between lookup and open, twice
                    raise
                continue
            try:
                epoch, latest = read_header(fd)
                if epoch < last_epoch:
                    problems.append(("older commit", epoch, last_epoch))
                last_epoch = epoch
                block = os.pread(fd, PAGES * PAGE, PAGE)
                if len(set(block)) != 1:
                    problems.append(("torn", epoch, sorted(set(block))[:4]))
                seen.append((epoch, block[0]))
                # Follow: wait for the header to name a newer commit.
                deadline = time.monotonic() + 5
                while read_header(fd)[1] == epoch and not stop.is_set():
                    if time.monotonic() > deadline:
                        problems.append(("never saw a newer commit", epoch))
                        return
                    time.sleep(0.001)
            finally:
                os.close(fd)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join()
    assert not problems, problems[:5]
    assert len(seen) > 10
    for epoch, version in seen:
        if epoch in versions:
            assert versions[epoch] == version, (epoch, version)


WRITER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.ioctl(fd, int(sys.argv[2]), bytearray(16))  # the writer role
os.pwrite(fd, b"U" * 4096, 5 * 4096)               # not committed
print("written", flush=True)
time.sleep(60)
"""


def test_the_rollback_of_a_dead_writer_drops_its_pages_from_the_kernel(mounted):
    fill(mounted.data(), letter=b"c")
    fd = os.open(mounted.data(), os.O_RDONLY)
    try:
        committed_page = os.pread(fd, PAGE, 5 * PAGE)
        child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER),
                                  str(mounted.data()), str(IOCTL_CLAIM_WRITER)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "written"
            with mmap.mmap(fd, (PAGES + 1) * PAGE, prot=mmap.PROT_READ) as view:
                # data shows the daemon's state: the writer's uncommitted page.
                assert os.pread(fd, PAGE, 5 * PAGE) == b"U" * PAGE
                assert view[5 * PAGE:6 * PAGE] == b"U" * PAGE
                child.send_signal(signal.SIGKILL)
                child.wait()
                deadline = time.monotonic() + 10
                while mounted.info()["writer"] != "":  # the daemon saw it go
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
                assert os.pread(fd, PAGE, 5 * PAGE) == committed_page
                assert view[5 * PAGE:6 * PAGE] == committed_page
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
    finally:
        os.close(fd)


def test_a_release_request_gives_the_role_back_at_once_and_rolls_back(mounted):
    # The closing client's request: the role is free before any close, even
    # while a copy of the writer's open file lives (which keeps RELEASE away).
    fill(mounted.data(), letter=b"c")
    with open(mounted.data(), "rb") as f:
        committed_page = os.pread(f.fileno(), PAGE, 5 * PAGE)
    w = os.open(mounted.data(), os.O_RDWR)
    copy = os.dup(w)
    try:
        fcntl.ioctl(w, IOCTL_CLAIM_WRITER, bytearray(16))
        os.pwrite(w, b"U" * PAGE, 5 * PAGE)  # not committed
        assert mounted.info()["writer"] != ""
        fcntl.ioctl(w, IOCTL_RELEASE_WRITER)
        assert mounted.info()["writer"] == ""
        assert os.pread(w, PAGE, 5 * PAGE) == committed_page
        fcntl.ioctl(w, IOCTL_RELEASE_WRITER)  # again: nothing to give back
        other = os.open(mounted.data(), os.O_RDWR)
        try:
            fcntl.ioctl(other, IOCTL_CLAIM_WRITER, bytearray(16))
            # Only the holder's release counts.
            fcntl.ioctl(w, IOCTL_RELEASE_WRITER)
            assert mounted.info()["writer"] != ""
        finally:
            os.close(other)
    finally:
        os.close(copy)
        os.close(w)


def test_the_kernel_reads_ahead_in_windows_of_a_whole_request(mounted):
    # 128 KiB by default, which halved sequential reads of data: the daemon
    # raises its mount's readahead to 1 MiB, the size of one request, once
    # the kernel has its INIT reply.
    st = os.stat(mounted.mnt)
    bdi = f"/sys/class/bdi/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/read_ahead_kb"
    deadline = time.monotonic() + 10
    while (value := Path(bdi).read_text().strip()) != "1024":
        assert time.monotonic() < deadline, value
        time.sleep(0.01)
    fill(mounted.data())
    with open(mounted.data(), "rb") as f:
        data = f.read()
    assert len(data) == (PAGES + 1) * PAGE
    assert data[5 * PAGE:6 * PAGE] == bytes([ord("a") + 5]) * PAGE


def test_writable_opens_bypass_the_kernel_cache_and_stats_show_both_parts(mounted):
    fill(mounted.data())
    w = os.open(mounted.data(), os.O_RDWR)
    try:
        os.pread(w, PAGES * PAGE, PAGE)
        assert kernel_bytes(mounted) == 0  # served to a direct_io open: not cached
    finally:
        os.close(w)
    with open(mounted.data(), "rb") as f:
        f.read()
    stats = mounted.stats()
    k = stats["kernel_cache"]
    assert k["bytes"] >= PAGES * PAGE and k["files"] >= 1
    assert k["limit"] == stats["budget"] - stats["budget"] // 4
    assert stats["resident"] <= stats["pool_budget"] <= stats["budget"]


def _read(path, start, end, block):
    fd = os.open(path, os.O_RDONLY)
    try:
        for off in range(start, end, block):
            assert len(os.pread(fd, min(block, end - off), off)) == min(block, end - off)
    finally:
        os.close(fd)


def _served(mounted):
    return mounted.stats()["kernel_cache"]["served_bytes"]


def test_a_sequential_pass_over_a_big_file_leaves_what_was_read_before_in_the_kernel(mounted):
    # The daemon never sees the kernel's hits: evicting the ranges served
    # longest ago would drop a hot set first. A stream evicts behind itself.
    fill_data(mounted, 40 << 20)  # the kernel's share of the 16M budget is 12 MiB
    mounted.remount()
    data = mounted.data()
    hot_end = PAGE + (2 << 20)
    _read(data, PAGE, hot_end, PAGE)
    _read(data, 8 << 20, PAGE + (40 << 20), 1 << 20)  # 32 MiB, one pass
    k = mounted.stats()["kernel_cache"]
    assert k["evictions"] > 0 and k["bytes"] <= k["limit"]
    before = _served(mounted)
    _read(data, PAGE, hot_end, PAGE)
    assert _served(mounted) - before == 0


def test_a_file_read_again_that_does_not_fit_keeps_its_first_part_in_the_kernel(mounted):
    size = 24 << 20  # twice the kernel's share of the 16M budget
    fill_data(mounted, size)
    mounted.remount()
    data = mounted.data()
    _read(data, 0, size + PAGE, 1 << 20)
    before = _served(mounted)
    _read(data, 0, size + PAGE, 1 << 20)
    again = _served(mounted) - before
    # Evicting the oldest first, the second pass would be served whole.
    assert again < size * 3 // 4, f"{again >> 20} MiB of {size >> 20} served again"
    k = mounted.stats()["kernel_cache"]
    assert k["bytes"] <= k["limit"]
