// MountedSpace: the PageSpace of a store opened through a pagefs mount. The
// daemon owns the Volume and the cache budget; this process keeps a small
// BufferPool over MOUNT/PREFIX/data (MountBacking) so that touching a cached
// page costs no FUSE round trip. The protocol (docs/mount.md, "Python through
// the mount"):
//
//   read     pread of data at id * page_size (on a local cache miss)
//   write    pwrite of the page (when evicted dirty, or at commit)
//   allocate ids come in batches of kAllocBatch from a kIoctlAllocate request
//            on data; the daemon has allocated each one, zero-filled
//   free     fallocate(PUNCH_HOLE | KEEP_SIZE) of the page's range of data
//   commit   write back every dirty page, then a kIoctlCommit request with
//            the anchors (root map, orphan head): the daemon commits
//
// A writable space opens data for writing and claims the mount's writer role
// for the prefix on it (kIoctlClaimWriter, which also returns the last
// commit's anchors): a second claim fails with EBUSY (here Error(kBusy)
// naming the holder, from kIoctlSpaceInfo). While it holds the role,
// only its requests change or commit the prefix. If its descriptor closes
// with changes not committed (the process died), the daemon rolls the prefix
// back to its last commit.
//
// Pages come from a mapping of the file (MountBacking, MountMapping): the
// reader's committed, or for the writer a second, read-only open of data (its
// own open is direct I/O), when the mount caches data (MountCachesData). A
// fault brings one page, and scans say what they read next (WillRead), so
// the kernel holds only what was asked for (mount_mapping.h). The
// writer's write-backs are pwrites, after which the daemon has dropped the
// old pages from every mapping; a reader's new commit is a new file, mapped
// anew.
//
// A reader takes its pages in place: Read returns a guard on the mapping's
// own bytes (probed in under the SIGBUS guard first), with no copy and no
// pin, since one commit's file never changes and the mapping lives until
// FollowCommit, which runs with no guard alive (the op lock exclusively).
// What the mapping cannot give (past its end, a fault that failed) goes
// through the cache, whose pread reports the real error. Should the kernel
// drop a probed page and its next fault fail (the daemon stopped in
// between), there is nothing to fail instead: the process ends, saying so
// (sigbus_guard.h).
//
// The writer reads in place too, inside an operation that changes nothing
// (util/read_only_op.h: a lookup, a scan; the op lock and the collection's
// mutex keep other threads from changing those pages meanwhile): a page its
// cache holds comes from there (it may be dirty, newer than data's), a page
// whose write-back is still pending here is read from that, and any other
// page from the mapping, which the daemon keeps equal to data (each pwrite
// returns once the old bytes are dropped from every mapping). The pool looks
// with its miss mutex held, so no write-back is half done. Operations that
// change pages copy them into the cache, as before: a page handed out in
// place would not show the change, so a write inside a read-only operation
// is refused as a bug. So the writer's own cache holds what it changes and
// what it reads while changing.
//
// A read-only space reads PREFIX/committed instead of data: the pages and the
// anchors of one commit (the last when it opened the file; the daemon pins it
// in the prefix's reader table until the file is closed, so its reads never
// fail after newer commits, docs/readers.md). It follows new commits: at the
// start of a top-level operation (Heap::FollowCommits), when at least
// kFollowInterval has passed since it last looked, it reads the file's 48-byte
// header (one pread: the daemon's latest epoch); when that moved on, or a read
// met ESTALE, it reopens the file at the newest commit and drops its cache.
//
// Thread safety: as PageSpace. Commit REQUIRES the store's op lock exclusively.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/env/env.h"
#include "pager/space/mount_backing.h"
#include "pager/space/page_space.h"
#include "pager/util/mutex.h"

namespace pagefs {

// Budget of the process-side cache of a mounted store: the daemon holds the
// real one, so the process takes at most this much of cache_size.
inline constexpr uint64_t kMountedCacheMax = 8ull << 20;
// A reader whose file is mapped owns no page: it reads them in place, and its
// cache only holds what the mapping could not give, so it takes at most this
// much (the kernel's copy is shared).
inline constexpr uint64_t kMountedReaderCacheMax = 2ull << 20;

// How often a read-only space looks for a newer commit: at most once per
// this interval, at the start of an operation.
inline constexpr std::chrono::milliseconds kFollowInterval{10};

class MountedSpace final : public PageSpace {
 public:
  // dir is MOUNT/PREFIX, which must exist; the requests go through env
  // (Env::MountRequest), which must outlive the space. Throws Error(kBusy)
  // when another client of the mount writes the prefix, Error(kReadOnly) for
  // a writable open of a read-only mount, Error(kIo) when the files cannot
  // be opened.
  MountedSpace(Env& env, const std::string& dir, const std::string& describe, uint64_t cache_bytes,
               bool read_only);
  ~MountedSpace() override;
  MountedSpace(const MountedSpace&) = delete;
  MountedSpace& operator=(const MountedSpace&) = delete;

