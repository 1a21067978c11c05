// MountedSpace against a FakeMount (testing/fake_mount.h): the client side of
// the mount protocol, its writer role, allocation batches, frees, commits,
// and a reader that follows new commits, without a daemon.
#include "pager/space/mounted_space.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/fake_mount.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"
#include "pager/util/read_only_op.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

class MountedSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = std::make_unique<FakeMount>(root_, kPage);
    mount_->AddPrefix("p");
  }

  std::unique_ptr<MountedSpace> Open(bool read_only, uint64_t cache = 1 << 20) {
    return std::make_unique<MountedSpace>(*mount_, mount_->dir("p"), "prefix 'p'", cache,
                                          read_only);
  }
  // The bytes of page id in the mount's data file.
  std::vector<uint8_t> DataPage(PageId id) {
    std::vector<uint8_t> buf(kPage, 0xEE);
    const int fd = ::open((mount_->dir("p") + "/data").c_str(), O_RDONLY | O_CLOEXEC);
    const ssize_t n = ::pread(fd, buf.data(), kPage, static_cast<off_t>(id * kPage));
    ::close(fd);
    if (n < static_cast<ssize_t>(kPage))
      std::memset(buf.data() + std::max<ssize_t>(n, 0), 0, kPage - std::max<ssize_t>(n, 0));
    return buf;
  }

  TempFolder folder_{"mounted-space"};
  const fs::path& root_ = folder_.path();
  std::unique_ptr<FakeMount> mount_;  // goes before its folder
};

TEST_F(MountedSpaceTest, AWriterTakesTheRoleAndASecondIsRefusedNamingTheHolder) {
  auto writer = Open(false);
  EXPECT_EQ(kPage, writer->page_size());
  EXPECT_FALSE(writer->read_only());
  std::string message;
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { Open(false); }, &message));
  EXPECT_NE(message.find(DescribeMountWriter(::getpid())), std::string::npos) << message;
  EXPECT_NE(message.find("prefix 'p'"), std::string::npos) << message;
  writer.reset();  // closing data gives the role back
  EXPECT_NO_THROW(Open(false));
}

TEST_F(MountedSpaceTest, ClosingGivesTheRoleBackEvenWhileACopyOfItsFileLives) {
  // A dup (or a forked child's copy) keeps the open file, so the kernel would
  // send no RELEASE: the closing writer asks for the release itself.
  auto writer = Open(false);
  int copy = -1;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) == fs::path(mount_->dir("p")) / "data") {
      copy = ::dup(std::stoi(entry.path().filename().string()));
      break;
    }
  }
  ASSERT_GE(copy, 0);
  writer.reset();
  EXPECT_EQ(1, mount_->requests(kIoctlReleaseWriter));
  EXPECT_NO_THROW(Open(false));
  ::close(copy);
  auto reader = Open(true);
  reader.reset();
  // The second writer's release; a reader holds no role to give back.
  EXPECT_EQ(2, mount_->requests(kIoctlReleaseWriter));
}

TEST_F(MountedSpaceTest, IdsComeInBatchesLowestFirstAndCommitSendsPagesAndAnchors) {
  auto space = Open(false);
  std::vector<PageId> ids;
  for (int i = 0; i < 3; ++i) {
    PageGuard g = space->Allocate();
    std::memset(g.mutable_data(), 'a' + i, kPage);
    ids.push_back(g.id());
  }
  EXPECT_EQ((std::vector<PageId>{1, 2, 3}), ids);
  EXPECT_EQ(1, mount_->requests(kIoctlAllocate));  // one batch of kAllocBatch
  EXPECT_EQ(1 + kAllocBatch, space->page_count());
  space->set_anchors({2, 3});
  space->Commit();
  EXPECT_EQ(1u, mount_->epoch("p"));
  EXPECT_EQ(1u, space->epoch());
  EXPECT_EQ((Anchors{2, 3}), mount_->anchors("p"));
  EXPECT_EQ(std::vector<uint8_t>(kPage, 'b'), DataPage(2));
  {
    PageGuard g = space->Write(2);
    g.mutable_data()[0] = 'z';
  }
  space->Flush();  // written to data without a commit
  EXPECT_EQ('z', DataPage(2)[0]);
  EXPECT_EQ(1u, mount_->epoch("p"));
  // Another writer after this one takes the committed anchors with the role.
  space.reset();
  EXPECT_EQ((Anchors{2, 3}), Open(false)->anchors());
}

