// Volume: one prefix's logical pages on a tier. Commit, reopen and damage;
// the id-addressed allocation the mount uses; reads of the last commit while
// newer versions are stored, freed and committed concurrently; and the disk
// space of slots no commit references given back at a writer's first write.
#include "pager/volume/volume.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/recording_tier.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/fault_tier.h"
#include "pager/tier/memory_tier.h"
#include "pager/tier/segment_tier.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

// Every byte of page id at version v says both, so a torn or mixed page shows.
std::vector<uint8_t> Pattern(PageId id, uint32_t version) { return PageBytes(id, version, kPage); }

std::vector<uint8_t> Load(Volume& v, PageId id) {
  std::vector<uint8_t> buf(kPage);
  v.Load(id, buf.data());
  return buf;
}

// Page id as of the last commit (LoadCommitted), and that commit's epoch.
std::vector<uint8_t> Committed(Volume& v, PageId id, uint64_t* epoch = nullptr) {
  std::vector<uint8_t> buf(kPage, 0xAB);
  uint64_t e = v.LoadCommitted(id, buf.data());
  if (epoch) *epoch = e;
  return buf;
}

const std::vector<uint8_t> kZeros(kPage, 0);

// --- Commit, reopen, damage, failure

TEST(VolumeTest, WillNeedNamesTheSlotsOfTheStoredPagesOfARange) {
  RecordingTier tier(kPage);
  Volume v(tier, "prefix 'test'", {});
  for (int i = 0; i < 10; ++i) {
    PageId id = v.AllocateId();
    v.Store(id, Pattern(id, 1).data());
  }
  const PageId unwritten = v.AllocateId();  // page 11: no slot yet
  v.Commit({1, 0});
  v.WillNeed(3, 4);
  std::vector<SlotId> slots = tier.will_need_slots();
  ASSERT_EQ(4u, slots.size());
  for (SlotId s : slots) EXPECT_NE(0u, s);
  // Page 0 (the root's), an unwritten page and ids past the end name no slot.
  v.WillNeed(0, 3);
  v.WillNeed(unwritten, 100);
  EXPECT_EQ(6u, tier.will_need_slots().size());
  // Nothing to name: the tier is not asked.
  const int calls = tier.calls().will_need.load();
  v.WillNeed(unwritten, 1);
  EXPECT_EQ(calls, tier.calls().will_need.load());
}

// A remote tier keeps a slot map and indexes in RAM that grow with the
// store: they are the Volume's metadata, so the pool's budget covers them and
// the pool holds fewer frames as they grow.
TEST(VolumeTest, TheTiersMemoryIsMetadataThePoolMakesRoomFor) {
  RecordingTier tier(kPage);
  Volume v(tier, "prefix 'test'", {});
  BufferPool pool(kPage, 4 << 20, v);
  const uint64_t own = v.metadata_bytes();
  const uint64_t frames = pool.stats().frame_limit;
  tier.set_memory_bytes(1 << 20);
  EXPECT_EQ(own + (1 << 20), v.metadata_bytes());
  EXPECT_EQ(uint64_t{1} << 20, v.fixed_metadata_bytes());
  EXPECT_EQ(frames - (1 << 20) / kPage, pool.stats().frame_limit) << "a MiB fewer frames";
}

// What the tier keeps cannot be dropped, so it must not make the Volume drop
// its page-table leaves: a trim weighs the Volume's own metadata only.
TEST(VolumeTest, ATrimLeavesTheLeavesWhenOnlyTheTiersMemoryIsLarge) {
  RecordingTier tier(kPage);
  Volume v(tier, "prefix 'test'", {});
  for (int i = 0; i < 3000; ++i) v.Store(v.AllocateId(), Pattern(i, 1).data());  // several leaves
  v.Commit({1, 0});
  std::vector<uint8_t> buf(kPage);
  for (PageId id = 1; id <= 3000; id += 100) v.Load(id, buf.data());  // their leaves in memory
  const uint64_t own = v.metadata_bytes();
  tier.set_memory_bytes(64 << 20);
  v.TrimMetadata(own);
  EXPECT_EQ(own, v.metadata_bytes() - v.fixed_metadata_bytes()) << "no leaf dropped";
  v.TrimMetadata(0);
  EXPECT_LT(v.metadata_bytes() - v.fixed_metadata_bytes(), own) << "leaves do go when asked";
}