  uint32_t page_size() const override { return page_size_; }
  PageGuard Read(PageId id) override;
  // A reader's page in place if it faulted it in before (a prefetch cannot
  // fault one in); the writer's from its cache.
  const uint8_t* WhereResident(PageId id) override {
    return read_only_ ? backing_->ProbedMappedPage(id) : pool_->WhereResident(id);
  }
  void WillRead(std::span<const PageId> ids) override { backing_->WillRead(ids); }
  PageGuard Write(PageId id) override;
  PageGuard Allocate() override;
  void Free(PageId id) override;
  void Commit() override;
  Anchors anchors() const override;
  void set_anchors(const Anchors& anchors) override;
  bool read_only() const override { return read_only_; }
  bool NewerCommit(bool force) override;
  void FollowCommit() override;
  uint64_t view_generation() const override {
    return view_generation_.load(std::memory_order_acquire);
  }

  // Writes every dirty cached page to the daemon without committing.
  void Flush();
  // Gives back the ids allocated in a batch but never used (Commit does it
  // first, so no commit holds a page nothing reaches).
  void ReturnUnusedIds();
  void set_cache_size(uint64_t bytes);
  PoolStats pool_stats() const { return pool_->stats(); }
  // The daemon's last commit (kIoctlSpaceInfo); a read-only space: the commit it shows.
  uint64_t epoch() const;
  uint64_t page_count() const;  // data's size in pages, as the daemon has it now
  bool failed() const { return failed_.load(); }
  void CheckWritable() const;

 private:
  // The daemon's record of the prefix, asked on fd (data or committed).
  SpaceInfo AskInfo(int fd) const;
  // Opens PREFIX/committed and reads its header. Returns the descriptor.
  int OpenCommitted(CommittedHeader& header) const;

  static uint64_t OsPageSize();
  // kMountedCacheMax, or kMountedReaderCacheMax for a reader with a mapping.
  uint64_t LocalCacheMax() const;
  // Page id in the mapping (probed in, or in a NoWaitScope only if probed
  // before), or nullptr: see MountBacking::MappedPage.
  const uint8_t* InPlace(PageId id);
  // CheckWritable, and no ReadOnlyOpScope (util/read_only_op.h) active.
  void CheckChangeAllowed() const;

  // The descriptor whose file the backing maps: committed for a reader, the
  // read-only open of data for the writer (-1: none).
  int MapFd() const { return read_only_ ? data_fd_ : map_fd_; }

  // One request of the mount protocol on fd.
  int Request(int fd, unsigned request, void* arg) const {
    return env_.MountRequest(fd, request, arg);
  }

  Env& env_;
  const std::string dir_;
  const std::string describe_;
  const bool read_only_;
  uint32_t page_size_ = 0;
  int data_fd_ = -1;  // writable: the writer role's file
  int map_fd_ = -1;   // writable: data opened read-only, for the mapping
  std::unique_ptr<MountBacking> backing_;
  std::unique_ptr<BufferPool> pool_;
  std::atomic<bool> failed_{false};

  mutable Mutex mu_;
  Anchors anchors_ GUARDED_BY(mu_);
  std::vector<PageId> spare_ids_ GUARDED_BY(mu_);  // allocated in a batch, not handed out yet
  // Read-only: the commit shown and when the daemon's was last looked at.
  // data_fd_ and backing_ are replaced (FollowCommit) under mu_ with the op
  // lock held exclusively, so holding either one is enough to read them.
  uint64_t epoch_ GUARDED_BY(mu_) = 0;
  std::atomic<bool> stale_{false};            // a read met ESTALE
  std::atomic<uint64_t> view_generation_{0};  // one more per FollowCommit
  std::atomic<int64_t> last_look_ns_{0};
};

}  // namespace pagefs
