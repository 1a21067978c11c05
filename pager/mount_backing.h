// MountBacking: the PageBacking of a store opened through a pagefs mount. Page
// id lives at offset id * page_size of MOUNT/PREFIX/data; a load is one pread,
// a store one pwrite (the daemon checksums, shadow-pages and caches it). The
// daemon allocates exactly the page a write names, so no extra call is needed
// to make a written page exist.
//
// Thread safety: Load/Store from any thread (pread/pwrite carry their offset).
// The backing does not own the descriptor.
#pragma once

#include <cstdint>

#include "pager/page_backing.h"

namespace pagefs {

class MountBacking final : public PageBacking {
 public:
  // fd: MOUNT/PREFIX/data, opened by the caller, valid while the backing lives.
  MountBacking(int fd, uint32_t page_size) : fd_(fd), page_size_(page_size) {}

  // Bytes past the end of data read as zeros (a page the daemon never stored).
  void Load(PageId id, uint8_t* buf) override;
  void Store(PageId id, const uint8_t* buf) override;
  uint64_t metadata_bytes() const override { return 0; }

 private:
  const int fd_;
  const uint32_t page_size_;
};

}  // namespace pagefs
