// CheckHashTable: the structure walk of one dict or set (docs/hash_format.md)
// for `pagefs check`, the verify hook of both kinds (kind_registry.h). It
// takes the entry log (a list tree in the header page), the bucket directory
// (a list tree of page ids on a page of its own) and every bucket chain
// through the CollectionCheck; when every page of it was whole, the table's
// own Verify says what the pages mean (each entry filed under its key's
// hash, once, live). Problems are reported with kind "list" (the trees) and
// "hash" (directory, buckets, Verify).
#pragma once

#include <cstdint>
#include <optional>

#include "pager/collections/collection_check.h"

namespace pagefs {

// Returns the entries the log holds (live and absent) when the whole
// structure could be read; nothing otherwise.
std::optional<uint64_t> CheckHashTable(CollectionCheck& check, PageGuard header);

}  // namespace pagefs
