// Heap: collection headers, stored reference counts, the orphan list, handles
// and freeing. Blobs and value conversion live in heap_values.cc.
#include "pager/collections/heap.h"

#include <unistd.h>

#include <cstring>

#include "pager/util/error.h"
#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"

namespace pagefs {
namespace {

CollectionHeader LoadHeader(const PageGuard& g) {
  CollectionHeader h;
  std::memcpy(&h, g.data(), sizeof h);
  return h;
}
void StoreHeader(PageGuard& g, const CollectionHeader& h) {
  std::memcpy(g.mutable_data(), &h, sizeof h);
}

void CheckMagic(const CollectionHeader& h, uint64_t id) {
  if (h.magic != CollectionHeader::kMagic) {
    throw Error(ErrorCode::kCorruption, "page " + std::to_string(id) + " is not a collection");
  }
}

}  // namespace

Heap::Heap(PageSpace& space)
    : space_(space), fork_generation_(ForkGeneration()), opener_pid_(::getpid()) {}

void Heap::CheckOpen() const {
  if (forked()) {
    throw Error(ErrorCode::kClosed,
                "pagefs: this store was opened by process " + std::to_string(opener_pid_) +
                    " and process " + std::to_string(::getpid()) +
                    " is a fork of it: a child cannot use its parent's store; open the "
                    "store again in the child");
  }
  if (closed()) throw Error(ErrorCode::kClosed, "pagefs: the store is closed");
}

void Heap::FollowCommits(bool force) {
  // Every top-level operation starts here, before any lock: a forked child
  // must not wait on a lock that a thread of its parent held at the fork.
  if (forked()) CheckOpen();
  if (closed() || !space_.NewerCommit(force)) return;
  std::unique_lock op(op_lock_);
  if (closed()) return;
  space_.FollowCommit();
}

PageGuard Heap::CreateHeader(CollectionKind kind) {
  std::lock_guard l(mu_);
  PageGuard g = space_.Allocate();
  CollectionHeader h{};
  h.magic = CollectionHeader::kMagic;
  h.kind = static_cast<uint8_t>(kind);
  StoreHeader(g, h);
  LinkOrphan(g);
  return g;
}

void Heap::CheckHeader(uint64_t id, CollectionKind kind) {
  PageGuard g = space_.Read(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.kind != static_cast<uint8_t>(kind)) {
    throw Error(ErrorCode::kCorruption, "collection " + std::to_string(id) + " is of another kind");
  }
}

// ---- the orphan list (REQUIRES mu_) -------------------------------------------

void Heap::LinkOrphan(PageGuard& g) {
  Anchors a = space_.anchors();
  CollectionHeader h = LoadHeader(g);
  h.orphan_prev = kNoPage;
  h.orphan_next = a.orphan_head;
  StoreHeader(g, h);
  if (a.orphan_head != kNoPage) {
    PageGuard next = space_.Write(a.orphan_head);
    CollectionHeader nh = LoadHeader(next);
    nh.orphan_prev = g.id();
    StoreHeader(next, nh);
  }
  a.orphan_head = g.id();
  space_.set_anchors(a);
}

void Heap::UnlinkOrphan(PageGuard& g) {
  CollectionHeader h = LoadHeader(g);
  if (h.orphan_prev != kNoPage) {
    PageGuard prev = space_.Write(h.orphan_prev);
    CollectionHeader ph = LoadHeader(prev);
    ph.orphan_next = h.orphan_next;
    StoreHeader(prev, ph);
  } else {
    Anchors a = space_.anchors();
    if (a.orphan_head != g.id()) {
      throw Error(ErrorCode::kCorruption, "collection " + std::to_string(g.id()) + " is not on the orphan list");
    }
    a.orphan_head = h.orphan_next;
    space_.set_anchors(a);
  }
  if (h.orphan_next != kNoPage) {
    PageGuard next = space_.Write(h.orphan_next);
    CollectionHeader nh = LoadHeader(next);
    nh.orphan_prev = h.orphan_prev;
    StoreHeader(next, nh);
  }
  h.orphan_prev = h.orphan_next = kNoPage;
  StoreHeader(g, h);
}

// ---- references -------------------------------------------------------------

void Heap::AddRef(uint64_t id) {
  std::lock_guard l(mu_);
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.refcount == 0) {
    UnlinkOrphan(g);
    h = LoadHeader(g);
  }
  ++h.refcount;
  StoreHeader(g, h);
}

