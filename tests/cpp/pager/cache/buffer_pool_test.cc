#include "pager/cache/buffer_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "pager/space/embedded_space.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

struct Fixture {
  explicit Fixture(uint64_t budget)
      : volume(tier, "prefix 'pool'", {}), pool(kPage, budget, volume), space(volume, pool) {}
  MemoryTier tier{kPage};
  Volume volume;
  BufferPool pool;
  EmbeddedSpace space;

  std::vector<PageId> Fill(int n, uint32_t version = 1) {
    std::vector<PageId> ids;
    for (int i = 0; i < n; ++i) {
      PageGuard g = space.Allocate();
      StampPage(g.mutable_data(), g.id(), version, kPage);
      ids.push_back(g.id());
    }
    return ids;
  }
};

TEST(BufferPoolTest, BudgetIsRespectedUnderLoad) {
  const uint64_t budget = 1 << 20;
  Fixture f(budget);
  std::vector<PageId> ids = f.Fill(5000);
  EXPECT_LE(f.pool.stats().resident_bytes, budget);
  f.space.Commit();
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) {
    PageId id = ids[rng() % ids.size()];
    PageGuard g = f.space.Read(id);
    ASSERT_TRUE(HasStampedPage(g.data(), id, 1, kPage)) << id;
    if (i % 1000 == 0) {
      ASSERT_LE(f.pool.stats().resident_bytes, budget);
    }
  }
  PoolStats s = f.pool.stats();
  EXPECT_LE(s.resident_bytes, budget);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.hits, 0u);
}

TEST(BufferPoolTest, PageTableLeavesAreDroppedToStayWithinTheBudget) {
  // 60,000 pages: 235 table leaves, 940 KiB of table once all are loaded,
  // far more than a quarter of the 1 MiB budget.
  const uint64_t budget = 1 << 20;
  MemoryTier tier(kPage);
  std::vector<PageId> ids;
  {
    Volume volume(tier, "prefix 'pool'", {});
    BufferPool pool(kPage, budget, volume);
    EmbeddedSpace space(volume, pool);
    for (int i = 0; i < 60000; ++i) {
      PageGuard g = space.Allocate();
      StampPage(g.mutable_data(), g.id(), 1, kPage);
      ids.push_back(g.id());
    }
    space.Commit();
  }
  Volume volume(tier, "prefix 'pool'", {});
  BufferPool pool(kPage, budget, volume);
  EmbeddedSpace space(volume, pool);
  for (int round = 0; round < 2; ++round) {
    for (PageId id : ids) {
      ASSERT_TRUE(HasStampedPage(space.Read(id).data(), id, 1, kPage)) << id;
      if (id % 5000 == 0) {
        ASSERT_LE(volume.metadata_bytes(), budget / 4 + kPage);
        ASSERT_LE(pool.stats().resident_bytes, budget);
      }
    }
  }
  // A write walks the whole table (to find free slots); the next misses trim it.
  for (PageId id = ids.front(); id < ids.front() + 100; ++id) {
    PageGuard g = space.Write(id);
    StampPage(g.mutable_data(), id, 2, kPage);
  }
  for (PageId id : ids)
    ASSERT_TRUE(HasStampedPage(space.Read(id).data(), id, id < ids.front() + 100 ? 2 : 1, kPage));
  EXPECT_LE(pool.stats().resident_bytes, budget);
  space.Commit();
  Volume reopened(tier, "prefix 'pool'", {});
  std::vector<uint8_t> buf(kPage);
  for (PageId id : ids) {
    reopened.Load(id, buf.data());
    ASSERT_TRUE(HasStampedPage(buf.data(), id, id < ids.front() + 100 ? 2 : 1, kPage)) << id;
  }
}

// A backing whose metadata grows with every page it loads, as a volume's
// does when a load brings in page-table leaves.
class GrowingBacking final : public PageBacking {
 public:
  void Load(PageId id, uint8_t* buf) override {
    std::memset(buf, static_cast<int>(id), kPage);
    metadata_.fetch_add(256, std::memory_order_relaxed);
  }
  void Store(PageId, const uint8_t*) override {}
  uint64_t metadata_bytes() const override { return metadata_.load(std::memory_order_relaxed); }
  void TrimMetadata(uint64_t max_bytes) override {
    if (metadata_.load() > max_bytes) metadata_.store(max_bytes);
  }

