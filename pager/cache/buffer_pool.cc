#include "pager/cache/buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "pager/util/background_thread.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"

namespace pagefs {

namespace {

// Reserves address space that costs RAM only where it is touched.
void* Reserve(uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

uint64_t PhysicalMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) : uint64_t{1} << 34;
}

constexpr uint64_t kOsPage = 4096;

}  // namespace

BufferPool::BufferPool(uint32_t page_size, uint64_t budget, PageBacking& backing)
    : page_size_(page_size), backing_(backing), budget_(budget) {
  max_frames_ = std::max<uint64_t>(kMinFrames, PhysicalMemory() / page_size_);
  frames_data_ = static_cast<uint8_t*>(Reserve(max_frames_ * page_size_));
  frames_ = static_cast<Frame*>(Reserve(max_frames_ * sizeof(Frame)));
  // Page ids up to 2^32 (16 TiB of 4 KiB pages); fall back to less address space.
  for (max_pages_ = uint64_t{1} << 32; max_pages_ >= (uint64_t{1} << 20); max_pages_ >>= 2) {
    map_ = static_cast<std::atomic<uint32_t>*>(Reserve(max_pages_ * sizeof(uint32_t)));
    if (map_ != nullptr) break;
  }
  if (frames_data_ == nullptr || frames_ == nullptr || map_ == nullptr) {
    throw Error::FromErrno(ENOMEM, "reserve address space for the page cache");
  }
}

BufferPool::~BufferPool() {
  {
    MutexLock lock(async_mu_);
    async_stop_ = true;
  }
  async_cv_.Signal();
  if (async_thread_.joinable()) async_thread_.join();
  ::munmap(frames_data_, max_frames_ * page_size_);
  ::munmap(frames_, max_frames_ * sizeof(Frame));
  ::munmap(map_, max_pages_ * sizeof(uint32_t));
}

void BufferPool::ThrowBadId(PageId id) {
  throw Error(ErrorCode::kInvalidArgument, "page id " + std::to_string(id) + " out of range");
}

void BufferPool::CountHit() noexcept {
  static std::atomic<uint32_t> next_stripe{0};
  // initial-exec, as NoWaitScope's mark (util/no_wait.h): no TLS call per hit.
  [[gnu::tls_model("initial-exec")]] static thread_local uint32_t stripe = kHitStripes;
  if (stripe == kHitStripes)
    stripe = next_stripe.fetch_add(1, std::memory_order_relaxed) % kHitStripes;
  hit_stripes_[stripe].n.fetch_add(1, std::memory_order_relaxed);
}

bool BufferPool::TryPinResident(PageId id, bool write, PageGuard& out) {
  uint32_t slot = MapSlot(id).load(std::memory_order_acquire);
  if (slot == 0) return false;
  Frame& frame = frames_[slot - 1];
  // The caller reads the page next: start fetching its first line while the
  // pin's compare-and-swap waits for the frame's state word.
  __builtin_prefetch(FrameData(slot - 1));
  int32_t s = frame.state.load(std::memory_order_acquire);
  do {
    if (s < kUnpinned) return false;
  } while (!frame.state.compare_exchange_weak(s, s + 1, std::memory_order_acquire));
  if (frame.page.load(std::memory_order_relaxed) != id) {  // the frame was reused meanwhile
    frame.state.fetch_sub(1, std::memory_order_release);
    return false;
  }
  if (frame.referenced.load(std::memory_order_relaxed) == 0) {
    frame.referenced.store(1, std::memory_order_relaxed);
  }
  if (write) MarkDirty(frame);
  out = PageGuard(this, slot - 1, id, FrameData(slot - 1));
  return true;
}

void BufferPool::MarkDirty(Frame& frame) {
  if (frame.dirty.load(std::memory_order_relaxed) == 0 && frame.dirty.exchange(1) == 0) {
    dirty_.fetch_add(1, std::memory_order_relaxed);
  }
}

