// MountBacking over a plain file (what a pagefs mount's PREFIX/data looks like
// to a client): combined writes, loads served from what is pending, and the
// pool's FlushAll reaching the file.
#include "pager/space/mount_backing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

class MountBackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("pagefs-mb-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  static std::vector<uint8_t> Page(uint8_t fill) { return std::vector<uint8_t>(kPage, fill); }
  std::vector<uint8_t> OnFile(PageId id) {
    std::vector<uint8_t> buf(kPage, 0);
    ssize_t n = ::pread(fd_, buf.data(), kPage, static_cast<off_t>(id * kPage));
    if (n < static_cast<ssize_t>(kPage))
      std::fill(buf.begin() + std::max<ssize_t>(n, 0), buf.end(), 0);
    return buf;
  }

  std::filesystem::path path_;
  int fd_ = -1;
};

TEST_F(MountBackingTest, AdjacentStoresWaitForFlushAndLoadsSeeThem) {
  MountBacking backing(fd_, kPage);
  for (PageId id = 1; id <= 3; ++id) backing.Store(id, Page(static_cast<uint8_t>(id)).data());
  EXPECT_EQ(Page(0), OnFile(2));  // still combined in memory
  std::vector<uint8_t> buf(kPage);
  backing.Load(2, buf.data());
  EXPECT_EQ(Page(2), buf);
  backing.Store(2, Page(22).data());  // rewriting a pending page replaces it
  backing.Flush();
  EXPECT_EQ(Page(1), OnFile(1));
  EXPECT_EQ(Page(22), OnFile(2));
  EXPECT_EQ(Page(3), OnFile(3));
}

TEST_F(MountBackingTest, AGapSendsTheRunBeforeIt) {
  MountBacking backing(fd_, kPage);
  backing.Store(1, Page(1).data());
  backing.Store(2, Page(2).data());
  backing.Store(7, Page(7).data());
  EXPECT_EQ(Page(2), OnFile(2));
  EXPECT_EQ(Page(0), OnFile(7));
  backing.Flush();
  EXPECT_EQ(Page(7), OnFile(7));
}

TEST_F(MountBackingTest, AFullRunIsSentWithoutWaiting) {
  MountBacking backing(fd_, kPage);
  const PageId pages = MountBacking::kCombineBytes / kPage;
  for (PageId id = 1; id <= pages; ++id) backing.Store(id, Page(static_cast<uint8_t>(id)).data());
  EXPECT_EQ(Page(static_cast<uint8_t>(pages)), OnFile(pages));
}

TEST_F(MountBackingTest, PoolFlushAllReachesTheFile) {
  MountBacking backing(fd_, kPage);
  BufferPool pool(kPage, 1 << 20, backing);
  for (PageId id = 1; id <= 100; ++id) {
    PageGuard g = pool.PinNew(id);
    std::fill(g.mutable_data(), g.mutable_data() + kPage, static_cast<uint8_t>(id));
  }
  pool.FlushAll();
  for (PageId id = 1; id <= 100; ++id) ASSERT_EQ(Page(static_cast<uint8_t>(id)), OnFile(id)) << id;
}

}  // namespace
}  // namespace pagefs
