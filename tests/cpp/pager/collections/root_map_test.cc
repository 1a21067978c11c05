#include "pager/collections/root_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/op_scope.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"
#include "pager/testing/recording_check.h"

namespace pagefs {
namespace {

class RootMapTest : public ::testing::Test {
 protected:
  RootMapTest() : heap_(space_, BuiltinKinds()), roots_(heap_) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  std::string Lookup(std::string_view name) {
    std::string out = "<absent>";
    roots_.Get(name, [&](std::string_view v) { out = v; });
    return out;
  }

  MemoryPageSpace space_;
  Heap heap_;
  RootMap roots_;
};

TEST_F(RootMapTest, EmptyMapIsNotCreatedByReads) {
  EXPECT_EQ("<absent>", Lookup("x"));
  EXPECT_FALSE(roots_.Erase("x"));
  EXPECT_TRUE(roots_.Keys().empty());
  EXPECT_EQ(0u, roots_.size());
  EXPECT_EQ(kNoPage, space_.anchors().root_map);
  EXPECT_EQ(0u, space_.pages_in_use());
}

TEST_F(RootMapTest, SetGetOverwriteEraseBehaveLikeADict) {
  roots_.Set("results", Int(1));
  roots_.Set("alpha", Str("a"));
  roots_.Set("zeta", Str("z"));
  EXPECT_NE(kNoPage, space_.anchors().root_map);
  EXPECT_EQ(Int(1), Lookup("results"));
  roots_.Set("results", Int(2));
  EXPECT_EQ(Int(2), Lookup("results"));
  EXPECT_EQ((std::vector<std::string>{"alpha", "results", "zeta"}), roots_.Keys());
  EXPECT_TRUE(roots_.Erase("alpha"));
  EXPECT_FALSE(roots_.Erase("alpha"));
  EXPECT_EQ("<absent>", Lookup("alpha"));
  EXPECT_EQ(2u, roots_.size());
}

TEST_F(RootMapTest, ManyRandomNamesStaySortedAndFound) {
  std::mt19937 rng(9);
  std::vector<std::string> names;
  for (int i = 0; i < 3000; ++i) {
    std::string name = Cat("n", std::to_string(rng()), "\xc3\xa9");
    if (i % 500 == 0) name = std::string(5000, 'L') + std::to_string(i);  // a blob key
    names.push_back(name);
    roots_.Set(name, Int(i));
  }
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_EQ(sorted, roots_.Keys());
  EXPECT_EQ(Int(1000), Lookup(names[1000]));
  EXPECT_EQ(Int(500), Lookup(names[500]));
}

TEST_F(RootMapTest, RootsKeepCollectionsAliveUntilReplaced) {
  uint64_t id;
  {
    PersistentList list(heap_, PersistentList::Create(heap_));
    id = list.id();
    list.Append(Str(std::string(50000, 'q')), 1);
    roots_.Set("data", Ref(id));
  }
  heap_.CollectOrphans();
  EXPECT_EQ(kNoPage, space_.anchors().orphan_head) << "the root map is never an orphan";
  PersistentList back(heap_, id);
  EXPECT_EQ(1u, back.size());
  uint64_t with_list = space_.pages_in_use();
  roots_.Set("data", Int(0));
  EXPECT_EQ(with_list, space_.pages_in_use()) << "the open handle still holds it";
}

TEST_F(RootMapTest, ErasingARootFreesWhatOnlyItHeld) {
  uint64_t empty_map_pages;
  roots_.Set("seed", Int(0));
  empty_map_pages = space_.pages_in_use();
  {
    PersistentList list(heap_, PersistentList::Create(heap_));
    list.Append(Int(3), 1);
    roots_.Set("data", Ref(list.id()));
    roots_.Set("blob", Str(std::string(100000, 'b')));
  }
  EXPECT_TRUE(roots_.Erase("data"));
  EXPECT_TRUE(roots_.Erase("blob"));
  EXPECT_EQ(empty_map_pages, space_.pages_in_use());
}

TEST_F(RootMapTest, ClosedHeapThrowsClosed) {
  roots_.Set("a", Int(1));
  heap_.MarkClosed();
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { Lookup("a"); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { roots_.Set("b", Int(1)); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { roots_.Keys(); }));
}

TEST_F(RootMapTest, ItsVerifierCountsNamesAndFindsKeysOutOfOrderOrNotStrs) {
  roots_.Set("b", Int(2));
  roots_.Set("a", Int(1));
  roots_.Set("c", Int(3));
  const PageId id = space_.anchors().root_map;
  const KindHooks& hooks = BuiltinKinds().Get(static_cast<uint8_t>(CollectionKind::kRootMap), id);
  auto verify = [&] {
    RecordingCheck check(space_, id);
    std::optional<uint64_t> names = hooks.verify(check, space_.Read(id));
    return std::make_pair(names, check.problems);
  };
  auto [names, problems] = verify();
  EXPECT_EQ(std::optional<uint64_t>(3), names);
  EXPECT_TRUE(problems.empty());

  auto edit = [&](auto&& fn) {
    OpScope scope(heap_, heap_.root_map_mu());
    ListTree tree(heap_, id);
    fn(tree);
  };
  edit([&](ListTree& t) { t.Set(0, Str("bb")); });  // keys bb, b, c
  std::tie(names, problems) = verify();
  ASSERT_EQ(1u, problems.size());
  EXPECT_NE(std::string::npos, problems[0].find("key 1 of the root map (value 2 of leaf"))
      << problems[0];
  EXPECT_NE(std::string::npos, problems[0].find("is not after the key before it")) << problems[0];

  edit([&](ListTree& t) { t.Set(2, Int(5)); });  // keys bb, 5, c: c is not compared with 5
  std::tie(names, problems) = verify();
  ASSERT_EQ(1u, problems.size());
  EXPECT_NE(std::string::npos, problems[0].find("key 1 of the root map")) << problems[0];
  EXPECT_NE(std::string::npos, problems[0].find("is not a str")) << problems[0];

  edit([&](ListTree& t) { t.Append(Str("d"), 1); });
  std::tie(names, problems) = verify();
  EXPECT_EQ(std::optional<uint64_t>(3), names);
  ASSERT_EQ(2u, problems.size());
  EXPECT_EQ("root_map @" + std::to_string(id) + ": the root map holds an odd number of entries (7)",
            problems[1]);
}

}  // namespace
}  // namespace pagefs
