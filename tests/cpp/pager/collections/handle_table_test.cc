// HandleTable: counting in-process handles and sharing their state.
#include "pager/collections/handle_table.h"

#include <gtest/gtest.h>

namespace pagefs {
namespace {

TEST(HandleTableTest, HandlesOnOneIdShareOneStateAndOthersDoNot) {
  HandleTable t;
  auto a1 = t.Open(7), a2 = t.Open(7), b = t.Open(8);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b);
  EXPECT_EQ(2u, t.size());
}

TEST(HandleTableTest, OnlyTheLastCloseSaysSoAndForgetsTheId) {
  HandleTable t;
  t.Open(7);
  t.Open(7);
  EXPECT_FALSE(t.Close(7));
  EXPECT_TRUE(t.IsOpen(7));
  EXPECT_TRUE(t.Close(7));
  EXPECT_FALSE(t.IsOpen(7));
  EXPECT_EQ(0u, t.size());
}

TEST(HandleTableTest, ClosingAnIdWithNoHandleChangesNothing) {
  HandleTable t;
  t.Open(7);
  EXPECT_FALSE(t.Close(8));
  EXPECT_TRUE(t.IsOpen(7));
  EXPECT_TRUE(t.Close(7));
  EXPECT_FALSE(t.Close(7));
}

TEST(HandleTableTest, AfterTheLastCloseANewHandleGetsANewState) {
  HandleTable t;
  auto held = t.Open(7);
  EXPECT_TRUE(t.Close(7));
  // The state outlived its handles (a thread still running an operation
  // with it): a new handle gets a fresh one.
  auto again = t.Open(7);
  EXPECT_NE(held, again);
  EXPECT_EQ(again, t.Open(7));
}

}  // namespace
}  // namespace pagefs
