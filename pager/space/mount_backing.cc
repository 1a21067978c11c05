#include "pager/space/mount_backing.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pager/util/error.h"

namespace pagefs {

MountBacking::MountBacking(int fd, uint32_t page_size, int map_fd)
    : fd_(fd), page_size_(page_size) {
  if (map_fd >= 0) {
    mapping_ = std::make_unique<MountMapping>(map_fd, page_size);
    if (!mapping_->usable()) mapping_.reset();
  }
}

void MountBacking::Load(PageId first, uint8_t* buf) {
  {
    // A pending page is newer than what the daemon (and so the mapping) has.
    MutexLock lock(mu_);
    if (const uint8_t* p = PendingPage(first)) {
      std::memcpy(buf, p, page_size_);
      return;
    }
  }
  if (mapping_ != nullptr && mapping_->CopyPage(first, buf)) return;
  Pread(first, buf);
}

const uint8_t* MountBacking::MappedPage(PageId id) {
  if (mapping_ == nullptr) return nullptr;
  // A reader's backing never holds a pending page: no lock on its reads.
  if (has_pending_.load(std::memory_order_acquire)) {
    MutexLock lock(mu_);
    if (PendingPage(id) != nullptr) return nullptr;
  }
  return mapping_->PageAt(id);
}

const uint8_t* MountBacking::ProbedMappedPage(PageId id) {
  if (mapping_ == nullptr) return nullptr;
  if (has_pending_.load(std::memory_order_acquire)) {
    if (!mu_.TryLock()) return nullptr;
    const bool pending = PendingPage(id) != nullptr;
    mu_.Unlock();
    if (pending) return nullptr;
  }
  return mapping_->ProbedPageAt(id);
}

uint8_t* MountBacking::PendingPage(PageId id) {
  const uint64_t pending_pages = pending_.size() / page_size_;
  if (id < first_pending_ || id >= first_pending_ + pending_pages) return nullptr;
  return pending_.data() + (id - first_pending_) * page_size_;
}

void MountBacking::Pread(PageId first, uint8_t* buf) {
  const size_t want = page_size_;
  size_t done = 0;
  while (done < want) {
    ssize_t n =
        ::pread(fd_, buf + done, want - done, static_cast<off_t>(first * page_size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "read page " + std::to_string(first) + " through the mount");
    }
    if (n == 0) break;  // past the end of data: never-stored pages are zeros
    done += static_cast<size_t>(n);
  }
  if (done < want) std::memset(buf + done, 0, want - done);
}

void MountBacking::Store(PageId id, const uint8_t* buf) {
  MutexLock lock(mu_);
  if (uint8_t* p = PendingPage(id)) {
    std::memcpy(p, buf, page_size_);
    return;
  }
  if (!pending_.empty() && id != first_pending_ + pending_.size() / page_size_) FlushLocked();
  if (pending_.empty()) first_pending_ = id;
  pending_.insert(pending_.end(), buf, buf + page_size_);
  has_pending_.store(true, std::memory_order_release);
  if (pending_.size() >= kCombineBytes) FlushLocked();
}

void MountBacking::Flush() {
  MutexLock lock(mu_);
  FlushLocked();
}

void MountBacking::FlushLocked() {
  size_t done = 0;
  const off_t base = static_cast<off_t>(first_pending_ * page_size_);
  while (done < pending_.size()) {
    ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done,
                         base + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(
          errno, "write pages " + std::to_string(first_pending_) + ".. through the mount");
    }
    if (n == 0)
      throw Error(ErrorCode::kIo, "short write of page " + std::to_string(first_pending_));
    done += static_cast<size_t>(n);
  }
  pending_.clear();
  has_pending_.store(false, std::memory_order_release);
}

}  // namespace pagefs
