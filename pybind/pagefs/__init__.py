"""pagefs: persistent Python collections larger than RAM, under a memory
budget you choose, found again after a restart.

    import pagefs
    pagefs.init("/data/pagefs", prefix="data", cache_size="128M")
    results = pagefs.list()
    results.extend(str(i) for i in range(1_000_000))
    pagefs.root()["results"] = results
    pagefs.close()

Module functions work on the default store opened by init(); pagefs.Store
is the same as an object (and context manager), for several prefixes at once.
"""

from . import _core
from ._errors import BudgetError, ClosedError, CorruptionError, Error, LockedError, ReadOnlyError
from ._dict import Dict
from ._list import List
from ._set import Set
from ._tuple import Tuple
from ._gc import gc
from ._store import (
    Root,
    Store,
    close,
    commit,
    get_cache_size,
    get_store,
    init,
    root,
    set_cache_size,
    stats,
)
# pagefs.list, dict, set and tuple are the classes, as the builtins are
# (so isinstance(x, pagefs.dict) and pagefs.dict.fromkeys work); they stay
# out of __all__ so that `from pagefs import *` never replaces a builtin in
# the caller's module.
list = List  # noqa: A001
dict = Dict  # noqa: A001
set = Set  # noqa: A001
tuple = Tuple  # noqa: A001

from . import _errors as _errors_module

_core._register_errors(_errors_module)
_core._set_list_class(List)
_core._set_collection_classes(Dict, Set, Tuple)
_core._install_fast_slots(List, Dict, Set)
del _errors_module

__version__ = "0.1.0"

__all__ = [
    "BudgetError",
    "ClosedError",
    "CorruptionError",
    "Dict",
    "Error",
    "List",
    "LockedError",
    "ReadOnlyError",
    "Root",
    "Set",
    "Store",
    "close",
    "commit",
    "gc",
    "get_cache_size",
    "get_store",
    "init",
    "root",
    "set_cache_size",
    "stats",
    "Tuple",
]
