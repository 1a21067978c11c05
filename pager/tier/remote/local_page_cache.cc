#include "pager/tier/remote/local_page_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "pager/util/checksum.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

constexpr char kIndexMagic[8] = {'P', 'F', 'S', 'L', 'P', 'C', '1', '\0'};
constexpr uint64_t kIndexSeed = 0x4c50434944ULL;  // "LPCID"

bool FullPread(int fd, uint8_t* buf, size_t n, off_t at) {
  while (n > 0) {
    ssize_t got = ::pread(fd, buf, n, at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<size_t>(got);
    at += got;
  }
  return true;
}

bool FullPwrite(int fd, const uint8_t* buf, size_t n, off_t at) {
  while (n > 0) {
    ssize_t put = ::pwrite(fd, buf, n, at);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    buf += put;
    n -= static_cast<size_t>(put);
    at += put;
  }
  return true;
}

}  // namespace

LocalPageCache::LocalPageCache(std::string path, uint32_t page_size, uint64_t capacity)
    : path_(std::move(path)),
      page_size_(page_size),
      blocks_(static_cast<uint32_t>(std::min<uint64_t>(capacity / page_size, UINT32_MAX))) {
  MutexLock lock(mu_);
  stats_.capacity = uint64_t{blocks_} * page_size_;
  if (blocks_ == 0) return;
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) throw Error::FromErrno(errno, "open the local page cache " + path_);
  lock.Unlock();
  LoadIndex();
}

LocalPageCache::~LocalPageCache() {
  if (fd_ < 0) return;
  SaveIndex();
  ::close(fd_);
}

void LocalPageCache::LoadIndex() {
  std::ifstream in(path_ + ".index", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  MutexLock lock(mu_);
  size_t at = sizeof kIndexMagic;
  uint32_t page_size = 0, count = 0;
  uint64_t sum = 0;
  const bool valid = bytes.size() >= sizeof kIndexMagic + 16 &&
                     std::memcmp(bytes.data(), kIndexMagic, sizeof kIndexMagic) == 0 &&
                     (std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8),
                      Checksum(bytes.data(), bytes.size() - 8, kIndexSeed) == sum) &&
                     Take(bytes, at, page_size) && Take(bytes, at, count) &&
                     page_size == page_size_;
  std::vector<bool> used(blocks_, false);
  for (uint32_t i = 0; valid && i < count; ++i) {
    Key key{};
    uint32_t block = 0;
    uint64_t checksum = 0;
    if (!Take(bytes, at, key.segment) || !Take(bytes, at, key.offset) || !Take(bytes, at, block) ||
        !Take(bytes, at, checksum)) {
      break;
    }
    if (block >= blocks_ || used[block] || index_.count(key) != 0) continue;
    used[block] = true;
    lru_.push_back(key);
    index_[key] = Entry{block, checksum, std::prev(lru_.end())};
    next_block_ = std::max(next_block_, block + 1);
  }
  for (uint32_t b = next_block_; b-- > 0;) {
    if (!used[b]) free_.push_back(b);
  }
  stats_.bytes = uint64_t{static_cast<uint32_t>(index_.size())} * page_size_;
  // A smaller capacity than last time: the file shrinks to it.
  if (::ftruncate(fd_, static_cast<off_t>(uint64_t{next_block_} * page_size_)) != 0) {
    // Only disk space is at stake; the blocks beyond are never read.
  }
}

void LocalPageCache::SaveIndex() {
  std::string out(kIndexMagic, sizeof kIndexMagic);
  {
    MutexLock lock(mu_);
    Put<uint32_t>(out, page_size_);
    Put<uint32_t>(out, static_cast<uint32_t>(index_.size()));
    for (const Key& key : lru_) {
      const Entry& e = index_.at(key);
      Put<uint64_t>(out, key.segment);
      Put<uint32_t>(out, key.offset);
      Put<uint32_t>(out, e.block);
      Put<uint64_t>(out, e.checksum);
    }
  }
  Put<uint64_t>(out, Checksum(out.data(), out.size(), kIndexSeed));
  // Written beside, then renamed: a crash leaves the old index or the new one.
  const std::string tmp = path_ + ".index.tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc)
      .write(out.data(), static_cast<std::streamsize>(out.size()));
  std::rename(tmp.c_str(), (path_ + ".index").c_str());
}

