// FaultEnv: an EnvWrapper over the PosixEnv that records which Env calls a
// store makes, in order, and fails the ones a test names with the errno it
// names, as the operating system would (Error::FromErrno: kNoSpace for
// ENOSPC, kIo otherwise), before the real call runs, so a failed call
// changes nothing on disk.
#pragma once

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pager/env/env_wrapper.h"
#include "pager/util/error.h"

namespace pagefs {

class FaultEnv : public EnvWrapper {
 public:
  FaultEnv() : EnvWrapper(Env::Default()) {}

  // Every later call named call fails with err ("CreateFolder", "OpenTier",
  // "LockWriter", ...); Heal clears them all.
  void Fail(const std::string& call, int err) {
    std::lock_guard<std::mutex> lock(mu_);
    failing_[call] = err;
  }
  void Heal() {
    std::lock_guard<std::mutex> lock(mu_);
    failing_.clear();
  }
  // The calls made so far, by name, in order (failed ones included).
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int count(const std::string& call) const {
    int n = 0;
    for (const std::string& c : calls()) n += c == call;
    return n;
  }

  void CreateFolders(const std::string& path) override {
    Enter("CreateFolders", path);
    EnvWrapper::CreateFolders(path);
  }
  void CreateFolder(const std::string& path, uint32_t mode, const std::string& what) override {
    Enter("CreateFolder", what);
    EnvWrapper::CreateFolder(path, mode, what);
  }
  uint32_t ProbePageSize(const std::string& dir, const std::string& describe,
                         bool for_writer) override {
    Enter("ProbePageSize", dir);
    return EnvWrapper::ProbePageSize(dir, describe, for_writer);
  }
  std::unique_ptr<Tier> OpenTier(const std::string& dir, uint32_t page_size,
                                 bool read_only) override {
    Enter("OpenTier", "create the segments of " + dir);
    return EnvWrapper::OpenTier(dir, page_size, read_only);
  }
  std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string& dir, Tier& tier) override {
    Enter("OpenCommitRoot", dir);
    return EnvWrapper::OpenCommitRoot(dir, tier);
  }
  std::unique_ptr<WriterLock> LockWriter(const std::string& dir,
                                         const std::string& describe) override {
    Enter("LockWriter", "lock " + dir + "/LOCK");
    return EnvWrapper::LockWriter(dir, describe);
  }
  std::unique_ptr<ReaderTable> OpenReaderTable(const std::string& dir, bool writable) override {
    Enter("OpenReaderTable", "open " + dir + "/readers");
    return EnvWrapper::OpenReaderTable(dir, writable);
  }

 private:
  void Enter(const std::string& call, const std::string& what) {
    int err = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call);
      auto it = failing_.find(call);
      if (it != failing_.end()) err = it->second;
    }
    if (err != 0) throw Error::FromErrno(err, what);
  }

  mutable std::mutex mu_;
  std::map<std::string, int> failing_;
  std::vector<std::string> calls_;
};

}  // namespace pagefs
