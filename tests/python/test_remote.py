"""Remote stores (remote="s3://BUCKET/PREFIX") against a real SeaweedFS that
the session starts on free loopback ports and always stops (seaweed.py).

The user story of issue 13: commit() returns once the commit is durable in
the bucket; a process with an EMPTY local root opens the store from the
bucket alone and reads one element on demand, not the whole store; the local
folder is only a bounded cache that can be deleted between runs; bad URLs,
credentials and buckets, and a server killed in the middle of a commit, give
clear errors and lose nothing committed."""

from __future__ import annotations

import inspect
import itertools
import os
import random
import shutil
import socket
import threading
import time

import pytest

import pagefs
from pagefs import _core
from conftest import MOUNT_MODE, run_python
from seaweed import ACCESS_KEY, BUCKET, SeaweedServer

pytestmark = pytest.mark.skipif(
    MOUNT_MODE, reason="not applicable through a mount: remote= is the mount's own option there"
)

_prefixes = itertools.count()


@pytest.fixture
def url(aws, request):
    """A fresh key prefix in the shared bucket for one test."""
    return f"s3://{BUCKET}/t{next(_prefixes)}-{request.node.name[:40].lower().replace('_', '-')}"


def strings(n: int, salt: str = "") -> list:
    return [f"{salt}value-{i:08d}-{'x' * (i % 17)}" for i in range(n)]


def test_a_commit_opens_from_an_empty_local_root(tmp_path, url):
    data = strings(20_000)
    with pagefs.Store(tmp_path / "a", "data", remote=url, local_cache_size="8M") as s:
        lst = s.list(data)
        s.root()["results"] = lst
        s.root()["n"] = len(data)
        s.commit()
        assert s.remote == url
    empty = tmp_path / "b"
    assert not empty.exists()
    with pagefs.Store(empty, "data", remote=url) as s:
        assert s.root()["n"] == len(data)
        lst = s.root()["results"]
        assert len(lst) == len(data)
        assert lst[12_345] == data[12_345]
        assert list(lst) == data


def test_the_module_api_takes_remote_and_a_local_cache_size(tmp_path, url):
    pagefs.init(tmp_path / "a", prefix="data", remote=url, local_cache_size="4M")
    try:
        pagefs.root()["x"] = pagefs.list(range(1000))
        pagefs.commit()
        st = pagefs.stats()
        assert st["tiers"]["local"]["capacity"] == 4 << 20
        assert st["tiers"]["remote"]["url"] == url
        assert st["tiers"]["remote"]["puts"] >= 3  # a segment, a commit object, the head
    finally:
        pagefs.close()
    pagefs.init(tmp_path / "b", prefix="data", remote=url)
    try:
        assert pagefs.root()["x"][999] == 999
    finally:
        pagefs.close()


def test_the_bucket_holds_fewer_bytes_than_the_strings_it_stores(tmp_path, url):
    """Pages are compressed, list leaves with their offsets rewritten as
    lengths first: 12 random letters and digits (about 9 bytes of entropy)
    and their place in a leaf cost under 10 bytes in the bucket."""
    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    data = ["".join(rng.choices(alphabet, k=12)) for _ in range(200_000)]
    with pagefs.Store(tmp_path / "a", "data", remote=url) as s:
        s.root()["results"] = s.list(data)
        s.commit()
        stored = s.stats()["tiers"]["remote"]["bytes_stored"]
    assert stored < 0.85 * len(data) * 12, stored / (len(data) * 12)
    with pagefs.Store(tmp_path / "b", "data", remote=url) as s:
        assert list(s.root()["results"]) == data


