// LocalPageCache: a bounded cache on local disk of pages fetched from the
// object store, so that a page the memory cache dropped costs a pread when
// it is read again, not a GET. Pages are keyed by where their frame lies in
// the bucket (segment object, byte offset): segment objects are immutable,
// so an entry never goes stale, and a slot a later commit rewrote is a new
// key.
// - One file, PATH (ROOT/PREFIX/page-cache), of capacity / page_size blocks,
//   each one decompressed page (a hit is one pread, no zstd). The file never
//   grows past capacity.
// - LRU over the blocks; the index lives in memory (about 100 bytes a block).
// - Every load is verified against the page checksum kept in the index: a
//   block that fails (a torn write, a flipped bit, an eviction racing the
//   read) is dropped and counts as a miss, so the page is fetched again and
//   bad bytes never reach the caller.
// - The destructor saves the index in PATH.index and the constructor reads it
//   back, so a reopened store keeps its warm cache; checksums make a stale or
//   foreign index harmless. Deleting both files loses nothing committed.
// A capacity below one page disables the cache (nothing is written).
// Thread safety: every method may be called from several threads at once.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "pager/tier/remote/frame_key.h"
#include "pager/util/mutex.h"

namespace pagefs {

struct LocalPageCacheStats {
  uint64_t capacity = 0;  // bytes the file may hold
  uint64_t bytes = 0;     // bytes of the blocks in use
  uint64_t hits = 0, misses = 0;
  uint64_t inserts = 0, evictions = 0, bad_blocks = 0;
  // Pages offered ahead of a read (Insert's ahead): all of them, those
  // loaded since, and those dropped before any load (evicted, failing their
  // check, or never cached). The rest are in the cache, waiting.
  uint64_t ahead = 0, ahead_hits = 0, ahead_unused = 0;
};

class LocalPageCache {
 public:
  // Opens (creating) the cache file at path. Throws Error(kIo) when it cannot.
  LocalPageCache(std::string path, uint32_t page_size, uint64_t capacity);
  ~LocalPageCache();
  LocalPageCache(const LocalPageCache&) = delete;
  LocalPageCache& operator=(const LocalPageCache&) = delete;

  // Fills page (page_size bytes) and returns true when (segment, offset) is
  // cached and its block verifies; false otherwise.
  bool Load(uint64_t segment, uint32_t offset, uint8_t* page);
  // Whether (segment, offset) is cached (no read, no verification, no
  // effect on the LRU order or the hit counts).
  bool Contains(uint64_t segment, uint32_t offset) const;
  // Caches page under (segment, offset), evicting the least recently used
  // block when full; ahead: fetched before any read asked for it (the
  // ahead_ figures follow it). False when the page was not cached: it is
  // already, the cache is disabled, or the write failed.
  bool Insert(uint64_t segment, uint32_t offset, const uint8_t* page, bool ahead = false);

  uint32_t page_size() const { return page_size_; }
  const std::string& path() const { return path_; }
  LocalPageCacheStats stats() const;
  // The RAM its index takes (about 100 bytes a cached block).
  uint64_t memory_bytes() const;

 private:
  using Key = FrameKey;
  using KeyHash = FrameKeyHash;
  struct Entry {
    uint32_t block;
    uint64_t checksum;
    std::list<Key>::iterator lru;  // position in lru_
    bool ahead = false;            // inserted ahead of a read, not loaded since
  };
  static uint64_t Seed(const Key& k) { return k.segment ^ (uint64_t{k.offset} << 1); }
  void LoadIndex();
  void SaveIndex();
  void Drop(const Key& key, uint32_t block) REQUIRES(mu_);
  bool Place(const Key& key, const uint8_t* page, bool ahead);

  const std::string path_;
  const uint32_t page_size_;
  const uint32_t blocks_;  // capacity in blocks; 0: disabled
  int fd_ = -1;
  mutable Mutex mu_;
  std::unordered_map<Key, Entry, KeyHash> index_ GUARDED_BY(mu_);
  std::list<Key> lru_ GUARDED_BY(mu_);  // most recently used first
  std::vector<uint32_t> free_ GUARDED_BY(mu_);
  uint32_t next_block_ GUARDED_BY(mu_) = 0;  // blocks below it have been handed out
  LocalPageCacheStats stats_ GUARDED_BY(mu_);
};

}  // namespace pagefs
