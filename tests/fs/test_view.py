"""The view, as a shell user sees it: ls, stat, cat, xxd, cmp, dd, find."""

import errno
import json
import os
import stat
import subprocess

import pytest

PAGE = 4096


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def fill(mounted, pages, prefix="data"):
    """Writes pages 1..pages, page i filled with byte i % 251, and commits."""
    fd = os.open(mounted.data(prefix), os.O_RDWR)
    try:
        for i in range(1, pages + 1):
            os.pwrite(fd, bytes([i % 251]) * PAGE, i * PAGE)
        os.fsync(fd)
    finally:
        os.close(fd)


def test_root_lists_stats_control_and_each_prefix(make_mount):
    m = make_mount(prefixes=("alpha", "beta")).mount()
    assert sorted(os.listdir(m.mnt)) == [".control", ".stats", "alpha", "beta"]
    assert sorted(os.listdir(m.mnt / "alpha")) == ["anchors", "committed", "data", "info.json", "pages"]
    r = sh(f"ls -la {m.mnt}")
    assert r.returncode == 0 and ".stats" in r.stdout and "alpha" in r.stdout


def test_only_store_folders_and_empty_folders_become_prefixes(make_mount):
    m = make_mount(prefixes=("data",))
    (m.root / "notes").mkdir()
    (m.root / "notes" / "todo.txt").write_text("not a store")
    m.mount()
    assert sorted(os.listdir(m.mnt)) == [".control", ".stats", "data"]
    assert os.listdir(m.root / "notes") == ["todo.txt"]


def test_mkdir_makes_a_private_prefix_and_refuses_names_that_are_not_text(make_mount):
    m = make_mount().mount()
    os.mkdir(m.mnt / "fresh")
    assert stat.S_IMODE(os.stat(m.root / "fresh").st_mode) == 0o700
    with pytest.raises(OSError) as e:
        os.mkdir(os.path.join(os.fsencode(m.mnt), b"\xff"))
    assert e.value.errno == errno.EINVAL
    assert not os.path.exists(os.path.join(os.fsencode(m.root), b"\xff"))
    json.loads((m.mnt / ".stats").read_text())  # still text


def test_sizes_modes_and_stat(mounted):
    fill(mounted, 5)
    st = os.stat(mounted.data())
    assert st.st_size == 6 * PAGE  # pages 0..5; page 0 is no page and reads as zeros
    assert oct(st.st_mode & 0o777) == "0o644"
    pages = sorted(os.listdir(mounted.mnt / "data" / "pages"))
    assert pages == [f"{i:016x}" for i in range(1, 6)]
    for name in pages:
        assert os.stat(mounted.mnt / "data" / "pages" / name).st_size == PAGE
    r = sh(f"stat -c '%s %F' {mounted.data()}")
    assert r.stdout.strip() == f"{6 * PAGE} regular file"
    r = sh(f"ls -l {mounted.mnt}/data/pages")
    assert r.returncode == 0 and r.stdout.count(f" {PAGE} ") == 5


def test_stats_is_live_json_with_budget_and_counters(mounted):
    fill(mounted, 3)
    s = mounted.stats()
    for key in ("budget", "resident", "hits", "misses", "evictions", "prefixes", "tiers"):
        assert key in s
    assert s["budget"] == 16 << 20
    assert s["prefixes"]["data"]["budget"] == 16 << 20
    assert "segments" in s["prefixes"]["data"]["tiers"]
    before = s["hits"] + s["misses"]
    (mounted.mnt / "data" / "pages" / "0000000000000001").read_bytes()
    assert mounted.stats()["hits"] + mounted.stats()["misses"] > before
    # Live like a /proc file: size 0, read to its end (cat, cp).
    assert os.stat(mounted.mnt / ".stats").st_size == 0
    r = sh(f"cat {mounted.mnt}/.stats")
    json.loads(r.stdout)


def test_page_files_match_data_bytes_xxd_cmp_dd(mounted):
    fill(mounted, 4)
    pages = mounted.mnt / "data" / "pages"
    r = sh(f"xxd {pages}/0000000000000003 | head -1")
    assert r.stdout.startswith("00000000: 0303 0303")
    r = sh(f"dd if={mounted.data()} bs={PAGE} skip=3 count=1 2>/dev/null | cmp - {pages}/0000000000000003")
    assert r.returncode == 0, r.stdout + r.stderr
    # A write through a page file shows in data.
    r = sh(f"printf 'hello' | dd of={pages}/0000000000000002 bs=1 seek=10 conv=notrunc 2>/dev/null")
    assert r.returncode == 0, r.stderr
    with open(mounted.data(), "rb") as f:
        f.seek(2 * PAGE + 10)
        assert f.read(5) == b"hello"
    r = sh(f"find {mounted.mnt} -type f | sort")
    assert f"{pages}/0000000000000004" in r.stdout.split()