def test_commit_is_durable_in_the_bucket_before_it_returns(tmp_path, url):
    """A second process opens the bucket (on its own empty root) while the
    writer still has the store open: what it sees is the commit."""
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["n"] = s.list(range(5000))
        s.commit()
        s.root()["uncommitted"] = 1
        proc = run_python(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "data", remote=sys.argv[2], read_only=True) as r:
                print(r.root()["n"][4999], "uncommitted" in r.root())
            """,
            str(tmp_path / "r"),
            url,
        )
        assert proc.stdout.split() == ["4999", "False"]


def test_threads_reading_a_cold_store_at_once_all_read_right(tmp_path, url):
    """Four threads on an empty local root, three at random and one scanning:
    the slot map's chunks load on their first use under them all, and the
    pages are fetched, evicted and fetched again (a 2 MiB budget and a 4 MiB
    local cache for about 7 MiB of pages)."""
    data = strings(300_000)
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["l"] = s.list(data)
        s.commit()
    errors = []
    with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True, cache_size="2M",
                      local_cache_size="4M") as s:
        lst = s.root()["l"]

        def lookups(seed):
            rng = random.Random(seed)
            try:
                for _ in range(3000):
                    i = rng.randrange(len(data))
                    if lst[i] != data[i]:
                        errors.append((i, lst[i]))
            except Exception as exc:  # noqa: BLE001 -- reported below
                errors.append(exc)

        def scan():
            try:
                if list(lst) != data:
                    errors.append("the scan read something else")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=lookups, args=(k,)) for k in range(3)]
        threads.append(threading.Thread(target=scan))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_reading_one_element_fetches_a_few_pages_not_the_store(tmp_path, url):
    data = strings(400_000)
    with pagefs.Store(tmp_path / "a", "data", remote=url, cache_size="4M") as s:
        s.root()["results"] = s.list(data)
        s.commit()
        stored = s.stats()["tiers"]["remote"]["bytes_stored"]
    assert stored > 1 << 20
    with pagefs.Store(tmp_path / "b", "data", remote=url, cache_size="4M") as s:
        before = s.stats()["tiers"]["remote"]
        assert s.root()["results"][300_000] == data[300_000]
        after = s.stats()["tiers"]["remote"]
    gets = after["gets"] - before["gets"]
    # The root map, the list's path down its tree, the page table's path.
    assert gets <= 12, after
    assert after["bytes_received"] < stored / 4, (after, stored)


def test_deleting_the_local_root_between_runs_loses_nothing(tmp_path, url):
    root = tmp_path / "cache"
    with pagefs.Store(root, "data", remote=url) as s:
        s.root()["a"] = s.list(strings(30_000, "a"))
    shutil.rmtree(root)
    with pagefs.Store(root, "data", remote=url) as s:
        assert list(s.root()["a"]) == strings(30_000, "a")
        s.root()["b"] = s.list(strings(10_000, "b"))
    shutil.rmtree(root)
    with pagefs.Store(root, "data", remote=url, read_only=True) as s:
        assert list(s.root()["a"]) == strings(30_000, "a")
        assert list(s.root()["b"]) == strings(10_000, "b")


def test_a_read_only_open_of_no_store_names_the_remote(tmp_path, url):
    # It named only the local cache folder, which told nothing of a mistyped URL.
    with pytest.raises(FileNotFoundError) as info:
        pagefs.Store(tmp_path, "data", remote=url + "-typo", read_only=True)
    assert f"store 'data' in {url}-typo" in str(info.value)


def test_a_lost_head_is_damage_not_an_empty_store(tmp_path, url):
    # The head deleted behind pagefs's back, its commits all there: a writer
    # once formatted an empty store and published it over the data.
    with pagefs.Store(tmp_path / "a", "data", remote=url) as s:
        s.root()["kept"] = s.list(range(1000))
    client = _core._RawS3Client(url + "/data")
    head = client.get("head")
    client.delete("head")
    before = sorted(client.list(""))
    for read_only in (False, True):
        with pytest.raises(pagefs.CorruptionError, match=r"data/head .* is missing while .*commit/0+1-"):
            pagefs.Store(tmp_path / "b", "data", remote=url, read_only=read_only)
    for compact in (False, True):  # collecting would delete the whole store
        with pytest.raises(pagefs.CorruptionError, match="gc deletes nothing"):
            pagefs.gc(url, "data", compact=compact, min_age=0, retention=0)
    assert sorted(client.list("")) == before  # nothing written, nothing deleted
    client.put("head", head)
    with pagefs.Store(tmp_path / "c", "data", remote=url) as s:
        assert s.root()["kept"][999] == 999


def test_the_local_cache_serves_rereads_and_survives_a_reopen(tmp_path, url):
    data = strings(50_000)
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["l"] = s.list(data)
    root = tmp_path / "r"
    with pagefs.Store(root, "data", remote=url, cache_size="1M", read_only=True) as s:
        assert list(s.root()["l"]) == data
        first = s.stats()["tiers"]
    assert first["remote"]["gets"] > 10
    with pagefs.Store(root, "data", remote=url, cache_size="1M", read_only=True) as s:
        assert list(s.root()["l"]) == data
        again = s.stats()["tiers"]
    assert again["local"]["hits"] > 0
    assert again["local"]["hit_ratio"] > 0.9, again
    # Only the head, the commit and nothing of the pages.
    assert again["remote"]["bytes_received"] < first["remote"]["bytes_received"] / 4, (first, again)


def _cold_reader_store(tmp_path, url, n: int) -> tuple:
    data = strings(n)
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["l"] = s.list(data)
        s.commit()
        stored = s.stats()["tiers"]["remote"]["bytes_stored"]
    return data, stored


def test_a_scan_from_an_empty_cache_fetches_ahead_in_few_large_gets(tmp_path, url):
    data, stored = _cold_reader_store(tmp_path, url, 300_000)
    with pagefs.Store(tmp_path / "r", "data", remote=url, cache_size="4M") as s:
        lst = s.root()["l"]
        before, local0 = s.stats()["tiers"]["remote"], s.stats()["tiers"]["local"]
        assert list(lst) == data
        after, local1 = s.stats()["tiers"]["remote"], s.stats()["tiers"]["local"]
    gets = after["gets"] - before["gets"]
    # One GET per page before readahead; windows of up to 2 MiB now.
    assert gets <= 30, (gets, after)
    assert after["bytes_received"] - before["bytes_received"] <= stored * 1.2, (after, stored)
    # What was fetched ahead was read: the scan came to it before anything evicted it.
    frames = local1["readahead_frames"] - local0["readahead_frames"]
    hits = local1["readahead_hits"] - local0["readahead_hits"]
    unused = local1["readahead_unused"] - local0["readahead_unused"]
    assert frames > 10 * gets, local1  # the bulk of the pages came ahead, in windows
    assert hits >= 0.9 * frames and hits + unused <= frames, local1


def test_cold_random_reads_cost_about_one_get_each_and_fetch_no_more(tmp_path, url):
    data, stored = _cold_reader_store(tmp_path, url, 300_000)
    rng = random.Random(5)
    with pagefs.Store(tmp_path / "r", "data", remote=url, cache_size="4M") as s:
        lst = s.root()["l"]
        assert lst[0] == data[0]  # the root map and the top of the list's tree
        before, local0 = s.stats()["tiers"]["remote"], s.stats()["tiers"]["local"]
        reads = 200
        for _ in range(reads):
            i = rng.randrange(len(data))
            assert lst[i] == data[i]
        after, local1 = s.stats()["tiers"]["remote"], s.stats()["tiers"]["local"]
    assert local1["readahead_frames"] == local0["readahead_frames"], "random reads fetch nothing ahead"
    assert local1["readahead_unused"] == local0["readahead_unused"]
    gets = after["gets"] - before["gets"]
    assert gets <= 1.2 * reads, (gets, after)
    # A frame is at most a page: random reads never trigger a window ahead.
    assert after["bytes_received"] - before["bytes_received"] <= gets * 4096, after


def test_the_local_cache_never_passes_its_size(tmp_path, url):
    data = strings(150_000)
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["l"] = s.list(data)
        s.commit()
        stored = s.stats()["tiers"]["remote"]["bytes_stored"]
    root = tmp_path / "r"
    with pagefs.Store(root, "data", remote=url, cache_size="1M", local_cache_size="512K") as s:
        assert list(s.root()["l"]) == data
        local = s.stats()["tiers"]["local"]
        assert local["capacity"] == 512 << 10
        assert local["bytes"] <= 512 << 10
        assert local["evictions"] > 0
    assert stored > 512 << 10
    assert os.path.getsize(root / "data" / "page-cache") <= 512 << 10


def test_a_flipped_bit_in_the_local_cache_is_fetched_again(tmp_path, url):
    data = strings(20_000)
    with pagefs.Store(tmp_path / "w", "data", remote=url) as s:
        s.root()["l"] = s.list(data)
    root = tmp_path / "r"
    with pagefs.Store(root, "data", remote=url, read_only=True) as s:
        assert list(s.root()["l"]) == data
    cache = root / "data" / "page-cache"
    raw = bytearray(cache.read_bytes())
    for at in range(100, len(raw), 4096):
        raw[at] ^= 0x40
    cache.write_bytes(bytes(raw))
    with pagefs.Store(root, "data", remote=url, read_only=True) as s:
        assert list(s.root()["l"]) == data
        assert s.stats()["tiers"]["local"]["bad_blocks"] > 0


def test_a_large_uncommitted_change_waits_on_local_disk_not_in_memory(tmp_path, url):
    with pagefs.Store(tmp_path / "w", "data", remote=url, cache_size="2M") as s:
        lst = s.list()
        for i in range(10):
            lst.extend(strings(20_000, str(i)))
        st = s.stats()
        assert st["tiers"]["local"]["pending_bytes"] > 2 << 20
        assert st["resident_bytes"] <= 2 << 20
        s.root()["l"] = lst
        s.commit()
        assert s.stats()["tiers"]["local"]["pending_bytes"] == 0
    with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True) as s:
        assert s.root()["l"][199_999] == strings(20_000, "9")[-1]


def test_the_tiers_slot_map_and_indexes_are_inside_the_memory_budget(tmp_path, url):
    """A remote tier keeps its slot map and local cache index in
    RAM, and they grow with the store (here to half of a 4 MiB budget): they
    count in resident_bytes, so the page cache gives them room and the whole
    stays within the budget."""
    with pagefs.Store(tmp_path / "w", "data", remote=url, cache_size="4M",
                      local_cache_size="64M") as s:
        lst = s.root()["l"] = s.list()
        seen = []
        for i in range(6):
            lst.extend(v + "y" * 90 for v in strings(60_000, str(i)))
            s.commit()
            memory = s.stats()["tiers"]["memory"]
            seen.append(memory["index_bytes"])
            assert memory["page_bytes"] + memory["index_bytes"] <= memory["resident_bytes"], memory
            assert memory["resident_bytes"] <= 4 << 20, memory
        assert seen == sorted(seen) and seen[-1] > 1 << 20, seen  # it grew, past a MiB
        assert sum(1 for _ in lst) == 360_000  # the pages go on loading in what is left
        memory = s.stats()["tiers"]["memory"]
        assert memory["page_bytes"] + memory["index_bytes"] <= memory["resident_bytes"] <= 4 << 20


def test_a_reader_follows_new_commits_on_refresh(tmp_path, url):
    with pagefs.Store(tmp_path / "w", "data", remote=url) as w:
        w.root()["n"] = 1
        w.commit()
        with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True) as r:
            assert r.root()["n"] == 1
            w.root()["n"] = 2
            w.root()["l"] = w.list(range(3000))
            w.commit()
            r.refresh()
            assert r.root()["n"] == 2
            assert r.root()["l"][2999] == 2999


def test_a_reader_follows_new_commits_by_itself(tmp_path, url):
    """A writer process commits n = 1, 2, 3...; a read-only store here, on its
    own empty local root, sees each commit within a bounded time without
    refresh() (as local and mount readers do)."""
    import subprocess
    import sys
    import textwrap

    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "data", remote=sys.argv[2]) as s:
                for n in range(1, 6):
                    s.root()["n"] = n
                    s.root()["l"] = s.list(range(n * 1000))
                    s.commit()
                    print(n, flush=True)
                    sys.stdin.readline()  # until the reader saw it
            """), str(tmp_path / "w"), url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "1"
        with pagefs.Store(tmp_path / "r", "data", remote=url, read_only=True) as r:
            for n in range(1, 6):
                if n > 1:
                    writer.stdin.write("next\n")
                    writer.stdin.flush()
                    assert writer.stdout.readline().strip() == str(n)
                deadline = time.monotonic() + 10
                while r.root()["n"] != n:
                    assert time.monotonic() < deadline, f"commit {n} not seen within 10 s"
                    time.sleep(0.02)
                lst = r.root()["l"]
                assert len(lst) == n * 1000 and lst[n * 1000 - 1] == n * 1000 - 1
            writer.stdin.write("next\n")
            writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        writer.stdin.close()
        writer.stdout.close()


