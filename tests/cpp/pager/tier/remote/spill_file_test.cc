#include "pager/tier/remote/spill_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

class SpillFileTest : public testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(folder_.path()); }
  TempFolder folder_{"spill-file"};
};

TEST_F(SpillFileTest, PagesReadBackAndTheFolderShowsNoFile) {
  SpillFile spill(folder_.path().string(), kPage);
  for (SlotId s = 10; s > 0; --s) spill.Put(s, PageBytes(s, 1).data());
  std::vector<uint8_t> out(kPage);
  ASSERT_TRUE(spill.Get(4, out.data()));
  EXPECT_EQ(PageBytes(4, 1), out);
  EXPECT_FALSE(spill.Get(11, out.data()));
  EXPECT_EQ(11u, spill.end());
  EXPECT_EQ(10u * kPage, spill.bytes());
  EXPECT_TRUE(std::filesystem::is_empty(folder_.path())) << "unlinked from the start";
  std::vector<SpillFile::Pending> slots = spill.Slots();
  ASSERT_EQ(10u, slots.size());
  EXPECT_EQ(1u, slots.front().slot) << "ascending";
}

TEST_F(SpillFileTest, ARewriteReusesItsPageAndADiscardedPageIsReused) {
  SpillFile spill(folder_.path().string(), kPage);
  spill.Put(1, PageBytes(1, 1).data());
  spill.Put(2, PageBytes(2, 1).data());
  spill.Put(1, PageBytes(1, 2).data());
  EXPECT_EQ(2u * kPage, spill.bytes()) << "uncommitted pages, not writes, take disk";
  spill.Erase(2);
  spill.Put(3, PageBytes(3, 1).data());
  EXPECT_EQ(2u * kPage, spill.bytes());
  std::vector<uint8_t> out(kPage);
  ASSERT_TRUE(spill.Get(1, out.data()));
  EXPECT_EQ(PageBytes(1, 2), out);
  ASSERT_TRUE(spill.Get(3, out.data()));
  EXPECT_EQ(PageBytes(3, 1), out);
  EXPECT_FALSE(spill.Get(2, out.data()));
}

TEST_F(SpillFileTest, ForgetKeepsASlotWrittenAgainSinceAndFreesTheFileWhenEmpty) {
  SpillFile spill(folder_.path().string(), kPage);
  spill.Put(1, PageBytes(1, 1).data());
  spill.Put(2, PageBytes(2, 1).data());
  std::vector<SpillFile::Pending> uploaded = spill.Slots();
  spill.Put(2, PageBytes(2, 2).data());  // news after the upload began
  spill.Forget(uploaded);
  std::vector<uint8_t> out(kPage);
  EXPECT_FALSE(spill.Get(1, out.data()));
  ASSERT_TRUE(spill.Get(2, out.data()));
  EXPECT_EQ(PageBytes(2, 2), out);
  spill.Forget(spill.Slots());
  EXPECT_TRUE(spill.empty());
  EXPECT_EQ(0u, spill.bytes());
  EXPECT_EQ(0u, spill.end());
}

TEST_F(SpillFileTest, AMissingFolderIsAnErrorNamingIt) {
  const std::string missing = (folder_.path() / "nope").string();
  try {
    SpillFile spill(missing, kPage);
    FAIL() << "made a spill file in a missing folder";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST_F(SpillFileTest, ItsIndexGrowsWithThePendingPagesAndGoesWithThem) {
  SpillFile spill(folder_.path().string(), kPage);
  const uint64_t empty = spill.memory_bytes();
  for (SlotId s = 1; s <= 1000; ++s) spill.Put(s, PageBytes(s, 1).data());
  const uint64_t full = spill.memory_bytes();
  EXPECT_GE(full - empty, 1000u * 32) << "a map node a page";
  EXPECT_LE(full - empty, 1000u * 128);
  spill.Forget(spill.Slots());
  EXPECT_LT(spill.memory_bytes(), full / 4);
}

}  // namespace
}  // namespace pagefs
