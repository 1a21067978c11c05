"""Stores: persistence across processes, the root mapping, read-only mode,
the context manager, several prefixes, the module-level default store."""

from __future__ import annotations

import time
from collections.abc import MutableMapping, MutableSequence

import pytest

import pagefs
from conftest import MOUNT_MODE, run_python
from pagefs._store import _close_open_stores


def test_list_and_root_persist_across_processes(place):
    run_python(
        """
        import json, sys, pagefs
        pagefs.init(sys.argv[1], prefix="data", cache_size="1M", **json.loads(sys.argv[2]))
        lst = pagefs.list("item-%d" % i for i in range(20000))
        inner = pagefs.list([1, 2**70, -0.0, b"x", None])
        lst.append(inner)
        pagefs.root()["results"] = lst
        pagefs.root()["answer"] = 42
        pagefs.close()
        """,
        *place.argv(),
    )
    proc = run_python(
        """
        import json, sys, pagefs
        with pagefs.Store(sys.argv[1], "data", cache_size=1 << 20, **json.loads(sys.argv[2])) as s:
            r = s.root()
            lst = r["results"]
            assert len(lst) == 20001, len(lst)
            assert lst[12313] == "item-12313"
            assert lst[-1] == [1, 2**70, -0.0, b"x", None]
            assert r["answer"] == 42
            assert sorted(r) == ["answer", "results"]
            lst.append("more")
        print("ok")
        """,
        *place.argv(),
    )
    assert proc.stdout.strip() == "ok"
    # the append of the second process was committed by its close
    with place.open("data", read_only=True) as s:
        assert s.root()["results"][-1] == "more"


def test_uncommitted_changes_are_lost_on_crash(place):
    run_python(
        """
        import json, os, sys, pagefs
        s = pagefs.Store(sys.argv[1], "p", **json.loads(sys.argv[2]))
        s.root()["kept"] = s.list([1, 2])
        s.commit()
        s.root()["lost"] = 1
        os._exit(0)  # no close, no commit
        """,
        *place.argv(),
    )
    place.after_crash()
    with place.open("p") as s:
        assert list(s.root()) == ["kept"]
        assert s.root()["kept"] == [1, 2]


KILLED_WRITER = """
import json, sys, pagefs
s = pagefs.Store(sys.argv[1], "p", cache_size="1M", **json.loads(sys.argv[2]))
r = s.root()
if "l" not in r:
    r["l"] = s.list()
    r["n"] = 0
    s.commit()
lst = r["l"]
told = False
while True:  # every commit holds l == [0, 1, ..., n - 1]
    n = r["n"]
    lst.extend(range(n, n + 2000))
    r["n"] = n + 2000
    s.commit()
    if not told:
        print("committed", flush=True)
        told = True
"""


def test_a_writer_killed_in_the_middle_of_commits_reopens_at_a_commit(place):
    import random
    import signal
    import subprocess
    import sys

    rnd = random.Random(3)
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, *place.argv()],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert writer.stdout.readline().strip() == "committed"
            time.sleep(rnd.uniform(0.05, 0.4))  # an instant, not a synchronization
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.communicate(timeout=60)
        place.after_crash()
    with place.open("p") as s:
        n = s.root()["n"]
        assert n > 0
        assert s.root()["l"][:] == list(range(n))


def test_root_behaves_like_a_mutable_mapping(store):
    r = store.root()
    assert isinstance(r, MutableMapping)
    assert len(r) == 0 and list(r) == [] and "a" not in r
    r["a"] = 1
    r["b"] = store.list(["x"])
    r["a"] = "one"  # rebinding
    assert r["a"] == "one" and r["b"] == ["x"]
    assert dict(r) == {"a": "one", "b": ["x"]} or sorted(r) == ["a", "b"]
    assert r.get("zz", 5) == 5
    with pytest.raises(KeyError):
        r["zz"]
    with pytest.raises(KeyError):
        del r["zz"]
    with pytest.raises(TypeError, match="root names must be str"):
        r[1] = 2
    del r["a"]
    assert sorted(r) == ["b"] and len(r) == 1
    assert r.pop("b") == ["x"]
    assert len(r) == 0