@pytest.mark.parametrize(
    "bad, why",
    [
        ("http://bucket/prefix", "s3://"),
        ("s3://", "bucket"),
        ("s3://AB/x", "AB"),
        ("s3://a_b_c/x", "a_b_c"),
    ],
)
def test_a_malformed_url_is_a_value_error_naming_it(tmp_path, aws, bad, why):
    with pytest.raises(ValueError) as info:
        pagefs.Store(tmp_path, "data", remote=bad)
    assert bad in str(info.value) and why in str(info.value)
    assert not (tmp_path / "data").exists(), "nothing is made for a refused store"


def test_bad_remote_arguments(tmp_path, aws):
    with pytest.raises(TypeError):
        pagefs.Store(tmp_path, "data", remote=b"s3://bucket")
    with pytest.raises(ValueError, match="remote"):
        pagefs.Store(tmp_path, "data", local_cache_size="1M")
    with pytest.raises(ValueError, match="local cache size"):
        pagefs.Store(tmp_path, "data", remote=f"s3://{BUCKET}/x", local_cache_size="lots")


def test_wrong_credentials_are_a_permission_error_naming_the_key(tmp_path, url, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(PermissionError) as info:
        pagefs.Store(tmp_path, "data", remote=url)
    text = str(info.value)
    assert ACCESS_KEY in text and BUCKET in text and os.environ["AWS_ENDPOINT_URL"] in text


def test_a_missing_bucket_is_file_not_found_naming_it(tmp_path, aws):
    with pytest.raises(FileNotFoundError) as info:
        pagefs.Store(tmp_path, "data", remote="s3://no-such-bucket-here/x")
    assert "no-such-bucket-here" in str(info.value)
    assert aws.endpoint in str(info.value)


def test_an_unreachable_endpoint_is_an_os_error_naming_it(tmp_path, aws, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(OSError) as info:
        pagefs.Store(tmp_path, "data", remote=f"s3://{BUCKET}/x")
    assert endpoint in str(info.value) and BUCKET in str(info.value)


def test_a_second_writer_on_one_local_root_is_locked_out(tmp_path, url):
    with pagefs.Store(tmp_path, "data", remote=url):
        with pytest.raises(pagefs.LockedError):
            pagefs.Store(tmp_path, "data", remote=url)


def test_a_second_writer_on_another_machine_gets_locked_error_naming_the_lease(tmp_path, url):
    with pagefs.Store(tmp_path / "one", "data", remote=url) as s:
        s.root()["n"] = 1
        s.commit()
        with pytest.raises(pagefs.LockedError) as info:
            pagefs.Store(tmp_path / "two", "data", remote=url)
        text = str(info.value)
        assert f"{socket.gethostname()}:{os.getpid()}" in text, text
        assert "lease" in text and "expires" in text and "UTC" in text, text
        with pagefs.Store(tmp_path / "three", "data", remote=url, read_only=True) as r:
            assert r.root()["n"] == 1, "readers need no lease"
    with pagefs.Store(tmp_path / "two", "data", remote=url) as s:
        assert s.root()["n"] == 1, "closing gave the lease back"


def test_a_killed_writers_lease_expires_and_is_taken_over(tmp_path, url, monkeypatch):
    monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "1")
    import subprocess
    import sys
    import textwrap

    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            """
            import os, sys, pagefs
            s = pagefs.Store(sys.argv[1], "data", remote=sys.argv[2])
            s.root()["n"] = 7
            s.commit()
            print("ready", flush=True)
            sys.stdin.read()
            """), str(tmp_path / "child"), url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        with pytest.raises(pagefs.LockedError, match=f":{child.pid}"):
            pagefs.Store(tmp_path / "me", "data", remote=url)
        child.kill()
        child.wait()
        # The lease is not renewed any more: once its second has passed, it is free.
        time.sleep(1.5)
        with pagefs.Store(tmp_path / "me", "data", remote=url) as s:
            assert s.root()["n"] == 7
            s.root()["n"] = 8
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stdout.close()


