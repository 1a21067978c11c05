"""`pagefs check ROOT [PREFIX]`: exit statuses, the human and JSON summaries,
the progress bar only on a tty, and no false problems beside a live writer.
Which damage is found where is tested in tests/cpp/pager/checker_test.cc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pagefs
from conftest import CLI, MOUNT_MODE, mount_only_skip


def check(*args, stderr=subprocess.PIPE, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI), "check", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=stderr, text=True, timeout=timeout)


def make_store(root: Path, prefix: str = "data", n: int = 20000) -> None:
    with pagefs.Store(root, prefix) as s:
        lst = s.list(range(n))
        lst.append("x" * 5000)  # a blob
        s.root()["l"] = lst
        s.root()["nested"] = s.list([lst, s.list(["inner"])])


def flip_last_stored_slot(prefix_dir: Path, page_size: int = 4096) -> None:
    """Flips one bit in the highest slot past the superblocks that holds bytes."""
    seg = prefix_dir / "segment-00000.pfs"
    data = bytearray(seg.read_bytes())
    slots = len(data) // page_size
    for slot in range(slots - 1, 1, -1):
        page = data[slot * page_size:(slot + 1) * page_size]
        if any(page):
            data[slot * page_size + page_size // 2] ^= 0x04
            seg.write_bytes(bytes(data))
            return
    raise AssertionError("no stored slot")


@pytest.fixture
def embedded():
    mount_only_skip("the check reads segment files; a mount is refused (tested in tests/fs)")


def test_clean_store_exits_0_with_a_summary(tmp_path, embedded):
    make_store(tmp_path)
    r = check(tmp_path, "data")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("data: ok (")
    assert r.stderr == ""


def test_json_summary_per_prefix(tmp_path, embedded):
    make_store(tmp_path, "a")
    make_store(tmp_path, "b", n=10)
    (tmp_path / "not-a-prefix").mkdir()
    r = check(tmp_path, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is True
    assert [p["prefix"] for p in out["prefixes"]] == ["a", "b"]
    a = out["prefixes"][0]
    assert a["ok"] and a["problems"] == [] and a["lists"] == 3 and a["root_names"] == 2
    assert a["pages"] == a["pages_reached"] > 0
    with pagefs.Store(tmp_path, "a", read_only=True) as s:
        assert a["epoch"] == s.stats()["epoch"]


def test_damage_exits_1_naming_what_and_where(tmp_path, embedded):
    make_store(tmp_path, "good")
    make_store(tmp_path, "bad")
    flip_last_stored_slot(tmp_path / "bad")
    r = check(tmp_path, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    good, bad = sorted(out["prefixes"], key=lambda p: p["prefix"] != "good")
    assert good["ok"] and not bad["ok"] and not out["ok"]
    kinds = {p["kind"] for p in bad["problems"]}
    assert kinds & {"checksum", "table"}, bad["problems"]
    assert all(p["message"] for p in bad["problems"])
    human = check(tmp_path, "bad")
    assert human.returncode == 1
    assert human.stdout.startswith("bad: ") and "problem" in human.stdout.splitlines()[0]
    assert "checksum mismatch" in human.stdout


def store_files(folder):
    # The reader table is where a read-only opener registers (docs/readers.md),
    # not store data: the check takes a slot there while it runs.
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "readers"}


def test_check_writes_nothing(tmp_path, embedded):
    make_store(tmp_path)
    flip_last_stored_slot(tmp_path / "data")
    before = store_files(tmp_path / "data")
    assert check(tmp_path, "data").returncode == 1
    assert store_files(tmp_path / "data") == before


@pytest.mark.parametrize(
    "args, word",
    [
        (["{root}/missing"], "missing"),
        (["{root}", "nope"], "nope"),
        (["{root}", "../x"], "invalid prefix"),
        (["{root}/empty"], "no pagefs prefix"),
        ([], "required"),
    ],
)
def test_usage_and_open_errors_exit_2(tmp_path, embedded, args, word):
    make_store(tmp_path)
    (tmp_path / "empty").mkdir()
    r = check(*[a.format(root=tmp_path) for a in args])
    assert r.returncode == 2, r.stdout + r.stderr
    assert word in r.stderr
    assert r.stdout == ""


def test_progress_bar_only_on_a_tty(tmp_path, embedded):
    make_store(tmp_path, n=200000)
    piped = check(tmp_path, "data")
    assert piped.returncode == 0 and piped.stderr == ""
    for quiet in (False, True):
        master, slave = os.openpty()
        try:
            r = check(tmp_path, "data", *(["--quiet"] if quiet else []), stderr=slave)
            os.close(slave)
            slave = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            if slave >= 0:
                os.close(slave)
            os.close(master)
        bar = b"".join(chunks).decode()
        assert r.returncode == 0
        if quiet:
            assert bar == ""
        else:
            assert "data: checksums" in bar and "data: structure" in bar and " pages" in bar
            assert bar.endswith("\r")  # the bar is cleared before the summary


WRITER = textwrap.dedent(
    """
    import sys, pagefs
    s = pagefs.Store(sys.argv[1], "data", cache_size=4 << 20)
    lst = s.list(range(20000))
    s.root()["l"] = lst
    s.commit()
    print("ready", flush=True)
    i = 0
    while True:
        lst.extend(range(i, i + 3000))
        del lst[100:2100]
        s.root()["n"] = len(lst)
        s.commit()
        i += 1
    """
)


def test_beside_a_live_writer_no_false_problems(tmp_path, embedded):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        results = [check(tmp_path, "data", "--json") for _ in range(6)]
        assert writer.poll() is None, "the writer died"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
    epochs = [json.loads(r.stdout)["prefixes"][0]["epoch"] for r in results]
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0]  # it did check moving commits


def test_mount_root_is_refused_naming_the_store_root(tmp_path):
    if not MOUNT_MODE:
        pytest.skip("needs a mount (PAGEFS_TEST_MODE=mount)")
    with pagefs.Store(tmp_path, "data") as s:
        s.root()["x"] = 1
    r = check(tmp_path)
    assert r.returncode == 2
    assert "is a pagefs mount" in r.stderr and "root folder" in r.stderr


def test_a_store_with_dicts_sets_and_tuples_checks_clean(tmp_path):
    mount_only_skip("pagefs check reads the segment files of the store's root folder")
    with pagefs.Store(tmp_path, "hd") as s:
        d = s.dict((f"k{i}", (i, "x" * (i % 3000))) for i in range(2000))
        d["set"] = s.set(range(500))
        d["list"] = s.list([(1, 2)])
        s.root()["d"] = d
        for i in range(0, 2000, 2):
            del d[f"k{i}"]
    report = pagefs._core._check_prefix(str(tmp_path), "hd")
    assert report["ok"], report["problems"]
    assert report["dicts"] == 1 and report["sets"] == 1 and report["lists"] == 1
    assert report["pages"] == report["pages_reached"]
