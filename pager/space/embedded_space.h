// EmbeddedSpace: the PageSpace of a Volume inside this process, cached by a
// BufferPool that holds the cache budget. Commit writes every dirty page back
// through the pool, then lets the Volume commit.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "pager/cache/buffer_pool.h"
#include "pager/space/page_space.h"
#include "pager/util/mutex.h"
#include "pager/volume/volume.h"

namespace pagefs {

class EmbeddedSpace final : public PageSpace {
 public:
  // volume and pool must outlive the space.
  EmbeddedSpace(Volume& volume, BufferPool& pool);

  uint32_t page_size() const override { return volume_->page_size(); }
  PageGuard Read(PageId id) override;
  const uint8_t* WhereResident(PageId id) override { return pool_->WhereResident(id); }
  uint64_t Prefetch(PageId first, uint64_t count) override;
  void PrefetchAsync(PageId first, uint64_t count, PageId advise_first,
                     uint64_t advise_count) override;
  PageGuard Write(PageId id) override;
  PageGuard Allocate() override;
  void Free(PageId id) override;
  void Commit() override;
  Anchors anchors() const override;
  void set_anchors(const Anchors& anchors) override;
  bool read_only() const override { return volume_->read_only(); }
  // A read-only space follows new commits (as a mount's readers do): it looks
  // at most every kFollowInterval, and follow (set by the Store, which owns
  // the pool it must replace) moves it to the newest commit.
  bool NewerCommit(bool force) override;
  void FollowCommit() override;
  void set_follow(std::function<void()> follow) { follow_ = std::move(follow); }

  // Points the space at a fresh volume and pool (a rollback to the last
  // commit, a move to a newer one), taking that commit's anchors: a new view
  // generation. REQUIRES: the store's op lock held exclusively and no page
  // pinned.
  void Rebind(Volume& volume, BufferPool& pool);
  uint64_t view_generation() const override {
    return view_generation_.load(std::memory_order_acquire);
  }

 private:
  Volume* volume_;
  BufferPool* pool_;
  mutable Mutex anchors_mu_;
  Anchors anchors_ GUARDED_BY(anchors_mu_);
  std::function<void()> follow_;
  std::atomic<uint64_t> view_generation_{0};
};

}  // namespace pagefs
