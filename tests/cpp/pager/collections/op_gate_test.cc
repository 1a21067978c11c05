// OpGate: the store-wide op lock, the closed flag, the forked child, and
// following commits.
#include "pager/collections/op_gate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "pager/testing/error_code.h"
#include "pager/testing/following_space.h"
#include "pager/testing/forked_child.h"
#include "pager/testing/lock_probe.h"

namespace pagefs {
namespace {

TEST(OpGateTest, OpenUntilMarkedClosedThenClosedWithOneMessage) {
  FollowingSpace space;
  OpGate gate(space, "prefix 'p' of /r");
  EXPECT_FALSE(gate.closed());
  gate.CheckOpen();
  gate.MarkClosed();
  EXPECT_TRUE(gate.closed());
  std::string msg;
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { gate.CheckOpen(); }, &msg));
  EXPECT_EQ("prefix 'p' of /r is closed", msg);
}

TEST(OpGateTest, FollowsANewerCommitUnderTheLockHeldExclusively) {
  FollowingSpace space;
  OpGate gate(space, "prefix 'p' of /r");
  gate.FollowCommits();
  EXPECT_EQ(0, space.follows_.load()) << "no newer commit";
  bool exclusive = false;
  space.on_follow_ = [&] { exclusive = !SharedIsFree(gate.lock()); };
  space.newer_ = true;
  gate.FollowCommits(/*force=*/true);
  EXPECT_EQ(1, space.follows_.load());
  EXPECT_EQ(1, space.forced_.load());
  EXPECT_TRUE(exclusive);
  EXPECT_TRUE(SharedIsFree(gate.lock())) << "released after";
}

TEST(OpGateTest, AClosedGateFollowsNothing) {
  FollowingSpace space;
  OpGate gate(space, "prefix 'p' of /r");
  gate.MarkClosed();
  space.newer_ = true;
  gate.FollowCommits();
  EXPECT_EQ(0, space.follows_.load());
}

TEST(OpGateTest, AForkedChildIsRefusedBeforeItWaitsOnTheParentsLock) {
  FollowingSpace space;
  OpGate gate(space, "prefix 'p' of /r");
  std::unique_lock held(gate.lock());  // a parent's commit in progress at the fork
  // A hang (waiting on the lock) ends the child by SIGALRM: 128 + 14.
  EXPECT_EQ(0, InForkedChild(
                   [&] {
                     if (!gate.forked() || !gate.closed()) return 1;
                     try {
                       gate.FollowCommits();
                       return 2;
                     } catch (const Error& e) {
                       const std::string m = e.what();
                       if (e.code() != ErrorCode::kClosed ||
                           m.find("is a fork of it") == std::string::npos ||
                           m.find(std::to_string(::getppid())) == std::string::npos) {
                         return 3;
                       }
                     }
                     return 0;
                   },
                   10));
  EXPECT_FALSE(gate.forked());
  EXPECT_FALSE(gate.closed());
}

}  // namespace
}  // namespace pagefs
