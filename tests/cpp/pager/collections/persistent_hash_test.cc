// PersistentHash: handles on dicts and sets, their lifetime as collections
// (references held by values, freeing, orphans), and threads sharing one.
#include "pager/collections/persistent_hash.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/persistent_list.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"

namespace pagefs {
namespace {

std::string RefTo(CollectionKind kind, uint64_t id) {
  std::string out;
  EncodeRef(out, kind, id);
  return out;
}

class PersistentHashTest : public ::testing::Test {
 protected:
  PersistentHashTest() : space_(4096), heap_(space_, BuiltinKinds()) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }
  MemoryPageSpace space_;
  Heap heap_;
};

TEST_F(PersistentHashTest, CreateMakesAnOrphanThatItsLastHandleFrees) {
  const uint64_t before = space_.pages_in_use();
  {
    PersistentHash d(heap_, PersistentHash::Create(heap_, CollectionKind::kDict),
                     CollectionKind::kDict);
    for (int i = 0; i < 3000; ++i) d.Set(Int(i), Str("v"));
    EXPECT_EQ(3000u, d.size());
  }
  EXPECT_EQ(before, space_.pages_in_use());
}

TEST_F(PersistentHashTest, OpeningTheWrongKindIsCorruption) {
  const uint64_t id = PersistentHash::Create(heap_, CollectionKind::kSet);
  EXPECT_THROW(PersistentHash(heap_, id, CollectionKind::kDict), Error);
  EXPECT_THROW(PersistentList(heap_, id), Error);
  EXPECT_THROW(PersistentHash::Create(heap_, CollectionKind::kList), Error);
  heap_.CollectOrphans();
}

TEST_F(PersistentHashTest, ValuesHoldTheCollectionsTheyReferenceUntilDropped) {
  const uint64_t before = space_.pages_in_use();
  {
    PersistentHash d(heap_, PersistentHash::Create(heap_, CollectionKind::kDict),
                     CollectionKind::kDict);
    uint64_t set_id, list_id;
    {
      PersistentHash s(heap_, PersistentHash::Create(heap_, CollectionKind::kSet),
                       CollectionKind::kSet);
      s.Set(Str("member"), "");
      set_id = s.id();
      PersistentList l(heap_, PersistentList::Create(heap_));
      list_id = l.id();
      d.Set(Str("set"), RefTo(CollectionKind::kSet, set_id));
      d.Set(Str("list"), RefTo(CollectionKind::kList, list_id));
    }
    heap_.CollectOrphans();
    PersistentHash again(heap_, set_id, CollectionKind::kSet);
    EXPECT_TRUE(again.Contains(Str("member")));
    // A reader opens a handle on a referenced dict or set under the lock.
    ReferencedLists refs(heap_);
    EXPECT_TRUE(d.Get(Str("set"), [&](std::string_view v) { refs.Open(v); }));
    EXPECT_NE(nullptr, refs.AdoptState(set_id));
    heap_.CloseHandle(set_id);  // the adopted state's handle
    d.Erase(Str("list"), [](std::string_view) {});
    EXPECT_THROW(PersistentList(heap_, list_id), Error);  // freed with its last reference
  }
  heap_.CollectOrphans();
  EXPECT_EQ(before, space_.pages_in_use());
}

TEST_F(PersistentHashTest, SetRunKeepsThePairsBeforeARefusedOne) {
  PersistentHash d(heap_, PersistentHash::Create(heap_, CollectionKind::kDict),
                   CollectionKind::kDict);
  std::string run =
      Int(1) + Str("a") + Int(2) + Str("b") + RefTo(CollectionKind::kList, 1) + Str("c");
  EXPECT_THROW(d.SetRun(run, 3), Error);
  EXPECT_EQ(2u, d.size());
  EXPECT_EQ(1u, d.SetRun(Int(2) + Str("B") + Int(3) + Str("c"), 2));
  std::string got;
  d.Get(Int(2), [&](std::string_view v) { got = v; });
  EXPECT_EQ(Str("B"), got);
  d.Verify();
}

TEST_F(PersistentHashTest, ThreadsAddingAndRemovingDisjointKeysLeaveAConsistentTable) {
  PersistentHash s(heap_, PersistentHash::Create(heap_, CollectionKind::kSet),
                   CollectionKind::kSet);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      PersistentHash mine(heap_, s.id(), CollectionKind::kSet);
      for (int i = 0; i < 1500; ++i) mine.Set(Int(t * 100000 + i), "");
      for (int i = 0; i < 1500; i += 2) mine.Erase(Int(t * 100000 + i), [](std::string_view) {});
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(4u * 750, s.size());
  EXPECT_EQ(4u * 750, s.Verify().live);
}

}  // namespace
}  // namespace pagefs
