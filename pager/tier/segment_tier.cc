#include "pager/tier/segment_tier.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {

namespace {

// pread/pwrite the whole range, retrying short transfers and EINTR.
void FullPread(int fd, uint8_t* buf, size_t n, off_t off, const std::string& what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, off + static_cast<off_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "read " + what);
    }
    if (r == 0) {  // past the end of a sparse file: zeros
      std::memset(buf + done, 0, n - done);
      return;
    }
    done += static_cast<size_t>(r);
  }
}

// preadv of count buffers of size bytes each at off, retrying short transfers
// and EINTR; what lies past the end of the (sparse) file reads as zeros.
void FullPreadv(int fd, uint8_t* const* bufs, size_t count, size_t size, off_t off,
                const std::string& what) {
  std::vector<iovec> iov(count);
  for (size_t i = 0; i < count; ++i) iov[i] = {bufs[i], size};
  size_t first = 0;  // iov[first..] is what is left to read
  while (first < count) {
    int batch = static_cast<int>(std::min<size_t>(count - first, IOV_MAX));
    ssize_t r = ::preadv(fd, iov.data() + first, batch, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "read " + what);
    }
    if (r == 0) {  // past the end of a sparse file: zeros
      for (size_t i = first; i < count; ++i) std::memset(iov[i].iov_base, 0, iov[i].iov_len);
      return;
    }
    off += r;
    size_t left = static_cast<size_t>(r);
    while (left > 0 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {  // a buffer read in part: the rest of it comes next
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

void FullPwrite(int fd, const uint8_t* buf, size_t n, off_t off, const std::string& what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, buf + done, n - done, off + static_cast<off_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "write " + what);
    }
    done += static_cast<size_t>(r);
  }
}

}  // namespace

std::string SegmentTier::SegmentFileName(uint64_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "segment-%05llu.pfs", static_cast<unsigned long long>(index));
  return name;
}

SegmentTier::SegmentTier(std::string dir, uint32_t slot_size, uint32_t slots_per_segment,
                         bool read_only, std::optional<bool> for_writer)
    : dir_(std::move(dir)),
      slot_size_(slot_size),
      slots_per_segment_(slots_per_segment),
      read_only_(read_only),
      segments_(new std::atomic<Segment*>[kMaxSegments]) {
  for (uint32_t i = 0; i < kMaxSegments; ++i) segments_[i].store(nullptr);
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) throw Error::FromErrno(errno, "open segment folder " + dir_);
  try {
    ScanFolder(for_writer.value_or(!read_only));
  } catch (...) {
    ::close(dir_fd_);
    throw;
  }
}

namespace {

// Files of a store folder that are not segments.
bool IsStoreFile(const std::string& name) {
  // LOCK and the reader table (docs/readers.md) hold no pages; a format in
  // progress writes segment 0 under a temporary name first.
  return name == "LOCK" || name == "readers" || name == SegmentTier::SegmentFileName(0) + ".new";
}

// The index of a segment file's name as SegmentFileName spells it, or -1.
int64_t SegmentIndex(const std::string& name) {
  constexpr std::string_view kHead = "segment-", kTail = ".pfs";
  if (name.size() <= kHead.size() + kTail.size() || name.compare(0, kHead.size(), kHead) != 0 ||
      name.compare(name.size() - kTail.size(), kTail.size(), kTail) != 0) {
    return -1;
  }
  const std::string digits = name.substr(kHead.size(), name.size() - kHead.size() - kTail.size());
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  const int64_t index = std::stoll(digits);
  return SegmentTier::SegmentFileName(static_cast<uint64_t>(index)) == name ? index : -1;
}

}  // namespace

