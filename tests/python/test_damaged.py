"""Damaged or foreign prefix folders are refused with a clear error before
anything is written: only an empty or absent prefix is formatted."""

from __future__ import annotations

import os
import shutil

import pytest

import pagefs
from conftest import SMALL_BUDGET, mount_only_skip


@pytest.fixture(autouse=True)
def _embedded_only():
    mount_only_skip("the segment files are the daemon's")


def _snapshot(folder):
    """Every entry under folder with its kind, size and bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            out[os.path.join(dirpath, name)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[path] = f.read()
    return out


def _make_store(root):
    """A closed store whose pages span two segment files."""
    with pagefs.Store(root, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["big"] = s.list(b"x" * 900 for _ in range(80_000))  # > 64 MiB of pages
    names = sorted(os.listdir(root / "data"))
    assert "segment-00001.pfs" in names, names
    return root / "data"


def _refused(root, exc_type, *words):
    before = _snapshot(root)
    with pytest.raises(exc_type) as info:
        pagefs.Store(root, "data", cache_size=SMALL_BUDGET)
    for word in words:
        assert word in str(info.value), info.value
    assert _snapshot(root) == before, "a refused open wrote something"
    return info.value


def test_missing_superblock_segment_is_refused(tmp_path):
    folder = _make_store(tmp_path)
    os.remove(folder / "segment-00000.pfs")
    _refused(tmp_path, pagefs.CorruptionError, "segment-00000.pfs", "missing", "holds pages")
    with pytest.raises(pagefs.CorruptionError):
        pagefs.Store(tmp_path, "data", read_only=True)


@pytest.mark.parametrize("length", [0, 100])
def test_truncated_superblock_segment_is_refused(tmp_path, length):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(1000))
    os.truncate(tmp_path / "data" / "segment-00000.pfs", length)
    _refused(tmp_path, pagefs.CorruptionError, "segment-00000.pfs")


def test_a_segment_past_a_gap_is_refused_and_left_as_it_is(tmp_path):
    # Segment files are made in order and never removed: segment-00007.pfs
    # beside segment 0 alone is not the store's (or 1..6 were lost). A writer
    # once punched it to zeros; now it is refused, the file untouched.
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(1000))
    stray = tmp_path / "data" / "segment-00007.pfs"
    stray.write_bytes(b"someone's bytes " * 5000)
    _refused(tmp_path, pagefs.CorruptionError, "segment-00001.pfs is missing while segment-00007.pfs")
    with pagefs.Store(tmp_path, "data", read_only=True) as r:  # what is there stays readable
        assert r.root()["x"][999] == 999


def test_a_lost_segment_fails_its_reads_naming_it(tmp_path):
    folder = _make_store(tmp_path)
    os.remove(folder / "segment-00001.pfs")
    shutil.copy(folder / "segment-00000.pfs", folder / "segment-00002.pfs")  # a later one remains
    _refused(tmp_path, pagefs.CorruptionError, "segment-00001.pfs is missing")
    with pagefs.Store(tmp_path, "data", read_only=True) as r:
        with pytest.raises(pagefs.CorruptionError, match="segment-00001.pfs .slot [0-9]+. is missing"):
            sum(len(v) for v in r.root()["big"])


def test_segment_replaced_by_a_directory_is_refused(tmp_path):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(1000))
    seg = tmp_path / "data" / "segment-00000.pfs"
    os.remove(seg)
    os.mkdir(seg)
    _refused(tmp_path, pagefs.CorruptionError, "segment-00000.pfs", "not a regular file")


def test_stray_files_without_a_store_are_not_formatted_over(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    _refused(tmp_path, ValueError, "notes.txt", "refusing")
    os.remove(folder / "notes.txt")
    (folder / "segment-1.pfs").write_bytes(b"\0" * 4096)  # not a name the engine writes
    _refused(tmp_path, pagefs.CorruptionError, "segment-1.pfs")


def test_a_store_with_a_stray_file_still_opens(tmp_path):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(10))
    (tmp_path / "data" / "README").write_text("a note beside the store")
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        assert list(s.root()["x"]) == list(range(10))


def test_lock_that_is_a_directory(tmp_path):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(10))
    os.remove(tmp_path / "data" / "LOCK")
    os.mkdir(tmp_path / "data" / "LOCK")
    _refused(tmp_path, IsADirectoryError, "LOCK")


def test_unreadable_segment(tmp_path):
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list(range(10))
    seg = tmp_path / "data" / "segment-00000.pfs"
    if os.geteuid() == 0:
        pytest.skip("root reads any file (the directory case covers an unusable segment)")
    os.chmod(seg, 0)
    try:
        _refused(tmp_path, PermissionError, "segment-00000.pfs")
    finally:
        os.chmod(seg, 0o600)


def test_empty_or_absent_prefix_is_formatted(tmp_path):
    (tmp_path / "empty").mkdir()
    for prefix in ("empty", "absent"):
        with pagefs.Store(tmp_path, prefix, cache_size=SMALL_BUDGET) as s:
            s.root()["x"] = s.list([prefix])
        with pagefs.Store(tmp_path, prefix, read_only=True) as s:
            assert list(s.root()["x"]) == [prefix]


def test_a_format_cut_short_leaves_a_folder_that_formats_again(tmp_path):
    # Segment 0 is written under a temporary name and renamed once synced: a
    # crash before the rename leaves only that file, and the folder counts as
    # empty (segment 0 itself is never empty or torn).
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "segment-00000.pfs.new").write_bytes(b"\x17" * 100)
    with pagefs.Store(tmp_path, "data", cache_size=SMALL_BUDGET) as s:
        s.root()["x"] = s.list([1])
    assert "segment-00000.pfs.new" not in os.listdir(folder)
    with pagefs.Store(tmp_path, "data", read_only=True) as s:
        assert list(s.root()["x"]) == [1]
