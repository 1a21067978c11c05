"""pagefs.List: a persistent list that behaves like Python's ``list``.

The fast paths (``len``, ``lst[i]``, ``lst[i] = v``, ``del lst[i]``,
``del lst[a:b:c]``, ``append``, ``extend``, ``insert``, ``pop``, ``clear``,
``reverse``) are C++ (pagefs._core.List). This module adds the rest of
``list``'s behaviour on top of runs of values read by the engine's Scan, so
that searching and comparing use Python's own comparisons (``chunk.index(x)``,
``chunk == other``) and match ``list`` exactly, user-defined ``__eq__``
included.

Choices where a persistent list cannot simply be a ``list``:

* Results that are new values live in RAM as plain ``list``: slicing
  (``lst[a:b]``), ``lst + other``, ``other + lst``, ``lst * n``. Comparisons
  are by value, so ``lst[1:3] == [x, y]`` holds as for a list. To persist a
  result, pass it to ``pagefs.list(...)`` (or ``Store.list``).
* ``copy()`` returns a new *pagefs* list in the same store (an explicit request
  for a copy of a persistent list); ``list(lst)`` gives an in-RAM copy.
* Iteration is list's: ``iter(lst)`` and ``reversed(lst)`` step an index
  and yield the value there while the index is inside the list, so a list
  changed under the loop behaves as a ``list`` would (``for x in lst:
  lst.pop()`` over five values leaves two; appends are reached). Values are
  read ahead in runs, read again after any change made in this process.
* ``sort()`` works on lists larger than the memory budget: sorted runs are
  written to temporary pagefs lists and merged (stable, ``reverse`` exactly as
  ``list.sort``). The key function is called twice per element on lists
  longer than ``List.sort_run_length``. If a comparison raises, the list is
  unchanged (``list.sort`` leaves it in some order) unless it was changed
  meanwhile (then it holds its values in the order the sort left them).
* Changing a list inside its own ``sort()`` (from the key, a comparison or
  another thread) raises ``ValueError: list modified during sort`` and the
  change is undone, as with ``list.sort``: the list holds its own values,
  sorted. Two differences: while it sorts, the list reads as it was (a
  ``list`` reads as empty), and on lists longer than ``sort_run_length`` a
  change is seen by the runs read after it.
* Storing anything but None, bool, int, float, str, bytes or a pagefs list
  of the same store raises TypeError/ValueError and stores nothing.
"""

from __future__ import annotations

import copy
import heapq
import operator
import sys
import threading
import types
from collections.abc import MutableSequence
from typing import Any, Callable, Iterable, Iterator, Optional

from . import _core

_FIRST_CHUNK = 256
_MAX_CHUNK = 4096
_STRIDE_SCAN_LIMIT = 16  # extended slices with a larger step read element by element

_repr_guard = threading.local()
# The longest list CPython can make (its array of pointers must fit an index);
# repetition past it raises MemoryError, as list's does.
_MAX_LENGTH = sys.maxsize // 8
# Sequences whose own repetition comes first in `seq * lst`, `lst * seq`.
_REPEATABLE = (str, bytes, bytearray, tuple, list, _core.List)


def _slice_index(value: Any) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("slice indices must be integers or have an __index__ method") from None


def _as_sequence(value: Any, message: str) -> Any:
    """What PySequence_Fast(value, message) does for list slice assignment."""
    if isinstance(value, (list, tuple)):
        return value
    try:
        it = iter(value)
    except TypeError:
        raise TypeError(message) from None
    return list(it)


def _raised_by_list_search(exc: BaseException) -> bool:
    """True when a ValueError came from list.index itself rather than from a
    user __eq__ called by it (which would add a Python frame)."""
    tb = exc.__traceback__
    return tb is not None and tb.tb_next is None