PageGuard BufferPool::Pin(PageId id, bool write) {
  PageGuard guard;
  if (TryPinResident(id, write, guard)) {
    CountHit();
    return guard;
  }
  NoWaitScope::Refuse();  // a load, or a wait for another thread's
  MutexLock lock(miss_mu_);
  if (TryPinResident(id, write, guard)) {  // another thread loaded it
    CountHit();
    return guard;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  uint32_t f = TakeFrame();
  Frame& frame = frames_[f];
  try {
    backing_.Load(id, FrameData(f));
  } catch (...) {
    ReleaseFrame(f);
    throw;
  }
  // Only a page that loaded counts for the map's size: a refused id (from a
  // damaged page) must not charge the budget for map entries up to it.
  if (id > max_page_seen_.load(std::memory_order_relaxed)) {
    max_page_seen_.store(id, std::memory_order_relaxed);
  }
  frame.page.store(id, std::memory_order_relaxed);
  frame.referenced.store(1, std::memory_order_relaxed);
  frame.dirty.store(0, std::memory_order_relaxed);
  if (write) MarkDirty(frame);
  frame.state.store(kUnpinned + 1, std::memory_order_release);
  MapSlot(id).store(f + 1, std::memory_order_release);
  PageGuard loaded(this, f, id, FrameData(f));
  // The load may have grown the metadata (page-table leaves, the map) past
  // what the frame was taken within.
  try {
    EvictToLimit();
  } catch (...) {
    // A failed write-back of a victim: the backing has recorded it, and the
    // next miss meets it again; this page is loaded and good.
  }
  return loaded;
}

PageGuard BufferPool::PinOrPlace(PageId id, const Placer& place) {
  PageGuard guard;
  if (TryPinResident(id, false, guard)) {
    CountHit();
    return guard;
  }
  const uint8_t* placed = nullptr;
  if (NoWaitScope::active()) {
    if (!miss_mu_.TryLock()) throw WouldWait();
    if (!TryPinResident(id, false, guard)) placed = place(id);
    miss_mu_.Unlock();
    if (!guard && placed == nullptr) throw WouldWait();  // a load
  } else {
    MutexLock lock(miss_mu_);
    if (!TryPinResident(id, false, guard)) placed = place(id);
  }
  if (guard) {
    CountHit();
    return guard;
  }
  if (placed != nullptr) return PageGuard(nullptr, 0, id, const_cast<uint8_t*>(placed));
  return Pin(id, false);  // which looks again under the mutex, then loads
}

uint64_t BufferPool::Prefetch(PageId first, uint64_t count) {
  if (first == kNoPage && count > 0) {
    return 1 + Prefetch(1, count - 1);
  }
  if (count == 0 || first >= max_pages_) return 0;
  count = std::min(count, max_pages_ - first);
  MutexLock lock(miss_mu_);
  // A quarter of the cache at most, so a prefetch cannot push out the pages
  // the caller is using, nor all the rest of the cache at once.
  const uint64_t cap = std::max<uint64_t>(1, FrameLimit() / 4);
  std::vector<PageId> ids;
  std::vector<uint32_t> frames;
  std::vector<uint8_t*> bufs;
  uint64_t covered = 0;  // leading pages of the range resident or taken a frame for
  try {
    for (; covered < count && ids.size() < cap; ++covered) {
      const PageId id = first + covered;
      if (map_[id].load(std::memory_order_acquire) != 0) continue;
      if (id > max_page_seen_.load(std::memory_order_relaxed)) {
        max_page_seen_.store(id, std::memory_order_relaxed);  // the map grows before the frame
      }
      int64_t f = TryTakeFrame();
      if (f < 0) break;  // the rest of the cache is pinned
      ids.push_back(id);
      frames.push_back(static_cast<uint32_t>(f));
      bufs.push_back(FrameData(static_cast<uint32_t>(f)));
    }
  } catch (...) {  // writing back a victim failed
    for (uint32_t f : frames) ReleaseFrame(f);
    throw;
  }
  if (ids.empty()) return covered;
  const size_t loaded = backing_.LoadMany(ids.data(), bufs.data(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i >= loaded) {
      ReleaseFrame(frames[i]);
      continue;
    }
    Frame& frame = frames_[frames[i]];
    frame.page.store(ids[i], std::memory_order_relaxed);
    frame.referenced.store(0, std::memory_order_relaxed);  // first to go unless used
    frame.dirty.store(0, std::memory_order_relaxed);
    frame.state.store(kUnpinned, std::memory_order_release);
    map_[ids[i]].store(frames[i] + 1, std::memory_order_release);
  }
  misses_.fetch_add(loaded, std::memory_order_relaxed);
  // Loading may have grown the backing's metadata (page-table leaves).
  EvictToLimit();
  return loaded == ids.size() ? covered : ids[loaded] - first;
}

void BufferPool::PrefetchAsync(PageId first, uint64_t count, PageId advise_first,
                               uint64_t advise_count) {
  if (count == 0) return;
  {
    MutexLock lock(async_mu_);
    if (async_stop_) return;
    async_first_ = first;
    async_count_ = count;
    // An advice still waiting that touches the new one joins it: a stream's
    // consecutive advices must not leave holes when one replaces another.
    const PageId pending_end = async_advise_first_ + async_advise_count_;
    if (async_advise_count_ != 0 && advise_count != 0 && advise_first <= pending_end &&
        async_advise_first_ <= advise_first + advise_count) {
      const PageId end = std::max(pending_end, advise_first + advise_count);
      advise_first = std::min(advise_first, async_advise_first_);
      advise_count = end - advise_first;
    }
    async_advise_first_ = advise_first;
    async_advise_count_ = advise_count;
    if (!async_thread_.joinable())
      async_thread_ = StartBackgroundThread([this] { PrefetchLoop(); });
  }
  async_cv_.Signal();
}

void BufferPool::PrefetchLoop() {
  MutexLock lock(async_mu_);
  for (;;) {
    while (!async_stop_ && async_count_ == 0) async_cv_.Wait();
    if (async_stop_) return;
    const PageId first = async_first_;
    const uint64_t count = std::exchange(async_count_, 0);
    const PageId advise_first = async_advise_first_;
    const uint64_t advise_count = std::exchange(async_advise_count_, 0);
    lock.Unlock();
    try {
      Prefetch(first, count);
    } catch (...) {
      // A failed write-back of a victim: the backing has recorded it, and the
      // next Pin that needs a frame meets it again.
    }
    try {
      if (advise_count != 0) backing_.WillNeed(advise_first, advise_count);
    } catch (...) {
      // Advisory, and this thread must not die of it (say, out of memory).
    }
    lock.Lock();
  }
}

PageGuard BufferPool::PinNew(PageId id) {
  MutexLock lock(miss_mu_);
  PageGuard guard;
  if (TryPinResident(id, true, guard)) {
    std::memset(guard.mutable_data(), 0, page_size_);
    return guard;
  }
  uint64_t seen = max_page_seen_.load(std::memory_order_relaxed);
  if (id > seen) max_page_seen_.store(id, std::memory_order_relaxed);
  uint32_t f = TakeFrame();
  Frame& frame = frames_[f];
  std::memset(FrameData(f), 0, page_size_);
  frame.page.store(id, std::memory_order_relaxed);
  frame.referenced.store(1, std::memory_order_relaxed);
  frame.dirty.store(0, std::memory_order_relaxed);
  MarkDirty(frame);
  frame.state.store(kUnpinned + 1, std::memory_order_release);
  MapSlot(id).store(f + 1, std::memory_order_release);
  return PageGuard(this, f, id, FrameData(f));
}

void BufferPool::Unpin(uint64_t token) noexcept {
  frames_[token].state.fetch_sub(1, std::memory_order_release);
}

void BufferPool::Discard(PageId id, const std::function<void()>& while_locked) {
  MutexLock lock(miss_mu_);
  std::atomic<uint32_t>& slot = MapSlot(id);
  const uint32_t f1 = slot.load(std::memory_order_acquire);
  if (f1 != 0) {
    Frame& frame = frames_[f1 - 1];
    LockForDiscard(frame, id);
    slot.store(0, std::memory_order_release);
    if (frame.dirty.exchange(0) != 0) dirty_.fetch_sub(1, std::memory_order_relaxed);
    frame.page.store(kNoPage, std::memory_order_relaxed);
    frame.state.store(kFree, std::memory_order_release);
    free_frames_.push_back(f1 - 1);
  }
  if (while_locked) while_locked();
}

void BufferPool::LockForDiscard(Frame& frame, PageId id) {
  // A lock-free hit that read the map just before this frame was reused for
  // id pins it, sees another page and unpins at once: wait that out. A pin
  // that lasts is the caller's bug.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  for (uint32_t spins = 0;; ++spins) {
    int32_t expected = kUnpinned;
    if (frame.state.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) return;
    if (spins % 1024 == 1023 && std::chrono::steady_clock::now() > deadline) {
      throw Error(ErrorCode::kInvalidArgument,
                  "page " + std::to_string(id) + " is freed while still pinned");
    }
    std::this_thread::yield();
  }
}