void LocalPageCache::Drop(const Key& key, uint32_t block) {
  auto it = index_.find(key);
  if (it == index_.end() || it->second.block != block) return;  // already gone or reused
  if (it->second.ahead) ++stats_.ahead_unused;
  lru_.erase(it->second.lru);
  index_.erase(it);
  free_.push_back(block);
  stats_.bytes -= page_size_;
}

bool LocalPageCache::Load(uint64_t segment, uint32_t offset, uint8_t* page) {
  const Key key{segment, offset};
  uint32_t block = 0;
  uint64_t checksum = 0;
  {
    MutexLock lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++stats_.misses;
      return false;
    }
    block = it->second.block;
    checksum = it->second.checksum;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  // Read outside the lock: an eviction reusing the block meanwhile fails the
  // checksum below, like any damage.
  const bool read =
      FullPread(fd_, page, page_size_, static_cast<off_t>(uint64_t{block} * page_size_));
  MutexLock lock(mu_);
  if (!read || Checksum(page, page_size_, Seed(key)) != checksum) {
    ++stats_.bad_blocks;
    ++stats_.misses;
    Drop(key, block);
    return false;
  }
  ++stats_.hits;
  if (auto it = index_.find(key);
      it != index_.end() && it->second.block == block && it->second.ahead) {
    it->second.ahead = false;
    ++stats_.ahead_hits;
  }
  return true;
}

bool LocalPageCache::Contains(uint64_t segment, uint32_t offset) const {
  MutexLock lock(mu_);
  return index_.count(Key{segment, offset}) != 0;
}

bool LocalPageCache::Insert(uint64_t segment, uint32_t offset, const uint8_t* page, bool ahead) {
  const bool placed = Place(Key{segment, offset}, page, ahead);
  if (ahead) {
    MutexLock lock(mu_);
    ++stats_.ahead;
    if (!placed) ++stats_.ahead_unused;
  }
  return placed;
}

bool LocalPageCache::Place(const Key& key, const uint8_t* page, bool ahead) {
  if (blocks_ == 0) return false;
  uint32_t block = 0;
  {
    MutexLock lock(mu_);
    if (index_.count(key) != 0) return false;
    if (!free_.empty()) {
      block = free_.back();
      free_.pop_back();
    } else if (next_block_ < blocks_) {
      block = next_block_++;
    } else if (!lru_.empty()) {
      const Key victim = lru_.back();
      block = index_.at(victim).block;
      Drop(victim, block);
      free_.pop_back();  // Drop gave it back; it is ours now
      ++stats_.evictions;
    } else {
      return false;  // every block is being written by another thread
    }
  }
  const uint64_t checksum = Checksum(page, page_size_, Seed(key));
  const bool written =
      FullPwrite(fd_, page, page_size_, static_cast<off_t>(uint64_t{block} * page_size_));
  MutexLock lock(mu_);
  if (!written || index_.count(key) != 0) {  // failed, or another thread cached it meanwhile
    free_.push_back(block);
    return false;
  }
  lru_.push_front(key);
  index_[key] = Entry{block, checksum, lru_.begin(), ahead};
  stats_.bytes += page_size_;
  ++stats_.inserts;
  return true;
}

LocalPageCacheStats LocalPageCache::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

uint64_t LocalPageCache::memory_bytes() const {
  // An index node (key, Entry, next pointer, cached hash) and its bucket
  // pointer, and an LRU list node (the key and two links).
  constexpr uint64_t kPerBlock =
      sizeof(Key) + sizeof(Entry) + 3 * sizeof(void*) + 8 + sizeof(Key) + 2 * sizeof(void*);
  MutexLock lock(mu_);
  return index_.size() * kPerBlock + free_.capacity() * sizeof(uint32_t);
}

}  // namespace pagefs
