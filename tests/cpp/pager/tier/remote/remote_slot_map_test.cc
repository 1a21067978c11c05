// RemoteSlotMap: set, replace, erase, iterate, against a std::map of the same
// operations.
#include "pager/tier/remote/remote_slot_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace pagefs {
namespace {

FrameLocation Loc(uint64_t n) {
  return {n % 7, static_cast<uint32_t>(n * 16), static_cast<uint32_t>(1 + n % 300), n * 31};
}

bool Same(const FrameLocation& a, const FrameLocation& b) {
  return a.segment == b.segment && a.offset == b.offset && a.length == b.length &&
         a.checksum == b.checksum;
}

TEST(RemoteSlotMapTest, AgreesWithAStdMapOverRandomSetsAndErases) {
  RemoteSlotMap map;
  std::map<SlotId, FrameLocation> model;
  std::mt19937_64 rng(3);
  for (int step = 0; step < 20000; ++step) {
    const SlotId slot = rng() % 500;
    if (rng() % 3 == 0) {
      std::optional<FrameLocation> old = map.Erase(slot);
      ASSERT_EQ(old.has_value(), model.count(slot) == 1) << step;
      model.erase(slot);
    } else {
      const FrameLocation loc = Loc(rng() % 100000);
      std::optional<FrameLocation> old = map.Set(slot, loc);
      ASSERT_EQ(old.has_value(), model.count(slot) == 1) << step;
      if (old) ASSERT_TRUE(Same(*old, model[slot])) << step;
      model[slot] = loc;
    }
    ASSERT_EQ(map.size(), model.size());
  }
  uint64_t bytes = 0;
  std::vector<SlotId> seen;
  for (const auto& [slot, loc] : map) {
    seen.push_back(slot);
    bytes += loc.length;
    ASSERT_TRUE(Same(loc, model.at(slot)));
    ASSERT_TRUE(Same(*map.Find(slot), loc));
  }
  ASSERT_EQ(seen.size(), model.size()) << "each stored slot once, ascending";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(map.bytes(), bytes);
  EXPECT_EQ(map.end_slot(), model.empty() ? 0 : model.rbegin()->first + 1);
  EXPECT_EQ(map.Find(100000), nullptr);
}

TEST(RemoteSlotMapTest, TheEndFollowsTheHighestStoredSlotAndClearEmptiesIt) {
  RemoteSlotMap map;
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.begin(), map.end());
  map.Set(3, Loc(1));
  map.Set(9, Loc(2));
  EXPECT_EQ(map.end_slot(), 10u);
  map.Erase(9);
  EXPECT_EQ(map.end_slot(), 4u) << "the slots above the highest one stored are gone";
  EXPECT_EQ(map.Erase(9), std::nullopt);
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.end_slot(), 0u);
  EXPECT_EQ(map.bytes(), 0u);
}

TEST(RemoteSlotMapTest, ItsMemoryIsItsVectorOfLocations) {
  RemoteSlotMap map;
  EXPECT_EQ(0u, map.memory_bytes());
  for (SlotId s = 0; s < 1000; ++s) map.Set(s, Loc(s + 1));
  EXPECT_GE(map.memory_bytes(), 1000 * sizeof(FrameLocation));
  EXPECT_LE(map.memory_bytes(), 2000 * sizeof(FrameLocation));
}

}  // namespace
}  // namespace pagefs
