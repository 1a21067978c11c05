// FlatView: one prefix's page space as a flat run of bytes, offset = page id *
// page size (what a mount shows as MOUNT/PREFIX/data; pages/<id> is the same
// space at id's offset). Page 0 is no page: it reads as zeros and only zeros
// may be written to it. Pages that are not allocated read as zeros; a write
// allocates the pages it touches. Writes go through the space's page cache
// (checksums and shadow paging happen at write-back and commit).
//
// Consistency: every page is copied in or out under its content lock (owned
// by the view, striped by id), so a read returns each page as of one write
// through the view (never torn), and a free never meets a pinned page. The
// owner's op lock is held shared, so a commit or a rollback never sees half
// a request.
//
// Failures throw pagefs::Error; a request that fails after some pages were
// done reports the bytes done instead (a short read or write).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "pager/space/page_space.h"
#include "pager/volume/volume.h"

namespace pagefs {

// The page cache indexes ids below 2^32: the view never addresses more.
inline constexpr PageId kFlatViewPageLimit = PageId{1} << 32;

// Readahead policy. Reads at least this large start a readahead of the range
// that follows: a large read is most likely part of a sequential one (the
// kernel splits a big read(2) into 1 MiB requests, one at a time).
inline constexpr size_t kReadAheadMin = 256 << 10;

struct PageRange {
  PageId first = kNoPage;
  uint64_t count = 0;
  bool operator==(const PageRange&) const = default;
};

// The pages to load in the background after a read of size bytes at off that
// returned done bytes, in a space of page_count pages: the next range as long
// as the read, cut at the end of the space. None for a short or failed read,
// a small one, or one that reached the end.
std::optional<PageRange> ReadAheadAfter(uint64_t off, size_t size, size_t done, uint64_t page_count,
                                        uint32_t page_size);

// Past the readahead, a stream's tiers are told (Tier::WillNeed, no cache of
// ours) of the pages up to this many readahead lengths further on, so a disk
// reads ahead while the requests before them are served.
inline constexpr uint64_t kAdviseDepth = 4;

// The part of that window not yet advised: [ahead's end, ahead's end +
// kAdviseDepth * ahead.count) cut at page_count, starting at advised_end (where
// the last advice ended) when that lies inside it. None when nothing is left.
std::optional<PageRange> AdviseWindow(const PageRange& ahead, PageId advised_end,
                                      uint64_t page_count);

// Content locks of one space's pages, striped by id.
class PageLocks {
 public:
  std::shared_mutex& For(PageId id) { return stripes_[id % stripes_.size()]; }

 private:
  std::array<std::shared_mutex, 1024> stripes_;
};

class FlatView {
 public:
  // The view works on space (writable or not), whose volume volume() returns
  // at each request (a rollback replaces it), under op_lock (held
  // exclusively by commits and rollbacks). All must outlive the view. name
  // appears in errors ("prefix 'data'").
  FlatView(std::shared_mutex& op_lock, PageSpace& space, std::function<Volume&()> volume,
           std::string name);
  FlatView(const FlatView&) = delete;
  FlatView& operator=(const FlatView&) = delete;

  uint32_t page_size() const { return page_size_; }
  const std::string& name() const { return name_; }

  // Bytes the space has: page_count * page_size.
  uint64_t bytes();

  // Copies up to size bytes at off into out, stopping at the end of the space.
  // A page that fails to load makes the read short, or throws when it is the
  // first; whole makes any failed page throw (for the kernel's page cache, to
  // which a short read is the end of the file, it must be: docs/mount.md).
  size_t Read(uint64_t off, size_t size, uint8_t* out, bool whole = false);

  // A read whose result points straight into the page cache (no copy): the
  // pages it covers stay pinned and read-locked until it is destroyed. Pages
  // past the pin limit are copied to spill, pages that are not allocated
  // served from a buffer of zeros.
  class PinnedRead {
   public:
    PinnedRead() = default;
    PinnedRead(const PinnedRead&) = delete;
    PinnedRead& operator=(const PinnedRead&) = delete;

