"""pagefs.Dict and pagefs.Set against Python's dict and set as the oracle:
long seeded-random sequences of every operation, results and errors (type
and message) compared, with commits and reopens in between, under a 1 MiB
budget (so pages are evicted)."""

from __future__ import annotations

import random

import pytest

import pagefs
from conftest import SMALL_BUDGET


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 -- the error is what is compared
        return ("error", type(exc), str(exc))


def plain(v):
    if isinstance(v, pagefs.Dict):
        return dict(v.items())
    if isinstance(v, pagefs.Set):
        return set(v)
    if isinstance(v, pagefs.List):
        return list(v)
    return v


def same(p, o, fn, what):
    got, want = outcome(lambda: fn(p)), outcome(lambda: fn(o))
    if got[0] == want[0] == "ok":
        g = o if got[1] is p else plain(got[1])
        assert g == want[1], what
    else:
        assert got == want, what


def rand_key(rng: random.Random):
    k = rng.random()
    n = rng.randrange(60)
    if k < 0.35:
        return n
    if k < 0.45:
        return float(n)  # equal to the int n: one key
    if k < 0.5:
        return rng.choice((True, False, 0.5, -0.0, 2**70, -(2**70), None, b"k", float(2**70)))
    if k < 0.9:
        return "k%d" % n + "x" * rng.choice((0, 0, 0, 80, 1500))  # some keys are blobs
    return (n % 5, "t" + str(n % 3))


def rand_value(rng: random.Random):
    k = rng.random()
    if k < 0.5:
        return rng.randrange(-20, 1000)
    if k < 0.8:
        return "v" * rng.choice((1, 10, 2000))
    if k < 0.9:
        return (1, ("nested", None), b"x")
    return rng.choice((None, 1.5, -0.0, 2**90))


def dict_step(rng, p, o, what):
    k = rng.random()
    key = rand_key(rng)
    if k < 0.3:
        value = rand_value(rng)
        same(p, o, lambda d: d.__setitem__(key, value), what)
    elif k < 0.4:
        same(p, o, lambda d: d[key], what)
    elif k < 0.5:
        same(p, o, lambda d: d.get(key, "dflt"), what)
    elif k < 0.58:
        with_default = rng.random() < 0.5
        same(p, o, lambda d: d.pop(key, "gone") if with_default else d.pop(key), what)
    elif k < 0.63:
        same(p, o, lambda d: d.popitem(), what)
    elif k < 0.7:
        value = rand_value(rng)
        same(p, o, lambda d: d.setdefault(key, value), what)
    elif k < 0.78:
        pairs = [(rand_key(rng), rand_value(rng)) for _ in range(rng.randrange(6))]
        same(p, o, lambda d: d.update(pairs), what)
    elif k < 0.8:
        same(p, o, lambda d: d.update({"kw": 1}, other=2), what)
    elif k < 0.85:
        same(p, o, lambda d: d.__delitem__(key), what)
    elif k < 0.9:
        same(p, o, lambda d: key in d, what)
    elif k < 0.93:
        same(p, o, lambda d: d.__setitem__([key], 1), what)  # unhashable key
    elif k < 0.95:
        same(p, o, lambda d: len(d), what)
    elif k < 0.96:
        same(p, o, lambda d: d.clear() if len(d) > 150 else None, what)
    else:
        same(p, o, lambda d: d.__ior__({key: 5}), what)


def check_dict(p, o, what):
    assert len(p) == len(o), what
    assert list(p) == list(o), what
    assert list(p.items()) == list(o.items()), what
    assert list(reversed(p.values())) == list(reversed(o.values())), what
    assert p == o, what
    assert p._verify()["live"] == len(o), what


@pytest.mark.parametrize("seed", [1, 2])
def test_dict_matches_dict_over_random_operations_with_reopens(place, seed):
    rng = random.Random(seed)
    oracle: dict = {}
    s = place.open("d", cache_size=SMALL_BUDGET)
    s.root()["d"] = s.dict()
    for round_ in range(4):
        d = s.root()["d"]
        check_dict(d, oracle, f"seed {seed} reopened before round {round_}")
        for step in range(1500):
            dict_step(rng, d, oracle, f"seed {seed} round {round_} step {step}")
        check_dict(d, oracle, f"seed {seed} round {round_} end")
        del d
        if round_ % 2:
            s.commit()
        s.close()
        s = place.open("d", cache_size=SMALL_BUDGET)
    s.close()


