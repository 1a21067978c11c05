#include "pager/tier/remote/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "pager/util/error.h"

namespace pagefs {

SpillFile::SpillFile(const std::string& dir, uint32_t page_size)
    : dir_(dir), page_size_(page_size) {
  fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A file system without O_TMPFILE: a named file, removed at once.
    std::string name = dir_ + "/pending-XXXXXX";
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(name.c_str());
  }
  if (fd_ < 0) {
    throw Error::FromErrno(errno, "make the file of pages not yet uploaded in " + dir_);
  }
}

SpillFile::~SpillFile() { ::close(fd_); }

void SpillFile::Put(SlotId slot, const uint8_t* page) {
  MutexLock lock(mu_);
  auto [it, fresh] = pages_.emplace(slot, Page{0, 0});
  if (fresh) {
    if (!free_.empty()) {
      it->second.number = free_.back();
      free_.pop_back();
    } else {
      it->second.number = file_pages_++;
    }
  }
  it->second.version = next_version_++;
  const off_t at = static_cast<off_t>(it->second.number * page_size_);
  size_t done = 0;
  while (done < page_size_) {
    ssize_t n = ::pwrite(fd_, page + done, page_size_ - done, at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      if (fresh) {
        free_.push_back(it->second.number);
        pages_.erase(it);
      }
      throw Error::FromErrno(err, "write a page not yet uploaded to the local disk in " + dir_);
    }
    done += static_cast<size_t>(n);
  }
}

bool SpillFile::Get(SlotId slot, uint8_t* page) const {
  MutexLock lock(mu_);
  auto it = pages_.find(slot);
  if (it == pages_.end()) return false;
  const off_t at = static_cast<off_t>(it->second.number * page_size_);
  size_t done = 0;
  while (done < page_size_) {
    ssize_t n = ::pread(fd_, page + done, page_size_ - done, at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error::FromErrno(n < 0 ? errno : EIO,
                             "read a page not yet uploaded from the local disk in " + dir_);
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void SpillFile::Erase(SlotId slot) {
  MutexLock lock(mu_);
  auto it = pages_.find(slot);
  if (it == pages_.end()) return;
  free_.push_back(it->second.number);
  pages_.erase(it);
}

std::vector<SpillFile::Pending> SpillFile::Slots() const {
  MutexLock lock(mu_);
  std::vector<Pending> out;
  out.reserve(pages_.size());
  for (const auto& [slot, page] : pages_) out.push_back({slot, page.version});
  return out;
}

void SpillFile::Forget(const std::vector<Pending>& uploaded) {
  MutexLock lock(mu_);
  for (const Pending& p : uploaded) {
    auto it = pages_.find(p.slot);
    if (it == pages_.end() || it->second.version != p.version) continue;  // written again: news
    free_.push_back(it->second.number);
    pages_.erase(it);
  }
  if (pages_.empty()) {
    free_.clear();
    file_pages_ = 0;
    if (::ftruncate(fd_, 0) != 0) {
      // The space comes back when the process ends (the file is unlinked).
    }
  }
}

bool SpillFile::empty() const {
  MutexLock lock(mu_);
  return pages_.empty();
}

SlotId SpillFile::end() const {
  MutexLock lock(mu_);
  return pages_.empty() ? 0 : pages_.rbegin()->first + 1;
}

uint64_t SpillFile::bytes() const {
  MutexLock lock(mu_);
  return file_pages_ * page_size_;
}

uint64_t SpillFile::memory_bytes() const {
  // A map node: the slot and its Page, three links and a colour word.
  constexpr uint64_t kPerPage = sizeof(SlotId) + sizeof(Page) + 4 * sizeof(void*);
  MutexLock lock(mu_);
  return pages_.size() * kPerPage + free_.capacity() * sizeof(uint64_t);
}

}  // namespace pagefs
