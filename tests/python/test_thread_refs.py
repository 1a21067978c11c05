"""Threads racing on single slots: pop is one engine operation, and a list
read out of a slot (or a root name) that another thread overwrites at the
same moment is still a whole, valid list."""

from __future__ import annotations

import random
import sys
import threading
import time

import pytest


@pytest.fixture(autouse=True)
def fast_switching():
    """Switch threads often, so that the races have a chance to happen."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(*targets, timeout=120):
    errors = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 -- reported by the test
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guard(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


class Race:
    """A writer and readers that overlap: the writer starts once every reader
    runs and keeps writing until the readers have read enough."""

    def __init__(self, readers, min_rounds, min_reads):
        self.started = threading.Barrier(readers + 1)
        self.done = threading.Event()
        self.reads = 0
        self.min_rounds, self.min_reads = min_rounds, min_reads

    def writer(self, write):
        def run():
            try:
                self.started.wait(timeout=30)
                k = 0
                deadline = time.monotonic() + 60
                while k < self.min_rounds or (self.reads < self.min_reads and time.monotonic() < deadline):
                    k += 1
                    write(k)
            finally:
                self.done.set()

        return run

    def reader(self, read):
        def run():
            self.started.wait(timeout=30)
            while not self.done.is_set():
                read()
                self.reads += 1

        return run


def test_threads_popping_one_list_get_every_value_exactly_once(store):
    n = 20_000
    lst = store.list(range(n))
    taken = [[] for _ in range(4)]

    def popper(k, index):
        def run():
            while True:
                try:
                    taken[k].append(lst.pop(index))
                except IndexError as exc:
                    if str(exc) == "pop from empty list":
                        return
                    assert str(exc) == "pop index out of range"  # fewer left than -index
                    if len(lst) == 0:
                        return

        return run

    run_threads(popper(0, -1), popper(1, -1), popper(2, 0), popper(3, -3))
    assert sorted(v for part in taken for v in part) == list(range(n))
    assert len(lst) == 0


def test_popped_nested_lists_are_whole_when_threads_pop_them(store):
    outer = store.list()
    for k in range(300):
        outer.append(store.list([k] * 50))  # each held only by its slot
    got = []

    def popper():
        while True:
            try:
                nested = outer.pop()
            except IndexError:
                return
            got.append(list(nested))

    run_threads(popper, popper, popper)
    assert sorted(got) == [[k] * 50 for k in range(300)]


def test_reading_a_slot_while_another_thread_replaces_its_list(store):
    outer = store.list()
    outer.append(store.list([0] * 100))

    def write(k):
        outer[0] = store.list([k] * 100)  # the previous list loses its only reference
        # Reuse the pages just freed for something else than a list header.
        store.list(["filler"] * 50)

    def check(read):
        def run():
            nested = read()
            values = list(nested)
            assert len(values) == 100 and values == [values[0]] * 100, values[:3]
            assert len(nested) == 100

        return run

    race = Race(readers=4, min_rounds=500, min_reads=2000)
    run_threads(
        race.writer(write),
        race.reader(check(lambda: outer[0])),
        race.reader(check(lambda: outer[-1])),  # size, then Get
        race.reader(check(lambda: outer[0:1][0])),  # Scan
        race.reader(check(lambda: next(reversed(outer)))),  # ScanReverse
    )
    assert race.reads > 0


def test_reading_a_root_name_while_another_thread_rebinds_it(store):
    root = store.root()
    root["x"] = store.list(["0"] * 64)

    def write(k):
        root["x"] = store.list([str(k)] * 64)
        store.list(["filler"] * 50)

    def read():
        values = list(root["x"])
        assert len(values) == 64 and values == [values[0]] * 64, values[:3]

    race = Race(readers=2, min_rounds=500, min_reads=2000)
    run_threads(race.writer(write), race.reader(read), race.reader(read))
    assert race.reads > 0


def test_extending_from_a_list_whose_nested_lists_are_being_replaced(store):
    source = store.list()
    for _ in range(8):
        source.append(store.list([0] * 20))
    target = store.list()

    def write(k):
        source[k % 8] = store.list([k] * 20)

    def copy():
        target.extend(source)  # same store: references are copied as they are
        assert all(len(x) == 20 for x in target[-8:])
        del target[:]

    race = Race(readers=1, min_rounds=500, min_reads=1000)
    run_threads(race.writer(write), race.reader(copy))
    assert race.reads > 0


def test_slice_assignment_in_the_middle_is_one_change(store):
    lst = store.list(range(10))
    block = 100
    rounds = 300
    done = threading.Event()

    def writer():
        try:
            for k in range(rounds):
                lst[5:5] = ["b%d" % k] * block
        finally:
            done.set()

    def reader():
        while not done.is_set():
            n = len(lst)
            assert (n - 10) % block == 0, n  # never a part of a block
            chunk = lst[5 : 5 + block] if n > 10 else []
            assert len(set(chunk)) <= 1, chunk[:3]

    run_threads(writer, reader)
    expect = list(range(5))
    for k in reversed(range(rounds)):
        expect += ["b%d" % k] * block
    expect += list(range(5, 10))
    assert lst == expect


def test_slice_assignment_matches_list(store):
    rng = random.Random(3)
    lst = store.list(range(50))
    oracle = list(range(50))
    for k in range(200):
        a, b = sorted(rng.randrange(-5, len(oracle) + 5) for _ in range(2))
        values = ["v%d.%d" % (k, j) for j in range(rng.randrange(0, 40))]
        lst[a:b] = values
        oracle[a:b] = values
        assert len(lst) == len(oracle)
    assert lst == oracle