TEST(VolumeTest, CommittedPagesSurviveReopen) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "prefix 'test'", {});
    for (int i = 0; i < 1000; ++i) {
      PageId id = v.AllocateId();
      v.Store(id, Pattern(id, 1).data());
    }
    v.Commit({7, 9});
  }
  tier.Crash();
  Volume v(tier, "prefix 'test'", {});
  EXPECT_EQ(1000u, v.pages_in_use());
  EXPECT_EQ((Anchors{7, 9}), v.committed().anchors);
  for (PageId id = 1; id <= 1000; ++id) EXPECT_EQ(Pattern(id, 1), Load(v, id)) << id;
}

TEST(VolumeTest, UncommittedChangesVanishAfterCrash) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "t", {});
    PageId id = v.AllocateId();
    v.Store(id, Pattern(id, 1).data());
    v.Commit({});
    v.Store(id, Pattern(id, 2).data());  // shadowed: goes to a new slot
    PageId extra = v.AllocateId();
    v.Store(extra, Pattern(extra, 1).data());
    tier.Sync();  // even durable, uncommitted writes must not show
  }
  Volume v(tier, "t", {});
  EXPECT_EQ(1u, v.pages_in_use());
  EXPECT_EQ(Pattern(1, 1), Load(v, 1));
}

TEST(VolumeTest, FlippedBitInDataPageIsReportedWithPrefixAndPage) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "prefix 'data'", {});
    PageId id = v.AllocateId();
    v.Store(id, Pattern(id, 1).data());
    v.Commit({});
  }
  // Flip a bit in every data slot in turn: the one holding page 1 must be caught.
  bool detected = false;
  for (SlotId s = Volume::kFirstDataSlot; s < tier.size(); ++s) {
    tier.FlipBit(s, 12345);
    try {
      Volume v(tier, "prefix 'data'", {});
      Load(v, 1);
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
      std::string what = e.what();
      EXPECT_NE(what.find("prefix 'data'"), std::string::npos) << what;
      detected = true;
    }
    tier.FlipBit(s, 12345);
  }
  EXPECT_TRUE(detected);
}

TEST(VolumeTest, EveryFlippedBitInTheStoreIsDetectedOrHarmless) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "t", {});
    for (int i = 0; i < 600; ++i) {  // three table leaves, two levels
      PageId id = v.AllocateId();
      v.Store(id, Pattern(id, 1).data());
    }
    v.Commit({3, 4});
  }
  const SlotId slots = tier.size();
  for (SlotId s = 0; s < slots; ++s) {
    for (size_t bit :
         {size_t{0}, size_t{8 * 100 + 3}, size_t{8 * 2047 + 7}, size_t{8 * 3000 + 1}}) {
      tier.FlipBit(s, bit);
      try {
        Volume v(tier, "t", {});
        ASSERT_EQ((Anchors{3, 4}), v.committed().anchors);
        for (PageId id = 1; id <= 600; ++id) ASSERT_EQ(Pattern(id, 1), Load(v, id));
      } catch (const Error& e) {
        EXPECT_EQ(ErrorCode::kCorruption, e.code()) << e.what();
      }
      tier.FlipBit(s, bit);
    }
  }
}

TEST(VolumeTest, OneDamagedSuperblockCopyLosesNothing) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "t", {});
    PageId id = v.AllocateId();
    v.Store(id, Pattern(id, 1).data());
    v.Commit({1, 0});
    v.Commit({2, 0});
  }
  // Epoch 2 lives in slot 0: damage its first copy.
  tier.FlipBit(0, 8 * 10);
  Volume v(tier, "t", {});
  EXPECT_EQ(2u, v.committed().epoch);
  EXPECT_EQ((Anchors{2, 0}), v.committed().anchors);
}

TEST(VolumeTest, BothSuperblocksDamagedIsCorruption) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "t", {});
    v.Commit({1, 0});
  }
  for (SlotId s : {0, 1}) {
    tier.FlipBit(s, 8 * 10);
    tier.FlipBit(s, 8 * (2048 + 10));
  }
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Volume v(tier, "t", {}); }));
}

TEST(VolumeTest, EmptyTierWithoutCreateIsNotFound) {
  MemoryTier tier(kPage);
  VolumeOptions o;
  o.create = false;
  EXPECT_EQ(ErrorCode::kNotFound, CodeOf([&] { Volume v(tier, "t", o); }));
}

TEST(VolumeTest, ReadOnlyVolumeRefusesWrites) {
  MemoryTier tier(kPage);
  { Volume v(tier, "t", {}); }
  VolumeOptions o;
  o.read_only = true;
  Volume v(tier, "t", o);
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { v.AllocateId(); }));
}

