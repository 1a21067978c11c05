// ListLeafFilter: leaves rewritten with lengths for offsets, and every page
// it takes decoded back exactly.
#include "pager/collections/list_leaf_filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "pager/collections/list_leaf.h"
#include "pager/util/coding.h"

namespace pagefs {
namespace {

class ListLeafFilterTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  uint32_t size() const { return GetParam(); }
  // A leaf filled with strings of one length, as a list of equal-length keys.
  std::vector<uint8_t> FullLeaf(size_t length) const {
    std::vector<uint8_t> page(size(), 0);
    ListLeaf leaf(page.data(), size());
    leaf.Init();
    std::mt19937_64 rng(length);
    while (leaf.fits(length)) {
      std::string v(length, ' ');
      for (char& c : v) c = static_cast<char>('a' + rng() % 26);
      leaf.Append(v);
    }
    return page;
  }
  std::vector<uint8_t> RoundTrip(const std::vector<uint8_t>& page, uint8_t* id_out = nullptr) {
    std::vector<uint8_t> filtered(size(), 0xAB);
    std::vector<uint8_t> back(size(), 0xCD);
    const uint8_t id = filter_.Encode(page.data(), size(), filtered.data());
    if (id_out != nullptr) *id_out = id;
    if (id == 0) return page;
    EXPECT_TRUE(filter_.Decode(id, filtered.data(), size(), back.data()));
    return back;
  }
  ListLeafFilter filter_;
};

TEST_P(ListLeafFilterTest, ALeafsOffsetsBecomeItsValueLengthsAndComeBack) {
  const std::vector<uint8_t> page = FullLeaf(13);
  std::vector<uint8_t> filtered(size());
  ASSERT_EQ(filter_.Encode(page.data(), size(), filtered.data()), ListLeafFilter::kId);
  const uint32_t count = Field<uint16_t>(page.data(), 2);
  ASSERT_GT(count, 100u);
  for (uint32_t i = 0; i < count; ++i) {
    ASSERT_EQ(Field<uint16_t>(filtered.data(), ListLeaf::kHeaderSize + 2 * i), 13) << i;
  }
  const uint32_t values_from = ListLeaf::kHeaderSize + 2 * count;
  EXPECT_TRUE(std::equal(page.begin() + values_from, page.end(), filtered.begin() + values_from))
      << "the values and the free space are left as they are";
  EXPECT_EQ(page, RoundTrip(page));
}

TEST_P(ListLeafFilterTest, AnyPageThatLooksLikeALeafDecodesExactly) {
  // Random bytes with the leaf type in front: offsets out of order, out of
  // the page, zero; a count up to the most that fits.
  std::mt19937_64 rng(GetParam());
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> page(size());
    for (uint8_t& b : page) b = static_cast<uint8_t>(rng());
    page[0] = kLeafType;
    const uint32_t most = (size() - ListLeaf::kHeaderSize) / 2;
    SetField<uint16_t>(page.data(), 2, static_cast<uint16_t>(rng() % (most + 1)));
    uint8_t id = 0;
    ASSERT_EQ(page, RoundTrip(page, &id)) << "trial " << trial;
    ASSERT_EQ(id, ListLeafFilter::kId);
  }
}

TEST_P(ListLeafFilterTest, OtherPagesAreNotTakenAndForeignIdsAreRefused) {
  std::vector<uint8_t> page = FullLeaf(7);
  std::vector<uint8_t> out(size(), 0x5A);
  page[0] = 2;  // an inner node
  EXPECT_EQ(filter_.Encode(page.data(), size(), out.data()), 0);
  EXPECT_EQ(out, std::vector<uint8_t>(size(), 0x5A)) << "out untouched";
  page[0] = kLeafType;
  SetField<uint16_t>(page.data(), 2,
                     static_cast<uint16_t>((size() - ListLeaf::kHeaderSize) / 2 + 1));
  EXPECT_EQ(filter_.Encode(page.data(), size(), out.data()), 0) << "a count past the page";
  EXPECT_FALSE(filter_.Decode(ListLeafFilter::kId, page.data(), size(), out.data()));
  const std::vector<uint8_t> leaf = FullLeaf(7);
  EXPECT_FALSE(filter_.Decode(ListLeafFilter::kId + 1, leaf.data(), size(), out.data()));
}

INSTANTIATE_TEST_SUITE_P(PageSizes, ListLeafFilterTest, ::testing::Values(4096u, 65536u));

}  // namespace
}  // namespace pagefs
