// PageBacking: what a BufferPool loads pages from and writes dirty pages back
// to. The Volume is one (checksums, shadow paging); a mounted store's data file
// is another. Implementations must be safe to call from several threads; the
// pool never loads or stores the same page twice at once.
#pragma once

#include <cstdint>

#include "pager/page_space.h"

namespace pagefs {

class PageBacking {
 public:
  virtual ~PageBacking() = default;
  // Fills buf (page_size bytes) with page id. Throws pagefs::Error.
  virtual void Load(PageId id, uint8_t* buf) = 0;
  // Writes buf back as the new content of page id. Throws pagefs::Error.
  virtual void Store(PageId id, const uint8_t* buf) = 0;
  // Bytes of RAM the backing holds (page table, allocators); the pool counts
  // them against its budget.
  virtual uint64_t metadata_bytes() const = 0;
};

}  // namespace pagefs
