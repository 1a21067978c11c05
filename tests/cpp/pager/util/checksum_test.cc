#include "pager/util/checksum.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace pagefs {
namespace {

// Checksums are stored in every table entry and superblock: the function is
// part of the on-disk format, so its values are pinned (XXH3-64 with seed).
TEST(ChecksumTest, IsXxh3WithTheSeedAsStoredOnDisk) {
  EXPECT_EQ(0x2d06800538d394c2ULL, Checksum("", 0, 0));
  EXPECT_EQ(0x7945f516866e6279ULL, Checksum("pagefs", 6, 0));
  EXPECT_EQ(0x8d124bdb68d82478ULL, Checksum("pagefs", 6, DataPageSeed(7)));
  EXPECT_EQ(0x7547cb17e64c872bULL, Checksum("pagefs", 6, TableNodeSeed(1, 3)));
  std::vector<uint8_t> page(4096);
  for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<uint8_t>(i * 13 + 5);
  EXPECT_EQ(0x57b48991d1de818bULL, Checksum(page.data(), page.size(), 42));
}

TEST(ChecksumTest, EveryFlippedBitOfAPageChangesIt) {
  std::vector<uint8_t> page(4096, 0xA5);
  const uint64_t good = Checksum(page.data(), page.size(), DataPageSeed(9));
  for (size_t bit = 0; bit < page.size() * 8; bit += 7) {
    page[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(good, Checksum(page.data(), page.size(), DataPageSeed(9))) << "bit " << bit;
    page[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  EXPECT_EQ(good, Checksum(page.data(), page.size(), DataPageSeed(9)));
}

// The seed binds the bytes to what they should be: the same bytes as another
// page, or as a table node, do not verify.
TEST(ChecksumTest, SeedsOfPagesAndTableNodesNeverCollide) {
  std::set<uint64_t> seeds;
  for (uint64_t id = 0; id < 2000; ++id) EXPECT_TRUE(seeds.insert(DataPageSeed(id)).second);
  for (uint32_t level = 1; level <= 8; ++level) {
    for (uint64_t index = 0; index < 2000; ++index) {
      EXPECT_TRUE(seeds.insert(TableNodeSeed(level, index)).second) << level << "/" << index;
    }
  }
  // The largest page ids (< 2^48) stay below every table node seed.
  EXPECT_LT(DataPageSeed((uint64_t{1} << 48) - 1), TableNodeSeed(0, 0));
  std::vector<uint8_t> page(4096, 0x11);
  EXPECT_NE(Checksum(page.data(), page.size(), DataPageSeed(5)),
            Checksum(page.data(), page.size(), DataPageSeed(6)));
  EXPECT_NE(Checksum(page.data(), page.size(), TableNodeSeed(1, 5)),
            Checksum(page.data(), page.size(), TableNodeSeed(2, 5)));
}

}  // namespace
}  // namespace pagefs
