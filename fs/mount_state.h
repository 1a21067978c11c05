// Mount: the state behind the view. One PrefixView per prefix folder of the
// root, each an open Store (holding the prefix's writer lock unless the mount
// is read-only). The FUSE handlers (ops_*.cc) are stateless translators over
// this.
//
// Budget: the user's cache_size is the daemon's total, for its own frames
// and for what the kernel may cache of the mount's files (kernel_cache.h)
// together. The kernel may take up to kKernelShare of it; the pools get the
// rest of the budget, never less than the remainder: max(budget / 4, budget -
// kernel bytes), re-set in steps as the kernel's part moves (the pages the
// kernel now serves are the ones the pools' CLOCK drops, so a page is rarely
// held twice). It is split evenly among the prefixes, each Store's
// BufferPool enforcing its share (at least the pool's minimum of 16 pages).
// .control's cache_size=... re-splits at once.
//
// Prefixes: those of the root at start, plus any made by mkdir on the mount
// (AddPrefix). The list only grows, into storage reserved up front, so a
// PrefixView* stays valid for the mount's lifetime and readers take no lock.
//
// Thread safety: every method may be called from any FUSE worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fs/inodes.h"
#include "fs/kernel_cache.h"
#include "fs/notifier.h"
#include "fs/options.h"
#include "pager/space/flat_view.h"
#include "pager/space/page_space.h"
#include "pager/store.h"
#include "pager/util/mutex.h"

namespace pagefs::fs {

struct PrefixView {
  std::string name;
  uint32_t index = 0;  // in the mount's list (its inode numbers)
  std::shared_ptr<Store> store;
  uint32_t page_size = 0;
  // data and pages/ (its changed_ns() is their mtime).
  std::unique_ptr<FlatView> flat;
  std::atomic<int64_t> committed_ns{0};  // last commit through the mount (mtime of committed)

  // The client holding the prefix's writer role (client_files.h), or none.
  // Its description names it in info.json for a refused second writer.
  // role_mu is held shared by every change and commit of the prefix (who
  // may make it is checked under it) and exclusively to give or take the role.
  SharedMutex role_mu;
  const void* writer GUARDED_BY(role_mu) = nullptr;  // the OpenFile of its data handle
  std::string writer_name GUARDED_BY(role_mu);
  pid_t writer_pid GUARDED_BY(role_mu) = 0;

  // Open committed files by commit tag (inodes.h): how many, and the size of
  // their commit (an older commit's file keeps its size while open).
  struct CommittedOpens {
    uint32_t opens = 0;
    uint64_t bytes = 0;
  };
  Mutex committed_mu;
  std::map<uint64_t, CommittedOpens> committed_opens GUARDED_BY(committed_mu);
};

// The prefix's last commit's tag (inodes.h), under its op lock: a rollback
// replaces the Volume.
uint64_t LatestCommitTag(PrefixView& prefix);

class Mount {
 public:
  // Opens every prefix folder under options.root. Throws pagefs::Error (the
  // message names the prefix) when one cannot be opened, e.g. kBusy when
  // another process holds its writer lock.
  explicit Mount(const MountOptions& options);
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  const MountOptions& options() const { return options_; }
  bool read_only() const { return options_.read_only; }
  size_t prefix_count() const { return count_.load(std::memory_order_acquire); }
  // nullptr for an index this mount does not have.
  PrefixView* prefix(uint32_t index) const;
  // Index of the prefix called name, or -1.
  int64_t FindPrefix(std::string_view name) const;
  // Makes ROOT/name and opens a new store there (mkdir on the mount); returns
  // its index. Throws Error(kInvalidArgument) for a bad name, kReadOnly on a
  // read-only mount, kExists when it exists.
  uint32_t AddPrefix(const std::string& name);
  // Drops the prefix's changes since its last commit (its writer went away
  // without committing), and returns once the kernel has dropped the pages
  // of the prefix it may hold: a rollback is nobody's request to answer, so
  // it waits itself, before the role is given again (the caller holds the
  // role lock, which no read takes).
  void Rollback(PrefixView& prefix);

  uint64_t cache_size() const { return budget_.load(); }
  // Splits bytes among the prefixes; takes effect at once (shrinking evicts).
  void SetCacheSize(uint64_t bytes);
  // Commits every prefix that no client writes (nothing for a read-only
  // mount). A prefix whose writer role a client holds is committed only by
  // that client (kIoctlCommit): its state is already durable as of the
  // client's last commit, and what it wrote since is half-done. What the
  // kernel must drop before the commit is reported done goes to after.
  void CommitAll(Invalidations& after);
  // Returns false, committing nothing, when a client holds the writer role.
  bool Commit(PrefixView& prefix, Invalidations& after);
  // Every commit of prefix calls this once it succeeded: the committed files
  // of older commits now name a newer latest epoch in their header page.
  void NoteCommit(PrefixView& prefix, Invalidations& after);

  // The kernel page cache of the mount's files (kernel_cache.h).
  // Whether opens of prefix's data and page files may use the kernel's
  // cache: a page must fit in one kernel page, or a read could take a page
  // partly from a cached old version and partly from the daemon.
  bool CachesFiles(const PrefixView& prefix) const;
  // A read handler serving bytes [off, off+len) of ino to a cached open
  // calls this before reading the engine; evictions are queued.
  void Served(fuse_ino_t ino, uint64_t off, uint64_t len);
  // Bytes [off, off+len) of prefix's page space changed (and it grew):
  // appends what every file aliasing them must drop in the kernel.
  void Changed(const PrefixView& prefix, uint64_t off, uint64_t len, bool grew,
               Invalidations& after);
  // committed: binds an open of the commit tagged tag to that commit, which
  // must be the last one (false otherwise: an older commit's file cannot be
  // opened again); Released at its close.
  bool OpenCommitted(PrefixView& prefix, uint64_t tag, CommitPin& out);
  void ReleaseCommitted(PrefixView& prefix, uint64_t tag);
  // The size of the committed file of the commit tagged tag.
  uint64_t CommittedBytes(PrefixView& prefix, uint64_t tag);
  KernelCacheStats kernel_cache_stats() const { return kernel_.stats(); }
  uint64_t pool_budget() const { return pool_budget_.load(); }
  // Writes dirty pages back without committing.
  void FlushAll();
  // Commits and closes every store, releasing the writer locks; a prefix
  // whose writer role a client still holds is rolled back to that client's
  // last commit first. Errors are reported on stderr; returns false if any
  // commit failed.
  bool Close();

  int64_t started_ns() const { return started_ns_; }
  Notifier& notifier() { return notifier_; }

 private:
  MountOptions options_;
  std::vector<std::unique_ptr<PrefixView>> prefixes_;  // reserved: never reallocates
  std::atomic<size_t> count_{0};
  Mutex add_mu_;  // serializes AddPrefix and Close
  // Sets the pools to max(budget / 4, budget - the kernel's bytes) when that
  // moved by a step since it was last set (on the notifier's thread).
  void Rebalance();
  void SetPoolBudget(uint64_t bytes);

  std::atomic<uint64_t> budget_;
  std::atomic<uint64_t> pool_budget_;
  int64_t started_ns_;
  KernelCache kernel_;
  Notifier notifier_;
};

int64_t NowNs();

}  // namespace pagefs::fs
