#include "pager/volume/page_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

constexpr uint64_t kPerNode = kPage / sizeof(TableEntry);  // 256

TableEntry EntryFor(PageId id, uint32_t version = 1) {
  return {1000 + id * 3 + version, id * 0x9E3779B97F4A7C15ULL + version};
}

void ExpectEntry(const TableEntry& want, const TableEntry& got, PageId id) {
  EXPECT_EQ(want.slot, got.slot) << "page " << id;
  EXPECT_EQ(want.checksum, got.checksum) << "page " << id;
}

struct Table {
  Table() : table(tier, kPage, "prefix 't'") {}
  MemoryTier tier{kPage};
  SlotAllocator slots{2};
  PageTable table;
};

TEST(PageTableTest, AnEmptyTableHasNoEntriesAndWritesNothing) {
  Table t;
  EXPECT_EQ(kPerNode, t.table.entries_per_node());
  EXPECT_EQ(0u, t.table.Get(1).slot);
  EXPECT_EQ(0u, t.table.Get(1 << 20).slot);
  EXPECT_FALSE(t.table.dirty());
  TableRoot root = t.table.WriteDirty(t.slots);
  EXPECT_EQ(0u, root.height);
  EXPECT_EQ(0u, t.tier.size());
}

TEST(PageTableTest, SetThenGetAndTheHeightGrowsWithTheIds) {
  Table t;
  const std::vector<std::pair<PageId, uint32_t>> steps = {{1, 1},
                                                          {kPerNode - 1, 1},
                                                          {kPerNode, 2},
                                                          {kPerNode * kPerNode - 1, 2},
                                                          {kPerNode * kPerNode, 3},
                                                          {5 * kPerNode * kPerNode + 17, 3}};
  for (const auto& [id, height] : steps) {
    t.table.Set(id, EntryFor(id));
    EXPECT_TRUE(t.table.dirty());
    TableRoot root = t.table.WriteDirty(t.slots);
    EXPECT_EQ(height, root.height) << "after page " << id;
    EXPECT_FALSE(t.table.dirty());
    for (const auto& [earlier, h] : steps) {
      if (earlier > id) break;
      ExpectEntry(EntryFor(earlier), t.table.Get(earlier), earlier);
    }
    EXPECT_EQ(0u, t.table.Get(id + 1).slot);
  }
  t.table.Set(1, EntryFor(1, 2));
  ExpectEntry(EntryFor(1, 2), t.table.Get(1), 1);
}

// What WriteDirty wrote, Open reads back: every entry, and the walk reaches
// every node slot and data entry.
TEST(PageTableTest, WriteDirtyThenOpenRoundTrips) {
  Table t;
  std::mt19937_64 rng(3);
  std::map<PageId, TableEntry> want;
  for (int i = 0; i < 3000; ++i) {
    PageId id = 1 + rng() % 200000;  // height 3
    want[id] = EntryFor(id, i);
    t.table.Set(id, want[id]);
  }
  const TableRoot root = t.table.WriteDirty(t.slots);
  ASSERT_EQ(3u, root.height);
  PageTable opened(t.tier, kPage, "prefix 't'");
  opened.Open(root);
  EXPECT_FALSE(opened.dirty());
  for (const auto& [id, e] : want) ExpectEntry(e, opened.Get(id), id);
  EXPECT_EQ(0u, opened.Get(200001).slot);
  std::set<SlotId> nodes;
  std::map<PageId, TableEntry> walked;
  opened.Walk([&](SlotId s) { EXPECT_TRUE(nodes.insert(s).second) << "node slot " << s; },
              [&](PageId id, const TableEntry& e) {
                if (e.slot != 0) walked[id] = e;
              });
  EXPECT_EQ(want.size(), walked.size());
  for (SlotId s : nodes) EXPECT_TRUE(t.slots.IsUsed(s)) << "node slot " << s;
  EXPECT_EQ(t.slots.used_slots(), nodes.size());
  EXPECT_TRUE(nodes.count(root.entry.slot));
}