void BufferPool::FlushAll() {
  MutexLock lock(miss_mu_);
  // In page order, so the backing sees runs of adjacent pages (sequential
  // slots on a volume, combined writes through a mount).
  std::vector<std::pair<PageId, uint32_t>> dirty;
  for (uint32_t f = 0; f < frames_used_; ++f) {
    Frame& frame = frames_[f];
    if (frame.state.load(std::memory_order_acquire) < kUnpinned) continue;
    if (frame.dirty.load(std::memory_order_acquire) == 0) continue;
    dirty.emplace_back(frame.page.load(std::memory_order_relaxed), f);
  }
  std::sort(dirty.begin(), dirty.end());
  for (const auto& [page, f] : dirty) {
    backing_.Store(page, FrameData(f));
    frames_[f].dirty.store(0, std::memory_order_release);
    dirty_.fetch_sub(1, std::memory_order_relaxed);
    writebacks_.fetch_add(1, std::memory_order_relaxed);
  }
  backing_.Flush();
}

uint64_t BufferPool::OwnMetadataBytes() const {
  uint64_t map_bytes = (max_page_seen_.load(std::memory_order_relaxed) + 1) * sizeof(uint32_t);
  uint64_t frame_bytes = uint64_t{frames_used_} * sizeof(Frame);
  auto round_up = [](uint64_t b) { return (b + kOsPage - 1) / kOsPage * kOsPage; };
  return round_up(map_bytes) + round_up(frame_bytes) + free_frames_.capacity() * sizeof(uint32_t);
}

