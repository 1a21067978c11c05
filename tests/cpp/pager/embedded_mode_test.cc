// EmbeddedMode: the pages of a store in this process, on what its Env makes.
// A rollback reopens tier and volume but keeps the writer lock and the
// reader table (whose pins outlive a volume); a failed one leaves the mode
// unusable rather than half open.
#include "pager/embedded_mode.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/fault_env.h"
#include "pager/testing/temp_folder.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

class EmbeddedModeTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmbeddedMode> Open(const StoreOptions& options = {}) {
    return std::make_unique<EmbeddedMode>(env_, root_.string(), (root_ / "p").string(),
                                          "prefix 'p'", options);
  }

  TempFolder folder_{"embedded-mode"};
  const fs::path& root_ = folder_.path();
  FaultEnv env_;
};

TEST_F(EmbeddedModeTest, RollbackReopensTheTierButKeepsTheLockAndTheReaderTable) {
  auto mode = Open();
  PageId kept;
  {
    PageGuard g = mode->space().Allocate();
    g.mutable_data()[0] = 7;
    kept = g.id();
  }
  mode->space().set_anchors({kept, 0});
  mode->space().Commit();
  CommitPin pin = mode->volume().PinCommitted();  // an in-process reader of that commit
  {
    PageGuard g = mode->space().Write(kept);
    g.mutable_data()[0] = 8;
  }
  mode->space().Allocate();
  mode->space().set_anchors({kept, kept});
  EXPECT_TRUE(mode->has_uncommitted_changes());
  const size_t before = env_.calls().size();
  mode->Rollback();
  const std::vector<std::string> calls = env_.calls();
  EXPECT_EQ((std::vector<std::string>{"ProbePageSize", "OpenTier", "OpenCommitRoot"}),
            std::vector<std::string>(calls.begin() + before, calls.end()));
  EXPECT_TRUE(mode->usable());
  EXPECT_FALSE(mode->has_uncommitted_changes());
  EXPECT_EQ((Anchors{kept, 0}), mode->space().anchors());
  EXPECT_EQ(7, mode->space().Read(kept).data()[0]);
  EXPECT_EQ(1u, mode->volume().reader_stats().live);  // the pin is still counted
}

TEST_F(EmbeddedModeTest, ARollbackThatCannotReopenLeavesTheModeUnusable) {
  auto mode = Open();
  mode->space().Allocate();
  env_.Fail("ProbePageSize", EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { mode->Rollback(); }));
  EXPECT_FALSE(mode->usable());
}

TEST_F(EmbeddedModeTest, ANewStoreTakesTheAskedPageSizeAndAnOldOneKeepsItsOwn) {
  StoreOptions big;
  big.page_size = 32768;
  EXPECT_EQ(32768u, Open(big)->space().page_size());
  EXPECT_EQ(32768u, Open()->space().page_size());
  StoreOptions bad;
  bad.page_size = 5000;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { Open(bad); }));
}

TEST_F(EmbeddedModeTest, StatsAndBudgetComeFromTheVolumeTierAndPool) {
  StoreOptions options;
  options.cache_size = 4 << 20;
  auto mode = Open(options);
  for (int i = 0; i < 10; ++i) mode->space().Allocate();
  mode->space().Commit();
  StoreStats s;
  mode->FillStats(s);
  EXPECT_EQ(10u, s.pages);
  EXPECT_EQ(1u, s.epoch);
  EXPECT_EQ(4096u, s.page_size);
  EXPECT_EQ(4u << 20, s.cache_budget);
  EXPECT_GT(s.tier_writes, 0u);
  EXPECT_GT(s.bytes_on_disk, 0u);
  mode->set_cache_size(2 << 20);
  EXPECT_EQ(2u << 20, mode->cache_size());
  mode->Rollback();  // the rebuilt pool keeps the budget
  EXPECT_EQ(2u << 20, mode->cache_size());
  EXPECT_FALSE(mode->mounted());
  EXPECT_FALSE(mode->failed());
}

}  // namespace
}  // namespace pagefs
