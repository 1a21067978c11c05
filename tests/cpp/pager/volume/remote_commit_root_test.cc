// A Volume on a RemoteTier with a RemoteCommitRoot, against a real SeaweedFS
// (built into remote_tests: testing/seaweed_server.h).
#include "pager/volume/remote_commit_root.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/fault_transport.h"
#include "pager/tier/remote/local_page_cache.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

// One process's view of the bucket: client, tier, root, volume, nothing local.
struct Opened {
  Opened(const S3Config& config, std::shared_ptr<HttpTransport> transport, bool create = true)
      : client(config, std::move(transport),
               RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(2)}),
        tier(client, kPage),
        root(tier),
        volume(tier, "prefix 'remote'", VolumeOptions{kPage, false, create, nullptr, &root}) {}
  S3Client client;
  RemoteTier tier;
  RemoteCommitRoot root;
  Volume volume;
};

class RemoteCommitRootTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    curl_ = std::make_shared<CurlTransport>(config_.access_key, config_.secret_key, "us-east-1");
  }
  std::vector<uint8_t> Page(Volume& v, PageId id) {
    std::vector<uint8_t> buf(kPage);
    v.Load(id, buf.data());
    return buf;
  }
  S3Config config_;
  std::shared_ptr<CurlTransport> curl_;
};

TEST_F(RemoteCommitRootTest, AVolumeReopensFromTheBucketAloneAtItsLastCommit) {
  std::vector<PageId> ids;
  {
    Opened w(config_, curl_);
    for (int i = 0; i < 300; ++i) {
      ids.push_back(w.volume.AllocateId());
      w.volume.Store(ids.back(), PageBytes(ids.back(), 1).data());
    }
    w.volume.Commit({ids[0], kNoPage});
    w.volume.Store(ids[5], PageBytes(ids[5], 2).data());
    w.volume.Commit({ids[1], kNoPage});
    w.volume.Store(ids[6], PageBytes(ids[6], 3).data());  // never committed
  }
  Opened r(config_, curl_, /*create=*/false);
  EXPECT_EQ(r.volume.committed().epoch, 2u);
  EXPECT_EQ(r.volume.committed().anchors.root_map, ids[1]);
  EXPECT_EQ(PageBytes(ids[5], 2), Page(r.volume, ids[5]));
  EXPECT_EQ(PageBytes(ids[6], 1), Page(r.volume, ids[6]));
  EXPECT_EQ(PageBytes(ids[299], 1), Page(r.volume, ids[299]));
}

TEST_F(RemoteCommitRootTest, AnEmptyPrefixIsNotFoundWithoutCreate) {
  S3Client client(config_, curl_);
  RemoteTier tier(client, kPage);
  RemoteCommitRoot root(tier);
  EXPECT_EQ(CodeOf([&] {
              Volume(tier, "p", VolumeOptions{kPage, false, false, nullptr, &root});
            }),
            ErrorCode::kNotFound);
}

TEST_F(RemoteCommitRootTest, TheServerDyingAtAnyRequestOfACommitLeavesTheLastCommit) {
  PageId id = 0;
  {
    Opened w(config_, curl_);
    id = w.volume.AllocateId();
    w.volume.Store(id, PageBytes(id, 1).data());
    w.volume.Commit({id, kNoPage});
  }
  uint32_t committed = 1;
  for (uint64_t cut = 1;; ++cut) {
    auto faults = std::make_shared<FaultTransport>(*curl_);
    bool threw = false;
    const uint32_t version = static_cast<uint32_t>(1000 + cut);
    {
      Opened w(config_, faults, /*create=*/false);
      w.volume.Store(id, PageBytes(id, version).data());
      faults->FailFrom(cut);
      try {
        w.volume.Commit({id, kNoPage});
      } catch (const Error& e) {
        threw = true;
        EXPECT_EQ(e.code(), ErrorCode::kIo) << e.what();
      }
    }
    // The server is back: a new process finds one whole commit, then commits.
    Opened r(config_, curl_, /*create=*/false);
    EXPECT_EQ(PageBytes(id, threw ? committed : version), Page(r.volume, id)) << "cut " << cut;
    committed = static_cast<uint32_t>(2000 + cut);
    r.volume.Store(id, PageBytes(id, committed).data());
    r.volume.Commit({id, kNoPage});
    if (!threw) break;  // the cut came after the commit's last request
    ASSERT_LT(cut, 20u);
  }
}

TEST_F(RemoteCommitRootTest, AColdRandomReadCostsOneGetNotOnePerPageTableLevel) {
  constexpr uint32_t kLeaves = 40;  // page-table leaves of 256 entries each
  const uint32_t per_leaf = kPage / sizeof(TableEntry);
  std::vector<PageId> ids;
  {
    Opened w(config_, curl_);
    for (uint32_t i = 0; i < kLeaves * per_leaf; ++i) {
      ids.push_back(w.volume.AllocateId());
      w.volume.Store(ids.back(), PageBytes(ids.back(), 1).data());
    }
    w.volume.Commit({ids[0], kNoPage});
  }
  // Another machine: an empty local cache.
  TempFolder local("cold-random-read");
  std::filesystem::create_directories(local.path());
  S3Client client(config_, curl_);
  LocalPageCache cache((local.path() / "page-cache").string(), kPage, 64 << 20);
  RemoteTier tier(client, kPage, {.spill_dir = "", .cache = &cache, .read_only = true});
  RemoteCommitRoot root(tier);
  const uint64_t g0 = client.stats().gets;
  Volume volume(tier, "prefix 'remote'", VolumeOptions{kPage, true, false, nullptr, &root});
  const uint64_t at_open = client.stats().gets - g0;
  EXPECT_LE(at_open, 5u) << "head, commit, the table's root and all its leaves in a GET or two";
  // One page under each leaf, in an order no readahead follows.
  std::vector<PageId> picks;
  for (uint32_t l = 0; l < kLeaves; ++l) picks.push_back(ids[l * per_leaf + (l * 37) % per_leaf]);
  std::shuffle(picks.begin(), picks.end(), std::mt19937(3));
  const uint64_t g1 = client.stats().gets;
  for (PageId id : picks) EXPECT_EQ(PageBytes(id, 1), Page(volume, id)) << id;
  EXPECT_EQ(client.stats().gets - g1, picks.size()) << "one GET per read: its page";
}

}  // namespace
}  // namespace pagefs
