// FakeMount: an Env whose root folder stands in for a pagefs mount, so a
// store or a MountedSpace runs its mount protocol without a daemon.
// IsPagefsMount is true for the root; a mkdir of ROOT/PREFIX makes a prefix
// as the daemon's does; the protocol's requests (Env::MountRequest, which a
// client sends as ioctls) are answered here over regular files laid out as
// the daemon serves them (pager/space/mount_protocol.h, docs/mount.md):
//
//   PREFIX/data       page id at id * page_size (the client's preads,
//                     pwrites and hole punches go to the file itself)
//   PREFIX/committed  the last commit: the CommittedHeader in page 0, then
//                     its pages. Each commit writes a new file and renames
//                     it over, so a file a reader holds open keeps its
//                     commit; the header's latest_epoch is kept current in
//                     all of them, as the daemon answers it at each read.
//
// The writer role is an OFD lock on data taken by the claiming open file, so
// it ends at kIoctlReleaseWriter or when that file closes, as the daemon's
// does. Not imitated: the daemon's checksums, its rollback of a writer that
// closes without committing, ESTALE.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pager/env/env_wrapper.h"
#include "pager/space/mount_protocol.h"

namespace pagefs {

class FakeMount : public EnvWrapper {
 public:
  // root is made if missing.
  explicit FakeMount(const std::filesystem::path& root, uint32_t page_size = 4096)
      : EnvWrapper(Env::Default()), page_size_(page_size) {
    std::filesystem::create_directories(root);
    root_ = std::filesystem::canonical(root).string();
  }
  ~FakeMount() override {
    for (auto& [dir, p] : prefixes_) {
      for (int fd : p.committed_fds) ::close(fd);
    }
  }
  FakeMount(const FakeMount&) = delete;
  FakeMount& operator=(const FakeMount&) = delete;

  const std::string& root() const { return root_; }
  std::string dir(const std::string& prefix) const { return root_ + "/" + prefix; }

