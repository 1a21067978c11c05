"""Error paths: bad roots and prefixes, corrupted pages and superblocks, use
after close. Each names what went wrong and where."""

from __future__ import annotations

import errno
import os

import pytest

import pagefs
from pagefs import _core
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


# pybind/errors.cc: each engine code (pager/util/error.h) becomes one Python
# exception, with its errno where it is an OSError.
ENGINE_CODES = {
    "io": (OSError, errno.EIO),
    "no-space": (OSError, errno.ENOSPC),
    "corruption": (pagefs.CorruptionError, errno.EIO),
    "invalid-argument": (ValueError, None),
    "out-of-range": (IndexError, None),
    "too-large": (OverflowError, None),
    "not-found": (FileNotFoundError, errno.ENOENT),
    "exists": (FileExistsError, errno.EEXIST),
    "read-only": (pagefs.ReadOnlyError, None),
    "not-allowed": (PermissionError, None),
    "closed": (pagefs.ClosedError, None),
    "busy": (pagefs.LockedError, errno.EWOULDBLOCK),
    "budget": (pagefs.BudgetError, None),
    "failed": (pagefs.Error, None),
    "stale": (OSError, errno.ESTALE),
}


def test_every_engine_code_has_one_python_exception():
    assert sorted(_core._error_codes()) == sorted(ENGINE_CODES)
    for code, (cls, err) in ENGINE_CODES.items():
        with pytest.raises(BaseException) as info:
            _core._raise_error(code, f"what went wrong ({code})")
        assert type(info.value) is cls, code
        assert f"what went wrong ({code})" in str(info.value)
        if err is not None:
            assert info.value.errno == err, code


def test_an_io_error_keeps_the_errno_of_the_failed_call():
    for err, cls in ((errno.EACCES, PermissionError), (errno.ENOTDIR, NotADirectoryError),
                     (errno.EEXIST, FileExistsError), (errno.EIO, OSError)):
        with pytest.raises(OSError) as info:
            _core._raise_error("io", "open /x", err)
        assert type(info.value) is cls and info.value.errno == err
    with pytest.raises(OSError) as info:
        _core._raise_error("no-space", "write", errno.EDQUOT)
    assert info.value.errno == errno.EDQUOT


def test_engine_codes_name_conditions_not_python_exceptions():
    for python_name in ("index", "type", "value"):
        assert python_name not in _core._error_codes()


@pytest.mark.parametrize(
    "use, exc, message",
    [
        (lambda lst: lst[5], IndexError, "list index out of range"),
        (lambda lst: lst[-6], IndexError, "list index out of range"),
        (lambda lst: lst.__setitem__(5, 0), IndexError, "list assignment index out of range"),
        (lambda lst: lst.__delitem__(-6), IndexError, "list assignment index out of range"),
        (lambda lst: lst.pop(5), IndexError, "pop index out of range"),
        (lambda lst: lst.pop(-99), IndexError, "pop index out of range"),
        (lambda lst: lst.index(99), ValueError, "99 is not in list"),
        (lambda lst: lst.remove(99), ValueError, "list.remove(x): x not in list"),
    ],
)
def test_messages_that_mimic_list_are_pythons_own(store, use, exc, message):
    lst = store.list(range(5))
    with pytest.raises(exc) as got:
        use(lst)
    with pytest.raises(exc) as expected:
        use(list(range(5)))
    assert str(got.value) == str(expected.value) == message


def test_pop_from_an_empty_list_says_so_as_python(store):
    with pytest.raises(IndexError) as info:
        store.list().pop()
    assert str(info.value) == "pop from empty list"


def closed_messages(uses):
    """The (type, message) of the error each use raises."""
    out = set()
    for use in uses:
        with pytest.raises(pagefs.ClosedError) as info:
            use()
        out.add((type(info.value), str(info.value)))
    return out


def test_a_closed_store_has_one_message_wherever_it_is_used(tmp_path):
    # Embedded and (PAGEFS_TEST_MODE=mount) through a mount alike.
    s = pagefs.Store(tmp_path, "p")
    lst = s.list([1, 2, 3])
    r = s.root()
    s.close()
    expected = {(pagefs.ClosedError, f"prefix 'p' of {tmp_path} is closed")}
    store_uses = [s.list, s.root, s.commit, s.stats, s.get_cache_size, s.refresh,
                  lambda: s.set_cache_size("2M")]
    outliving_uses = [lambda: len(lst), lambda: lst[0], lambda: lst[0:2], lambda: lst.append(4),
                      lambda: list(lst), lambda: lst.pop(), lambda: r["x"], lambda: r.__setitem__("x", 1),
                      lambda: len(r)]
    assert closed_messages(store_uses) == expected
    assert closed_messages(outliving_uses) == expected


def test_the_default_store_after_close_says_the_same(tmp_path):
    pagefs.init(tmp_path, "d")
    lst = pagefs.list([1])
    pagefs.close()
    expected = {(pagefs.ClosedError, f"prefix 'd' of {tmp_path} is closed")}
    assert closed_messages([pagefs.list, pagefs.root, pagefs.commit, pagefs.stats, pagefs.get_cache_size,
                            lambda: pagefs.set_cache_size("2M"), lambda: len(lst),
                            lambda: lst.append(2)]) == expected
