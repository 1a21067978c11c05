#include "fs/page_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "pager/util/error.h"
#include "pager/space/mount_protocol.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

namespace {

// Reads at least this large start a readahead of the range that follows.
constexpr size_t kReadAheadMin = 256 << 10;

// The page cache indexes ids below 2^32; the view never addresses more.
constexpr PageId kPageLimit = PageId{1} << 32;

std::shared_lock<std::shared_mutex> OpLock(PrefixView& prefix) {
  return std::shared_lock<std::shared_mutex>(prefix.store->heap().op_lock());
}

void CheckWritablePage(PrefixView& prefix, PageId id) {
  if (id >= kPageLimit) {
    throw Error::FromErrno(EFBIG, "page " + std::to_string(id) + " of prefix '" + prefix.name +
                                      "' is past the largest page id the mount can address");
  }
}

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

void Touch(PrefixView& prefix) { prefix.modified_ns.store(NowNs(), std::memory_order_relaxed); }

}  // namespace

uint64_t SpaceBytes(PrefixView& prefix) {
  return prefix.store->volume().page_count() * prefix.page_size;
}

size_t ReadSpace(PrefixView& prefix, uint64_t off, size_t size, uint8_t* out) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  PageSpace& space = prefix.store->space();
  const uint64_t ps = prefix.page_size;
  const uint64_t end = volume.page_count() * ps;
  if (off >= end) return 0;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  size_t done = 0;
  try {
    while (done < size) {
      const uint64_t pos = off + done;
      const PageId id = pos / ps;
      const size_t in = static_cast<size_t>(pos % ps);
      const size_t n = std::min<size_t>(ps - in, size - done);
      std::shared_lock<std::shared_mutex> lock(prefix.locks.For(id));
      if (id == kNoPage || !volume.IsAllocated(id)) {
        std::memset(out + done, 0, n);
      } else {
        PageGuard page = space.Read(id);
        std::memcpy(out + done, page.data() + in, n);
      }
      done += n;
    }
  } catch (...) {
    if (done == 0) throw;
  }
  return done;
}

void ReadSpacePinned(PrefixView& prefix, uint64_t off, size_t size, size_t max_pins,
                     uint8_t* spill, PinnedRead& out) {
  // Zeros for pages that are not allocated (and page 0): the largest page size.
  static const uint8_t kZeros[65536] = {};
  out.op_ = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  PageSpace& space = prefix.store->space();
  const uint64_t ps = prefix.page_size;
  const uint64_t end = volume.page_count() * ps;
  if (off >= end) return;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  // The pages the request covers are loaded in batches (one tier request per
  // run of adjacent slots) instead of one pread per page on a miss; the pool
  // bounds each batch by its budget. Reading past the request is left to the
  // one background readahead below.
  const PageId last = (off + size - 1) / ps;
  PageId prefetched = off / ps;  // pages below this were offered to Prefetch
  size_t done = 0;
  try {
    while (done < size) {
      const uint64_t pos = off + done;
      const PageId id = pos / ps;
      const size_t in = static_cast<size_t>(pos % ps);
      const size_t n = std::min<size_t>(ps - in, size - done);
      if (id >= prefetched && id < last) {  // a single page gains nothing from a batch
        prefetched = id + std::max<uint64_t>(1, space.Prefetch(id, last + 1 - id));
      }
      std::shared_lock<std::shared_mutex> lock(prefix.locks.For(id));
      const uint8_t* from;
      if (id == kNoPage || !volume.IsAllocated(id)) {
        from = kZeros;
      } else if (out.pins_.size() < max_pins) {
        out.pins_.push_back(space.Read(id));
        out.locks_.push_back(std::move(lock));
        from = out.pins_.back().data() + in;
      } else {
        PageGuard page = space.Read(id);
        std::memcpy(spill + done, page.data() + in, n);
        from = spill + done;
      }
      out.iov_.push_back({const_cast<uint8_t*>(from), n});
      done += n;
    }
  } catch (...) {
    if (done == 0) throw;
  }
  out.bytes_ = done;
  // A large read is most likely part of a sequential one (the kernel splits a
  // big read(2) into 1 MiB requests, one at a time): load the next range of
  // the same length in the background while this reply is copied out. At
  // most one range is ahead; the pool bounds it by its budget.
  if (done == size && size >= kReadAheadMin) {
    const PageId next = last + 1;
    const uint64_t count_now = volume.page_count();
    if (next < count_now) {
      space.PrefetchAsync(next, std::min<uint64_t>(last + 1 - off / ps, count_now - next));
    }
  }
}

WriteResult WriteSpace(PrefixView& prefix, uint64_t off, const uint8_t* data, size_t size) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  PageSpace& space = prefix.store->space();
  volume.CheckWritable();
  const uint64_t ps = prefix.page_size;
  const uint64_t count_before = volume.page_count();
  WriteResult result;
  try {
    while (result.bytes < size) {
      const uint64_t pos = off + result.bytes;
      const PageId id = pos / ps;
      const size_t in = static_cast<size_t>(pos % ps);
      const size_t n = std::min<size_t>(ps - in, size - result.bytes);
      const uint8_t* src = data + result.bytes;
      if (id == kNoPage) {
        if (!AllZero(src, n)) {
          throw Error(ErrorCode::kInvalidArgument,
                      "the first page of prefix '" + prefix.name +
                          "' (bytes 0.." + std::to_string(ps - 1) +
                          " of data) is not a page: only zeros can be written there");
        }
      } else {
        CheckWritablePage(prefix, id);
        std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
        volume.EnsureAllocated(id);
        PageGuard page = space.Write(id);
        std::memcpy(page.mutable_data() + in, src, n);
      }
      result.bytes += n;
    }
  } catch (...) {
    if (result.bytes == 0) throw;
  }
  Touch(prefix);
  result.grew = volume.page_count() != count_before;
  return result;
}

