"""Threads: the binding releases the GIL around engine work and never touches
Python objects without it; concurrent readers see consistent values."""

from __future__ import annotations

import threading


def test_reader_sees_consistent_values_while_another_thread_extends(store):
    lst = store.list()
    batches, batch = 40, 2500
    errors = []
    done = threading.Event()

    def writer():
        try:
            for b in range(batches):
                lst.extend(["v%d" % i for i in range(b * batch, (b + 1) * batch)])
        except Exception as exc:  # noqa: BLE001 -- reported by the test
            errors.append(exc)
        finally:
            done.set()

    def reader():
        last = 0
        try:
            while not done.is_set() or last < batches * batch:
                n = len(lst)
                assert n >= last, (n, last)
                assert n % batch == 0, n  # an extend is applied whole
                last = n
                if n:
                    for i in (0, n - 1, n // 2):
                        assert lst[i] == "v%d" % i
                    end = int(lst[-1][1:]) + 1  # the list may have grown since len()
                    assert end >= n and end % batch == 0, (end, n)
                if done.is_set() and n == batches * batch:
                    break
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(lst) == batches * batch
    assert lst[12345] == "v12345"


def test_concurrent_appends_from_many_threads_are_all_kept(store):
    lst = store.list()

    def work(k):
        for i in range(500):
            lst.append(k * 1000 + i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(lst) == sorted(k * 1000 + i for k in range(4) for i in range(500))


def test_handles_dropped_in_other_threads(store):
    keep = store.list([1])

    def churn():
        for _ in range(200):
            tmp = store.list(range(50))
            tmp.append(keep)
            del tmp

    threads = [threading.Thread(target=churn) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert keep == [1]


def test_a_strided_delete_is_seen_whole_or_not_at_all(store):
    """del lst[::2] is one engine operation under the list's lock: a reader in
    another thread sees every length halve at once, never a list half-way."""
    n = 1 << 13
    lst = store.list(range(n))
    lengths = set()
    errors = []
    done = threading.Event()

    def reader():
        try:
            while not done.is_set():
                lengths.add(len(lst))
        except Exception as exc:  # noqa: BLE001 -- reported by the test
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(3):
            for _ in range(13):
                del lst[::2]
            lst.extend(range(n - len(lst)))
    finally:
        done.set()
        t.join()
    assert not errors, errors
    assert lengths <= {n >> k for k in range(14)}, sorted(lengths - {n >> k for k in range(14)})[:5]