uint64_t BufferPool::FrameLimit() const {
  uint64_t budget = budget_.load(std::memory_order_relaxed);
  uint64_t meta = OwnMetadataBytes() + backing_.metadata_bytes();
  uint64_t frames = budget > meta ? (budget - meta) / page_size_ : 0;
  return std::clamp<uint64_t>(frames, kMinFrames, max_frames_);
}

uint32_t BufferPool::TakeFrame() {
  int64_t f = TryTakeFrame();
  if (f < 0) {
    throw Error(ErrorCode::kBudget,
                "cache budget of " + std::to_string(budget()) + " bytes is too small: all " +
                    std::to_string(frames_in_use()) + " cached pages are pinned");
  }
  return static_cast<uint32_t>(f);
}

void BufferPool::TrimBackingMetadata() {
  // The backing's metadata that can be read again (page-table leaves) may
  // take up to a quarter of the budget; past that, it is dropped down to an
  // eighth. What it cannot drop (a remote tier's slot map) only takes frames.
  const uint64_t budget = budget_.load(std::memory_order_relaxed);
  const uint64_t all = backing_.metadata_bytes(), fixed = backing_.fixed_metadata_bytes();
  const uint64_t trimmable = all > fixed ? all - fixed : 0;  // fixed may have grown meanwhile
  if (trimmable > budget / 4) backing_.TrimMetadata(budget / 8);
}

