#include "pager/volume/commit_root.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/fault_tier.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

Superblock At(uint64_t epoch) {
  Superblock sb;
  sb.page_size = kPage;
  sb.epoch = epoch;
  sb.page_count = 10 + epoch;
  sb.anchors = {epoch, 2 * epoch};
  return sb;
}

std::vector<uint8_t> Encoded(const Superblock& sb) {
  std::vector<uint8_t> slot(kPage);
  EncodeSuperblock(sb, slot);
  return slot;
}

TEST(SuperblockSlotsTest, AnEmptyTierHasNoCommit) {
  MemoryTier tier(kPage);
  EXPECT_FALSE(SuperblockSlots(tier).Load().has_value());
}

TEST(SuperblockSlotsTest, PublishWritesSlotEpochModTwoDurablyAndLoadTakesTheNewest) {
  MemoryTier tier(kPage);
  SuperblockSlots root(tier);
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    const std::vector<uint8_t> other = SlotBytes(tier, (epoch + 1) % 2);
    root.Publish(At(epoch));
    tier.Crash();  // only durable bytes are left
    EXPECT_EQ(Encoded(At(epoch)), SlotBytes(tier, epoch % 2)) << "the format, byte for byte";
    EXPECT_EQ(other, SlotBytes(tier, (epoch + 1) % 2)) << "the previous commit is untouched";
    std::optional<Superblock> got = SuperblockSlots(tier).Load();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(epoch, got->epoch);
    EXPECT_EQ(At(epoch).anchors, got->anchors);
  }
  EXPECT_EQ(2u, tier.size()) << "no slot past the two superblocks";
}

TEST(SuperblockSlotsTest, ADamagedNewestSlotFallsBackToThePreviousCommit) {
  MemoryTier tier(kPage);
  SuperblockSlots root(tier);
  root.Publish(At(6));
  root.Publish(At(7));
  tier.FlipBit(1, 100);  // first copy of slot 1
  EXPECT_EQ(7u, root.Load()->epoch) << "the second copy still holds";
  tier.FlipBit(1, kSuperblockCopySize * 8 + 100);
  EXPECT_EQ(6u, root.Load()->epoch);
  tier.FlipBit(0, 100);
  tier.FlipBit(0, kSuperblockCopySize * 8 + 100);
  EXPECT_FALSE(root.Load().has_value());
}

TEST(SuperblockSlotsTest, ACrashDuringPublishLeavesTheOldOrTheNewCommit) {
  for (FaultTier::Fault fault : {FaultTier::Fault::kDropCrash, FaultTier::Fault::kTornCrash}) {
    MemoryTier base(kPage);
    FaultTier tier(base);
    SuperblockSlots root(tier);
    root.Publish(At(0));
    root.Publish(At(1));
    tier.Arm(fault, 1);
    EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { root.Publish(At(2)); }));
    std::optional<Superblock> got = SuperblockSlots(base).Load();
    ASSERT_TRUE(got.has_value());
    // A torn slot keeps its new first copy; a dropped write keeps epoch 1.
    EXPECT_EQ(fault == FaultTier::Fault::kTornCrash ? 2u : 1u, got->epoch);
  }
}

TEST(SuperblockSlotsTest, SlotsTooSmallForTwoCopiesAreRefused) {
  MemoryTier tier(2 * kSuperblockCopySize - 1);
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { SuperblockSlots root(tier); }));
}

// A root kept apart from the tier, as an object store keeps its head.
class SeparateRoot final : public CommitRoot {
 public:
  std::optional<Superblock> Load() override { return head; }
  void Publish(const Superblock& sb) override {
    if (fail_next) {
      fail_next = false;
      throw Error(ErrorCode::kIo, "head write refused (test)");
    }
    EXPECT_TRUE(head ? sb.epoch == head->epoch + 1 : sb.epoch == 0) << sb.epoch;
    head = sb;
    ++publishes;
  }
  std::optional<Superblock> head;
  int publishes = 0;
  bool fail_next = false;
};

TEST(CommitRootTest, TheVolumeFindsAndPublishesCommitsOnlyThroughItsRoot) {
  MemoryTier tier(kPage);
  SeparateRoot root;
  VolumeOptions options;
  options.commit_root = &root;
  {
    Volume v(tier, "prefix 'root'", options);
    EXPECT_EQ(1, root.publishes) << "formatting publishes epoch 0";
    for (uint32_t round = 1; round <= 3; ++round) {
      PageId id = round == 1 ? v.AllocateId() : 1;
      v.Store(id, PageBytes(id, round).data());
      v.Commit({round, 0});
    }
  }
  EXPECT_EQ(4, root.publishes);
  EXPECT_EQ(3u, root.head->epoch);
  for (SlotId s : {SlotId{0}, SlotId{1}}) {
    EXPECT_EQ(std::vector<uint8_t>(kPage, 0), SlotBytes(tier, s)) << "slot " << s;
  }
  Volume v(tier, "prefix 'root'", options);
  EXPECT_EQ(3u, v.committed().epoch);
  EXPECT_EQ((Anchors{3, 0}), v.committed().anchors);
  std::vector<uint8_t> buf(kPage);
  v.Load(1, buf.data());
  EXPECT_EQ(PageBytes(1, 3), buf);
  // Without that root the tier is data without a superblock: damaged.
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Volume other(tier, "prefix 'root'", {}); }));
}

TEST(CommitRootTest, AFailedPublishFailsTheCommitAndReopenFindsTheLastOne) {
  MemoryTier tier(kPage);
  SeparateRoot root;
  VolumeOptions options;
  options.commit_root = &root;
  {
    Volume v(tier, "prefix 'root'", options);
    PageId id = v.AllocateId();
    v.Store(id, PageBytes(id, 1).data());
    v.Commit({});
    v.Store(id, PageBytes(id, 2).data());
    root.fail_next = true;
    EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { v.Commit({}); }));
    EXPECT_TRUE(v.failed());
    EXPECT_EQ(1u, v.committed().epoch);
  }
  Volume v(tier, "prefix 'root'", options);
  std::vector<uint8_t> buf(kPage);
  v.Load(1, buf.data());
  EXPECT_EQ(PageBytes(1, 1), buf);
}

TEST(CommitRootTest, AReadOnlyVolumeLooksForNewerCommitsThroughTheRoot) {
  MemoryTier tier(kPage);
  SeparateRoot root;
  VolumeOptions options;
  options.commit_root = &root;
  Volume writer(tier, "prefix 'root'", options);
  PageId id = writer.AllocateId();
  writer.Store(id, PageBytes(id, 1).data());
  writer.Commit({});
  VolumeOptions ro = options;
  ro.read_only = true;
  Volume reader(tier, "prefix 'root'", ro);
  EXPECT_EQ(1u, reader.committed().epoch);
  EXPECT_FALSE(reader.NewerCommit(/*force=*/true, 0));
  writer.Store(id, PageBytes(id, 2).data());
  writer.Commit({});
  EXPECT_TRUE(reader.NewerCommit(/*force=*/true, 0));
  ASSERT_TRUE(reader.FollowNewest());
  EXPECT_EQ(2u, reader.committed().epoch);
  std::vector<uint8_t> buf(kPage);
  reader.Load(id, buf.data());
  EXPECT_EQ(PageBytes(id, 2), buf);
}

}  // namespace
}  // namespace pagefs
