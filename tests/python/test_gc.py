"""`pagefs gc` and pagefs.gc(): the garbage step and compaction of a remote
store, against the session's real SeaweedFS (seaweed.py). What is promised
(docs/remote_format.md, "Garbage and compaction"): nothing the head or a kept
commit references is deleted, nothing younger than min_age, compaction needs
the writer's lease, and a gc killed at any instant leaves the store readable
at its last commit."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import pagefs
from conftest import CLI, MOUNT_MODE
from pagefs import _core
from seaweed import BUCKET

pytestmark = pytest.mark.skipif(MOUNT_MODE, reason="not applicable through a mount: gc is of a bucket")

_prefixes = itertools.count()
NOW = {"min_age": 0, "retention": 0}  # everything unkept is garbage at once


@pytest.fixture
def url(aws, request):
    return f"s3://{BUCKET}/gc{next(_prefixes)}-{request.node.name[:30].lower().replace('_', '-')}"


def strings(n: int, salt: str = "") -> list:
    return [f"{salt}value-{i:08d}-{'x' * (i % 17)}" for i in range(n)]


def objects(url: str) -> dict:
    """name -> size of the store's objects (prefix "data")."""
    return dict(_core._RawS3Client(url + "/data").list(""))


def names(url: str, kind: str) -> set:
    return {n for n in objects(url) if n.startswith(kind + "/")}


def write_history(root, url, commits: int = 3) -> dict:
    """A store with a few commits (after the empty one its creation makes,
    epoch 0), each replacing most of the last: garbage once they are older
    than the retention. Returns what the head holds."""
    with pagefs.Store(root, "data", remote=url, local_cache_size="8M") as s:
        for c in range(commits):
            s.root()["keep"] = s.list(strings(2_000, "keep"))
            s.root()["churn"] = s.list(strings(20_000, f"c{c}-"))
            s.root()["n"] = c
            s.commit()
    return {"keep": strings(2_000, "keep"), "churn": strings(20_000, f"c{commits - 1}-"), "n": commits - 1}


def verify(tmp_path, url, expected: dict) -> None:
    """The store, opened from the bucket alone, holds expected (every value read)."""
    root = tmp_path / f"verify-{time.monotonic_ns()}"
    with pagefs.Store(root, "data", remote=url, read_only=True) as s:
        r = s.root()
        assert sorted(r) == sorted(expected)
        for k, v in expected.items():
            assert (list(r[k]) if isinstance(v, list) else r[k]) == v, k


def test_gc_deletes_old_commits_and_segments_only_they_reference(tmp_path, url):
    expected = write_history(tmp_path / "w", url)
    before = objects(url)
    assert len(names(url, "commit")) == 4
    report = pagefs.gc(url, "data", compact=False, **NOW)
    assert report["commits_deleted"] == 3 and report["commits_kept"] == 1
    assert report["segments_deleted"] >= 1
    after = objects(url)
    gone = set(before) - set(after)
    assert report["objects_deleted"] == len(gone) == report["commits_deleted"] + report["segments_deleted"]
    assert report["bytes_deleted"] == sum(before[n] for n in gone)
    # DeleteObjects: one request for the commit objects, then one for the segments.
    assert report["delete_requests"] == 2
    assert names(url, "commit") == {report["head_commit"]}
    verify(tmp_path, url, expected)
    again = pagefs.gc(url, "data", compact=False, **NOW)
    assert again["objects_deleted"] == 0, "a second run finds nothing more"
    # The writer goes on where it left off.
    with pagefs.Store(tmp_path / "w2", "data", remote=url) as s:
        s.root()["n"] = 99
        s.commit()
    verify(tmp_path, url, {**expected, "n": 99})


def test_dry_run_reports_the_same_and_changes_nothing(tmp_path, url):
    write_history(tmp_path / "w", url)
    before = objects(url)
    dry = pagefs.gc(url, "data", dry_run=True, compact_below=0.99, **NOW)
    assert objects(url) == before
    assert dry["dry_run"] and dry["objects_deleted"] > 0 and dry["compaction_commit"] is None
    assert dry["delete_requests"] == 0
    real = pagefs.gc(url, "data", compact=False, **NOW)
    for k in ("objects_deleted", "bytes_deleted", "commits_deleted", "segments_deleted"):
        assert dry[k] == real[k], k