def _kill_batch(b: int, n: int) -> list:
    """Batch b: n deterministic strings of 64 base64 characters (about 5 MB
    zstd-coded for n = 100k). The writer below runs this very function."""
    import base64
    import hashlib
    blob = base64.b64encode(hashlib.shake_128(b"batch %d" % b).digest(n * 48)).decode()
    return [blob[j * 64:(j + 1) * 64] for j in range(n)]


_KILL_WRITER = inspect.getsource(_kill_batch) + """
import sys, time, pagefs

deadline = time.monotonic() + 30
while True:  # the killed writer's lease runs out within its second
    try:
        s = pagefs.Store(sys.argv[1], "data", remote=sys.argv[2])
        break
    except pagefs.LockedError:
        assert time.monotonic() < deadline
        time.sleep(0.1)
root = s.root()
if "l" not in root:
    root["l"] = s.list()
lst = root["l"]
print("open", len(lst), flush=True)
n = int(sys.argv[3])
while True:
    lst.extend(_kill_batch(len(lst) // n, n))
    s.commit()
    print("committed", len(lst), flush=True)
"""


def test_a_writer_killed_at_random_instants_of_its_commits_loses_nothing_committed(
        tmp_path, url, monkeypatch):
    """kill -9 of a writer whose every commit uploads several segments at once:
    each time, a new machine (an empty local root) finds the last commit the
    writer reported, or the one in flight, whole; the next writer (on the
    killed one's local root, whose cache index was never saved) goes on."""
    import subprocess
    import sys

    monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "1")
    per_batch = 100_000
    rng = random.Random(11)
    committed = 0
    for round_no in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", _KILL_WRITER, str(tmp_path / "w"), url, str(per_batch)],
            stdout=subprocess.PIPE, text=True)
        try:
            opened = writer.stdout.readline().split()
            assert opened and opened[0] == "open", opened
            assert int(opened[1]) in (committed, committed + per_batch)
            committed = int(opened[1])
            time.sleep(rng.uniform(0.2, 1.5))
            writer.kill()
            writer.wait()
            for line in writer.stdout.read().split("\n"):
                if line.startswith("committed"):
                    committed = int(line.split()[1])
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
            writer.stdout.close()
        with pagefs.Store(tmp_path / f"r{round_no}", "data", remote=url, read_only=True) as r:
            lst = r.root()["l"] if "l" in r.root() else []
            n = len(lst)
            assert n in (committed, committed + per_batch), (round_no, n, committed)
            committed = n
            if n:
                last = n // per_batch - 1
                expected = _kill_batch(last, per_batch)
                assert lst[n - 1] == expected[-1]
                assert lst[last * per_batch] == expected[0]
    assert committed >= per_batch, "no round committed anything: the kills came too early"


