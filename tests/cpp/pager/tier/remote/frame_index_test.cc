// FrameIndex: frames by position in their segments, and what they take.
#include "pager/tier/remote/frame_index.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace pagefs {
namespace {

TEST(FrameIndexTest, FramesComeInOffsetOrderAndTheWalkCrossesIntoTheNextSegment) {
  FrameIndex index;
  index.Add(7, 10, 300, 100);
  index.Add(5, 10, 8, 100);
  index.Add(9, 11, 8, 50);
  index.Finish();
  ASSERT_TRUE(index.Locate(10, 8).has_value());
  EXPECT_EQ(0u, index.Locate(10, 8)->index);
  EXPECT_EQ(1u, index.Locate(10, 300)->index);
  EXPECT_FALSE(index.Locate(10, 9).has_value());
  std::optional<FramePos> after;
  std::vector<FrameRef> run = index.Take(*index.Locate(10, 8), 1000, &after);
  ASSERT_EQ(3u, run.size());
  EXPECT_EQ(5u, run[0].slot);
  EXPECT_EQ(7u, run[1].slot);
  EXPECT_EQ(9u, run[2].slot) << "into segment 11";
  EXPECT_FALSE(after.has_value());
}

TEST(FrameIndexTest, ItsMemoryFollowsTheFramesListedAndASegmentGoesWhenEmptied) {
  FrameIndex index;
  EXPECT_EQ(0u, index.memory_bytes());
  for (uint32_t i = 0; i < 1000; ++i) index.Add(i, 1 + i / 500, i * 64, 64);
  index.Finish();
  const uint64_t two = index.memory_bytes();
  EXPECT_GE(two, 1000u * 16);
  EXPECT_LE(two, 1000u * 16 + 1024);
  for (int i = 0; i < 500; ++i) index.Release(1);  // every slot of segment 1 moved away
  EXPECT_LT(index.memory_bytes(), two / 2 + 512);
  index.Clear();
  EXPECT_EQ(0u, index.memory_bytes());
}

}  // namespace
}  // namespace pagefs
