"""The S3 client's timeouts and retries (PAGEFS_S3_CONNECT_TIMEOUT,
PAGEFS_S3_READ_TIMEOUT, AWS_MAX_ATTEMPTS; pager/tier/remote/s3_config.h),
against the session's real SeaweedFS (seaweed.py): a server that stops
answering (SIGSTOP: its connections stay open, nothing comes back) fails a
read and a commit with a TimeoutError naming the endpoint once the attempts
are spent, instead of hanging; once it runs again (SIGCONT) the reader reads
on and a reopened writer commits, and nothing committed is lost."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import pytest

import pagefs
from conftest import MOUNT_MODE
from seaweed import BUCKET

pytestmark = pytest.mark.skipif(
    MOUNT_MODE, reason="not applicable through a mount: remote= is the mount's own option there"
)

_prefixes = itertools.count()
HANG = 60  # seconds: far past the bound (2 attempts of a 1 s read timeout); only a hang gets here


def strings(n: int, salt: str = "") -> list:
    return [f"{salt}value-{i:08d}-{'x' * (i % 17)}" for i in range(n)]


def failure_of(fn) -> BaseException:
    """What fn raises, run on a thread so that a hang fails the test instead
    of blocking it (the server is resumed by the caller's finally)."""
    out: list = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out.append(e)
        else:
            out.append(None)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), f"{fn} hung on a stalled server instead of timing out"
    assert out[0] is not None, f"{fn} succeeded against a stopped server"
    return out[0]


def open_writer(root, url) -> pagefs.Store:
    """A writer, once the lease a stalled writer could not give back expires."""
    deadline = time.monotonic() + HANG
    while True:
        try:
            return pagefs.Store(root, "data", remote=url)
        except pagefs.LockedError:
            assert time.monotonic() < deadline, "the lease never expired"
            time.sleep(0.2)


def test_a_stalled_server_times_out_reads_and_commits_and_then_serves_again(tmp_path, aws, monkeypatch):
    monkeypatch.setenv("PAGEFS_S3_READ_TIMEOUT", "1")
    monkeypatch.setenv("PAGEFS_S3_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    # A renewal lost in the stall may leave the lease behind: it expires soon.
    monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "2")
    url = f"s3://{BUCKET}/timeouts{next(_prefixes)}"
    old = strings(20_000, "old")
    with pagefs.Store(tmp_path / "first", "data", remote=url) as s:
        s.root()["l"] = s.list(old)
    # No local cache and the smallest memory cache: every read of the list is a GET.
    reader = pagefs.Store(tmp_path / "reader", "data", remote=url, read_only=True,
                          cache_size="1M", local_cache_size=0)
    writer = pagefs.Store(tmp_path / "writer", "data", remote=url, cache_size="1M")
    try:
        assert list(reader.root()["l"]) == old
        writer.root()["l"] = writer.list(strings(20_000, "lost"))  # not committed yet
        pid = aws.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            read_error = failure_of(lambda: list(reader.root()["l"]))
            commit_error = failure_of(writer.commit)
        finally:
            os.kill(pid, signal.SIGCONT)
        for e in (read_error, commit_error):
            assert isinstance(e, TimeoutError), repr(e)
            assert aws.endpoint in str(e), e
            assert "after 2 attempts" in str(e) and "PAGEFS_S3_READ_TIMEOUT" in str(e), e
        # Running again: the same reader reads on.
        assert list(reader.root()["l"]) == old
        writer.close()  # a failed store does not commit again
        with open_writer(tmp_path / "writer2", url) as w:
            assert list(w.root()["l"]) == old, "the last commit is intact"
            w.root()["l"] = w.list(strings(1_000, "after"))
            w.commit()
        reader.refresh()
        assert list(reader.root()["l"]) == strings(1_000, "after")
    finally:
        reader.close()
        writer.close()


@pytest.mark.parametrize(
    "var, value",
    [("AWS_MAX_ATTEMPTS", "0"), ("AWS_MAX_ATTEMPTS", "many"), ("PAGEFS_S3_READ_TIMEOUT", "-1"),
     ("PAGEFS_S3_CONNECT_TIMEOUT", "soon")],
)
def test_a_bad_setting_is_a_value_error_naming_it(tmp_path, aws, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=f"{var} = '{value}'"):
        pagefs.Store(tmp_path, "data", remote=f"s3://{BUCKET}/bad-setting")
