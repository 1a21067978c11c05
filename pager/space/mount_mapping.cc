#include "pager/space/mount_mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "pager/util/sigbus_guard.h"

namespace pagefs {

MountMapping::MountMapping(int fd, uint32_t page_size)
    : fd_(fd), page_size_(page_size), os_page_(static_cast<uint32_t>(::sysconf(_SC_PAGESIZE))) {
  InstallSigbusHandler();
  // As much as the address space allows, down to 1 GiB; failing that, no mapping.
  for (uint64_t bytes = kReserveBytes; bytes >= (uint64_t{1} << 30); bytes >>= 2) {
    void* p = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      base_ = static_cast<uint8_t*>(p);
      reserved_ = bytes;
      break;
    }
  }
  if (base_ != nullptr && !Extend(0)) {
    ::munmap(base_, reserved_);
    base_ = nullptr;
  }
  if (base_ != nullptr) RegisterInPlaceRange(base_, reserved_);
}

MountMapping::~MountMapping() {
  for (auto& chunk : probed_) delete[] chunk.load(std::memory_order_relaxed);
  if (base_ == nullptr) return;
  UnregisterInPlaceRange(base_);
  ::munmap(base_, reserved_);
}

bool MountMapping::Extend(uint64_t end) {
  MutexLock lock(extend_mu_);
  uint64_t mapped = mapped_.load(std::memory_order_relaxed);
  if (end != 0 && end <= mapped) return true;  // another thread extended it
  struct stat st;
  if (::fstat(fd_, &st) != 0) return false;
  // Whole kernel pages of the file only: touching past its end is SIGBUS.
  const uint64_t os_page = os_page_;
  const uint64_t size = std::min<uint64_t>(static_cast<uint64_t>(st.st_size), reserved_);
  const uint64_t want = size / os_page * os_page;
  if (want > mapped) {
    // Over the reservation's PROT_NONE part: MAP_FIXED replaces only that.
    void* p = ::mmap(base_ + mapped, want - mapped, PROT_READ, MAP_SHARED | MAP_FIXED, fd_,
                     static_cast<off_t>(mapped));
    if (p == MAP_FAILED) {  // not mappable (a direct-I/O open): pread from now on
      unmappable_.store(true, std::memory_order_relaxed);
      return false;
    }
    // No read-around: a fault brings only what it touches (see the header).
    ::madvise(p, want - mapped, MADV_RANDOM);
    mapped = want;
    mapped_.store(mapped, std::memory_order_release);
  }
  return end <= mapped;
}

const uint8_t* MountMapping::Locate(PageId id) {
  if (base_ == nullptr) return nullptr;
  const uint64_t off = id * page_size_;
  const uint64_t end = off + page_size_;
  if (end > mapped_.load(std::memory_order_acquire)) {
    if (end > reserved_ || unmappable_.load(std::memory_order_relaxed) || !Extend(end)) {
      return nullptr;
    }
  }
  return base_ + off;
}

bool MountMapping::CopyPage(PageId id, uint8_t* buf) {
  const uint8_t* p = Locate(id);
  return p != nullptr && CopyFromMapping(buf, p, page_size_);
}

const uint8_t* MountMapping::PageAt(PageId id) {
  const uint8_t* p = Locate(id);
  if (p == nullptr) return nullptr;
  // Touched one kernel page at a time, a larger page would cost a fault each.
  if (page_size_ > os_page_ && !Probed(id)) Advise(id, 1);
  if (!ProbeMapping(p, page_size_, os_page_)) return nullptr;
  MarkProbed(id);
  return p;
}

const uint8_t* MountMapping::ProbedPageAt(PageId id) const {
  // A probed page lies below the mapped end, which never moves back.
  return Probed(id) ? base_ + id * page_size_ : nullptr;
}

void MountMapping::WillRead(std::span<const PageId> ids) const {
  if (base_ == nullptr || ids.empty()) return;
  std::vector<PageId> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  size_t run = 0;
  for (size_t i = 1; i <= sorted.size(); ++i) {
    if (i < sorted.size() && sorted[i] <= sorted[i - 1] + 1) continue;
    Advise(sorted[run], sorted[i - 1] - sorted[run] + 1);
    run = i;
  }
}

void MountMapping::Advise(PageId first, uint64_t count) const {
  // Advice: a failure (past the file's end, say) leaves the faults to read.
  (void)::posix_fadvise(fd_, static_cast<off_t>(first * page_size_),
                        static_cast<off_t>(count * page_size_), POSIX_FADV_WILLNEED);
}

void MountMapping::MarkProbed(PageId id) {
  const uint64_t c = id / kChunkPages;
  if (c >= kChunks) return;
  std::atomic<uint64_t>* chunk = probed_[c].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    auto* fresh = new std::atomic<uint64_t>[kChunkPages / 64]();
    if (probed_[c].compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete[] fresh;  // another thread's won; chunk now holds it
    }
  }
  const uint64_t bit = uint64_t{1} << (id % 64);
  std::atomic<uint64_t>& word = chunk[(id % kChunkPages) / 64];
  if ((word.load(std::memory_order_relaxed) & bit) == 0) {
    word.fetch_or(bit, std::memory_order_relaxed);
  }
}

bool MountMapping::Probed(PageId id) const {
  const uint64_t c = id / kChunkPages;
  if (c >= kChunks) return false;
  const std::atomic<uint64_t>* chunk = probed_[c].load(std::memory_order_acquire);
  return chunk != nullptr &&
         (chunk[(id % kChunkPages) / 64].load(std::memory_order_relaxed) >> (id % 64) & 1) != 0;
}

}  // namespace pagefs
