"""pagefs.Dict: a persistent dict that behaves like Python's ``dict``.

The single-key operations (``d[k]``, ``get``, ``in``, ``len``, ``d[k] = v``,
``del d[k]``, ``setdefault``, ``popitem``, ``clear``) are C++
(pagefs._core.Dict over the engine's hash table). This module adds the rest
of ``dict``: construction, ``update``, ``pop``, iteration and the views,
``|``, ``|=``, ``fromkeys``, ``copy``, equality and ``repr``.

Choices where a persistent dict cannot simply be a ``dict``:

* Keys are None, bool, int, float, str, bytes and tuples of these; ``1``,
  ``1.0`` and ``True`` are one key, as in a dict. Their hash is pagefs's
  stable hash, not Python's (which is randomized per process for str).
* ``d | other`` and ``other | d`` return plain (in-memory) dicts, as
  ``lst + x`` returns a list; ``|=`` and ``update`` stay persistent.
  ``copy()`` returns a new pagefs dict in the same store.
* Python's dict compares values by identity before equality; values read
  back are new objects, so a nan value compares unequal.
"""

from __future__ import annotations

import copy
import itertools
import threading
import types
from collections.abc import ItemsView, KeysView, MutableMapping, ValuesView
from typing import Any, Iterable, Iterator

from . import _core

_CHUNK = 256
_FIRST_CHUNK = 16
_END = (1 << 64) - 1  # an entry number past every log
_KEYS, _VALUES, _ITEMS = 0, 1, 2
_MISSING = object()
_repr_guard = threading.local()


def _default_core() -> "_core.Store":
    from ._store import get_store

    return get_store()._core


def _entries(d: Any, part: int, what: str, backwards: bool = False) -> Iterator[Any]:
    """Entries of a pagefs dict or set in insertion order (or reversed), read
    in chunks. Raises RuntimeError as dict's iterators do when the collection
    changes size (or its entry numbers change, by a compaction) under the
    loop, and when a forward dict loop finds more entries than the dict held
    when it began ("keys changed": keys replaced without a change of size);
    when it changed otherwise (a value set), reads on afresh from the entry
    after the last one yielded, by its number, so every value seen is current.
    A generator, not a class: resuming one costs less than a call of
    __next__, and this is every step of a loop over a dict."""
    generation, size, version = d._state()
    scan = d._scan_reversed if backwards else d._scan
    limited = what == "dictionary" and not backwards
    left = size  # entries a forward dict loop may yield
    pos = _END if backwards else 0
    chunk_size = _FIRST_CHUNK
    while True:
        chunk, nxt, numbers = scan(pos, chunk_size, part)
        if not chunk:
            return
        for k, item in enumerate(chunk):
            if limited:
                if left == 0:
                    raise RuntimeError("dictionary keys changed during iteration")
                left -= 1
            yield item
            g, n, v = d._state()
            if n != size:
                raise RuntimeError(f"{what} changed size during iteration")
            if g != generation:
                raise RuntimeError(f"{what} keys changed during iteration")
            if v != version:
                version = v
                # Entries before the next one may have been deleted: go on by number.
                nxt = numbers[k] if backwards else numbers[k] + 1
                chunk_size = 1  # the loop writes: read little ahead
                break
        else:
            chunk_size = min(_CHUNK, chunk_size * 2)
        pos = nxt


class _Keys(KeysView):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return _entries(self._mapping, _KEYS, "dictionary")

    def __reversed__(self) -> Iterator[Any]:
        return _entries(self._mapping, _KEYS, "dictionary", backwards=True)

    @property
    def mapping(self) -> types.MappingProxyType:
        return types.MappingProxyType(self._mapping)

    def __repr__(self) -> str:
        return f"dict_keys({list(self)!r})"


class _Values(ValuesView):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return _entries(self._mapping, _VALUES, "dictionary")

    def __reversed__(self) -> Iterator[Any]:
        return _entries(self._mapping, _VALUES, "dictionary", backwards=True)

    @property
    def mapping(self) -> types.MappingProxyType:
        return types.MappingProxyType(self._mapping)

    def __repr__(self) -> str:
        return f"dict_values({list(self)!r})"


class _Items(ItemsView):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return _entries(self._mapping, _ITEMS, "dictionary")

    def __reversed__(self) -> Iterator[Any]:
        return _entries(self._mapping, _ITEMS, "dictionary", backwards=True)

    def __contains__(self, item: Any) -> bool:
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        key, value = item
        found = self._mapping.get(key, _MISSING)
        return found is not _MISSING and (found is value or found == value)

    @property
    def mapping(self) -> types.MappingProxyType:
        return types.MappingProxyType(self._mapping)

    def __repr__(self) -> str:
        return f"dict_items({list(self)!r})"