// The tier's size is one past the last slot of the last segment's data.
// A folder that cannot be a store, or a store missing its superblocks, is
// refused here, before anything reads or writes it.
void SegmentTier::ScanFolder(bool for_writer) {
  int fd = ::dup(dir_fd_);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error::FromErrno(err, "list segment folder " + dir_);
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  std::vector<std::string> strays;
  std::vector<uint64_t> present;  // indexes of the segment files
  std::string last;               // the segment with the highest index
  bool has_first = false;
  uint64_t first_bytes = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || IsStoreFile(name)) continue;
    const int64_t index = SegmentIndex(name);
    if (index < 0 || index >= kMaxSegments) {
      strays.push_back(name);
      continue;
    }
    struct stat st;
    if (::fstatat(dir_fd_, name.c_str(), &st, 0) != 0) {
      throw Error::FromErrno(errno, "stat " + dir_ + "/" + name);
    }
    if (!S_ISREG(st.st_mode)) {
      throw Error(ErrorCode::kCorruption,
                  dir_ + "/" + name + " is not a regular file: the store is damaged");
    }
    present.push_back(static_cast<uint64_t>(index));
    if (index == 0) {
      has_first = true;
      first_bytes = static_cast<uint64_t>(st.st_size);
    }
    const uint64_t slots = (static_cast<uint64_t>(st.st_size) + slot_size_ - 1) / slot_size_;
    const uint64_t end = static_cast<uint64_t>(index) * slots_per_segment_ + slots;
    if (last.empty() || end > size_.load()) {
      size_.store(end);
      last = name;
    }
  }
  const std::string first = SegmentFileName(0);
  if (!last.empty() && !has_first) {
    throw Error(ErrorCode::kCorruption, dir_ + "/" + first +
                                            " (the superblocks) is missing while " + last +
                                            " holds pages: the store is damaged");
  }
  if (has_first && first_bytes < slot_size_) {
    // Segment 0 is only ever created whole, one page at least (see
    // SegmentFor): shorter is damage, never a format cut short.
    throw Error(ErrorCode::kCorruption, dir_ + "/" + first + " (the superblocks) is " +
                                            (first_bytes == 0 ? "empty" : "truncated") +
                                            ": the store is damaged");
  }
  // Segment files are created in order (slots are taken first-fit) and never
  // removed, so a missing one below the last is damage: refused to a writer,
  // whose first write-back would reuse slots a lost file held (and punch
  // holes in a file that is not the store's); reads of its slots fail below.
  std::sort(present.begin(), present.end());
  for (size_t i = 0; i < present.size(); ++i) {
    if (present[i] == i) continue;
    missing_below_ = present.back();
    if (for_writer) {
      throw Error(ErrorCode::kCorruption, dir_ + "/" + SegmentFileName(i) + " is missing while " +
                                              last + " holds pages: the store is damaged");
    }
    break;
  }
  if (last.empty() && !strays.empty() && for_writer) {
    std::sort(strays.begin(), strays.end());
    const std::string names = "'" + strays.front() + "'" + (strays.size() > 1 ? ", ..." : "");
    const bool ours = strays.front().compare(0, 8, "segment-") == 0;
    throw Error(ours ? ErrorCode::kCorruption : ErrorCode::kInvalidArgument,
                dir_ + " holds no pagefs store but is not empty (" + names +
                    "): refusing to create a store over it");
  }
}

