// BufferPool: the page cache, with a byte budget that covers everything the
// engine holds in RAM: page frames, the residency map, and the metadata its
// backing reports (page table, allocators). The budget can change at any
// time; shrinking evicts at once.
//
// Design (after vmcache): frames live in one reserved, lazily committed
// address range; a residency map indexed by page id gives the frame, and a
// state word per frame holds its pin count. A hit is a load, a CAS and a
// check, with no lock, syscall or allocation. Misses take one mutex, pick a
// victim by CLOCK (a referenced frame gets a second chance), write it back if
// dirty and load the page. A pinned page is never evicted.
//
// Thread safety: Pin/PinNew/Discard/SetBudget/stats from any thread.
// FlushAll REQUIRES that no thread modifies pages meanwhile (commit holds the
// store's op lock exclusively).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "pager/cache/page_backing.h"
#include "pager/util/mutex.h"
#include "pager/util/page.h"

namespace pagefs {

struct PoolStats {
  uint64_t budget = 0;
  uint64_t resident_bytes = 0;  // frames in use + residency map + backing metadata
  uint64_t frames = 0;          // frames holding a page
  uint64_t frame_bytes = 0;     // their bytes: frames * page size
  uint64_t frame_limit = 0;     // frames the budget allows now
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t writebacks = 0;
  uint64_t dirty = 0;
  uint64_t pinned = 0;
};

class BufferPool final : public PinHolder {
 public:
  static constexpr uint64_t kMinFrames = 16;

  BufferPool(uint32_t page_size, uint64_t budget, PageBacking& backing);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Pins page id, loading it on a miss. write marks the page dirty. In a
  // NoWaitScope (util/no_wait.h) a miss throws WouldWait instead.
  // Throws what the backing throws, or Error(kBudget) when every frame the
  // budget allows is pinned.
  PageGuard Pin(PageId id, bool write);
  // Loads the pages of [first, first+count) that are not resident, in one
  // batched backing call (adjacent slots become one tier request), and leaves
  // them cached unpinned. Advisory: it loads at most a quarter of the frames
  // the budget allows, evicts only unpinned pages (never past the budget, never
  // a pinned page), and a page that fails to load is simply not loaded (a later
  // Pin of it reports the error). Returns n, the length of the leading part
  // of the range that is now resident or was loaded (n < count: the rest was
  // left out, for the budget or a failed page). Page 0 is skipped over.
  uint64_t Prefetch(PageId first, uint64_t count);
  // Where id's frame is if it is resident, unpinned: a prefetch hint only
  // (PageSpace::WhereResident); nullptr when it is not, or id is out of range.
  const uint8_t* WhereResident(PageId id) const {
    if (!InMap(id)) return nullptr;
    const uint32_t slot = map_[id].load(std::memory_order_relaxed);
    return slot == 0 ? nullptr : FrameData(slot - 1);
  }
  // Prefetch on the pool's background thread, started on first use: returns
  // at once. One request waits at most; a newer one replaces it. Failures are
  // dropped (a later Pin reports them). The destructor waits for the one in
  // progress, so the backing must outlive the pool (as for every call).
  // Then, on the same thread, the backing's WillNeed of [advise_first,
  // advise_first+advise_count) (a range further ahead, fetched outside the pool).
  void PrefetchAsync(PageId first, uint64_t count, PageId advise_first = kNoPage,
                     uint64_t advise_count = 0);
  // Where a page's bytes are held outside the pool (a mapping of the
  // backing's file), or nullptr. Must not throw.
  using Placer = std::function<const uint8_t*(PageId)>;
  // Pins page id for reading when it is resident. Otherwise, holding the
  // miss mutex (so no load or write-back is in flight: a dirty page is
  // either resident or already stored in the backing), asks place(id) for
  // the page's bytes elsewhere and returns a guard on them that pins
  // nothing: the caller answers for how long they stay valid. When place
  // gives nullptr, loads the page as Pin does. In a NoWaitScope, throws
  // WouldWait rather than wait for the mutex or load (place must not wait).
  PageGuard PinOrPlace(PageId id, const Placer& place);
  // Pins a page that has no stored content yet: zero-filled, dirty, no load.
  PageGuard PinNew(PageId id);
  // Drops page id without writing it back (it was freed), then runs
  // while_locked (if given) before any other thread can load, write back or
  // prefetch a page: a free of the id in the backing goes there, so no load
  // can bring back its old bytes and no write-back can store them.
  // REQUIRES: the page is not pinned (a lock-free hit on another page may pin
  // its frame for an instant; Discard waits that out).
  void Discard(PageId id, const std::function<void()>& while_locked = nullptr);
  // Writes every dirty page back; they stay cached, clean.
  void FlushAll();

