// Env: everything a Store asks of the operating system to open a prefix,
// behind one interface (as LevelDB's Env): the folders, the tier and its
// commit root, the writer lock, the reader table, whether a root is a pagefs
// mount, and the requests a client sends to that mount. PosixEnv
// (posix_env.h) is the default; EnvWrapper (env_wrapper.h) forwards every
// call, so a test overrides only the one that should fail (a lock held
// elsewhere, EACCES from mkdir, ENOSPC making the tier), and an object store
// brings its own tier, commit root and lock (a lease) the same way.
//
// Failures throw pagefs::Error, with the condition's code (kIo/kNoSpace with
// the errno, kBusy, kCorruption) and a message that names the path.
//
// Thread safety: an Env may serve several stores on many threads at once; it
// must outlive every store opened with it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pager/tier/tier.h"
#include "pager/volume/commit_root.h"
#include "pager/volume/reader_table.h"

namespace pagefs {

// The writer role of one prefix, held until the object is destroyed. In a
// process forked while it is held, destroying it releases nothing (the
// parent still holds the role).
class WriterLock {
 public:
  virtual ~WriterLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The PosixEnv every store uses unless its options name another; it lives
  // as long as the process.
  static Env& Default();

  // Makes the folder path and any missing parents (mode 0755).
  virtual void CreateFolders(const std::string& path) = 0;
  // Makes the folder path, whose parent exists, with mode; one that exists
  // already is fine. what is the error's message ("create store folder P").
  virtual void CreateFolder(const std::string& path, uint32_t mode, const std::string& what) = 0;
  virtual bool IsFolder(const std::string& path) = 0;
  // Whether path is the top of a pagefs mount: a Store there works through
  // the mount's files (MountedSpace) instead of a tier of its own. Throws
  // rather than guess when it cannot tell (a mount whose answer fails).
  virtual bool IsPagefsMount(const std::string& path) = 0;

  // The page size of the store in dir, read from whichever superblock copy
  // is intact; 0 when dir holds no store yet. Throws Error(kCorruption) for a
  // store with data but no valid superblock (describe names it), and
  // whatever the tier's own look at the folder finds wrong; for_writer also
  // refuses a folder a writer must not format. Reads only: nothing is
  // written, so a damaged folder is refused before anything is made in it.
  virtual uint32_t ProbePageSize(const std::string& dir, const std::string& describe,
                                 bool for_writer) = 0;
  // The tier of the store in dir, with slots of page_size bytes.
  virtual std::unique_ptr<Tier> OpenTier(const std::string& dir, uint32_t page_size,
                                         bool read_only) = 0;
  // Where the volume on tier (which it must not outlive) finds and publishes
  // its commits.
  virtual std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string& dir, Tier& tier) = 0;

  // Takes the writer role of the store in dir: Error(kBusy) naming the
  // holder (describe names the prefix) while another writer has it.
  virtual std::unique_ptr<WriterLock> LockWriter(const std::string& dir,
                                                 const std::string& describe) = 0;
  // The table of who reads which commit of dir (ReaderTable::Open's contract:
  // nullptr for a reader that cannot register).
  virtual std::unique_ptr<ReaderTable> OpenReaderTable(const std::string& dir, bool writable) = 0;

  // Sends one request of the mount protocol (pager/space/mount_protocol.h)
  // on fd, a descriptor of a mount's file: as ioctl(2), 0 on success, -1 with
  // errno set on failure.
  virtual int MountRequest(int fd, unsigned request, void* arg) = 0;
};

}  // namespace pagefs