SegmentTier::~SegmentTier() {
  for (uint32_t i = 0; i < kMaxSegments; ++i) {
    Segment* seg = segments_[i].load();
    if (seg == nullptr) continue;
    ::close(seg->fd);
    delete seg;
  }
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

SegmentTier::Segment* SegmentTier::SegmentFor(SlotId slot, bool for_write) {
  uint64_t index = slot / slots_per_segment_;
  if (index >= kMaxSegments) {
    throw Error(ErrorCode::kNoSpace,
                "segment folder " + dir_ + " is full (slot " + std::to_string(slot) + ")", ENOSPC);
  }
  Segment* seg = segments_[index].load(std::memory_order_acquire);
  if (seg != nullptr) return seg;
  MutexLock lock(open_mu_);
  seg = segments_[index].load(std::memory_order_acquire);
  if (seg != nullptr) return seg;
  std::string name = SegmentFileName(index);
  int flags = O_CLOEXEC | (read_only_ ? O_RDONLY : O_RDWR);
  int fd = ::openat(dir_fd_, name.c_str(), flags);
  if (fd < 0 && errno == ENOENT) {
    if (!for_write) return nullptr;
    if (index == 0) {
      // Segment 0 holds the superblocks: it is written under a temporary
      // name and renamed by the next Sync, so it never exists empty or torn
      // (an empty segment 0 is then damage, never a format cut short).
      name += ".new";
      fd = ::openat(dir_fd_, name.c_str(), flags | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) first_pending_.store(true);
    } else {
      fd = ::openat(dir_fd_, name.c_str(), flags | O_CREAT, 0600);
    }
    if (fd >= 0) dir_dirty_.store(true);
  }
  if (fd < 0) throw Error::FromErrno(errno, "open " + dir_ + "/" + name);
  seg = new Segment;
  seg->fd = fd;
  segments_[index].store(seg, std::memory_order_release);
  return seg;
}

void SegmentTier::CheckNotLost(SlotId slot) const {
  const uint64_t index = slot / slots_per_segment_;
  if (index < missing_below_) {
    throw Error(ErrorCode::kCorruption, dir_ + "/" + SegmentFileName(index) + " (slot " +
                                            std::to_string(slot) + ") is missing while " +
                                            SegmentFileName(missing_below_) +
                                            " holds pages: the store is damaged");
  }
}

void SegmentTier::Read(SlotId slot, uint8_t* buf) {
  reads_.fetch_add(1, std::memory_order_relaxed);
  Segment* seg = SegmentFor(slot, false);
  if (seg == nullptr) {
    CheckNotLost(slot);
    std::memset(buf, 0, slot_size_);
    return;
  }
  off_t off = static_cast<off_t>(slot % slots_per_segment_) * slot_size_;
  FullPread(seg->fd, buf, slot_size_, off, dir_ + " slot " + std::to_string(slot));
}

void SegmentTier::ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) {
  reads_.fetch_add(n, std::memory_order_relaxed);
  while (n > 0) {
    // The part of the run inside first's segment file.
    uint32_t in_segment = slots_per_segment_ - static_cast<uint32_t>(first % slots_per_segment_);
    uint32_t count = std::min(n, in_segment);
    Segment* seg = SegmentFor(first, false);
    if (seg == nullptr) {
      CheckNotLost(first);
      for (uint32_t i = 0; i < count; ++i) std::memset(bufs[i], 0, slot_size_);
    } else {
      off_t off = static_cast<off_t>(first % slots_per_segment_) * slot_size_;
      FullPreadv(
          seg->fd, bufs, count, slot_size_, off,
          dir_ + " slots " + std::to_string(first) + ".." + std::to_string(first + count - 1));
    }
    first += count;
    bufs += count;
    n -= count;
  }
}

void SegmentTier::WillNeed(const std::vector<SlotId>& slots) {
  std::vector<SlotId> sorted(slots);
  std::sort(sorted.begin(), sorted.end());
  size_t runs = 0;
  for (size_t i = 0; i < sorted.size() && runs < kMaxAdviceRuns; ++runs) {
    // A run: adjacent slots inside one segment file.
    const SlotId first = sorted[i];
    const SlotId segment_end = (first / slots_per_segment_ + 1) * slots_per_segment_;
    size_t end = i + 1;
    while (end < sorted.size() && sorted[end] <= sorted[end - 1] + 1 && sorted[end] < segment_end) {
      ++end;
    }
    const uint64_t count = sorted[end - 1] - first + 1;
    i = end;
    Segment* seg = nullptr;
    try {
      seg = SegmentFor(first, false);
    } catch (const Error&) {
      continue;  // the later Read reports it
    }
    if (seg == nullptr) continue;
    // Advisory: a failure only means the later pread waits for the disk.
    (void)::posix_fadvise(seg->fd, static_cast<off_t>(first % slots_per_segment_) * slot_size_,
                          static_cast<off_t>(count * slot_size_), POSIX_FADV_WILLNEED);
  }
}

