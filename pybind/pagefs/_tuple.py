"""pagefs.Tuple: what a stored tuple reads back as.

A tuple is stored by value (its elements inline, long ones out of line), so
a pagefs tuple is simply an immutable Python tuple: equal to and hashing as
the tuple with the same items, usable as a dict key and set member (when its
items are hashable), a ``Sequence`` and ``Hashable``. Python tuples given to
``append``, ``d[k] = ...`` and the like are stored as pagefs tuples.
"""

from __future__ import annotations


class Tuple(tuple):
    """An immutable sequence stored by value; ``pagefs.tuple(iterable)``."""

    # tuple's own repr (no Python frame per level: nesting goes as deep).
    __slots__ = ()
