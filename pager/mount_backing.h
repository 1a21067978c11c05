// MountBacking: the PageBacking of a store opened through a pagefs mount. Page
// id lives at offset id * page_size of MOUNT/PREFIX/data; a load is one pread
// (the daemon checksums, shadow-pages and caches what is written). The daemon
// allocates exactly the page a write names, so no extra call is needed to make
// a written page exist.
//
// Every FUSE request costs tens of microseconds, so stores of adjacent pages
// are combined into one pwrite of up to kCombineBytes; Flush() sends what is
// pending, and a load of a pending page is served from it.
//
// Thread safety: Load/Store/Flush from any thread. The backing does not own
// the descriptor.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "pager/page_backing.h"

namespace pagefs {

// MOUNT/PREFIX/committed, the read-only clients' view: the pages of one
// commit (the last when the file was opened) at id * page_size, as in data.
// Page 0 is no page, so it carries this header instead (the rest of page 0
// reads as zeros); little-endian u64s.
struct CommittedHeader {
  static constexpr uint64_t kMagic = 0x5453434d4f434650;  // "PFCOMMST"
  static constexpr size_t kBytes = 48;
  uint64_t epoch = 0;        // the commit this open file reads
  uint64_t root_map = 0;     // its anchors
  uint64_t orphan_head = 0;
  uint64_t page_count = 0;   // its page count
  uint64_t latest_epoch = 0; // the daemon's last commit at the time of the read
};

inline void EncodeCommittedHeader(const CommittedHeader& h, uint8_t* out) {
  const uint64_t words[6] = {CommittedHeader::kMagic, h.epoch, h.root_map, h.orphan_head,
                             h.page_count, h.latest_epoch};
  for (int w = 0; w < 6; ++w) {
    for (int i = 0; i < 8; ++i) out[8 * w + i] = static_cast<uint8_t>(words[w] >> (8 * i));
  }
}

// False unless the bytes start with the magic.
inline bool DecodeCommittedHeader(const uint8_t* in, CommittedHeader& h) {
  uint64_t words[6];
  for (int w = 0; w < 6; ++w) {
    words[w] = 0;
    for (int i = 7; i >= 0; --i) words[w] = (words[w] << 8) | in[8 * w + i];
  }
  if (words[0] != CommittedHeader::kMagic) return false;
  h = {words[1], words[2], words[3], words[4], words[5]};
  return true;
}

class MountBacking final : public PageBacking {
 public:
  // fd: MOUNT/PREFIX/data, opened by the caller, valid while the backing lives.
  MountBacking(int fd, uint32_t page_size) : fd_(fd), page_size_(page_size) {}

  static constexpr size_t kCombineBytes = 1 << 20;

  // Bytes past the end of data read as zeros (a page the daemon never stored).
  void Load(PageId id, uint8_t* buf) override;
  void Store(PageId id, const uint8_t* buf) override;
  void Flush() override;
  uint64_t metadata_bytes() const override { return kCombineBytes; }

 private:
  void FlushLocked();  // REQUIRES mu_

  const int fd_;
  const uint32_t page_size_;
  std::mutex mu_;
  std::vector<uint8_t> pending_;  // pages first_pending_, first_pending_ + 1, ...
  PageId first_pending_ = kNoPage;
};

}  // namespace pagefs