void SegmentTier::Write(SlotId slot, const uint8_t* buf) {
  if (read_only_) throw Error(ErrorCode::kReadOnly, "segment folder " + dir_ + " is read-only");
  writes_.fetch_add(1, std::memory_order_relaxed);
  Segment* seg = SegmentFor(slot, true);
  off_t off = static_cast<off_t>(slot % slots_per_segment_) * slot_size_;
  FullPwrite(seg->fd, buf, slot_size_, off, dir_ + " slot " + std::to_string(slot));
  seg->dirty.store(true, std::memory_order_release);
  SlotId end = slot + 1;
  SlotId cur = size_.load(std::memory_order_relaxed);
  while (cur < end && !size_.compare_exchange_weak(cur, end)) {
  }
}

void SegmentTier::Sync() {
  if (read_only_) return;
  syncs_.fetch_add(1, std::memory_order_relaxed);
  for (uint32_t i = 0; i < kMaxSegments; ++i) {
    Segment* seg = segments_[i].load(std::memory_order_acquire);
    if (seg == nullptr) {
      if (i * uint64_t{slots_per_segment_} >= size()) break;
      continue;
    }
    if (seg->dirty.exchange(false) && ::fdatasync(seg->fd) != 0) {
      seg->dirty.store(true);
      throw Error::FromErrno(errno, "sync " + dir_ + "/" + SegmentFileName(i));
    }
  }
  if (first_pending_.load()) {
    const std::string first = SegmentFileName(0);
    if (::renameat(dir_fd_, (first + ".new").c_str(), dir_fd_, first.c_str()) != 0) {
      throw Error::FromErrno(errno, "rename " + dir_ + "/" + first + ".new");
    }
    first_pending_.store(false);
    dir_dirty_.store(true);
  }
  if (dir_dirty_.exchange(false) && ::fsync(dir_fd_) != 0) {
    dir_dirty_.store(true);
    throw Error::FromErrno(errno, "sync folder " + dir_);
  }
}

void SegmentTier::Discard(SlotId slot) {
  if (read_only_) return;
  Segment* seg = SegmentFor(slot, false);
  if (seg == nullptr) return;
  off_t off = static_cast<off_t>(slot % slots_per_segment_) * slot_size_;
  // Best effort: a file system without hole punching keeps the bytes.
  (void)::fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, slot_size_);
}

void SegmentTier::DiscardRun(SlotId first, uint64_t n) {
  if (read_only_) return;
  while (n > 0) {
    const uint64_t in_segment = slots_per_segment_ - first % slots_per_segment_;
    const uint64_t count = std::min(n, in_segment);
    if (first / slots_per_segment_ < kMaxSegments) {
      if (Segment* seg = SegmentFor(first, false)) {
        const off_t off = static_cast<off_t>(first % slots_per_segment_) * slot_size_;
        // Best effort, as Discard.
        (void)::fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                          static_cast<off_t>(count * slot_size_));
      }
    }
    first += count;
    n -= count;
  }
}

TierStats SegmentTier::stats() const {
  TierStats s;
  s.reads = reads_.load(std::memory_order_relaxed);
  s.writes = writes_.load(std::memory_order_relaxed);
  s.syncs = syncs_.load(std::memory_order_relaxed);
  for (uint64_t index = 0; index < kMaxSegments; ++index) {
    struct stat st;
    if (::fstatat(dir_fd_, SegmentFileName(index).c_str(), &st, 0) != 0) break;
    s.bytes_on_disk += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return s;
}

}  // namespace pagefs
