// The batched read path: Tier::ReadRun, PageBacking::LoadMany (Volume) and
// BufferPool::Prefetch.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/testing/recording_tier.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/fault_tier.h"
#include "pager/tier/memory_tier.h"
#include "pager/tier/segment_tier.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

std::vector<uint8_t> IdBytes(PageId id) {
  std::vector<uint8_t> p(kPage, static_cast<uint8_t>(id * 7 + 1));
  std::memcpy(p.data(), &id, sizeof(id));
  return p;
}

// The tier slot that holds page id's bytes (found by content).
SlotId SlotOf(Tier& tier, PageId id) {
  std::vector<uint8_t> want = IdBytes(id), buf(kPage);
  for (SlotId s = Volume::kFirstDataSlot; s < tier.size(); ++s) {
    tier.Read(s, buf.data());
    if (buf == want) return s;
  }
  ADD_FAILURE() << "page " << id << " is in no slot";
  return 0;
}

// Pages 1..n stored and committed; a fresh volume stores them in adjacent slots.
void StorePages(Tier& tier, PageId n) {
  Volume v(tier, "prefix 'batch'", {});
  for (PageId i = 1; i <= n; ++i) {
    ASSERT_EQ(i, v.AllocateId());
    v.Store(i, IdBytes(i).data());
  }
  v.Commit({});
}

struct ScatteredBuffers {
  explicit ScatteredBuffers(size_t n) : bytes(n * kPage, 0xEE) {
    for (size_t i = 0; i < n; ++i) ptrs.push_back(bytes.data() + (n - 1 - i) * kPage);  // scattered
  }
  const uint8_t* at(size_t i) const { return ptrs[i]; }
  std::vector<uint8_t> page(size_t i) const { return {ptrs[i], ptrs[i] + kPage}; }
  std::vector<uint8_t> bytes;
  std::vector<uint8_t*> ptrs;
};

class SegmentDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pagefs-batch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SegmentDir, ReadRunCrossesSegmentFilesAndReadsHolesAsZeros) {
  SegmentTier tier(dir_, kPage, 16, false);
  std::vector<uint8_t> buf(kPage);
  // Segments 0 and 2 exist (slots 0..20 and 32..35 written); segment 1 is
  // partly written (16..20), so slots 21..31 lie past its end.
  for (SlotId s : {SlotId{10}, SlotId{15}, SlotId{16}, SlotId{20}, SlotId{35}}) {
    std::fill(buf.begin(), buf.end(), static_cast<uint8_t>(s));
    tier.Write(s, buf.data());
  }
  ScatteredBuffers out(40);
  tier.ReadRun(5, 40, out.ptrs.data());  // slots 5..44: segments 0, 1, 2 (44 is in segment 2)
  for (SlotId s = 5; s < 45; ++s) {
    bool written = s == 10 || s == 15 || s == 16 || s == 20 || s == 35;
    EXPECT_EQ(std::vector<uint8_t>(kPage, written ? static_cast<uint8_t>(s) : 0), out.page(s - 5))
        << "slot " << s;
  }
  ScatteredBuffers none(3);
  tier.ReadRun(100, 3, none.ptrs.data());  // a segment file that does not exist
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::vector<uint8_t>(kPage, 0), none.page(i));
}