TEST_F(MountedSpaceTest, AFreePunchesThePageAndUnusedIdsAreGivenBack) {
  auto space = Open(false);
  PageId a, b;
  {
    PageGuard g = space->Allocate();
    std::memset(g.mutable_data(), 'x', kPage);
    a = g.id();
  }
  {
    PageGuard g = space->Allocate();
    std::memset(g.mutable_data(), 'y', kPage);
    b = g.id();
  }
  // The spare ids of the batch go back at the commit (none is in it): each
  // is punched, none handed out again.
  const int fd = ::open((mount_->dir("p") + "/data").c_str(), O_RDWR | O_CLOEXEC);
  std::vector<uint8_t> junk(kPage, 'j');
  ASSERT_EQ(static_cast<ssize_t>(kPage), ::pwrite(fd, junk.data(), kPage, 10 * kPage));
  ::close(fd);
  space->Commit();
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), DataPage(10));
  ASSERT_EQ(std::vector<uint8_t>(kPage, 'x'), DataPage(a));
  space->Free(a);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), DataPage(a));
  EXPECT_EQ(std::vector<uint8_t>(kPage, 'y'), DataPage(b));
  EXPECT_EQ(1 + kAllocBatch, space->Allocate().id());  // a new batch
}

TEST_F(MountedSpaceTest, AReaderShowsOneCommitUntilItFollowsTheNewest) {
  auto writer = Open(false);
  PageId id;
  {
    PageGuard g = writer->Allocate();
    std::memset(g.mutable_data(), 1, kPage);
    id = g.id();
  }
  writer->set_anchors({id, 0});
  writer->Commit();
  auto reader = Open(true);
  EXPECT_TRUE(reader->read_only());
  EXPECT_EQ(1u, reader->epoch());
  EXPECT_EQ((Anchors{id, 0}), reader->anchors());
  EXPECT_EQ(1, reader->Read(id).data()[0]);
  EXPECT_FALSE(reader->NewerCommit(/*force=*/true));
  {
    PageGuard g = writer->Write(id);
    std::memset(g.mutable_data(), 2, kPage);
  }
  writer->set_anchors({id, id});
  writer->Commit();
  EXPECT_EQ(1, reader->Read(id).data()[0]);  // its commit, cached or not
  EXPECT_TRUE(reader->NewerCommit(/*force=*/true));
  reader->FollowCommit();
  EXPECT_EQ(2u, reader->epoch());
  EXPECT_EQ((Anchors{id, id}), reader->anchors());
  EXPECT_EQ(2, reader->Read(id).data()[0]);
  EXPECT_FALSE(reader->NewerCommit(/*force=*/true));
}

TEST_F(MountedSpaceTest, AReaderRefusesEveryWrite) {
  auto reader = Open(true);
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { reader->Allocate(); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { reader->Write(1); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { reader->Free(1); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { reader->set_anchors({1, 0}); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { reader->Commit(); }));
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { reader->Read(kNoPage); }));
  EXPECT_EQ(0, mount_->requests(kIoctlClaimWriter));
}

TEST_F(MountedSpaceTest, AFailedCommitFailsTheSpaceUntilReopened) {
  auto space = Open(false);
  space->Allocate();
  mount_->FailNext(kIoctlCommit, EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { space->Commit(); }));
  EXPECT_TRUE(space->failed());
  EXPECT_EQ(ErrorCode::kFailed, CodeOf([&] { space->Allocate(); }));
  EXPECT_EQ(ErrorCode::kFailed, CodeOf([&] { space->Commit(); }));
  EXPECT_EQ(0u, mount_->epoch("p"));
}

TEST_F(MountedSpaceTest, ARefusedOrDamagedAnswerIsReportedAndNothingIsKept) {
  mount_->FailNext(kIoctlClaimWriter, EROFS);
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { Open(false); }));
  mount_->FailNext(kIoctlClaimWriter, EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { Open(false); }));
  mount_->set_reported_page_size(1000);
  std::string message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Open(false); }, &message));
  EXPECT_NE(message.find("1000"), std::string::npos) << message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Open(true); }));
  mount_->set_reported_page_size(0);
  EXPECT_NO_THROW(Open(false));  // no failed open kept the role
}

TEST_F(MountedSpaceTest, TheLocalCacheTakesAtMostItsShareOfTheBudget) {
  auto space = Open(false, 1ull << 30);
  EXPECT_EQ(kMountedCacheMax, space->pool_stats().budget);
  space->set_cache_size(2 << 20);
  EXPECT_EQ(2u << 20, space->pool_stats().budget);
  space->set_cache_size(1ull << 30);
  EXPECT_EQ(kMountedCacheMax, space->pool_stats().budget);
}

TEST_F(MountedSpaceTest, AMappedReaderTakesPagesInPlaceCopyingNone) {
  PageId a, b;
  {
    auto writer = Open(false);
    PageGuard ga = writer->Allocate();
    PageGuard gb = writer->Allocate();
    std::memset(ga.mutable_data(), 7, kPage);
    std::memset(gb.mutable_data(), 8, kPage);
    a = ga.id();
    b = gb.id();
    ga.Release();
    gb.Release();
    writer->Commit();
  }
  auto reader = Open(true);
  const uint8_t* first = nullptr;
  for (int round = 0; round < 3; ++round) {
    PageGuard ga = reader->Read(a);
    PageGuard gb = reader->Read(b);
    EXPECT_EQ(std::vector<uint8_t>(kPage, 7), std::vector<uint8_t>(ga.data(), ga.data() + kPage));
    EXPECT_EQ(8, gb.data()[kPage - 1]);
    if (first == nullptr) first = ga.data();
    EXPECT_EQ(first, ga.data());  // the same bytes each time: the mapping's
    EXPECT_EQ(first + (b - a) * kPage, gb.data());
  }
  const PoolStats pool = reader->pool_stats();
  EXPECT_EQ(0u, pool.hits + pool.misses);  // the cache was never asked
  // A page the file does not hold goes through the cache (pread: zeros).
  EXPECT_EQ(0, reader->Read(b + 100).data()[0]);
  EXPECT_EQ(1u, reader->pool_stats().misses);
}

