// Heap: where collections are born, referenced and freed on a PageSpace. It
// composes four pieces, each in its own file:
//
// - CollectionHeaders (collection_headers.h): the common header of every
//   collection, its stored-reference count and the persistent orphan list;
// - Blobs (blobs.h): long payloads stored out of line;
// - HandleTable (handle_table.h): the in-process handles on open collections;
// - OpGate (op_gate.h): the store-wide op lock and the closed flag;
//
// and dispatches what differs between kinds of collection (how one is
// destroyed) through a KindRegistry (kind_registry.h). A collection's id is
// the PageId of its header page.
//
// Lifetime rules (docs/collections.md "Collection lifetime"):
// - refcount counts *stored* references: from the root map and from elements
//   of other collections. Handles (Python objects) are counted separately, in
//   memory only.
// - A collection with refcount 0 is on the persistent orphan list (anchored in
//   Anchors::orphan_head). It is freed, with all its pages, when its last handle
//   closes, or by CollectOrphans() (at open, when no process can hold a handle,
//   and at close). So a crash never leaks an unreferenced collection for good.
// - Freeing a collection drops its stored references to others, which may
//   free them in turn (iteratively, never by deep recursion).
// - Reference cycles between unreachable collections are not collected.
//
// Thread safety: all methods may be called from any thread. Each collection id
// has one CollectionState whose mutex serializes operations on that collection
// across all its handles; collection operations pass the gate first
// (OpScope, op_scope.h). The heap's own mutex guards the headers' bookkeeping,
// the handle table and the free queue (lock order: collection mutex, heap
// mutex, pool mutex, volume mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pager/collections/blobs.h"
#include "pager/collections/collection_headers.h"
#include "pager/collections/handle_table.h"
#include "pager/collections/kind_registry.h"
#include "pager/collections/op_gate.h"
#include "pager/space/page_space.h"
#include "pager/util/mutex.h"
#include "pager/values/value_format.h"

namespace pagefs {

class Heap {
 public:
  // kinds must outlive the heap (BuiltinKinds() does). name describes the
  // store in messages ("prefix 'data' of /srv/db"): closed, it says
  // "<name> is closed".
  Heap(PageSpace& space, const KindRegistry& kinds, std::string name = "the store");
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  PageSpace& space() { return space_; }
  const KindRegistry& kinds() const { return kinds_; }
  OpGate& gate() { return gate_; }
  Blobs& blobs() { return blobs_; }

  // The gate's, for the store and the mount (op_gate.h says what each does).
  std::shared_mutex& op_lock() { return gate_.lock(); }
  void MarkClosed() { gate_.MarkClosed(); }
  bool closed() const { return gate_.closed(); }
  bool forked() const { return gate_.forked(); }
  void CheckOpen() const { gate_.CheckOpen(); }
  void FollowCommits(bool force = false) { gate_.FollowCommits(force); }

  // A new collection header page of kind, refcount 0, on the orphan list.
  // The caller fills in the kind-specific part through the returned guard.
  PageGuard CreateHeader(CollectionKind kind);
  // Reads and checks the header of id. Throws Error(kCorruption) when id is not
  // a collection of kind.
  void CheckHeader(uint64_t id, CollectionKind kind) { headers_.Check(id, kind); }

  // In-process handles. OpenHandle returns the shared per-collection state;
  // CloseHandle frees the collection if it was the last handle and nothing
  // stored refers to it. CloseHandle takes the op lock itself: REQUIRES the
  // caller does not hold it. After close it only forgets the handle (the
  // orphan is collected at the next open). OpenHandle takes only mu_, so it
  // may run under a collection's mutex (the lock order is collection mutex,
  // then mu_): that is how a reader pins a list it just read a reference to
  // (ReferencedLists in persistent_list.h).
  std::shared_ptr<CollectionState> OpenHandle(uint64_t id);
  void CloseHandle(uint64_t id);

  // A value is being stored into / dropped from a collection: adjust refcounts
  // of referenced collections and free blobs of dropped values. Dropping the
  // last reference frees the target (unless a handle holds it).
  void OnStored(const ValueView& v);
  void OnDropped(const ValueView& v);

  // Free every orphan with no open handle.
  void CollectOrphans();

  // The stored form of one inline value: the value itself, or a blob
  // reference written into scratch for a long payload (a tuple: its elements
  // stored so, and the whole tuple a blob when its stored form is longer
  // than blob_threshold()). Calls OnStored for every reference in it.
  // Throws Error(kInvalidArgument) for a blob form (callers pass inline forms
  // only) and Error(kCorruption) for a reference to something not a collection.
  std::string_view ToStored(std::string_view inline_value, std::string& scratch);
  // Error(kInvalidArgument) for a blob form anywhere in the inline value v,
  // Error(kCorruption) for a reference in it to something not a collection
  // of its kind. ToStored calls it first.
  void CheckStorable(std::string_view v);
  // The inline form of a stored value: blobs are read back into scratch.
  std::string_view ToInline(std::string_view stored, std::string& scratch);

  // The root map's header page. When there is none yet and create is set, it
  // is created with one reference, held by the anchor, so it is never an
  // orphan and never freed; otherwise kNoPage.
  PageId RootMapId(bool create);
  // Serializes operations on the root map (it has no handles).
  std::mutex& root_map_mu() { return root_map_mu_; }

 private:
  // ToStored after CheckStorable passed.
  std::string_view StoreChecked(std::string_view v, std::string& scratch);
  std::string StoreElements(const ValueView& tuple);
  void DropTuple(const ValueView& tuple);
  void DropBlobTuple(const ValueView& blob);
  void Release(uint64_t id);
  // Frees the collection's pages through its kind, queues its references.
  void Destroy(uint64_t id) REQUIRES(mu_);
  void DrainFreeQueue() REQUIRES(mu_);

  PageSpace& space_;
  const KindRegistry& kinds_;
  OpGate gate_;
  Blobs blobs_;
  // Recursive: a kind's destroy hook drops references (Release) under it.
  RecursiveMutex mu_;
  // Its refcounts and orphan list change under mu_; Check only reads a header.
  CollectionHeaders headers_;
  HandleTable handles_ GUARDED_BY(mu_);
  std::vector<uint64_t> free_queue_ GUARDED_BY(mu_);
  bool draining_ GUARDED_BY(mu_) = false;  // DrainFreeQueue is running
  std::mutex root_map_mu_;
};

}  // namespace pagefs
