// CollectionHandle: one in-process handle on a collection, the part every
// typed handle (PersistentList; dict, set and tuple to come) shares. While
// it lives the heap does not free the collection, whatever its stored
// references say; all handles on one id share one CollectionState, and so
// one mutex (HandleTable).
//
// Thread safety: a handle may be used from any thread; Lock serializes the
// operations on its collection across all handles on it.
#pragma once

#include <cstdint>
#include <memory>

#include "pager/collections/heap.h"
#include "pager/collections/op_scope.h"

namespace pagefs {

class CollectionHandle {
 public:
  // Creates a collection of kind (an empty header: refcount 0, on the orphan
  // list) and returns its id. The kind-specific part of the header is zero.
  static PageId Create(Heap& heap, CollectionKind kind);

  // Opens a handle on collection id. Error(kCorruption) when id is not a
  // collection of kind, Error(kClosed) on a closed store.
  CollectionHandle(Heap& heap, PageId id, CollectionKind kind);
  // Adopts a handle already opened on id: opened is what heap.OpenHandle(id)
  // returned, not yet closed; this object closes it. Takes no lock and reads
  // no page (ReferencedLists, persistent_list.h).
  CollectionHandle(Heap& heap, PageId id, std::shared_ptr<CollectionState> opened)
      : heap_(heap), id_(id), state_(std::move(opened)) {}
  // Closes the handle, which may free the collection: REQUIRES the calling
  // thread does not hold the heap's op lock (so never from inside a visitor).
  ~CollectionHandle();
  CollectionHandle(const CollectionHandle&) = delete;
  CollectionHandle& operator=(const CollectionHandle&) = delete;

  Heap& heap() const { return heap_; }
  PageId id() const { return id_; }
  // The prologue of one operation on the collection (op_scope.h).
  OpScope Lock() const { return OpScope(heap_, state_->mu); }
  // The count of changes made to the collection through this process's
  // handles (CollectionState::changes); NoteChange, called by a changing
  // operation before it drops the lock, adds one.
  uint64_t changes() const { return state_->changes.load(std::memory_order_acquire); }
  void NoteChange() const { state_->changes.fetch_add(1, std::memory_order_acq_rel); }
  // The state every handle on the collection shares: use it only under
  // Lock() (its mutex).
  CollectionState& state() const { return *state_; }

 private:
  Heap& heap_;
  const PageId id_;
  std::shared_ptr<CollectionState> state_;
};

}  // namespace pagefs