  // Makes ROOT/PREFIX with an empty store (epoch 0), as the daemon on mkdir.
  void AddPrefix(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    Add(dir(prefix));
  }
  // The next request of this kind fails with err (the daemon's errno).
  void FailNext(unsigned request, int err) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_[request] = err;
  }
  // The page size the space record names (a damaged answer).
  void set_reported_page_size(uint64_t bytes) { reported_page_size_ = bytes; }
  uint64_t epoch(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    return prefixes_.at(dir(prefix)).epoch;
  }
  Anchors anchors(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    return prefixes_.at(dir(prefix)).anchors;
  }
  int requests(unsigned request) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[request];
  }

  bool IsPagefsMount(const std::string& path) override {
    std::error_code ec;
    return std::filesystem::weakly_canonical(path, ec).string() == root_;
  }
  void CreateFolder(const std::string& path, uint32_t mode, const std::string& what) override {
    const std::filesystem::path p = std::filesystem::weakly_canonical(path);
    if (p.parent_path().string() != root_) return EnvWrapper::CreateFolder(path, mode, what);
    std::lock_guard<std::mutex> lock(mu_);
    if (prefixes_.count(p.string()) == 0) Add(p.string());
  }

  int MountRequest(int fd, unsigned request, void* arg) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[request];
    if (auto it = fail_next_.find(request); it != fail_next_.end()) {
      errno = it->second;
      fail_next_.erase(it);
      return -1;
    }
    const std::string path = PathOf(fd);
    auto it = prefixes_.find(std::filesystem::path(path).parent_path().string());
    if (it == prefixes_.end()) return Fail(ENOTTY);
    Prefix& p = it->second;
    const bool on_data = std::filesystem::path(path).filename() == "data";
    switch (request) {
      case kIoctlSpaceInfo: {
        SpaceInfo info{reported_page_size_ != 0 ? reported_page_size_ : page_size_, p.epoch,
                       p.page_count, WriterHeld(it->first) ? static_cast<uint64_t>(::getpid()) : 0};
        EncodeSpaceInfo(info, static_cast<SpaceInfoArg*>(arg)->bytes);
        return 0;
      }
      case kIoctlClaimWriter: {
        if (!on_data) return Fail(EBADF);
        struct flock fl = WholeFile(F_WRLCK);
        if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) return Fail(EBUSY);
        EncodeAnchors(p.anchors, static_cast<AnchorsArg*>(arg)->bytes);
        return 0;
      }
      case kIoctlReleaseWriter: {
        if (!on_data) return Fail(EBADF);
        struct flock fl = WholeFile(F_UNLCK);
        return ::fcntl(fd, F_OFD_SETLK, &fl);
      }
      case kIoctlAllocate: {
        if (!on_data) return Fail(EBADF);
        auto* batch = static_cast<AllocArg*>(arg);
        for (size_t i = 0; i < kAllocBatch; ++i) PutLe64(batch->ids + 8 * i, p.page_count++);
        if (::ftruncate(fd, static_cast<off_t>(p.page_count * page_size_)) != 0) return -1;
        return 0;
      }
      case kIoctlCommit: {
        if (!on_data) return Fail(EBADF);
        p.anchors = DecodeAnchors(static_cast<AnchorsArg*>(arg)->bytes);
        ++p.epoch;
        Publish(it->first, p);
        return 0;
      }
    }
    return Fail(ENOTTY);
  }

 private:
  struct Prefix {
    uint64_t epoch = 0;
    Anchors anchors;
    uint64_t page_count = 1;         // page 0 is no page
    std::vector<int> committed_fds;  // every commit's file, for latest_epoch
  };

  static int Fail(int err) {
    errno = err;
    return -1;
  }
  static struct flock WholeFile(short type) {
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    return fl;
  }
  static std::string PathOf(int fd) {
    char buf[PATH_MAX];
    const ssize_t n =
        ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
    std::string path(buf, n > 0 ? static_cast<size_t>(n) : 0);
    const std::string deleted = " (deleted)";  // a commit replaced by a newer one
    if (path.ends_with(deleted)) path.resize(path.size() - deleted.size());
    return path;
  }
  // Whether an open file holds the writer role of d's data: its OFD lock
  // shows to another open file.
  static bool WriterHeld(const std::string& d) {
    const int fd = ::open((d + "/data").c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock fl = WholeFile(F_WRLCK);
    const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    ::close(fd);
    return held;
  }

  void Add(const std::string& d) {
    std::filesystem::create_directories(d);
    const int fd = ::open((d + "/data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      (void)::ftruncate(fd, page_size_);
      ::close(fd);
    }
    Publish(d, prefixes_[d]);
  }

  // Writes p's commit as a new PREFIX/committed.
  void Publish(const std::string& d, Prefix& p) {
    const std::string next = d + "/committed.next";
    const int out = ::open(next.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open((d + "/data").c_str(), O_RDONLY | O_CLOEXEC);
    std::vector<uint8_t> page(page_size_, 0);
    CommittedHeader h{p.epoch, p.anchors.root_map, p.anchors.orphan_head, p.page_count, p.epoch};
    EncodeCommittedHeader(h, page.data());
    (void)::pwrite(out, page.data(), page_size_, 0);
    for (uint64_t id = 1; id < p.page_count; ++id) {
      std::fill(page.begin(), page.end(), 0);
      (void)::pread(in, page.data(), page_size_, static_cast<off_t>(id * page_size_));
      (void)::pwrite(out, page.data(), page_size_, static_cast<off_t>(id * page_size_));
    }
    ::close(in);
    ::rename(next.c_str(), (d + "/committed").c_str());
    uint8_t latest[8];
    PutLe64(latest, p.epoch);
    for (int fd : p.committed_fds) (void)::pwrite(fd, latest, 8, 40);  // latest_epoch
    p.committed_fds.push_back(out);
  }

  std::string root_;
  const uint64_t page_size_;
  uint64_t reported_page_size_ = 0;
  std::mutex mu_;
  std::map<std::string, Prefix> prefixes_;
  std::map<unsigned, int> fail_next_;
  std::map<unsigned, int> counts_;
};

}  // namespace pagefs