void Heap::Release(uint64_t id) {
  std::lock_guard l(mu_);
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.refcount == 0) {
    throw Error(ErrorCode::kCorruption, "collection " + std::to_string(id) + " released below zero");
  }
  --h.refcount;
  StoreHeader(g, h);
  if (h.refcount != 0) return;
  LinkOrphan(g);
  if (handle_counts_.count(id) != 0) return;
  g.Release();
  free_queue_.push_back(id);
  DrainFreeQueue();
}

void Heap::OnStored(const ValueView& v) {
  if (v.kind == ValueView::Kind::kRef) AddRef(v.ref_id);
}

void Heap::OnDropped(const ValueView& v) {
  switch (v.kind) {
    case ValueView::Kind::kRef:
      Release(v.ref_id);
      break;
    case ValueView::Kind::kBlobStr:
    case ValueView::Kind::kBlobBytes:
    case ValueView::Kind::kBlobBigInt:
      FreeBlob(v.blob_page, v.blob_length);
      break;
    case ValueView::Kind::kTuple:
      DropTuple(v);
      break;
    case ValueView::Kind::kBlobTuple:
      DropBlobTuple(v);
      break;
    default:
      break;
  }
}

// ---- handles ----------------------------------------------------------------

std::shared_ptr<CollectionState> Heap::OpenHandle(uint64_t id) {
  std::lock_guard l(mu_);
  ++handle_counts_[id];
  std::shared_ptr<CollectionState> state = states_[id].lock();
  if (!state) {
    state = std::make_shared<CollectionState>();
    states_[id] = state;
  }
  return state;
}

void Heap::CloseHandle(uint64_t id) {
  if (forked()) return;  // the parent's handles and pages are the parent's
  std::shared_lock op(op_lock_);
  std::lock_guard l(mu_);
  auto it = handle_counts_.find(id);
  if (it == handle_counts_.end() || --it->second != 0) return;
  handle_counts_.erase(it);
  states_.erase(id);
  if (closed() || space_.read_only()) return;
  {
    PageGuard g = space_.Read(id);
    if (LoadHeader(g).refcount != 0) return;
  }
  free_queue_.push_back(id);
  DrainFreeQueue();
}

// ---- freeing ----------------------------------------------------------------

void Heap::CollectOrphans() {
  if (forked()) return;
  std::lock_guard l(mu_);
  if (space_.read_only()) return;
  for (PageId id = space_.anchors().orphan_head; id != kNoPage;) {
    PageGuard g = space_.Read(id);
    CollectionHeader h = LoadHeader(g);
    CheckMagic(h, id);
    if (handle_counts_.count(id) == 0) free_queue_.push_back(id);
    id = h.orphan_next;
  }
  DrainFreeQueue();
}

// Freeing one collection drops its references, which may queue more; the
// queue (not the C++ stack) carries the chain, however long.
void Heap::DrainFreeQueue() {
  if (draining_) return;
  draining_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{draining_};
  while (!free_queue_.empty()) {
    uint64_t id = free_queue_.back();
    free_queue_.pop_back();
    Destroy(id);
  }
}

void Heap::Destroy(uint64_t id) {
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.refcount != 0) return;  // stored again since it was queued
  UnlinkOrphan(g);
  g.Release();
  switch (static_cast<CollectionKind>(h.kind)) {
    case CollectionKind::kList:
    case CollectionKind::kRootMap:
      PersistentList::Destroy(*this, id);
      break;
    case CollectionKind::kDict:
    case CollectionKind::kSet:
      PersistentHash::Destroy(*this, id);
      break;
    default:
      throw Error(ErrorCode::kCorruption, "collection " + std::to_string(id) + " has an unknown kind");
  }
}

PageId Heap::RootMapId(bool create) {
  std::lock_guard l(mu_);
  PageId id = space_.anchors().root_map;
  if (id != kNoPage || !create) return id;
  id = CreateHeader(CollectionKind::kRootMap).id();
  AddRef(id);
  Anchors a = space_.anchors();
  a.root_map = id;
  space_.set_anchors(a);
  return id;
}

}  // namespace pagefs
