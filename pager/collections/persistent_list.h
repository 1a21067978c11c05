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
// A PersistentList object is a handle (CollectionHandle); several handles on
// one id share one CollectionState and so one lock. Every method runs under
// an OpScope (the heap's op lock shared, the collection's mutex); methods are
// safe from any thread.
// Errors: Error(kOutOfRange) for an index out of range (message like Python's),
// plus whatever the PageSpace throws.
//
// A value read out of a collection may reference a list that nothing else
// keeps alive: once the collection's lock is dropped, another thread may
// erase that value and the heap frees the list. Whoever wants a handle on a
// visited reference opens it from inside the visitor, through
// ReferencedLists, and adopts it afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "pager/collections/collection_handle.h"
#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"
#include "pager/collections/list_tree.h"

namespace pagefs {

class PersistentList {
 public:
  using Visitor = std::function<void(std::string_view encoded)>;

  // Creates an empty list (refcount 0, on the orphan list) and returns its id.
  static uint64_t Create(Heap& heap);
  // Opens a handle on an existing list. Throws Error(kCorruption) when id is
  // not a list.
  PersistentList(Heap& heap, uint64_t id);
  // Adopts a handle already opened on list id: opened is what
  // heap.OpenHandle(id) returned, not yet closed; this object closes it.
  // Takes no lock and reads no page (see ReferencedLists).
  PersistentList(Heap& heap, uint64_t id, std::shared_ptr<CollectionState> opened)
      : handle_(heap, id, std::move(opened)) {}
  // Closes the handle: REQUIRES the calling thread does not hold the heap's
  // op lock (so never from inside a visitor).
  ~PersistentList() = default;
  PersistentList(const PersistentList&) = delete;
  PersistentList& operator=(const PersistentList&) = delete;

  uint64_t id() const { return handle_.id(); }
  Heap& heap() { return handle_.heap(); }

  uint64_t size();
  // How many changes this process has made to the list (through any handle
  // on it), without taking its lock: equal counts around a read mean that
  // nothing here changed the list meanwhile. A writer in another process is
  // not counted.
  uint64_t changes() const { return handle_.changes(); }
  // Visitors run with the list locked: they must not call back into it, nor
  // close a handle; they may open handles (ReferencedLists::Open).
  // fn(value at i). REQUIRES i < size(), else Error(kOutOfRange).
  void Get(uint64_t i, const Visitor& fn);
  // The same with Python's index rule (a negative i counts from the end),
  // resolved and read in one locked step; Error(kOutOfRange) when out of range.
  void GetSigned(int64_t i, const Visitor& fn);
  // fn(value) for i in [start, stop), in order; stop is clamped to size().
  void Scan(uint64_t start, uint64_t stop, const Visitor& fn);
  // The same, from stop-1 down to start.
  void ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn);
  void Set(uint64_t i, std::string_view encoded);
  // Inserts before i; i is clamped to [0, size()] by the caller.
  void Insert(uint64_t i, std::string_view encoded);
  // Single-element edits with Python's index rules, the index resolved
  // against the size inside the same locked step as the edit (so a racing
  // thread can never make it name another element): SetSigned and EraseSigned
  // throw Error(kOutOfRange) "list assignment index out of range" when i (negative
  // counts from the end) is out of range then; InsertSigned clamps i like
  // list.insert.
  void SetSigned(int64_t i, std::string_view encoded);
  void EraseSigned(int64_t i);
  void InsertSigned(int64_t i, std::string_view encoded);
  // Inserts count values, given as one concatenated run, before i (clamped
  // to size()), in order, under one lock: no other operation sees part of
  // the run. Error(kInvalidArgument) and no change when run is not count
  // well-formed inline values.
  void InsertRun(uint64_t i, std::string_view run, uint64_t count);
  // Removes [start, stop) (both clamped to size()) and inserts run there,
  // as one operation: what `lst[start:stop] = values` does. A malformed run
  // is rejected before anything is removed.
  void Replace(uint64_t start, uint64_t stop, std::string_view run, uint64_t count);
  // Removes the value at i and hands it to fn first, as one operation, so
  // two threads popping never get the same value. i is a Python index
  // (negative counts from the end). Error(kOutOfRange) "pop from empty list" or
  // "pop index out of range", with the list unchanged. fn runs with the list
  // locked, before the erase: a reference it visits still holds its target,
  // so fn may open a handle on it (ReferencedLists::Open).
  void Pop(int64_t i, const Visitor& fn);
  // Extended slices (lst[start:stop:step]), each one operation under the
  // list's lock, the slice resolved against the size there (ListSlice):
  // start, stop and step as PySlice_Unpack gives them, step != 0.
  // EraseSlice removes the positions the slice names (del lst[a:b:c]).
  // AssignSlice sets them, in the slice's order, to the count values of run
  // (lst[a:b:c] = values); step must not be 1 (that is Replace), else
  // Error(kInvalidArgument). Error(kInvalidArgument) "attempt to assign
  // sequence of size <count> to extended slice of size <positions>" when the
  // counts differ, and no change, as for a malformed run.
  void EraseSlice(int64_t start, int64_t stop, int64_t step);
  void AssignSlice(int64_t start, int64_t stop, int64_t step, std::string_view run, uint64_t count);
  // Appends count values given as one concatenated run.
  void Append(std::string_view run, uint64_t count);
  // Removes [start, stop).
  void Erase(uint64_t start, uint64_t stop);
  void Clear();
  void Reverse();
  // Checks the tree's invariants (Error(kCorruption) on a violation) and
  // reports its shape. O(pages); for tests and `pagefs check`.
  ListShape Verify();

