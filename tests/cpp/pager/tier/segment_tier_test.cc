#include "pager/tier/segment_tier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {
namespace {

class SegmentTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pagefs-seg-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SegmentTierTest, UnwrittenSlotsReadAsZeros) {
  SegmentTier tier(dir_, 4096, 16, false);
  std::vector<uint8_t> buf(4096, 0xAB);
  tier.Read(100, buf.data());
  EXPECT_EQ(std::vector<uint8_t>(4096, 0), buf);
  EXPECT_EQ(0u, tier.size());
}

TEST_F(SegmentTierTest, SlotsSpreadOverSegmentFilesAndSurviveReopen) {
  {
    SegmentTier tier(dir_, 4096, 16, false);
    std::vector<uint8_t> buf(4096);
    for (SlotId s = 0; s < 40; ++s) {
      std::fill(buf.begin(), buf.end(), static_cast<uint8_t>(s));
      tier.Write(s, buf.data());
    }
    tier.Sync();
    EXPECT_EQ(40u, tier.size());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / SegmentTier::SegmentFileName(2)));
  EXPECT_FALSE(std::filesystem::exists(dir_ / SegmentTier::SegmentFileName(3)));
  SegmentTier tier(dir_, 4096, 16, true);
  EXPECT_EQ(40u, tier.size());
  std::vector<uint8_t> buf(4096);
  for (SlotId s = 0; s < 40; ++s) {
    tier.Read(s, buf.data());
    EXPECT_EQ(std::vector<uint8_t>(4096, static_cast<uint8_t>(s)), buf) << "slot " << s;
  }
}

TEST_F(SegmentTierTest, ReadOnlyTierRefusesWrites) {
  SegmentTier tier(dir_, 4096, 16, true);
  std::vector<uint8_t> buf(4096);
  try {
    tier.Write(0, buf.data());
    FAIL() << "write succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kReadOnly, e.code());
  }
}

TEST_F(SegmentTierTest, MissingFolderIsAnIoError) {
  try {
    SegmentTier tier((dir_ / "nope").string(), 4096, 16, false);
    FAIL() << "opened a missing folder";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}

}  // namespace
}  // namespace pagefs
