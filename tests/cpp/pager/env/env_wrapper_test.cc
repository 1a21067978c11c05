// EnvWrapper forwards every Env call to its target, so a wrapper that
// overrides one call changes only that one.
#include "pager/env/env_wrapper.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "pager/tier/memory_tier.h"
#include "pager/volume/commit_root.h"

namespace pagefs {
namespace {

// An Env that only counts the calls it gets and answers with fixed values.
class CountingEnv final : public Env {
 public:
  std::map<std::string, int> calls;

  void CreateFolders(const std::string&) override { ++calls["CreateFolders"]; }
  void CreateFolder(const std::string&, uint32_t, const std::string&) override {
    ++calls["CreateFolder"];
  }
  bool IsFolder(const std::string&) override { return ++calls["IsFolder"] > 0; }
  bool IsPagefsMount(const std::string&) override { return ++calls["IsPagefsMount"] > 0; }
  uint32_t ProbePageSize(const std::string&, const std::string&, bool) override {
    ++calls["ProbePageSize"];
    return 8192;
  }
  std::unique_ptr<Tier> OpenTier(const std::string&, uint32_t page_size, bool) override {
    ++calls["OpenTier"];
    return std::make_unique<MemoryTier>(page_size);
  }
  std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string&, Tier& tier) override {
    ++calls["OpenCommitRoot"];
    return std::make_unique<SuperblockSlots>(tier);
  }
  std::unique_ptr<WriterLock> LockWriter(const std::string&, const std::string&) override {
    ++calls["LockWriter"];
    return std::make_unique<WriterLock>();
  }
  std::unique_ptr<ReaderTable> OpenReaderTable(const std::string&, bool) override {
    ++calls["OpenReaderTable"];
    return std::make_unique<ReaderTable>();
  }
  int MountRequest(int, unsigned, void*) override { return 40 + ++calls["MountRequest"]; }
};

TEST(EnvWrapperTest, ForwardsEveryCallToItsTarget) {
  CountingEnv target;
  EnvWrapper env(target);
  EXPECT_EQ(&target, &env.target());
  env.CreateFolders("r");
  env.CreateFolder("r/p", 0700, "create");
  EXPECT_TRUE(env.IsFolder("r/p"));
  EXPECT_TRUE(env.IsPagefsMount("r"));
  EXPECT_EQ(8192u, env.ProbePageSize("r/p", "p", true));
  std::unique_ptr<Tier> tier = env.OpenTier("r/p", 4096, false);
  EXPECT_EQ(4096u, tier->slot_size());
  EXPECT_NE(nullptr, env.OpenCommitRoot("r/p", *tier));
  EXPECT_NE(nullptr, env.LockWriter("r/p", "p"));
  EXPECT_NE(nullptr, env.OpenReaderTable("r/p", true));
  EXPECT_EQ(41, env.MountRequest(3, 1, nullptr));
  EXPECT_EQ(10u, target.calls.size());
  for (const auto& [call, n] : target.calls) EXPECT_EQ(1, n) << call;
}

// A wrapper that overrides one call leaves the others to the target.
TEST(EnvWrapperTest, AnOverrideChangesOnlyItsCall) {
  struct NoMount final : EnvWrapper {
    using EnvWrapper::EnvWrapper;
    bool IsPagefsMount(const std::string&) override { return false; }
  };
  CountingEnv target;
  NoMount env(target);
  EXPECT_FALSE(env.IsPagefsMount("r"));
  EXPECT_TRUE(env.IsFolder("r"));
  EXPECT_EQ(0, target.calls["IsPagefsMount"]);
  EXPECT_EQ(1, target.calls["IsFolder"]);
}

}  // namespace
}  // namespace pagefs
