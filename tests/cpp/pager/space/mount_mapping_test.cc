// MountMapping over a plain file (what a mount's data or committed looks like
// to a client): pages copied from the mapping, changes made through another
// descriptor seen through the existing mapping, growth mapped on demand,
// nothing past the file's end touched (a shrunk file's pages are refused,
// not a crash); and MountBacking loading through it, falling back to pread.
#include "pager/space/mount_mapping.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "pager/space/mount_backing.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

class MountMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(folder_.path());
    path_ = (folder_.path() / "data").string();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd_, 0);
    ro_ = ::open(path_.c_str(), O_RDONLY);
    ASSERT_GE(ro_, 0);
  }
  void TearDown() override {
    ::close(ro_);
    ::close(fd_);
  }
  static std::vector<uint8_t> Page(uint8_t fill) { return std::vector<uint8_t>(kPage, fill); }
  void Put(PageId id, uint8_t fill) {
    ASSERT_EQ(static_cast<ssize_t>(kPage),
              ::pwrite(fd_, Page(fill).data(), kPage, static_cast<off_t>(id * kPage)));
  }
  std::vector<uint8_t> Copy(MountMapping& m, PageId id, bool* ok = nullptr) {
    std::vector<uint8_t> buf(kPage, 0xEE);
    const bool copied = m.CopyPage(id, buf.data());
    if (ok != nullptr) *ok = copied;
    return buf;
  }

  TempFolder folder_{"mount-mapping"};
  std::string path_;
  int fd_ = -1;
  int ro_ = -1;
};

TEST_F(MountMappingTest, PagesComeFromTheMappingAndChangesShowThroughIt) {
  for (PageId id = 0; id < 4; ++id) Put(id, static_cast<uint8_t>(10 + id));
  MountMapping m(ro_, kPage);
  ASSERT_TRUE(m.usable());
  EXPECT_EQ(4 * kPage, m.mapped_bytes());
  EXPECT_EQ(Page(12), Copy(m, 2));
  Put(2, 99);  // through another descriptor, as the daemon's invalidation makes it
  EXPECT_EQ(Page(99), Copy(m, 2));
}

TEST_F(MountMappingTest, GrowthIsMappedWhenAPagePastTheExtentIsAsked) {
  Put(1, 1);
  MountMapping m(ro_, kPage);
  EXPECT_EQ(2 * kPage, m.mapped_bytes());
  bool ok = true;
  Copy(m, 5, &ok);
  EXPECT_FALSE(ok);  // past the end: not touched
  Put(5, 5);
  EXPECT_EQ(Page(5), Copy(m, 5, &ok));
  EXPECT_TRUE(ok);
  EXPECT_EQ(6 * kPage, m.mapped_bytes());
  EXPECT_EQ(Page(0), Copy(m, 3, &ok));  // a hole reads as zeros
  EXPECT_TRUE(ok);
}

TEST_F(MountMappingTest, AnEmptyFileIsMappedOnceItHasPages) {
  MountMapping m(ro_, kPage);
  ASSERT_TRUE(m.usable());
  bool ok = true;
  Copy(m, 1, &ok);
  EXPECT_FALSE(ok);
  Put(1, 7);
  EXPECT_EQ(Page(7), Copy(m, 1, &ok));
  EXPECT_TRUE(ok);
}

TEST_F(MountMappingTest, APageTheFileLostIsRefusedNotACrash) {
  for (PageId id = 0; id < 4; ++id) Put(id, 3);
  MountMapping m(ro_, kPage);
  ASSERT_EQ(0, ::ftruncate(fd_, 2 * kPage));  // the mapping still spans 4 pages
  bool ok = true;
  Copy(m, 3, &ok);  // SIGBUS, caught
  EXPECT_FALSE(ok);
  EXPECT_EQ(Page(3), Copy(m, 1, &ok));
  EXPECT_TRUE(ok);
}

