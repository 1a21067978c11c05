"""Real-mount fixtures for the pagefs FUSE daemon.

Every test gets its own store root and mountpoint under tmp_path, mounted
through the real command line (pybind/pagefs/cli.py -> pagefs-mount). The
mount is ALWAYS taken down at teardown, even when the test failed: `pagefs
umount`, then a lazy `fusermount3 -uz`, then SIGKILL of the daemon as a last
resort. A test fails when the daemon's log holds a warning or an error,
unless it says it expects some (mount.expect_log_errors = True).

The daemon binary: $PAGEFS_MOUNT_BIN if set, else built with CMake into
build/fs-tests (ninja makes that a no-op when it is up to date).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "pybind" / "pagefs" / "cli.py"
BUILD = REPO / "build" / "fs-tests"


def _build_daemon() -> str:
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(BUILD), *gen, "-DCMAKE_BUILD_TYPE=Release",
         "-DPAGEFS_BUILD_TESTS=OFF", "-DPAGEFS_BUILD_FS=ON"],
        check=True, capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(BUILD), "--target", "pagefs-mount"],
                   check=True, capture_output=True)
    return str(BUILD / "fs" / "pagefs-mount")


@pytest.fixture(scope="session")
def daemon_bin() -> str:
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing: real mounts cannot run here")
    if shutil.which("fusermount3") is None:
        pytest.skip("fusermount3 is not installed")
    path = os.environ.get("PAGEFS_MOUNT_BIN") or _build_daemon()
    assert os.access(path, os.X_OK), f"no pagefs-mount binary at {path}"
    return path


@pytest.fixture(scope="session")
def cli_env(daemon_bin):
    env = dict(os.environ)
    env["PAGEFS_MOUNT_BIN"] = daemon_bin
    return env


def run_cli(env, *args, timeout=60, **kw):
    """Runs `pagefs ARGS` (the CLI module as a script); returns CompletedProcess."""
    return subprocess.run([sys.executable, str(CLI), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, **kw)


def run_py(code: str, *args, check=True) -> subprocess.CompletedProcess:
    """Runs code (dedented) in a new interpreter, warnings as errors; asserts it succeeded."""
    proc = subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def fill_data(mounted, size: int) -> None:
    """Writes size bytes of pages through mounted's data, from page 1 on, in
    1 MiB writes, and commits (fsync)."""
    chunk = bytes(range(256)) * (1 << 12)  # 1 MiB
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        for off in range(4096, size + 4096, len(chunk)):
            os.pwrite(fd, chunk, off)
        os.fsync(fd)
    finally:
        os.close(fd)


def is_mounted(path) -> bool:
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def stat_errno(path, patience: float = 5.0) -> int:
    """The errno of stat(path) once the kernel has noticed a killed daemon
    (0 if it never fails). Until the daemon is gone stat may still succeed; a
    request already queued when the connection dropped is aborted
    (ECONNABORTED); every request after that answers ENOTCONN."""
    deadline = time.monotonic() + patience
    while True:
        try:
            os.stat(path)
            err = 0
        except OSError as e:
            err = e.errno
        if err not in (0, errno.ECONNABORTED) or time.monotonic() > deadline:
            return err
        time.sleep(0.05)


def pid_alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class Mount:
    """One pagefs mount of a store root; see the module docstring."""

    def __init__(self, env, tmp_path: Path, prefixes=("data",)):
        self.env = env
        self.root = tmp_path / "store"
        self.mnt = tmp_path / "mnt"
        self.log = tmp_path / "daemon.log"
        self.root.mkdir(exist_ok=True)
        self.mnt.mkdir(exist_ok=True)
        for p in prefixes:
            (self.root / p).mkdir(exist_ok=True)
        self.pid = None
        self.options = ""
        self.expect_log_errors = False

    def mount(self, options="cache_size=16M"):
        self.options = options
        opts = f"log={self.log}" + (f",{options}" if options else "")
        r = run_cli(self.env, "mount", self.root, self.mnt, "-o", opts)
        assert r.returncode == 0, f"mount failed: {r.stderr}"
        assert is_mounted(self.mnt)
        self.pid = self.stats()["pid"]
        return self

    def stats(self) -> dict:
        return json.loads((self.mnt / ".stats").read_bytes())

    def info(self, prefix="data") -> dict:
        return json.loads((self.mnt / prefix / "info.json").read_bytes())

    def data(self, prefix="data") -> Path:
        return self.mnt / prefix / "data"

    def unmount(self):
        r = run_cli(self.env, "umount", self.mnt)
        assert r.returncode == 0, f"umount failed: {r.stderr}"
        assert not is_mounted(self.mnt)
        assert self.pid is None or not pid_alive(self.pid)
        self.pid = None

    def remount(self, options=None):
        self.unmount()
        return self.mount(self.options if options is None else options)

    def teardown(self):
        """Takes the mount down whatever state it is in."""
        if is_mounted(self.mnt):
            r = run_cli(self.env, "umount", self.mnt, timeout=120)
            if r.returncode != 0 and is_mounted(self.mnt):
                subprocess.run(["fusermount3", "-uz", str(self.mnt)], capture_output=True)
        if self.pid is not None and pid_alive(self.pid):
            deadline = time.monotonic() + 30
            while pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)

    def log_problems(self) -> list[str]:
        if not self.log.exists():
            return []
        bad = ("warning", "error", "sanitizer", "runtime error")
        return [l for l in self.log.read_text(errors="replace").splitlines()
                if any(b in l.lower() for b in bad)]


@pytest.fixture
def make_mount(cli_env, tmp_path):
    """make_mount(prefixes=...) -> an unmounted Mount; torn down after the test."""
    made = []

    def make(prefixes=("data",)):
        m = Mount(cli_env, tmp_path, prefixes)
        made.append(m)
        return m

    yield make
    for m in made:
        m.teardown()
    for m in made:
        problems = m.log_problems()
        if problems and not m.expect_log_errors:
            pytest.fail("daemon log holds warnings/errors:\n" + "\n".join(problems))


@pytest.fixture
def mounted(make_mount):
    """A store with one prefix, 'data', mounted with a 16 MiB budget."""
    return make_mount().mount()
