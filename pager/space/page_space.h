// PageSpace is the seam between collections and wherever their pages live.
// Collections (lists, the root map, later dicts and sets) see pages only
// through this interface, so they run unchanged on an embedded Volume or on
// the files of a pagefs mount.
//
// Pages are fixed-size byte arrays named by a PageId >= 1 (0 is kNoPage).
// A page is pinned while a PageGuard for it lives: its bytes stay at data()
// and are never evicted. Pins are cheap (no syscall, no allocation on a hit).
//
// Thread safety: read/write/allocate/free may be called from many threads at
// once. Callers serialize access to the *contents* of a page themselves (each
// collection holds its own lock); the space only guarantees residency. commit()
// requires that no thread is modifying pages concurrently: callers hold the
// store's operation lock exclusively around it.
#pragma once

#include <cstdint>
#include <span>

#include "pager/util/page.h"

namespace pagefs {

class PageSpace {
 public:
  virtual ~PageSpace() = default;

  virtual uint32_t page_size() const = 0;

  // Pin an existing page for reading. Throws Error(kCorruption) if its stored
  // bytes fail their checksum, Error(kIo) on I/O failure, Error(kInvalidArgument)
  // for an id that was never allocated.
  virtual PageGuard Read(PageId id) = 0;
  // Advice that pages [first, first+count) will be read soon: a space with a
  // cache may load the missing ones in one batch. Never required for
  // correctness: a page that fails to load is reported by its Read. Returns
  // how many leading pages of the range it dealt with (a cache bounded by its
  // budget may stop short; ask again from there). Throws only what a Read
  // could (a failed write-back of an evicted page).
  virtual uint64_t Prefetch(PageId /*first*/, uint64_t count) { return count; }
  // Like Prefetch, but in the background: returns at once (readahead). The
  // range advise, further ahead, is only announced to the tiers (read into no
  // cache of the space's; count 0: none).
  virtual void PrefetchAsync(PageId /*first*/, uint64_t /*count*/, PageId /*advise_first*/,
                             uint64_t /*advise_count*/) {}
  // Advice from a scan: it reads these pages next. A space whose misses are
  // each a round trip (a mapped mount, which faults one page at a time) asks
  // for them together; the others ignore it. Never required for correctness.
  virtual void WillRead(std::span<const PageId> /*ids*/) {}
  // Where page id's bytes are in memory now, if the space knows, without
  // pinning them: nullptr otherwise. Only a hint for __builtin_prefetch (a
  // lookup starts fetching the cache lines it reads next while the pin waits
  // for the page's state): the memory may hold another page by the time the
  // caller looks, so it is never read through. Cheap: no lock, no load.
  virtual const uint8_t* WhereResident(PageId /*id*/) { return nullptr; }
  // Pin an existing page for modification; the page is marked dirty.
  // Throws Error(kReadOnly) on a read-only space.
  virtual PageGuard Write(PageId id) = 0;
  // A new page, zero-filled, pinned for modification.
  virtual PageGuard Allocate() = 0;
  // Give a page back. REQUIRES: no guard on it is alive.
  virtual void Free(PageId id) = 0;

  // Make every change since the last commit durable, atomically.
  virtual void Commit() = 0;

  virtual Anchors anchors() const = 0;
  // Takes effect with the next Commit().
  virtual void set_anchors(const Anchors& anchors) = 0;

  virtual bool read_only() const = 0;

  // A space that shows a reader one commit at a time (a read-only client of
  // a mount): NewerCommit says whether a newer commit exists (cheaply: it may
  // look only now and then, force makes it look now), FollowCommit moves the
  // view to the newest one, dropping what it cached. REQUIRES for
  // FollowCommit: no page pinned (the store's op lock held exclusively).
  virtual bool NewerCommit(bool /*force*/) { return false; }
  virtual void FollowCommit() {}

  // Changes whenever pages may have changed other than through this space's
  // own Write, Allocate and Free: a move to a newer commit, a rollback.
  // Whoever keeps in memory what pages said (a hash collection's bucket
  // directory, bucket_cache.h) compares it. Changes only under the store's
  // op lock held exclusively: read it with the lock held (shared suffices).
  virtual uint64_t view_generation() const { return 0; }
};

}  // namespace pagefs
