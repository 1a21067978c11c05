"""Python clients take their pages from a mapping of the mount's files
(pager/space/mount_mapping.h): a reader maps its commit's `committed`, the
writer a read-only open of `data`. Each test runs its clients as separate
processes, so a SIGBUS the mapping failed to catch would show as a killed
process rather than pass unnoticed."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap

import pagefs
from conftest import run_py

MARKER = "MARKER-" + "q" * 200


def damage_a_page(root, prefix):
    """Writes list 'l' (50 markers, then 1000 values) into the unmounted
    store and changes one byte of a stored page holding the marker, as
    tests/python/test_errors.py does."""
    with pagefs.Store(root, prefix) as s:
        s.root()["l"] = s.list([MARKER] * 50 + ["x%d" % i for i in range(1000)])
    hit = 0
    folder = root / prefix
    for name in sorted(os.listdir(folder)):
        if not name.startswith("segment-"):
            continue
        with open(folder / name, "r+b") as f:
            data = f.read()
            at = data.find(MARKER.encode(), 2 * 4096)  # past both superblock slots
            if at >= 0:
                f.seek(at + 10)
                f.write(b"!")
                hit += 1
    assert hit, "marker not found in any segment file"


def spawn(code, *args):
    return subprocess.Popen([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# What the client's process did: read syscalls (/proc/self/io) and whether
# the mount's file is in its mappings (/proc/self/maps).
PROBES = """
def syscr():
    with open("/proc/self/io") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("syscr:"))
def mapped(name):
    with open("/proc/self/maps") as f:
        return any(l.rstrip().endswith("/data/" + name) for l in f)
"""


def test_readers_and_the_writer_read_unchanged_pages_in_place_from_a_mapping(mounted):
    with pagefs.Store(mounted.mnt, "data") as s:
        s.root()["lst"] = s.list("value-%06d-" % i + "x" * 100 for i in range(40_000))
    pages = mounted.info()["page_count"]
    assert pages > 1000
    proc = run_py(
        PROBES + """
import json, sys, pagefs
out = {}
for read_only in (True, False):
    with pagefs.Store(sys.argv[1], "data", read_only=read_only, cache_size="256K") as s:
        lst = s.root()["lst"]
        before = syscr()
        for _ in range(2):  # the second pass reloads what the small cache dropped
            assert sum(1 for v in lst[:] if v.endswith("x")) == 40_000
        out["ro" if read_only else "rw"] = {
            "reads": syscr() - before,
            "loads": s.stats()["misses"],
            "mapped": mapped("committed" if read_only else "data"),
        }
print(json.dumps(out))
""",
        mounted.mnt,
    )
    seen = json.loads(proc.stdout)
    for side in ("ro", "rw"):
        assert seen[side]["mapped"], seen
    # Both take their pages in place: the reader's cache is not even asked
    # (the reads left are its looks at the newest commit, a pread per 10 ms),
    # and the writer, whose scans change nothing, loads none of the pages it
    # has not changed into its own (it used to copy every page, some twice:
    # more loads than pages; a pread per load before that).
    for side in ("ro", "rw"):
        assert seen[side]["loads"] < 10, seen
        assert seen[side]["reads"] < pages // 10, seen


def test_a_mapped_readers_fault_brings_its_page_and_its_scan_comes_in_windows(mounted):
    """Through a reader's mapping a random lookup brings its own pages, not
    the 1 MiB the kernel would read around each fault (pages in its cache
    before the daemon can count them), and a scan asks for its leaves ahead,
    many to a read, not one fault and one round trip per leaf: slices,
    a list's reversed iteration and a dict's items alike."""
    n = 20_000  # 1000-byte values, about four to a leaf: 20 MiB of leaves
    m = 8_000  # the same for a second list and a dict's entry log
    with pagefs.Store(mounted.mnt, "data") as s:
        s.root()["lst"] = s.list("%06d" % i + "v" * 994 for i in range(n))
        s.root()["back"] = s.list("%06d" % i + "v" * 994 for i in range(m))
        s.root()["d"] = s.dict(("%06d" % i, "v" * 994) for i in range(m))
    mounted.remount()  # the kernel holds none of it
    proc = run_py(
        """
import json, random, sys, pagefs
def served():
    with open(sys.argv[1] + "/.stats") as f:
        k = json.load(f)["kernel_cache"]
    return k["served_bytes"], k["served_reads"]