TEST_F(MountMappingTest, APageIsTakenInPlaceAndChangesShowThroughIt) {
  for (PageId id = 0; id < 4; ++id) Put(id, static_cast<uint8_t>(10 + id));
  MountMapping m(ro_, kPage);
  const uint8_t* p = m.PageAt(2);
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(Page(12), std::vector<uint8_t>(p, p + kPage));
  Put(2, 99);  // through another descriptor: the same kernel page
  EXPECT_EQ(99, p[kPage - 1]);
  EXPECT_EQ(p, m.PageAt(2));
  EXPECT_EQ(nullptr, m.PageAt(4));  // past the end
  EXPECT_EQ(p, m.ProbedPageAt(2));  // probed before: given with no probe
  EXPECT_EQ(nullptr, m.ProbedPageAt(1));
  EXPECT_EQ(nullptr, m.ProbedPageAt(4));
  ASSERT_EQ(0, ::ftruncate(fd_, 2 * kPage));
  EXPECT_EQ(nullptr, m.PageAt(3));  // the probe's SIGBUS, caught
  EXPECT_NE(nullptr, m.PageAt(1));
}

// Faults bring only what they touch (no read-around: on a mount those pages
// would be in the kernel before the daemon could count them), a page larger
// than the kernel's comes whole, and WillRead brings the pages a scan names.
// Seen with mincore, on a file dropped from the page cache first.
TEST_F(MountMappingTest, AFaultReadsOnlyItsPageAndAScanGetsWhatItAdvises) {
  constexpr uint64_t kPages = 256;
  for (PageId id = 0; id < kPages; ++id) Put(id, 1);
  ASSERT_EQ(0, ::fsync(fd_));
  ASSERT_EQ(0, ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED));
  // A mapping of our own, never touched: mincore tells what the cache holds.
  void* view = ::mmap(nullptr, kPages * kPage, PROT_READ, MAP_SHARED, ro_, 0);
  ASSERT_NE(MAP_FAILED, view);
  auto resident = [&] {
    std::vector<unsigned char> bits(kPages);
    EXPECT_EQ(0, ::mincore(view, kPages * kPage, bits.data()));
    std::vector<PageId> ids;
    for (PageId id = 0; id < kPages; ++id) {
      if (bits[id] & 1) ids.push_back(id);
    }
    return ids;
  };
  ASSERT_EQ(std::vector<PageId>{}, resident());
  MountMapping m(ro_, kPage);
  ASSERT_NE(nullptr, m.PageAt(100));
  EXPECT_EQ(std::vector<PageId>{100}, resident());
  MountMapping large(ro_, 4 * kPage);
  ASSERT_NE(nullptr, large.PageAt(10));  // kernel pages 40..43
  EXPECT_EQ((std::vector<PageId>{40, 41, 42, 43, 100}), resident());
  const std::vector<PageId> scan = {200, 12, 11, 13};
  m.WillRead(scan);
  const std::vector<PageId> want = {11, 12, 13, 40, 41, 42, 43, 100, 200};
  for (int i = 0; i < 200 && resident() != want; ++i) ::usleep(10'000);
  EXPECT_EQ(want, resident());
  ::munmap(view, kPages * kPage);
}

TEST_F(MountMappingTest, TheBackingGivesNoPageInPlaceWhileAWriteOfItIsPending) {
  for (PageId id = 0; id < 4; ++id) Put(id, static_cast<uint8_t>(id));
  MountBacking backing(fd_, kPage, ro_);
  ASSERT_NE(nullptr, backing.MappedPage(1));
  backing.Store(1, Page(42).data());
  EXPECT_EQ(nullptr, backing.MappedPage(1));  // the mapping's bytes are older
  EXPECT_NE(nullptr, backing.MappedPage(2));
  backing.Flush();
  const uint8_t* p = backing.MappedPage(1);
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(42, p[0]);
  MountBacking unmapped(fd_, kPage);
  EXPECT_EQ(nullptr, unmapped.MappedPage(1));
}

TEST_F(MountMappingTest, TheBackingLoadsThroughTheMappingAndFallsBackToPread) {
  for (PageId id = 0; id < 4; ++id) Put(id, static_cast<uint8_t>(id));
  MountBacking backing(fd_, kPage, ro_);
  std::vector<uint8_t> buf(kPage);
  backing.Load(3, buf.data());
  EXPECT_EQ(Page(3), buf);
  ASSERT_EQ(0, ::ftruncate(fd_, 2 * kPage));
  backing.Load(3, buf.data());  // the mapping faults; pread reads past the end: zeros
  EXPECT_EQ(Page(0), buf);
  backing.Store(1, Page(42).data());  // pending, not on the file yet
  backing.Load(1, buf.data());
  EXPECT_EQ(Page(42), buf);
  backing.Flush();
  MountMapping fresh(ro_, kPage);
  EXPECT_EQ(Page(42), Copy(fresh, 1));
}

}  // namespace
}  // namespace pagefs