class List(_core.List):
    """A persistent list. Create one with ``pagefs.list(iterable)`` or
    ``Store.list(iterable)``; it behaves like ``list`` (see the module notes)."""

    # Like list: no per-instance attributes, unhashable.
    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    #: sort() sorts runs of this many values in RAM, then merges them.
    sort_run_length = 100_000

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], _core.Store):
            super().__init__(*args)  # List(store, id[, adopted]): a handle on a stored list
            return
        if len(args) > 1:
            raise TypeError(f"list expected at most 1 argument, got {len(args)}")
        from ._store import get_store

        core = get_store()._core
        super().__init__(core, _core.List._create(core))
        if args:
            self.extend(args[0])

    # ---------------------------------------------------------------- internals
    @classmethod
    def _new(cls, store: "_core.Store") -> "List":
        return cls(store, _core.List._create(store))

    def _chunks(self, start: int = 0, stop: Optional[int] = None) -> Iterator[list]:
        """Runs of values from start on, read while the list is read (so
        values appended meanwhile are reached), up to stop if given."""
        size = _FIRST_CHUNK
        i = start
        while stop is None or i < stop:
            j = i + size if stop is None else min(stop, i + size)
            chunk = self._run(i, j)
            if not chunk:
                return
            yield chunk
            i += len(chunk)
            if size < _MAX_CHUNK:
                size *= 2

    def _find(self, value: Any, start: int, stop: Optional[int]) -> Optional[int]:
        base = start
        for chunk in self._chunks(start, stop):
            try:
                return base + chunk.index(value)
            except ValueError as exc:
                if not _raised_by_list_search(exc):
                    raise
            base += len(chunk)
        return None

    def _key(self) -> tuple:
        return (self._store_key, self._id)

    # -------------------------------------------------------------- reading
    def __iter__(self) -> Iterator[Any]:
        # list's index-based iterator, reading ahead in runs (list_iterator.cc).
        return _core._list_iterator(self, False)

    def __reversed__(self) -> Iterator[Any]:
        return _core._list_iterator(self, True)

    def __contains__(self, value: Any) -> bool:
        for chunk in self._chunks():
            if value in chunk:
                return True
        return False

    def index(self, value: Any, start: Any = 0, stop: Any = sys.maxsize) -> int:
        """Return first index of value.

        Raises ValueError if the value is not present."""
        start, stop = _slice_index(start), _slice_index(stop)
        n = len(self)
        if start < 0:
            start = max(0, start + n)
        if stop < 0:
            stop = max(0, stop + n)
        start, stop = min(start, n), min(stop, n)  # list.index saturates, never fails on them
        found = self._find(value, start, stop)
        if found is None:
            [].index(value)  # raises list's own ValueError and message
        return found  # type: ignore[return-value]

    def count(self, value: Any) -> int:
        """Return number of occurrences of value."""
        return sum(chunk.count(value) for chunk in self._chunks())

    def _getitem_slice(self, key: slice) -> list:
        start, stop, step = key.indices(len(self))
        if step == 1:
            return self._run(start, stop) if start < stop else []
        if abs(step) > _STRIDE_SCAN_LIMIT:
            return [self[i] for i in range(start, stop, step)]
        out: list = []
        if step > 0:
            i = start
            while i < stop:
                j = min(stop, i + step * _MAX_CHUNK)
                taken = self._run(i, j)[::step]
                if not taken:
                    break
                out.extend(taken)
                i += len(taken) * step
        else:
            stride = -step
            i = start  # the highest index still to take
            while i > stop:
                lo = max(stop + 1, i + 1 - stride * _MAX_CHUNK)
                taken = self._run_reversed(lo, i + 1)[::stride]
                if not taken:
                    break
                out.extend(taken)
                i -= len(taken) * stride
        return out

    # -------------------------------------------------------------- writing
    def _setitem_slice(self, key: slice, value: Any) -> None:
        start, stop, step = key.indices(len(self))
        if step == 1:
            items = _as_sequence(value, "can only assign an iterable")
            self._replace(start, max(start, stop), items)
            return
        items = _as_sequence(value, "must assign iterable to extended slice")
        length = len(range(start, stop, step))
        if len(items) != length:
            raise ValueError(
                f"attempt to assign sequence of size {len(items)} to extended slice of size {length}"
            )
        if length:
            # The engine resolves the slice again under the list's lock (and
            # checks the size again there, should another thread have
            # changed the list meanwhile).
            self._assign_extended(key, items)

    def remove(self, value: Any) -> None:
        """Remove first occurrence of value.

        Raises ValueError if the value is not present."""
        found = self._find(value, 0, None)
        if found is None:
            [].remove(value)  # raises list's own ValueError and message
        del self[found]

    def copy(self) -> "List":
        """Return a new pagefs list (same store) with the same values."""
        out = type(self)._new(self._store)
        out._extend_from(self, 0, len(self))
        return out

    def __copy__(self) -> "List":
        return self.copy()

    def sort(self, *, key: Optional[Callable[[Any], Any]] = None, reverse: bool = False) -> None:
        """Sort the list in ascending order and return None.

        Stable, like list.sort; works on lists larger than the memory budget."""
        reverse = bool(operator.index(reverse))
        n = len(self)
        run = max(1, int(self.sort_run_length))
        # As list.sort: a change made to the list while it sorts (by the key,
        # a comparison or another thread) is undone, the list holds its own
        # values in the order the sort left them, and ValueError follows.
        before = self._changes()
        if n <= run:
            items = self._run(0, n)
            try:
                items.sort(key=key, reverse=reverse)
            except BaseException:
                if self._changes() != before:
                    self._replace(0, len(self), items)
                raise
            changed = self._changes() != before
            self._replace(0, len(self) if changed else n, items)
            if changed:
                raise ValueError("list modified during sort")
            return
        runs = []
        for start in range(0, n, run):
            items = self._run(start, start + run)
            items.sort(key=key, reverse=reverse)
            part = type(self)._new(self._store)
            part.extend(items)
            runs.append(part)
            del items
        merged = type(self)._new(self._store)
        merged.extend(heapq.merge(*runs, key=key, reverse=reverse))
        del runs
        changed = self._changes() != before
        self.clear()
        self._extend_from(merged, 0, len(merged))
        if changed:
            raise ValueError("list modified during sort")

    # ------------------------------------------------------------ operators
    def __iadd__(self, other: Iterable[Any]) -> "List":
        self.extend(other)
        return self

    def __add__(self, other: Any) -> list:
        if isinstance(other, list):
            return list(self) + other
        if isinstance(other, _core.List):
            return list(self) + list(other)
        # As for list: the other operand's __radd__ gets its chance, then
        # list's own error.
        radd = getattr(type(other), "__radd__", None)
        if radd is not None:
            result = radd(other, self)
            if result is not NotImplemented:
                return result
        raise TypeError(f'can only concatenate list (not "{type(other).__name__}") to list')

    def __radd__(self, other: Any) -> list:
        if isinstance(other, list):
            return other + list(self)
        return NotImplemented

    @staticmethod
    def _count(n: Any) -> int:
        if not hasattr(type(n), "__index__"):
            raise TypeError(f"can't multiply sequence by non-int of type '{type(n).__name__}'")
        return operator.index(n)

    def __mul__(self, n: Any) -> list:
        if not hasattr(type(n), "__index__") and not isinstance(n, _REPEATABLE):
            rmul = getattr(type(n), "__rmul__", None)
            if rmul is not None:
                result = rmul(n, self)
                if result is not NotImplemented:
                    return result
        times = self._count(n)  # before the copy: a bad count copies nothing
        return list(self) * times

    def __rmul__(self, n: Any) -> list:
        if isinstance(n, _REPEATABLE):
            # `'a' * lst`: the sequence on the left is the one repeated, and
            # its error names this list's type, as `'a' * []` names list's.
            raise TypeError(f"can't multiply sequence by non-int of type '{type(self).__name__}'")
        times = self._count(n)
        return list(self) * times

    def __imul__(self, n: Any) -> "List":
        times = self._count(n)
        if not -sys.maxsize - 1 <= times <= sys.maxsize:
            raise OverflowError(f"cannot fit '{type(n).__name__}' into an index-sized integer")
        size = len(self)
        if size == 0 or times == 1:
            return self
        if times <= 0:
            self.clear()
            return self
        if size > _MAX_LENGTH // times:
            raise MemoryError  # as list *= n past what a list can hold
        # Doubling: log2(times) engine copies, not times - 1.
        have = size
        while have < size * times:
            step = min(have, size * times - have)
            self._extend_from(self, 0, step)
            have += step
        return self

    def _compare(self, other: Any, op: Callable[[Any, Any], bool]) -> Any:
        if not isinstance(other, (list, _core.List)):
            return NotImplemented
        if other is self or (isinstance(other, List) and other._key() == self._key()):
            # Two references to one stored list are the same list: list's
            # identity shortcut makes x == x hold, nan included, and a list
            # that contains itself compares without recursing.
            return op(0, 0)
        n, m = len(self), len(other)
        if n != m and op in (operator.eq, operator.ne):
            return op is operator.ne
        common = min(n, m)
        i = 0
        while i < common:
            j = min(common, i + _MAX_CHUNK)
            mine = self._run(i, j)
            theirs = other._run(i, j) if isinstance(other, _core.List) else other[i:j]
            if len(mine) != j - i or len(theirs) != j - i:
                break  # changed meanwhile: compare what is there
            if not mine == theirs:
                # The first difference is in these runs; list's own comparison finds it.
                return op(mine, theirs)
            i = j
        return op(n, m)

    def __eq__(self, other: Any) -> Any:
        return self._compare(other, operator.eq)

    def __ne__(self, other: Any) -> Any:
        return self._compare(other, operator.ne)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, operator.lt)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, operator.le)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, operator.gt)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, operator.ge)

    def __repr__(self) -> str:
        active = getattr(_repr_guard, "keys", None)
        if active is None:
            active = _repr_guard.keys = set()
        key = self._key()
        if key in active:
            return "[...]"
        active.add(key)
        try:
            # map: no Python frame per value, so nesting goes as deep as list's.
            return "[" + ", ".join(map(repr, self)) + "]"
        finally:
            active.discard(key)

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a pagefs list: it lives in its store (use list(lst) for a copy)")

    def __deepcopy__(self, memo: dict) -> "List":
        """copy.deepcopy: a new pagefs list in the same store whose nested
        pagefs collections are deep copies too (one copy of each stored
        collection, however many places hold it)."""
        out = memo.get(self._key())
        if out is None:
            out = memo[self._key()] = type(self)._new(self._store)
            for chunk in self._chunks():
                out.extend([copy.deepcopy(v, memo) for v in chunk])
        return out

    __class_getitem__ = classmethod(types.GenericAlias)

    def __dir__(self) -> list:
        # What a list user needs, as dir([]) shows it: not the members that
        # implement it here and in pagefs._core.
        return list(_PUBLIC_NAMES)


# Dunders of the implementation, not of the list protocol.
_IMPLEMENTATION_DUNDERS = {"__dict__", "__module__", "__slots__", "__weakref__"}
_PUBLIC_NAMES = tuple(
    name
    for name in dir(List)
    if not name.startswith("_") or (name.startswith("__") and name.endswith("__") and name not in _IMPLEMENTATION_DUNDERS)
)


MutableSequence.register(List)
