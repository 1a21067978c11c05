// The id-addressed allocation that the mount uses: a write names its page.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pager/util/error.h"
#include "pager/tier/memory_tier.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;

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

}  // namespace
}  // namespace pagefs