def test_a_local_store_folder_is_not_taken_for_a_remote_cache(tmp_path, url):
    with pagefs.Store(tmp_path, "data") as s:
        s.root()["local"] = 1
    with pytest.raises(ValueError, match="local store"):
        pagefs.Store(tmp_path, "data", remote=url)
    with pagefs.Store(tmp_path, "data") as s:
        assert s.root()["local"] == 1


class KillingProxy:
    """A TCP proxy in front of a server that, once armed, kills the server
    (SIGKILL) as the Nth PUT request goes through it, and drops that
    connection: the server dies in the middle of a commit, at a chosen
    request, not at a time."""

    def __init__(self, server: SeaweedServer) -> None:
        self.server = server
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.kill_at = None  # PUTs to let through before the kill; None: disarmed
        self.puts = 0
        self.lock = threading.Lock()
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.server.ports["s3"]))
        except OSError:
            client.close()
            return

        def back() -> None:
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass
            client.close()

        threading.Thread(target=back, daemon=True).start()
        try:
            while data := client.recv(65536):
                with self.lock:
                    if self.kill_at is not None:
                        self.puts += data.count(b"PUT /")
                        if self.puts > self.kill_at:
                            self.kill_at = None
                            self.server.kill()
                            break
                upstream.sendall(data)
        except OSError:
            pass
        client.close()
        upstream.close()

    def close(self) -> None:
        self.open = False
        self.listener.close()


