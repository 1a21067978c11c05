// EnvWrapper: an Env that forwards every call to another (as LevelDB's
// EnvWrapper), so an Env that changes a few calls (a test's faults, another
// home for the tier) derives from it and overrides only those.
#pragma once

#include "pager/env/env.h"

namespace pagefs {

class EnvWrapper : public Env {
 public:
  // target must outlive the wrapper.
  explicit EnvWrapper(Env& target) : target_(target) {}

  Env& target() const { return target_; }

  void CreateFolders(const std::string& path) override { target_.CreateFolders(path); }
  void CreateFolder(const std::string& path, uint32_t mode, const std::string& what) override {
    target_.CreateFolder(path, mode, what);
  }
  bool IsFolder(const std::string& path) override { return target_.IsFolder(path); }
  bool IsPagefsMount(const std::string& path) override { return target_.IsPagefsMount(path); }
  uint32_t ProbePageSize(const std::string& dir, const std::string& describe,
                         bool for_writer) override {
    return target_.ProbePageSize(dir, describe, for_writer);
  }
  std::unique_ptr<Tier> OpenTier(const std::string& dir, uint32_t page_size,
                                 bool read_only) override {
    return target_.OpenTier(dir, page_size, read_only);
  }
  std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string& dir, Tier& tier) override {
    return target_.OpenCommitRoot(dir, tier);
  }
  std::unique_ptr<WriterLock> LockWriter(const std::string& dir,
                                         const std::string& describe) override {
    return target_.LockWriter(dir, describe);
  }
  std::unique_ptr<ReaderTable> OpenReaderTable(const std::string& dir, bool writable) override {
    return target_.OpenReaderTable(dir, writable);
  }
  int MountRequest(int fd, unsigned request, void* arg) override {
    return target_.MountRequest(fd, request, arg);
  }

 private:
  Env& target_;
};

}  // namespace pagefs
