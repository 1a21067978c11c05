// OpScope: the prologue of every collection operation, in its order.
#include "pager/collections/op_scope.h"

#include <gtest/gtest.h>

#include <mutex>
#include <shared_mutex>

#include "pager/collections/builtin_kinds.h"
#include "pager/testing/error_code.h"
#include "pager/testing/following_space.h"
#include "pager/testing/lock_probe.h"

namespace pagefs {
namespace {

class OpScopeTest : public ::testing::Test {
 protected:
  FollowingSpace space_;
  Heap heap_{space_, BuiltinKinds()};
  std::mutex collection_mu_;
};

TEST_F(OpScopeTest, HoldsTheOpLockSharedAndTheCollectionUntilItEnds) {
  {
    OpScope scope(heap_, collection_mu_);
    EXPECT_TRUE(SharedIsFree(heap_.op_lock())) << "other operations run";
    EXPECT_FALSE(IsFree(heap_.op_lock())) << "commit and close wait";
    EXPECT_FALSE(IsFree(collection_mu_));
  }
  EXPECT_TRUE(IsFree(heap_.op_lock()));
  EXPECT_TRUE(IsFree(collection_mu_));
}

TEST_F(OpScopeTest, WithoutACollectionItLocksOnlyTheOpLock) {
  OpScope scope(heap_);
  EXPECT_FALSE(IsFree(heap_.op_lock()));
  EXPECT_TRUE(IsFree(collection_mu_));
}

TEST_F(OpScopeTest, AClosedStoreIsRefusedAndNothingStaysLocked) {
  heap_.MarkClosed();
  std::string msg;
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { OpScope scope(heap_, collection_mu_); }, &msg));
  EXPECT_EQ("the store is closed", msg);
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { OpScope scope(heap_, OpScope::Follow::kNo); }));
  EXPECT_TRUE(IsFree(heap_.op_lock()));
  EXPECT_TRUE(IsFree(collection_mu_));
}

TEST_F(OpScopeTest, FollowsANewerCommitBeforeLockingUnlessTold) {
  // (Following after the shared lock was taken would deadlock: FollowCommits
  // takes the lock exclusively.)
  space_.newer_ = true;
  { OpScope scope(heap_, OpScope::Follow::kNo); }
  EXPECT_EQ(0, space_.follows_.load()) << "creating follows no commit";
  { OpScope scope(heap_, collection_mu_); }
  EXPECT_EQ(1, space_.follows_.load());
  space_.newer_ = true;
  { OpScope scope(heap_); }
  EXPECT_EQ(2, space_.follows_.load());
}

}  // namespace
}  // namespace pagefs