TEST_F(SegmentDir, VolumeLoadsARunAcrossSegmentFilesInOneCall) {
  SegmentTier tier(dir_, kPage, 8, false);
  StorePages(tier, 40);
  Volume v(tier, "prefix 'batch'", {});
  std::vector<PageId> ids;
  for (PageId i = 1; i <= 40; ++i) ids.push_back(i);
  ScatteredBuffers out(ids.size());
  EXPECT_EQ(ids.size(), v.LoadMany(ids.data(), out.ptrs.data(), ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(IdBytes(ids[i]), out.page(i)) << ids[i];
}

TEST(BatchedLoadTest, LoadManyStopsAtTheFirstPageThatFailsItsChecksum) {
  MemoryTier tier(kPage);
  StorePages(tier, 20);
  tier.FlipBit(SlotOf(tier, 12), 999);
  Volume v(tier, "prefix 'batch'", {});
  std::vector<PageId> ids = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  ScatteredBuffers out(ids.size());
  ASSERT_EQ(9u, v.LoadMany(ids.data(), out.ptrs.data(), ids.size()));  // 3..11 are good
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(IdBytes(ids[i]), out.page(i));
  std::vector<uint8_t> buf(kPage);
  try {
    v.Load(12, buf.data());
    FAIL() << "no error for the damaged page";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kCorruption, e.code());
  }
}

TEST(BatchedLoadTest, LoadManyReadsUnstoredPagesAsZerosAndNonAdjacentSlots) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "prefix 'batch'", {});
    for (PageId i = 1; i <= 6; ++i) v.AllocateId();
    for (PageId i : {PageId{5}, PageId{1}, PageId{3}})
      v.Store(i, IdBytes(i).data());  // slots out of order
    v.Commit({});
  }
  Volume v(tier, "prefix 'batch'", {});
  std::vector<PageId> ids = {1, 2, 3, 4, 5, 6};
  ScatteredBuffers out(ids.size());
  ASSERT_EQ(6u, v.LoadMany(ids.data(), out.ptrs.data(), ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ids[i] % 2 == 1 ? IdBytes(ids[i]) : std::vector<uint8_t>(kPage, 0), out.page(i));
  }
}

struct Pool {
  Pool(Tier& tier, uint64_t budget)
      : volume(tier, "prefix 'batch'", {}), pool(kPage, budget, volume), space(volume, pool) {}
  Volume volume;
  BufferPool pool;
  EmbeddedSpace space;
};

TEST(BatchedLoadTest, PrefetchLoadsInOneBatchAndPinsThenHit) {
  MemoryTier tier(kPage);
  StorePages(tier, 64);
  Pool p(tier, 4 << 20);
  EXPECT_EQ(64u, p.pool.Prefetch(1, 64));
  EXPECT_EQ(64u, p.pool.stats().misses);
  EXPECT_EQ(64u, p.pool.stats().frames);
  EXPECT_EQ(0u, p.pool.stats().pinned);  // prefetched pages are cached, not pinned
  for (PageId i = 1; i <= 64; ++i) {
    PageGuard g = p.space.Read(i);
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage));
  }
  EXPECT_EQ(64u, p.pool.stats().hits);
  EXPECT_EQ(64u, p.pool.stats().misses);
  EXPECT_EQ(64u, p.pool.Prefetch(0, 64)) << "page 0 is skipped, resident pages count as done";
}

TEST(BatchedLoadTest, PrefetchNeverExceedsTheBudgetNorEvictsPinnedPages) {
  MemoryTier tier(kPage);
  StorePages(tier, 2000);
  const uint64_t budget = 1 << 20;  // ~250 frames once metadata is paid
  Pool p(tier, budget);
  std::vector<PageGuard> pins;
  for (PageId i = 1; i <= 20; ++i) pins.push_back(p.space.Read(i));
  uint64_t at = 21;
  while (at <= 2000) {
    uint64_t n = p.pool.Prefetch(at, 2001 - at);
    ASSERT_GT(n, 0u);
    PoolStats s = p.pool.stats();
    EXPECT_LE(s.resident_bytes, budget);
    EXPECT_LE(s.frames, s.frame_limit);
    EXPECT_LE(n, s.frame_limit / 4 + 1) << "a prefetch takes at most a quarter of the cache";
    EXPECT_EQ(20u, s.pinned);
    for (uint64_t i = at; i < at + n; ++i) {
      PageGuard g = p.space.Read(i);
      ASSERT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage)) << i;
    }
    at += n;
  }
  for (PageId i = 1; i <= 20; ++i) {
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(pins[i - 1].data(), pins[i - 1].data() + kPage));
  }
}

