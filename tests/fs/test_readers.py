"""Read-only clients through the mount see each commit once it is made, and
only commits (PREFIX/committed, pager/space/mounted_space.h): never pages a writer
wrote back without committing, and a new commit within kFollowInterval (10 ms)
plus one operation."""

from __future__ import annotations

import errno
import os
import json
import subprocess
import sys
import textwrap
import time

import pagefs

BATCH = 2000  # values per commit; every commit leaves len(lst) a multiple of it
BATCHES = 40

WRITER = """
import sys, time, pagefs
mnt, batch, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
val = lambda i: "v%08d-" % i + "x" * 200
# A small cache: each half batch is written back, so uncommitted pages (the
# list's length among them) reach the daemon.
s = pagefs.Store(mnt, "data", cache_size="128K")
lst, filler = s.root()["lst"], s.root()["filler"]
for k in range(batches):
    base = k * batch
    lst.extend(val(i) for i in range(base, base + batch // 2))
    filler[:]  # reading 100+ other pages evicts lst's dirty header and inner nodes
    assert s.stats()["evictions"] > 0
    time.sleep(0.005)  # a window in which data shows half a batch
    lst.extend(val(i) for i in range(base + batch // 2, base + batch))
    s.commit()
    time.sleep(0.005)
s.close()
print("done")
"""

READER = """
import errno, json, sys, time, pagefs
mnt, batch, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
val = lambda i: "v%08d-" % i + "x" * 200
s = pagefs.Store(mnt, "data", read_only=True)
lst = s.root()["lst"]
lens, stale, bad = set(), 0, []
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        n = len(lst)
        lens.add(n)
        if n % batch:
            bad.append(("len", n))
        last = lst[-1] if n else None   # one operation: one commit's last value
        if last is not None:
            i = int(last[1:9])
            if (i + 1) % batch or last != val(i):
                bad.append(("last", last[:12]))
        if n >= batch:
            k = (n // batch - 1) * batch
            chunk = lst[k:k + 8]
            if chunk != [val(j) for j in range(k, k + 8)]:
                bad.append(("chunk", k))
    except OSError as e:
        if e.errno != errno.ESTALE:
            raise
        stale += 1  # a commit replaced the one an operation was reading
        continue
    if n == batch * batches:
        break
print(json.dumps({"lens": sorted(lens), "stale": stale, "bad": bad[:10]}))
"""


def spawn(code, *args):
    return subprocess.Popen([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_reader_sees_only_whole_commits_while_a_writer_appends(mounted):
    with pagefs.Store(mounted.mnt, "data") as s:
        s.root()["lst"] = s.list()
        s.root()["filler"] = s.list("f" * 200 for _ in range(3000))
    reader = spawn(READER, mounted.mnt, BATCH, BATCHES)
    time.sleep(0.2)
    writer = spawn(WRITER, mounted.mnt, BATCH, BATCHES)
    w_out, w_err = writer.communicate(timeout=120)
    assert writer.returncode == 0, w_err
    r_out, r_err = reader.communicate(timeout=120)
    assert reader.returncode == 0, r_err
    seen = json.loads(r_out)
    assert seen["bad"] == []
    assert all(n % BATCH == 0 for n in seen["lens"])
    assert seen["lens"][-1] == BATCH * BATCHES  # it followed the writer to the end
    assert len(seen["lens"]) > 3  # and saw commits in between
    assert seen["stale"] == 0, seen  # the daemon pins each reader's commit: no retries


def test_a_reader_sees_a_new_commit_within_a_bounded_time(mounted):
    with pagefs.Store(mounted.mnt, "data") as w, \
            pagefs.Store(mounted.mnt, "data", read_only=True) as r:
        w.root()["x"] = 0
        w.commit()
        for value in range(1, 6):
            w.root()["x"] = value
            time.sleep(0.05)
            assert r.root()["x"] == value - 1  # not committed: not seen
            w.commit()
            start = time.monotonic()
            while r.root()["x"] != value:
                assert time.monotonic() - start < 1.0, "the reader did not follow the commit"
                time.sleep(0.001)
            assert time.monotonic() - start < 0.5
        assert r.stats()["epoch"] == w.stats()["epoch"]
        w.root()["x"] = "now"
        w.commit()
        r.refresh()  # no waiting for the next look
        assert r.root()["x"] == "now"


def test_the_committed_file_shows_the_last_commit_not_written_back_pages(mounted):
    page = mounted.info()["page_size"]
    data = mounted.data()
    with open(data, "r+b") as f:
        f.seek(page)
        f.write(b"A" * page)
        f.flush()
        os.fsync(f.fileno())
        committed = mounted.mnt / "data" / "committed"
        with open(committed, "rb") as c:
            assert c.read(page)[8:16] == mounted.info()["epoch"].to_bytes(8, "little")
            assert c.read(page) == b"A" * page
        f.seek(page)
        f.write(b"B" * page)  # written, not committed
        f.flush()
        with open(committed, "rb") as c:
            c.seek(page)
            assert c.read(page) == b"A" * page
        os.fsync(f.fileno())
        with open(committed, "rb") as c:
            c.seek(page)
            assert c.read(page) == b"B" * page
            epoch = mounted.info()["epoch"]
            for letter in b"CDE":
                f.seek(page)
                f.write(bytes([letter]) * page)
                f.seek(2 * page)
                f.write(bytes([letter]) * page)
                f.flush()
                os.fsync(f.fileno())  # newer commits: this open file's stays pinned
            assert mounted.info()["epoch"] == epoch + 3
            c.seek(page)
            assert c.read(page) == b"B" * page  # never ESTALE, never a newer commit's page
            assert c.read(page) in (bytes(page), b"")  # page 2 was not written in that commit
            c.seek(0)
            header = c.read(48)
            assert header[8:16] == epoch.to_bytes(8, "little")
            assert header[40:48] == (epoch + 3).to_bytes(8, "little")  # the newest, for following
        with open(committed, "rb") as c:
            c.seek(page)
            assert c.read(page) == b"E" * page


def test_stats_show_the_readers_an_open_committed_file_pins(mounted):
    page = mounted.info()["page_size"]
    stats = lambda: json.loads((mounted.mnt / ".stats").read_text())["prefixes"]["data"]["readers"]
    assert stats()["live"] == 0 and "oldest_epoch" not in stats()
    with open(mounted.data(), "r+b") as f, open(mounted.mnt / "data" / "committed", "rb") as c:
        epoch = mounted.info()["epoch"]
        assert stats() == {"live": 1, "oldest_epoch": epoch, "held_slots": 0}
        for letter in b"XY":
            f.seek(page)
            f.write(bytes([letter]) * page)
            f.flush()
            os.fsync(f.fileno())
        seen = stats()
        assert seen["live"] == 1 and seen["oldest_epoch"] == epoch and seen["held_slots"] > 0
    f = os.open(mounted.data(), os.O_RDWR)  # the next commit gives the held slots back
    try:
        os.pwrite(f, b"Z" * page, page)
        os.fsync(f)
    finally:
        os.close(f)
    assert stats() == {"live": 0, "held_slots": 0}
