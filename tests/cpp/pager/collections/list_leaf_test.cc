// ListLeaf: the view of one leaf page, against a vector of its values.
#include "pager/collections/list_leaf.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "pager/testing/heap_fixture.h"

namespace pagefs {
namespace {

class ListLeafTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  ListLeafTest() : page_(GetParam(), 0xEE), leaf_(page_.data(), GetParam()) { leaf_.Init(); }

  std::vector<std::string> Values() const {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < leaf_.count(); ++i) out.emplace_back(leaf_.value(i));
    return out;
  }
  static std::string Value(std::mt19937_64& rng) {
    return std::string(1 + rng() % 40, static_cast<char>('a' + rng() % 26));
  }

  std::vector<uint8_t> page_;
  ListLeaf leaf_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, ListLeafTest, kPageSizes, PageSizeName);

TEST_P(ListLeafTest, ANewLeafIsEmptyWithItsWholeRoomFree) {
  EXPECT_TRUE(leaf_.is_leaf());
  EXPECT_FALSE(leaf_.owns_heap());
  EXPECT_EQ(0u, leaf_.count());
  EXPECT_EQ(GetParam() - ListLeaf::kHeaderSize, leaf_.capacity());
  EXPECT_EQ(leaf_.capacity(), leaf_.free_bytes());
  EXPECT_EQ(0u, leaf_.used_bytes());
  leaf_.mark_owns_heap();
  EXPECT_TRUE(leaf_.owns_heap());
}

TEST_P(ListLeafTest, AppendsPackDownFromTheEndUntilTheRoomIsGone) {
  std::vector<std::string> expect;
  uint32_t used = 0;
  for (uint32_t i = 0;; ++i) {
    const std::string v(1 + i % 7, static_cast<char>('0' + i % 10));
    if (!leaf_.fits(v.size())) break;
    leaf_.Append(v);
    expect.push_back(v);
    used += ListLeaf::Cost(v.size());
  }
  EXPECT_EQ(expect, Values());
  EXPECT_EQ(used, leaf_.used_bytes());
  EXPECT_LT(leaf_.free_bytes(), ListLeaf::Cost(7));
  EXPECT_EQ(GetParam(), leaf_.end(0)) << "value 0 ends at the page end";
  EXPECT_EQ(leaf_.data_start(), leaf_.start(leaf_.count() - 1));
}

TEST_P(ListLeafTest, InsertEraseEraseEveryAndReplaceMatchAVector) {
  std::mt19937_64 rng(GetParam());
  std::vector<std::string> oracle;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t n = leaf_.count();
    switch (rng() % 4) {
      case 0: {
        const std::string v = Value(rng);
        if (!leaf_.fits(v.size())) break;
        const uint32_t at = static_cast<uint32_t>(rng() % (n + 1));
        leaf_.Insert(at, v);
        oracle.insert(oracle.begin() + at, v);
        break;
      }
      case 1: {
        if (n == 0) break;
        const uint32_t a = static_cast<uint32_t>(rng() % n),
                       b = a + static_cast<uint32_t>(rng() % (n - a + 1));
        leaf_.Erase(a, b);
        oracle.erase(oracle.begin() + a, oracle.begin() + b);
        break;
      }
      case 2: {
        if (n == 0 || rng() % 8 != 0) break;
        const uint32_t first = static_cast<uint32_t>(rng() % n),
                       stride = 1 + static_cast<uint32_t>(rng() % 4);
        const uint32_t erased = 1 + static_cast<uint32_t>(rng() % ((n - 1 - first) / stride + 1));
        leaf_.EraseEvery(first, stride, erased);
        for (uint32_t k = erased; k-- > 0;) oracle.erase(oracle.begin() + first + k * stride);
        break;
      }
      case 3: {
        if (n == 0) break;
        const uint32_t at = static_cast<uint32_t>(rng() % n);
        const std::string v = Value(rng);
        if (leaf_.free_bytes() + oracle[at].size() < v.size()) break;
        leaf_.Replace(at, v);
        oracle[at] = v;
        break;
      }
    }
    ASSERT_EQ(oracle.size(), leaf_.count()) << "step " << step;
    if (step % 1000 == 0) {
      ASSERT_EQ(oracle, Values()) << "step " << step;
    }
  }
  EXPECT_EQ(oracle, Values());
  uint32_t used = 0;
  for (const std::string& v : oracle) used += ListLeaf::Cost(v.size());
  EXPECT_EQ(used, leaf_.used_bytes());
}

}  // namespace
}  // namespace pagefs