std::vector<PageId> PunchSpace(PrefixView& prefix, uint64_t off, uint64_t len) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  PageSpace& space = prefix.store->space();
  volume.CheckWritable();
  const uint64_t ps = prefix.page_size;
  const uint64_t end = std::min<uint64_t>(off + len, volume.page_count() * ps);
  std::vector<PageId> freed;
  for (uint64_t pos = off; pos < end;) {
    const PageId id = pos / ps;
    const uint64_t in = pos % ps;
    const uint64_t n = std::min<uint64_t>(ps - in, end - pos);
    pos += n;
    if (id == kNoPage) continue;
    std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
    if (!volume.IsAllocated(id)) continue;
    if (n == ps) {
      space.Free(id);
      freed.push_back(id);
    } else {
      PageGuard page = space.Write(id);
      std::memset(page.mutable_data() + in, 0, n);
    }
  }
  Touch(prefix);
  return freed;
}

bool AllocateSpace(PrefixView& prefix, uint64_t off, uint64_t len) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  PageSpace& space = prefix.store->space();
  volume.CheckWritable();
  const uint64_t ps = prefix.page_size;
  const uint64_t count_before = volume.page_count();
  if (len == 0) return false;
  const PageId last = (off + len - 1) / ps;
  CheckWritablePage(prefix, last);
  for (PageId id = std::max<PageId>(1, off / ps); id <= last; ++id) {
    std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
    if (volume.IsAllocated(id)) continue;
    volume.EnsureAllocated(id);
    space.Write(id);  // marks the zero page dirty, so it is stored and stays allocated
  }
  Touch(prefix);
  return volume.page_count() != count_before;
}

bool ResizeSpace(PrefixView& prefix, uint64_t bytes) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  volume.CheckWritable();
  const uint64_t ps = prefix.page_size;
  const uint64_t count = (bytes + ps - 1) / ps;
  if (count < volume.page_count()) {
    throw Error(ErrorCode::kInvalidArgument,
                "the data file of prefix '" + prefix.name +
                    "' cannot shrink; free pages with fallocate(PUNCH_HOLE) instead");
  }
  if (count == volume.page_count()) return false;
  CheckWritablePage(prefix, count - 1);
  volume.ExtendTo(count);
  Touch(prefix);
  return true;
}

uint64_t CommittedBytes(PrefixView& prefix) {
  return prefix.store->volume().committed().page_count * prefix.page_size;
}

CommitPin CommittedSnapshot(PrefixView& prefix) {
  auto op = OpLock(prefix);
  return prefix.store->volume().PinCommitted();
}

size_t ReadCommitted(PrefixView& prefix, const CommitPin& pinned, uint64_t off, size_t size,
                     uint8_t* out) {
  // Shared op lock: a rollback (which replaces the Volume) waits. Commits do
  // not need it: the pin keeps the commit's slots (the store's reader table
  // outlives a rollback's new Volume, which holds them too).
  auto op = OpLock(prefix);
  const Superblock& at = pinned.commit;
  Volume& volume = prefix.store->volume();
  const uint64_t ps = prefix.page_size;
  const uint64_t end = std::max<uint64_t>(1, at.page_count) * ps;
  if (off >= end) return 0;
  size = static_cast<size_t>(std::min<uint64_t>(size, end - off));
  thread_local std::vector<uint8_t> page;
  page.resize(ps);
  size_t done = 0;
  try {
    while (done < size) {
      const uint64_t pos = off + done;
      const PageId id = pos / ps;
      const size_t in = static_cast<size_t>(pos % ps);
      const size_t n = std::min<size_t>(ps - in, size - done);
      if (id == kNoPage) {
        std::memset(page.data(), 0, ps);
        CommittedHeader h{at.epoch, at.anchors.root_map, at.anchors.orphan_head, at.page_count,
                          volume.committed().epoch};
        EncodeCommittedHeader(h, page.data());
      } else {
        volume.LoadPinned(at, id, page.data());
      }
      std::memcpy(out + done, page.data() + in, n);
      done += n;
    }
  } catch (...) {
    if (done == 0) throw;
  }
  return done;
}

bool PageAllocated(PrefixView& prefix, PageId id) {
  return prefix.store->volume().IsAllocated(id);
}

bool CreatePage(PrefixView& prefix, PageId id) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  volume.CheckWritable();
  CheckWritablePage(prefix, id);
  const uint64_t count_before = volume.page_count();
  std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
  if (volume.IsAllocated(id)) {
    throw Error::FromErrno(EEXIST, "page " + std::to_string(id) + " exists");
  }
  volume.EnsureAllocated(id);
  prefix.store->space().Write(id);  // dirty: a created page is stored even if never written
  Touch(prefix);
  return volume.page_count() != count_before;
}

void ZeroPageTail(PrefixView& prefix, PageId id, uint32_t from) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  volume.CheckWritable();
  if (from >= prefix.page_size) return;
  std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
  if (!volume.IsAllocated(id)) throw Error(ErrorCode::kNotFound, "no page " + std::to_string(id));
  PageGuard page = prefix.store->space().Write(id);
  std::memset(page.mutable_data() + from, 0, prefix.page_size - from);
  Touch(prefix);
}

void FreePage(PrefixView& prefix, PageId id) {
  auto op = OpLock(prefix);
  Volume& volume = prefix.store->volume();
  volume.CheckWritable();
  std::unique_lock<std::shared_mutex> lock(prefix.locks.For(id));
  if (!volume.IsAllocated(id)) throw Error(ErrorCode::kNotFound, "no page " + std::to_string(id));
  prefix.store->space().Free(id);
  Touch(prefix);
}

}  // namespace pagefs::fs
