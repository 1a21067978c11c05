// ListNode: the view of one internal page: children and cumulative counts.
#include "pager/collections/list_node.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "pager/testing/heap_fixture.h"

namespace pagefs {
namespace {

class ListNodeTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  ListNodeTest() : page_(GetParam(), 0xEE), node_(page_.data(), GetParam()) { node_.Init(); }

  std::vector<uint8_t> page_;
  ListNode node_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, ListNodeTest, kPageSizes, PageSizeName);

TEST_P(ListNodeTest, ANewNodeIsEmptyAndHoldsAsManyEntriesAsFit) {
  EXPECT_TRUE(node_.is_node());
  EXPECT_EQ(0u, node_.count());
  EXPECT_EQ(0u, node_.total());
  EXPECT_EQ((GetParam() - ListNode::kHeaderSize) / ListNode::kEntrySize, node_.capacity());
  for (uint32_t i = 0; i < node_.capacity(); ++i) node_.Append(100 + i, 1);
  EXPECT_TRUE(node_.full());
  EXPECT_EQ(node_.capacity(), node_.total());
}

TEST_P(ListNodeTest, CumulativeCountsFindTheChildOfEachIndex) {
  const std::vector<uint64_t> sizes = {3, 1, 5, 2};
  for (uint32_t i = 0; i < sizes.size(); ++i) node_.Append(10 + i, sizes[i]);
  EXPECT_EQ(11u, node_.total());
  uint64_t k = 0;
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(sizes[i], node_.count_of(i));
    EXPECT_EQ(k, node_.before(i));
    for (uint64_t j = 0; j < sizes[i]; ++j, ++k) ASSERT_EQ(i, node_.Find(k)) << "index " << k;
  }
  EXPECT_EQ(3u, node_.Find(11)) << "the end is in the last child (an insert there)";
  EXPECT_EQ(12u, node_.child(2));
}

// Find guesses where k sits as if children held equal counts: lopsided
// counts send the guess far off, in both directions, and every index must
// still find its child (the oracle: the first child whose cum passes k).
TEST_P(ListNodeTest, FindIsExactWhenChildrenHoldVeryDifferentCounts) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    node_.Init();
    const uint32_t n = 1 + static_cast<uint32_t>(rng() % node_.capacity());
    for (uint32_t i = 0; i < n; ++i) {
      // Mostly ones, some children a thousand times larger, at either end.
      const bool big = (round % 2 == 0) ? i < n / 8 : i >= n - n / 8;
      node_.Append(1000 + i, big ? 1 + rng() % 5000 : 1 + rng() % 3);
    }
    uint32_t child = 0;
    for (uint64_t k = 0; k < node_.total(); ++k) {
      while (node_.cum(child) <= k) ++child;
      ASSERT_EQ(child, node_.Find(k))
          << "index " << k << " of " << node_.total() << ", round " << round;
    }
    ASSERT_EQ(n - 1, node_.Find(node_.total()));
  }
}

TEST_P(ListNodeTest, InsertRemoveAddCountAndAssignKeepTheCountsCumulative) {
  node_.Append(1, 4);
  node_.Append(3, 6);
  node_.Insert(1, 2, 5);  // children 1 2 3 holding 4 5 6
  EXPECT_EQ(2u, node_.child(1));
  EXPECT_EQ(9u, node_.cum(1));
  EXPECT_EQ(15u, node_.total());
  node_.AddCount(1, -2);  // 4 3 6
  EXPECT_EQ(7u, node_.cum(1));
  EXPECT_EQ(13u, node_.total());
  node_.Remove(0, 1);  // 3 6
  EXPECT_EQ(2u, node_.count());
  EXPECT_EQ(2u, node_.child(0));
  EXPECT_EQ(3u, node_.cum(0));
  EXPECT_EQ(9u, node_.total());
  node_.Remove(1, 1);  // nothing
  EXPECT_EQ(2u, node_.count());
  const PageId ids[] = {7, 8, 9};
  const uint64_t counts[] = {2, 2, 2};
  node_.Assign(ids, counts, 3);
  EXPECT_EQ(3u, node_.count());
  EXPECT_EQ(9u, node_.child(2));
  EXPECT_EQ(4u, node_.cum(1));
  EXPECT_EQ(6u, node_.total());
}

}  // namespace
}  // namespace pagefs