with pagefs.Store(sys.argv[1], "data", read_only=True, cache_size="1M") as s:
    lst = s.root()["lst"]
    n = len(lst)
    before = served()
    rng = random.Random(5)
    for _ in range(100):
        i = rng.randrange(n)
        assert lst[i].startswith("%06d" % i)
    looked = served()
    assert sum(len(v) for v in lst[:]) == 1000 * n
    scanned = served()
    assert sum(1 for v in reversed(s.root()["back"]) if len(v) == 1000) == len(s.root()["back"])
    backwards = served()
    assert sum(len(k) + len(v) for k, v in s.root()["d"].items()) == 1000 * len(s.root()["d"])
    print(json.dumps([before, looked, scanned, backwards, served()]))
""",
        mounted.mnt,
    )
    (b0, _), (b1, r1), (b2, r2), (_, r3), (_, r4) = json.loads(proc.stdout)
    # A lookup reads a leaf and the internal pages above it: at most three
    # 4 KiB pages each (with the kernel's read-around: up to 1 MiB each).
    assert b1 - b0 <= 100 * 3 * 4096, f"{(b1 - b0) >> 10} KiB for 100 lookups"
    leaves = n // 4
    assert b2 - b1 <= (leaves + 100) * 4096  # no more than the scan reads
    assert r2 - r1 <= leaves // 4, f"{r2 - r1} reads for a scan of about {leaves} leaves"
    for what, reads in (("reversed list", r3 - r2), ("dict's items", r4 - r3)):
        assert reads <= m // 4 // 4, f"{reads} reads for the {what}, about {m // 4} leaves"


READER = """
import json, sys, time, pagefs
mnt, n, gens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = pagefs.Store(mnt, "data", read_only=True, cache_size="64K")  # loads all the time
lst = s.root()["lst"]
starts = range(0, n, 50)
seen_gens, bad, newest = set(), [], {k: -1 for k in starts}
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    for k in starts:
        chunk = lst[k:k + 8]  # one operation: one commit
        g = {v.split("-")[0] for v in chunk}
        if len(g) != 1 or len(chunk) != 8:
            bad.append(("torn", k, sorted(g)))
            continue
        gen = int(g.pop())
        if chunk != ["%d-%d-" % (gen, j) + "y" * 150 for j in range(k, k + 8)]:
            bad.append(("bytes", k, gen))
        if gen < newest[k]:
            bad.append(("stale", k, gen, newest[k]))
        newest[k] = gen
        seen_gens.add(gen)
    if min(newest.values()) == gens - 1:
        break
print(json.dumps({"gens": sorted(seen_gens), "bad": bad[:10]}))
"""

WRITER = """
import sys, time, pagefs
mnt, n, gens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with pagefs.Store(mnt, "data", cache_size="128K") as s:  # write-backs before each commit
    lst = s.root()["lst"]
    for gen in range(1, gens):
        for i in range(n):
            lst[i] = "%d-%d-" % (gen, i) + "y" * 150
        s.commit()
        time.sleep(0.01)
"""


def test_mapped_readers_see_each_commit_whole_while_a_writer_rewrites_the_same_pages(mounted):
    """The writer rewrites every value in place, commit after commit, so the
    same page ids change each time: a reader whose mapping kept an old page
    would show an older generation than it saw before, or a mix."""
    n, gens = 2000, 12
    with pagefs.Store(mounted.mnt, "data") as s:
        s.root()["lst"] = s.list("0-%d-" % i + "y" * 150 for i in range(n))
    readers = [spawn(READER, mounted.mnt, n, gens) for _ in range(2)]
    writer = spawn(WRITER, mounted.mnt, n, gens)
    _, w_err = writer.communicate(timeout=120)
    assert writer.returncode == 0, w_err
    for r in readers:
        out, err = r.communicate(timeout=120)
        assert r.returncode == 0, err
        seen = json.loads(out)
        assert seen["bad"] == [], seen
        assert seen["gens"][-1] == gens - 1, seen  # it followed to the last commit
        assert len(seen["gens"]) > 2, seen  # and saw commits in between


def test_a_writers_own_write_backs_read_back_new_through_its_mapping(mounted):
    """A writer whose cache is far smaller than its list rewrites it: the
    evicted dirty pages go to the daemon by pwrite, which drops them from the
    writer's mapping of data, so reading them again gives the new values,
    before and after the commit."""
    run_py(
        PROBES + """
