"""pagefs.Tuple: immutable, hashable, equal to tuples, stored by value."""

from __future__ import annotations

import collections.abc

import pytest

import pagefs


def test_a_tuple_is_a_hashable_immutable_sequence_equal_to_tuple():
    t = pagefs.tuple([1, "a", (2, None)])
    assert t == (1, "a", (2, None)) and hash(t) == hash((1, "a", (2, None)))
    assert isinstance(t, pagefs.Tuple) and isinstance(t, collections.abc.Sequence)
    assert isinstance(t, collections.abc.Hashable)
    assert repr(t) == "(1, 'a', (2, None))"
    with pytest.raises(TypeError):
        t[0] = 2  # type: ignore[index]
    assert {t: 1}[(1, "a", (2, None))] == 1


def test_tuples_are_stored_in_lists_dicts_and_sets(store):
    lst = store.list([(1, 2), ()])
    assert lst[0] == (1, 2) and type(lst[0]) is pagefs.Tuple and lst[1] == ()
    big = tuple(range(3000))  # longer than a page: stored out of line
    lst.append(big)
    assert lst[2] == big
    lst.append(("s" * 5000, b"b" * 3000, (2**100, -0.0)))
    assert lst[3] == ("s" * 5000, b"b" * 3000, (2**100, -0.0))
    d = store.dict()
    d[("k", 1)] = ("v", [1][0])
    assert d[("k", 1.0)] == ("v", 1)
    s = store.set([(1, 2), (1.0, 2.0)])
    assert len(s) == 1 and (True, 2) in s
    inner = store.list([1])
    lst.append((inner, "x"))
    got = lst[4]
    got[0].append(2)
    assert inner == [1, 2]  # the tuple holds the list by reference
    with pytest.raises(TypeError, match="pagefs cannot store values of type 'object'"):
        lst.append((1, object()))
    assert len(lst) == 5


def test_tuples_survive_reopen(place):
    with place.open("t") as s:
        s.root()["t"] = (1, ("nested", b"x"), 2.5)
    with place.open("t") as s:
        assert s.root()["t"] == (1, ("nested", b"x"), 2.5)
