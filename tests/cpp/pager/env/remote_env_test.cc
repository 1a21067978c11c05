// RemoteEnv against a real SeaweedFS: the bucket checked at construction
// with errors naming it, the page size read from the head, a volume that
// opens on an empty local folder, a local store's folder refused, the
// local cache shared by the tiers it makes.
#include "pager/env/remote_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/testing/temp_folder.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

class RemoteEnvTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    vars_ = {{"AWS_ENDPOINT_URL", config_.endpoint},
             {"AWS_ACCESS_KEY_ID", config_.access_key},
             {"AWS_SECRET_ACCESS_KEY", config_.secret_key},
             {"HOME", folder_.path().string()}};
  }
  EnvLookup Lookup() const {
    return [vars = vars_](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
  std::string Url() const {
    return "s3://" + config_.location.bucket + "/" + config_.location.prefix;
  }
  std::string Dir(const std::string& name) const { return (folder_.path() / name / "p").string(); }

  // Formats (or opens) the store at dir through env and commits n pages.
  static std::vector<PageId> WriteStore(RemoteEnv& env, const std::string& dir, uint32_t page_size,
                                        int n) {
    std::filesystem::create_directories(dir);
    uint32_t found = env.ProbePageSize(dir, "p", true);
    auto tier = env.OpenTier(dir, found != 0 ? found : page_size, false);
    auto root = env.OpenCommitRoot(dir, *tier);
    Volume v(*tier, "p", VolumeOptions{tier->slot_size(), false, true, nullptr, root.get()});
    std::vector<PageId> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(v.AllocateId());
      v.Store(ids.back(), PageBytes(ids.back(), 1, tier->slot_size()).data());
    }
    v.Commit({ids[0], kNoPage});
    return ids;
  }

  TempFolder folder_{"remote-env"};
  S3Config config_;
  std::map<std::string, std::string> vars_;
};

TEST_F(RemoteEnvTest, AStoreOpensOnAnEmptyFolderAtTheBucketsPageSize) {
  std::vector<PageId> ids;
  {
    RemoteEnv env(Env::Default(), Url(), "p", 1 << 20, Lookup());
    EXPECT_EQ(0u, env.ProbePageSize(Dir("a"), "p", true)) << "nothing in the bucket yet";
    ids = WriteStore(env, Dir("a"), 8192, 50);
  }
  RemoteEnv env(Env::Default(), Url(), "p", 1 << 20, Lookup());
  const std::string empty = Dir("b");
  EXPECT_TRUE(env.IsFolder(empty)) << "the bucket holds it";
  EXPECT_FALSE(std::filesystem::exists(empty));
  ASSERT_EQ(8192u, env.ProbePageSize(empty, "p", false));
  auto tier = env.OpenTier(empty, 8192, /*read_only=*/true);
  auto root = env.OpenCommitRoot(empty, *tier);
  Volume v(*tier, "p", VolumeOptions{8192, true, false, nullptr, root.get()});
  EXPECT_EQ(1u, v.committed().epoch);
  std::vector<uint8_t> page(8192);
  v.Load(ids.back(), page.data());
  EXPECT_EQ(PageBytes(ids.back(), 1, 8192), page);
  EXPECT_TRUE(std::filesystem::exists(empty + "/page-cache")) << "the cache folder is made";
  EXPECT_GT(env.stats().local.inserts, 0u);
  EXPECT_EQ(std::unique_ptr<ReaderTable>(), env.OpenReaderTable(empty, false))
      << "remote readers register nowhere";
}

TEST_F(RemoteEnvTest, TheLocalCacheServesATierOpenedLater) {
  RemoteEnv writer(Env::Default(), Url(), "p", 1 << 20, Lookup());
  const std::vector<PageId> ids = WriteStore(writer, Dir("w"), 4096, 20);
  RemoteEnv env(Env::Default(), Url(), "p", 1 << 20, Lookup());
  std::vector<uint8_t> page(4096);
  for (int round = 0; round < 2; ++round) {
    auto tier = env.OpenTier(Dir("r"), 4096, true);
    auto root = env.OpenCommitRoot(Dir("r"), *tier);
    Volume v(*tier, "p", VolumeOptions{4096, true, false, nullptr, root.get()});
    const uint64_t gets = env.stats().bucket.gets;
    for (PageId id : ids) v.Load(id, page.data());
    if (round == 1) {
      EXPECT_EQ(gets, env.stats().bucket.gets) << "every page from local disk";
    }
  }
  EXPECT_GE(env.stats().local.hits, 20u);
}

TEST_F(RemoteEnvTest, AMissingBucketIsNotFoundNamingBucketAndEndpoint) {
  std::string message;
  EXPECT_EQ(
      ErrorCode::kNotFound,
      CodeOf(
          [&] { RemoteEnv env(Env::Default(), "s3://no-such-bucket-pagefs/x", "p", 0, Lookup()); },
          &message));
  EXPECT_NE(message.find("no-such-bucket-pagefs"), std::string::npos) << message;
  EXPECT_NE(message.find(config_.endpoint), std::string::npos) << message;
}

TEST_F(RemoteEnvTest, RefusedCredentialsAreEaccesNamingTheKey) {
  vars_["AWS_SECRET_ACCESS_KEY"] = "wrong";
  try {
    RemoteEnv env(Env::Default(), Url(), "p", 0, Lookup());
    FAIL() << "opened with a wrong secret";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
    EXPECT_EQ(EACCES, e.sys_errno());
    EXPECT_NE(std::string(e.what()).find(config_.access_key), std::string::npos) << e.what();
  }
}

TEST_F(RemoteEnvTest, AMalformedUrlIsInvalidArgumentNamingIt) {
  std::string message;
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            CodeOf([&] { RemoteEnv env(Env::Default(), "s3:/x", "p", 0, Lookup()); }, &message));
  EXPECT_NE(message.find("s3:/x"), std::string::npos) << message;
}

TEST_F(RemoteEnvTest, AFolderHoldingALocalStoreIsRefused) {
  const std::string dir = Dir("local");
  std::filesystem::create_directories(dir);
  {
    auto tier = Env::Default().OpenTier(dir, 4096, false);
    auto root = Env::Default().OpenCommitRoot(dir, *tier);
    Volume v(*tier, "p", VolumeOptions{4096, false, true, nullptr, root.get()});
  }
  RemoteEnv env(Env::Default(), Url(), "p", 0, Lookup());
  std::string message;
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            CodeOf([&] { env.ProbePageSize(dir, "p", true); }, &message));
  EXPECT_NE(message.find("local store"), std::string::npos) << message;
}

}  // namespace
}  // namespace pagefs