def test_a_list_stored_in_root_survives_losing_its_python_references(store):
    store.root()["keep"] = store.list(range(100))
    assert store.root()["keep"][99] == 99


def test_list_is_registered_as_mutable_sequence(store):
    assert isinstance(store.list(), MutableSequence)


def test_read_only_store_refuses_writes(tmp_path):
    root = tmp_path
    with pagefs.Store(root, "p") as s:
        s.root()["l"] = s.list([1, 2, 3])
    with pagefs.Store(root, "p", read_only=True) as s:
        lst = s.root()["l"]
        assert lst == [1, 2, 3]
        assert s.read_only
        for write in (
            lambda: lst.append(4),
            lambda: lst.extend([4]),
            lambda: lst.__setitem__(0, 9),
            lambda: lst.pop(),
            lambda: s.root().__setitem__("x", 1),
            lambda: s.list([1]),
        ):
            with pytest.raises(pagefs.ReadOnlyError) as info:
                write()
            assert isinstance(info.value, PermissionError)
        assert lst == [1, 2, 3]


def test_read_only_open_of_a_missing_prefix_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        pagefs.Store(tmp_path / "none", "p", read_only=True)


def test_context_manager_closes_and_commits(place):
    with place.open("p") as s:
        lst = s.list([1])
        s.root()["l"] = lst
    assert s.closed
    with pytest.raises(pagefs.ClosedError):
        len(lst)
    s.close()  # idempotent
    with place.open("p") as s:
        assert s.root()["l"] == [1]


def test_a_closed_writer_is_reopened_at_once(tmp_path):
    # close() returns once the writer's claim is given up: through a mount the
    # kernel's RELEASE of the data file comes later, and an open that met the
    # role still taken failed with LockedError now and then.
    for i in range(40):
        with pagefs.Store(tmp_path, "p") as s:
            assert s.root().get("n") == (i - 1 if i else None)
            s.root()["n"] = i


def test_a_writer_process_that_closed_is_followed_at_once_by_another(tmp_path):
    # Each process opens the moment the one before it has closed and said so.
    for i in range(4):
        run_python(
            """
            import sys, pagefs
            with pagefs.Store(sys.argv[1], "p") as s:
                s.root()["n"] = s.root().get("n", 0) + 1
            """,
            str(tmp_path),
        )
        with pagefs.Store(tmp_path, "p") as s:
            assert s.root()["n"] == 2 * i + 1
            s.root()["n"] += 1


def test_two_prefixes_open_at_once(tmp_path):
    with pagefs.Store(tmp_path, "a", cache_size="1M") as a, pagefs.Store(tmp_path, "b", cache_size="2M") as b:
        a.root()["x"] = a.list(["from a"])
        b.root()["x"] = b.list(["from b"])
        assert a.get_cache_size() == 1 << 20 and b.get_cache_size() == 2 << 20
    with pagefs.Store(tmp_path, "a") as a, pagefs.Store(tmp_path, "b") as b:
        assert a.root()["x"] == ["from a"] and b.root()["x"] == ["from b"]


def test_second_writer_of_a_prefix_is_locked_out(tmp_path):
    with pagefs.Store(tmp_path, "p"):
        root = str(tmp_path)
        run_python(
            """
            import sys, pagefs
            try:
                pagefs.Store(sys.argv[1], "p")
            except pagefs.LockedError as e:
                assert isinstance(e, BlockingIOError), type(e).__mro__
            else:
                raise SystemExit("second writer was let in")
            """,
            root,
        )


