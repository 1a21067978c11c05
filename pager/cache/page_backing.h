// PageBacking: what a BufferPool loads pages from and writes dirty pages back
// to. The Volume is one (checksums, shadow paging); a mounted store's data file
// is another. Implementations must be safe to call from several threads; the
// pool never loads or stores the same page twice at once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pager/util/page.h"

namespace pagefs {

class PageBacking {
 public:
  virtual ~PageBacking() = default;
  // Fills buf (page_size bytes) with page id. Throws pagefs::Error.
  virtual void Load(PageId id, uint8_t* buf) = 0;
  // Fills bufs[i] with page ids[i] for i < n, in as few tier requests as the
  // backing can manage. Returns k, how many leading pages were loaded (and
  // verified); k < n means page ids[k] failed and bufs[k..n) hold unspecified
  // bytes. Never throws for a page that fails: Load(ids[k]) reports why. For
  // prefetching, where a page that cannot be loaded is the caller's business
  // only once it asks for that page.
  virtual size_t LoadMany(const PageId* ids, uint8_t* const* bufs, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      try {
        Load(ids[i], bufs[i]);
      } catch (...) {
        return i;
      }
    }
    return n;
  }
  // Advisory: pages [first, first+count) will be loaded soon, so the backing
  // may start fetching their bytes (not into the pool: it costs no frames).
  // Never throws; a page it cannot fetch is reported by its Load.
  virtual void WillNeed(PageId /*first*/, uint64_t /*count*/) {}
  // Writes buf back as the new content of page id. Throws pagefs::Error.
  virtual void Store(PageId id, const uint8_t* buf) = 0;
  // Sends out whatever Store buffered (a backing may combine adjacent pages
  // into one write). The pool calls it at the end of FlushAll, so after
  // FlushAll every page written back has reached the backing's destination.
  virtual void Flush() {}
  // Bytes of RAM the backing holds (page table, allocators, a remote tier's
  // slot map); the pool counts them against its budget.
  virtual uint64_t metadata_bytes() const = 0;
  // The part of metadata_bytes() that TrimMetadata cannot drop (a remote
  // tier's slot map and indexes).
  virtual uint64_t fixed_metadata_bytes() const { return 0; }
  // Drops metadata that can be read again (page-table leaves without
  // uncommitted changes) until the rest, metadata_bytes() less
  // fixed_metadata_bytes(), is <= max_bytes, if it can.
  virtual void TrimMetadata(uint64_t /*max_bytes*/) {}
};

}  // namespace pagefs