TEST(VolumeTest, FailedWriteLeavesLastCommitAndRefusesFurtherWrites) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  {
    Volume v(tier, "t", {});
    PageId id = v.AllocateId();
    v.Store(id, Pattern(id, 1).data());
    v.Commit({});
    tier.Arm(FaultTier::Fault::kError, 1, ENOSPC);
    EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { v.Store(id, Pattern(id, 2).data()); }));
    EXPECT_TRUE(v.failed());
    EXPECT_EQ(ErrorCode::kFailed, CodeOf([&] { v.Store(id, Pattern(id, 3).data()); }));
    EXPECT_EQ(ErrorCode::kFailed, CodeOf([&] { v.Commit({}); }));
  }
  Volume v(tier, "t", {});
  EXPECT_EQ(Pattern(1, 1), Load(v, 1));
}

TEST(VolumeTest, FailedSyncFailsTheCommit) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Volume v(tier, "t", {});
  PageId id = v.AllocateId();
  v.Store(id, Pattern(id, 1).data());
  tier.FailNextSync(EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { v.Commit({}); }));
  EXPECT_EQ(ErrorCode::kFailed, CodeOf([&] { v.Commit({}); }));
}

TEST(VolumeTest, FreedSlotsAreReusedAfterCommit) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  std::vector<PageId> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(v.AllocateId());
    v.Store(ids.back(), Pattern(ids.back(), 1).data());
  }
  v.Commit({});
  const SlotId size_after_first = tier.size();
  for (int round = 2; round < 12; ++round) {
    for (PageId id : ids) v.Store(id, Pattern(id, round).data());
    v.Commit({});
  }
  // Shadow paging needs at most two generations of slots.
  EXPECT_LE(tier.size(), 2 * size_after_first + 4);
  for (PageId id : ids) v.FreeId(id);
  v.Commit({});
  EXPECT_EQ(0u, v.pages_in_use());
  EXPECT_LE(v.AllocateId(), ids.back());  // freed ids are handed out again
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

TEST(VolumeTest, HasUncommittedChangesUntilTheCommit) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  EXPECT_FALSE(v.has_uncommitted_changes());
  const PageId id = v.AllocateId();
  v.Store(id, Pattern(id, 1).data());
  EXPECT_TRUE(v.has_uncommitted_changes());
  v.Commit({});
  EXPECT_FALSE(v.has_uncommitted_changes());
  v.FreeId(id);
  EXPECT_TRUE(v.has_uncommitted_changes());
  v.Commit({});
  EXPECT_FALSE(v.has_uncommitted_changes());
  v.ExtendTo(10);  // growth alone is a change: the data file's size
  EXPECT_TRUE(v.has_uncommitted_changes());
  v.Commit({});
  EXPECT_FALSE(v.has_uncommitted_changes());
}

// --- Ids named by the write (the mount's allocation)

TEST(VolumeIdsTest, EnsureAllocatedPastTheEndLeavesTheGapFree) {
  MemoryTier tier(kPage);
  Volume v(tier, "prefix 'ids'", {});
  v.EnsureAllocated(5);
  EXPECT_EQ(6u, v.page_count());
  EXPECT_EQ(1u, v.pages_in_use());
  EXPECT_TRUE(v.IsAllocated(5));
  for (PageId id = 1; id < 5; ++id) EXPECT_FALSE(v.IsAllocated(id)) << id;
  EXPECT_FALSE(v.IsAllocated(0));
  EXPECT_FALSE(v.IsAllocated(6));
  // The gap is handed out lowest first, and 5 is never handed out twice.
  std::vector<PageId> got;
  for (int i = 0; i < 5; ++i) got.push_back(v.AllocateId());
  EXPECT_EQ((std::vector<PageId>{1, 2, 3, 4, 6}), got);
}

TEST(VolumeIdsTest, EnsureAllocatedTakesAFreeIdOffTheFreeList) {
  MemoryTier tier(kPage);
  Volume v(tier, "prefix 'ids'", {});
  for (int i = 0; i < 4; ++i) v.AllocateId();
  v.FreeId(2);
  v.FreeId(3);
  v.EnsureAllocated(3);
  v.EnsureAllocated(3);  // already allocated: nothing changes
  EXPECT_EQ((std::vector<PageId>{1, 3, 4}), v.AllocatedIds());
  EXPECT_EQ(2u, v.AllocateId());
  EXPECT_EQ(5u, v.AllocateId());
}

TEST(VolumeIdsTest, DoubleFreeIsRefused) {
  MemoryTier tier(kPage);
  Volume v(tier, "prefix 'ids'", {});
  PageId id = v.AllocateId();
  v.FreeId(id);
  EXPECT_THROW(v.FreeId(id), Error);
  EXPECT_THROW(v.FreeId(9), Error);
  EXPECT_THROW(v.EnsureAllocated(kNoPage), Error);
}

