#include "pager/tier/memory_tier.h"

#include <gtest/gtest.h>

#include <vector>

namespace pagefs {
namespace {

constexpr uint32_t kSlot = 64;

std::vector<uint8_t> Filled(uint8_t byte) { return std::vector<uint8_t>(kSlot, byte); }

std::vector<uint8_t> ReadSlot(MemoryTier& tier, SlotId slot) {
  std::vector<uint8_t> buf(kSlot, 0xEE);
  tier.Read(slot, buf.data());
  return buf;
}

TEST(MemoryTierTest, ASlotNeverWrittenReadsAsZeros) {
  MemoryTier tier(kSlot);
  EXPECT_EQ(Filled(0), ReadSlot(tier, 5));
  EXPECT_EQ(0u, tier.size());
}

TEST(MemoryTierTest, AWriteReadsBackAtOnceAndSurvivesACrashOnlyOnceSynced) {
  MemoryTier tier(kSlot);
  tier.Write(1, Filled(1).data());
  EXPECT_EQ(Filled(1), ReadSlot(tier, 1));
  tier.Sync();
  tier.Write(1, Filled(2).data());
  tier.Write(3, Filled(3).data());
  EXPECT_EQ(Filled(2), ReadSlot(tier, 1));
  EXPECT_EQ(4u, tier.size());
  tier.Crash();  // power lost: the unsynced writes are gone, the synced one stays
  EXPECT_EQ(Filled(1), ReadSlot(tier, 1));
  EXPECT_EQ(Filled(0), ReadSlot(tier, 3));
  EXPECT_EQ(2u, tier.size());
}

TEST(MemoryTierTest, ADiscardedSlotReadsAsZerosSyncedOrNot) {
  MemoryTier tier(kSlot);
  tier.Write(0, Filled(7).data());
  tier.Sync();
  tier.Write(1, Filled(8).data());
  tier.Discard(0);
  tier.Discard(1);
  EXPECT_EQ(Filled(0), ReadSlot(tier, 0));
  EXPECT_EQ(Filled(0), ReadSlot(tier, 1));
  EXPECT_EQ(0u, tier.size());
}

TEST(MemoryTierTest, FlipBitChangesOneBitOfTheDurableBytes) {
  MemoryTier tier(kSlot);
  tier.Write(2, Filled(0xF0).data());
  tier.Sync();
  tier.FlipBit(2, 9);  // byte 1, bit 1
  std::vector<uint8_t> want = Filled(0xF0);
  want[1] = 0xF2;
  EXPECT_EQ(want, ReadSlot(tier, 2));
  // A slot never written is flipped from zeros.
  tier.FlipBit(4, 0);
  EXPECT_EQ(1, ReadSlot(tier, 4)[0]);
}

TEST(MemoryTierTest, StatsCountReadsWritesSyncsAndTheBytesHeld) {
  MemoryTier tier(kSlot);
  tier.Write(0, Filled(1).data());
  tier.Write(1, Filled(1).data());
  tier.Sync();
  tier.Write(2, Filled(1).data());
  (void)ReadSlot(tier, 0);
  const TierStats s = tier.stats();
  EXPECT_EQ(3u, s.writes);
  EXPECT_EQ(1u, s.reads);
  EXPECT_EQ(1u, s.syncs);
  EXPECT_EQ(3u * kSlot, s.bytes_on_disk);
  EXPECT_EQ("memory", tier.name());
  EXPECT_EQ(kSlot, tier.slot_size());
}

}  // namespace
}  // namespace pagefs