def test_the_server_killed_in_the_middle_of_a_commit(tmp_path, aws, monkeypatch):
    """Its own server, killed (SIGKILL) as the commit's second segment object
    goes up, then restarted on the same folder and ports: the last commit is
    intact, and the next one succeeds."""
    server = SeaweedServer(aws.weed)
    proxy = None
    try:
        server.start()
        proxy = KillingProxy(server)
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        # The killed commit's writer cannot give its lease back: it expires.
        monkeypatch.setenv("PAGEFS_LEASE_SECONDS", "1")
        url = f"s3://{BUCKET}/killed"
        with pagefs.Store(tmp_path / "a", "data", remote=url) as s:
            s.root()["l"] = s.list(strings(10_000, "old"))
        s = pagefs.Store(tmp_path / "b", "data", remote=url, cache_size="2M")
        big = s.list()
        for i in range(6):  # megabytes of pages: several segment objects
            big.extend(strings(50_000, f"new{i}"))
        s.root()["l"] = big
        proxy.kill_at = 1
        with pytest.raises(OSError) as info:
            s.commit()
        assert proxy.endpoint in str(info.value)
        assert server.proc.poll() is not None, "the server was killed"
        s.close()  # a failed store does not commit again
        server.start()
        time.sleep(1.5)  # past the lease's expiry
        with pagefs.Store(tmp_path / "c", "data", remote=url) as s:
            assert list(s.root()["l"]) == strings(10_000, "old")
            s.root()["after"] = s.list(range(100))
        with pagefs.Store(tmp_path / "d", "data", remote=url, read_only=True) as s:
            assert s.root()["after"][99] == 99
            assert len(s.root()["l"]) == 10_000
    finally:
        if proxy is not None:
            proxy.close()
        server.remove()
