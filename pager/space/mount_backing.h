// MountBacking: the PageBacking of a store opened through a pagefs mount. Page
// id lives at offset id * page_size of MOUNT/PREFIX/data; a load is one pread
// (the daemon checksums, shadow-pages and caches what is written). The daemon
// allocates exactly the page a write names, so no extra call is needed to make
// a written page exist.
//
// Loads come from a MountMapping of map_fd when one is given (a read-only,
// cached open of the same file): a page the kernel holds costs a copy and no
// syscall; one the daemon must send costs a page fault (one FUSE request, as
// a pread). A page the mapping cannot give (past the mapped end, a fault that
// failed: SIGBUS caught) is read with pread, which reports the real error.
//
// Every FUSE request costs tens of microseconds, so stores of adjacent pages
// are combined into one pwrite of up to kCombineBytes; Flush() sends what is
// pending, and a load of a pending page is served from it.
//
// Thread safety: Load/Store/Flush from any thread. The backing does not own
// the descriptor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "pager/cache/page_backing.h"
#include "pager/space/mount_mapping.h"
#include "pager/space/mount_protocol.h"
#include "pager/util/mutex.h"

namespace pagefs {

class MountBacking final : public PageBacking {
 public:
  // fd: MOUNT/PREFIX/data (or committed), opened by the caller, valid while
  // the backing lives; so is map_fd (-1: no mapping, every load a pread).
  MountBacking(int fd, uint32_t page_size, int map_fd = -1);

  static constexpr size_t kCombineBytes = 1 << 20;

  // Bytes past the end of data read as zeros (a page the daemon never stored).
  void Load(PageId id, uint8_t* buf) override;
  void Store(PageId id, const uint8_t* buf) override;
  void Flush() override;
  uint64_t metadata_bytes() const override { return kCombineBytes; }
  // Whether loads come from a mapping.
  bool mapped() const { return mapping_ != nullptr; }
  // Page id in the mapping (MountMapping::PageAt), or nullptr: no mapping,
  // the page is not in it, or a write of it is pending here.
  const uint8_t* MappedPage(PageId id);
  // MountMapping::ProbedPageAt (a page faulted in before, no probe), or
  // nullptr as for MappedPage. Never waits (util/no_wait.h): nullptr too when
  // another thread holds the pending writes.
  const uint8_t* ProbedMappedPage(PageId id);
  // A scan's advice (MountMapping::WillRead); nothing without a mapping.
  void WillRead(std::span<const PageId> ids) const {
    if (mapping_ != nullptr) mapping_->WillRead(ids);
  }

 private:
  void FlushLocked() REQUIRES(mu_);
  // Where page id is in pending_, or nullptr when it is not pending.
  uint8_t* PendingPage(PageId id) REQUIRES(mu_);
  void Pread(PageId id, uint8_t* buf);

  const int fd_;
  const uint32_t page_size_;
  std::unique_ptr<MountMapping> mapping_;  // null: no mapping
  Mutex mu_;
  std::vector<uint8_t> pending_ GUARDED_BY(mu_);  // pages first_pending_, first_pending_ + 1, ...
  PageId first_pending_ GUARDED_BY(mu_) = kNoPage;
  std::atomic<bool> has_pending_{false};  // !pending_.empty(), readable without mu_
};

}  // namespace pagefs