TEST(BatchedLoadTest, PrefetchWithEveryFramePinnedLoadsNothingAndDoesNotThrow) {
  MemoryTier tier(kPage);
  StorePages(tier, 100);
  Pool p(tier, 1);  // the floor: kMinFrames frames
  std::vector<PageGuard> pins;
  for (PageId i = 1; i <= BufferPool::kMinFrames; ++i) pins.push_back(p.space.Read(i));
  EXPECT_EQ(0u, p.pool.Prefetch(50, 10));
  EXPECT_EQ(BufferPool::kMinFrames, p.pool.stats().frames);
  pins.clear();
  EXPECT_LT(0u, p.pool.Prefetch(50, 10));
}

TEST(BatchedLoadTest, PrefetchStopsAtADamagedPageWhichItsReadThenReports) {
  MemoryTier tier(kPage);
  StorePages(tier, 30);
  tier.FlipBit(SlotOf(tier, 17), 4242);
  Pool p(tier, 4 << 20);
  EXPECT_EQ(16u, p.pool.Prefetch(1, 30));  // 1..16 loaded, 17 failed, the rest not kept
  EXPECT_EQ(16u, p.pool.stats().frames);
  try {
    p.space.Read(17);
    FAIL() << "no error for the damaged page";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kCorruption, e.code());
    EXPECT_NE(std::string(e.what()).find("page 17"), std::string::npos) << e.what();
  }
  EXPECT_EQ(0u, p.pool.Prefetch(17, 5));
  EXPECT_EQ(13u, p.pool.Prefetch(18, 13));
  for (PageId i = 18; i <= 30; ++i) {
    PageGuard g = p.space.Read(i);
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage));
  }
}

TEST(BatchedLoadTest, PrefetchLeavesDirtyResidentPagesAlone) {
  MemoryTier tier(kPage);
  StorePages(tier, 10);
  Pool p(tier, 4 << 20);
  {
    PageGuard g = p.space.Write(5);
    std::memset(g.mutable_data(), 0x5A, kPage);
  }
  EXPECT_EQ(10u, p.pool.Prefetch(1, 10));
  PageGuard g = p.space.Read(5);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0x5A), std::vector<uint8_t>(g.data(), g.data() + kPage));
  EXPECT_EQ(1u, p.pool.stats().dirty);
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

TEST(BatchedLoadTest, PrefetchAsyncLoadsInTheBackgroundAndReadsStayCorrect) {
  MemoryTier tier(kPage);
  StorePages(tier, 64);
  Pool p(tier, 4 << 20);
  p.pool.PrefetchAsync(1, 64);
  // Reads racing the background load see the right bytes either way.
  for (PageId i = 1; i <= 64; i += 7) {
    PageGuard g = p.space.Read(i);
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage));
  }
  // Eventually every page is resident (no bound on when: no timing assertion).
  while (p.pool.stats().frames < 64) std::this_thread::yield();
  EXPECT_EQ(64u, p.pool.stats().misses);
  EXPECT_EQ(0u, p.pool.stats().pinned);
}

TEST(BatchedLoadTest, PoolWithAPendingPrefetchAsyncIsDestroyedCleanly) {
  MemoryTier tier(kPage);
  StorePages(tier, 300);
  for (int round = 0; round < 20; ++round) {
    Pool p(tier, 1 << 20);
    p.pool.PrefetchAsync(1, 300);
    p.pool.PrefetchAsync(100, 50);  // replaces the first if it has not started
  }
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

TEST(BatchedLoadTest, APrefetchedFreedPageReadsAsZerosWhenItsIdIsReused) {
  MemoryTier tier(kPage);
  StorePages(tier, 8);
  Pool p(tier, 4 << 20);
  p.space.Free(5);
  EXPECT_EQ(8u, p.pool.Prefetch(1, 8));  // page 5 is loaded from its (empty) table entry
  p.volume.EnsureAllocated(5);
  PageGuard g = p.space.Read(5);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), std::vector<uint8_t>(g.data(), g.data() + kPage));
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

