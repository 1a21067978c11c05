// PosixEnv: folders, the page-size probe, the flock writer lock and its
// holder's name, and what is not a pagefs mount.
#include "pager/env/posix_env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "pager/space/mount_protocol.h"
#include "pager/testing/error_code.h"
#include "pager/testing/forked_child.h"
#include "pager/testing/temp_folder.h"
#include "pager/tier/segment_tier.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

class PosixEnvTest : public ::testing::Test {
 protected:
  TempFolder folder_{"env"};
  const fs::path& dir_ = folder_.path();
  PosixEnv env_;
};

TEST_F(PosixEnvTest, TheDefaultEnvIsOnePosixEnv) {
  EXPECT_EQ(&Env::Default(), &Env::Default());
  EXPECT_NE(nullptr, dynamic_cast<PosixEnv*>(&Env::Default()));
}

TEST_F(PosixEnvTest, FoldersAreMadeWithTheirModeAndAnExistingOneIsFine) {
  env_.CreateFolders((dir_ / "a" / "b").string());
  EXPECT_TRUE(env_.IsFolder((dir_ / "a" / "b").string()));
  const std::string p = (dir_ / "a" / "b" / "p").string();
  env_.CreateFolder(p, 0700, "create " + p);
  EXPECT_NO_THROW(env_.CreateFolder(p, 0700, "create " + p));
  EXPECT_EQ(fs::perms::owner_all, fs::status(p).permissions() & fs::perms::all);
  std::string message;
  const std::string missing = (dir_ / "none" / "p").string();
  EXPECT_EQ(ErrorCode::kIo,
            CodeOf([&] { env_.CreateFolder(missing, 0700, "create it " + missing); }, &message));
  EXPECT_EQ("create it " + missing, message.substr(0, ("create it " + missing).size()));
  std::ofstream((dir_ / "file").string()) << "x";
  EXPECT_FALSE(env_.IsFolder((dir_ / "file").string()));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { env_.CreateFolders((dir_ / "file" / "sub").string()); }));
}

TEST_F(PosixEnvTest, TheProbeFindsThePageSizeOnDiskOrNoneAndWritesNothing) {
  fs::create_directories(dir_);
  EXPECT_EQ(0u, env_.ProbePageSize(dir_.string(), "prefix 'p'", true));
  EXPECT_TRUE(fs::is_empty(dir_));
  {
    auto tier = env_.OpenTier(dir_.string(), 16384, false);
    auto root = env_.OpenCommitRoot(dir_.string(), *tier);
    VolumeOptions o;
    o.page_size = 16384;
    o.commit_root = root.get();
    Volume v(*tier, "prefix 'p'", o);
  }
  EXPECT_EQ(16384u, env_.ProbePageSize(dir_.string(), "prefix 'p'", true));
  // Both superblocks damaged: the folder is refused, naming the prefix.
  {
    std::fstream seg(dir_ / SegmentTier::SegmentFileName(0),
                     std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff off : {0, 2048, 16384, 16384 + 2048}) {
      seg.seekp(off + 20);
      seg.put('\x5a');
    }
  }
  std::string message;
  EXPECT_EQ(ErrorCode::kCorruption,
            CodeOf([&] { env_.ProbePageSize(dir_.string(), "prefix 'p'", false); }, &message));
  EXPECT_NE(message.find("prefix 'p'"), std::string::npos) << message;
}

TEST_F(PosixEnvTest, TheWriterLockIsExclusiveNamesItsHolderAndGoesWithTheObject) {
  fs::create_directories(dir_);
  auto lock = env_.LockWriter(dir_.string(), "prefix 'p'");
  std::string message;
  EXPECT_EQ(ErrorCode::kBusy,
            CodeOf([&] { env_.LockWriter(dir_.string(), "prefix 'p'"); }, &message));
  EXPECT_EQ("prefix 'p' is open for writing by process " + std::to_string(::getpid()), message);
  lock.reset();
  EXPECT_NO_THROW(env_.LockWriter(dir_.string(), "prefix 'p'"));
  EXPECT_EQ(ErrorCode::kIo,
            CodeOf([&] { env_.LockWriter((dir_ / "none").string(), "prefix 'none'"); }));
}

TEST_F(PosixEnvTest, AForkedChildsCopyOfTheLockReleasesNothing) {
  fs::create_directories(dir_);
  auto lock = env_.LockWriter(dir_.string(), "prefix 'p'");
  EXPECT_EQ(0, InForkedChild([&] {
              // The fork closed the child's copy of the lock's descriptor, so a new
              // file takes its number; the child's lock object must not close that.
              const int other = ::open("/dev/null", O_RDONLY);
              lock.reset();
              if (::fcntl(other, F_GETFD) == -1) return 3;
              PosixEnv env;
              try {
                env.LockWriter(dir_.string(), "prefix 'p'");
                return 1;
              } catch (const Error& e) {
                return e.code() == ErrorCode::kBusy ? 0 : 2;
              }
            }));
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { env_.LockWriter(dir_.string(), "prefix 'p'"); }));
}

TEST_F(PosixEnvTest, ALocalFolderIsNoMountAndTakesNoMountRequests) {
  fs::create_directories(dir_);
  EXPECT_FALSE(env_.IsPagefsMount(dir_.string()));
  EXPECT_FALSE(IsPagefsMount((dir_ / "none").string()));
  std::ofstream((dir_ / "data").string()) << "x";
  const int fd = ::open((dir_ / "data").c_str(), O_RDONLY | O_CLOEXEC);
  uint8_t arg[64] = {};
  errno = 0;
  EXPECT_EQ(-1, env_.MountRequest(fd, kIoctlSpaceInfo, arg));
  EXPECT_EQ(ENOTTY, errno);
  ::close(fd);
}

TEST_F(PosixEnvTest, TheReaderTableIsTheFolders) {
  fs::create_directories(dir_);
  auto table = env_.OpenReaderTable(dir_.string(), true);
  ASSERT_NE(nullptr, table);
  EXPECT_TRUE(fs::exists(dir_ / ReaderTable::kFileName));
}

}  // namespace
}  // namespace pagefs