TEST(VolumeIdsTest, ExtendToGrowsWithFreeIdsAndSurvivesCommit) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "prefix 'ids'", {});
    v.ExtendTo(10);
    v.ExtendTo(3);  // never shrinks
    EXPECT_EQ(10u, v.page_count());
    EXPECT_EQ(0u, v.pages_in_use());
    std::vector<uint8_t> page(kPage, 0xab);
    v.EnsureAllocated(7);
    v.Store(7, page.data());
    v.Commit({});
  }
  Volume v(tier, "prefix 'ids'", {});
  EXPECT_EQ(10u, v.page_count());
  EXPECT_EQ((std::vector<PageId>{7}), v.AllocatedIds());
}

TEST(VolumeIdsTest, ReadOnlyVolumeAnswersAllocationQueries) {
  MemoryTier tier(kPage);
  {
    Volume v(tier, "prefix 'ids'", {});
    std::vector<uint8_t> page(kPage, 1);
    for (PageId id : {2, 4}) {
      v.EnsureAllocated(id);
      v.Store(id, page.data());
    }
    v.Commit({});
  }
  VolumeOptions ro;
  ro.read_only = true;
  Volume v(tier, "prefix 'ids'", ro);
  EXPECT_TRUE(v.IsAllocated(4));
  EXPECT_FALSE(v.IsAllocated(3));
  EXPECT_EQ((std::vector<PageId>{2, 4}), v.AllocatedIds());
  EXPECT_THROW(v.EnsureAllocated(3), Error);
}

// A page id read out of a damaged page: storing it must not grow the page
// table (and the process) up to that id.
TEST(VolumeIdsTest, StoreOrLoadPastTheEndIsRefusedAndGrowsNothing) {
  MemoryTier tier(kPage);
  Volume v(tier, "prefix 'ids'", {});
  v.AllocateId();
  std::vector<uint8_t> buf(kPage, 7);
  const uint64_t before = v.metadata_bytes();
  for (PageId id : {PageId{0}, PageId{2}, PageId{1} << 31}) {
    try {
      v.Store(id, buf.data());
      ADD_FAILURE() << "stored page " << id;
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
      EXPECT_NE(std::string(e.what()).find("past the end"), std::string::npos) << e.what();
    }
    EXPECT_THROW(v.Load(id, buf.data()), Error);
  }
  EXPECT_EQ(before, v.metadata_bytes());
  EXPECT_FALSE(v.failed()) << "a refused id is not a failed write";
}

// --- Committed reads (LoadCommitted)

TEST(VolumeCommittedTest, ReadsTheLastCommitWhileNewerVersionsAreStoredAndFreed) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  PageId a = v.AllocateId(), b = v.AllocateId(), c = v.AllocateId();
  for (PageId id : {a, b, c}) v.Store(id, Pattern(id, 1).data());
  EXPECT_EQ(kZeros, Committed(v, a));  // not committed yet: the commit has no such page
  v.Commit({1, 0});
  const uint64_t metadata_before = v.metadata_bytes();
  v.Store(a, Pattern(a, 2).data());  // a new slot
  v.Store(a, Pattern(a, 3).data());  // the same fresh slot, in place
  PageId d = v.AllocateId();         // new since the commit
  v.Store(d, Pattern(d, 1).data());
  v.FreeId(b);  // its slot is pending: d's store above could not take it
  EXPECT_GT(v.metadata_bytes(), metadata_before);  // the map of committed entries counts
  uint64_t epoch = 0;
  EXPECT_EQ(Pattern(a, 1), Committed(v, a, &epoch));
  EXPECT_EQ(1u, epoch);
  EXPECT_EQ(Pattern(b, 1), Committed(v, b));
  EXPECT_EQ(Pattern(c, 1), Committed(v, c));
  EXPECT_EQ(kZeros, Committed(v, d));
  EXPECT_EQ(Pattern(a, 3), [&] {
    std::vector<uint8_t> buf(kPage);
    v.Load(a, buf.data());
    return buf;
  }());
  v.Commit({2, 0});
  EXPECT_EQ(Pattern(a, 3), Committed(v, a, &epoch));
  EXPECT_EQ(2u, epoch);
  EXPECT_EQ(kZeros, Committed(v, b));
  EXPECT_EQ(Pattern(d, 1), Committed(v, d));
  // A stale expectation is refused rather than answered from another commit.
  std::vector<uint8_t> buf(kPage);
  try {
    v.LoadCommitted(a, buf.data(), 1);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kStale, e.code());
  }
  EXPECT_EQ(2u, v.LoadCommitted(a, buf.data(), 2));
}

