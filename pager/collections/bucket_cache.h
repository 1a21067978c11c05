// BucketCache: this process's copy of part of a hash collection's bucket
// directory (bucket number -> the first page of its chain, hash_table.h),
// so that a lookup pins no page of the directory's list tree. It lives in
// the collection's CollectionState, shared by every handle on it, and is
// used only under the collection's mutex (HashTable's REQUIRES). Filled one
// bucket at a time, as lookups read them; nothing is on disk.
//
// What it holds stays true because
// - every change of the directory goes through HashTable in this process
//   (a store has one writer) and tells the cache: a split adds the new
//   bucket (the split one keeps its first page), a merge forgets the bucket
//   it removes, a rebuilt index (clear, compaction) or freed table forgets
//   everything, and an operation that fails part way forgets everything;
// - every other change of the pages (a reader's move to a newer commit, a
//   rollback) changes the space's view generation (PageSpace), and Check
//   forgets everything filled under another generation or another
//   directory page;
// - a new store (a reopen, a fork's child opening it again) has new states.
//
// Bounded: buckets past kMaxBuckets are not kept (8 bytes a bucket).
#pragma once

#include <cstdint>
#include <vector>

#include "pager/util/page.h"

namespace pagefs {

class BucketCache {
 public:
  static constexpr uint64_t kMaxBuckets = uint64_t{1} << 19;  // 4 MiB

  // Forgets everything unless it was filled under this view generation of
  // the space and this directory page.
  void Check(uint64_t view_generation, PageId directory) {
    if (view_generation != view_generation_ || directory != directory_) {
      pages_.clear();
      view_generation_ = view_generation;
      directory_ = directory;
    }
  }
  // The first page of bucket, or kNoPage when it is not cached.
  PageId Get(uint64_t bucket) const { return bucket < pages_.size() ? pages_[bucket] : kNoPage; }
  void Put(uint64_t bucket, PageId first) {
    if (bucket >= kMaxBuckets) return;
    if (bucket >= pages_.size()) pages_.resize(bucket + 1, kNoPage);
    pages_[bucket] = first;
  }
  void Forget(uint64_t bucket) {
    if (bucket < pages_.size()) pages_[bucket] = kNoPage;
  }
  void Clear() {
    pages_.clear();
    directory_ = kNoPage;
  }

 private:
  uint64_t view_generation_ = 0;
  PageId directory_ = kNoPage;
  std::vector<PageId> pages_;  // kNoPage: not cached
};

}  // namespace pagefs
