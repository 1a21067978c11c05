"""The in-memory copy of a dict's or set's bucket directory (bucket_cache.h)
never outlives what it copies: each test fills it with lookups, changes the
index behind it on one path (writes through another handle, a reader's move
to a newer commit, a close and reopen, a fork), then looks every key up. A
stale copy sends lookups to bucket pages that no longer hold those keys.
(A rollback, which only the mount daemon does, is tested in C++.)"""

from __future__ import annotations

import os

import pagefs
from conftest import SMALL_BUDGET, run_python

N = 6000  # a few dozen buckets


def batch(b: int, n: int = N) -> dict:
    return {f"b{b}-{i}": i for i in range(n)}


def check(d, present: dict, absent: dict = ()) -> None:
    for k, v in present.items():
        assert d[k] == v, k
    for k in absent:
        assert k not in d, k


def test_writes_through_one_handle_are_seen_through_another(tmp_path):
    with pagefs.Store(tmp_path, "p", cache_size=SMALL_BUDGET) as s:
        d = s.dict()
        s.root()["d"] = d
        other = s.root()["d"]  # another handle on the same dict
        d.update(batch(0))
        check(other, batch(0))
        for k in list(batch(0))[: N - 100]:  # shrinks the index, compacts the log
            del d[k]
        check(other, dict(list(batch(0).items())[N - 100 :]), list(batch(0))[: N - 100])
        for k, v in batch(1).items():  # grows it again, one key at a time
            d[k] = v
        check(other, batch(1))
        d.clear()  # a new index on new pages
        d.update(batch(2))
        check(other, batch(2), batch(1))
        assert len(other) == N
        members = s.set(batch(0))
        s.root()["s"] = members
        again = s.root()["s"]
        assert all(k in again for k in batch(0))
        members.clear()
        members.update(batch(3))
        assert all(k in again for k in batch(3)) and not any(k in again for k in batch(0))


def test_a_reader_moving_to_a_newer_commit_forgets_the_copy(tmp_path):
    with pagefs.Store(tmp_path, "p", cache_size=SMALL_BUDGET) as w:
        d = w.dict(batch(0))
        w.root()["d"] = d
        w.commit()
        with pagefs.Store(tmp_path, "p", read_only=True, cache_size=SMALL_BUDGET) as r:
            rd = r.root()["d"]
            check(rd, batch(0))
            d.clear()
            d.update(batch(1))
            w.commit()
            r.refresh()
            check(rd, batch(1), batch(0))
            d.update(batch(2))  # splits only
            w.commit()
            r.refresh()
            check(rd, {**batch(1), **batch(2)})


def test_a_reopened_store_sees_what_another_process_changed(tmp_path):
    with pagefs.Store(tmp_path, "p", cache_size=SMALL_BUDGET) as s:
        s.root()["d"] = s.dict(batch(0))
        check(s.root()["d"], batch(0))
    run_python(
        """
        import sys, pagefs
        with pagefs.Store(sys.argv[1], "p") as s:
            d = s.root()["d"]
            d.clear()
            d.update({f"b1-{i}": i for i in range(int(sys.argv[2]))})
        """,
        str(tmp_path),
        str(N),
    )
    with pagefs.Store(tmp_path, "p", cache_size=SMALL_BUDGET) as s:
        check(s.root()["d"], batch(1), batch(0))


def test_a_forked_child_reads_its_parents_later_commit(tmp_path):
    proc = run_python(
        """
        import os, sys, pagefs
        root, n = sys.argv[1], int(sys.argv[2])
        b0 = {f"b0-{i}": i for i in range(n)}
        b1 = {f"b1-{i}": i for i in range(n)}
        s = pagefs.Store(root, "p", cache_size="1M")
        d = s.dict(b0)
        s.root()["d"] = d
        s.commit()
        assert all(d[k] == v for k, v in b0.items())  # the parent's copy is filled
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.read(r, 1)  # the parent has committed its new index
            try:
                d["b0-0"]
                os._exit(3)
            except pagefs.ClosedError:
                pass
            with pagefs.Store(root, "p", read_only=True) as again:
                c = again.root()["d"]
                ok = all(c[k] == v for k, v in b1.items()) and not any(k in c for k in b0)
            os._exit(0 if ok else 4)
        d.clear()
        d.update(b1)
        s.commit()
        os.write(w, b"x")
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        s.close()
        """,
        str(tmp_path),
        str(N),
    )
    assert proc.stdout.strip() == "0"
