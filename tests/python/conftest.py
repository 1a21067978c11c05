"""Shared fixtures: every test gets its own store folder and closes its store.

PAGEFS_TEST_MODE=mount runs the same tests through a real pagefs mount: each
test's tmp_path is then the mountpoint of a fresh, empty store root (mounted
with the CLI and $PAGEFS_MOUNT_BIN, always unmounted at teardown), so every
Store(tmp_path, prefix) works on the mount's files (MountedSpace). Tests that
cannot apply through a mount are skipped with mount_only_skip(reason).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pagefs
from pagefs._store import _close_open_stores
from seaweed import BUCKET, serve

# A budget small enough that the tests' lists do not fit and pages get evicted.
SMALL_BUDGET = 1 << 20


MOUNT_MODE = os.environ.get("PAGEFS_TEST_MODE", "embedded") == "mount"
REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "pybind" / "pagefs" / "cli.py"
# The daemon's budget in mount mode: the process keeps its own small share.
MOUNT_BUDGET = os.environ.get("PAGEFS_TEST_MOUNT_CACHE", "64M")


def mount_only_skip(reason: str) -> None:
    """Skips the calling test in mount mode, saying why it cannot apply there."""
    if MOUNT_MODE:
        pytest.skip(f"not applicable through a mount: {reason}")


def _is_mounted(path: Path) -> bool:
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


if MOUNT_MODE:

    @pytest.fixture
    def tmp_path(tmp_path_factory):
        """The mountpoint of a fresh store root; unmounted whatever the test did."""
        if not os.path.exists("/dev/fuse") or shutil.which("fusermount3") is None:
            pytest.skip("mount mode needs /dev/fuse and fusermount3")
        assert os.environ.get("PAGEFS_MOUNT_BIN"), "mount mode needs PAGEFS_MOUNT_BIN"
        base = tmp_path_factory.mktemp("mounted")
        root, mnt, log = base / "root", base / "mnt", base / "daemon.log"
        root.mkdir()
        mnt.mkdir()
        r = _cli("mount", root, mnt, "-o", f"cache_size={MOUNT_BUDGET},log={log}")
        assert r.returncode == 0, f"mount failed: {r.stderr}"
        try:
            yield mnt
        finally:
            pagefs.close()
            _close_open_stores()  # a store left open would keep the mount busy
            if _is_mounted(mnt):
                r = _cli("umount", mnt)
                if r.returncode != 0 and _is_mounted(mnt):
                    time.sleep(0.5)
                    subprocess.run(["fusermount3", "-uz", str(mnt)], capture_output=True)


@pytest.fixture
def store(tmp_path):
    s = pagefs.Store(tmp_path, "test", cache_size=SMALL_BUDGET)
    yield s
    s.close()


@pytest.fixture
def default_store(tmp_path):
    s = pagefs.init(tmp_path, "main", cache_size=SMALL_BUDGET)
    yield s
    pagefs.close()


@pytest.fixture(scope="session")
def seaweed():
    """The session's SeaweedFS, started on first use and always stopped."""
    yield from serve()


def point_aws_at(server, monkeypatch) -> None:
    """Sets the AWS variables of server (seaweed.py) for one test, and
    clears those that would override them."""
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture
def aws(seaweed, monkeypatch):
    """The AWS variables pointing at the session's server, for this test."""
    point_aws_at(seaweed, monkeypatch)
    return seaweed


_remote_prefixes = itertools.count()


class StorePlace:
    """Where a persistence test keeps its stores: root with options (none for
    a local store; remote= a fresh key prefix of the session's SeaweedFS,
    root then being only the local cache)."""

    def __init__(self, root: Path, options: dict) -> None:
        self.root = root
        self.options = options

    def open(self, prefix: str, **more) -> pagefs.Store:
        return pagefs.Store(self.root, prefix, **self.options, **more)

    def argv(self) -> list:
        """For a child's sys.argv[1:]: the root and json of the options."""
        return [str(self.root), json.dumps(self.options)]

    def after_crash(self) -> None:
        """Before a writer reopens a store whose writer died: a remote
        writer's lease is not given back, so it must expire first."""
        if "remote" in self.options:
            time.sleep(1.5)


@pytest.fixture(params=["local", "remote"])
def place(request, tmp_path, monkeypatch):
    """A StorePlace for each kind of store: the persistence tests run on both."""
    if request.param == "local":
        yield StorePlace(tmp_path, {})
        return
    if MOUNT_MODE:
        pytest.skip("not applicable through a mount: remote= is the mount's own option there")
    request.getfixturevalue("aws")
    monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "1")  # see after_crash
    url = f"s3://{BUCKET}/persist{next(_remote_prefixes)}"
    yield StorePlace(tmp_path / "cache", {"remote": url})


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (warnings are errors there too)."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc
