#include "pager/space/flat_view.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "pager/space/mount_protocol.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

// The page walk of every request: piece(id, in, n, done) for each page that
// bytes [off, off+size) touch: n bytes from offset in of page id, which are
// bytes done.. of the request. done counts the bytes walked so far.
template <typename Piece>
void ForEachPage(uint64_t off, uint64_t size, uint64_t page_size, uint64_t& done, Piece&& piece) {
  while (done < size) {
    const uint64_t pos = off + done;
    const PageId id = pos / page_size;
    const size_t in = static_cast<size_t>(pos % page_size);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(page_size - in, size - done));
    piece(id, in, n, static_cast<size_t>(done));
    done += n;
  }
}

// ForEachPage for a transfer: a failure after some bytes makes it short (it
// returns the bytes done, as read(2) and write(2) do); one at the first page
// is thrown, and so is any one when whole is set.
template <typename Piece>
size_t Transfer(uint64_t off, size_t size, uint64_t page_size, bool whole, Piece&& piece) {
  uint64_t done = 0;
  try {
    ForEachPage(off, size, page_size, done, piece);
  } catch (...) {
    if (done == 0 || whole) throw;
  }
  return static_cast<size_t>(done);
}

}  // namespace

std::optional<PageRange> ReadAheadAfter(uint64_t off, size_t size, size_t done, uint64_t page_count,
                                        uint32_t page_size) {
  if (size == 0 || done != size || size < kReadAheadMin) return std::nullopt;
  const PageId first = off / page_size;
  const PageId next = (off + size - 1) / page_size + 1;
  if (next >= page_count) return std::nullopt;
  return PageRange{next, std::min<uint64_t>(next - first, page_count - next)};
}

std::optional<PageRange> AdviseWindow(const PageRange& ahead, PageId advised_end,
                                      uint64_t page_count) {
  const PageId begin = ahead.first + ahead.count;
  const PageId end = std::min<uint64_t>(begin + kAdviseDepth * ahead.count, page_count);
  const PageId from = advised_end >= begin && advised_end <= end ? advised_end : begin;
  if (from >= end) return std::nullopt;
  return PageRange{from, end - from};
}

FlatView::FlatView(std::shared_mutex& op_lock, PageSpace& space, std::function<Volume&()> volume,
                   std::string name)
    : op_lock_(op_lock),
      space_(space),
      volume_(std::move(volume)),
      name_(std::move(name)),
      page_size_(space.page_size()),
      changed_ns_(WallNs()) {}

void FlatView::MarkChanged() { changed_ns_.store(WallNs(), std::memory_order_relaxed); }

void FlatView::CheckPageLimit(PageId id) const {
  if (id >= kFlatViewPageLimit) {
    throw Error(ErrorCode::kTooLarge, "page " + std::to_string(id) + " of prefix '" + name_ +
                                          "' is past the largest page id the mount can address");
  }
}

uint64_t FlatView::bytes() { return volume_().page_count() * page_size_; }

size_t FlatView::Read(uint64_t off, size_t size, uint8_t* out, bool whole) {
  auto op = OpLock();
  Volume& volume = volume_();
  const uint64_t ps = page_size_;
  const uint64_t end = volume.page_count() * ps;
  if (off >= end) return 0;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  return Transfer(off, size, ps, whole, [&](PageId id, size_t in, size_t n, size_t done) {
    std::shared_lock<std::shared_mutex> lock(locks_.For(id));
    if (id == kNoPage || !volume.IsAllocated(id)) {
      std::memset(out + done, 0, n);
    } else {
      PageGuard page = space_.Read(id);
      std::memcpy(out + done, page.data() + in, n);
    }
  });
}

void FlatView::ReadPinned(uint64_t off, size_t size, size_t max_pins, uint8_t* spill,
                          PinnedRead& out, bool whole) {
  // Zeros for pages that are not allocated (and page 0): the largest page size.
  static const uint8_t kZeros[65536] = {};
  out.op_ = OpLock();
  Volume& volume = volume_();
  const uint64_t ps = page_size_;
  const uint64_t end = volume.page_count() * ps;
  if (off >= end) return;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  // The pages the request covers are loaded in batches (one tier request per
  // run of adjacent slots) instead of one pread per page on a miss; the pool
  // bounds each batch by its budget. Reading past the request is left to the
  // one background readahead below.
  const PageId last = (off + size - 1) / ps;
  PageId prefetched = off / ps;  // pages below this were offered to Prefetch
  const size_t done =
      Transfer(off, size, ps, whole, [&](PageId id, size_t in, size_t n, size_t at) {
        if (id >= prefetched && id < last) {  // a single page gains nothing from a batch
          prefetched = id + std::max<uint64_t>(1, space_.Prefetch(id, last + 1 - id));
        }
        std::shared_lock<std::shared_mutex> lock(locks_.For(id));
        const uint8_t* from;
        if (id == kNoPage || !volume.IsAllocated(id)) {
          from = kZeros;
        } else if (out.pins_.size() < max_pins) {
          out.pins_.push_back(space_.Read(id));
          out.locks_.push_back(std::move(lock));
          from = out.pins_.back().data() + in;
        } else {
          PageGuard page = space_.Read(id);
          std::memcpy(spill + at, page.data() + in, n);
          from = spill + at;
        }
        out.iov_.push_back({const_cast<uint8_t*>(from), n});
      });
  out.bytes_ = done;
  // At most one range is ahead; the pool bounds it by its budget.
  if (auto ahead = ReadAheadAfter(off, size, done, volume.page_count(), page_size_)) {
    auto advise =
        AdviseWindow(*ahead, advised_end_.load(std::memory_order_relaxed), volume.page_count());
    if (advise) advised_end_.store(advise->first + advise->count, std::memory_order_relaxed);
    space_.PrefetchAsync(ahead->first, ahead->count, advise ? advise->first : kNoPage,
                         advise ? advise->count : 0);
  }
}

FlatView::WriteResult FlatView::Write(uint64_t off, const uint8_t* data, size_t size) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  const uint64_t ps = page_size_;
  const uint64_t count_before = volume.page_count();
  WriteResult result;
  result.bytes = Transfer(off, size, ps, false, [&](PageId id, size_t in, size_t n, size_t done) {
    const uint8_t* src = data + done;
    if (id == kNoPage) {
      if (!AllZero(src, n)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the first page of prefix '" + name_ + "' (bytes 0.." + std::to_string(ps - 1) +
                        " of data) is not a page: only zeros can be written there");
      }
    } else {
      CheckPageLimit(id);
      std::unique_lock<std::shared_mutex> lock(locks_.For(id));
      volume.EnsureAllocated(id);
      PageGuard page = space_.Write(id);
      std::memcpy(page.mutable_data() + in, src, n);
    }
  });
  MarkChanged();
  result.grew = volume.page_count() != count_before;
  return result;
}

std::vector<PageId> FlatView::Punch(uint64_t off, uint64_t len) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  const uint64_t ps = page_size_;
  const uint64_t end = std::min<uint64_t>(off + len, volume.page_count() * ps);
  std::vector<PageId> freed;
  uint64_t done = 0;  // not a transfer: a failure is thrown, never a short punch
  ForEachPage(off, end > off ? end - off : 0, ps, done,
              [&](PageId id, size_t in, size_t n, size_t) {
                if (id == kNoPage) return;
                std::unique_lock<std::shared_mutex> lock(locks_.For(id));
                if (!volume.IsAllocated(id)) return;
                if (n == ps) {
                  space_.Free(id);
                  freed.push_back(id);
                } else {
                  PageGuard page = space_.Write(id);
                  std::memset(page.mutable_data() + in, 0, n);
                }
              });
  MarkChanged();
  return freed;
}

