"""pagefs.Dict: construction, every method, views, errors with CPython's
types and messages, nesting and identity, lifetime, and threads."""

from __future__ import annotations

import collections.abc
import threading

import pytest

import pagefs
from conftest import MOUNT_MODE, run_python


def test_constructed_like_dict_in_the_default_store(default_store):
    d = pagefs.Dict([("a", 1), ("b", 2)], c=3)
    assert d == {"a": 1, "b": 2, "c": 3}
    assert pagefs.dict({"x": 1}) == {"x": 1}
    assert pagefs.dict(x=1) == {"x": 1}
    assert isinstance(d, pagefs.Dict)
    assert isinstance(d, collections.abc.MutableMapping)
    with pytest.raises(TypeError, match="dict expected at most 1 argument, got 2"):
        pagefs.Dict({}, {})
    with pytest.raises(TypeError, match="cannot convert dictionary update sequence element #0 to a sequence"):
        pagefs.dict([1])
    with pytest.raises(ValueError, match="dictionary update sequence element #1 has length 3; 2 is required"):
        pagefs.dict([(1, 2), (1, 2, 3)])


def test_every_read_and_write_matches_dict(store):
    d, o = store.dict(), {}
    for x in (d, o):
        x["a"] = 1
        x[1] = "one"
        x[(1, "t")] = b"tuple key"
        x[None] = None
        x.update([("u", 2)], v=3)
    assert d == o and list(d) == list(o)
    assert d["a"] == 1 and d.get("zz") is None and d.get("zz", 5) == 5
    assert d.setdefault("a", 9) == 1 and d.setdefault("new", 7) == 7
    o.setdefault("new", 7)
    assert d.pop("new") == 7 and o.pop("new") == 7
    assert d.pop("missing", "dflt") == "dflt"
    assert d.popitem() == o.popitem()
    assert list(d.keys()) == list(o.keys())
    assert list(d.values()) == list(o.values())
    assert list(d.items()) == list(o.items())
    assert list(reversed(d)) == list(reversed(o))
    assert list(reversed(d.items())) == list(reversed(o.items()))
    assert repr(d) == repr(o)
    assert repr(d.keys()) == repr(o.keys())
    assert repr(d.values()) == repr(o.values()) and repr(d.items()) == repr(o.items())
    del d["a"]
    del o["a"]
    assert d == o
    d.clear()
    assert len(d) == 0 and d == {} and repr(d) == "{}"


def test_equal_keys_are_one_key_and_the_first_key_stays(store):
    d = store.dict()
    d[1] = "int"
    d[1.0] = "float"
    d[True] = "bool"
    assert len(d) == 1 and list(d.items()) == [(1, "bool")]
    assert type(next(iter(d))) is int
    d[-0.0] = "zero"
    assert d[0] == "zero" and d[False] == "zero" and 0.0 in d
    d[2**70] = "big"
    assert d[float(2**70)] == "big"
    d[(1, "a")] = "t"
    assert d[(1.0, "a")] == "t" and d[pagefs.tuple((True, "a"))] == "t"


def test_errors_have_dicts_types_and_messages(store):
    d = store.dict({"a": 1})
    with pytest.raises(KeyError) as e:
        d["nope"]
    assert e.value.args == ("nope",)
    with pytest.raises(KeyError) as e:
        del d[("t", 1)]
    assert e.value.args == (("t", 1),)
    with pytest.raises(KeyError) as e:
        d.pop(5)
    assert e.value.args == (5,)
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        d[[1]] = 2
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        _ = [1] in d
    with pytest.raises(TypeError, match=r"^unhashable type: 'dict'$"):
        d.get({})
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        d[(1, [2])] = 3
    lst = store.list()
    with pytest.raises(TypeError, match=r"^unhashable type: 'List'$"):
        d[lst] = 1
    with pytest.raises(TypeError, match="unhashable type: 'Dict'"):
        d[d] = 1
    # Hashable but not storable: absent on lookup, refused on store, nothing written.
    assert frozenset() not in d and d.get(object()) is None
    with pytest.raises(KeyError):
        d[frozenset()]
    with pytest.raises(TypeError, match="pagefs cannot store values of type 'frozenset'"):
        d[frozenset()] = 1
    with pytest.raises(TypeError, match="pagefs cannot store values of type 'object'"):
        d["x"] = object()
    assert d == {"a": 1}
    d.clear()
    with pytest.raises(KeyError, match="popitem\\(\\): dictionary is empty"):
        d.popitem()
    with pytest.raises(TypeError, match="pop expected at most 2 arguments, got 3"):
        d.pop(1, 2, 3)
    with pytest.raises(TypeError, match="update expected at most 1 argument, got 2"):
        d.update({}, {})
    with pytest.raises(TypeError, match="'int' object is not iterable"):
        d.update(5)


