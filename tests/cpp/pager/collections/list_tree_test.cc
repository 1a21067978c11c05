// ListTree: the counted B+tree behind lists and the root map, against a
// vector as the oracle: its shape (height, fill) under appends, random
// inserts and erases, freeing whole subtrees, clear and reverse.
#include "pager/collections/list_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pager/collections/op_scope.h"
#include "pager/testing/heap_fixture.h"
#include "pager/testing/list_test_util.h"

namespace pagefs {
namespace {

class ListTreeTest : public HeapOnMemory {
 protected:
  // A tree on a new list header. The test holds the OpScope a tree's
  // caller must hold (list_tree.h) for all its trees.
  std::unique_ptr<ListTree> NewTree() {
    return std::make_unique<ListTree>(heap_, heap_.CreateHeader(CollectionKind::kList).id());
  }
  // A tree of n short strings, "value-" and 1000000 + i, appended at once.
  std::unique_ptr<ListTree> ShortStrings(uint64_t n) {
    auto list = NewTree();
    std::string run;
    for (uint64_t i = 0; i < n; ++i) run += ShortString(i);
    list->Append(run, n);
    return list;
  }
  static std::string ShortString(uint64_t i) { return Str("value-" + std::to_string(1000000 + i)); }
  // A random value: mostly short strings, some ints, a few long strings.
  std::string RandomValue(std::mt19937_64& rng) {
    switch (rng() % 10) {
      case 0: return Int(static_cast<int64_t>(rng()) >> (rng() % 64));
      case 1: return Str(std::string(rng() % 2000, static_cast<char>('a' + rng() % 26)));
      default: return Str("v" + std::to_string(rng() % 1000000));
    }
  }

