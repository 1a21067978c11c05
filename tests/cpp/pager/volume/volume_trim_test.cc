// The disk space of slots no commit references (written by a writer that
// crashed before committing) is given back at the next writer's first write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "pager/tier/segment_tier.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;
constexpr uint32_t kSlotsPerSegment = 1024;  // 4 MiB segments: the test spans several

TEST(VolumeTrimTest, UncommittedPagesOfACrashedWriterAreGivenBackAtTheNextOpen) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pagefs_trim_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> page(kPage, 0x5A);
  uint64_t committed_bytes = 0;
  {
    SegmentTier tier(dir, kPage, kSlotsPerSegment, false);
    Volume v(tier, "t", {});
    for (int i = 0; i < 64; ++i) v.Store(v.AllocateId(), page.data());
    v.Commit({1, 0});
    committed_bytes = tier.stats().bytes_on_disk;
    // A runaway change that never commits: the process "crashes" here.
    for (int i = 0; i < 5000; ++i) v.Store(v.AllocateId(), page.data());
    tier.Sync();
    ASSERT_GT(tier.stats().bytes_on_disk, committed_bytes + 4000u * kPage);
  }
  SegmentTier tier(dir, kPage, kSlotsPerSegment, false);
  Volume v(tier, "t", {});
  EXPECT_EQ(64u, v.pages_in_use());
  v.Store(v.AllocateId(), page.data());  // the first write gives the space back
  v.Commit({1, 0});
  EXPECT_LT(tier.stats().bytes_on_disk, committed_bytes + 64u * kPage);
  std::vector<uint8_t> buf(kPage);
  v.Load(1, buf.data());
  EXPECT_EQ(page, buf);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pagefs
