// ListTree: the counted B+tree behind PersistentList and RootMap, working on
// one collection header page (docs/list_format.md). It has no locks of its
// own: the owners (PersistentList, RootMap) take them.
//
// REQUIRES for every method: the caller holds the heap's op lock (shared) and
// the collection's mutex, and has checked that the heap is open. Visitors
// must not call back into the same collection (its mutex is held).
//
// Values come in as inline encodings and go through Heap::ToStored (blobs,
// reference counts); overwritten and erased values go through
// Heap::OnDropped; values handed to visitors are inline again.
// Errors: Error(kOutOfRange) for an index out of range, Error(kInvalidArgument)
// for a run that is not `count` well-formed inline values, Error(kCorruption)
// for a page that is not what the tree expects, plus what the PageSpace throws.
// A PageSpace failure in the middle of a change may leave the tree
// inconsistent; the store refuses to commit after such failures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pager/collections/heap.h"
#include "pager/collections/list_slice.h"

namespace pagefs {

class ListNode;

// Layout of the list-specific part of a header page, after CollectionHeader.
struct ListHeaderFields {
  static constexpr uint32_t kSize = 32;    // u64 number of values
  static constexpr uint32_t kHeight = 40;  // u32 levels; 0 = empty, 1 = root is a leaf
  static constexpr uint32_t kRoot = 48;    // u64 root page, 0 when empty
};

// What Verify found: the tree's shape, for tests and `pagefs check`.
struct ListShape {
  uint64_t size = 0;
  uint32_t height = 0;
  uint64_t leaves = 0;
  uint64_t nodes = 0;            // internal pages
  uint64_t leaf_bytes_used = 0;  // values and offsets, over all leaves
  uint64_t leaf_capacity = 0;    // what the leaves could hold
  double fill() const { return leaf_capacity == 0 ? 1.0 : double(leaf_bytes_used) / leaf_capacity; }
};

class ListTree {
 public:
  // A scan tells the space which leaves it reads next (PageSpace::WillRead),
  // this many bytes of them (at least two) at a time, again once half are
  // read: on a mapped mount each would otherwise be a fault and a round trip.
  static constexpr uint32_t kScanAheadBytes = 128 << 10;

  using Visitor = std::function<void(std::string_view encoded)>;

  // memo (may be null): the collection's remembered root fields, used and
  // filled by the reads (size, Get, GetSigned) instead of pinning the header.
  // hints (may be null): the collection's read hints, kept by the reads.
  ListTree(Heap& heap, PageId header, ListRootMemo* memo = nullptr, ReadHints* hints = nullptr);

  uint64_t size();
  void Get(uint64_t i, const Visitor& fn);
  // Get with Python's index rule: a negative i counts from the end.
  void GetSigned(int64_t i, const Visitor& fn);
  void Scan(uint64_t start, uint64_t stop, const Visitor& fn);
  void ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn);
  // The leaf page holding value i, pinned, and i's place on it in *at: for
  // callers reading a value or two in place, without a visitor call each.
  // Values on it are in stored form: one with NeedsInlining (a blob) must be
  // read through Get or Scan instead. REQUIRES i < size().
  PageGuard PinLeaf(uint64_t i, uint32_t* at);
  // Where the tree starts, as its header page says: for a caller that has
  // the header pinned already (the hash table, whose log this tree is).
  struct Root {
    uint64_t size = 0;
    uint32_t height = 0;
    PageId page = kNoPage;
  };
  static Root RootOf(const uint8_t* header);
  // PinLeaf from a Root read since the tree last changed, without pinning
  // the header again.
  PageGuard PinLeaf(const Root& root, uint64_t i, uint32_t* at);
  void Set(uint64_t i, std::string_view encoded);
  void Insert(uint64_t i, std::string_view encoded);
  void Append(std::string_view run, uint64_t count);
  void Erase(uint64_t start, uint64_t stop);
  // Removes the positions of s (all < size()) in one walk: each leaf they
  // fall in is compacted once, subtrees they miss are not visited.
  void EraseSlice(const ListSlice& s);
  void Clear();
  void Reverse();
  // Walks the whole tree and checks every structural invariant; throws
  // Error(kCorruption) naming the first violation.
  ListShape Verify();

 private:
  struct Split {
    PageId id = kNoPage;  // new right sibling, or kNoPage when none
    uint64_t count = 0;   // values in it
  };
  enum class Mode { kInsert, kSet };

  // Reads. A scan has advised node's children up to edge (forward: the
  // slots below it; backward: from it on); remaining counts the values it
  // still reads.
  struct ScanAhead {
    bool forward = true;
    uint64_t remaining = 0;
    PageId node = kNoPage;
    uint32_t edge = 0;
  };
  // ahead: the scan's advice, given at the leaves' parent (nullptr: none).
  PageGuard DescendRead(PageId root, uint32_t height, uint64_t* k, ScanAhead* ahead = nullptr);
  // Starts fetching the cache lines a read of value k on leaf id touches.
  void PrefetchLeaf(PageId id, uint64_t k);
  // k: the index within node of the value read next, in its child slot.
  void AdviseLeaves(const ListNode& node, PageId id, uint32_t slot, uint64_t k, ScanAhead& ahead);
  void Emit(std::string_view stored, const Visitor& fn);

  // Insert and set (list_tree.cc).
  // dropped receives a copy of the stored bytes a kSet replaced, when they
  // own something (a blob, a reference, a tuple).
  Split Modify(PageId id, uint32_t h, uint64_t k, std::string_view v, Mode mode,
               std::string* dropped);
  Split ModifyLeaf(PageGuard& g, uint64_t k, std::string_view v, Mode mode, std::string* dropped);
  void GrowRoot(uint8_t* hdr, Split s, uint64_t total);
  void AttachRightmost(uint8_t* hdr, std::vector<PageGuard>& path, size_t level, PageGuard node);

  // Shrinking (list_tree_shrink.cc).
  void EraseRange(PageId id, uint32_t h, uint64_t a, uint64_t b);
  void EraseEvery(PageId id, uint32_t h, uint64_t first, uint64_t stride, uint64_t count);
  void FixUnderflow(PageGuard& parent, uint32_t h, uint32_t slot);
  void CollapseRoot(uint8_t* hdr);
  void FreeSubtree(PageId id, uint32_t h);
  void DropValues(const uint8_t* leaf_page, uint32_t a, uint32_t b);
  void Mirror(PageId id, uint32_t h);
  uint64_t CheckSubtree(PageId id, uint32_t h, ListShape& shape);

  // Evens out (or, when merge is set and they fit, merges into left) two
  // adjacent siblings. Returns true when right is left empty by a merge.
  bool RedistributeLeaves(PageGuard& left, PageGuard& right, bool merge);
  bool RedistributeNodes(PageGuard& left, PageGuard& right, bool merge);
  bool Underfull(const PageGuard& g, uint32_t h) const;
  uint64_t Total(const PageGuard& g, uint32_t h) const;

  [[noreturn]] void Corrupt(const std::string& what) const;
  // The header's root fields: from the memo when it holds this view's,
  // else read from the header page (and remembered).
  Root CurrentRoot();

  Heap& heap_;
  PageSpace& space_;
  const PageId header_;
  ListRootMemo* const memo_;
  ReadHints* const hints_;
  const uint32_t page_size_;
};

}  // namespace pagefs