  std::mutex tree_mu_;
  OpScope scope_{heap_, tree_mu_};
};

INSTANTIATE_TEST_SUITE_P(PageSizes, ListTreeTest, kPageSizes, PageSizeName);

TEST_P(ListTreeTest, RandomOperationsMatchAVectorOracle) {
  auto list = NewTree();
  std::vector<std::string> oracle;
  std::mt19937_64 rng(GetParam());
  for (int step = 0; step < 6000; ++step) {
    uint64_t n = oracle.size();
    switch (rng() % 12) {
      case 0:
      case 1:
      case 2: {  // append a batch
        std::string run;
        uint64_t k = rng() % 300;
        for (uint64_t j = 0; j < k; ++j) {
          oracle.push_back(RandomValue(rng));
          run += oracle.back();
        }
        list->Append(run, k);
        break;
      }
      case 3:
      case 4: {
        uint64_t at = n ? rng() % (n + 1) : 0;
        std::string v = RandomValue(rng);
        list->Insert(at, v);
        oracle.insert(oracle.begin() + at, v);
        break;
      }
      case 5:
      case 6: {
        if (n == 0) break;
        uint64_t a = rng() % n, b = std::min(n, a + 1 + (rng() % 4 == 0 ? rng() % 500 : 0));
        list->Erase(a, b);
        oracle.erase(oracle.begin() + a, oracle.begin() + b);
        break;
      }
      case 7:
      case 8: {
        if (n == 0) break;
        uint64_t at = rng() % n;
        std::string v = RandomValue(rng);
        list->Set(at, v);
        oracle[at] = v;
        break;
      }
      case 9:
        if (n) {
          uint64_t at = rng() % n;
          ASSERT_EQ(oracle[at], GetOne(*list, at)) << "step " << step;
        }
        break;
      case 10:
        if (rng() % 20 == 0) {
          list->Reverse();
          std::reverse(oracle.begin(), oracle.end());
        }
        break;
      case 11:
        if (rng() % 100 == 0) {
          list->Clear();
          oracle.clear();
        }
        break;
    }
    ASSERT_EQ(oracle.size(), list->size()) << "step " << step;
    if (step % 500 == 0) {
      ASSERT_EQ(oracle, ReadAll(*list)) << "step " << step;
      list->Verify();
    }
  }
  EXPECT_EQ(oracle, ReadAll(*list));
  ListShape shape = list->Verify();
  EXPECT_EQ(oracle.size(), shape.size);
}

TEST_P(ListTreeTest, BigListOfShortStringsIsShallowAndDense) {
  const uint64_t n = 250000;
  auto list = ShortStrings(n);
  ListShape shape = list->Verify();
  EXPECT_EQ(n, shape.size);
  EXPECT_LE(shape.height, 3u);
  EXPECT_GT(shape.fill(), 0.95) << "appends build full leaves";
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    uint64_t at = rng() % n;
    ASSERT_EQ(ShortString(at), GetOne(*list, at));
  }
}

// A scan tells the space which leaves it reads next (PageSpace::WillRead;
// a mapped mount would otherwise fault each one in with a round trip of its
// own). Over whole lists and short ranges, forward and backward: a page is
// advised only before the scan reads it, and only pages the scan reads; at
// most a window (kScanAheadBytes) is advised and not read yet; and every
// page read but the internal ones and the first leaf under each parent was
// advised first.
TEST_P(ListTreeTest, AScanAdvisesTheLeavesItReadsNextAndNoOthers) {
  const uint64_t n = 300000;
  auto list = ShortStrings(n);
  const ListShape shape = list->Verify();
  ASSERT_GE(shape.height, 2u);
  const uint64_t window = std::max<uint64_t>(2, ListTree::kScanAheadBytes / GetParam());
  struct Range {
    uint64_t start, stop;
  };
  const uint64_t per_leaf = n / shape.leaves;
  for (const Range r :
       {Range{0, n}, Range{n / 3, n / 3 + 5 * per_leaf}, Range{7, 9}, Range{n - 3 * per_leaf, n}}) {
    for (const bool forward : {true, false}) {
      SCOPED_TRACE((forward ? "forward " : "backward ") + std::to_string(r.start) + ".." +
                   std::to_string(r.stop));
      uint64_t seen = 0;
      const ListTree::Visitor count = [&seen](std::string_view) { ++seen; };
      space_.RecordAccesses();
      forward ? list->Scan(r.start, r.stop, count) : list->ScanReverse(r.start, r.stop, count);
      const std::vector<MemoryPageSpace::Access> log = space_.TakeAccesses();
      ASSERT_EQ(r.stop - r.start, seen);
      std::set<PageId> read, advised, ahead;
      size_t most_ahead = 0;
      for (const auto& a : log) {
        if (a.advice) {
          EXPECT_EQ(0u, read.count(a.id)) << "page " << a.id << " advised after it was read";
          advised.insert(a.id);
          ahead.insert(a.id);
          most_ahead = std::max(most_ahead, ahead.size());
        } else {
          read.insert(a.id);
          ahead.erase(a.id);
        }
      }
      EXPECT_TRUE(ahead.empty()) << ahead.size() << " pages advised that the scan never read";
      EXPECT_LE(most_ahead, window);
      EXPECT_LE(read.size() - advised.size(), 2 * shape.nodes + 1);
      if (r.stop - r.start > 3 * per_leaf) EXPECT_GE(advised.size(), 2u);
    }
  }
}

TEST_P(ListTreeTest, LongRandomInsertEraseKeepsTreeShallowAndDense) {
  // The oracle holds keys (cheap to shift); the list holds their values.
  auto value = [](uint32_t key) {
    return Str("k" + std::to_string(key) + std::string(key % 30, 'p'));
  };
  auto list = NewTree();
  std::vector<uint32_t> oracle;
  std::string run;
  // Each phase of 20000 steps moves the size by about 8000 (40% of the start),
  // down then up: leaves underfill and merge, then split again. (Larger
  // figures only cost time: a minute under ASan for the same code paths.)
  const uint32_t start = 20000;
  for (uint32_t i = 0; i < start; ++i) {
    oracle.push_back(i);
    run += value(i);
  }
  list->Append(run, oracle.size());
  std::mt19937_64 rng(5);
  uint32_t next_key = start;
  for (int step = 0; step < 80000; ++step) {
    uint64_t n = oracle.size();
    // Drift down to a fraction of the size, then back up, to exercise merges.
    bool grow = (step / 20000) % 2 == 1 ? rng() % 10 < 7 : rng() % 10 < 3;
    if (grow) {
      uint64_t at = rng() % (n + 1);
      list->Insert(at, value(next_key));
      oracle.insert(oracle.begin() + at, next_key++);
    } else {
      uint64_t at = rng() % n;
      list->Erase(at, at + 1);
      oracle.erase(oracle.begin() + at);
    }
  }
  ListShape shape = list->Verify();
  EXPECT_EQ(oracle.size(), shape.size);
  EXPECT_LE(shape.height, 4u);
  EXPECT_GT(shape.fill(), 0.3) << shape.leaves << " leaves for " << shape.size << " values";
  std::vector<std::string> all = ReadAll(*list);
  ASSERT_EQ(oracle.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(value(oracle[i]), all[i]) << "at " << i;
}

TEST_P(ListTreeTest, ErasingALargeRangeFreesWholeSubtrees) {
  auto list = NewTree();
  std::string run;
  const uint64_t n = 300000;
  for (uint64_t i = 0; i < n; ++i) run += Int(static_cast<int64_t>(i));
  list->Append(run, n);
  uint64_t full = space_.pages_in_use();
  list->Erase(1000, n - 1000);
  ListShape shape = list->Verify();
  EXPECT_EQ(2000u, shape.size);
  EXPECT_LE(space_.pages_in_use(), 1 + shape.leaves + shape.nodes);
  EXPECT_LT(space_.pages_in_use() * 10, full);
  EXPECT_EQ(Int(999), GetOne(*list, 999));
  EXPECT_EQ(Int(static_cast<int64_t>(n - 1000)), GetOne(*list, 1000));
}

TEST_P(ListTreeTest, ClearFreesEverythingButTheHeader) {
  auto list = NewTree();
  std::string run;
  for (int i = 0; i < 100000; ++i) run += Str(std::to_string(i));
  list->Append(run, 100000);
  list->Append(Str(std::string(100000, 'b')), 1);  // a blob too
  EXPECT_GT(space_.pages_in_use(), 10u);
  list->Clear();
  EXPECT_EQ(1u, space_.pages_in_use());
  EXPECT_EQ(0u, list->size());
  list->Append(Int(7), 1);
  EXPECT_EQ(Int(7), GetOne(*list, 0));
}

TEST_P(ListTreeTest, ReverseOfABigListMatchesStdReverse) {
  auto list = NewTree();
  std::vector<std::string> oracle;
  std::string run;
  for (int i = 0; i < 50000; ++i) {
    oracle.push_back(i % 100 ? Int(i) : Str(std::string(3000, 'r')));
    run += oracle.back();
  }
  list->Append(run, oracle.size());
  list->Erase(100, 4000);  // leave a ragged tree
  oracle.erase(oracle.begin() + 100, oracle.begin() + 4000);
  list->Reverse();
  std::reverse(oracle.begin(), oracle.end());
  EXPECT_EQ(oracle, ReadAll(*list));
  list->Verify();
}

}  // namespace
}  // namespace pagefs