def test_module_level_functions_use_the_default_store(tmp_path):
    store = pagefs.init(dbzero_root=str(tmp_path), prefix="data")
    try:
        pagefs.set_cache_size(2 << 20)
        assert pagefs.get_cache_size() == 2 << 20
        lst = pagefs.list(["a", "b"])
        pagefs.root()["l"] = lst
        pagefs.commit()
        st = pagefs.stats()
        for key in ("budget", "resident_bytes", "hits", "misses", "evictions", "dirty_pages", "pages",
                    "bytes_on_disk", "epoch", "page_size"):
            assert key in st, key
        assert st["budget"] == 2 << 20 and st["page_size"] >= 4096
        assert pagefs.init(tmp_path, "data") is store  # same prefix: same store
    finally:
        pagefs.close()
    with pytest.raises(pagefs.ClosedError):
        pagefs.list()
    other = pagefs.init(tmp_path, "data")
    try:
        assert other is not store and pagefs.root()["l"] == ["a", "b"]
    finally:
        pagefs.close()


def test_init_requires_a_root():
    with pytest.raises(TypeError):
        pagefs.init()


def test_atexit_closes_and_commits_open_stores(place):
    run_python(
        """
        import json, sys, pagefs
        options = json.loads(sys.argv[2])
        pagefs.init(sys.argv[1], "p", **options)
        pagefs.root()["l"] = pagefs.list([1, 2, 3])
        s = pagefs.Store(sys.argv[1], "q", **options)
        s.root()["m"] = s.list(["q"])
        # no close: atexit does it
        """,
        *place.argv(),
    )
    with place.open("p") as p, place.open("q") as q:
        assert p.root()["l"] == [1, 2, 3] and q.root()["m"] == ["q"]


def test_cache_size_strings(tmp_path):
    with pagefs.Store(tmp_path, "p", cache_size="3M") as s:
        assert s.get_cache_size() == 3 << 20
        s.set_cache_size("1.5M")
        assert s.get_cache_size() == 3 << 19
        with pytest.raises(ValueError):
            s.set_cache_size("lots")


def test_a_failed_open_releases_the_writer_lock(tmp_path):
    from conftest import mount_only_skip

    mount_only_skip("the page size is the daemon's")
    with pytest.raises(ValueError, match="page size"):
        pagefs.Store(tmp_path, "p", page_size=1000)
    with pytest.raises(ValueError, match="page size"):
        pagefs.Store(tmp_path, "p", page_size=8192 + 4096)
    with pagefs.Store(tmp_path, "p") as s:  # not LockedError naming this process
        s.root()["x"] = s.list([1])
    with pagefs.Store(tmp_path, "p") as s:
        with pytest.raises(ValueError):  # an existing 4096 store opened with a wrong page size
            pagefs.Store(tmp_path, "q", page_size=3)
    with pagefs.Store(tmp_path, "p") as s:
        assert list(s.root()["x"]) == [1]


def test_store_files_are_private(tmp_path):
    import os
    import stat

    from conftest import mount_only_skip

    mount_only_skip("the daemon creates the files")
    old = os.umask(0o022)
    try:
        with pagefs.Store(tmp_path, "p", cache_size="1M") as s:
            s.root()["x"] = s.list(b"y" * 1000 for _ in range(100_000))  # two segments
    finally:
        os.umask(old)
    folder = tmp_path / "p"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    names = os.listdir(folder)
    assert "segment-00001.pfs" in names and "LOCK" in names
    for name in names:
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600, name