def test_commits_within_the_retention_and_young_objects_are_kept(tmp_path, url):
    expected = write_history(tmp_path / "w", url)
    client = _core._RawS3Client(url + "/data")
    client.put("seg/00000000deadbeef", b"PFSSEG1\0left by a crashed writer")
    client.put("notes.txt", b"not pagefs's")
    before = objects(url)
    kept = pagefs.gc(url, "data", compact=False)  # defaults: 1 h of retention and of min-age
    assert objects(url) == before
    assert kept["objects_deleted"] == 0 and kept["commits_kept"] == 4
    assert kept["objects_too_young"] == 1 and kept["other_objects"] == 1
    young = pagefs.gc(url, "data", compact=False, min_age=0)  # retention still keeps the commits
    assert young["objects_deleted"] == 1 and "seg/00000000deadbeef" not in objects(url)
    assert len(names(url, "commit")) == 4
    pagefs.gc(url, "data", compact=False, **NOW)
    assert "notes.txt" in objects(url), "names pagefs does not make are left alone"
    verify(tmp_path, url, expected)


def sparse_store(root, url) -> dict:
    """A head whose one big segment is mostly freed pages."""
    with pagefs.Store(root, "data", remote=url) as s:
        s.root()["keep"] = s.list(strings(5_000, "keep"))
        s.root()["big"] = s.list(strings(60_000, "big"))
        s.commit()
        del s.root()["big"]
        s.commit()
    return {"keep": strings(5_000, "keep")}


def test_compaction_rewrites_sparse_segments_under_a_new_commit(tmp_path, url):
    expected = sparse_store(tmp_path / "w", url)
    # A reader on another machine holds the commit before compaction.
    reader = pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True)
    try:
        epoch = reader.stats()["epoch"]
        report = pagefs.gc(url, "data", compact_below=0.6, **NOW)
        assert report["segments_compacted"] >= 1 and report["segments_written"] >= 1
        assert report["compaction_commit"] == report["head_commit"]
        assert report["head_epoch"] == epoch + 1
        assert report["bytes_written"] < report["bytes_compacted"] / 2
        # The commit it replaced was the head at the retention's start: kept, so the reader goes on.
        assert list(reader.root()["keep"]) == expected["keep"]
        verify(tmp_path, url, expected)
        reader.refresh()
        assert reader.stats()["epoch"] == epoch + 1
        assert list(reader.root()["keep"]) == expected["keep"]
    finally:
        reader.close()
    replaced = pagefs.gc(url, "data", **NOW)
    assert replaced["segments_compacted"] == 0, "compacted segments are dense"
    assert replaced["segments_deleted"] >= report["segments_compacted"]
    assert names(url, "commit") == {report["compaction_commit"]}
    verify(tmp_path, url, expected)
    with pagefs.Store(tmp_path / "w2", "data", remote=url) as s:
        s.root()["more"] = 1
        s.commit()
        assert s.stats()["epoch"] == epoch + 2
    verify(tmp_path, url, {**expected, "more": 1})


def test_compaction_needs_the_lease_and_the_garbage_step_beside_a_writer_keeps_young_objects(tmp_path, url):
    expected = write_history(tmp_path / "w", url)
    with pagefs.Store(tmp_path / "w2", "data", remote=url) as writer:
        with pytest.raises(pagefs.LockedError, match=r"open for writing by .*:%d.*--no-compact" % os.getpid()):
            pagefs.gc(url, "data", **NOW)
        report = pagefs.gc(url, "data", compact=False, **NOW)
        # Beside a live writer nothing younger than 15 minutes goes, whatever min_age says.
        assert report["objects_deleted"] == 0 and report["objects_too_young"] >= 3
        assert any("writer is live" in n for n in report["notes"])
        writer.root()["n"] = 7
        writer.commit()
    verify(tmp_path, url, {**expected, "n": 7})


def test_bad_input_is_named(tmp_path, url):
    with pytest.raises(ValueError, match="min_age"):
        pagefs.gc(url, "data", min_age="soon")
    with pytest.raises(ValueError, match="threshold"):
        pagefs.gc(url, "data", compact_below=2)
    with pytest.raises(ValueError, match="s3://"):
        pagefs.gc("http://x/y", "data")
    empty = pagefs.gc(url, "nothing-here", compact=False)
    assert empty["head_epoch"] == 0 and empty["objects"] == 0 and empty["notes"]


def cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI), "gc", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **kw.get("env", {})})


def test_the_command_line_reports_and_prints_json(tmp_path, url):
    expected = sparse_store(tmp_path / "w", url)
    r = cli(url, "--prefix", "data", "--dry-run", "--min-age", "0", "--retention", "0s")
    assert r.returncode == 0, r.stderr
    assert "reclaimed (dry run)" in r.stdout and "would be rewritten" in r.stdout
    assert "gc: delete:" in r.stderr, "progress as plain lines when stderr is not a tty"
    r = cli(url, "--prefix", "data", "--json", "--min-age", "0", "--retention", "0",
            "--compact-below", "0.6")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["segments_compacted"] >= 1 and report["compaction_commit"]
    assert r.stderr == "", "--json prints no progress"
    r = cli(url, "--prefix", "data", "--min-age", "0", "--retention", "0", "-q")
    assert r.returncode == 0 and "reclaimed: " in r.stdout
    verify(tmp_path, url, expected)
    assert cli(url, "--prefix", "data", "--min-age", "soon").returncode == 2
    assert cli(url).returncode == 2, "--prefix is required"
    with pagefs.Store(tmp_path / "w2", "data", remote=url):
        r = cli(url, "--prefix", "data")
        assert r.returncode == 2 and "--no-compact" in r.stderr


