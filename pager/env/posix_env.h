// PosixEnv: the Env of a store in a local folder. The tier is a SegmentTier
// of kSegmentBytes files; commits are published in its superblock slots 0
// and 1; the writer lock is an flock on PREFIX/LOCK, which holds the
// holder's pid for the busy error; the reader table is PREFIX/readers; a
// pagefs mount is told by statfs (FUSE) and the daemon's ROOT/.stats.
#pragma once

#include <cstdint>
#include <string>

#include "pager/env/env.h"

namespace pagefs {

// Bytes of one segment file: slots per segment = kSegmentBytes / page_size.
inline constexpr uint64_t kSegmentBytes = 64ull << 20;

// Whether path is the top of a pagefs mount (FUSE, with a .stats naming pagefs).
// Throws when path is a FUSE mount whose .stats cannot be read for a second:
// never a guess that would open a store beside its daemon.
bool IsPagefsMount(const std::string& path);

class PosixEnv final : public Env {
 public:
  void CreateFolders(const std::string& path) override;
  void CreateFolder(const std::string& path, uint32_t mode, const std::string& what) override;
  bool IsFolder(const std::string& path) override;
  bool IsPagefsMount(const std::string& path) override;
  uint32_t ProbePageSize(const std::string& dir, const std::string& describe,
                         bool for_writer) override;
  std::unique_ptr<Tier> OpenTier(const std::string& dir, uint32_t page_size,
                                 bool read_only) override;
  std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string& dir, Tier& tier) override;
  // Throws Error(kIo) when PREFIX/LOCK cannot be opened or locked.
  std::unique_ptr<WriterLock> LockWriter(const std::string& dir,
                                         const std::string& describe) override;
  std::unique_ptr<ReaderTable> OpenReaderTable(const std::string& dir, bool writable) override;
  // ioctl(2), retried on EINTR.
  int MountRequest(int fd, unsigned request, void* arg) override;
};

}  // namespace pagefs
