#include "pager/volume/slot_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace pagefs {
namespace {

constexpr SlotId kFirst = 2;  // below: the superblocks

TEST(SlotAllocatorTest, HandsOutFreshSlotsFromTheFirstDataSlotUp) {
  SlotAllocator slots(kFirst);
  EXPECT_EQ(2u, slots.Allocate());
  EXPECT_EQ(3u, slots.Allocate());
  EXPECT_EQ(4u, slots.Allocate());
  EXPECT_EQ(3u, slots.used_slots());
  for (SlotId s : {2, 3, 4}) {
    EXPECT_TRUE(slots.IsUsed(s));
    EXPECT_TRUE(slots.IsFresh(s));
  }
  EXPECT_FALSE(slots.IsUsed(0));
  EXPECT_FALSE(slots.IsUsed(5));
  slots.CommitSucceeded(1);
  for (SlotId s : {2, 3, 4}) EXPECT_FALSE(slots.IsFresh(s)) << "committed now";
}

TEST(SlotAllocatorTest, MarkedSlotsAreSkippedAndCountedOnce) {
  SlotAllocator slots(kFirst);
  slots.MarkUsed(2);
  slots.MarkUsed(3);
  slots.MarkUsed(3);
  slots.MarkUsed(200);  // past the first bitmap word
  EXPECT_EQ(3u, slots.used_slots());
  EXPECT_FALSE(slots.IsFresh(2)) << "a slot of the committed state is not fresh";
  EXPECT_EQ(4u, slots.Allocate());
  for (SlotId want = 5; want < 200; ++want) ASSERT_EQ(want, slots.Allocate());
  EXPECT_EQ(201u, slots.Allocate());
}

TEST(SlotAllocatorTest, AReleasedFreshSlotIsFreeAtOnce) {
  SlotAllocator slots(kFirst);
  for (int i = 0; i < 5; ++i) slots.Allocate();  // 2..6
  slots.Release(4);
  EXPECT_FALSE(slots.IsUsed(4));
  EXPECT_FALSE(slots.IsFresh(4));
  EXPECT_EQ(4u, slots.used_slots());
  EXPECT_EQ(4u, slots.Allocate()) << "the lowest free slot first";
  EXPECT_EQ(7u, slots.Allocate());
  EXPECT_EQ(0u, slots.held_slots());
}

// Shadow paging: a committed slot is not reused before the next commit
// succeeds, nor while a reader of an older commit may reach it.
TEST(SlotAllocatorTest, AReleasedCommittedSlotWaitsForTheCommitThenForReaders) {
  SlotAllocator slots(kFirst);
  for (int i = 0; i < 3; ++i) slots.Allocate();  // 2, 3, 4
  slots.CommitSucceeded(1);
  slots.Release(3);
  EXPECT_TRUE(slots.IsUsed(3)) << "commit 1 still references it";
  EXPECT_EQ(5u, slots.Allocate());
  EXPECT_EQ(0u, slots.Reclaim(std::nullopt)) << "pending slots are not held yet";
  EXPECT_TRUE(slots.IsUsed(3));
  slots.CommitSucceeded(2);  // released by commit 2
  EXPECT_EQ(1u, slots.held_slots());
  EXPECT_TRUE(slots.IsUsed(3));
  EXPECT_EQ(0u, slots.Reclaim(1)) << "a reader of commit 1 may still read it";
  EXPECT_TRUE(slots.IsUsed(3));
  EXPECT_EQ(6u, slots.Allocate());
  EXPECT_EQ(1u, slots.Reclaim(2)) << "every reader is at commit 2";
  EXPECT_FALSE(slots.IsUsed(3));
  EXPECT_EQ(0u, slots.held_slots());
  EXPECT_EQ(3u, slots.Allocate());
}

TEST(SlotAllocatorTest, ReclaimFreesGroupsInEpochOrderUpToTheOldestReader) {
  SlotAllocator slots(kFirst);
  for (int i = 0; i < 6; ++i) slots.Allocate();  // 2..7
  slots.CommitSucceeded(1);
  for (uint64_t epoch = 2; epoch <= 4; ++epoch) {
    slots.Release(epoch);  // commit e releases slots e and e + 3
    slots.CommitSucceeded(epoch);
    slots.Release(epoch + 3);
    slots.CommitSucceeded(epoch);  // a second call for one epoch adds to its group
  }
  EXPECT_EQ(6u, slots.held_slots());
  EXPECT_EQ(4u, slots.Reclaim(3));
  EXPECT_FALSE(slots.IsUsed(2));
  EXPECT_FALSE(slots.IsUsed(6));
  EXPECT_TRUE(slots.IsUsed(4));
  EXPECT_TRUE(slots.IsUsed(7));
  EXPECT_EQ(2u, slots.Reclaim(std::nullopt)) << "no reader: all of them";
  EXPECT_EQ(0u, slots.held_slots());
  EXPECT_EQ(0u, slots.used_slots());
}

// At open, a writer holds the slots of older commits that live readers read
// (the reader table); they are tagged with the epoch of the open commit.
TEST(SlotAllocatorTest, HeldSlotsOfReadersSkipUsedAndSuperblockSlots) {
  SlotAllocator slots(kFirst);
  slots.MarkUsed(5);  // the open commit uses it
  EXPECT_EQ(2u, slots.Hold(7, {0, 1, 5, 6, 8}));
  EXPECT_EQ(2u, slots.held_slots());
  EXPECT_EQ(3u, slots.used_slots());
  EXPECT_TRUE(slots.IsUsed(6));
  EXPECT_TRUE(slots.IsUsed(8));
  EXPECT_FALSE(slots.IsUsed(0));
  EXPECT_EQ(0u, slots.Hold(7, {5, 6})) << "nothing new";
  EXPECT_EQ(2u, slots.Allocate());
  EXPECT_EQ(3u, slots.Allocate());
  EXPECT_EQ(4u, slots.Allocate());
  EXPECT_EQ(7u, slots.Allocate()) << "held slots are not handed out";
  slots.CommitSucceeded(8);
  slots.Release(5);
  slots.CommitSucceeded(9);
  EXPECT_EQ(0u, slots.Reclaim(6)) << "a reader older than the open commit";
  EXPECT_EQ(2u, slots.Reclaim(8)) << "the open's group first, the commit's later";
  EXPECT_TRUE(slots.IsUsed(5));
  EXPECT_EQ(1u, slots.Reclaim(9));
  EXPECT_EQ(5u, slots.Allocate()) << "freed slots are handed out again, lowest first";
  EXPECT_EQ(6u, slots.Allocate());
}

// Random operations against a model of the rules: used = fresh + committed
// + pending + held, and a slot is never handed out while the last commit or a
// reader may reach it.
TEST(SlotAllocatorTest, RandomOperationsKeepEveryReachableSlotFromReuse) {
  std::mt19937 rng(7);
  SlotAllocator slots(kFirst);
  std::set<SlotId> fresh, committed, pending;
  std::map<SlotId, uint64_t> held;  // slot -> epoch that released it
  uint64_t epoch = 0;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 4) {
      SlotId s = slots.Allocate();
      ASSERT_GE(s, kFirst);
      ASSERT_FALSE(fresh.count(s) || committed.count(s) || pending.count(s) || held.count(s))
          << "slot " << s << " handed out while in use, step " << step;
      fresh.insert(s);
    } else if (op < 7 && !(fresh.empty() && committed.empty())) {
      bool pick_fresh = committed.empty() || (!fresh.empty() && rng() % 2);
      std::set<SlotId>& from = pick_fresh ? fresh : committed;
      auto it = from.begin();
      std::advance(it, rng() % from.size());
      SlotId s = *it;
      from.erase(it);
      slots.Release(s);
      if (!pick_fresh) pending.insert(s);
      ASSERT_EQ(!pick_fresh, slots.IsUsed(s));
    } else if (op < 9) {
      slots.CommitSucceeded(++epoch);
      committed.insert(fresh.begin(), fresh.end());
      fresh.clear();
      for (SlotId s : pending) held[s] = epoch;
      pending.clear();
    } else {
      std::optional<uint64_t> oldest;
      if (rng() % 3 != 0) oldest = epoch - std::min<uint64_t>(epoch, rng() % 3);
      uint64_t want = 0;
      for (auto it = held.begin(); it != held.end();) {
        if (!oldest || it->second <= *oldest) {
          ++want;
          it = held.erase(it);
        } else {
          ++it;
        }
      }
      ASSERT_EQ(want, slots.Reclaim(oldest)) << "step " << step;
    }
    ASSERT_EQ(fresh.size() + committed.size() + pending.size() + held.size(), slots.used_slots());
    ASSERT_EQ(held.size(), slots.held_slots());
  }
}

TEST(SlotAllocatorTest, MemoryGrowsWithTheSlotsTracked) {
  SlotAllocator slots(kFirst);
  const uint64_t empty = slots.memory_bytes();
  for (int i = 0; i < 10000; ++i) slots.Allocate();
  EXPECT_GT(slots.memory_bytes(), empty + 10000 / 8);
}

}  // namespace
}  // namespace pagefs
