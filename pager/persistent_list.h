// PersistentList: a list of values laid out on pages as a counted B+tree
// (a rope): leaves hold packed encoded values, internal nodes hold child page
// ids with cumulative element counts. Indexing touches O(height) pages, append
// is amortized O(1) (the tail leaf is found from the header), and insert or
// erase in the middle rewrites only one root-to-leaf path (plus a split or
// merge), never the list. Page layouts: docs/list_format.md.
//
// Values are passed in their encoded inline form (value_format.h). A run of
// values is their concatenation. Long str/bytes are moved into blobs on store
// and read back transparently.
//
// A PersistentList object is a handle; several handles on one id share one
// CollectionState and so one lock. Every method takes the heap's op lock
// shared and the collection's mutex; methods are safe from any thread.
// Errors: Error(kIndex) for an index out of range (message like Python's),
// plus whatever the PageSpace throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "pager/heap.h"
#include "pager/list_tree.h"

namespace pagefs {

class PersistentList {
 public:
  using Visitor = std::function<void(std::string_view encoded)>;

  // Creates an empty list (refcount 0, on the orphan list) and returns its id.
  static uint64_t Create(Heap& heap);
  // Opens a handle on an existing list. Throws Error(kCorruption) when id is
  // not a list.
  PersistentList(Heap& heap, uint64_t id);
  ~PersistentList();
  PersistentList(const PersistentList&) = delete;
  PersistentList& operator=(const PersistentList&) = delete;

  uint64_t id() const { return id_; }
  Heap& heap() { return heap_; }

  uint64_t size();
  // Visitors run with the list locked: they must not call back into it.
  // fn(value at i). REQUIRES i < size(), else Error(kIndex).
  void Get(uint64_t i, const Visitor& fn);
  // fn(value) for i in [start, stop), in order; stop is clamped to size().
  void Scan(uint64_t start, uint64_t stop, const Visitor& fn);
  // The same, from stop-1 down to start.
  void ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn);
  void Set(uint64_t i, std::string_view encoded);
  // Inserts before i; i is clamped to [0, size()] by the caller.
  void Insert(uint64_t i, std::string_view encoded);
  // Appends count values given as one concatenated run.
  void Append(std::string_view run, uint64_t count);
  // Removes [start, stop).
  void Erase(uint64_t start, uint64_t stop);
  void Clear();
  void Reverse();
  // Checks the tree's invariants (Error(kCorruption) on a violation) and
  // reports its shape. O(pages); for tests and `pagefs check`.
  ListShape Verify();

  // Frees every page of list id and drops its references (called by the heap).
  static void Destroy(Heap& heap, uint64_t id);

 private:
  template <typename Fn>
  auto Locked(Fn&& fn);

  Heap& heap_;
  const uint64_t id_;
  std::shared_ptr<CollectionState> state_;
};

}  // namespace pagefs
