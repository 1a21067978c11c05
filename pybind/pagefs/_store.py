"""Stores: pagefs.Store (an explicit handle) and the default store behind the
module-level functions (pagefs.init, pagefs.list, pagefs.root, ...)."""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import MutableMapping
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from . import _core
from ._errors import ClosedError
from ._dict import Dict
from ._list import List
from ._set import Set

CacheSize = Union[int, str, None]


def parse_size(size: Union[int, str], what: str = "cache size") -> int:
    """Bytes from an int or a string such as "64M", "64 MiB", "1.5G", "4096".

    Strings follow the engine's one grammar of sizes (pager/util/size.h),
    which the mount's ``-o cache_size=`` and ``.control`` take too; an int is
    read as its decimal digits, so both refuse the same sizes the same way.
    what names the size in errors."""
    if isinstance(size, bool):
        raise TypeError(f"{what} must be an int or a string like '64M', not bool")
    if isinstance(size, int):
        text = str(int(size))
    elif isinstance(size, str):
        text = size
    else:
        raise TypeError(f"{what} must be an int or a string like '64M', not '{type(size).__name__}'")
    # Lone surrogates cannot go to the engine as UTF-8: show them escaped.
    return _core.parse_size(text.encode("utf-8", "backslashreplace"), what)


def _remote(remote: Any, local_cache_size: CacheSize) -> tuple:
    """The engine's (remote URL, local cache bytes or None) from the user's arguments."""
    if remote is None:
        if local_cache_size is not None:
            raise ValueError("local_cache_size is the cache of a remote store: give remote= too")
        return "", None
    if not isinstance(remote, str):
        raise TypeError(f"remote must be a str like 's3://bucket/prefix', not '{type(remote).__name__}'")
    _utf8_name(remote, "remote URL")
    if not remote:
        raise ValueError("invalid remote URL '': expected s3://BUCKET[/PREFIX]")
    size = None if local_cache_size is None else parse_size(local_cache_size, "local cache size")
    return remote, size


