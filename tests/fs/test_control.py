""".control commands and read-only mounts."""

import errno
import os
import subprocess

import pytest

PAGE = 4096


def write_control(mounted, text):
    fd = os.open(mounted.mnt / ".control", os.O_WRONLY | os.O_TRUNC)
    try:
        return os.write(fd, text.encode())
    finally:
        os.close(fd)


def test_cache_size_takes_effect_at_once(mounted):
    r = subprocess.run(f"echo cache_size=8M > {mounted.mnt}/.control", shell=True)
    assert r.returncode == 0
    s = mounted.stats()
    assert s["budget"] == 8 << 20
    assert s["prefixes"]["data"]["budget"] == 8 << 20


def test_budget_is_split_among_prefixes(make_mount):
    m = make_mount(prefixes=("a", "b")).mount("cache_size=16M")
    s = m.stats()
    assert s["budget"] == 16 << 20
    assert s["prefixes"]["a"]["budget"] + s["prefixes"]["b"]["budget"] == 16 << 20


def test_commit_and_flush(mounted):
    fd = os.open(mounted.data(), os.O_RDWR)
    os.pwrite(fd, b"x" * PAGE, PAGE)
    os.close(fd)
    assert mounted.stats()["dirty_pages"] == 1
    write_control(mounted, "flush\n")
    assert mounted.stats()["dirty_pages"] == 0
    assert mounted.info()["epoch"] == 0
    write_control(mounted, "commit\n")
    assert mounted.info()["epoch"] == 1


@pytest.mark.parametrize("bad", ["bogus", "cache_size=", "cache_size=12X", "commit; nope", "\n"])
def test_bad_commands_fail_with_einval_and_change_nothing(mounted, bad):
    with pytest.raises(OSError) as e:
        write_control(mounted, bad)
    assert e.value.errno == errno.EINVAL
    assert mounted.stats()["budget"] == 16 << 20
    assert mounted.info()["epoch"] == 0
    r = subprocess.run(["bash", "-c", f"echo {bad!r} > {mounted.mnt}/.control"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Invalid argument" in r.stderr


def test_read_only_mount_refuses_writes_with_erofs(make_mount):
    m = make_mount().mount()
    fd = os.open(m.data(), os.O_RDWR)
    os.pwrite(fd, b"\x07" * PAGE, PAGE)
    os.fsync(fd)
    os.close(fd)
    m.remount("cache_size=8M,ro")
    with pytest.raises(OSError) as e:
        os.open(m.data(), os.O_WRONLY)
    assert e.value.errno == errno.EROFS
    with pytest.raises(OSError) as e:
        (m.mnt / "data" / "pages" / "0000000000000001").write_bytes(b"x")
    assert e.value.errno == errno.EROFS
    with pytest.raises(OSError) as e:
        (m.mnt / "data" / "pages" / "0000000000000009").write_bytes(b"x")
    assert e.value.errno == errno.EROFS
    with pytest.raises(OSError) as e:
        os.unlink(m.mnt / "data" / "pages" / "0000000000000001")
    assert e.value.errno == errno.EROFS
    with pytest.raises(OSError) as e:
        write_control(m, "commit")
    assert e.value.errno == errno.EROFS
    # Reading works, and the budget can still be changed.
    assert (m.mnt / "data" / "pages" / "0000000000000001").read_bytes() == b"\x07" * PAGE
    write_control(m, "cache_size=4M")
    assert m.stats()["budget"] == 4 << 20
    assert oct(os.stat(m.data()).st_mode & 0o777) == "0o444"
    # A read-only mount takes no writer lock: a second read-only mount works too.
    assert not (m.root / "data" / "LOCK").read_text().strip().endswith(str(m.pid))


# The engine's one grammar of sizes (pager/util/size.h), as pagefs.init()
# takes it (tests/python/test_store.py holds the same forms).
SIZE_FORMS = [("8388608", 8 << 20), ("8M", 8 << 20), ("8 M", 8 << 20), ("1.5M", 3 << 19),
              ("8MiB", 8 << 20), ("8mb", 8 << 20), ("0.5g", 1 << 29), (" 4096K ", 4 << 20)]


@pytest.mark.parametrize("text,bytes_", SIZE_FORMS)
def test_cache_size_takes_every_form_of_size(mounted, text, bytes_):
    write_control(mounted, f"cache_size={text}\n")
    assert mounted.stats()["budget"] == bytes_


@pytest.mark.parametrize("bad", ["cache_size=99999999999T", "cache_size=18446744073709551616"])
def test_a_cache_size_past_64_bits_fails_with_efbig_and_changes_nothing(mounted, bad):
    with pytest.raises(OSError) as e:
        write_control(mounted, bad)
    assert e.value.errno == errno.EFBIG  # kTooLarge; was EINVAL ("unknown command")
    assert mounted.stats()["budget"] == 16 << 20


@pytest.mark.parametrize("bad", ["cache_size=0", "cache_size=-1M", "cache_size=1.5X", "cache_size=.5G",
                                 "cache_size=100", "cache_size=1023K"])  # the engine's 1 MiB floor
def test_a_bad_or_zero_cache_size_fails_with_einval(mounted, bad):
    with pytest.raises(OSError) as e:
        write_control(mounted, bad)
    assert e.value.errno == errno.EINVAL
    assert mounted.stats()["budget"] == 16 << 20