@pytest.mark.parametrize("size", [0, 4096, 65536, (1 << 20) - 1])
def test_a_budget_below_the_floor_is_refused(tmp_path, size):
    from conftest import mount_only_skip

    mount_only_skip("the budget is the daemon's; the process's local cache may be smaller")
    with pytest.raises(ValueError, match="floor of 1048576 bytes"):
        pagefs.Store(tmp_path, "p", cache_size=size)
    with pagefs.Store(tmp_path, "p", cache_size=1 << 20) as s:
        with pytest.raises(ValueError, match="floor of 1048576 bytes"):
            s.set_cache_size(size)
        assert s.get_cache_size() == 1 << 20


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="page_size"):
        pagefs.Store(tmp_path, "p", page_size=-1)
    with pytest.raises(ValueError, match="page_size"):
        pagefs.Store(tmp_path, "p", page_size=1 << 40)
    with pytest.raises(TypeError, match="page_size"):
        pagefs.Store(tmp_path, "p", page_size="4096")
    with pytest.raises(OverflowError, match="cache size"):
        pagefs.Store(tmp_path, "p", cache_size=1 << 70)
    with pytest.raises(OverflowError, match="cache size"):
        pagefs.Store(tmp_path, "p", cache_size="99999999999T")
    with pytest.raises(ValueError, match="prefix"):
        pagefs.Store(tmp_path, "a\udc80b")
    with pytest.raises(ValueError, match="root"):
        pagefs.Store(str(tmp_path) + "/\ud800", "p")
    with pagefs.Store(tmp_path, "p") as s:
        with pytest.raises(OverflowError, match="cache size"):
            s.set_cache_size(1 << 70)


# The engine's one grammar of sizes (pager/util/size.h); tests/fs/test_control.py
# gives the mount's .control the same forms.
SIZE_FORMS = [("8388608", 8 << 20), ("8M", 8 << 20), ("8 M", 8 << 20), ("1.5M", 3 << 19),
              ("8MiB", 8 << 20), ("8mb", 8 << 20), ("0.5g", 1 << 29), (" 4096K ", 4 << 20),
              (8 << 20, 8 << 20)]


@pytest.mark.parametrize("size,expected", SIZE_FORMS)
def test_init_store_and_set_cache_size_take_every_form_of_size(tmp_path, size, expected):
    from pagefs._store import parse_size

    assert parse_size(size) == expected
    if not MOUNT_MODE:  # through a mount the budget asked for is the daemon's to keep
        with pagefs.Store(tmp_path, "p", cache_size=size) as s:
            assert s.get_cache_size() == expected
            s.set_cache_size("1M")
            s.set_cache_size(size)
            assert s.get_cache_size() == expected
        assert pagefs.init(tmp_path, "q", cache_size=size).get_cache_size() == expected
        pagefs.close()


def size_errors(tmp_path, size):
    """The exception each way of giving a cache size raises for size."""
    errors = []
    for give in (lambda: pagefs.Store(tmp_path, "p", cache_size=size),
                 lambda: pagefs.init(tmp_path, "p", cache_size=size),
                 lambda: pagefs.Store(tmp_path, "ok").set_cache_size(size)):
        with pytest.raises(Exception) as info:
            give()
        errors.append((type(info.value), str(info.value)))
    pagefs.close()
    _close_open_stores()
    return errors


@pytest.mark.parametrize("size,exc,message", [
    ("1.5X", ValueError, "invalid cache size '1.5X': expected a number of bytes, or a number with K, M, G or T"),
    ("", ValueError, "invalid cache size '': expected"),
    ("64i", ValueError, "invalid cache size '64i': expected"),
    (".5G", ValueError, "invalid cache size '.5G': expected"),
    ("-1M", ValueError, "invalid cache size '-1M': a size cannot be negative"),
    (-5, ValueError, "invalid cache size '-5': a size cannot be negative"),
    ("99999999999T", OverflowError, "cache size '99999999999T' is too large (at most 2**64 - 1 bytes)"),
    (1 << 70, OverflowError, f"cache size '{1 << 70}' is too large (at most 2**64 - 1 bytes)"),
    (True, TypeError, "cache size must be an int or a string like '64M', not bool"),
    (1.5, TypeError, "cache size must be an int or a string like '64M', not 'float'"),
    ("\ud800M", ValueError, "invalid cache size '\\ud800M'"),
])
def test_a_bad_size_is_refused_the_same_way_everywhere(tmp_path, size, exc, message):
    errors = size_errors(tmp_path, size)
    assert len(set(errors)) == 1, errors
    assert errors[0][0] is exc and errors[0][1].startswith(message), errors[0]