def test_update_keeps_the_pairs_before_a_refused_one(store):
    d, o = store.dict(), {}

    def pairs():
        yield ("a", 1)
        yield ("b", 2)
        raise RuntimeError("boom")

    for x in (d, o):
        with pytest.raises(RuntimeError, match="boom"):
            x.update(pairs())
    assert d == o == {"a": 1, "b": 2}
    with pytest.raises(TypeError):
        d.update([("c", 3), ("d", object())])
    assert d == {"a": 1, "b": 2, "c": 3}


def test_changing_size_during_iteration_raises_runtime_error(store):
    d = store.dict((i, i) for i in range(10))
    with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
        for k in d:
            d[k + 100] = 1
    d2 = store.dict((i, i) for i in range(10))
    with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
        for k in d2.items():
            d2.pop(9 - k[0], None)
    # Setting values of existing keys is allowed, and the loop sees them.
    d3 = store.dict((i, 0) for i in range(300))
    seen = []
    for k in d3:
        seen.append(d3[k])
        if k + 1 < 300:
            d3[k + 1] = k + 1
    assert seen == list(range(300))
    values = []
    d4 = store.dict((i, 0) for i in range(50))
    for k, v in d4.items():
        values.append(v)
        if k + 1 < 50:
            d4[k + 1] = "changed"
    assert values == [0] + ["changed"] * 49


def test_a_loop_over_replaced_keys_fails_as_dicts_does(store):
    def run(d, body):
        seen = []
        try:
            for k in d:
                seen.append(k)
                body(d, k)
        except RuntimeError as e:
            return len(seen), str(e)  # which keys: where CPython's compaction moved them
        return len(seen), None

    def replace(d, k):  # same size, new keys: at most len(d) are yielded
        del d[k]
        d[k + 100] = 1

    def readd(d, k):
        if k == 1:
            d[k] = d.pop(k)

    for body in (replace, readd):
        assert run(store.dict((i, i) for i in range(5)), body) == run({i: i for i in range(5)}, body)


def test_deepcopy_copies_values_collections(store):
    import copy

    lst = store.list([1])
    d = store.dict({"a": lst, "b": lst, (1, 2): "t"})
    dup = copy.deepcopy(d)
    assert type(dup) is pagefs.Dict and dup == d and dup._key() != d._key()
    assert dup["a"]._key() == dup["b"]._key() != lst._key()
    s = store.set([1, "x"])
    assert copy.deepcopy(s) == s and copy.deepcopy(s)._key() != s._key()


def test_views_are_live_and_set_like(store):
    d = store.dict(a=1, b=2)
    keys, items, values = d.keys(), d.items(), d.values()
    d["c"] = 3
    assert len(keys) == 3 and "c" in keys and ("c", 3) in items and 3 in values
    assert ("c", 4) not in items and ["c", 3] not in items
    assert keys & {"a", "z"} == {"a"}
    assert keys | {"z"} == {"a", "b", "c", "z"}
    assert keys - {"a"} == {"b", "c"}
    assert items & {("a", 1), ("b", 9)} == {("a", 1)}
    assert keys == {"a", "b", "c"} and keys.isdisjoint({"q"})
    assert keys.mapping["a"] == 1 and items.mapping == {"a": 1, "b": 2, "c": 3}
    assert list(reversed(keys)) == ["c", "b", "a"]
    assert list(reversed(values)) == [3, 2, 1]


def test_or_ior_fromkeys_and_copy(store, default_store):
    d = store.dict(a=1)
    assert d | {"b": 2} == {"a": 1, "b": 2} and type(d | {}) is dict
    assert {"b": 2} | d == {"b": 2, "a": 1}
    assert d.__or__(5) is NotImplemented
    d |= {"b": 2}
    d |= [("c", 3)]
    assert d == {"a": 1, "b": 2, "c": 3}
    c = d.copy()
    c["z"] = 0
    assert isinstance(c, pagefs.Dict) and "z" not in d and c._store_key == d._store_key
    f = pagefs.Dict.fromkeys("abc", 0)
    assert f == dict.fromkeys("abc", 0) and isinstance(f, pagefs.Dict)
    assert pagefs.Dict.fromkeys([1, 2]) == {1: None, 2: None}


def test_equality_with_dicts_and_pagefs_dicts(store):
    d = store.dict(a=1, b=(1, 2))
    assert d == {"b": (1, 2), "a": 1}
    assert d != {"a": 1}
    assert d != {"a": 1, "b": (1, 3)}
    assert d == store.dict(b=(1, 2), a=1)
    assert d != [("a", 1)] and (d == 5) is False


