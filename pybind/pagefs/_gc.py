"""pagefs.gc(): the garbage step and compaction of a store in an S3 bucket
(pager/remote_gc.h; what is kept and why: docs/remote_format.md)."""

from __future__ import annotations

import re
from typing import Callable, Optional, Union

from . import _core

# Defaults (docs/remote_format.md, "Garbage and compaction").
MIN_AGE = 3600.0  # seconds: nothing younger is deleted (a live writer's upload in flight)
RETENTION = 3600.0  # seconds: commits that were the head this recently are kept
COMPACT_BELOW = 0.5  # a segment whose live share is below this is rewritten

Duration = Union[int, float, str]
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Duration, what: str = "duration") -> float:
    """Seconds from a number or a string such as '90', '90s', '15m', '1h', '2d'."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be seconds or a string such as '15m', not a bool")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*", value)
        if m is None:
            raise ValueError(f"invalid {what} {value!r}: expected seconds or N[s|m|h|d], e.g. '15m'")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise TypeError(f"{what} must be seconds or a string such as '15m', not {type(value).__name__}")
    if not seconds >= 0:
        raise ValueError(f"invalid {what} {value!r}: must be >= 0")
    return seconds


def gc(
    remote: Optional[str] = None,
    prefix: Optional[str] = None,
    *,
    dry_run: bool = False,
    compact: Optional[bool] = None,
    min_age: Optional[Duration] = None,
    retention: Duration = RETENTION,
    compact_below: float = COMPACT_BELOW,
    progress: Optional[Callable[[str, int, int], None]] = None,
) -> dict:
    """Delete the objects of the store remote/prefix that nothing kept
    references, and (compact=True, the default here) rewrite its sparse
    segments; return what was done as a dict (objects_deleted, bytes_deleted,
    delete_requests, segments_compacted, ...). Compaction takes the writer's
    lease: LockedError names the writer when one is live (compact=False runs
    beside it). min_age defaults to MIN_AGE. dry_run reports without changing
    anything. progress(phase, done, total) is called as it goes.

    Without remote and prefix: ``Store.gc()`` of the store ``init()`` opened
    (its own writer's garbage step; see there)."""
    if remote is None:
        if prefix is not None:
            raise TypeError("gc(prefix=...) needs the remote URL too; gc() alone runs on the store init() opened")
        from ._store import get_store

        return get_store().gc(
            dry_run=dry_run,
            compact=bool(compact),
            min_age=0 if min_age is None else min_age,
            retention=retention,
            progress=progress,
        )
    if prefix is None:
        raise TypeError("gc(remote) needs the store's prefix too: gc(remote, prefix)")
    return _core._gc(
        remote,
        prefix,
        dry_run=dry_run,
        compact=True if compact is None else bool(compact),
        min_age=parse_duration(MIN_AGE if min_age is None else min_age, "min_age"),
        retention=parse_duration(retention, "retention"),
        compact_below=float(compact_below),
        progress=progress,
    )
