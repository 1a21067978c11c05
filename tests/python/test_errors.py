"""Error paths: bad roots and prefixes, corrupted pages and superblocks, use
after close. Each names what went wrong and where."""

from __future__ import annotations

import os

import pytest

import pagefs
from conftest import mount_only_skip


def segment_files(prefix_dir):
    return sorted(os.path.join(prefix_dir, f) for f in os.listdir(prefix_dir) if f.startswith("segment-"))


def test_exception_hierarchy():
    assert issubclass(pagefs.CorruptionError, pagefs.Error) and issubclass(pagefs.CorruptionError, OSError)
    assert issubclass(pagefs.ReadOnlyError, PermissionError)
    assert issubclass(pagefs.ClosedError, ValueError)
    assert issubclass(pagefs.LockedError, BlockingIOError)
    assert issubclass(pagefs.BudgetError, MemoryError)
    for cls in (pagefs.ReadOnlyError, pagefs.ClosedError, pagefs.LockedError, pagefs.BudgetError):
        assert issubclass(cls, pagefs.Error)


def test_root_under_a_regular_file_is_an_os_error(tmp_path):
    mount_only_skip("a mount's root holds only prefix folders, no regular files")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError) as info:
        pagefs.Store(blocker / "root", "p")
    assert info.value.errno is not None
    assert "file" in str(info.value)


@pytest.mark.parametrize("prefix", ["a/b", "..", ".", "", "/abs"])
def test_bad_prefix_is_a_value_error(tmp_path, prefix):
    with pytest.raises(ValueError):
        pagefs.Store(tmp_path, prefix)


def test_prefix_must_be_str(tmp_path):
    with pytest.raises(TypeError):
        pagefs.Store(tmp_path, 5)


def test_use_after_close_raises_closed_error(tmp_path):
    s = pagefs.Store(tmp_path, "p")
    lst = s.list([1, 2, 3])
    r = s.root()
    s.close()
    for use in (
        lambda: len(lst),
        lambda: lst[0],
        lambda: lst.append(1),
        lambda: lst.extend([1]),
        lambda: list(lst),
        lambda: lst[0:2],
        lambda: r["x"],
        lambda: s.list(),
        lambda: s.root(),
    ):
        with pytest.raises(pagefs.ClosedError):
            use()
    del lst  # dropping a handle after close must not crash


def test_corrupted_page_is_reported_with_prefix_and_page(tmp_path):
    mount_only_skip("segment files are the daemon's, not reachable through the mount")
    marker = "MARKER-" + "q" * 200
    with pagefs.Store(tmp_path, "corrupt") as s:
        s.root()["l"] = s.list([marker] * 50 + ["x%d" % i for i in range(1000)])
    hit = 0
    for path in segment_files(tmp_path / "corrupt"):
        with open(path, "r+b") as f:
            data = f.read()
            at = data.find(marker.encode(), 2 * PAGE)  # past both superblock slots
            if at >= 0:
                f.seek(at + 10)
                f.write(b"!")
                hit += 1
    assert hit, "marker not found in any segment file"
    with pytest.raises(pagefs.CorruptionError) as info:
        with pagefs.Store(tmp_path, "corrupt", read_only=True) as s:
            list(s.root()["l"])
    message = str(info.value)
    assert "corrupt" in message and "page" in message
    assert isinstance(info.value, OSError)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        assert byte, f"{path} has no byte at {offset}"
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


# docs/superblock_format.md: tier slots 0 and 1 hold the superblocks, each
# slot with copy A at offset 0 and copy B at offset 2048.
PAGE = 4096


def test_corrupted_superblocks_are_reported(tmp_path):
    mount_only_skip("segment files are the daemon's, not reachable through the mount")
    with pagefs.Store(tmp_path, "sb") as s:
        s.root()["x"] = 1
    segment = segment_files(tmp_path / "sb")[0]
    size = os.path.getsize(segment)
    for slot in (0, 1):
        if slot * PAGE < size:
            flip(segment, slot * PAGE + 8)
            flip(segment, slot * PAGE + 2048 + 8)
    with pytest.raises(pagefs.CorruptionError) as info:
        pagefs.Store(tmp_path, "sb")
    assert "sb" in str(info.value)


def test_one_corrupted_superblock_copy_is_survived(tmp_path):
    mount_only_skip("segment files are the daemon's, not reachable through the mount")
    with pagefs.Store(tmp_path, "sb1") as s:
        s.root()["x"] = 1
    with pagefs.Store(tmp_path, "sb1") as s:
        s.root()["x"] = 2
    flip(segment_files(tmp_path / "sb1")[0], 8)
    with pagefs.Store(tmp_path, "sb1", read_only=True) as s:
        assert s.root()["x"] in (1, 2)
