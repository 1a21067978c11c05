"""Random pread/pwrite/punch/fsync on data against an in-memory model; the
store survives a clean unmount with everything, and a SIGKILL with exactly
what the last fsync committed."""

import ctypes
import errno
import os
import random
import signal
import time

import pytest

from conftest import is_mounted, stat_errno

PAGE = 4096
PAGES = 64  # the model covers pages 1..PAGES-1 (page 0 is no page)
libc = ctypes.CDLL(None, use_errno=True)


def punch(fd, off, length):
    rc = libc.fallocate(fd, 3, ctypes.c_long(off), ctypes.c_long(length))  # PUNCH_HOLE|KEEP_SIZE
    assert rc == 0, os.strerror(ctypes.get_errno())


def run_random_ops(fd, model, rng, ops):
    """Applies ops random operations to the file and the model; returns the
    model as of the last fsync (a copy)."""
    committed = bytes(model)
    size = len(model)
    for _ in range(ops):
        r = rng.random()
        off = rng.randrange(PAGE, size)
        length = rng.randrange(1, min(3 * PAGE, size - off) + 1)
        if r < 0.45:
            data = rng.randbytes(length)
            assert os.pwrite(fd, data, off) == length
            model[off:off + length] = data
        elif r < 0.85:
            assert os.pread(fd, length, off) == bytes(model[off:off + length]), (off, length)
        elif r < 0.93:
            # Whole pages are freed (read as zeros); partial pages are zeroed.
            punch(fd, off, length)
            model[off:off + length] = bytes(length)
        else:
            os.fsync(fd)
            committed = bytes(model)
    return committed


def test_random_operations_match_a_model_through_remount_and_kill(mounted):
    rng = random.Random(1234)
    model = bytearray(PAGES * PAGE)
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        os.pwrite(fd, bytes(PAGE), (PAGES - 1) * PAGE)  # size the file
        assert os.fstat(fd).st_size == PAGES * PAGE
        run_random_ops(fd, model, rng, 1500)
        assert os.pread(fd, len(model), 0) == bytes(model)
    finally:
        os.close(fd)

    # A clean unmount commits everything.
    mounted.remount()
    with open(mounted.data(), "rb") as f:
        assert f.read() == bytes(model)

    # More random work, then SIGKILL: the store reopens at the last fsync.
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        committed = run_random_ops(fd, model, rng, 1500)
        os.fsync(fd)
        committed = bytes(model)
        os.pwrite(fd, b"\xee" * PAGE, 5 * PAGE)  # never committed
        committed_info = mounted.info()
    finally:
        os.close(fd)
    os.kill(mounted.pid, signal.SIGKILL)
    assert stat_errno(mounted.mnt / ".stats") == errno.ENOTCONN
    assert os.system(f"fusermount3 -u {mounted.mnt}") == 0
    assert not is_mounted(mounted.mnt)
    mounted.pid = None
    mounted.mount()
    with open(mounted.data(), "rb") as f:
        assert f.read() == committed
    assert mounted.info()["epoch"] == committed_info["epoch"]
