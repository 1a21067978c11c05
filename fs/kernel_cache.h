// KernelCache: what the kernel's page cache may hold of the mount's cached
// files (data, pages/<id>, committed), so that it counts inside the daemon's
// one budget next to the daemon's own frames.
//
// The count is an upper bound: every kernel page the daemon served to a
// cached open since it last invalidated it, kept per file in chunks of
// kChunkBytes (a bitmap of kernel pages each). The kernel may drop pages by
// itself; it never holds one the daemon did not serve. Over the limit,
// chunks are evicted: their whole range (kChunkBytes, or the whole file for a
// page file) is invalidated in the kernel.
//
// Which chunks: the daemon never sees the kernel's hits, so the oldest-served
// chunk may be the one most read since. A stream is a run of serves each
// within two chunks of where the file's last one ended (one readahead request
// may overtake the one before it), or that starts right after chunks held
// (the kernel hit them: the same reader, going on), counted from the first of
// them. Once a stream is half the limit long it evicts behind itself: the
// youngest chunk but the kStreamKeep youngest (its own window, which its
// reader may not have copied yet). A file read again and again that does not
// fit then keeps its first part cached instead of none of it, and a pass over
// a big file does not flush what random readers hold; a shorter stream (a new
// working set being read in) and any other serve evict the oldest.
//
// Coherence: a change of the page space (Changed) returns the cached ranges
// it makes stale, exactly those of the changed bytes (rounded out to pages)
// in every file that aliases them and that the kernel may hold; they are
// forgotten here at once. The ordering that makes this safe: a read handler
// calls Served before it reads the engine, a change calls Changed after it
// changed the engine. Either the change sees the record (and its
// invalidation, which the kernel runs after any read of those pages still in
// flight, drops what that read brings), or the read comes after the change.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <fuse_lowlevel.h>

#include <bitset>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "pager/util/mutex.h"

namespace pagefs::fs {

// One request to the kernel: attributes of ino (off < 0), a byte range of its
// cache (len 0: to the end), or the name `name` in folder ino.
struct Invalidation {
  fuse_ino_t ino = 0;
  int64_t off = -1;
  int64_t len = 0;
  std::string name;
};
using Invalidations = std::vector<Invalidation>;

struct KernelCacheStats {
  uint64_t bytes = 0;              // what the kernel may hold now (upper bound)
  uint64_t limit = 0;              // the share of the budget it may take
  uint64_t files = 0;              // files with pages counted
  uint64_t evicted_bytes = 0;      // counted bytes invalidated to stay in the limit
  uint64_t evictions = 0;          // ranges invalidated for that
  uint64_t invalidated_bytes = 0;  // counted bytes invalidated because they changed
  uint64_t served_bytes = 0;       // bytes served to cached opens (kernel misses)
  uint64_t served_reads = 0;       // the reads that carried them
};

class KernelCache {
 public:
  static constexpr uint64_t kChunkBytes = 1 << 20;
  static constexpr size_t kStreamKeep = 4;

  explicit KernelCache(uint32_t kernel_page_size);
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  uint32_t kernel_page_size() const { return kernel_page_; }

  uint64_t limit();
  // Sets the limit; ranges to invalidate to get under it are appended to evict.
  void SetLimit(uint64_t bytes, Invalidations& evict);

  // The daemon is about to serve bytes [off, off+len) of file ino to a cached
  // open. Appends the ranges evicted to stay within the limit.
  void Served(fuse_ino_t ino, uint64_t off, uint64_t len, Invalidations& evict);

  // Bytes [off, off+len) of file ino changed: appends the invalidation of
  // the part the kernel may hold (pages rounded to page, a multiple of the
  // kernel page), and forgets it.
  void Changed(fuse_ino_t ino, uint64_t off, uint64_t len, uint64_t page, Invalidations& out);
  // The files in inode range [first, last] the kernel may hold (page files
  // of a page range, committed files of a prefix).
  std::vector<fuse_ino_t> FilesIn(fuse_ino_t first, fuse_ino_t last);
  // Whether bytes [off, off+len) of ino may be cached.
  bool Holds(fuse_ino_t ino, uint64_t off, uint64_t len);
  // Drops file ino: appends one invalidation of all of it if anything is counted.
  void Forget(fuse_ino_t ino, Invalidations& out);

  uint64_t bytes() const;
  KernelCacheStats stats() const;

 private:
  struct Chunk {
    std::bitset<256> pages;  // kernel pages served (kChunkBytes / kernel page <= 256)
    std::list<std::pair<fuse_ino_t, uint64_t>>::iterator age;  // its place in by_age_
  };
  using File = std::map<uint64_t, Chunk>;  // by chunk index

  // behind_stream: evict behind a stream (above), else the oldest first.
  void EvictLocked(Invalidations& evict, bool behind_stream = false) REQUIRES(mu_);
  // Whether a serve of kernel pages [first, last] of ino makes a stream half
  // the limit long (above); notes where it ends.
  bool LongStream(fuse_ino_t ino, const File& file, uint64_t first, uint64_t last) REQUIRES(mu_);
  void DropChunkLocked(fuse_ino_t ino, File& file, File::iterator it) REQUIRES(mu_);

  const uint32_t kernel_page_;
  const uint32_t pages_per_chunk_;
  mutable Mutex mu_;
  std::map<fuse_ino_t, File> files_ GUARDED_BY(mu_);
  // Per file, its stream: the kernel page it started at and the one after its
  // last serve.
  struct Stream {
    uint64_t start = 0;
    uint64_t end = 0;
  };
  std::map<fuse_ino_t, Stream> streams_ GUARDED_BY(mu_);
  // Chunks, oldest served first (a chunk served again moves to the back).
  std::list<std::pair<fuse_ino_t, uint64_t>> by_age_ GUARDED_BY(mu_);
  uint64_t pages_ GUARDED_BY(mu_) = 0;  // kernel pages counted
  uint64_t limit_ GUARDED_BY(mu_) = 0;
  uint64_t evicted_pages_ GUARDED_BY(mu_) = 0;
  uint64_t evictions_ GUARDED_BY(mu_) = 0;
  uint64_t invalidated_pages_ GUARDED_BY(mu_) = 0;
  uint64_t served_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t served_reads_ GUARDED_BY(mu_) = 0;
};

}  // namespace pagefs::fs
