"""Python programs through the mount: Store(MOUNT, prefix) works on the mount's
files (pager/space/mounted_space.h), with one writer per prefix."""

from __future__ import annotations

import os

import pytest

import pagefs
from conftest import run_py


def test_a_list_written_through_the_mount_reads_back_embedded_after_unmount(mounted):
    run_py(
        """
        import sys, pagefs
        with pagefs.Store(sys.argv[1], "data", cache_size="4M") as s:
            s.root()["items"] = s.list("item-%d" % i for i in range(50_000))
        """,
        mounted.mnt,
    )
    assert mounted.info()["writer"] == ""
    assert mounted.info()["superblock"]["anchors"]["root_map"] != 0
    mounted.unmount()
    proc = run_py(
        """
        import sys, pagefs
        with pagefs.Store(sys.argv[1], "data", read_only=True) as s:
            items = s.root()["items"]
            print(len(items), items[49_999])
        """,
        mounted.root,
    )
    assert proc.stdout.split() == ["50000", "item-49999"]


def test_second_writer_through_the_mount_is_locked_out_naming_the_holder(mounted):
    with pagefs.Store(mounted.mnt, "data") as first:
        first.root()["x"] = 1
        proc = run_py(
            """
            import sys, pagefs
            try:
                pagefs.Store(sys.argv[1], "data")
            except pagefs.LockedError as e:
                print("locked:", e)
            """,
            mounted.mnt,
        )
        assert f"process {os.getpid()} through the mount" in proc.stdout
        # a reader is welcome and sees the last commit
        first.commit()
        with pagefs.Store(mounted.mnt, "data", read_only=True) as reader:
            assert reader.root()["x"] == 1


def test_a_writer_killed_through_the_mount_leaves_the_last_commit(mounted):
    run_py(
        """
        import os, sys, pagefs
        s = pagefs.Store(sys.argv[1], "data", cache_size="256K")
        s.root()["kept"] = s.list(range(1000))
        s.commit()
        s.root()["lost"] = s.list(range(300_000))  # evicted: its pages reach the daemon
        assert s.stats()["evictions"] > 0
        os._exit(0)
        """,
        mounted.mnt,
    )
    with pagefs.Store(mounted.mnt, "data") as s:
        assert sorted(s.root()) == ["kept"]
        assert s.root()["kept"][999] == 999


def test_a_new_prefix_is_made_through_the_mount(mounted):
    with pagefs.Store(mounted.mnt, "fresh") as s:
        s.root()["n"] = 7
    assert (mounted.mnt / "fresh" / "data").exists()
    mounted.unmount()
    with pagefs.Store(mounted.root, "fresh", read_only=True) as s:
        assert s.root()["n"] == 7


def test_an_embedded_writer_is_locked_out_by_the_daemon(mounted):
    with pytest.raises(pagefs.LockedError, match="process"):
        pagefs.Store(mounted.root, "data")