  // Registers CollectionKind::kList: destroyed by freeing its tree (values'
  // references and blobs dropped) and its header, verified by CheckListTree.
  static void RegisterKind(KindRegistry& kinds);
  // Frees every page of list tree id, its header included, and drops its
  // references (the destroy hook of the kinds built on a list tree).
  static void Destroy(Heap& heap, uint64_t id);

 private:
  // Runs fn(tree), which changes nothing, under the collection's OpScope
  // and a ReadOnlyOpScope (util/read_only_op.h).
  template <typename Fn>
  auto Reading(Fn&& fn);
  // The same, without the ReadOnlyOpScope, for an operation that changes
  // the list: counts the change once fn has returned (a refused edit
  // changes nothing and counts nothing).
  template <typename Fn>
  void Changing(Fn&& fn);

  CollectionHandle handle_;
};

// Handles on the lists referenced by visited values, opened while the
// visited collection is still locked, so that no concurrent erase can free
// such a list between the read and the opening of its handle.
//
//   ReferencedLists refs(heap);
//   list.Get(i, [&](std::string_view v) { value = v; refs.Open(v); });
//   ... std::unique_ptr<PersistentList> nested = refs.Adopt(ref_id);
//
// One object per reading thread (not thread-safe). Handles not adopted are
// closed by CloseAll or the destructor, which may free those lists.
class ReferencedLists {
 public:
  explicit ReferencedLists(Heap& heap) : heap_(heap) {}
  // REQUIRES, as CloseAll.
  ~ReferencedLists();
  ReferencedLists(const ReferencedLists&) = delete;
  ReferencedLists& operator=(const ReferencedLists&) = delete;

  // If encoded is a reference to a list, dict or set (or a tuple holding
  // some), opens a handle on each. Call it from
  // a visitor (the heap's op lock and the visited collection's lock held).
  // Error(kCorruption) when a reference does not name a collection of its kind.
  // In a NoWaitScope, throws WouldWait for a reference or a tuple, opening
  // nothing.
  void Open(std::string_view encoded);
  // One handle opened by Open on list id, now owned by the caller; nullptr
  // when none is left.
  std::unique_ptr<PersistentList> Adopt(uint64_t id);
  // The same for a collection of any kind (a dict, a set): the opened
  // state, for its handle's adopting constructor; nullptr when none is left.
  std::shared_ptr<CollectionState> AdoptState(uint64_t id);
  bool empty() const { return opened_.empty(); }
  // Closes every handle not adopted. REQUIRES the calling thread does not
  // hold the heap's op lock (never from inside a visitor).
  void CloseAll();

 private:
  Heap& heap_;
  std::unordered_multimap<uint64_t, std::shared_ptr<CollectionState>> opened_;
};

}  // namespace pagefs
