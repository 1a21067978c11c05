#include "pager/space/mount_mapping.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "pager/util/sigbus_guard.h"

namespace pagefs {

MountMapping::MountMapping(int fd, uint32_t page_size) : fd_(fd), page_size_(page_size) {
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
}

MountMapping::~MountMapping() {
  if (base_ != nullptr) ::munmap(base_, reserved_);
}

bool MountMapping::Extend(uint64_t end) {
  MutexLock lock(extend_mu_);
  uint64_t mapped = mapped_.load(std::memory_order_relaxed);
  if (end != 0 && end <= mapped) return true;  // another thread extended it
  struct stat st;
  if (::fstat(fd_, &st) != 0) return false;
  // Whole kernel pages of the file only: touching past its end is SIGBUS.
  const uint64_t os_page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
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
    mapped = want;
    mapped_.store(mapped, std::memory_order_release);
  }
  return end <= mapped;
}

bool MountMapping::CopyPage(PageId id, uint8_t* buf) {
  if (base_ == nullptr) return false;
  const uint64_t off = id * page_size_;
  const uint64_t end = off + page_size_;
  if (end > mapped_.load(std::memory_order_acquire)) {
    if (end > reserved_ || unmappable_.load(std::memory_order_relaxed) || !Extend(end)) {
      return false;
    }
  }
  return CopyFromMapping(buf, base_ + off, page_size_);
}

}  // namespace pagefs
