"""pagefs.Set: a persistent set that behaves like Python's ``set``.

``add``, ``in``, ``len``, ``pop`` and ``clear`` are C++ (pagefs._core.Set
over the engine's hash table); this module adds the rest of ``set``.

Choices where a persistent set cannot simply be a ``set``:

* Members are None, bool, int, float, str, bytes and tuples of these;
  ``1``, ``1.0`` and ``True`` are one member. Iteration is in insertion
  order and ``pop()`` takes the member added last (a set's order is
  arbitrary; this one is kept across reopens).
* ``union``, ``intersection``, ``difference``, ``symmetric_difference`` and
  the operators ``| & - ^`` return plain (in-memory) sets; the ``*_update``
  methods and ``|= &= -= ^=`` stay persistent. ``copy()`` returns a new
  pagefs set in the same store.
"""

from __future__ import annotations

import types
from collections.abc import MutableSet
from typing import Any, Iterable, Iterator

from . import _core
from ._dict import _KEYS, _default_core, _entries


def _set_like(value: Any) -> bool:
    return isinstance(value, (set, frozenset, Set))


# What set comparisons accept besides sets: dict's keys and items views
# compare with sets (`{1} == {1: 0}.keys()`), from either side.
_DICT_SET_VIEWS = (type({}.keys()), type({}.items()))


def _comparable(value: Any) -> bool:
    return _set_like(value) or isinstance(value, _DICT_SET_VIEWS)


def _as_set(value: Any) -> Any:
    """value as something with fast membership (a set-like stays as it is)."""
    return value if _set_like(value) else set(value)


