"""A commit is the writer's (fs/client_files.h): while a Python client holds a
prefix's writer role and is in the middle of an uncommitted change, a commit
it did not ask for (`commit` on .control, fsync of data from another
process, the daemon's clean stop) never stores its half-done pages, and a
daemon stopped or killed at any instant leaves the prefix at the client's
last commit with exactly that content.

The writer (WRITER below, its own process) keeps a list of strings under a
1M budget, so its pages are written back to the daemon all the time, and
commits now and then; each commit carries the digest of the list it holds
and its number k. The writer logs "pre k" before committing k and "ok k"
after, so the store must reopen at a k between the last "ok" and the last
"pre", with a list whose digest is the one committed with it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import pagefs
from conftest import is_mounted, pid_alive, run_cli

WRITER = textwrap.dedent(
    """
    import hashlib, random, sys, pagefs

    mnt, seed, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    log = open(log_path, "a", buffering=1)

    def digest(lst):
        return hashlib.sha256("\\n".join(lst[:]).encode()).hexdigest()

    s = pagefs.Store(mnt, "data", cache_size="1M")
    r = s.root()
    if "items" not in r:
        r["items"] = s.list("seed-%d-%s" % (i, "x" * 40) for i in range(20_000))
        r["k"] = 0
        r["digest"] = digest(r["items"])
        log.write("pre 0\\n")
        s.commit()
        log.write("ok 0\\n")
    lst = r["items"]
    k = r["k"]
    log.write("ready %d\\n" % k)
    while True:
        # A long change: inserts, deletes and extends, pages written back.
        for _ in range(rng.randrange(50, 400)):
            op = rng.random()
            n = len(lst)
            if op < 0.4:
                lst.insert(rng.randrange(n + 1), "i%d-%s" % (k, "y" * rng.randrange(80)))
            elif op < 0.7 and n > 1000:
                a = rng.randrange(n)
                del lst[a:a + rng.randrange(300)]
            else:
                lst.extend("e%d-%d-%s" % (k, j, "z" * 30) for j in range(rng.randrange(500)))
        k += 1
        r["k"] = k
        r["digest"] = digest(lst)
        log.write("pre %d\\n" % k)
        s.commit()
        log.write("ok %d\\n" % k)
    """
)


class Writer:
    """The WRITER process on mount m."""

    def __init__(self, m, tmp_path, seed):
        self.log = tmp_path / f"writer-{seed}.log"
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(m.mnt), str(seed),
                                      str(self.log)], stderr=subprocess.PIPE, text=True)

    def lines(self):
        return self.log.read_text().split("\n")[:-1] if self.log.exists() else []

    def wait_ready(self):
        deadline = time.monotonic() + 60
        while not any(l.startswith("ready") for l in self.lines()):
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "the writer never got ready"
            time.sleep(0.01)

    def committed_range(self):
        """(last k acknowledged, last k whose commit started). The commit the
        writer started from ("ready k") counts as both: a daemon stopped
        before the writer's first commit of a round leaves that one."""
        lines = self.lines()
        ok = [int(l.split()[1]) for l in lines if l.startswith(("ok ", "ready "))]
        pre = [int(l.split()[1]) for l in lines if l.startswith(("pre ", "ready "))]
        return max(ok, default=-1), max(pre, default=-1)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)


def wait_gone(pid):
    deadline = time.monotonic() + 30
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"daemon {pid} did not exit"
        time.sleep(0.01)


def settle(m):
    """Clears a killed daemon's dead mount; a stopped one unmounted itself."""
    if is_mounted(m.mnt):
        m.unmount()
    m.pid = None


def check_store(root, ok_k, pre_k):
    """The prefix opens at a commit between ok_k and pre_k, with its content."""
    with pagefs.Store(root, "data", read_only=True) as s:
        r = s.root()
        import hashlib
        got = hashlib.sha256("\n".join(r["items"][:]).encode()).hexdigest()
        assert ok_k <= r["k"] <= pre_k
        assert got == r["digest"], f"commit {r['k']} does not hold what its writer committed"


