// Heap: where collections are born, referenced and freed on a PageSpace.
//
// A collection's id is the PageId of its header page. Every header begins with
// the common CollectionHeader prefix (kind, stored-reference count, links of
// the orphan list); the rest of the page belongs to the collection's kind.
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
// across all its handles. The op lock is taken shared by every collection
// operation and exclusively by commit/close.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pager/space/page_space.h"
#include "pager/util/fork_guard.h"
#include "pager/values/value_format.h"

namespace pagefs {

struct CollectionHeader {
  static constexpr uint32_t kMagic = 0x50464331;  // "PFC1"
  uint32_t magic;
  uint8_t kind;  // CollectionKind
  uint8_t reserved[3];
  uint64_t refcount;
  PageId orphan_prev;
  PageId orphan_next;
};
static_assert(sizeof(CollectionHeader) == 32);

struct CollectionState {
  std::mutex mu;  // serializes every operation on this collection
  uint64_t handles = 0;
};

class Heap {
 public:
  explicit Heap(PageSpace& space);
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  PageSpace& space() { return space_; }
  std::shared_mutex& op_lock() { return op_lock_; }

  // A new collection header page of kind, refcount 0, on the orphan list.
  // The caller fills in the kind-specific part through the returned guard.
  PageGuard CreateHeader(CollectionKind kind);
  // Reads and checks the header of id. Throws Error(kCorruption) when id is not
  // a collection of kind.
  void CheckHeader(uint64_t id, CollectionKind kind);

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

  // After MarkClosed (by Store::Close, under the op lock held exclusively),
  // every collection operation throws Error(kClosed) instead of touching pages.
  void MarkClosed() { closed_.store(true, std::memory_order_release); }
  // In a process forked after the heap was made (fork_guard.h) the heap is
  // closed too: the child never touches the parent's pages or locks.
  bool closed() const { return closed_.load(std::memory_order_acquire) || forked(); }
  bool forked() const { return fork_generation_ != ForkGeneration(); }
  // Throws Error(kClosed) if closed, saying so when this is a forked child.
  // Call with the op lock held, or before taking it.
  void CheckOpen() const;
  // For a space that shows one commit at a time (a read-only store through
  // a mount): moves to the newest commit when there is a newer one. Every
  // top-level operation calls it first, so each one reads exactly one commit
  // and a new commit is picked up by the operations that start after the
  // space notices it (PageSpace::NewerCommit). REQUIRES: the op lock not held.
  void FollowCommits(bool force = false);

  // Blobs: long str/bytes/int payloads stored out of line, in a chain of
  // pages that each start with the u64 id of the next (docs/value_format.md).
  // A payload longer than blob_threshold() (a quarter page less 16 bytes) is
  // a blob, so a leaf always holds at least four values.
  size_t blob_threshold() const { return space_.page_size() / 4 - 16; }
  PageId WriteBlob(std::string_view payload);
  // Appends the payload to out. Throws Error(kCorruption) on a short chain.
  void ReadBlob(PageId first, uint64_t length, std::string& out);
  void FreeBlob(PageId first, uint64_t length);

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
  void AddRef(uint64_t id);
  void Release(uint64_t id);
  void LinkOrphan(PageGuard& header);
  void UnlinkOrphan(PageGuard& header);
  void Destroy(uint64_t id);  // frees the collection's pages, queues its references
  void DrainFreeQueue();

  PageSpace& space_;
  const uint64_t fork_generation_;
  const int opener_pid_;  // for the message a forked child gets
  std::atomic<bool> closed_{false};
  std::shared_mutex op_lock_;
  std::recursive_mutex mu_;  // guards refcounts, the orphan list and states_
  std::unordered_map<uint64_t, std::weak_ptr<CollectionState>> states_;
  std::unordered_map<uint64_t, uint64_t> handle_counts_;
  std::vector<uint64_t> free_queue_;
  bool draining_ = false;  // DrainFreeQueue is running (guarded by mu_)
  std::mutex root_map_mu_;
};

}  // namespace pagefs
