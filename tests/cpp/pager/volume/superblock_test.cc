#include "pager/volume/superblock.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "pager/testing/test_page_size.h"
#include "pager/util/checksum.h"

namespace pagefs {
namespace {

Superblock Sample(uint64_t epoch) {
  Superblock sb;
  sb.page_size = kPage;
  sb.slots_per_segment = 16384;
  sb.epoch = epoch;
  sb.page_count = 123456;
  sb.table_height = 3;
  sb.table_root_slot = 987654321;
  sb.table_root_checksum = 0x0123456789ABCDEFULL;
  sb.anchors = {77, 88};
  return sb;
}

void ExpectSame(const Superblock& want, const std::optional<Superblock>& got) {
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(want.magic, got->magic);
  EXPECT_EQ(want.format_version, got->format_version);
  EXPECT_EQ(want.page_size, got->page_size);
  EXPECT_EQ(want.slots_per_segment, got->slots_per_segment);
  EXPECT_EQ(want.epoch, got->epoch);
  EXPECT_EQ(want.page_count, got->page_count);
  EXPECT_EQ(want.table_height, got->table_height);
  EXPECT_EQ(want.table_root_slot, got->table_root_slot);
  EXPECT_EQ(want.table_root_checksum, got->table_root_checksum);
  EXPECT_EQ(want.anchors, got->anchors);
}

std::vector<uint8_t> EncodedOverFill(const Superblock& sb) {
  std::vector<uint8_t> slot(kPage, 0xCC);
  EncodeSuperblock(sb, slot);
  return slot;
}

uint32_t LengthAt(const std::vector<uint8_t>& slot, size_t base) {
  uint32_t len;
  std::memcpy(&len, slot.data() + base, sizeof(len));
  return len;
}

TEST(SuperblockTest, EncodeDecodeRoundTripsEveryField) {
  const Superblock sb = Sample(41);
  ExpectSame(sb, DecodeSuperblockSlot(EncodedOverFill(sb).data()));
  ExpectSame(Superblock{}, DecodeSuperblockSlot(EncodedOverFill(Superblock{}).data()));
}

// docs/superblock_format.md: two copies, each [u32 length][cereal binary
// record][u64 XXH3 of both], at bytes 0 and 2048, zeros elsewhere.
TEST(SuperblockTest, TheSlotHoldsTwoFramedCopiesAsTheFormatSays) {
  const std::vector<uint8_t> slot = EncodedOverFill(Sample(41));
  const uint32_t len = LengthAt(slot, 0);
  ASSERT_GT(len, 0u);
  ASSERT_LT(len + 12, kSuperblockCopySize);
  EXPECT_TRUE(std::equal(slot.begin(), slot.begin() + kSuperblockCopySize,
                         slot.begin() + kSuperblockCopySize))
      << "the copies are identical";
  uint64_t magic;
  std::memcpy(&magic, slot.data() + 4, sizeof(magic));
  EXPECT_EQ(Superblock::kMagic, magic);
  EXPECT_EQ(0, std::memcmp(slot.data() + 4, "PAGSFBS1", 8));
  uint64_t sum;
  std::memcpy(&sum, slot.data() + 4 + len, sizeof(sum));
  EXPECT_EQ(Checksum(slot.data(), 4 + len, 0x5375706572426C6BULL), sum);
  for (size_t base : {size_t{0}, kSuperblockCopySize}) {
    for (size_t i = base + 12 + len; i < base + kSuperblockCopySize; ++i) {
      ASSERT_EQ(0, slot[i]) << "byte " << i;
    }
  }
  // The bytes of a fixed superblock are pinned: a change of the encoding is a
  // change of the on-disk format.
  EXPECT_EQ(9004657543019732271ULL, Checksum(slot.data(), slot.size(), 0));
}

TEST(SuperblockTest, EitherCopyDamagedLeavesTheOther) {
  const Superblock sb = Sample(9);
  const size_t sum_at = 4 + LengthAt(EncodedOverFill(sb), 0);
  for (size_t base : {size_t{0}, kSuperblockCopySize}) {
    for (size_t offset : {size_t{0}, size_t{3}, size_t{4}, size_t{30}, sum_at}) {
      std::vector<uint8_t> slot = EncodedOverFill(sb);
      slot[base + offset] ^= 0x10;
      ExpectSame(sb, DecodeSuperblockSlot(slot.data()));
    }
  }
}

TEST(SuperblockTest, BothCopiesDamagedIsNoSuperblock) {
  const Superblock sb = Sample(9);
  for (size_t offset : {size_t{0}, size_t{10}, size_t{40}}) {
    std::vector<uint8_t> slot = EncodedOverFill(sb);
    slot[offset] ^= 0x01;
    slot[kSuperblockCopySize + offset + 1] ^= 0x80;
    EXPECT_FALSE(DecodeSuperblockSlot(slot.data()).has_value()) << offset;
  }
  EXPECT_FALSE(DecodeSuperblockSlot(std::vector<uint8_t>(kPage, 0).data()).has_value());
  EXPECT_FALSE(DecodeSuperblockSlot(std::vector<uint8_t>(kPage, 0xFF).data()).has_value());
}

TEST(SuperblockTest, ALengthPastTheCopyIsRejectedNotRead) {
  std::vector<uint8_t> slot = EncodedOverFill(Sample(9));
  const uint32_t huge = kSuperblockCopySize;
  std::memcpy(slot.data(), &huge, sizeof(huge));
  std::memcpy(slot.data() + kSuperblockCopySize, &huge, sizeof(huge));
  EXPECT_FALSE(DecodeSuperblockSlot(slot.data()).has_value());
}

TEST(SuperblockTest, AWellFramedRecordOfAnotherFormatIsRejected) {
  Superblock other = Sample(9);
  other.magic ^= 1;
  EXPECT_FALSE(DecodeSuperblockSlot(EncodedOverFill(other).data()).has_value());
  Superblock newer = Sample(9);
  newer.format_version = Superblock::kFormatVersion + 1;
  EXPECT_FALSE(DecodeSuperblockSlot(EncodedOverFill(newer).data()).has_value());
}

// A write torn after the first copy leaves the new first copy and the old
// second one: both valid, and the newer epoch wins.
TEST(SuperblockTest, TheNewerEpochOfTheTwoCopiesWins) {
  const std::vector<uint8_t> old_slot = EncodedOverFill(Sample(4)),
                             new_slot = EncodedOverFill(Sample(5));
  std::vector<uint8_t> torn(new_slot.begin(), new_slot.begin() + kSuperblockCopySize);
  torn.insert(torn.end(), old_slot.begin() + kSuperblockCopySize, old_slot.end());
  ExpectSame(Sample(5), DecodeSuperblockSlot(torn.data()));
  std::vector<uint8_t> reversed(old_slot.begin(), old_slot.begin() + kSuperblockCopySize);
  reversed.insert(reversed.end(), new_slot.begin() + kSuperblockCopySize, new_slot.end());
  ExpectSame(Sample(5), DecodeSuperblockSlot(reversed.data()));
}

}  // namespace
}  // namespace pagefs