 private:
  std::atomic<uint64_t> metadata_{0};
};

// A backing that records WillNeed's ranges and whose load of page 1 waits
// until released, so a test can hold the pool's background thread.
class AdvisedBacking final : public PageBacking {
 public:
  void Load(PageId id, uint8_t* buf) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (id == 1) {
      loading_one_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
    }
    std::memset(buf, static_cast<int>(id), kPage);
  }
  void WillNeed(PageId first, uint64_t count) override {
    std::lock_guard<std::mutex> lock(mu_);
    advised_.emplace_back(first, count);
    cv_.notify_all();
  }
  void Store(PageId, const uint8_t*) override {}
  uint64_t metadata_bytes() const override { return 0; }

  void WaitLoadingOne() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return loading_one_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // The ranges advised, once there are n (or after 10 s, what there is).
  std::vector<std::pair<PageId, uint64_t>> Advised(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return advised_.size() >= n; });
    return advised_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool loading_one_ = false;
  bool released_ = false;
  std::vector<std::pair<PageId, uint64_t>> advised_;
};

TEST(BufferPoolTest, ABackgroundPrefetchAdvisesTheBackingAndJoinsAdjacentAdvices) {
  AdvisedBacking backing;
  BufferPool pool(kPage, 64 * kPage, backing);
  pool.PrefetchAsync(1, 1);  // its load waits: the next requests queue behind it
  backing.WaitLoadingOne();
  pool.PrefetchAsync(2, 1, 100, 8);
  pool.PrefetchAsync(3, 1, 108, 8);  // replaces the one waiting; its advice joins
  backing.Release();
  EXPECT_EQ((std::vector<std::pair<PageId, uint64_t>>{{100, 16}}), backing.Advised(1));
  // Alone, an advice goes as it is.
  pool.PrefetchAsync(4, 1, 500, 8);
  EXPECT_EQ((std::pair<PageId, uint64_t>{500, 8}), backing.Advised(2).back());
}

TEST(BufferPoolTest, ALoadThatGrowsMetadataStillLeavesThePoolWithinItsBudget) {
  // Each miss grows the backing's metadata and, every 1024 ids, the pool's
  // own residency map, after the frame was taken: the pool must give a frame
  // back then, not at the next miss (the mount's .stats showed resident a few
  // KiB over its budget between two reads).
  const uint64_t budget = 1 << 20;
  GrowingBacking backing;
  BufferPool pool(kPage, budget, backing);
  for (PageId id = 1; id < 20000; ++id) {
    ASSERT_EQ(pool.Pin(id, false).data()[0], static_cast<uint8_t>(id));
    ASSERT_LE(pool.stats().resident_bytes, budget) << "after loading page " << id;
  }
}

TEST(BufferPoolTest, DirtyPagesAreWrittenBackOnEvictionAndCommitted) {
  Fixture f(256 * 1024);
  std::vector<PageId> ids = f.Fill(3000);  // far more than the budget: most are evicted dirty
  EXPECT_GT(f.pool.stats().writebacks, 2000u);
  f.space.Commit();
  Volume reopened(f.tier, "prefix 'pool'", {});
  std::vector<uint8_t> buf(kPage);
  for (PageId id : ids) {
    reopened.Load(id, buf.data());
    ASSERT_TRUE(HasStampedPage(buf.data(), id, 1, kPage)) << id;
  }
}

TEST(BufferPoolTest, PinnedPagesAreNeverEvicted) {
  Fixture f(256 * 1024);
  std::vector<PageId> ids = f.Fill(10);
  std::vector<PageGuard> pins;
  std::vector<const uint8_t*> where;
  for (PageId id : ids) {
    pins.push_back(f.space.Read(id));
    where.push_back(pins.back().data());
  }
  f.Fill(2000);
  for (size_t i = 0; i < ids.size(); ++i) {
    PageGuard again = f.space.Read(ids[i]);
    EXPECT_EQ(where[i], again.data());
    EXPECT_TRUE(HasStampedPage(again.data(), ids[i], 1, kPage));
  }
  EXPECT_EQ(10u, f.pool.stats().pinned);
}