    const std::vector<iovec>& iov() const { return iov_; }
    size_t bytes() const { return bytes_; }
    // Pages of the read pinned in the cache.
    size_t pinned() const { return pins_.size(); }

   private:
    friend class FlatView;
    // Declaration order is destruction order reversed: pins go before locks.
    std::shared_lock<std::shared_mutex> op_;
    std::vector<std::shared_lock<std::shared_mutex>> locks_;
    std::vector<PageGuard> pins_;
    std::vector<iovec> iov_;
    size_t bytes_ = 0;
  };
  // Like Read (whole too): at most max_pins pages are pinned and referenced, the rest are
  // copied into spill (which holds size bytes). The pages the request covers
  // are loaded in batches (Prefetch); a large read starts the readahead of
  // ReadAheadAfter in the background.
  void ReadPinned(uint64_t off, size_t size, size_t max_pins, uint8_t* spill, PinnedRead& out,
                  bool whole = false);

  struct WriteResult {
    size_t bytes = 0;
    bool grew = false;  // page_count grew: the space's size changed
  };
  // Writes size bytes at off, allocating the pages it touches. Throws
  // Error(kTooLarge) past kFlatViewPageLimit, kInvalidArgument for bytes
  // other than zeros in page 0.
  WriteResult Write(uint64_t off, const uint8_t* data, size_t size);

  // Frees the whole pages in [off, off+len) and zeroes the partial ones (a
  // hole punch). Returns the ids freed.
  std::vector<PageId> Punch(uint64_t off, uint64_t len);
  // Allocates every page in [off, off+len), zero-filled where new; with
  // keep_size only those below the end of the space. Returns whether the
  // space grew.
  bool Allocate(uint64_t off, uint64_t len, bool keep_size = false);
  // Grows the space to hold bytes (rounded up to whole pages); never shrinks:
  // Error(kInvalidArgument) for a smaller size. Returns whether it grew.
  bool Resize(uint64_t bytes);

  // The last commit's page_count * page_size.
  uint64_t committed_bytes();
  // Pins the last commit (the volume's reader table): its pages stay readable
  // after newer commits, until the pin goes.
  CommitPin PinCommitted();
  // Copies up to size bytes at off of pinned commit `at` into out: page 0 is
  // the CommittedHeader (pager/mount_protocol.h, whose latest_epoch says
  // whether a newer commit exists), page id the page as of that commit.
  // whole: as for Read.
  size_t ReadCommitted(const CommitPin& at, uint64_t off, size_t size, uint8_t* out,
                       bool whole = false);

  // One page at a time (pages/<id>).
  bool PageAllocated(PageId id);
  // Every allocated id, ascending.
  std::vector<PageId> AllocatedPages();
  // Allocates page id, zero-filled and stored even if never written.
  // Error(kExists) when it is allocated. Returns whether the space grew.
  bool CreatePage(PageId id);
  // Zeroes page id from byte from to its end. Error(kNotFound) for a page
  // that is not allocated.
  void ZeroPageTail(PageId id, uint32_t from);
  void FreePage(PageId id);

  // Wall-clock time of the last change through the view, or of MarkChanged
  // (for a file's mtime; whether there is anything to commit or roll back
  // is the store's to say, never this clock's).
  int64_t changed_ns() const { return changed_ns_.load(std::memory_order_relaxed); }
  void MarkChanged();

 private:
  std::shared_lock<std::shared_mutex> OpLock() {
    return std::shared_lock<std::shared_mutex>(op_lock_);
  }
  void CheckPageLimit(PageId id) const;

  std::shared_mutex& op_lock_;
  PageSpace& space_;
  const std::function<Volume&()> volume_;
  const std::string name_;
  const uint32_t page_size_;
  PageLocks locks_;
  std::atomic<int64_t> changed_ns_;
  std::atomic<PageId> advised_end_{0};  // AdviseWindow's: where the last advice ended
};

}  // namespace pagefs