def test_info_json_follows_commits(mounted):
    info = mounted.info()
    assert info["page_size"] == PAGE and info["epoch"] == 0
    fill(mounted, 2)
    info = mounted.info()
    assert info["epoch"] == 1 and info["page_count"] == 3 and info["pages_in_use"] == 2
    assert info["committed_page_count"] == 3


def test_info_json_names_each_page_count_once(mounted):
    # The data file's size and the last commit's differ while a change is
    # uncommitted; each has one key (a text search finds the one it asks for).
    fill(mounted, 2)
    with open(mounted.data(), "r+b") as f:
        f.seek(5 * PAGE)
        f.write(b"x" * PAGE)  # grows data; not committed
    text = (mounted.mnt / "data" / "info.json").read_text()
    assert text.count('"page_count"') == 1 and text.count('"committed_page_count"') == 1
    info = mounted.info()
    assert info["page_count"] == 6 and info["committed_page_count"] == 3
    assert "page_count" not in info["superblock"]


def test_page_zero_accepts_only_zeros(mounted):
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        assert os.pwrite(fd, bytes(PAGE), 0) == PAGE
        with pytest.raises(OSError) as e:
            os.pwrite(fd, b"x", 0)
        assert e.value.errno == 22
    finally:
        os.close(fd)


def test_names_are_the_stores_renames_rmdir_links_and_special_files_are_eperm(mounted):
    # They answered ENOSYS ("Function not implemented") before.
    prefix = mounted.mnt / "data"
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        os.pwrite(fd, b"x" * PAGE, PAGE)  # page 1
    finally:
        os.close(fd)
    page = next((prefix / "pages").iterdir())
    refused = [
        lambda: os.rename(page, prefix / "pages" / "0000000000000fff"),
        lambda: os.rename(prefix, mounted.mnt / "renamed"),
        lambda: os.rmdir(prefix),
        lambda: os.symlink("data", mounted.mnt / "link"),
        lambda: os.mkfifo(prefix / "pages" / "fifo"),
        lambda: os.link(page, prefix / "pages" / "0000000000000ffe"),
        lambda: os.chmod(page, 0o600),
    ]
    before = sorted(p.name for p in (prefix / "pages").iterdir())
    for op in refused:
        with pytest.raises(OSError) as e:
            op()
        assert e.value.errno == errno.EPERM, (op, e.value)
    assert sorted(p.name for p in (prefix / "pages").iterdir()) == before
    assert sorted(os.listdir(mounted.mnt)) == sorted([".control", ".stats", "data"])


def test_create_and_unlink_page_files(mounted):
    pages = mounted.mnt / "data" / "pages"
    (pages / "0000000000000007").write_bytes(b"\x01" * PAGE)
    assert os.stat(mounted.data()).st_size == 8 * PAGE
    assert (pages / "0000000000000007").read_bytes() == b"\x01" * PAGE
    os.unlink(pages / "0000000000000007")
    assert "0000000000000007" not in os.listdir(pages)
    with open(mounted.data(), "rb") as f:
        f.seek(7 * PAGE)
        assert f.read(PAGE) == bytes(PAGE)
    with pytest.raises(OSError):
        (pages / "not-a-page").write_bytes(b"x")


def test_punch_hole_frees_pages(mounted):
    fill(mounted, 4)
    fd = os.open(mounted.data(), os.O_RDWR)
    try:
        os.posix_fallocate  # noqa: B018 (exists)
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
        rc = libc.fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
                            ctypes.c_long(2 * PAGE), ctypes.c_long(2 * PAGE))
        assert rc == 0, os.strerror(ctypes.get_errno())
        assert os.pread(fd, PAGE, 2 * PAGE) == bytes(PAGE)
        assert os.pread(fd, 1, 4 * PAGE) == b"\x04"
    finally:
        os.close(fd)
    assert sorted(os.listdir(mounted.mnt / "data" / "pages")) == [f"{1:016x}", f"{4:016x}"]
    assert mounted.info()["pages_in_use"] == 2