// WhereResident is a prefetch hint: the frame a resident page is in, and
// nothing for a page that is not (evicted, or an id past every page).
TEST(BufferPoolTest, WhereResidentNamesTheFrameOfAResidentPageOnly) {
  Fixture f(256 * 1024);
  const std::vector<PageId> ids = f.Fill(10);
  const PageGuard pinned = f.space.Read(ids[0]);
  EXPECT_EQ(pinned.data(), f.space.WhereResident(ids[0]));
  EXPECT_EQ(nullptr, f.space.WhereResident(kNoPage));
  EXPECT_EQ(nullptr, f.space.WhereResident(PageId{1} << 60));
  f.Fill(2000);  // evicts the unpinned pages of the first ten
  EXPECT_EQ(pinned.data(), f.space.WhereResident(ids[0])) << "a pinned page stays";
  int gone = 0;
  for (size_t i = 1; i < ids.size(); ++i) gone += f.space.WhereResident(ids[i]) == nullptr;
  EXPECT_GT(gone, 0) << "2000 pages through a 64-frame pool evict some of the first";
}

TEST(BufferPoolTest, ShrinkingTheBudgetEvictsAtOnce) {
  Fixture f(8 << 20);
  std::vector<PageId> ids = f.Fill(1500);
  EXPECT_GT(f.pool.stats().frames, 1400u);
  f.pool.SetBudget(512 * 1024);
  PoolStats s = f.pool.stats();
  EXPECT_LE(s.resident_bytes, 512u * 1024);
  EXPECT_LE(s.frames, s.frame_limit);
  f.space.Commit();
  for (PageId id : ids) ASSERT_TRUE(HasStampedPage(f.space.Read(id).data(), id, 1, kPage));
}

TEST(BufferPoolTest, EveryFramePinnedIsABudgetError) {
  Fixture f(0);  // the pool still keeps its minimum of frames
  std::vector<PageGuard> pins;
  try {
    for (int i = 0; i < 1000; ++i) pins.push_back(f.space.Allocate());
    FAIL() << "pinned more pages than the pool has frames";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kBudget, e.code());
  }
  EXPECT_EQ(BufferPool::kMinFrames, pins.size());
}

TEST(BufferPoolTest, ConcurrentReadersAlwaysSeeTheirOwnPage) {
  Fixture f(128 * 1024);
  std::vector<PageId> ids = f.Fill(2000);
  f.space.Commit();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 20000; ++i) {
        PageId id = ids[rng() % ids.size()];
        PageGuard g = f.space.Read(id);
        if (!HasStampedPage(g.data(), id, 1, kPage)) bad++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, bad.load());
  EXPECT_EQ(0u, f.pool.stats().pinned);
}

TEST(BufferPoolTest, PinOrPlaceTakesResidentPagesFromThePoolAndAsksThePlacerForOthers) {
  Fixture f(1 << 20);
  std::vector<PageId> ids = f.Fill(1000);  // the first ones were evicted
  f.space.Commit();
  const PageId resident = ids.back(), elsewhere = ids.front();
  std::vector<uint8_t> held(kPage);
  f.volume.Load(elsewhere, held.data());
  std::vector<PageId> asked;
  auto place = [&](PageId id) -> const uint8_t* {
    asked.push_back(id);
    return id == elsewhere ? held.data() : nullptr;
  };
  const uint64_t misses = f.pool.stats().misses;
  {
    PageGuard g = f.pool.PinOrPlace(resident, place);
    EXPECT_TRUE(HasStampedPage(g.data(), resident, 1, kPage));
    EXPECT_TRUE(asked.empty()) << "a resident page comes from the pool";
    EXPECT_EQ(1u, f.pool.stats().pinned);
  }
  {
    PageGuard g = f.pool.PinOrPlace(elsewhere, place);
    EXPECT_EQ(held.data(), g.data()) << "in place: the placer's bytes, not a copy";
    EXPECT_EQ(std::vector<PageId>{elsewhere}, asked);
    EXPECT_EQ(0u, f.pool.stats().pinned) << "a placed page pins no frame";
    EXPECT_EQ(misses, f.pool.stats().misses) << "nor loads one";
  }
  {
    // The placer has nothing: the page loads as for Pin.
    PageGuard g = f.pool.PinOrPlace(ids[1], place);
    EXPECT_TRUE(HasStampedPage(g.data(), ids[1], 1, kPage));
    EXPECT_EQ(misses + 1, f.pool.stats().misses);
  }
  {
    NoWaitScope no_wait;
    EXPECT_EQ(held.data(), f.pool.PinOrPlace(elsewhere, place).data());
    EXPECT_THROW(f.pool.PinOrPlace(ids[2], place), WouldWait) << "a load is refused";
  }
}