def interrupt(m, how):
    """Does `how` to the mount's daemon, while the writer works."""
    pid = m.pid
    if how == "control-commit-then-kill":
        with open(m.mnt / ".control", "w") as f:
            f.write("commit\n")
        os.kill(pid, signal.SIGKILL)
    elif how == "fsync-then-kill":
        fd = os.open(m.data(), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.kill(pid, signal.SIGKILL)
    elif how == "sigterm":
        os.kill(pid, signal.SIGTERM)
    elif how == "sigkill":
        os.kill(pid, signal.SIGKILL)
    elif how == "umount-lazy":
        r = run_cli(m.env, "umount", "-l", m.mnt)
        assert r.returncode == 0, r.stderr
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["control-commit-then-kill", "fsync-then-kill", "sigterm",
                                 "sigkill", "umount-lazy"])
def test_the_prefix_reopens_at_the_writers_last_commit(make_mount, tmp_path, how):
    m = make_mount()
    m.expect_log_errors = True  # the writer's calls fail once the daemon is gone
    rng = random.Random(how)
    for round_ in range(3):
        m.mount()
        writer = Writer(m, tmp_path, seed=round_)
        try:
            writer.wait_ready()
            time.sleep(rng.uniform(0.05, 0.6))  # into the middle of a change
            interrupt(m, how)
            if how != "umount-lazy":
                wait_gone(m.pid)
            ok_k, pre_k = writer.committed_range()
        finally:
            writer.kill()  # a lazily detached mount ends with its last client
        wait_gone(m.pid)
        settle(m)
        check_store(m.root, ok_k, pre_k)


def test_control_commit_and_a_foreign_fsync_commit_nothing_of_a_writers_change(mounted):
    """Asked while a writer holds the role, they succeed and leave the last
    commit as it is (docs/mount.md, "One writer per prefix")."""
    with pagefs.Store(mounted.mnt, "data", cache_size="1M") as s:
        s.root()["items"] = s.list(range(1000))
        s.commit()
        epoch = mounted.info()["epoch"]
        s.root()["items"].extend(range(100_000))  # written back, not committed
        with open(mounted.mnt / ".control", "w") as f:
            f.write("commit\n")
        fd = os.open(mounted.data(), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        assert mounted.info()["epoch"] == epoch
        # Writes from anyone else are refused while the writer holds the role.
        fd = os.open(mounted.data(), os.O_RDWR)
        try:
            with pytest.raises(OSError) as e:
                os.pwrite(fd, b"\x01" * 4096, 4096 * 1000)
            assert e.value.errno == 16  # EBUSY
        finally:
            os.close(fd)
        s.commit()
        assert mounted.info()["epoch"] == epoch + 1
    assert len(pagefs.Store(mounted.mnt, "data").root()["items"]) == 101_000


def test_a_clean_stop_rolls_a_writers_change_back_and_commits_the_others(make_mount):
    m = make_mount(prefixes=("data", "raw"))
    m.mount()
    s = pagefs.Store(m.mnt, "data", cache_size="1M")
    s.root()["items"] = s.list(range(10))
    s.commit()
    s.root()["items"].extend(range(50_000))  # not committed
    with open(m.data("raw"), "r+b") as f:  # no writer role: stored at the stop
        f.seek(4096)
        f.write(b"\x07" * 4096)
    pid = m.pid
    os.kill(pid, signal.SIGTERM)
    wait_gone(pid)
    m.expect_log_errors = True
    with pytest.raises(OSError):
        s.commit()  # the daemon is gone
    s.close()
    settle(m)
    with pagefs.Store(m.root, "data", read_only=True) as back:
        assert back.root()["items"][:] == list(range(10))
    m.mount()
    assert m.data("raw").read_bytes()[4096:] == b"\x07" * 4096


def test_other_handles_cannot_change_a_written_prefix_and_tools_changes_are_kept(mounted):
    pages = mounted.mnt / "data" / "pages"
    with open(mounted.data(), "r+b") as f:  # a tool's change, not committed
        f.seek(4096)
        f.write(b"\x05" * 4096)
    with pagefs.Store(mounted.mnt, "data", cache_size="1M") as s:
        # Taking the role committed the tool's change first.
        assert mounted.info()["epoch"] == 1
        s.root()["x"] = 1
        for change in (lambda: (pages / "0000000000000fff").touch(),
                       lambda: (pages / "0000000000000001").unlink(),
                       lambda: os.truncate(mounted.data(), 1 << 30)):
            with pytest.raises(OSError) as e:
                change()
            assert e.value.errno == 16  # EBUSY
        s.commit()
    assert (pages / "0000000000000001").read_bytes() == b"\x05" * 4096
