// CollectionHandle: opening, adopting and closing a handle, and the lock its
// operations share.
#include "pager/collections/collection_handle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "pager/collections/builtin_kinds.h"
#include "pager/testing/error_code.h"
#include "pager/testing/fake_kind.h"
#include "pager/testing/memory_page_space.h"

namespace pagefs {
namespace {

class CollectionHandleTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  MemoryPageSpace space_;
  FakeKind fake_;
  Heap heap_{space_, fake_.kinds};
};

TEST_F(CollectionHandleTest, CreateMakesAnEmptyOrphanOfTheKind) {
  const PageId id = CollectionHandle::Create(heap_, CollectionKind::kList);
  EXPECT_EQ(id, space_.anchors().orphan_head);
  heap_.CheckHeader(id, CollectionKind::kList);
  PageGuard g = space_.Read(id);
  for (uint32_t i = sizeof(CollectionHeader); i < space_.page_size(); ++i)
    ASSERT_EQ(0, g.data()[i]) << i;
}

TEST_F(CollectionHandleTest, OpeningChecksTheKindAndTheStore) {
  const PageId id = CollectionHandle::Create(heap_, CollectionKind::kList);
  EXPECT_EQ(ErrorCode::kCorruption,
            CodeOf([&] { CollectionHandle h(heap_, id, CollectionKind::kRootMap); }));
  heap_.MarkClosed();
  EXPECT_EQ(ErrorCode::kClosed,
            CodeOf([&] { CollectionHandle h(heap_, id, CollectionKind::kList); }));
  EXPECT_EQ(ErrorCode::kClosed,
            CodeOf([&] { CollectionHandle::Create(heap_, CollectionKind::kList); }));
}

TEST_F(CollectionHandleTest, TheLastHandleClosingFreesAnUnreferencedCollectionThroughItsKind) {
  const PageId id = FakeKind::Create(heap_);
  {
    CollectionHandle a(heap_, id, kFakeKind);
    {
      CollectionHandle b(heap_, id, kFakeKind);
      EXPECT_EQ(a.id(), b.id());
    }
    heap_.CollectOrphans();
    EXPECT_TRUE(fake_.destroyed.empty()) << "a is still open";
  }
  EXPECT_EQ((std::vector<PageId>{id}), fake_.destroyed);
  EXPECT_EQ(0u, space_.pages_in_use());
}

TEST_F(CollectionHandleTest, AnAdoptedHandleIsClosedByItsNewOwner) {
  const PageId id = FakeKind::Create(heap_);
  {
    CollectionHandle adopted(heap_, id, heap_.OpenHandle(id));
    heap_.CollectOrphans();
    EXPECT_TRUE(fake_.destroyed.empty());
  }
  EXPECT_EQ((std::vector<PageId>{id}), fake_.destroyed);
}

TEST_F(CollectionHandleTest, HandlesOnOneCollectionShareOneLock) {
  const PageId id = CollectionHandle::Create(heap_, CollectionKind::kList);
  const PageId other = CollectionHandle::Create(heap_, CollectionKind::kList);
  CollectionHandle a(heap_, id, CollectionKind::kList), b(heap_, id, CollectionKind::kList);
  CollectionHandle c(heap_, other, CollectionKind::kList);
  std::atomic<bool> b_locked{false};
  std::thread t;
  {
    OpScope held = a.Lock();
    { OpScope another_collection = c.Lock(); }  // not blocked by a
    t = std::thread([&] {
      OpScope scope = b.Lock();
      b_locked = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(b_locked.load()) << "b waits while a holds the collection";
  }
  t.join();
  EXPECT_TRUE(b_locked.load());
}

}  // namespace
}  // namespace pagefs