class Dict(_core.Dict):
    """A persistent dict: ``pagefs.Dict(mapping_or_pairs, **kw)`` in the
    default store, ``Store.dict(...)`` in another; behaves like ``dict``."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], _core.Store):
            super().__init__(*args)  # Dict(store, id[, adopted]): a handle on a stored dict
            return
        if len(args) > 1:
            raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
        core = _default_core()
        super().__init__(core, _core.Dict._create(core))
        self.update(*args, **kwargs)

    @classmethod
    def _new(cls, store: "_core.Store") -> "Dict":
        return cls(store, _core.Dict._create(store))

    def _key(self) -> tuple:
        return (self._store_key, self._id)

    # ------------------------------------------------------------- reading
    def __iter__(self) -> Iterator[Any]:
        return _entries(self, _KEYS, "dictionary")

    def __reversed__(self) -> Iterator[Any]:
        return _entries(self, _KEYS, "dictionary", backwards=True)

    def keys(self) -> _Keys:
        """A set-like object providing a view on the dict's keys."""
        return _Keys(self)

    def values(self) -> _Values:
        """An object providing a view on the dict's values."""
        return _Values(self)

    def items(self) -> _Items:
        """A set-like object providing a view on the dict's items."""
        return _Items(self)

    # ------------------------------------------------------------- writing
    def pop(self, key: Any, *default: Any) -> Any:
        """D.pop(k[,d]) -> v, remove specified key and return the corresponding value.

        If the key is not found, return the default if given; otherwise,
        raise a KeyError."""
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        found, value = self._pop(key)
        if found:
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """D.update([E, ]**F) -> None.  Update D from mapping/iterable E and F."""
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 argument, got {len(args)}")
        if args:
            other = args[0]
            if isinstance(other, (dict, Dict)):
                self._update_pairs(other.items())
            elif hasattr(other, "keys"):
                self._update_pairs((k, other[k]) for k in other.keys())
            else:
                self._update_pairs(other)
        if kwargs:
            self._update_pairs(kwargs.items())

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None) -> "Dict":
        """Create a new pagefs dict (in the default store) with keys from
        iterable and values set to value."""
        out = cls()
        out._update_pairs((k, value) for k in iterable)
        return out

    def copy(self) -> "Dict":
        """A new pagefs dict in the same store with the same items."""
        out = type(self)._new(self._store)
        out._update_pairs(self.items())
        return out

    def __copy__(self) -> "Dict":
        return self.copy()

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, (dict, Dict)):
            return NotImplemented
        out = dict(self.items())
        out.update(other.items())
        return out

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, (dict, Dict)):
            return NotImplemented
        out = dict(other.items())
        out.update(self.items())
        return out

    def __ior__(self, other: Any) -> "Dict":
        self.update(other)
        return self

    # ----------------------------------------------------------- comparing
    def __eq__(self, other: Any) -> Any:
        if not isinstance(other, (dict, Dict)):
            return NotImplemented
        if isinstance(other, Dict) and other._key() == self._key():
            return True
        if len(self) != len(other):
            return False
        for key, value in self.items():
            found = other.get(key, _MISSING)
            if found is _MISSING or not (found is value or found == value):
                return False
        return True

    def __ne__(self, other: Any) -> Any:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __repr__(self) -> str:
        active = getattr(_repr_guard, "keys", None)
        if active is None:
            active = _repr_guard.keys = set()
        key = self._key()
        if key in active:
            return "{...}"
        active.add(key)
        try:
            # starmap of a C method: no Python frame per item, so nesting
            # goes as deep as dict's.
            return "{" + ", ".join(itertools.starmap("{!r}: {!r}".format, self.items())) + "}"
        finally:
            active.discard(key)

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a pagefs dict: it lives in its store (use dict(d) for a copy)")

    def __deepcopy__(self, memo: dict) -> "Dict":
        """copy.deepcopy: a new pagefs dict in the same store whose values'
        pagefs collections are deep copies too (keys are immutable)."""
        out = memo.get(self._key())
        if out is None:
            out = memo[self._key()] = type(self)._new(self._store)
            out._update_pairs((k, copy.deepcopy(v, memo)) for k, v in self.items())
        return out

    __class_getitem__ = classmethod(types.GenericAlias)


MutableMapping.register(Dict)
