"""Every storable value comes back as it went in (bit-exact floats, ints of any
size, any str), unsupported values are refused and nothing is written."""

from __future__ import annotations

import math
import struct

import pytest

import pagefs
from conftest import MOUNT_MODE

ROUND_TRIP = [
    None,
    True,
    False,
    0,
    1,
    -1,
    -16,
    -17,
    111,
    112,
    127,
    128,
    -128,
    -129,
    255,
    256,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    10**100,
    -(10**100),
    2**1000 + 12345,
    -(2**4000) + 1,
    0.0,
    -0.0,
    1.5,
    float("inf"),
    float("-inf"),
    5e-324,
    1.7976931348623157e308,
    "",
    "a",
    "a\x00b",
    "\x00" * 10,
    "\ud800",
    "x\udfffy",
    "😀 émoji ünïcödé",
    "x" * 63,
    "x" * 64,
    "y" * 5000,
    "z" * 100_000,
    "é" * 40_000,
    b"",
    b"\x00\xff",
    bytes(range(256)) * 50,
]


def same_value(a, b):
    if isinstance(a, float):
        return type(b) is float and struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: repr(v)[:30])
def test_value_round_trips_through_list_and_root(store, value):
    pl = store.list([value])
    pl.append(value)
    pl.extend(iter([value]))
    assert len(pl) == 3
    for got in (pl[0], pl[1], pl[-1], list(pl)[2], pl.pop()):
        assert same_value(value, got), (value, got)
    store.root()["v"] = value
    assert same_value(value, store.root()["v"])


def test_nan_keeps_its_bits(store):
    quiet = float("nan")
    payload = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_1234))[0]
    pl = store.list([quiet, payload, -quiet])
    for want, got in zip([quiet, payload, -quiet], pl):
        assert math.isnan(got)
        assert struct.pack("<d", want) == struct.pack("<d", got)


def test_subclasses_are_stored_as_their_base_type(store):
    class MyInt(int):
        pass

    class MyStr(str):
        pass

    pl = store.list([MyInt(5), MyStr("s")])
    assert type(pl[0]) is int and pl[0] == 5
    assert type(pl[1]) is str and pl[1] == "s"


def test_nested_lists_round_trip_as_handles(store):
    inner = store.list([1, "two", 3.0])
    outer = store.list([inner, None])
    outer.append(store.list([outer]))  # a cycle is allowed
    got = outer[0]
    assert isinstance(got, pagefs.List)
    assert got == [1, "two", 3.0]
    assert got._id == inner._id
    got.append(4)
    assert inner[-1] == 4  # same persistent list
    assert outer[2][0][0] == inner
    outer.pop()


@pytest.mark.parametrize(
    "bad, name",
    [({}, "dict"), ([1], "list"), ((1, object()), "object"), ({1}, "set"), (bytearray(b"x"), "bytearray"), (object(), "object"), (1j, "complex")],
)
def test_unsupported_values_are_refused_and_nothing_is_written(store, bad, name):
    pl = store.list([1, 2])
    for action in (
        lambda: pl.append(bad),
        lambda: pl.extend([3, 4, bad]),
        lambda: pl.extend((3, bad)),
        lambda: pl.insert(0, bad),
        lambda: pl.__setitem__(0, bad),
        lambda: pl.__setitem__(slice(0, 1), [5, bad]),
        lambda: pl.__setitem__(slice(None, None, 2), [bad]),
        lambda: store.root().__setitem__("x", bad),
    ):
        with pytest.raises(TypeError, match=f"pagefs cannot store values of type '{name}'"):
            action()
        assert list(pl) == [1, 2]
    assert "x" not in store.root()


@pytest.mark.parametrize("n", [5, 200_000])  # one batch, and several (staged in a scratch list)
def test_extend_of_a_generator_is_all_or_nothing(store, n):
    pl = store.list([-1])
    pages = store.stats()["pages"]

    def gen():
        yield from range(n)
        yield object()

    with pytest.raises(TypeError, match="type 'object'"):
        pl.extend(gen())
    assert list(pl) == [-1]
    with pytest.raises(TypeError):
        pl += gen()
    assert list(pl) == [-1]
    with pytest.raises(TypeError):
        store.list(gen())

    def failing():
        yield from range(n)
        raise RuntimeError("the iterator failed")

    with pytest.raises(RuntimeError):
        pl.extend(failing())
    with pytest.raises(TypeError):
        pl[0:1] = gen()
    assert list(pl) == [-1]
    store.commit()
    if not MOUNT_MODE:  # through a mount, pages counts ids the daemon handed out
        assert store.stats()["pages"] <= pages + 1, "the staged values were not freed"
    pl.extend(x for x in range(n))  # and a good one goes in whole
    assert len(pl) == n + 1 and pl[-1] == n - 1


def test_list_of_another_store_is_refused(tmp_path, store):
    with pagefs.Store(tmp_path, "other") as other:
        foreign = other.list([1])
        pl = store.list()
        with pytest.raises(ValueError, match="another store|of store"):
            pl.append(foreign)
        with pytest.raises(ValueError):
            store.root()["f"] = foreign
        assert len(pl) == 0
        # extend from another store's list copies values
        pl.extend(foreign)
        assert list(pl) == [1]