def test_values_nest_any_collection_and_identity_holds_across_reopen(tmp_path):
    with pagefs.Store(tmp_path, "n") as s:
        inner_set = s.set([1, 2])
        inner_list = s.list(["x"])
        d = s.dict(members=inner_set, items=inner_list, t=(inner_list, 3))
        s.root()["d"] = d
        s.root()["same_set"] = inner_set
        inner = s.dict(deep=True)
        d["inner"] = inner
        inner["deeper"] = s.dict()
        del inner_set, inner_list, inner
    with pagefs.Store(tmp_path, "n") as s:
        d = s.root()["d"]
        assert isinstance(d["members"], pagefs.Set) and d["members"] == {1, 2}
        assert d["items"] == ["x"]
        t = d["t"]
        assert isinstance(t, pagefs.Tuple) and t[0] == ["x"] and t[1] == 3
        t[0].append("y")  # the tuple's list is the same list as d["items"]
        assert d["items"] == ["x", "y"]
        s.root()["same_set"].add(3)
        assert d["members"] == {1, 2, 3}
        assert d["inner"]["deep"] is True and d["inner"]["deeper"] == {}
        assert repr(d["inner"]) == "{'deep': True, 'deeper': {}}"


def test_unreferenced_dicts_are_freed_and_referenced_ones_kept(tmp_path):
    with pagefs.Store(tmp_path, "f") as s:
        before = s.stats()["pages"]
        d = s.dict((str(i), "x" * 100) for i in range(3000))
        assert s.stats()["pages"] > before + 50
        del d
        s.commit()
        if not MOUNT_MODE:  # through a mount, pages counts ids the daemon handed out
            assert s.stats()["pages"] <= before + 2
        kept = s.dict(a=1)
        s.root()["kept"] = kept
        nested = s.dict(b=2)
        kept["nested"] = nested
        del kept, nested
    with pagefs.Store(tmp_path, "f") as s:
        assert s.root()["kept"]["nested"] == {"b": 2}
        del s.root()["kept"]
        s.commit()
        if not MOUNT_MODE:
            assert s.stats()["pages"] <= before + 3


def test_a_dict_of_another_store_is_refused(tmp_path):
    with pagefs.Store(tmp_path, "a") as a, pagefs.Store(tmp_path, "b") as b:
        d = a.dict()
        with pytest.raises(ValueError, match="cannot store a pagefs dict of store"):
            b.root()["x"] = d
        with pytest.raises(ValueError, match="cannot store a pagefs set of store"):
            b.dict()["x"] = a.set()


def test_first_item_inserted_is_first_after_reopen_in_a_new_process(place):
    with place.open("p") as s:
        d = s.dict()
        d.update((f"key-{i}", i) for i in range(20000))
        s.root()["index"] = d
    out = run_python(
        """
        import collections.abc, json, sys, pagefs
        with pagefs.Store(sys.argv[1], "p", cache_size="1M", **json.loads(sys.argv[2])) as s:
            d = s.root()["index"]
            print(len(d), next(iter(d.items())), d["key-19999"], isinstance(d, collections.abc.MutableMapping))
        """,
        *place.argv(),
    )
    assert out.stdout.split("\n")[0] == "20000 ('key-0', 0) 19999 True"


def test_threads_on_one_dict_agree_with_a_model(store):
    d = store.dict()
    errors = []

    def work(t):
        try:
            for i in range(400):
                d[(t, i)] = i
            for i in range(0, 400, 2):
                assert d.pop((t, i)) == i
            assert all(d[(t, i)] == i for i in range(1, 400, 2))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(d) == 800 and d._verify()["live"] == 800


def test_the_fast_slots_give_the_methods_results_and_errors(tmp_path):
    s = pagefs.Store(tmp_path, "slots")
    d, st, lst = s.dict(a=1), s.set([1]), s.list([10, 20, 30])
    assert d["a"] == 1 and "a" in d and len(d) == 1 and 1 in st and len(st) == 1
    assert lst[0] == 10 and lst[-1] == 30 and lst[True] == 20 and lst[1:] == [20, 30] and len(lst) == 3
    with pytest.raises(IndexError, match="list index out of range"):
        lst[3]
    with pytest.raises(TypeError, match="list indices must be integers or slices, not str"):
        lst["x"]
    d[(1, 2)] = 3
    del d[(1, 2)]
    with pytest.raises(KeyError) as e:
        del d[(1, 2)]
    assert e.value.args == ((1, 2),)
    assert d.__getitem__("a") == 1 and type(d).__len__(d) == 1  # the bound methods still work

    class Shouting(pagefs.Dict):  # a subclass's own method wins over the slot
        def __getitem__(self, key):
            return super().__getitem__(key.lower())

    shout = Shouting(s._core, pagefs._core.Dict._create(s._core))
    shout["a"] = 5
    assert shout["A"] == 5
    s.close()
    for action in (lambda: d["a"], lambda: "a" in d, lambda: len(d), lambda: 1 in st, lambda: len(st),
                   lambda: lst[0], lambda: len(lst)):
        with pytest.raises(pagefs.ClosedError):
            action()