import sys, pagefs
with pagefs.Store(sys.argv[1], "data", cache_size="128K") as s:
    lst = s.root()["lst"] = s.list("old-%d-" % i + "z" * 100 for i in range(20_000))
    s.commit()
    assert lst[:] == ["old-%d-" % i + "z" * 100 for i in range(20_000)]
    for i in range(20_000):
        lst[i] = "new-%d-" % i + "z" * 100
    assert s.stats()["evictions"] > 0  # dirty pages went to the daemon
    assert mapped("data")
    assert lst[:] == ["new-%d-" % i + "z" * 100 for i in range(20_000)]
    s.commit()
    assert lst[:] == ["new-%d-" % i + "z" * 100 for i in range(20_000)]
""",
        mounted.mnt,
    )
    with pagefs.Store(mounted.mnt, "data", read_only=True) as r:
        assert r.root()["lst"][19_999] == "new-19999-" + "z" * 100


WRITER_THREADS = """
import json, random, sys, threading, time, pagefs
mnt, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
val = lambda t, gen, i: "t%d-%d-%d-" % (t, gen, i) + "w" * 60
errors, done = [], threading.Event()
with pagefs.Store(mnt, "data", cache_size="256K") as s:  # far less than the lists
    lists = [s.list(val(t, 0, i) for i in range(n)) for t in range(3)]
    s.commit()
    def work(t):
        rng, lst, oracle = random.Random(t), lists[t], [val(t, 0, i) for i in range(n)]
        try:
            for step in range(1, steps):
                i = rng.randrange(n)
                if rng.random() < 0.3:
                    lst[i] = oracle[i] = val(t, step, i)
                elif lst[i] != oracle[i]:
                    errors.append(("get", t, step, i, lst[i], oracle[i]))
                    return
                if step % 4000 == 0 and lst[:] != oracle:
                    errors.append(("scan", t, step))
                    return
        except Exception as e:
            errors.append(("raised", t, repr(e)))
    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    commits = 0
    while any(th.is_alive() for th in threads):
        time.sleep(0.05)
        s.commit()
        commits += 1
    for th in threads:
        th.join()
    print(json.dumps({"errors": errors[:5], "commits": commits, "evictions": s.stats()["evictions"]}))
"""


def test_a_writers_threads_read_their_own_changes_while_others_evict_and_commits_land(mounted):
    """Three threads of the writer each change and read their own list, far
    larger together than its cache, while the main thread commits: each
    thread's misses evict the others' dirty pages (a write-back pending, then
    sent), and the reads that change nothing take unchanged pages in place
    from the mapping of data. Every read and every scan must give what the
    thread last wrote, never an older value of a page."""
    out = json.loads(run_py(WRITER_THREADS, mounted.mnt, 6000, 24_000).stdout)
    assert out["errors"] == [], out
    assert out["evictions"] > 1000, out  # write-backs all along
    assert out["commits"] > 3, out


def test_a_page_rewritten_through_its_page_file_reads_new_once_a_reader_follows(mounted):
    """A tool rewrites a list's page through pages/ID and commits: a reader
    mapped on the commit before keeps its commit's bytes until it follows,
    then maps the new commit's file and reads the new bytes."""
    old, new = "OLDMARK-" + "q" * 100, "NEWMARK-" + "q" * 100
    with pagefs.Store(mounted.mnt, "data") as s:
        s.root()["lst"] = s.list([old] + ["filler-%d" % i for i in range(3000)])
    with pagefs.Store(mounted.mnt, "data", read_only=True) as r:
        lst = r.root()["lst"]
        assert lst[0] == old
        data = mounted.data().read_bytes()
        at = data.find(old.encode())
        assert at > 0
        page = at // 4096
        path = mounted.mnt / "data" / "pages" / ("%016x" % page)
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, new.encode(), at - page * 4096)
            os.fsync(fd)  # commits the prefix
        finally:
            os.close(fd)
        assert lst[0] in (old, new)  # until the reader looks, its commit's
        r.refresh()
        assert lst[0] == new
        assert lst[1:4] == ["filler-0", "filler-1", "filler-2"]


