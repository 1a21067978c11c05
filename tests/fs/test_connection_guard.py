"""The daemon's connection guard (fs/connection_guard.h): a daemon that dies
without unmounting has its FUSE connection aborted, so nothing can wait on
it forever; one that unmounts leaves no guard behind and no note."""
import errno
import os
import signal
import time

from conftest import is_mounted, pid_alive, run_cli, stat_errno

NOTE = "died without unmounting"


def guards_of(pid: int) -> list[int]:
    """The daemon's children: its guard, a fork that did not exec."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().split(") ", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def wait_for(cond, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def log_text(m) -> str:
    return m.log.read_text(errors="replace") if m.log.exists() else ""


def test_an_unmount_ends_the_guard_quietly(make_mount):
    m = make_mount().mount()
    guards = guards_of(m.pid)
    assert len(guards) == 1, guards
    m.unmount()
    assert wait_for(lambda: not pid_alive(guards[0])), "the guard outlived the daemon"
    assert NOTE not in log_text(m)


def test_a_killed_daemons_connection_is_aborted_and_its_mount_comes_down(make_mount):
    m = make_mount().mount()
    [guard] = guards_of(m.pid)
    os.kill(m.pid, signal.SIGKILL)
    assert wait_for(lambda: NOTE in log_text(m)), log_text(m)
    text = log_text(m)
    assert "FUSE connection" in text and "was aborted" in text, text
    assert wait_for(lambda: not pid_alive(guard))
    assert wait_for(lambda: not pid_alive(m.pid))
    for path in (m.mnt / ".stats", m.mnt / "data" / "data"):
        assert stat_errno(path) == errno.ENOTCONN
    m.expect_log_errors = True
    assert run_cli(m.env, "umount", m.mnt).returncode == 0
    assert not is_mounted(m.mnt)
    m.pid = None
