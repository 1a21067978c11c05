"""A remote store on a small SeaweedFS cluster on loopback (seaweed.py's
SeaweedCluster: a master, two volume servers, a filer and an S3 gateway, with
every object on both volume servers), and one volume server killed (SIGKILL)
in the middle of reads: reads of the other copy go on, every value right, to
the end of the list. Writes need both copies (replication 001 is written
synchronously): a commit made while a volume server is down waits, and
completes once it is back; then the other volume server is killed, and a
new reader finds everything committed."""

from __future__ import annotations

import random
import threading

import pytest

import pagefs
from conftest import MOUNT_MODE, point_aws_at
from seaweed import BUCKET, serve_cluster

pytestmark = pytest.mark.skipif(
    MOUNT_MODE, reason="not applicable through a mount: remote= is the mount's own option there"
)


@pytest.fixture
def cluster(monkeypatch):
    for c in serve_cluster():
        point_aws_at(c, monkeypatch)
        yield c


def strings(n: int, salt: str = "") -> list:
    return [f"{salt}value-{i:08d}-{'x' * (i % 17)}" for i in range(n)]


def test_reads_go_on_when_a_volume_server_dies_and_writes_wait_for_it(tmp_path, cluster):
    url = f"s3://{BUCKET}/cluster"
    data = strings(400_000)
    writer = pagefs.Store(tmp_path / "w", "data", remote=url)
    try:
        writer.root()["l"] = writer.list(data)
        writer.commit()
        assert writer.stats()["tiers"]["remote"]["bytes_stored"] > 1 << 20

        # An empty local root, a small memory budget and a smaller local
        # cache: the reads GET pages from the bucket all along.
        with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True,
                          cache_size="1M", local_cache_size="256K") as r:
            lst = r.root()["l"]
            rng = random.Random(7)

            def read_at_random(count: int) -> int:
                gets = r.stats()["tiers"]["remote"]["gets"]
                for _ in range(count):
                    i = rng.randrange(len(data))
                    assert lst[i] == data[i], i
                return r.stats()["tiers"]["remote"]["gets"] - gets

            assert read_at_random(500) > 100
            cluster.kill_volume(0)
            assert read_at_random(500) > 100, "the reads after the kill reached the servers"
            assert list(lst) == data

        # Every write goes to both copies: with one volume server down the
        # commit waits (retrying), and completes once the server is back.
        writer.root()["more"] = writer.list(strings(20_000, "more"))
        failure: list = []

        def commit() -> None:
            try:
                writer.commit()
            except OSError as exc:
                failure.append(exc)

        committing = threading.Thread(target=commit)
        committing.start()
        committing.join(timeout=3)
        waited = committing.is_alive()
        cluster.start_volume(0)
        committing.join(timeout=150)  # past the commit's retries
        assert not committing.is_alive()
        assert waited, "a commit with a volume server down did not wait"
        assert not failure, failure
    finally:
        writer.close()
    # Whichever copy the gateway read first, one of the two kills took it away.
    cluster.kill_volume(1)
    with pagefs.Store(tmp_path / "again", "data", remote=url, read_only=True,
                      cache_size="1M", local_cache_size="256K") as s:
        assert list(s.root()["more"]) == strings(20_000, "more")
        assert list(s.root()["l"]) == data
