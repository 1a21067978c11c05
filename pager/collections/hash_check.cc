#include "pager/collections/hash_check.h"

#include <string>
#include <utility>
#include <vector>

#include "pager/collections/hash_bucket.h"
#include "pager/collections/hash_table.h"
#include "pager/collections/list_tree_check.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

std::optional<uint64_t> CheckHashTable(CollectionCheck& check, PageGuard header) {
  const PageId id = check.collection();
  const std::string who = "collection " + std::to_string(id);
  const PageId directory = Field<uint64_t>(header.data(), HashHeaderFields::kDirectory);
  const uint32_t width = Field<uint32_t>(header.data(), HashHeaderFields::kWidth);
  const std::optional<uint64_t> log = CheckListTree(check, std::move(header));

  const std::string what = who + "'s bucket directory";
  PageGuard d = check.Take(directory, what);
  if (!d) return std::nullopt;
  std::vector<int64_t> buckets;
  const std::optional<uint64_t> n = CheckListTree(check, std::move(d), [&](const ListValue& v) {
    if (v.view.kind == ValueView::Kind::kInt) buckets.push_back(v.view.i);
  });
  if (!n) return std::nullopt;
  if (*n == 0 || *n != buckets.size()) {
    check.Problem("hash", directory, what + " does not hold one page id per bucket");
    return std::nullopt;
  }
  bool whole = log.has_value();
  const uint32_t capacity = HashBucket::Capacity(check.page_size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    const std::string bucket_name = "bucket " + std::to_string(b) + " of " + who;
    if (buckets[b] <= 0) {
      check.Problem(
          "hash", directory,
          what + " names page " + std::to_string(buckets[b]) + " for bucket " + std::to_string(b));
      whole = false;
      continue;
    }
    uint64_t chain = 0;
    // A chain that loops comes back to a page taken already: Take refuses it.
    for (PageId page = static_cast<PageId>(buckets[b]); page != kNoPage; ++chain) {
      PageGuard g = check.Take(page, "page " + std::to_string(chain) + " of " + bucket_name);
      if (!g) {
        whole = false;
        break;
      }
      const HashBucket bucket(g.data(), check.page_size());
      if (bucket.count() > capacity) {
        check.Problem("hash", page,
                      "page " + std::to_string(page) + " of " + bucket_name + " has a bad count (" +
                          std::to_string(bucket.count()) + ")");
        whole = false;
        break;
      }
      page = bucket.next();
    }
  }
  if (!whole) return std::nullopt;
  try {
    HashTable(check.heap(), id).Verify();
  } catch (const Error& e) {
    check.Problem("hash", id, who + ": " + e.what());
    return std::nullopt;
  }
  // The log holds width values per entry (Verify checked the width).
  return *log / width;
}

}  // namespace pagefs