class Set(_core.Set):
    """A persistent set: ``pagefs.Set(iterable)`` in the default store,
    ``Store.set(...)`` in another; behaves like ``set``."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], _core.Store):
            super().__init__(*args)  # Set(store, id[, adopted]): a handle on a stored set
            return
        if len(args) > 1:
            raise TypeError(f"set expected at most 1 argument, got {len(args)}")
        core = _default_core()
        super().__init__(core, _core.Set._create(core))
        if args:
            self._update(args[0])

    @classmethod
    def _new(cls, store: "_core.Store") -> "Set":
        return cls(store, _core.Set._create(store))

    def _key(self) -> tuple:
        return (self._store_key, self._id)

    def __iter__(self) -> Iterator[Any]:
        return _entries(self, _KEYS, "Set")

    # ------------------------------------------------------------ changing
    def discard(self, element: Any) -> None:
        """Remove an element from a set if it is a member.

        Unlike set.remove(), the discard() method does not raise an exception
        when an element is missing from the set."""
        self._discard(element)

    def remove(self, element: Any) -> None:
        """Remove an element from a set; it must be a member.

        If the element is not a member, raise a KeyError."""
        if not self._discard(element):
            raise KeyError(element)

    def update(self, *others: Iterable[Any]) -> None:
        """Update the set, adding elements from all others."""
        for other in others:
            self._update(other)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        """Update the set, keeping only elements found in it and all others."""
        for other in others:
            if isinstance(other, Set) and other._key() == self._key():
                continue
            keep = _as_set(other)
            for element in [e for e in self if e not in keep]:
                self._discard(element)

    def difference_update(self, *others: Iterable[Any]) -> None:
        """Update the set, removing elements found in others."""
        for other in others:
            if isinstance(other, Set) and other._key() == self._key():
                self.clear()
                continue
            for element in list(other) if isinstance(other, Set) else other:
                self._discard(element)

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        """Update the set, keeping only elements found in either set, but not in both."""
        if isinstance(other, Set) and other._key() == self._key():
            self.clear()
            return
        for element in _as_set(other) if not isinstance(other, Set) else list(other):
            if element in self:
                self._discard(element)
            else:
                self.add(element)

    def copy(self) -> "Set":
        """A new pagefs set in the same store with the same members."""
        out = type(self)._new(self._store)
        out._update(self)
        return out

    def __copy__(self) -> "Set":
        return self.copy()

    # ------------------------------------------------- new (in-memory) sets
    def union(self, *others: Iterable[Any]) -> set:
        """Return a new set with elements from the set and all others."""
        return set(self).union(*others)

    def intersection(self, *others: Iterable[Any]) -> set:
        """Return a new set with elements common to the set and all others."""
        return set(self).intersection(*others)

    def difference(self, *others: Iterable[Any]) -> set:
        """Return a new set with elements in the set that are not in the others."""
        return set(self).difference(*others)

    def symmetric_difference(self, other: Iterable[Any]) -> set:
        """Return a new set with elements in either the set or other but not both."""
        return set(self).symmetric_difference(other)

    def isdisjoint(self, other: Iterable[Any]) -> bool:
        """Return True if two sets have a null intersection."""
        return not any(element in self for element in other)

    def issubset(self, other: Iterable[Any]) -> bool:
        """Report whether another set contains this set."""
        other = _as_set(other)
        return len(self) <= len(other) and all(element in other for element in self)

    def issuperset(self, other: Iterable[Any]) -> bool:
        """Report whether this set contains another set."""
        return all(element in self for element in other)

    # ------------------------------------------------------------ operators
    def __or__(self, other: Any) -> Any:
        return set(self) | set(other) if _set_like(other) else NotImplemented

    def __ror__(self, other: Any) -> Any:
        return set(other) | set(self) if _set_like(other) else NotImplemented

    def __and__(self, other: Any) -> Any:
        return set(self) & set(other) if _set_like(other) else NotImplemented

    def __rand__(self, other: Any) -> Any:
        return set(other) & set(self) if _set_like(other) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        return set(self) - set(other) if _set_like(other) else NotImplemented

    def __rsub__(self, other: Any) -> Any:
        return set(other) - set(self) if _set_like(other) else NotImplemented

    def __xor__(self, other: Any) -> Any:
        return set(self) ^ set(other) if _set_like(other) else NotImplemented

    def __rxor__(self, other: Any) -> Any:
        return set(other) ^ set(self) if _set_like(other) else NotImplemented

    def __ior__(self, other: Any) -> Any:
        if not _set_like(other):
            return NotImplemented
        self.update(other)
        return self

    def __iand__(self, other: Any) -> Any:
        if not _set_like(other):
            return NotImplemented
        self.intersection_update(other)
        return self

    def __isub__(self, other: Any) -> Any:
        if not _set_like(other):
            return NotImplemented
        self.difference_update(other)
        return self

    def __ixor__(self, other: Any) -> Any:
        if not _set_like(other):
            return NotImplemented
        self.symmetric_difference_update(other)
        return self

    # ----------------------------------------------------------- comparing
    def __eq__(self, other: Any) -> Any:
        if not _comparable(other):
            return NotImplemented
        return len(self) == len(other) and self.issubset(other)

    def __ne__(self, other: Any) -> Any:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __le__(self, other: Any) -> Any:
        return self.issubset(other) if _comparable(other) else NotImplemented

    def __lt__(self, other: Any) -> Any:
        return len(self) < len(other) and self.issubset(other) if _comparable(other) else NotImplemented

    def __ge__(self, other: Any) -> Any:
        return self.issuperset(other) if _comparable(other) else NotImplemented

    def __gt__(self, other: Any) -> Any:
        return len(self) > len(other) and self.issuperset(other) if _comparable(other) else NotImplemented

    def __repr__(self) -> str:
        if len(self) == 0:
            return "set()"
        return "{" + ", ".join(map(repr, self)) + "}"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a pagefs set: it lives in its store (use set(s) for a copy)")

    def __deepcopy__(self, memo: dict) -> "Set":
        """copy.deepcopy: a new pagefs set in the same store (members are
        immutable, so it is a copy)."""
        out = memo.get(self._key())
        if out is None:
            out = memo[self._key()] = self.copy()
        return out

    __class_getitem__ = classmethod(types.GenericAlias)


MutableSet.register(Set)
