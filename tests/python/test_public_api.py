"""The package as a user meets it: what `from pagefs import *` brings and
what dir() shows of a list."""

from __future__ import annotations

import builtins
import subprocess
import sys

import pytest

import pagefs


def test_import_star_shadows_no_builtin():
    namespace: dict = {}
    exec("from pagefs import *", namespace)
    assert namespace["__builtins__"] is not None
    for name in ("list", "dict", "set", "tuple"):
        assert name not in namespace, f"from pagefs import * replaced {name}"
    assert not set(pagefs.__all__) & set(dir(builtins))


def test_pagefs_list_still_makes_a_list(store, default_store):
    lst = pagefs.list([1, 2])
    assert isinstance(lst, pagefs.List) and lst == [1, 2]
    assert "list" not in pagefs.__all__ and callable(pagefs.list)


def test_the_lowercase_names_are_the_types_as_the_builtins_are(store, default_store):
    # As with dict: isinstance, type() and the class methods work on them.
    for name, cls in (("list", pagefs.List), ("dict", pagefs.Dict), ("set", pagefs.Set),
                      ("tuple", pagefs.Tuple)):
        assert getattr(pagefs, name) is cls, name
    d = pagefs.dict.fromkeys("ab", 0)
    assert type(d) is pagefs.dict and d == {"a": 0, "b": 0}
    assert isinstance(pagefs.list([1]), pagefs.list)
    assert isinstance(pagefs.set([1]), pagefs.set)
    assert isinstance(pagefs.tuple([1]), pagefs.tuple)
    assert not isinstance([1], pagefs.list) and not isinstance({}, pagefs.dict)


def test_dir_of_a_list_shows_the_list_api_and_nothing_private(store):
    lst = store.list([1, 2, 3])
    names = dir(lst)
    assert names == sorted(names)
    assert not [n for n in names if n.startswith("_") and not n.endswith("__")]
    # Everything a list offers.
    assert set(dir([])) - set(names) == set()
    # Beyond list: the copy protocols, `[..] + lst`, and sort's run length.
    assert set(names) - set(dir([])) == {"__copy__", "__deepcopy__", "__radd__", "sort_run_length"}
    for name in names:
        getattr(lst, name)


def test_a_list_takes_no_attributes_of_its_own(store):
    lst = store.list()
    with pytest.raises(AttributeError):
        lst.note = "x"
    with pytest.raises(AttributeError):
        [].note = "x"


def test_a_store_without_a_remote_loads_no_http_or_tls_library(tmp_path):
    # libcurl and libcrypto (and the ~30 libraries behind them) are loaded
    # only when a store uses a remote: importing pagefs stays cheap.
    script = (
        "import pagefs\n"
        f"s = pagefs.Store({str(tmp_path)!r}, 'data')\n"
        "s.list([1, 2]); s.commit(); s.close()\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(sorted({n for n in ('libcurl', 'libcrypto', 'libssl', 'libkrb5') if n in maps}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
