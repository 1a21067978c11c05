#include "fs/kernel_cache.h"

#include <algorithm>

namespace pagefs::fs {

KernelCache::KernelCache(uint32_t kernel_page_size)
    : kernel_page_(kernel_page_size),
      pages_per_chunk_(
          static_cast<uint32_t>(std::clamp<uint64_t>(kChunkBytes / kernel_page_size, 1, 256))) {}

uint64_t KernelCache::limit() {
  MutexLock lock(mu_);
  return limit_;
}

void KernelCache::SetLimit(uint64_t bytes, Invalidations& evict) {
  MutexLock lock(mu_);
  limit_ = bytes;
  EvictLocked(evict);
}

void KernelCache::Served(fuse_ino_t ino, uint64_t off, uint64_t len, Invalidations& evict) {
  if (len == 0) return;
  MutexLock lock(mu_);
  File& file = files_[ino];
  const uint64_t first = off / kernel_page_;
  const uint64_t last = (off + len - 1) / kernel_page_;
  const bool stream = LongStream(ino, file, first, last);
  served_bytes_ += len;
  ++served_reads_;
  for (uint64_t page = first; page <= last; ++page) {
    const uint64_t index = page / pages_per_chunk_;
    auto [it, fresh] = file.try_emplace(index);
    Chunk& chunk = it->second;
    if (fresh) {
      chunk.age = by_age_.insert(by_age_.end(), {ino, index});
    } else if (std::next(chunk.age) != by_age_.end()) {
      by_age_.splice(by_age_.end(), by_age_, chunk.age);  // served again: youngest
    }
    const size_t bit = page % pages_per_chunk_;
    if (!chunk.pages.test(bit)) {
      chunk.pages.set(bit);
      ++pages_;
    }
  }
  EvictLocked(evict, stream);
}

bool KernelCache::LongStream(fuse_ino_t ino, const File& file, uint64_t first, uint64_t last) {
  const uint64_t half = limit_ / kernel_page_ / 2;  // in kernel pages
  auto [it, fresh] = streams_.try_emplace(ino);
  Stream& stream = it->second;
  const uint64_t slack = 2 * uint64_t{pages_per_chunk_};
  if (fresh || first + slack < stream.end || first > stream.end + slack) {
    // A new stream, unless it starts right after held chunks: from the first.
    uint64_t index = first / pages_per_chunk_;
    const uint64_t most = half / pages_per_chunk_ + 1;
    for (uint64_t n = 0; index > 0 && n < most && file.count(index - 1) != 0; ++n) --index;
    stream.start = std::min(first, index * pages_per_chunk_);
  }
  stream.end = last + 1;
  return stream.end - std::min(stream.start, stream.end) >= half;
}

void KernelCache::EvictLocked(Invalidations& evict, bool behind_stream) {
  while (pages_ * kernel_page_ > limit_ && !by_age_.empty()) {
    auto victim = by_age_.begin();
    if (behind_stream && by_age_.size() > kStreamKeep) {
      victim = std::prev(by_age_.end(), static_cast<std::ptrdiff_t>(kStreamKeep) + 1);
    }
    const auto [ino, index] = *victim;
    auto file = files_.find(ino);
    auto it = file->second.find(index);
    evicted_pages_ += it->second.pages.count();
    ++evictions_;
    evict.push_back(
        {ino, static_cast<int64_t>(index * kChunkBytes), static_cast<int64_t>(kChunkBytes), {}});
    DropChunkLocked(ino, file->second, it);
    if (file->second.empty()) {
      files_.erase(file);
      streams_.erase(ino);
    }
  }
}

void KernelCache::DropChunkLocked(fuse_ino_t /*ino*/, File& file, File::iterator it) {
  pages_ -= it->second.pages.count();
  by_age_.erase(it->second.age);
  file.erase(it);
}

void KernelCache::Changed(fuse_ino_t ino, uint64_t off, uint64_t len, uint64_t page,
                          Invalidations& out) {
  if (len == 0) return;
  MutexLock lock(mu_);
  auto file = files_.find(ino);
  if (file == files_.end()) return;
  // Whole pages of the file: the kernel keeps none of a page partly.
  const uint64_t unit = std::max<uint64_t>(page, kernel_page_);
  const uint64_t begin = off / unit * unit;
  const uint64_t end = (off + len + unit - 1) / unit * unit;
  bool held = false;
  for (uint64_t p = begin / kernel_page_; p < end / kernel_page_; ++p) {
    auto it = file->second.find(p / pages_per_chunk_);
    if (it == file->second.end()) {
      p = (p / pages_per_chunk_ + 1) * pages_per_chunk_ - 1;  // skip the chunk
      continue;
    }
    const size_t bit = p % pages_per_chunk_;
    if (!it->second.pages.test(bit)) continue;
    held = true;
    it->second.pages.reset(bit);
    --pages_;
    ++invalidated_pages_;
    if (it->second.pages.none()) DropChunkLocked(ino, file->second, it);
  }
  if (file->second.empty()) {
    files_.erase(file);
    streams_.erase(ino);
  }
  if (held) {
    out.push_back({ino, static_cast<int64_t>(begin), static_cast<int64_t>(end - begin), {}});
  }
}

std::vector<fuse_ino_t> KernelCache::FilesIn(fuse_ino_t first, fuse_ino_t last) {
  MutexLock lock(mu_);
  std::vector<fuse_ino_t> out;
  for (auto it = files_.lower_bound(first); it != files_.end() && it->first <= last; ++it) {
    out.push_back(it->first);
  }
  return out;
}

bool KernelCache::Holds(fuse_ino_t ino, uint64_t off, uint64_t len) {
  if (len == 0) return false;
  MutexLock lock(mu_);
  auto file = files_.find(ino);
  if (file == files_.end()) return false;
  for (uint64_t p = off / kernel_page_; p <= (off + len - 1) / kernel_page_; ++p) {
    auto it = file->second.find(p / pages_per_chunk_);
    if (it != file->second.end() && it->second.pages.test(p % pages_per_chunk_)) return true;
  }
  return false;
}

void KernelCache::Forget(fuse_ino_t ino, Invalidations& out) {
  MutexLock lock(mu_);
  streams_.erase(ino);
  auto file = files_.find(ino);
  if (file == files_.end()) return;
  while (!file->second.empty()) {
    invalidated_pages_ += file->second.begin()->second.pages.count();
    DropChunkLocked(ino, file->second, file->second.begin());
  }
  files_.erase(file);
  out.push_back({ino, 0, 0, {}});
}

uint64_t KernelCache::bytes() const {
  MutexLock lock(mu_);
  return pages_ * kernel_page_;
}

KernelCacheStats KernelCache::stats() const {
  MutexLock lock(mu_);
  KernelCacheStats s;
  s.bytes = pages_ * kernel_page_;
  s.limit = limit_;
  s.files = files_.size();
  s.evicted_bytes = evicted_pages_ * kernel_page_;
  s.evictions = evictions_;
  s.invalidated_bytes = invalidated_pages_ * kernel_page_;
  s.served_bytes = served_bytes_;
  s.served_reads = served_reads_;
  return s;
}

}  // namespace pagefs::fs
