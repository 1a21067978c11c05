"""pagefs.List changed while it is iterated or sorted behaves as Python's list:
iter(lst) and reversed(lst) are index-based, and a change made inside
sort() raises ValueError and is undone. Python's list is the oracle."""

from __future__ import annotations

import operator
import random
import threading

import pytest

import pagefs


def iterate_changing(lst, change, backwards=False, limit=10_000):
    """The values a loop over lst yields while change(lst, step, value) runs
    in its body; stops after limit steps (a loop that appends forever)."""
    seen = []
    for step, value in enumerate(reversed(lst) if backwards else lst):
        seen.append(value)
        if step >= limit:
            break
        change(lst, step, value)
    return seen


def both(store, values, change, backwards=False):
    pl, ol = store.list(values), list(values)
    got = iterate_changing(pl, change, backwards)
    want = iterate_changing(ol, change, backwards)
    assert got == want
    assert list(pl) == ol
    return ol


def test_popping_inside_the_loop_leaves_two_of_five(store):
    pl = store.list(range(5))
    for _ in pl:
        pl.pop()
    assert list(pl) == [0, 1]
    assert both(store, range(5), lambda lst, step, v: lst.pop()) == [0, 1]


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda lst, step, v: lst.pop(), id="pop-last"),
        pytest.param(lambda lst, step, v: lst.pop(0), id="pop-first"),
        pytest.param(lambda lst, step, v: lst.append(v) if step < 300 else None, id="append"),
        pytest.param(lambda lst, step, v: lst.insert(0, -step), id="insert-front"),
        pytest.param(lambda lst, step, v: lst.insert(step + 2, "new"), id="insert-ahead"),
        pytest.param(lambda lst, step, v: lst.__delitem__(slice(0, 2)), id="del-front"),
        pytest.param(lambda lst, step, v: lst.__setitem__(-1, "last") if lst else None, id="set-last"),
        pytest.param(lambda lst, step, v: lst.__setitem__(slice(step + 1, step + 3), "abc"), id="slice-grow"),
        pytest.param(lambda lst, step, v: lst.clear() if step == 100 else None, id="clear"),
        pytest.param(lambda lst, step, v: lst.reverse() if step % 50 == 7 else None, id="reverse"),
        pytest.param(lambda lst, step, v: lst.extend(range(3)) if step < 20 else None, id="extend"),
        pytest.param(lambda lst, step, v: lst.sort() if step == 9 else None, id="sort"),
    ],
)
def test_changes_inside_the_loop_match_list(store, change, backwards):
    # 600 values: the iterator reads ahead in runs of up to a few hundred,
    # so changes land inside a run, at its edge and beyond it.
    both(store, list(range(600)), change, backwards)


def test_random_changes_inside_loops_match_list(store):
    rng = random.Random(12)
    for trial in range(40):
        n = rng.choice((0, 1, 5, 70, 300))
        values = [rng.randrange(1000) for _ in range(n)]
        plan = [(rng.random(), rng.randrange(-3, 8), rng.randrange(1000)) for _ in range(2000)]

        def change(lst, step, v, plan=plan):
            p, i, x = plan[step % len(plan)]
            if p < 0.6:
                return  # most steps change nothing: read-ahead gets used
            if p < 0.7 and lst:
                lst.pop(i % len(lst))
            elif p < 0.8 and step < 500:
                lst.insert(i, x)
            elif p < 0.9 and step < 500:
                lst.append(x)
            elif lst:
                lst[i % len(lst)] = x

        both(store, values, change, backwards=trial % 2 == 1)


def test_an_exhausted_iterator_stays_exhausted(store):
    pl, ol = store.list([1, 2]), [1, 2]
    for lst in (pl, ol):
        it = iter(lst)
        assert list(it) == [1, 2]
        lst.append(3)
        assert list(it) == []
        rit = reversed(lst)
        assert list(rit) == [3, 2, 1]
        lst.append(4)
        assert list(rit) == []


def test_a_reverse_iterator_past_a_shrunk_end_stops(store):
    for lst in (store.list(range(10)), list(range(10))):
        it = reversed(lst)
        assert next(it) == 9
        del lst[3:]
        assert list(it) == []  # index 8 is past the end: list stops at once


