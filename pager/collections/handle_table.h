// HandleTable: the in-process handles on open collections. A handle (a
// PersistentList object, so a Python object) keeps its collection from being
// freed while it lives, whatever the stored references say. All handles on
// one id share one CollectionState, whose mutex serializes the operations on
// that collection.
//
// Handles are counted in memory only; the persistent side (stored references,
// the orphan list) is CollectionHeaders'.
//
// Thread safety: none of its own. The heap calls it under its mutex, so that
// opening a handle and freeing a collection without handles never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "pager/collections/bucket_cache.h"
#include "pager/util/page.h"

namespace pagefs {

// A list's root fields (its header's size, height and root page) as a read
// last found them, so that a lookup pins no header. Kept under the
// collection's mutex; true only in the view generation of the space it was
// read in (a reader's move to a newer commit changes it) and until the next
// change through this process's handles, which forgets it first
// (PersistentList::Changing): nothing else changes a list's root fields.
struct ListRootMemo {
  bool valid = false;
  uint64_t view_generation = 0;
  uint64_t size = 0;
  uint32_t height = 0;
  PageId page = kNoPage;
};

// What a collection's reads guess about where the bytes they touch next lie,
// so that they start fetching those cache lines early (ListTree::PrefetchLeaf).
// Hints only, valid in any generation: a wrong one costs a useless prefetch.
struct ReadHints {
  // The mean stored size of the values up to the one last read on its leaf.
  uint32_t value_bytes = 0;
};

struct CollectionState {
  std::mutex mu;  // serializes every operation on this collection
  // Bumped by every change made through a handle of this process (in memory
  // only): an iterator holding values read ahead compares it to know they
  // are still what the collection holds.
  std::atomic<uint64_t> changes{0};
  // A dict's or set's bucket directory, as far as lookups read it (under mu).
  BucketCache buckets;
  // A list's root, as its last read found it (under mu).
  ListRootMemo list_root;
  // The reads' guesses (under mu).
  ReadHints hints;
};

class HandleTable {
 public:
  HandleTable() = default;
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  // One more handle on id; the state every open handle on id shares.
  std::shared_ptr<CollectionState> Open(PageId id);
  // One handle on id fewer; true when it was the last (the table forgets id).
  // False, changing nothing, when id has no open handle.
  bool Close(PageId id);
  bool IsOpen(PageId id) const { return counts_.count(id) != 0; }
  // Ids with at least one open handle.
  size_t size() const { return counts_.size(); }

 private:
  std::unordered_map<PageId, uint64_t> counts_;
  // The shared state, kept while a handle or an adopted copy of it lives.
  std::unordered_map<PageId, std::weak_ptr<CollectionState>> states_;
};

}  // namespace pagefs
