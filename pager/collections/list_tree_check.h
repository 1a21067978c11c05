// CheckListTree: the structure walk of one list tree (docs/list_format.md)
// for `pagefs check`, shared by the kinds built on the tree (the list and
// the root map). It takes every page of the tree through the CollectionCheck,
// checks page types, counts, cumulative counts, heights and value offsets,
// and hands every value to the check (Decode, Follow) and then to on_value.
// Problems are reported with kind "list".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pager/collections/collection_check.h"

namespace pagefs {

struct ListValue {
  const ValueView& view;                   // decoded
  const std::optional<std::string>& text;  // a str's text, when known
  // The value's index in the list; unknown after a page that could not be read.
  std::optional<uint64_t> position;
  PageId page;               // the leaf it is on
  const std::string& where;  // "value J of leaf P of collection C"
};

// Walks the tree whose header page is header (pinned; released before the
// descent). on_value, when given, sees every value that decodes, in order.
// Returns the number of values the tree holds (a header count that disagrees
// is reported); nothing when part of it could not be read or its header is
// not a tree's.
std::optional<uint64_t> CheckListTree(
    CollectionCheck& check, PageGuard header,
    const std::function<void(const ListValue&)>& on_value = nullptr);

}  // namespace pagefs
