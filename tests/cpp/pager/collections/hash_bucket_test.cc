// HashBucket: the page view of one bucket of a dict's or set's index, its
// layout as docs/hash_format.md states it, byte for byte.
#include "pager/collections/hash_bucket.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "pager/util/coding.h"

namespace pagefs {
namespace {

class HashBucketTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  HashBucketTest() : page_(GetParam(), 0xAB) {}
  uint32_t page_size() const { return GetParam(); }
  HashBucket View() { return HashBucket(page_.data(), page_size()); }

  std::vector<uint8_t> page_;  // filled with garbage: Init must not rely on zeros
};

INSTANTIATE_TEST_SUITE_P(PageSizes, HashBucketTest, ::testing::Values(512u, 4096u, 65536u),
                         [](const auto& info) { return "page" + std::to_string(info.param); });

TEST_P(HashBucketTest, CapacityIsThePageLessTheHeaderInEightByteEntries) {
  EXPECT_EQ((page_size() - 16) / 8, HashBucket::Capacity(page_size()));
  EXPECT_EQ(16u, HashBucket::kHeaderSize);
  EXPECT_EQ(8u, HashBucket::kEntrySize);
}

TEST_P(HashBucketTest, InitLeavesAnEmptyLastPageAndTouchesOnlyTheHeader) {
  HashBucket b = View();
  b.Init();
  EXPECT_EQ(0u, b.count());
  EXPECT_EQ(kNoPage, b.next());
  EXPECT_FALSE(b.full());
  EXPECT_TRUE(b.sane());
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(0u, page_[i]) << "header byte " << i;
  EXPECT_EQ(0xAB, page_[16]) << "entries are not cleared: count says how many are valid";
}

TEST_P(HashBucketTest, FieldsSitWhereTheFormatSays) {
  HashBucket b = View();
  b.Init();
  b.set_next(0x0102030405060708ull);
  b.Push({0xDEADBEEF, 7});
  b.Push({0x01020304, 0xFFFFFFFF});
  EXPECT_EQ(0x0102030405060708ull, Field<uint64_t>(page_.data(), 0));
  EXPECT_EQ(2u, Field<uint32_t>(page_.data(), 8));
  EXPECT_EQ(0u, Field<uint32_t>(page_.data(), 12));
  EXPECT_EQ(0xDEADBEEFu, Field<uint32_t>(page_.data(), 16));
  EXPECT_EQ(7u, Field<uint32_t>(page_.data(), 20));
  EXPECT_EQ(0x01020304u, Field<uint32_t>(page_.data(), 24));
  EXPECT_EQ(0xFFFFFFFFu, Field<uint32_t>(page_.data(), 28));
  // Little-endian on the page, whatever the machine.
  EXPECT_EQ(0xEF, page_[16]);
  EXPECT_EQ(0x08, page_[0]);
}

TEST_P(HashBucketTest, PushFillsThePageInOrderUntilFull) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  for (uint32_t j = 0; j < cap; ++j) {
    ASSERT_FALSE(b.full()) << j;
    b.Push({j * 2654435761u, j});
  }
  EXPECT_TRUE(b.full());
  EXPECT_TRUE(b.sane());
  EXPECT_EQ(cap, b.count());
  for (uint32_t j = 0; j < cap; ++j) {
    const IndexEntry e = b.at(j);
    ASSERT_EQ(j * 2654435761u, e.hash_lo) << j;
    ASSERT_EQ(j, e.entry) << j;
  }
  // The last entry ends inside the page.
  EXPECT_LE(HashBucket::kHeaderSize + cap * HashBucket::kEntrySize, page_size());
}

TEST_P(HashBucketTest, PutReplacesOneEntryInPlace) {
  HashBucket b = View();
  b.Init();
  for (uint32_t j = 0; j < 3; ++j) b.Push({j, j});
  b.put(1, {99, 100});
  EXPECT_EQ(3u, b.count());
  EXPECT_EQ(0u, b.at(0).entry);
  EXPECT_EQ(99u, b.at(1).hash_lo);
  EXPECT_EQ(100u, b.at(1).entry);
  EXPECT_EQ(2u, b.at(2).entry);
}

TEST_P(HashBucketTest, FindHashGivesEveryMatchInOrderWhereverItSits) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  EXPECT_EQ(0u, b.FindHash(0, 7)) << "an empty page has no match";
  // Matches at every offset modulo four (the scan compares four at a time),
  // at the first and the last place, and entries past count never seen.
  std::vector<uint32_t> want;
  for (uint32_t j = 0; j < cap; ++j) {
    const bool match = j == 0 || j == cap - 1 || j % 13 == 5 || j == 6 || j == 7;
    b.Push({match ? 42u : j + 1000, j});
    if (match) want.push_back(j);
  }
  std::vector<uint32_t> got;
  for (uint32_t j = b.FindHash(0, 42); j < b.count(); j = b.FindHash(j + 1, 42)) got.push_back(j);
  EXPECT_EQ(want, got);
  EXPECT_EQ(b.count(), b.FindHash(0, 41));
  EXPECT_EQ(b.count(), b.FindHash(b.count(), 42));
  b.set_count(3);  // entries 3.. remain on the page but are not the bucket's
  got.clear();
  for (uint32_t j = b.FindHash(0, 42); j < b.count(); j = b.FindHash(j + 1, 42)) got.push_back(j);
  EXPECT_EQ(std::vector<uint32_t>{0}, got);
  EXPECT_EQ(3u, b.FindHash(1, 1000 + 4)) << "entry 4 is past the count";
}

TEST_P(HashBucketTest, ACountPastThePageIsNotSane) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  b.set_count(cap);
  EXPECT_TRUE(b.sane());
  b.set_count(cap + 1);
  EXPECT_FALSE(b.sane());
  SetField<uint32_t>(page_.data(), 8, 0xFFFFFFFF);  // as a damaged page from disk may say
  EXPECT_FALSE(View().sane());
  EXPECT_TRUE(View().full());
}

TEST_P(HashBucketTest, AViewOverConstBytesReadsThem) {
  HashBucket b = View();
  b.Init();
  b.Push({5, 6});
  const std::vector<uint8_t> copy = page_;
  const HashBucket read(copy.data(), page_size());
  EXPECT_EQ(1u, read.count());
  EXPECT_EQ(5u, read.at(0).hash_lo);
  EXPECT_EQ(6u, read.at(0).entry);
}

}  // namespace
}  // namespace pagefs
