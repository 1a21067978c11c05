// StoreMode: what differs between the two homes of a Store's pages, chosen
// and built once when the Store opens: EmbeddedMode (the volume, its tier,
// the writer lock and the cache budget in this process) or MountedMode (a
// pagefs mount's daemon holds them; this process has a MountedSpace). The
// Store checks that it is open and takes the op lock; a mode does the work.
// Destroying a mode releases everything it holds (files, the writer role),
// the PageSpace last but one and the writer lock last.
#pragma once

#include <cstdint>

#include "pager/cache/buffer_pool.h"
#include "pager/remote_gc.h"
#include "pager/space/page_space.h"
#include "pager/store.h"

namespace pagefs {

class Volume;

class StoreMode {
 public:
  virtual ~StoreMode() = default;

  // The pages collections work on. Lives as long as the mode.
  virtual PageSpace& space() = 0;
  virtual bool mounted() const = 0;
  // Whether a write or a commit failed: the mode refuses writes until reopened.
  virtual bool failed() const = 0;

  // Writes every dirty cached page back without committing. REQUIRES the op
  // lock exclusively.
  virtual void Flush() = 0;

  virtual void set_cache_size(uint64_t bytes) = 0;
  virtual uint64_t cache_size() const = 0;
  virtual void FillStats(StoreStats& stats) const = 0;

  // Embedded only: changes since the last commit (Store::has_uncommitted_changes),
  // and dropping them (Store::Rollback, REQUIRES the op lock exclusively).
  // A mounted mode throws Error(kInvalidArgument): they are the daemon's.
  virtual bool has_uncommitted_changes() const = 0;
  // Throws as Store::Open; a mode that cannot reopen after dropping the
  // changes is no longer usable() (the Store drops it: closed).
  virtual void Rollback() = 0;
  virtual bool usable() const { return true; }
  // Embedded only: the volume (Error(kInvalidArgument) through a mount).
  virtual Volume& volume() = 0;
  // A remote store's writer, embedded: the garbage step on its own store
  // (Store::CollectGarbage). REQUIRES the op lock (no commit runs).
  virtual GcReport CollectGarbage(const GcOptions& options, const GcProgressFn& progress) = 0;
};

// The cache's figures of stats, the same in both modes.
inline void FillCacheStats(const PoolStats& pool, StoreStats& s) {
  s.cache_budget = pool.budget;
  s.resident_bytes = pool.resident_bytes;
  s.page_bytes = pool.frame_bytes;
  s.hits = pool.hits;
  s.misses = pool.misses;
  s.evictions = pool.evictions;
  s.dirty_pages = pool.dirty;
  s.pinned_pages = pool.pinned;
}

}  // namespace pagefs
