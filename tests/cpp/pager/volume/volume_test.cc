#include "pager/volume/volume.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/util/error.h"
#include "pager/tier/fault_tier.h"
#include "pager/tier/memory_tier.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;

std::vector<uint8_t> Pattern(PageId id, uint32_t version) {
  std::vector<uint8_t> bytes(kPage);
  for (uint32_t i = 0; i < kPage; ++i) bytes[i] = static_cast<uint8_t>(id * 31 + version * 7 + i);
  return bytes;
}

std::vector<uint8_t> Load(Volume& v, PageId id) {
  std::vector<uint8_t> buf(kPage);
  v.Load(id, buf.data());
  return buf;
}

ErrorCode CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::kIo;
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
    for (size_t bit : {size_t{0}, size_t{8 * 100 + 3}, size_t{8 * 2047 + 7}, size_t{8 * 3000 + 1}}) {
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
  { Volume v(tier, "t", {}); v.Commit({1, 0}); }
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

}  // namespace
}  // namespace pagefs