def test_gc_killed_at_any_instant_leaves_the_store_readable(tmp_path, url, monkeypatch):
    """kill -9 a gc (garbage step and compaction) at random instants, each
    after a commit made new garbage and sparse segments; after each kill the
    store opens from the bucket alone and holds its last commit, and a writer
    can go on once the dead gc's lease expires."""
    monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "1")  # the writer's and the gc's leases alike
    rng = random.Random(13)
    expected = {}
    def commit(i: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                s = pagefs.Store(tmp_path / f"w{i}", "data", remote=url)
                break
            except pagefs.LockedError:  # a killed gc's lease, until it expires
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with s:
            s.root()["keep"] = s.list(strings(3_000, f"k{i}-"))
            s.root()["big"] = s.list(strings(30_000, f"b{i}-"))
            s.commit()
            del s.root()["big"]
            s.root()["n"] = i
            s.commit()
        expected.clear()
        expected.update({"keep": strings(3_000, f"k{i}-"), "n": i})

    args = [sys.executable, str(CLI), "gc", url, "--prefix", "data", "--min-age", "0",
            "--retention", "0", "--compact-below", "0.9", "-q"]
    commit(0)
    started = time.monotonic()
    full = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    span = time.monotonic() - started
    kills = 0
    for i in range(1, 7):
        commit(i)
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            p.wait(timeout=rng.uniform(0.3, 1.0) * span)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        p.stderr.close()
        verify(tmp_path, url, expected)
    assert kills >= 3, "most runs are killed midway"
    time.sleep(1.2)  # the last killed gc's lease expires
    final = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    verify(tmp_path, url, expected)
    assert len(names(url, "commit")) <= 2


READER = r"""
import sys
import pagefs
# No local cache, the smallest memory cache: each answer reads its pages from the bucket.
s = pagefs.Store(sys.argv[1], "data", remote=sys.argv[2], read_only=True, cache_size="1M",
                 local_cache_size=0)
for line in sys.stdin:
    s.refresh()
    r = s.root()
    print(r["n"], len(r["keep"]), sum(map(len, r["keep"])), sum(map(len, r["churn"])), flush=True)
"""


def answer(expected: dict) -> str:
    return " ".join(str(x) for x in (expected["n"], len(expected["keep"]), sum(map(len, expected["keep"])),
                                     sum(map(len, expected["churn"]))))


def test_a_writer_reclaims_its_own_garbage_at_once_beside_a_reader(tmp_path, url):
    """Store.gc() from the live writer: no commit starts during it, so garbage
    only seconds old goes (the bucket-side gc keeps 15 minutes beside a
    writer); what the head and the writer reference stays, and a reader
    process beside it reads on."""
    writer = pagefs.Store(tmp_path / "w", "data", remote=url, local_cache_size="8M")
    reader = None
    try:
        def overwrite(c: int) -> dict:
            writer.root()["keep"] = writer.list(strings(2_000, "keep"))
            writer.root()["churn"] = writer.list(strings(40_000, f"c{c}-"))
            writer.root()["n"] = c
            writer.commit()
            return {"keep": strings(2_000, "keep"), "churn": strings(40_000, f"c{c}-"), "n": c}

        for c in range(3):
            expected = overwrite(c)
        reader = subprocess.Popen([sys.executable, "-c", READER, str(tmp_path / "r"), url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def ask() -> str:
            reader.stdin.write("?\n")
            reader.stdin.flush()
            return reader.stdout.readline().strip()

        assert ask() == answer(expected)
        before = objects(url)
        outside = pagefs.gc(url, "data", compact=False, **NOW)
        assert outside["objects_deleted"] == 0 and outside["objects_too_young"] > 0

        report = writer.gc(retention=0)
        assert report["commits_deleted"] == 3 and report["segments_deleted"] >= 1
        assert report["objects_too_young"] == 0, "young garbage goes when the writer runs it"
        assert report["delete_requests"] == 2, "one DeleteObjects for commits, one for segments"
        after = objects(url)
        gone = set(before) - set(after)
        assert report["objects_deleted"] == len(gone) and report["bytes_deleted"] == sum(before[n] for n in gone)
        assert names(url, "commit") == {report["head_commit"]}
        assert not any("writer is live" in n for n in report["notes"])
        assert ask() == answer(expected), "the reader reads on from the bucket"

        # The writer goes on, and so does its gc; the reader follows.
        expected = overwrite(3)
        again = writer.gc(retention=0)
        assert again["commits_deleted"] == 1 and again["objects_deleted"] >= 2
        assert ask() == answer(expected)
        assert writer.gc(retention=0)["objects_deleted"] == 0, "nothing more to do"
        assert pagefs.gc(url, "data", compact=False, dry_run=True, **NOW)["objects_too_young"] == 0

        with pytest.raises(ValueError, match="compaction"):
            writer.gc(compact=True)
        assert writer.gc(dry_run=True, retention=0)["dry_run"]
    finally:
        if reader is not None:
            reader.stdin.close()
            code = reader.wait(timeout=60)
            reader.stdout.close()
            assert code == 0
        writer.close()
    verify(tmp_path, url, expected)
    check = subprocess.run([sys.executable, str(CLI), "check", str(tmp_path / "check"), "data",
                            "--remote", url, "--json"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"]


def test_store_gc_refuses_what_it_cannot_do(tmp_path, url):
    write_history(tmp_path / "w", url, commits=1)
    with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True) as r:
        with pytest.raises(pagefs.ReadOnlyError, match="read-only"):
            r.gc()
    with pagefs.Store(tmp_path / "local", "data") as local:
        with pytest.raises(ValueError, match="local store"):
            local.gc()
    with pytest.raises(TypeError, match="prefix"):
        pagefs.gc(url)
    pagefs.init(tmp_path / "w2", "data", remote=url)
    try:
        report = pagefs.gc(retention=0)  # the store init() opened
        assert report["head_epoch"] == 1 and report["commits_deleted"] == 1
    finally:
        pagefs.close()


@pytest.mark.parametrize("compact", [True, False])
def test_gc_of_a_missing_bucket_is_file_not_found_and_creates_nothing(aws, tmp_path, compact):
    # The compacting run's lease PUT once created the bucket (SeaweedFS makes
    # one for a PUT) and reported an empty prefix.
    with pytest.raises(FileNotFoundError, match="no-such-gc-bucket"):
        pagefs.gc("s3://no-such-gc-bucket/x", "data", compact=compact)
    with pytest.raises(FileNotFoundError, match="no-such-gc-bucket"):
        pagefs.Store(tmp_path, "data", remote="s3://no-such-gc-bucket/x", read_only=True)


@pytest.mark.parametrize("mode", [[], ["--no-compact"]])
def test_the_command_line_exits_2_when_gc_fails_before_it_changes_anything(aws, mode):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    r = cli(f"s3://{BUCKET}/x", "--prefix", "data", *mode, "--quiet",
            env={"AWS_ENDPOINT_URL": endpoint, "AWS_MAX_ATTEMPTS": "2"})
    assert r.returncode == 2, r.stdout + r.stderr
    assert endpoint in r.stderr and "nothing was changed" in r.stderr