TEST(VolumeCommittedTest, PagesDirtyOnlyInThePoolOrEvictedReadAsCommitted) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  BufferPool pool(kPage, 64 * kPage, v);  // small: writes evict (store) older pages
  EmbeddedSpace space(v, pool);
  std::vector<PageId> ids;
  for (int i = 0; i < 200; ++i) {
    PageGuard g = space.Allocate();
    std::memcpy(g.mutable_data(), Pattern(g.id(), 1).data(), kPage);
    ids.push_back(g.id());
  }
  space.Commit();
  for (PageId id : ids) {
    PageGuard g = space.Write(id);
    std::memcpy(g.mutable_data(), Pattern(id, 2).data(), kPage);
  }
  // Some version-2 pages were evicted (stored), the rest are dirty in the pool.
  for (PageId id : ids) EXPECT_EQ(Pattern(id, 1), Committed(v, id)) << id;
  space.Commit();
  for (PageId id : ids) EXPECT_EQ(Pattern(id, 2), Committed(v, id)) << id;
}

TEST(VolumeCommittedTest, ConcurrentCommitsNeverShowAMixOrATornPage) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  constexpr int kPages = 32;
  std::vector<PageId> ids;
  for (int i = 0; i < kPages; ++i) ids.push_back(v.AllocateId());
  for (PageId id : ids) v.Store(id, Pattern(id, 1).data());
  v.Commit({1, 0});  // epoch 1 holds version 1, epoch n version n
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> checked{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      std::vector<uint8_t> buf(kPage);
      uint64_t n = 0;
      while (!stop.load()) {
        PageId id = ids[(n++ * 7 + r) % kPages];
        uint64_t epoch = v.LoadCommitted(id, buf.data());
        if (buf != Pattern(id, static_cast<uint32_t>(epoch))) {
          ADD_FAILURE() << "page " << id << " at epoch " << epoch << " is not version " << epoch;
          stop = true;
        }
        // A pinned epoch either answers that epoch or says it is stale.
        try {
          v.LoadCommitted(id, buf.data(), epoch);
          if (buf != Pattern(id, static_cast<uint32_t>(epoch))) {
            ADD_FAILURE() << "pinned read of page " << id << " is not version " << epoch;
            stop = true;
          }
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kStale) throw;
        }
        checked++;
      }
    });
  }
  for (uint32_t version = 2; version < 300; ++version) {
    for (PageId id : ids) v.Store(id, Pattern(id, version).data());
    if (version % 3 == 0) {  // free and reallocate one page: its slot is pending too
      PageId id = ids[version % kPages];
      v.FreeId(id);
      v.EnsureAllocated(id);
      v.Store(id, Pattern(id, version).data());
    }
    v.Commit({version, 0});
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(checked.load(), 0u);
  EXPECT_EQ(299u, v.committed().epoch);
}

// --- Disk space of a crashed writer's slots

// 4 MiB segments: the test spans several.
constexpr uint32_t kTrimSlotsPerSegment = 1024;

TEST(VolumeTrimTest, UncommittedPagesOfACrashedWriterAreGivenBackAtTheNextOpen) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pagefs_trim_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> page(kPage, 0x5A);
  uint64_t committed_bytes = 0;
  {
    SegmentTier tier(dir, kPage, kTrimSlotsPerSegment, false);
    Volume v(tier, "t", {});
    for (int i = 0; i < 64; ++i) v.Store(v.AllocateId(), page.data());
    v.Commit({1, 0});
    committed_bytes = tier.stats().bytes_on_disk;
    // A runaway change that never commits: the process "crashes" here.
    for (int i = 0; i < 5000; ++i) v.Store(v.AllocateId(), page.data());
    tier.Sync();
    ASSERT_GT(tier.stats().bytes_on_disk, committed_bytes + 4000u * kPage);
  }
  SegmentTier tier(dir, kPage, kTrimSlotsPerSegment, false);
  Volume v(tier, "t", {});
  EXPECT_EQ(64u, v.pages_in_use());
  v.Store(v.AllocateId(), page.data());  // the first write gives the space back
  v.Commit({1, 0});
  EXPECT_LT(tier.stats().bytes_on_disk, committed_bytes + 64u * kPage);
  std::vector<uint8_t> buf(kPage);
  v.Load(1, buf.data());
  EXPECT_EQ(page, buf);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pagefs
