"""A daemon killed with SIGKILL: the mount answers ENOTCONN, the commands say
what to do, and the store reopens at its last commit."""

import errno
import os
import signal
import time

import pytest

from conftest import is_mounted, pid_alive, run_cli, stat_errno

PAGE = 4096


def test_sigkill_leaves_enotconn_then_umount_and_reopen_at_last_commit(mounted, tmp_path):
    fd = os.open(mounted.data(), os.O_RDWR)
    os.pwrite(fd, b"\x11" * PAGE, PAGE)
    os.fsync(fd)
    os.pwrite(fd, b"\x22" * PAGE, PAGE)      # not committed
    os.pwrite(fd, b"\x33" * PAGE, 3 * PAGE)  # not committed
    os.close(fd)
    pid = mounted.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    for path in (mounted.mnt / ".stats", mounted.mnt / "data" / "data"):
        assert stat_errno(path) == errno.ENOTCONN

    # Mounting again on the dead mount is refused with the way out.
    r = run_cli(mounted.env, "mount", mounted.root, mounted.mnt)
    assert r.returncode != 0 and "pagefs umount" in r.stderr
    r = run_cli(mounted.env, "stats", mounted.mnt)
    assert r.returncode != 0 and "umount" in r.stderr

    r = run_cli(mounted.env, "umount", mounted.mnt)
    assert r.returncode == 0, r.stderr
    assert not is_mounted(mounted.mnt)
    mounted.pid = None
    mounted.mount()
    with open(mounted.data(), "rb") as f:
        data = f.read()
    assert len(data) == 2 * PAGE  # the uncommitted growth to page 3 is gone
    assert data[PAGE:] == b"\x11" * PAGE
    assert mounted.info()["epoch"] == 1
