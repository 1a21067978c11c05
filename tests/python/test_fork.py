"""fork() with a store open: the child of a writer (or of a reader) cannot use
the parent's store; it gets ClosedError on first use, and nothing it does
(writes, commits, close, interpreter exit, finalizers) reaches the parent's
files or lock. The parent's commits are exactly what reopens."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import pagefs
from conftest import MOUNT_MODE, SMALL_BUDGET, mount_only_skip, run_python


def _wait(pid: int, timeout: float = 60.0) -> int:
    """The child's exit status; a child that hangs (a deadlock on a lock a
    parent thread held at the fork) is killed and fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung")


def test_parent_and_child_both_write_and_commit(tmp_path):
    # The scenario, in a fresh interpreter so that the child exits
    # normally: atexit closes its stores and finalizers drop its lists.
    proc = run_python(
        """
        import os, sys
        import pagefs
        root = sys.argv[1]
        s = pagefs.Store(root, "data", cache_size="1M")
        lst = s.list()
        s.root()["lst"] = lst
        s.commit()
        scratch = s.list(range(1000))   # unreferenced: the child's finalizer must not free it
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            refused = 0
            for i in range(20):
                for action in (lambda: lst.append(f"child-{i}"), s.commit, lambda: s.list([i]),
                               lambda: s.root().__setitem__("c", 1), lambda: len(lst),
                               lambda: s.stats(), lambda: s.set_cache_size("2M")):
                    try:
                        action()
                    except pagefs.ClosedError as e:
                        assert "fork" in str(e) and "open the store again" in str(e), e
                        refused += 1
            try:
                pagefs.Store(root, "data")       # the parent still writes it
            except pagefs.LockedError:
                refused += 1
            with pagefs.Store(root, "child-own") as own:   # its own store is fine
                own.root()["x"] = own.list([1])
            os.write(w, str(refused).encode())
            del scratch
            sys.exit(0)                      # atexit runs close() on the parent's store
        for i in range(20):
            lst.append(i)
            s.commit()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        refused = os.read(r, 100).decode()
        assert refused == str(20 * 7 + 1), refused
        assert list(scratch) == list(range(1000))
        epoch = s.stats()["epoch"]
        s.close()
        with pagefs.Store(root, "data", read_only=True) as again:
            assert list(again.root()["lst"]) == list(range(20))
            # the parent's 21 commits and its close's, none of the child's
            assert again.stats()["epoch"] <= epoch + 1, (again.stats()["epoch"], epoch)
        with pagefs.Store(root, "child-own", read_only=True) as own:
            assert list(own.root()["x"]) == [1]
        print("ok")
        """,
        str(tmp_path),
    )
    assert proc.stdout.strip() == "ok"


def test_child_does_not_keep_the_writer_lock(tmp_path):
    # Embedded: the child's copy of the lock descriptor would keep the flock
    # held. Through a mount: its copy of the writer's data descriptor would
    # keep the kernel from sending RELEASE, so the role stays taken.
    s = pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET)
    s.root()["x"] = s.list([1])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.read(r, 1)  # outlive the parent's close
        finally:
            os._exit(0)
    try:
        s.close()
        with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as again:
            assert list(again.root()["x"]) == [1]
    finally:
        os.write(w, b"x")
        assert _wait(pid) == 0


def test_a_late_copy_of_the_lock_descriptor_does_not_keep_the_writer_lock(tmp_path):
    """What a child forked just before close() holds until the scheduler runs
    its fork handler: another descriptor of the lock file's open file. The
    close unlocks it anyway (test_child_does_not_keep_the_writer_lock failed
    now and then on a loaded machine before it did)."""
    mount_only_skip("the mount's writer role is the daemon's, not a lock file")
    s = pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET)
    s.root()["x"] = s.list([1])
    lock = str(tmp_path / "data" / "LOCK")
    fds = [int(fd) for fd in os.listdir("/proc/self/fd")
           if os.path.realpath(f"/proc/self/fd/{fd}") == os.path.realpath(lock)]
    assert len(fds) == 1, fds
    copy = os.dup(fds[0])
    try:
        s.close()
        with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as again:
            assert list(again.root()["x"]) == [1]
    finally:
        os.close(copy)


def test_fork_while_another_thread_works(tmp_path):
    # A thread appends and commits while the main thread forks: in the child
    # the store's locks may be held by a thread that does not exist there, so
    # the child must be refused before it waits on any of them.
    s = pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET)
    lst = s.list()
    s.root()["lst"] = lst
    stop = threading.Event()
    appended = []

    def work():
        i = 0
        while not stop.is_set():
            lst.append(i)
            appended.append(i)
            if i % 50 == 0:
                s.commit()
            i += 1

    t = threading.Thread(target=work)
    t.start()
    try:
        for _ in range(5):
            time.sleep(0.02)
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    try:
                        lst.append("child")
                    except pagefs.ClosedError:
                        try:
                            s.commit()
                        except pagefs.ClosedError:
                            s.close()   # drops the child's copy without touching files
                            code = 0
                finally:
                    os._exit(code)
            assert _wait(pid) == 0
    finally:
        stop.set()
        t.join()
    s.close()
    with pagefs.Store(tmp_path, "data", read_only=True) as again:
        assert list(again.root()["lst"]) == appended


def test_read_only_store_in_a_child(tmp_path):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as w:
        w.root()["x"] = w.list(range(10))
    ro = pagefs.Store(tmp_path, "data", read_only=True, cache_size=SMALL_BUDGET)
    x = ro.root()["x"]
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                x[0]
            except pagefs.ClosedError:
                code = 0
        finally:
            os._exit(code)
    assert _wait(pid) == 0
    assert list(x) == list(range(10))
    ro.close()