void BufferPool::EvictToLimit() {
  // Write-backs and the free list's growth change the metadata too, so the
  // limit is re-read after every eviction.
  while (frames_in_use() > FrameLimit()) {
    int64_t victim = EvictOne();
    if (victim < 0) break;
    ReleaseFrame(static_cast<uint32_t>(victim));
  }
}

int64_t BufferPool::TryTakeFrame() {
  TrimBackingMetadata();
  // Over the limit (the budget shrank or metadata grew): give frames back first.
  EvictToLimit();
  if (frames_in_use() < FrameLimit()) {
    uint32_t f;
    if (!free_frames_.empty()) {
      f = free_frames_.back();
      free_frames_.pop_back();
    } else {
      f = frames_used_++;
    }
    frames_[f].state.store(kLocked, std::memory_order_relaxed);
    return f;
  }
  return EvictOne();
}

int64_t BufferPool::EvictOne() {
  if (frames_used_ == 0) return -1;
  // Two full turns of the clock: the first may only clear reference bits.
  for (uint64_t step = 0; step < 2 * uint64_t{frames_used_} + 1; ++step) {
    uint32_t f = hand_;
    hand_ = (hand_ + 1) % frames_used_;
    Frame& frame = frames_[f];
    if (frame.state.load(std::memory_order_relaxed) != kUnpinned) continue;
    if (frame.referenced.load(std::memory_order_relaxed) != 0) {
      frame.referenced.store(0, std::memory_order_relaxed);
      continue;
    }
    int32_t expected = kUnpinned;
    if (!frame.state.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) {
      continue;
    }
    PageId page = frame.page.load(std::memory_order_relaxed);
    if (frame.dirty.load(std::memory_order_acquire) != 0) {
      try {
        backing_.Store(page, FrameData(f));
      } catch (...) {
        frame.state.store(kUnpinned, std::memory_order_release);
        throw;
      }
      frame.dirty.store(0, std::memory_order_relaxed);
      dirty_.fetch_sub(1, std::memory_order_relaxed);
      writebacks_.fetch_add(1, std::memory_order_relaxed);
    }
    map_[page].store(0, std::memory_order_release);
    frame.page.store(kNoPage, std::memory_order_relaxed);
    evictions_.fetch_add(1, std::memory_order_relaxed);
    return f;
  }
  return -1;
}

void BufferPool::ReleaseFrame(uint32_t f) {
  // Return the frame's memory to the OS so the process shrinks with the budget.
  ::madvise(FrameData(f), page_size_, MADV_DONTNEED);
  frames_[f].state.store(kFree, std::memory_order_release);
  free_frames_.push_back(f);
}

void BufferPool::SetBudget(uint64_t bytes) {
  MutexLock lock(miss_mu_);
  budget_.store(bytes, std::memory_order_relaxed);
  TrimBackingMetadata();
  EvictToLimit();  // what is pinned goes as soon as it is unpinned
}

void BufferPool::EnforceBudget() {
  MutexLock lock(miss_mu_);
  TrimBackingMetadata();
  EvictToLimit();
}

PoolStats BufferPool::stats() const {
  PoolStats s;
  MutexLock lock(miss_mu_);
  s.budget = budget();
  s.frames = frames_in_use();
  s.frame_bytes = s.frames * page_size_;
  s.frame_limit = FrameLimit();
  s.resident_bytes = s.frame_bytes + OwnMetadataBytes() + backing_.metadata_bytes();
  for (const HitStripe& h : hit_stripes_) s.hits += h.n.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.writebacks = writebacks_.load(std::memory_order_relaxed);
  s.dirty = dirty_.load(std::memory_order_relaxed);
  for (uint32_t f = 0; f < frames_used_; ++f) {
    if (frames_[f].state.load(std::memory_order_relaxed) > kUnpinned) ++s.pinned;
  }
  return s;
}

}  // namespace pagefs