def test_dict_matches_dict_when_the_index_grows_and_shrinks_by_pages(tmp_path):
    """Enough keys that buckets split (and merge back as they go), the log
    is compacted, and the dict is larger than the 1 MiB budget."""
    rng = random.Random(7)
    oracle: dict = {}
    s = pagefs.Store(tmp_path, "big", cache_size=SMALL_BUDGET)
    s.root()["d"] = s.dict()
    for round_ in range(3):
        d = s.root()["d"]
        grow = round_ < 2
        for step in range(12000):
            key = f"key-{rng.randrange(40000)}"
            r = rng.random()
            if r < (0.7 if grow else 0.2):
                d[key] = oracle[key] = step
            elif r < 0.9:
                assert d.pop(key, None) == oracle.pop(key, None)
            elif oracle:
                assert d.popitem() == oracle.popitem()
        assert len(d) == len(oracle)
        shape = d._verify()
        assert shape["live"] == len(oracle)
        if round_ == 1:
            assert shape["buckets"] > 8, shape
        assert list(d.items()) == list(oracle.items())
        del d
        s.close()
        s = pagefs.Store(tmp_path, "big", cache_size=SMALL_BUDGET)
    s.close()


def set_step(rng, p, o, what):
    k = rng.random()
    key = rand_key(rng)
    others = [rand_key(rng) for _ in range(rng.randrange(5))]
    if k < 0.3:
        same(p, o, lambda x: x.add(key), what)
    elif k < 0.4:
        same(p, o, lambda x: x.discard(key), what)
    elif k < 0.48:
        same(p, o, lambda x: x.remove(key), what)
    elif k < 0.55:
        same(p, o, lambda x: key in x, what)
    elif k < 0.6:
        if len(o) > 0:
            # Which member pop takes differs (a set's order is arbitrary): take
            # pagefs's and remove the same from the oracle.
            got = p.pop()
            o.remove(got)
        else:
            same(p, o, lambda x: x.pop(), what)
    elif k < 0.66:
        same(p, o, lambda x: x.update(others, [key]), what)
    elif k < 0.7:
        same(p, o, lambda x: x.difference_update(others), what)
    elif k < 0.73:
        keep = others + [rand_key(rng) for _ in range(40)]
        same(p, o, lambda x: x.intersection_update(keep), what)
    elif k < 0.77:
        same(p, o, lambda x: x.symmetric_difference_update(others), what)
    elif k < 0.8:
        same(p, o, lambda x: x | set(others), what)
    elif k < 0.83:
        same(p, o, lambda x: frozenset(others) & x, what)
    elif k < 0.86:
        same(p, o, lambda x: x - set(others), what)
    elif k < 0.88:
        same(p, o, lambda x: x ^ frozenset(others), what)
    elif k < 0.9:
        same(p, o, lambda x: (x <= set(others), x >= set(others), x < set(o), x.isdisjoint(others)), what)
    elif k < 0.92:
        same(p, o, lambda x: x.add({key}), what)  # unhashable
    elif k < 0.94:
        same(p, o, lambda x: x.union(others, [1]), what)
    elif k < 0.96:
        same(p, o, lambda x: x.__ior__(others), what)  # not a set: NotImplemented from both
    else:
        same(p, o, lambda x: x.clear() if len(x) > 120 else len(x), what)


@pytest.mark.parametrize("seed", [3, 4])
def test_set_matches_set_over_random_operations_with_reopens(tmp_path, seed):
    rng = random.Random(seed)
    oracle: set = set()
    s = pagefs.Store(tmp_path, "s", cache_size=SMALL_BUDGET)
    s.root()["s"] = s.set()
    for round_ in range(4):
        x = s.root()["s"]
        assert x == oracle and len(x) == len(oracle)
        for step in range(1500):
            set_step(rng, x, oracle, f"seed {seed} round {round_} step {step}")
        assert x == oracle and set(x) == oracle
        assert x._verify()["live"] == len(oracle)
        del x
        s.close()
        s = pagefs.Store(tmp_path, "s", cache_size=SMALL_BUDGET)
    s.close()