def test_length_hint_is_lists(store):
    pl, ol = store.list(range(10)), list(range(10))
    for lst in (pl, ol):
        it, rit = iter(lst), reversed(lst)
        next(it), next(it), next(rit)
    assert operator.length_hint(iter(pl)) == 10
    its = [iter(pl), iter(ol)]
    for it in its:
        next(it)
    pl.pop(), ol.pop()
    assert [operator.length_hint(it) for it in its] == [8, 8]


def test_iterating_a_nested_list_yields_live_handles(store):
    inner = store.list([1])
    outer = store.list([inner, inner])
    for x in outer:
        x.append(2)
    assert list(inner) == [1, 2, 2]


def test_iteration_beside_a_writing_thread_sees_whole_values(store):
    pl = store.list(range(2000))
    stop = threading.Event()

    def writer():
        k = 0
        while not stop.is_set():
            pl[k % 2000] = k % 2000  # the same value: each index always holds its own number
            k += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(5):
            assert list(pl) == list(range(2000))
            assert list(reversed(pl)) == list(range(1999, -1, -1))
    finally:
        stop.set()
        t.join()


def test_iterating_a_closed_store_raises(tmp_path):
    s = pagefs.Store(tmp_path, "closing")
    pl = s.list(range(100))
    it = iter(pl)
    next(it)
    s.close()
    with pytest.raises(pagefs.ClosedError):
        list(it)


# ------------------------------------------------------------------- sort


def sort_both(store, values, make_key, reverse=False):
    """Sorts a pagefs list and a list with the key make_key(lst) gives;
    the outcomes (error type and message) and the lists left must agree."""
    results = []
    for lst in (store.list(values), list(values)):
        try:
            lst.sort(key=make_key(lst), reverse=reverse)
            results.append(("ok", list(lst)))
        except Exception as exc:  # noqa: BLE001 -- the error is what is compared
            results.append((type(exc), str(exc), list(lst)))
    assert results[0] == results[1]
    return results[1]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda lst: lst.append(0), id="append"),
        pytest.param(lambda lst: lst.insert(0, 9), id="insert"),
        pytest.param(lambda lst: lst.extend([5, 6]), id="extend"),
    ],
)
def test_changing_a_list_inside_its_sort_key_raises_and_is_undone(store, mutate, reverse):
    def make_key(lst):
        calls = []

        def key(v):
            if len(calls) == 2:
                mutate(lst)
            calls.append(v)
            return -v

        return key

    outcome = sort_both(store, [3, 1, 2, 5, 4], make_key, reverse)
    assert outcome[0] is ValueError and outcome[1] == "list modified during sort"
    assert outcome[2] == sorted([3, 1, 2, 5, 4], key=lambda v: -v, reverse=reverse)


def test_a_key_that_changes_the_list_and_raises_leaves_it_as_it_was(store):
    def make_key(lst):
        def key(v):
            if v == 2:
                lst.append(99)
                raise KeyError("boom")
            return v

        return key

    outcome = sort_both(store, [3, 1, 2, 5], make_key)
    assert outcome == (KeyError, "'boom'", [3, 1, 2, 5])


def test_a_comparison_that_changes_the_list_raises_value_error(store):
    for lst in (store.list([4, 2, 3, 1]), [4, 2, 3, 1]):
        done = []

        class Key:
            def __init__(self, v):
                self.v = v

            def __lt__(self, other, lst=lst):
                if not done:
                    lst.append(0)
                    done.append(1)
                return self.v < other.v

        with pytest.raises(ValueError, match="^list modified during sort$"):
            lst.sort(key=Key)
        assert list(lst) == [1, 2, 3, 4]


def test_a_sort_that_changes_nothing_raises_nothing(store):
    pl = store.list([3, 1, 2])
    pl.sort(key=lambda v: (len(pl), v))  # reading the list is no change
    assert list(pl) == [1, 2, 3]


def test_changing_a_large_list_inside_its_external_sort_raises(store, monkeypatch):
    monkeypatch.setattr(pagefs.List, "sort_run_length", 50)
    values = list(range(300, 0, -1))
    pl = store.list(values)
    changed = []

    def key(v):
        if not changed:
            pl.append(-1)
            changed.append(v)
        return v

    with pytest.raises(ValueError, match="^list modified during sort$"):
        pl.sort(key=key)
    assert list(pl) == sorted(values)
