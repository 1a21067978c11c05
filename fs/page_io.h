// Byte-range I/O on one prefix's flat page space: offset = page id * page size,
// as MOUNT/PREFIX/data shows it (pages/<id> is the same space at id's offset).
// Page 0 is no page: it reads as zeros and only zeros may be written to it.
// Pages that are not allocated read as zeros. Writes go through the Store's
// page cache (checksums and shadow paging happen at write-back and commit).
//
// Consistency: every page is copied in or out under its content lock, so a
// read returns each page as of one write through the mount (never torn); the
// store's op lock is held shared, so a commit never sees half a request.
//
// Failures throw pagefs::Error; a request that fails after some pages were
// done reports the bytes done instead (a short read or write).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "fs/mount_state.h"
#include "pager/volume/superblock.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

// Bytes the data file has: page_count * page_size.
uint64_t SpaceBytes(PrefixView& prefix);

// Copies up to size bytes at off into out, stopping at the end of the space.
size_t ReadSpace(PrefixView& prefix, uint64_t off, size_t size, uint8_t* out);

// A read whose reply points straight into the page cache (no copy in the
// daemon): the pages it covers stay pinned and read-locked until it is
// destroyed, which must be after the reply is sent. Pages past the pin limit,
// and pages that are not allocated, are copied to / served from other buffers.
class PinnedRead {
 public:
  PinnedRead() = default;
  PinnedRead(const PinnedRead&) = delete;
  PinnedRead& operator=(const PinnedRead&) = delete;

  const std::vector<iovec>& iov() const { return iov_; }
  size_t bytes() const { return bytes_; }

 private:
  friend void ReadSpacePinned(PrefixView&, uint64_t, size_t, size_t, uint8_t*, PinnedRead&);
  // Declaration order is destruction order reversed: pins go before locks.
  std::shared_lock<std::shared_mutex> op_;
  std::vector<std::shared_lock<std::shared_mutex>> locks_;
  std::vector<PageGuard> pins_;
  std::vector<iovec> iov_;
  size_t bytes_ = 0;
};

// Like ReadSpace, into out: at most max_pins pages are pinned and referenced;
// the rest are copied into spill (which holds size bytes).
void ReadSpacePinned(PrefixView& prefix, uint64_t off, size_t size, size_t max_pins,
                     uint8_t* spill, PinnedRead& out);

struct WriteResult {
  size_t bytes = 0;
  bool grew = false;  // page_count grew: the data file's size changed
};
// Writes size bytes at off, allocating the pages it touches.
WriteResult WriteSpace(PrefixView& prefix, uint64_t off, const uint8_t* data, size_t size);

// Frees the whole pages in [off, off+len) and zeroes the partial ones
// (fallocate PUNCH_HOLE). Returns the ids freed.
std::vector<PageId> PunchSpace(PrefixView& prefix, uint64_t off, uint64_t len);
// Allocates every page in [off, off+len) (fallocate mode 0). Returns whether
// the space grew.
bool AllocateSpace(PrefixView& prefix, uint64_t off, uint64_t len);
// Grows the space to hold bytes (rounded up to whole pages); never shrinks.
// Throws Error(kInvalidArgument) for a smaller size.
bool ResizeSpace(PrefixView& prefix, uint64_t bytes);

// MOUNT/PREFIX/committed (pager/space/mount_protocol.h): the last commit's page_count * page_size.
uint64_t CommittedBytes(PrefixView& prefix);
// The commit a newly opened committed file reads, pinned (the prefix's
// reader table): its pages stay readable after newer commits, until the
// handle is released.
CommitPin CommittedSnapshot(PrefixView& prefix);
// Copies up to size bytes at off of the committed file of pinned commit `at`
// into out: page 0 is the CommittedHeader (whose latest_epoch tells the
// client a newer commit exists), page id the page as of that commit. A
// request that fails after some bytes is short.
size_t ReadCommitted(PrefixView& prefix, const CommitPin& at, uint64_t off, size_t size,
                     uint8_t* out);

// Page-file operations.
bool PageAllocated(PrefixView& prefix, PageId id);
// Allocates page id, zero-filled (a new file in pages/). Returns whether the space grew.
bool CreatePage(PrefixView& prefix, PageId id);
// Zeroes page id from byte from to its end (truncate of a page file).
void ZeroPageTail(PrefixView& prefix, PageId id, uint32_t from);
void FreePage(PrefixView& prefix, PageId id);

}  // namespace pagefs::fs