TEST(BatchedLoadTest, AnIoErrorInsideARunKeepsThePagesBeforeIt) {
  MemoryTier base(kPage);
  StorePages(base, 12);
  FaultTier tier(base);
  tier.FailReadsOf(SlotOf(base, 7));
  Volume v(tier, "prefix 'batch'", {});
  std::vector<PageId> ids;
  for (PageId i = 1; i <= 12; ++i) ids.push_back(i);
  ScatteredBuffers out(ids.size());
  ASSERT_EQ(6u, v.LoadMany(ids.data(), out.ptrs.data(), ids.size()));
  EXPECT_EQ(1u, tier.read_runs()) << "adjacent slots are one tier request";
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(IdBytes(ids[i]), out.page(i));
  std::vector<uint8_t> buf(kPage);
  try {
    v.Load(7, buf.data());
    FAIL() << "no error for the unreadable page";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
  }
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

TEST(BatchedLoadTest, AFaultTierPassesTheRunOnAsOneRequest) {
  RecordingTier base(kPage);
  StorePages(base, 40);
  FaultTier tier(base);
  Volume v(tier, "prefix 'batch'", {});
  std::vector<PageId> ids;
  for (PageId i = 1; i <= 40; ++i) ids.push_back(i);
  ScatteredBuffers out(ids.size());
  const int runs_before = base.calls().read_run, reads_before = base.calls().read;
  ASSERT_EQ(40u, v.LoadMany(ids.data(), out.ptrs.data(), ids.size()));
  EXPECT_EQ(runs_before + 1, base.calls().read_run) << "the batched read path is not hidden";
  EXPECT_EQ(reads_before + 1, base.calls().read) << "the table leaf only";
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(IdBytes(ids[i]), out.page(i)) << ids[i];
}

TEST(BatchedLoadTest, AReadFaultInARunReachesPrefetchAndIsReportedForItsPage) {
  MemoryTier base(kPage);
  StorePages(base, 30);
  FaultTier tier(base);
  const SlotId bad = SlotOf(base, 17);
  tier.FailReadsOf(bad);
  Pool p(tier, 4 << 20);
  EXPECT_EQ(16u, p.pool.Prefetch(1, 30));  // 1..16 loaded; the run failed at 17
  EXPECT_EQ(1u, tier.read_runs());
  EXPECT_EQ(16u, p.pool.stats().frames);
  try {
    p.space.Read(17);
    FAIL() << "no error for the unreadable page";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
    EXPECT_NE(std::string(e.what()).find("slot " + std::to_string(bad)), std::string::npos)
        << e.what();
  }
  for (PageId i : {PageId{16}, PageId{18}, PageId{30}}) {
    PageGuard g = p.space.Read(i);
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage)) << i;
  }
  tier.ClearReadFaults();  // a transient fault: the page reads once it is gone
  PageGuard g = p.space.Read(17);
  EXPECT_EQ(IdBytes(17), std::vector<uint8_t>(g.data(), g.data() + kPage));
}

TEST(BatchedLoadTest, AOneTimeReadFaultInARunCostsThePrefetchNoPage) {
  MemoryTier base(kPage);
  StorePages(base, 30);
  FaultTier tier(base);
  Pool p(tier, 4 << 20);
  const uint64_t reads_before = tier.reads();
  tier.FailRead(10);  // the 10th slot of the run: the run fails, the slot-by-slot retry works
  EXPECT_EQ(30u, p.pool.Prefetch(1, 30));
  EXPECT_EQ(reads_before + 1 + 30 + 30, tier.reads()) << "the table leaf, the run, each slot once";
  for (PageId i = 1; i <= 30; ++i) {
    PageGuard g = p.space.Read(i);
    EXPECT_EQ(IdBytes(i), std::vector<uint8_t>(g.data(), g.data() + kPage)) << i;
  }
  EXPECT_EQ(30u, p.pool.stats().misses);
}

}  // namespace
}  // namespace pagefs