  void SetBudget(uint64_t bytes);
  // Evicts until the pool is within its budget again: for a caller that grew
  // the backing's metadata without a miss (a commit placing a remote tier's
  // slots).
  void EnforceBudget();
  uint64_t budget() const { return budget_.load(std::memory_order_relaxed); }
  PoolStats stats() const;

  void Unpin(uint64_t token) noexcept override;

 private:
  // Frame state word: 0 free, 1 locked (loading/evicting), 2 + n resident with n pins.
  static constexpr int32_t kFree = 0;
  static constexpr int32_t kLocked = 1;
  static constexpr int32_t kUnpinned = 2;

  struct Frame {
    std::atomic<int32_t> state;
    std::atomic<uint8_t> referenced;
    std::atomic<uint8_t> dirty;
    std::atomic<PageId> page;
  };

  uint8_t* FrameData(uint32_t f) const { return frames_data_ + uint64_t{f} * page_size_; }
  bool InMap(PageId id) const { return id != kNoPage && id < max_pages_; }
  std::atomic<uint32_t>& MapSlot(PageId id) {
    if (!InMap(id)) [[unlikely]]
      ThrowBadId(id);
    return map_[id];
  }
  [[noreturn]] static void ThrowBadId(PageId id);
  bool TryPinResident(PageId id, bool write, PageGuard& out);
  void MarkDirty(Frame& frame);
  // Locks a resident, unpinned frame of id for Discard.
  void LockForDiscard(Frame& frame, PageId id) REQUIRES(miss_mu_);
  uint64_t FrameLimit() const REQUIRES(miss_mu_);
  uint64_t OwnMetadataBytes() const REQUIRES(miss_mu_);
  uint64_t frames_in_use() const REQUIRES(miss_mu_) { return frames_used_ - free_frames_.size(); }
  // A locked frame to load into.
  uint32_t TakeFrame() REQUIRES(miss_mu_);
  // Like TakeFrame, but -1 instead of Error(kBudget) when all frames are pinned.
  int64_t TryTakeFrame() REQUIRES(miss_mu_);
  // Evicts one unpinned page by CLOCK; returns its frame, locked; or -1.
  int64_t EvictOne() REQUIRES(miss_mu_);
  // Evicts until the frames in use fit the budget beside the metadata.
  void EvictToLimit() REQUIRES(miss_mu_);
  void ReleaseFrame(uint32_t f) REQUIRES(miss_mu_);  // locked frame -> free list, memory returned
  // Keeps the backing's metadata within a share of the budget.
  void TrimBackingMetadata() REQUIRES(miss_mu_);

  const uint32_t page_size_;
  PageBacking& backing_;
  std::atomic<uint64_t> budget_;
  uint64_t max_frames_ = 0;
  uint64_t max_pages_ = 0;
  uint8_t* frames_data_ = nullptr;
  Frame* frames_ = nullptr;
  std::atomic<uint32_t>* map_ = nullptr;  // page id -> frame + 1, 0 when not resident
  std::atomic<uint64_t> max_page_seen_{0};

  mutable Mutex miss_mu_;  // also serializes loading and eviction
  // Frames [0, frames_used_) have been handed out at least once.
  uint32_t frames_used_ GUARDED_BY(miss_mu_) = 0;
  std::vector<uint32_t> free_frames_ GUARDED_BY(miss_mu_);
  uint32_t hand_ GUARDED_BY(miss_mu_) = 0;

  // PrefetchAsync: the pending range (count 0: none) and the thread serving it.
  void PrefetchLoop();
  Mutex async_mu_;
  CondVar async_cv_{async_mu_};
  PageId async_first_ GUARDED_BY(async_mu_) = kNoPage;
  uint64_t async_count_ GUARDED_BY(async_mu_) = 0;
  PageId async_advise_first_ GUARDED_BY(async_mu_) = kNoPage;
  uint64_t async_advise_count_ GUARDED_BY(async_mu_) = 0;
  bool async_stop_ GUARDED_BY(async_mu_) = false;
  std::thread async_thread_;

  // Hits are counted in stripes, one cache line each, picked per thread: a
  // hit must not make every thread's core fight for one counter's line.
  static constexpr uint32_t kHitStripes = 16;
  struct alignas(64) HitStripe {
    std::atomic<uint64_t> n{0};
  };
  void CountHit() noexcept;
  HitStripe hit_stripes_[kHitStripes];

  std::atomic<uint64_t> misses_{0}, evictions_{0}, writebacks_{0}, dirty_{0};
};

}  // namespace pagefs
