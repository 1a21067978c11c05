"""Read-only processes beside a writer of an embedded store (the reader table,
docs/readers.md): every open and every read succeeds and sees one whole
commit, readers follow new commits by themselves, a writer killed at random
instants reopens at a commit while readers carry on, and dead readers do not
pin the writer's disk space."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pagefs
from conftest import mount_only_skip

# The writer keeps, in every commit: root()["n"] == len(lst) and lst holds
# consecutive ints starting at root()["first"].
WRITER = """
import random, sys, time, pagefs
root, seconds = sys.argv[1], float(sys.argv[2])
s = pagefs.Store(root, "p", cache_size="4M")
r = s.root()
if "lst" not in r:
    r["lst"] = s.list()
    r["first"] = 0
    r["n"] = 0
    s.commit()
lst, rnd = r["lst"], random.Random()
print("ready", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    first, n = r["first"], r["n"]
    k = rnd.randrange(1, 3000)
    lst.extend(range(first + n, first + n + k))
    n += k
    if n > 5000:
        d = rnd.randrange(n // 2)
        del lst[:d]
        first, n = first + d, n - d
    r["first"], r["n"] = first, n
    s.commit()
s.close()
"""

READER = """
import json, sys, time, pagefs
root, seconds, reopen = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "reopen"
opens = reads = 0
bad = []
epochs = set()
s = None
end = time.monotonic() + seconds
while time.monotonic() < end:
    if s is None or reopen:
        if s is not None:
            s.close()
        s = pagefs.Store(root, "p", read_only=True, cache_size="1M")
        opens += 1
    r = s.root()
    lst = r["lst"]
    # Each operation reads one commit; when no newer one was followed between
    # e1 and e2, n, vals and first all come from commit e1.
    e1 = s.stats()["epoch"]
    n = r["n"]
    vals = lst[:]
    first = r["first"]
    e2 = s.stats()["epoch"]
    reads += 1
    if vals != list(range(vals[0], vals[0] + len(vals))) if vals else False:
        bad.append(("not consecutive", len(vals)))
    if e1 == e2 and (len(vals) != n or (vals and vals[0] != first)):
        bad.append(("not one commit", e1, n, len(vals)))
    epochs.add(e2)
s.close()
print(json.dumps({"opens": opens, "reads": reads, "bad": bad[:5], "epochs": len(epochs)}))
"""


def spawn(code, *args, **kw):
    return subprocess.Popen([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def start_writer(root, seconds):
    w = spawn(WRITER, root, seconds)
    assert w.stdout.readline().strip() == "ready", w.stderr.read()
    return w


def test_readers_open_and_read_whole_commits_beside_a_committing_writer(tmp_path):
    mount_only_skip("the reader table is the embedded store's")
    writer = start_writer(tmp_path, 4)
    readers = [spawn(READER, tmp_path, 3, mode) for mode in ("reopen", "reopen", "stay")]
    results = []
    for r in readers:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err  # every open and every read succeeded
        results.append(json.loads(out))
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    for res in results:
        assert res["bad"] == [], res
        assert res["reads"] > 0
    # The reader that stayed open followed the writer's commits by itself.
    assert results[2]["opens"] == 1 and results[2]["epochs"] > 1, results[2]


def test_the_writer_killed_at_random_instants_beside_readers_reopens_at_a_commit(tmp_path):
    mount_only_skip("the reader table is the embedded store's")
    import random
    rnd = random.Random(10)
    start_writer(tmp_path, 0).communicate(timeout=60)  # the store exists before readers open
    readers = [spawn(READER, tmp_path, 4, mode) for mode in ("reopen", "stay")]
    deadline = time.monotonic() + 3
    kills = 0
    while time.monotonic() < deadline:
        w = start_writer(tmp_path, 10)
        time.sleep(rnd.uniform(0.01, 0.3))
        w.send_signal(signal.SIGKILL)
        w.communicate(timeout=60)
        kills += 1
    for r in readers:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err  # readers carried on through every crash
        assert json.loads(out)["bad"] == []
    assert kills >= 3
    with pagefs.Store(tmp_path, "p") as s:  # the store reopens at a commit
        r = s.root()
        vals = r["lst"][:]
        assert len(vals) == r["n"]
        assert vals == list(range(r["first"], r["first"] + r["n"]))


HOLDER = """
import sys, time, pagefs
s = pagefs.Store(sys.argv[1], "p", read_only=True, cache_size="1M")
len(s.root()["lst"])
print("holding", s.stats()["epoch"], flush=True)
time.sleep(600)
"""


def test_a_killed_reader_of_an_old_commit_stops_holding_the_writers_space(tmp_path):
    mount_only_skip("the reader table is the embedded store's")
    with pagefs.Store(tmp_path, "p", cache_size="4M") as w:
        w.root()["lst"] = w.list(range(20000))
        w.commit()
        holder = spawn(HOLDER, tmp_path)
        try:
            word, epoch = holder.stdout.readline().split()
            assert word == "holding"
            lst = w.root()["lst"]
            for k in range(5):  # rewrite the whole list: each commit releases all its pages
                lst[:] = range(k, 20000 + k)
                w.commit()
            st = w.stats()
            assert st["readers"] == 1
            assert st["oldest_reader_epoch"] == int(epoch)
            assert st["held_slots"] > 0
            held_disk = st["bytes_on_disk"]
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.communicate(timeout=60)
        # The dead reader is cleared at the next commit, and its slots reused.
        for k in range(20):
            lst[:] = range(k, 20000 + k)
            w.commit()
        st = w.stats()
        assert st["readers"] == 0 and st["oldest_reader_epoch"] is None
        assert st["held_slots"] == 0
        assert st["bytes_on_disk"] <= held_disk + (1 << 20)


def test_stats_count_readers_and_refresh_follows_at_once(tmp_path):
    mount_only_skip("the reader table is the embedded store's")
    with pagefs.Store(tmp_path, "p") as w:
        w.root()["x"] = 1
        w.commit()
        assert w.stats()["readers"] == 0
        with pagefs.Store(tmp_path, "p", read_only=True) as r:
            assert r.root()["x"] == 1
            assert w.stats()["readers"] == 1
            assert w.stats()["oldest_reader_epoch"] == r.stats()["epoch"]
            w.root()["x"] = 2
            w.commit()
            r.refresh()
            assert r.root()["x"] == 2
            assert r.stats()["epoch"] == w.stats()["epoch"]
        assert w.stats()["readers"] == 0
