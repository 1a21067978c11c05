"""`pagefs ls ROOT [PREFIX]`: every prefix's named roots with their kind and
size, nested counts on request (a collection referenced twice counted once,
cycles ending), JSON, exit statuses, nothing written, and whole commits read
beside a committing writer process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pagefs
from conftest import CLI, mount_only_skip


def ls(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI), "ls", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def make_store(root: Path) -> None:
    with pagefs.Store(root, "data") as s:
        r = s.root()
        inner = s.list([1, 2, 3])
        r["lst"] = s.list(["a", inner, inner, (1, s.dict(a=1))])
        r["d"] = s.dict({"x": inner, "y": 2})
        r["st"] = s.set(["a", (1, 2), 3])
        r["t"] = (1, 2, "x")
        r["n"] = 42
        r["s"] = "hello"
        r["b"] = b"xx"
        r["none"] = None
        r["f"] = 1.5
        r["one"] = s.list([0])
    with pagefs.Store(root, "other") as s:
        s.root()["big"] = s.dict((f"k{i}", i) for i in range(5000))


def names(listing: dict, prefix: str) -> dict:
    [p] = [p for p in listing["prefixes"] if p["prefix"] == prefix]
    return {e["name"]: e for e in p["names"]}


def test_every_prefix_and_name_is_listed_with_kind_and_size(tmp_path):
    make_store(tmp_path)
    r = ls(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0].startswith("data: 10 names (epoch ")
    body = {line.split()[0]: line.split(None, 2)[1:] for line in lines[1:11]}
    assert body["lst"] == ["list", "4 values"]
    assert body["one"] == ["list", "1 value"]
    assert body["d"] == ["dict", "2 items"]
    assert body["st"] == ["set", "3 members"]
    assert body["t"] == ["tuple", "3 values"]
    assert body["n"] == ["int", "42"]
    assert body["s"] == ["str", "5 chars"]
    assert body["b"] == ["bytes", "2 bytes"]
    assert body["none"] == ["None", "None"]
    assert body["f"] == ["float", "1.5"]
    assert lines[11].startswith("other: 1 name (epoch ")
    assert lines[12].split(None, 2) == ["big", "dict", "5000 items"]


def test_one_prefix_as_json(tmp_path):
    make_store(tmp_path)
    r = ls(tmp_path, "data", "--json")
    assert r.returncode == 0, r.stderr
    listing = json.loads(r.stdout)
    assert [p["prefix"] for p in listing["prefixes"]] == ["data"]
    got = names(listing, "data")
    assert list(got) == sorted(got)
    assert got["lst"] == {"name": "lst", "kind": "list", "size": 4}
    assert got["n"]["kind"] == "int" and got["n"]["value"] == 42 and got["n"]["size"] is None
    assert got["s"]["size"] == 5
    assert "nested" not in got["d"]


def test_nested_counts_each_collection_once_and_ends_on_cycles(tmp_path):
    make_store(tmp_path)
    with pagefs.Store(tmp_path, "cyc") as s:
        a = s.list([1])
        b = s.list([a, "x"])
        a.append(b)
        a.append(a)
        s.root()["a"] = a
    r = ls(tmp_path, "data", "--nested", "--json")
    assert r.returncode == 0, r.stderr
    got = names(json.loads(r.stdout), "data")
    # lst: "a", inner (twice, one list), a tuple holding a dict.
    assert got["lst"]["nested"] == {"lists": 1, "dicts": 1, "sets": 0, "tuples": 1, "values": 10}
    assert got["d"]["nested"] == {"lists": 1, "dicts": 0, "sets": 0, "tuples": 0, "values": 5}
    assert got["st"]["nested"]["tuples"] == 1
    assert "nested" not in got["n"]
    r = ls(tmp_path, "cyc", "--nested")
    assert r.returncode == 0, r.stderr
    assert "(inside: 1 list; 5 values in all)" in r.stdout


def test_a_missing_root_or_prefix_exits_2_saying_which(tmp_path):
    r = ls(tmp_path / "nowhere")
    assert r.returncode == 2 and "nowhere" in r.stderr and r.stdout == ""
    make_store(tmp_path)
    r = ls(tmp_path, "nope")
    assert r.returncode == 2 and "nope" in r.stderr


def test_listing_writes_nothing_and_leaves_the_store_to_a_writer(tmp_path):
    mount_only_skip("compares the segment files of the store's root folder")
    make_store(tmp_path)
    segments = {p: p.read_bytes() for p in sorted(tmp_path.glob("*/segment-*"))}
    assert segments
    assert ls(tmp_path, "--nested").returncode == 0
    assert {p: p.read_bytes() for p in sorted(tmp_path.glob("*/segment-*"))} == segments
    with pagefs.Store(tmp_path, "data") as s:  # no lock was left behind
        s.root()["n"] = 43


WRITER = textwrap.dedent(
    """
    import sys, pagefs
    s = pagefs.Store(sys.argv[1], "data", cache_size=4 << 20)
    lst, d = s.list(), s.dict()
    s.root()["lst"], s.root()["d"], s.root()["n"] = lst, d, 0
    s.commit()
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        lst.extend(range(100))
        d.update((f"k{i}-{j}", j) for j in range(50))
        s.root()["n"] = i
        s.commit()
    """
)


def test_beside_a_committing_writer_each_listing_is_one_whole_commit(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        results = [ls(tmp_path, "data", "--json") for _ in range(6)]
        assert writer.poll() is None, "the writer died"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    seen = []
    for r in results:
        assert r.returncode == 0, r.stderr
        [p] = json.loads(r.stdout)["prefixes"]
        got = {e["name"]: e for e in p["names"]}
        n = got["n"]["value"]
        # The three roots come from one commit: the counts agree with n.
        assert got["lst"]["size"] == 100 * n and got["d"]["size"] == 50 * n, got
        seen.append((p["epoch"], n))
    assert seen == sorted(seen) and seen[-1][1] > seen[0][1]  # it did list moving commits
