"""A mount of remote stores: `-o remote=s3://BUCKET/PREFIX,local_cache_size=SIZE`
against a real SeaweedFS (tests/python/seaweed.py), started for this module
and always stopped. What a program writes through the mount is committed in
the bucket; a mount on an empty local root finds the prefixes in the bucket;
.stats shows the three tiers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pagefs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from seaweed import BUCKET, serve  # noqa: E402

from conftest import Mount  # noqa: E402


@pytest.fixture(scope="module")
def seaweed():
    yield from serve()


@pytest.fixture
def aws_env(seaweed, cli_env, monkeypatch):
    for k, v in seaweed.env().items():
        monkeypatch.setenv(k, v)
    return dict(cli_env, **seaweed.env())


def run_py(code: str, *args) -> str:
    proc = subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_remote_mount_commits_to_the_bucket_and_remounts_on_an_empty_root(aws_env, tmp_path):
    url = f"s3://{BUCKET}/mount-a"
    (tmp_path / "one").mkdir()
    first = Mount(aws_env, tmp_path / "one")
    second = None
    try:
        first.mount(f"cache_size=16M,remote={url},local_cache_size=8M")
        run_py(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "data", cache_size="4M") as s:
                s.root()["items"] = s.list("item-%d" % i for i in range(30_000))
            """,
            first.mnt,
        )
        stats = first.stats()
        tiers = stats["prefixes"]["data"]["tiers"]
        assert tiers["remote"]["puts"] >= 3, tiers
        assert tiers["local"]["capacity"] == 8 << 20
        # The memory tier's parts: cached pages and the remote tier's indexes,
        # both inside what the daemon holds.
        memory = tiers["memory"]
        assert memory["index_bytes"] > 0, memory
        assert memory["page_bytes"] + memory["index_bytes"] <= memory["resident"], memory
        assert set(stats["tiers"]) == {"memory", "local", "remote"}
        first.unmount()
        # The bucket alone: an embedded open on an empty root.
        with pagefs.Store(tmp_path / "embedded", "data", remote=url, read_only=True) as s:
            assert s.root()["items"][29_999] == "item-29999"
        # A mount on an empty root finds the prefix in the bucket.
        (tmp_path / "two").mkdir()
        second = Mount(aws_env, tmp_path / "two", prefixes=())
        second.mount(f"remote={url}")
        assert "data" in json.loads((second.mnt / ".stats").read_bytes())["prefixes"]
        out = run_py(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "data", read_only=True) as s:
                print(s.root()["items"][12_345])
            """,
            second.mnt,
        )
        assert out.strip() == "item-12345"
        # A scan through the mount: the daemon's tier fetches ahead, and says so.
        run_py(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "data", read_only=True) as s:
                assert sum(1 for _ in s.root()["items"]) == 30_000
            """,
            second.mnt,
        )
        local = json.loads((second.mnt / ".stats").read_bytes())["prefixes"]["data"]["tiers"]["local"]
        assert local["readahead_frames"] > 0, local
        assert 0 < local["readahead_hits"] <= local["readahead_frames"], local
        assert local["readahead_hits"] + local["readahead_unused"] <= local["readahead_frames"], local
        second.unmount()
    finally:
        first.teardown()
        if second is not None:
            second.teardown()
    for m in (first, second):
        assert not m.log_problems(), m.log_problems()


def test_local_cache_size_without_remote_is_refused(aws_env, tmp_path):
    from conftest import run_cli

    (tmp_path / "root").mkdir()
    (tmp_path / "mnt").mkdir()
    r = run_cli(aws_env, "mount", tmp_path / "root", tmp_path / "mnt", "-o", "local_cache_size=8M")
    assert r.returncode != 0
    assert "remote=" in r.stderr
