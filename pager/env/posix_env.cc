#include "pager/env/posix_env.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <vector>

#include "pager/tier/segment_tier.h"
#include "pager/util/error.h"
#include "pager/util/fork_guard.h"
#include "pager/volume/superblock.h"

namespace pagefs {

namespace {

constexpr long kFuseSuperMagic = 0x65735546;

// The probe reads with the smallest page size, so every superblock slot of
// every page size starts at one of its slots.
constexpr uint32_t kProbeSlot = 4096;

// An flock on PREFIX/LOCK, held while the descriptor is open.
class FileLock final : public WriterLock {
 public:
  explicit FileLock(int fd) : fd_(fd), fork_generation_(ForkGeneration()) {
    // A forked child must not keep the flock held once this process closes.
    CloseInChildren(fd_);
  }
  ~FileLock() override {
    // In a forked child the fork handler has closed this number already.
    if (fork_generation_ != ForkGeneration()) return;
    ForgetInChildren(fd_);
    // Unlocked first: a child forked a moment ago may not have run its fork
    // handler yet, and its copy of the descriptor would keep the flock held.
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  const int fd_;
  const uint64_t fork_generation_;
};

}  // namespace

Env& Env::Default() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: stores may outlive static destructors
  return *env;
}

bool IsPagefsMount(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0 || fs.f_type != kFuseSuperMagic) return false;
  // Another FUSE file system is not ours: the daemon's .stats says what it is.
  // A failed read of it says nothing, and guessing "a plain folder" would
  // open the store beside the daemon: retry for a while, then say so.
  int err = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt > 0) ::usleep(10000);
    int fd = ::open((path + "/.stats").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      err = errno;
      continue;
    }
    char head[256];
    ssize_t n = ::pread(fd, head, sizeof(head), 0);
    err = n < 0 ? errno : EIO;
    ::close(fd);
    if (n > 0) {
      return std::string(head, static_cast<size_t>(n)).find("\"fs\": \"pagefs\"") !=
             std::string::npos;
    }
  }
  throw Error::FromErrno(
      err, "read " + path + "/.stats (is the FUSE mount at " + path + " a healthy pagefs mount?)");
}

void PosixEnv::CreateFolders(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error::FromErrno(ec.value(), "create store root " + path);
}

void PosixEnv::CreateFolder(const std::string& path, uint32_t mode, const std::string& what) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
    throw Error::FromErrno(errno, what);
  }
}

bool PosixEnv::IsFolder(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool PosixEnv::IsPagefsMount(const std::string& path) { return pagefs::IsPagefsMount(path); }

uint32_t PosixEnv::ProbePageSize(const std::string& dir, const std::string& describe,
                                 bool for_writer) {
  SegmentTier probe(dir, kProbeSlot, kSegmentBytes / kProbeSlot, /*read_only=*/true, for_writer);
  if (probe.size() == 0) return 0;
  std::vector<uint8_t> buf(kProbeSlot);
  for (uint32_t size = 4096; size <= 65536; size *= 2) {
    for (SlotId superblock : {SlotId{0}, SlotId{1}}) {
      probe.Read(superblock * size / kProbeSlot, buf.data());
      std::optional<Superblock> sb = DecodeSuperblockSlot(buf.data());
      if (sb && sb->page_size == size) return size;
    }
  }
  throw Error(ErrorCode::kCorruption, "no valid superblock in " + describe + " (" + dir + "/" +
                                          SegmentTier::SegmentFileName(0) +
                                          "): the store is damaged (nothing was changed)");
}

std::unique_ptr<Tier> PosixEnv::OpenTier(const std::string& dir, uint32_t page_size,
                                         bool read_only) {
  return std::make_unique<SegmentTier>(dir, page_size,
                                       static_cast<uint32_t>(kSegmentBytes / page_size), read_only);
}

std::unique_ptr<CommitRoot> PosixEnv::OpenCommitRoot(const std::string& /*dir*/, Tier& tier) {
  return std::make_unique<SuperblockSlots>(tier);
}

std::unique_ptr<WriterLock> PosixEnv::LockWriter(const std::string& dir,
                                                 const std::string& describe) {
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw Error::FromErrno(errno, "open lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      throw Error(ErrorCode::kBusy, describe + " is open for writing by " + who);
    }
    throw Error::FromErrno(err, "lock " + path);
  }
  auto lock = std::make_unique<FileLock>(fd);
  const std::string me = "process " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock is held; the holder's name is only a courtesy for error messages.
  }
  return lock;
}

std::unique_ptr<ReaderTable> PosixEnv::OpenReaderTable(const std::string& dir, bool writable) {
  return ReaderTable::Open(dir, writable);
}

int PosixEnv::MountRequest(int fd, unsigned request, void* arg) {
  int rc;
  do {
    rc = ::ioctl(fd, request, arg);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

}  // namespace pagefs
