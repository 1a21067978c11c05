"""A full disk: the write that hits it raises OSError(ENOSPC), the store then
refuses writes instead of carrying on half-written, and the last commit is
intact when the store is reopened (on the same, still full, file system)."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

import pagefs
from conftest import mount_only_skip


@pytest.fixture
def small_fs(tmp_path):
    mount_only_skip("the disk that fills is the daemon's, under its root, not the mount")
    """A 4 MiB tmpfs: real ENOSPC from the kernel, not a simulation."""
    where = tmp_path / "small"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_disk_full_raises_enospc_and_keeps_the_last_commit(small_fs):
    store = pagefs.Store(small_fs, "data", cache_size=1 << 20)
    kept = store.list(f"committed-{i}" for i in range(10_000))
    store.root()["kept"] = kept
    store.commit()

    grow = store.list()
    store.root()["grow"] = grow
    with pytest.raises(OSError) as info:
        for _ in range(1000):  # ~100 MiB: far more than the file system holds
            grow.extend(["x" * 100] * 10_000)
        store.commit()
    assert info.value.errno == errno.ENOSPC, info.value
    assert "data" in str(info.value) or "segment" in str(info.value)

    # After a failed write nothing more is written: not even a commit.
    with pytest.raises(pagefs.Error):
        store.commit()
    with pytest.raises(pagefs.Error):
        kept.append("more")
    try:
        store.close()
    except OSError:
        pass  # close reports the failure again; the lock is released all the same

    with pagefs.Store(small_fs, "data", read_only=True) as again:
        names = again.root()
        assert "grow" not in names
        assert list(names["kept"]) == [f"committed-{i}" for i in range(10_000)]
    # And it opens for writing again, at the last commit.
    with pagefs.Store(small_fs, "data", cache_size=1 << 20) as again:
        assert len(again.root()["kept"]) == 10_000