// Pages in memory, whose stores take a while: a write-back of an evicted
// page is in flight long enough for another thread to look at the page.
class SlowStoreBacking final : public PageBacking {
 public:
  void Load(PageId id, uint8_t* buf) override { Copy(id, buf); }
  void Store(PageId id, const uint8_t* buf) override {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    std::lock_guard<std::mutex> lock(mu_);
    pages_[id].assign(buf, buf + kPage);
  }
  uint64_t metadata_bytes() const override { return 0; }
  void Copy(PageId id, uint8_t* buf) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pages_.find(id);
    if (it == pages_.end()) {
      std::memset(buf, 0, kPage);
    } else {
      std::memcpy(buf, it->second.data(), kPage);
    }
  }

 private:
  std::mutex mu_;
  std::map<PageId, std::vector<uint8_t>> pages_;
};

// The placer stands for the backing's own copy (a mapping of the file it
// writes): it is asked only once no write-back of the page is in flight, so
// what it gives is the newest, however often another thread's misses evict
// dirty pages meanwhile.
TEST(BufferPoolTest, PinOrPlaceNeverAsksThePlacerForAPageWhoseWriteBackIsInFlight) {
  SlowStoreBacking backing;
  BufferPool pool(kPage, 64 * kPage, backing);
  std::atomic<bool> stop{false};
  std::thread evictor([&] {  // loads pages 1001..1200: evicts, writing back what is dirty
    std::mt19937 rng(7);
    while (!stop.load()) pool.Pin(1001 + rng() % 200, false);
  });
  std::vector<uint8_t> copy(kPage);
  auto from_backing = [&](PageId id) -> const uint8_t* {
    backing.Copy(id, copy.data());
    return copy.data();
  };
  int stale = 0, placed = 0;
  for (uint32_t version = 1; version < 6; ++version) {
    for (PageId id = 1; id <= 200; ++id) {
      PageGuard g = pool.Pin(id, true);
      StampPage(g.mutable_data(), id, version, kPage);
    }
    for (PageId id = 1; id <= 200; ++id) {
      PageGuard g = pool.PinOrPlace(id, from_backing);
      placed += g.data() == copy.data();
      stale += !HasStampedPage(g.data(), id, version, kPage);
    }
  }
  stop = true;
  evictor.join();
  EXPECT_EQ(0, stale);
  EXPECT_GT(placed, 500) << "most of the pages were evicted, and placed";
}

TEST(BufferPoolTest, CorruptPageFailsItsPinAndLeavesThePoolUsable) {
  Fixture f(1 << 20);
  std::vector<PageId> ids = f.Fill(50);
  f.space.Commit();
  Volume v2(f.tier, "prefix 'pool'", {});
  BufferPool pool2(kPage, 1 << 20, v2);
  // Flip one bit in every data slot: each pin now fails with kCorruption.
  for (SlotId s = Volume::kFirstDataSlot; s < f.tier.size(); ++s) f.tier.FlipBit(s, 77);
  int failures = 0;
  for (PageId id : ids) {
    try {
      pool2.Pin(id, false);
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
      ++failures;
    }
  }
  EXPECT_EQ(50, failures);
  EXPECT_EQ(0u, pool2.stats().frames);
}

// An id out of a damaged page (past the end of the volume) fails its pin and
// costs the budget nothing: the residency map is sized by pages that loaded.
TEST(BufferPoolTest, AnIdPastTheEndFailsItsPinAndLeavesTheBudgetAlone) {
  Fixture f(1 << 20);
  f.Fill(10);
  const uint64_t limit = f.pool.stats().frame_limit;
  for (bool write : {false, true}) {
    try {
      f.pool.Pin(PageId{3} << 30, write);
      ADD_FAILURE() << "pinned a page past the end";
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
    }
  }
  EXPECT_EQ(limit, f.pool.stats().frame_limit);
  EXPECT_LE(f.pool.stats().resident_bytes, uint64_t{1} << 20);
}

}  // namespace
}  // namespace pagefs
