// Helpers shared by the collection tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "pager/collections/persistent_list.h"
#include "pager/testing/error_code.h"
#include "pager/util/error.h"
#include "pager/values/value_format.h"

namespace pagefs {

// Concatenation by appending: GCC 12 warns falsely (-Wrestrict) on
// "literal" + std::string at -O3.
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(parts), ...);
  return out;
}

inline std::string Str(std::string_view s) {
  std::string out;
  EncodeStr(out, s);
  return out;
}
inline std::string Int(int64_t v) {
  std::string out;
  EncodeInt(out, v);
  return out;
}
inline std::string Ref(uint64_t id) {
  std::string out;
  EncodeRef(out, CollectionKind::kList, id);
  return out;
}

// Every value of a PersistentList or a ListTree, in order.
template <typename List>
std::vector<std::string> ReadAll(List& list) {
  std::vector<std::string> out;
  list.Scan(0, UINT64_MAX, [&](std::string_view v) { out.emplace_back(v); });
  return out;
}

template <typename List>
std::string GetOne(List& list, uint64_t i) {
  std::string out;
  list.Get(i, [&](std::string_view v) { out = v; });
  return out;
}

}  // namespace pagefs
