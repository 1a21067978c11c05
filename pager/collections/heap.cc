// Heap: stored references, handles and freeing, over the collection headers
// and the handle table. Value conversion lives in heap_values.cc.
#include "pager/collections/heap.h"

#include <string>

#include "pager/util/error.h"

namespace pagefs {

Heap::Heap(PageSpace& space, const KindRegistry& kinds, std::string name)
    : space_(space), kinds_(kinds), gate_(space, std::move(name)), blobs_(space), headers_(space) {}

PageGuard Heap::CreateHeader(CollectionKind kind) {
  RecursiveLock l(mu_);
  return headers_.Create(kind);
}

// ---- references -------------------------------------------------------------

void Heap::Release(uint64_t id) {
  RecursiveLock l(mu_);
  if (!headers_.Release(id) || handles_.IsOpen(id)) return;
  free_queue_.push_back(id);
  DrainFreeQueue();
}

void Heap::OnStored(const ValueView& v) {
  if (v.kind != ValueView::Kind::kRef) return;
  RecursiveLock l(mu_);
  headers_.AddRef(v.ref_id);
}

void Heap::OnDropped(const ValueView& v) {
  switch (v.kind) {
    case ValueView::Kind::kRef: Release(v.ref_id); break;
    case ValueView::Kind::kBlobStr:
    case ValueView::Kind::kBlobBytes:
    case ValueView::Kind::kBlobBigInt: blobs_.Free(v.blob_page, v.blob_length); break;
    case ValueView::Kind::kTuple: DropTuple(v); break;
    case ValueView::Kind::kBlobTuple: DropBlobTuple(v); break;
    default: break;
  }
}

// ---- handles ----------------------------------------------------------------

std::shared_ptr<CollectionState> Heap::OpenHandle(uint64_t id) {
  RecursiveLock l(mu_);
  return handles_.Open(id);
}

void Heap::CloseHandle(uint64_t id) {
  if (forked()) return;  // the parent's handles and pages are the parent's
  std::shared_lock op(op_lock());
  RecursiveLock l(mu_);
  if (!handles_.Close(id)) return;
  if (closed() || space_.read_only()) return;
  if (headers_.Load(id).refcount != 0) return;
  free_queue_.push_back(id);
  DrainFreeQueue();
}

// ---- freeing ----------------------------------------------------------------

void Heap::CollectOrphans() {
  if (forked()) return;
  RecursiveLock l(mu_);
  if (space_.read_only()) return;
  // The whole list first: a walk that finds it damaged queues nothing.
  std::vector<uint64_t> unheld;
  headers_.ForEachOrphan([&](PageId id) {
    if (!handles_.IsOpen(id)) unheld.push_back(id);
  });
  free_queue_.insert(free_queue_.end(), unheld.begin(), unheld.end());
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
  const CollectionHeader h = headers_.Load(id);
  if (h.refcount != 0) return;                     // stored again since it was queued
  const KindHooks& kind = kinds_.Get(h.kind, id);  // before any change
  headers_.Unlink(id);
  kind.destroy(*this, id);
}

PageId Heap::RootMapId(bool create) {
  RecursiveLock l(mu_);
  PageId id = space_.anchors().root_map;
  if (id != kNoPage || !create) return id;
  id = headers_.Create(CollectionKind::kRootMap).id();
  headers_.AddRef(id);
  Anchors a = space_.anchors();
  a.root_map = id;
  space_.set_anchors(a);
  return id;
}

}  // namespace pagefs
