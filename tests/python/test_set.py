"""pagefs.Set: every method and operator with set, frozenset and pagefs sets
on either side, CPython's errors, and persistence."""

from __future__ import annotations

import collections.abc

import pytest

import pagefs


def test_constructed_like_set(default_store):
    s = pagefs.Set([3, 1, 3])
    assert s == {1, 3} and len(s) == 2
    assert pagefs.set() == set() and pagefs.set("ab") == {"a", "b"}
    assert isinstance(s, collections.abc.MutableSet)
    with pytest.raises(TypeError, match="set expected at most 1 argument, got 2"):
        pagefs.Set([], [])
    with pytest.raises(TypeError, match="'int' object is not iterable"):
        pagefs.Set(5)


def test_methods_match_set(store):
    p, o = store.set([1, 2, 3]), {1, 2, 3}
    for x in (p, o):
        x.add(4)
        x.discard(99)
        x.remove(1)
        x.update([5], (6,))
        x.difference_update([6])
        x.symmetric_difference_update([2, 7, 7])
    assert p == o
    for x in (p, o):
        x.intersection_update([3, 4, 5, 7, 8], range(10))
    assert p == o == {3, 4, 5, 7}
    assert p.union([9]) == o.union([9]) and type(p.union()) is set
    assert p.intersection({3, 4}, [4]) == {4}
    assert p.difference([3]) == o.difference([3])
    assert p.symmetric_difference([3, 10]) == o.symmetric_difference([3, 10])
    assert p.isdisjoint([1, 2]) and not p.isdisjoint([3])
    assert p.issubset(range(10)) and not p.issubset([3])
    assert p.issuperset([3, 4]) and not p.issuperset([1])
    c = p.copy()
    c.add(100)
    assert 100 not in p and isinstance(c, pagefs.Set)
    assert repr(store.set()) == "set()" and repr(store.set([1])) == "{1}"
    popped = {p.pop() for _ in range(len(p))}
    assert popped == o and len(p) == 0


def test_operators_with_set_frozenset_and_pagefs_sets_on_either_side(store):
    p, q = store.set([1, 2, 3]), store.set([3, 4])
    for other in ({3, 4}, frozenset({3, 4}), q):
        assert p | other == {1, 2, 3, 4} and other | p == {1, 2, 3, 4}
        assert p & other == {3} and other & p == {3}
        assert p - other == {1, 2} and other - p == {4}
        assert p ^ other == {1, 2, 4} and other ^ p == {1, 2, 4}
        assert not p <= other and not p >= other and p != other
    assert p == {1, 2, 3} and p == frozenset({1, 2, 3}) and {1, 2, 3} == p
    assert store.set([1]) < p and p > {1} and p >= p and p <= {1, 2, 3}
    assert p != [1, 2, 3]
    with pytest.raises(TypeError, match="unsupported operand type"):
        p | [1]
    with pytest.raises(TypeError, match="'<=' not supported between instances of 'Set' and 'list'"):
        p <= [1]
    r = store.set([1, 2])
    r |= {5}
    r &= frozenset({1, 5})
    r -= q
    r ^= {1, 9}
    assert r == {5, 9} and isinstance(r, pagefs.Set)
    with pytest.raises(TypeError, match="unsupported operand type"):
        r |= [1]
    r -= r
    assert r == set()


def test_errors_have_sets_types_and_messages(store):
    s = store.set()
    with pytest.raises(KeyError, match="pop from an empty set"):
        s.pop()
    with pytest.raises(KeyError) as e:
        s.remove((1, 2))
    assert e.value.args == ((1, 2),)
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        s.add([])
    with pytest.raises(TypeError, match=r"^unhashable type: 'set'$"):
        s.add({1})
    # Lookups take a set for the frozenset of its members, as set's do.
    assert set() not in s and {1} not in s
    s.discard({1})
    with pytest.raises(KeyError) as e:
        s.remove({1})
    assert e.value.args == ({1},)
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        s.update([1, [2]])
    assert s == {1}  # what came before the refused member stays, as set.update leaves it
    with pytest.raises(TypeError, match="pagefs cannot store values of type 'frozenset'"):
        s.add(frozenset())
    assert frozenset() not in s
    s.discard(frozenset())
    with pytest.raises(RuntimeError, match="Set changed size during iteration"):
        for x in s:
            s.add(x + 1)


def test_members_survive_reopen_in_insertion_order(place):
    with place.open("s") as st:
        st.root()["seen"] = st.set(f"m{i}" for i in range(5000))
    with place.open("s", cache_size="1M") as st:
        seen = st.root()["seen"]
        assert len(seen) == 5000 and "m4999" in seen and "m5000" not in seen
        assert next(iter(seen)) == "m0" and seen.pop() == "m4999"


def test_compares_with_dicts_key_and_item_views(store):
    s = store.set([1, 2])
    keys = {1: 0, 2: 0}.keys()
    assert s == keys and keys == s and not s != keys
    assert s <= keys and not s < keys and s >= {1: 0}.keys() and s > {1: 0}.keys()
    assert store.set([(1, 0)]) == {1: 0}.items()
