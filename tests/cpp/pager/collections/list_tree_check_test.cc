// CheckListTree: the check's walk of one list tree, against a recording
// CollectionCheck. (Damage found through the whole checker: checker_test.cc.)
#include "pager/collections/list_tree_check.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "pager/collections/list_node.h"
#include "pager/collections/list_tree.h"
#include "pager/collections/op_scope.h"
#include "pager/testing/heap_fixture.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/recording_check.h"
#include "pager/util/coding.h"

namespace pagefs {
namespace {

class ListTreeCheckTest : public HeapOnMemory {
 protected:
  // A tree of n values Int(0..n-1), and in it a reference to a list.
  PageId Tree(int64_t n) {
    const PageId id = heap_.CreateHeader(CollectionKind::kList).id();
    OpScope scope(heap_, mu_);
    ListTree tree(heap_, id);
    std::string run;
    for (int64_t i = 0; i < n; ++i) run += Int(i);
    tree.Append(run, n);
    return id;
  }
  struct Seen {
    std::vector<std::optional<uint64_t>> positions;
    std::vector<int64_t> ints;
  };
  std::optional<uint64_t> Check(RecordingCheck& check, Seen* seen = nullptr) {
    return CheckListTree(check, space_.Read(check.collection()), [&](const ListValue& v) {
      if (!seen) return;
      seen->positions.push_back(v.position);
      seen->ints.push_back(v.view.i);
    });
  }

  std::mutex mu_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, ListTreeCheckTest, kPageSizes, PageSizeName);

TEST_P(ListTreeCheckTest, AWholeTreeIsTakenOncePageByPageAndEveryValueSeenInOrder) {
  const int64_t n = 100000;
  const PageId id = Tree(n);
  RecordingCheck check(space_, id);
  Seen seen;
  EXPECT_EQ(std::optional<uint64_t>(n), Check(check, &seen));
  EXPECT_TRUE(check.problems.empty()) << check.problems[0];
  EXPECT_EQ(space_.pages_in_use() - 1, check.taken.size()) << "every page but the header, given";
  EXPECT_EQ(0u, check.taken.count(id));
  ASSERT_EQ(static_cast<size_t>(n), seen.ints.size());
  EXPECT_EQ(static_cast<uint64_t>(n), check.values);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(i, seen.ints[i]);
    ASSERT_EQ(std::optional<uint64_t>(i), seen.positions[i]);
  }
}

TEST_P(ListTreeCheckTest, AnEmptyTreeHoldsNothingAndTakesNothing) {
  RecordingCheck check(space_, Tree(0));
  EXPECT_EQ(std::optional<uint64_t>(0), Check(check));
  EXPECT_TRUE(check.taken.empty());
  EXPECT_TRUE(check.problems.empty());
}

TEST_P(ListTreeCheckTest, AHeaderCountThatDisagreesIsReportedAndTheTreesCountReturned) {
  const PageId id = Tree(10);
  SetField<uint64_t>(space_.Write(id).mutable_data(), ListHeaderFields::kSize, 11);
  RecordingCheck check(space_, id);
  EXPECT_EQ(std::optional<uint64_t>(10), Check(check));
  ASSERT_EQ(1u, check.problems.size());
  EXPECT_EQ("list @" + std::to_string(id) + ": collection " + std::to_string(id) +
                "'s header says 11 values, its tree holds 10",
            check.problems[0]);
}

TEST_P(ListTreeCheckTest, AHeightWithoutARootIsReportedAndNothingWalked) {
  const PageId id = Tree(10);
  SetField<uint64_t>(space_.Write(id).mutable_data(), ListHeaderFields::kRoot, kNoPage);
  RecordingCheck check(space_, id);
  EXPECT_EQ(std::nullopt, Check(check));
  ASSERT_EQ(1u, check.problems.size());
  EXPECT_NE(std::string::npos, check.problems[0].find("has height 1 but root page 0"))
      << check.problems[0];
  EXPECT_TRUE(check.taken.empty());
}

TEST_P(ListTreeCheckTest, AfterAPageThatCannotBeTakenPositionsAreUnknownAndTheCountToo) {
  const PageId id = Tree(100000);
  PageId root, second_child;
  {
    PageGuard h = space_.Read(id);
    root = Field<uint64_t>(h.data(), ListHeaderFields::kRoot);
    PageGuard r = space_.Read(root);
    second_child = ListNode(r.data(), space_.page_size()).child(1);
  }
  RecordingCheck check(space_, id);
  check.refuse.insert(second_child);
  Seen seen;
  EXPECT_EQ(std::nullopt, Check(check, &seen));
  EXPECT_TRUE(check.problems.empty()) << "the check reports what it could not read";
  ASSERT_FALSE(seen.positions.empty());
  EXPECT_EQ(std::optional<uint64_t>(0), seen.positions.front());
  EXPECT_EQ(std::nullopt, seen.positions.back());
  EXPECT_EQ(0, seen.ints.front());
}

TEST_P(ListTreeCheckTest, ReferencesAreFollowedThroughTheCheck) {
  auto inner = NewList();
  auto outer = NewList();
  outer->Append(Int(1) + Ref(inner->id()) + Ref(inner->id()), 3);
  RecordingCheck check(space_, outer->id());
  EXPECT_EQ(std::optional<uint64_t>(3), Check(check));
  EXPECT_EQ((std::vector<PageId>{inner->id(), inner->id()}), check.refs);
}

}  // namespace
}  // namespace pagefs
