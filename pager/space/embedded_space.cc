#include "pager/space/embedded_space.h"

#include <chrono>

#include "pager/space/mounted_space.h"
#include "pager/util/read_only_op.h"

namespace pagefs {

EmbeddedSpace::EmbeddedSpace(Volume& volume, BufferPool& pool)
    : volume_(&volume), pool_(&pool), anchors_(volume.committed().anchors) {}

void EmbeddedSpace::Rebind(Volume& volume, BufferPool& pool) {
  MutexLock lock(anchors_mu_);
  volume_ = &volume;
  pool_ = &pool;
  anchors_ = volume.committed().anchors;
  view_generation_.fetch_add(1, std::memory_order_acq_rel);
}

PageGuard EmbeddedSpace::Read(PageId id) { return pool_->Pin(id, false); }

uint64_t EmbeddedSpace::Prefetch(PageId first, uint64_t count) {
  return pool_->Prefetch(first, count);
}

void EmbeddedSpace::PrefetchAsync(PageId first, uint64_t count, PageId advise_first,
                                  uint64_t advise_count) {
  pool_->PrefetchAsync(first, count, advise_first, advise_count);
}

PageGuard EmbeddedSpace::Write(PageId id) {
  volume_->CheckWritable();
  ReadOnlyOpScope::RefuseChange(volume_->name());
  return pool_->Pin(id, true);
}

PageGuard EmbeddedSpace::Allocate() {
  ReadOnlyOpScope::RefuseChange(volume_->name());
  PageId id = volume_->AllocateId();
  return pool_->PinNew(id);
}

void EmbeddedSpace::Free(PageId id) {
  volume_->CheckWritable();
  ReadOnlyOpScope::RefuseChange(volume_->name());
  // One step under the pool's miss lock: drop the cached copy, then clear the
  // table entry and give the id back. No load (which could bring the old
  // bytes back) nor write-back can come between; and once the id is free,
  // another thread may allocate it and PinNew a fresh page, which nothing of
  // this free touches any more (a Discard after FreeId threw that page away).
  pool_->Discard(id, [&] { volume_->FreeId(id); });
}

void EmbeddedSpace::Commit() {
  volume_->CheckWritable();
  pool_->FlushAll();
  volume_->Commit(anchors());
  pool_->EnforceBudget();  // the commit may have grown the tier's memory (its slot map)
}

bool EmbeddedSpace::NewerCommit(bool force) {
  return follow_ && volume_->NewerCommit(force, std::chrono::nanoseconds(kFollowInterval).count());
}

void EmbeddedSpace::FollowCommit() {
  if (follow_) follow_();
}

Anchors EmbeddedSpace::anchors() const {
  MutexLock lock(anchors_mu_);
  return anchors_;
}

void EmbeddedSpace::set_anchors(const Anchors& anchors) {
  volume_->CheckWritable();
  MutexLock lock(anchors_mu_);
  anchors_ = anchors;
}

}  // namespace pagefs