def _utf8_name(value: str, what: str) -> str:
    """value, if it can be a file name the engine takes (UTF-8); else ValueError naming it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"invalid {what} {value!r}: it is not valid UTF-8 ({exc.reason})") from None
    return value


def _page_size(page_size: Any) -> int:
    if page_size is None:
        return 0
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size must be an int, not '{type(page_size).__name__}'")
    if not 0 < page_size < 1 << 32:
        raise ValueError(f"page_size must be a power of two from 4096 to 65536, not {page_size}")
    return page_size


class Root(MutableMapping):
    """The named roots of a store: a persistent mapping from str to any
    storable value. A list stored here stays alive (and is found again after
    reopening) until its name is deleted or rebound."""

    __slots__ = ("_core",)

    def __init__(self, core: "_core.Store") -> None:
        self._core = core

    def __getitem__(self, name: str) -> Any:
        found, value = self._core._root_get(name)
        if not found:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self._core._root_set(name, value)

    def __delitem__(self, name: str) -> None:
        if not self._core._root_del(name):
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._core._root_keys())

    def __len__(self) -> int:
        return self._core._root_len()

    def __repr__(self) -> str:
        return f"<pagefs.Root of {self._core.root!r} prefix {self._core.prefix!r}: {sorted(self)!r}>"


_open_stores: "weakref.WeakSet[Store]" = weakref.WeakSet()


class Store:
    """One open prefix of a pagefs root folder, ROOT/PREFIX.

    ``Store(root, prefix="main", *, cache_size=None, read_only=False,
    remote=None, local_cache_size=None)`` opens (creating it unless
    read-only) and holds the prefix's writer lock until ``close()``. Use it
    as a context manager to close (and so commit) on exit. Several stores
    (prefixes) can be open at once; each has its own cache budget. Open
    stores are closed at interpreter exit.

    ``remote="s3://BUCKET/PREFIX"`` keeps the store in an S3 bucket (the
    endpoint and credentials come from the AWS variables and files, as for
    every S3 tool): ``commit()`` returns once the commit is durable there,
    and ROOT/PREFIX holds only a cache of fetched pages of at most
    ``local_cache_size`` bytes (int or "256M"; default 256 MiB) plus the
    pages not yet committed. It opens from the bucket alone on an empty root.
    """

    def __init__(
        self,
        root: Union[str, "os.PathLike[str]"],
        prefix: str = "main",
        *,
        cache_size: CacheSize = None,
        read_only: bool = False,
        page_size: Optional[int] = None,
        remote: Optional[str] = None,
        local_cache_size: CacheSize = None,
    ) -> None:
        path = os.fspath(root)
        if not isinstance(path, str):
            raise TypeError(f"root must be a str or os.PathLike of str, not '{type(path).__name__}'")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not '{type(prefix).__name__}'")
        _utf8_name(path, "root")
        _utf8_name(prefix, "prefix")
        size = None if cache_size is None else parse_size(cache_size)
        url, local_size = _remote(remote, local_cache_size)
        self._core = _core.Store(
            path, prefix, size, bool(read_only), _page_size(page_size), url, local_size
        )
        self._root: Optional[Root] = None
        self._remote = url
        _open_stores.add(self)

    # ------------------------------------------------------------ properties
    @property
    def path(self) -> str:
        """The root folder."""
        return self._core.root

    @property
    def prefix(self) -> str:
        return self._core.prefix

    @property
    def read_only(self) -> bool:
        return self._core.read_only

    @property
    def remote(self) -> Optional[str]:
        """The bucket URL of a remote store (``remote=``), None for a local one."""
        return self._remote or None

    @property
    def closed(self) -> bool:
        return self._core.closed

    def _check_open(self) -> None:
        self._core._check_open()  # the engine's one message for a closed store

    # ------------------------------------------------------------ collections
    def list(self, iterable: Iterable[Any] = ()) -> List:
        """A new persistent list holding the values of iterable. It is freed
        when the last Python reference goes unless it was stored (in
        ``root()`` or in another stored collection)."""
        self._check_open()
        out = List._new(self._core)
        out.extend(iterable)
        return out

    def dict(self, *args: Any, **kwargs: Any) -> Dict:
        """A new persistent dict, built as ``dict(*args, **kwargs)`` is. Freed
        as a list is when unreferenced."""
        self._check_open()
        if len(args) > 1:
            raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
        out = Dict._new(self._core)
        out.update(*args, **kwargs)
        return out

    def set(self, *args: Any) -> Set:
        """A new persistent set holding the members of an iterable. Freed as a
        list is when unreferenced."""
        self._check_open()
        if len(args) > 1:
            raise TypeError(f"set expected at most 1 argument, got {len(args)}")
        out = Set._new(self._core)
        if args:
            out._update(args[0])
        return out

    def root(self) -> Root:
        """The persistent mapping of named roots."""
        self._check_open()
        if self._root is None:
            self._root = Root(self._core)
        return self._root

    # ------------------------------------------------------------ lifecycle
    def commit(self) -> None:
        """Make every change so far durable, atomically."""
        self._core.commit()

    def refresh(self) -> None:
        """Move a read-only store to the newest commit now.

        Not needed for correctness: a read-only store looks for a newer
        commit at the start of an operation at most every 10 ms and follows
        it by itself (docs/readers.md). A no-op for a writer."""
        self._core.refresh()

    def close(self) -> None:
        """Commit (unless read-only) and release memory, files and the lock.
        Idempotent. Lists of this store raise ClosedError afterwards."""
        self._core.close()
        _open_stores.discard(self)

    def set_cache_size(self, size: Union[int, str]) -> None:
        """Set the memory budget in bytes (or "64M"-style); shrinking evicts at once."""
        self._core.set_cache_size(parse_size(size))

    def get_cache_size(self) -> int:
        return self._core.get_cache_size()

    def gc(
        self,
        *,
        dry_run: bool = False,
        compact: bool = False,
        min_age: Union[int, float, str] = 0,
        retention: Union[int, float, str] = 3600,
        progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> dict:
        """The garbage step of this remote store, run by its own writer:
        deletes the commit objects and segments that neither a kept commit
        (the head, and those that were the head within ``retention``, default
        1 h, for readers elsewhere) nor this writer's pages reference, and
        returns the report ``pagefs.gc()`` gives (objects_deleted,
        bytes_deleted, delete_requests, ...). No commit starts while it runs,
        so even young garbage goes (``min_age``, default 0, keeps what is
        younger when given). ``compact=True`` is a ValueError: compaction
        races a live writer's commits (close the store, run ``pagefs gc``).
        A read-only store raises ReadOnlyError; a local one ValueError."""
        from ._gc import parse_duration

        return self._core.gc(
            dry_run=bool(dry_run),
            compact=bool(compact),
            min_age=parse_duration(min_age, "min_age"),
            retention=parse_duration(retention, "retention"),
            progress=progress,
        )

    def stats(self) -> dict:
        """Cache and storage figures: budget, resident_bytes, hits, misses,
        evictions, dirty_pages, pinned_pages, pages, bytes_on_disk,
        tier_reads, tier_writes, epoch, page_size, readers (live readers of
        the prefix), oldest_reader_epoch (None without readers), held_slots
        (slots a writer keeps back for them), plus root and prefix.

        A remote store adds ``tiers``: per tier its figures, ``memory``
        (budget, resident_bytes, hits, misses, hit_ratio), ``local`` (the
        cache of fetched pages: capacity, bytes, pending_bytes of pages not
        yet uploaded, hits, misses, hit_ratio, evictions, bad_blocks, and
        readahead_frames fetched ahead of a scan, readahead_hits read since,
        readahead_unused dropped unread) and
        ``remote`` (url, gets, puts, heads, lists, retries, bytes_received,
        bytes_sent, bytes_stored); a hit_ratio is None before any lookup."""
        return self._core.stats()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("read-only" if self.read_only else "open")
        return f"<pagefs.Store {self.path!r} prefix {self.prefix!r} ({state})>"


@atexit.register
def _close_open_stores() -> None:
    for store in list(_open_stores):
        try:
            store.close()
        except Exception:  # noqa: BLE001 -- exit must go on; the last commit is intact
            pass


# ---------------------------------------------------------------- default store
_default: Optional[Store] = None
_default_lock = threading.Lock()


def init(
    root: Union[str, "os.PathLike[str]", None] = None,
    prefix: str = "main",
    *,
    cache_size: CacheSize = None,
    read_only: bool = False,
    dbzero_root: Union[str, "os.PathLike[str]", None] = None,
    remote: Optional[str] = None,
    local_cache_size: CacheSize = None,
) -> Store:
    """Open ROOT/PREFIX as the default store of the module-level functions
    and return it. ``dbzero_root=`` is an alias of ``root``. Calling init()
    again for another prefix (or mode) closes the previous default store; for
    the same open prefix it only applies cache_size. Use ``pagefs.Store`` to
    keep several prefixes open at once. ``remote=`` and ``local_cache_size=``
    keep the store in an S3 bucket (see ``pagefs.Store``)."""
    global _default
    if root is None:
        root = dbzero_root
    elif dbzero_root is not None:
        raise TypeError("init() got both root and dbzero_root")
    if root is None:
        raise TypeError("init() missing the root folder (root=... or dbzero_root=...)")
    with _default_lock:
        current = _default
        if (
            current is not None
            and not current.closed
            and current.prefix == prefix
            and current.read_only == bool(read_only)
            and current._remote == (remote or "")
            and os.path.abspath(current.path) == os.path.abspath(os.fspath(root))
        ):
            if cache_size is not None:
                current.set_cache_size(cache_size)
            return current
        if current is not None:
            current.close()
            _default = None
        _default = Store(
            root,
            prefix,
            cache_size=cache_size,
            read_only=read_only,
            remote=remote,
            local_cache_size=local_cache_size,
        )
        return _default


def _store() -> Store:
    store = _default
    if store is None:
        raise ClosedError("pagefs is not initialized: call pagefs.init(root, prefix) first")
    return store


def get_store() -> Store:
    """The default store (raises ClosedError before init())."""
    return _store()


def set_cache_size(size: Union[int, str]) -> None:
    _store().set_cache_size(size)


def get_cache_size() -> int:
    return _store().get_cache_size()


def root() -> Root:
    return _store().root()


def commit() -> None:
    _store().commit()


def close() -> None:
    """Close (and commit) the default store. Idempotent."""
    store = _default
    if store is not None:
        store.close()


def stats() -> dict:
    return _store().stats()
