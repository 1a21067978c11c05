"""Exceptions raised by pagefs.

Every engine failure reaches Python through one mapping (pybind/errors.cc).
The engine's codes (pager/util/error.h) name conditions; each becomes one
exception:

=====================  ===============================================
engine code            Python exception
=====================  ===============================================
kIo                    OSError(errno, msg) -- its errno subclass, e.g.
                       PermissionError, FileNotFoundError
kNoSpace               OSError(ENOSPC, msg)
kCorruption            CorruptionError  (pagefs.Error and OSError)
kInvalidArgument       ValueError
kOutOfRange            IndexError (Python's own messages, such as
                       "list index out of range")
kTooLarge              OverflowError
kNotFound              FileNotFoundError
kExists                FileExistsError
kReadOnly              ReadOnlyError    (pagefs.Error and PermissionError)
kNotAllowed            PermissionError
kClosed                ClosedError      (pagefs.Error and ValueError)
kBusy                  LockedError      (pagefs.Error and BlockingIOError)
kBudget                BudgetError      (pagefs.Error and MemoryError)
kFailed                Error
kStale                 OSError(ESTALE, msg)
=====================  ===============================================

Values the engine cannot store are refused by the binding itself, before the
engine sees them (TypeError naming the type).

The pagefs-specific classes derive from both :class:`Error` (so
``except pagefs.Error`` catches everything pagefs-specific) and the builtin
that code which does not know pagefs would expect: bad stored bytes are an
I/O failure (``OSError``), a closed store behaves like a closed file
(``ValueError``), and so on.
"""

from __future__ import annotations

import errno as _errno

__all__ = [
    "Error",
    "CorruptionError",
    "ReadOnlyError",
    "ClosedError",
    "LockedError",
    "BudgetError",
]


class Error(Exception):
    """Base class of the exceptions that only pagefs raises.

    Raised as such when a store refuses writes after a failed commit; reopen
    the store to go on from its last commit.
    """


class CorruptionError(Error, OSError):
    """Stored bytes failed a checksum or format check (the message names the
    prefix and the page). The data is not returned."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1:
            # OSError(errno, strerror) form, so .errno is EIO and str() stays the message.
            OSError.__init__(self, _errno.EIO, args[0])
            self.args = args
        else:
            OSError.__init__(self, *args)

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else OSError.__str__(self)


class ReadOnlyError(Error, PermissionError):
    """A write was attempted on a store opened with ``read_only=True``."""


class ClosedError(Error, ValueError):
    """The store was closed, or the object outlived it (like an operation on a
    closed file)."""


class LockedError(Error, BlockingIOError):
    """Another writer (process) holds the prefix."""


class BudgetError(Error, MemoryError):
    """The cache budget cannot hold the pages that must stay in memory."""