def test_a_damaged_page_is_the_stores_error_not_a_crash(mounted):
    """A page whose stored bytes fail their checksum: the daemon answers the
    mapping's fault with EIO (SIGBUS in the client), which the client catches
    and turns into the error a pread gives, for the reader and the writer."""
    mounted.unmount()
    damage_a_page(mounted.root, "data")
    mounted.mount()
    mounted.expect_log_errors = True  # the daemon logs the failed checksum
    proc = run_py(
        PROBES + """
import errno, json, sys, pagefs
out = []
for read_only in (True, False, True):
    with pagefs.Store(sys.argv[1], "data", read_only=read_only) as s:
        try:
            list(s.root()["l"])
            out.append("read it all")
        except OSError as e:
            out.append([type(e).__name__, e.errno, str(e)])
        assert len(s.root()["l"]) == 1050  # the store still works
        assert s.root()["l"][-1] == "x999"  # and so do the pages after the damaged one
        out.append(mapped("committed" if read_only else "data"))
print(json.dumps(out))
""",
        mounted.mnt,
    )
    # The files themselves: only the damaged page fails (EIO), every other
    # page reads whole, even those the failed page's readahead covered (a
    # short read would have been the end of the file to the kernel).
    for name in ("committed", "data"):
        fd = os.open(mounted.mnt / "data" / name, os.O_RDONLY)
        try:
            pages = os.fstat(fd).st_size // 4096
            failed = []
            for page in range(pages):
                try:
                    assert len(os.pread(fd, 4096, page * 4096)) == 4096, (name, page)
                except OSError as e:
                    assert e.errno == 5
                    failed.append(page)
            assert len(failed) == 1, (name, failed, pages)
        finally:
            os.close(fd)
    seen = json.loads(proc.stdout)
    for i in (0, 2, 4):
        name, err, message = seen[i]
        assert err == 5, seen  # EIO, as from a pread
        assert "read page" in message and "through the mount" in message, message
        assert seen[i + 1] is True, seen


IN_PLACE_READER = """
import errno, random, sys, time, pagefs
mnt, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random()
with pagefs.Store(mnt, "data", read_only=True) as s:
    lst = s.root()["lst"]
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    reads, end = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for i in rng.sample(range(n), 100):
                v = lst[i]
                if v != "v%07d-" % i + "y" * 60:
                    print("WRONG", i, repr(v)); sys.exit(3)
            reads += 100
        print("done", 0, reads, flush=True)
    except OSError as e:
        print("error", e.errno, reads, flush=True)
"""


def test_readers_in_place_when_the_daemon_is_killed_never_see_a_wrong_value(mounted):
    """Readers taking pages in place while the daemon is SIGKILLed: every
    value they returned was right, and none hangs. A page the kernel still
    holds reads on (one commit's pages never change); one it does not fails
    with the mount's error (ENOTCONN), and a page held in place that the
    kernel dropped and could not fetch again ends the reader by SIGBUS, after
    it said so on stderr."""
    import signal
    import time

    from conftest import pid_alive, run_cli

    n = 300_000  # about 24 MiB of pages, past the daemon's 16 MiB
    with pagefs.Store(mounted.mnt, "data") as s:
        lst = s.list()
        for k in range(0, n, 50_000):
            lst.extend("v%07d-" % i + "y" * 60 for i in range(k, k + 50_000))
        s.root()["lst"] = lst
    readers = [spawn(IN_PLACE_READER, mounted.mnt, n, 4.0) for _ in range(3)]
    try:
        for r in readers:
            assert r.stdout.readline() == "ready\n", r.stderr.read()
        time.sleep(1.0)
        pid = mounted.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        for r in readers:
            out, err = r.communicate(timeout=60)
            if r.returncode == -signal.SIGBUS:
                assert "read in place from a mount's file could not be read again" in err, err
                continue
            assert r.returncode == 0, (r.returncode, out, err)
            end, code, reads = out.split()
            assert end in ("done", "error") and int(reads) > 0, out
            assert end == "done" or int(code) == errno.ENOTCONN, out
    finally:
        for r in readers:
            if r.poll() is None:
                r.kill()
    mounted.expect_log_errors = True
    assert run_cli(mounted.env, "umount", mounted.mnt).returncode == 0
    mounted.pid = None