bool FlatView::Allocate(uint64_t off, uint64_t len, bool keep_size) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  const uint64_t ps = page_size_;
  const uint64_t count_before = volume.page_count();
  if (keep_size) len = off < count_before * ps ? std::min(len, count_before * ps - off) : 0;
  if (len == 0) return false;
  const PageId last = (off + len - 1) / ps;
  CheckPageLimit(last);
  for (PageId id = std::max<PageId>(1, off / ps); id <= last; ++id) {
    std::unique_lock<std::shared_mutex> lock(locks_.For(id));
    if (volume.IsAllocated(id)) continue;
    volume.EnsureAllocated(id);
    space_.Write(id);  // marks the zero page dirty, so it is stored and stays allocated
  }
  MarkChanged();
  return volume.page_count() != count_before;
}

bool FlatView::Resize(uint64_t bytes) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  const uint64_t ps = page_size_;
  const uint64_t count = (bytes + ps - 1) / ps;
  if (count < volume.page_count()) {
    throw Error(ErrorCode::kInvalidArgument,
                "the data file of prefix '" + name_ +
                    "' cannot shrink; free pages with fallocate(PUNCH_HOLE) instead");
  }
  if (count == volume.page_count()) return false;
  CheckPageLimit(count - 1);
  volume.ExtendTo(count);
  MarkChanged();
  return true;
}

uint64_t FlatView::committed_bytes() { return volume_().committed().page_count * page_size_; }

CommitPin FlatView::PinCommitted() {
  auto op = OpLock();
  return volume_().PinCommitted();
}

size_t FlatView::ReadCommitted(const CommitPin& pinned, uint64_t off, size_t size, uint8_t* out,
                               bool whole) {
  // Shared op lock: a rollback (which replaces the Volume) waits. Commits do
  // not need it: the pin keeps the commit's slots (the reader table outlives
  // a rollback's new Volume, which holds them too).
  auto op = OpLock();
  const Superblock& at = pinned.commit;
  Volume& volume = volume_();
  const uint64_t ps = page_size_;
  const uint64_t end = std::max<uint64_t>(1, at.page_count) * ps;
  if (off >= end) return 0;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  thread_local std::vector<uint8_t> page;
  page.resize(ps);
  return Transfer(off, size, ps, whole, [&](PageId id, size_t in, size_t n, size_t done) {
    if (id == kNoPage) {
      std::memset(page.data(), 0, ps);
      CommittedHeader h{at.epoch, at.anchors.root_map, at.anchors.orphan_head, at.page_count,
                        volume.committed().epoch};
      EncodeCommittedHeader(h, page.data());
    } else {
      volume.LoadPinned(at, id, page.data());
    }
    std::memcpy(out + done, page.data() + in, n);
  });
}

bool FlatView::PageAllocated(PageId id) {
  auto op = OpLock();
  return volume_().IsAllocated(id);
}

std::vector<PageId> FlatView::AllocatedPages() {
  auto op = OpLock();
  return volume_().AllocatedIds();
}

bool FlatView::CreatePage(PageId id) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  CheckPageLimit(id);
  const uint64_t count_before = volume.page_count();
  std::unique_lock<std::shared_mutex> lock(locks_.For(id));
  if (volume.IsAllocated(id)) {
    throw Error(ErrorCode::kExists, "page " + std::to_string(id) + " exists");
  }
  volume.EnsureAllocated(id);
  space_.Write(id);  // dirty: a created page is stored even if never written
  MarkChanged();
  return volume.page_count() != count_before;
}

void FlatView::ZeroPageTail(PageId id, uint32_t from) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  if (from >= page_size_) return;
  std::unique_lock<std::shared_mutex> lock(locks_.For(id));
  if (!volume.IsAllocated(id)) throw Error(ErrorCode::kNotFound, "no page " + std::to_string(id));
  PageGuard page = space_.Write(id);
  std::memset(page.mutable_data() + from, 0, page_size_ - from);
  MarkChanged();
}

void FlatView::FreePage(PageId id) {
  auto op = OpLock();
  Volume& volume = volume_();
  volume.CheckWritable();
  std::unique_lock<std::shared_mutex> lock(locks_.For(id));
  if (!volume.IsAllocated(id)) throw Error(ErrorCode::kNotFound, "no page " + std::to_string(id));
  space_.Free(id);
  MarkChanged();
}

}  // namespace pagefs