TEST_F(MountedSpaceTest, AReaderThatMustNotWaitTakesInPlaceOnlyPagesItFaultedInBefore) {
  PageId a, b;
  {
    auto writer = Open(false);
    a = writer->Allocate().id();
    b = writer->Allocate().id();
    writer->Commit();
  }
  auto reader = Open(true);
  const uint8_t* in_place = reader->Read(a).data();
  NoWaitScope no_wait;
  EXPECT_EQ(in_place, reader->Read(a).data());
  // b's first touch may be a FUSE request: the cache refuses it instead.
  EXPECT_THROW(reader->Read(b), WouldWait);
}

// WhereResident, a prefetch hint: a reader names a page in place only once
// it faulted it in (a prefetch cannot fault), the writer its cache's frames.
TEST_F(MountedSpaceTest, WhereResidentNamesOnlyPagesAlreadyInMemory) {
  PageId a, b;
  {
    auto writer = Open(false);
    a = writer->Allocate().id();
    b = writer->Allocate().id();
    writer->Commit();
    const PageGuard ga = writer->Write(a);
    EXPECT_EQ(ga.data(), writer->WhereResident(a)) << "the writer's cached frame";
  }
  auto reader = Open(true);
  EXPECT_EQ(nullptr, reader->WhereResident(a)) << "never faulted in";
  const uint8_t* in_place = reader->Read(a).data();
  EXPECT_EQ(in_place, reader->WhereResident(a));
  EXPECT_EQ(nullptr, reader->WhereResident(b));
}

// The writer inside an operation that changes nothing: what it has not
// changed comes in place from its mapping of data; what it changed, from its
// cache while dirty, from its pending write-back, and then from the mapping
// again, new. A change inside such an operation is refused.
TEST_F(MountedSpaceTest, AWriterReadsUnchangedPagesInPlaceAndItsOwnChangesNew) {
  auto writer = Open(false, 64 * kPage);  // a small cache: changes are evicted
  std::vector<PageId> ids;
  for (int i = 0; i < 300; ++i) {
    PageGuard g = writer->Allocate();
    std::memset(g.mutable_data(), 1, kPage);
    ids.push_back(g.id());
  }
  writer->Commit();
  auto read_in_scope = [&](PageId id) {
    ReadOnlyOpScope reading;
    PageGuard g = writer->Read(id);
    return std::pair{g.data()[kPage - 1], g.data()};
  };
  const PoolStats before = writer->pool_stats();
  const uint8_t* first = read_in_scope(ids[0]).second;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto [byte, where] = read_in_scope(ids[i]);
    EXPECT_EQ(1, byte) << ids[i];
    if (i < 200) EXPECT_EQ(first + (ids[i] - ids[0]) * kPage, where) << "in place: " << ids[i];
  }
  EXPECT_GT(writer->pool_stats().hits, before.hits) << "the pages still cached come from there";
  EXPECT_EQ(before.misses, writer->pool_stats().misses) << "and none is loaded";
  for (uint8_t round = 2; round < 5; ++round) {
    for (PageId id : ids) {
      PageGuard g = writer->Write(id);
      std::memset(g.mutable_data(), round, kPage);
    }
    // Some dirty in the cache, some pending here, most written back.
    for (PageId id : ids) EXPECT_EQ(round, read_in_scope(id).first) << id;
    if (round == 3) writer->Commit();
  }
  ReadOnlyOpScope reading;
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { writer->Write(ids[0]); }));
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { writer->Allocate(); }));
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { writer->Free(ids[0]); }));
}

TEST_F(MountedSpaceTest, AMappedReadersCacheIsSmallerItCopiesFromTheMapping) {
  {
    auto writer = Open(false);
    writer->Allocate().mutable_data()[0] = 7;
    writer->Commit();
  }
  auto reader = Open(true, 1ull << 30);
  EXPECT_EQ(kMountedReaderCacheMax, reader->pool_stats().budget);
  reader->set_cache_size(1ull << 30);
  EXPECT_EQ(kMountedReaderCacheMax, reader->pool_stats().budget);
  reader->set_cache_size(1 << 20);
  EXPECT_EQ(1u << 20, reader->pool_stats().budget);
}

}  // namespace
}  // namespace pagefs