// Shadow paging of the table itself: a change writes new nodes and leaves the
// committed ones as they were, so the old root still reads the old table.
TEST(PageTableTest, ChangesAfterACommitNeverOverwriteItsNodes) {
  Table t;
  for (PageId id = 1; id < 600; ++id) t.table.Set(id, EntryFor(id));
  const TableRoot old_root = t.table.WriteDirty(t.slots);
  t.slots.CommitSucceeded(1);
  const uint64_t used = t.slots.used_slots();
  t.table.Set(300, EntryFor(300, 2));
  const TableRoot new_root = t.table.WriteDirty(t.slots);
  EXPECT_NE(old_root.entry.slot, new_root.entry.slot);
  EXPECT_EQ(used + 2, t.slots.used_slots()) << "a new leaf and root; the old ones wait";
  PageTable old(t.tier, kPage, "prefix 't'");
  old.Open(old_root);
  ExpectEntry(EntryFor(300), old.Get(300), 300);
  PageTable now(t.tier, kPage, "prefix 't'");
  now.Open(new_root);
  ExpectEntry(EntryFor(300, 2), now.Get(300), 300);
  ExpectEntry(EntryFor(299), now.Get(299), 299);
  // Before the next commit, a node written since is overwritten in place.
  t.table.Set(301, EntryFor(301, 2));
  EXPECT_EQ(new_root.entry.slot, t.table.WriteDirty(t.slots).entry.slot);
}

TEST(PageTableTest, NodesAreVerifiedAgainstTheirParentsChecksumOnLoad) {
  Table t;
  for (PageId id = 1; id < 3 * kPerNode; ++id) t.table.Set(id, EntryFor(id));
  const TableRoot root = t.table.WriteDirty(t.slots);
  ASSERT_EQ(2u, root.height);
  std::string what;
  {  // the root: Open loads it
    MemoryTier copy(kPage);
    for (SlotId s = 0; s < t.tier.size(); ++s) copy.Write(s, SlotBytes(t.tier, s).data());
    copy.Sync();
    copy.FlipBit(root.entry.slot, 77);
    PageTable damaged(copy, kPage, "prefix 't'");
    EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { damaged.Open(root); }, &what));
    EXPECT_NE(what.find("level 2"), std::string::npos) << what;
    EXPECT_NE(what.find("prefix 't'"), std::string::npos) << what;
  }
  // A leaf: found on first use. Leaf 1 holding leaf 2's bytes fails too (the
  // seed binds a node to its place).
  PageTable opened(t.tier, kPage, "prefix 't'");
  opened.Open(root);
  ExpectEntry(EntryFor(5), opened.Get(5), 5);
  SlotId leaf1 = 0, leaf2 = 0;
  for (SlotId s = 2; s < t.tier.size(); ++s) {
    std::vector<uint8_t> bytes = SlotBytes(t.tier, s);
    TableEntry first;
    std::memcpy(&first, bytes.data(), sizeof(first));
    if (first.slot == EntryFor(kPerNode).slot) leaf1 = s;
    if (first.slot == EntryFor(2 * kPerNode).slot) leaf2 = s;
  }
  ASSERT_NE(0u, leaf1);
  ASSERT_NE(0u, leaf2);
  t.tier.Write(leaf1, SlotBytes(t.tier, leaf2).data());
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { opened.Get(kPerNode + 1); }, &what));
  EXPECT_NE(what.find("level 1, index 1"), std::string::npos) << what;
  ExpectEntry(EntryFor(2 * kPerNode + 1), opened.Get(2 * kPerNode + 1), 2 * kPerNode + 1);
}

TEST(PageTableTest, TrimLeavesDropsCleanLeavesOnlyAndTheyLoadAgain) {
  Table t;
  const PageId n = 40 * kPerNode;
  for (PageId id = 1; id < n; ++id) t.table.Set(id, EntryFor(id));
  const TableRoot root = t.table.WriteDirty(t.slots);
  PageTable opened(t.tier, kPage, "prefix 't'");
  opened.Open(root);
  const uint64_t bare = opened.memory_bytes();
  for (PageId id = 1; id < n; id += kPerNode) opened.Get(id);  // loads the 40 leaves
  const uint64_t loaded = opened.memory_bytes();
  EXPECT_GE(loaded, bare + 40 * kPage);
  opened.Set(5 * kPerNode + 3, EntryFor(5 * kPerNode + 3, 9));  // leaf 5 changes
  opened.TrimLeaves(bare + 10 * kPage);
  EXPECT_LE(opened.memory_bytes(), bare + 10 * kPage);
  opened.TrimLeaves(0);
  EXPECT_EQ(bare + kPage, opened.memory_bytes()) << "only the changed leaf stays";
  EXPECT_TRUE(opened.dirty());
  const uint64_t reads = t.tier.stats().reads;
  for (PageId id = 1; id < n; id += 97) {
    ExpectEntry(id == 5 * kPerNode + 3 ? EntryFor(id, 9) : EntryFor(id), opened.Get(id), id);
  }
  EXPECT_GT(t.tier.stats().reads, reads) << "trimmed leaves are read again";
  ExpectEntry(EntryFor(5 * kPerNode + 3, 9), opened.Get(5 * kPerNode + 3), 5 * kPerNode + 3);
}

}  // namespace
}  // namespace pagefs
