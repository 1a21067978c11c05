// Blobs: long str/bytes/int payloads stored out of line, in a chain of pages
// that each start with the u64 id of the next (kNoPage on the last), the
// payload's bytes after it (docs/value_format.md). A blob belongs to the one
// stored value that names it (with its length): it is written when the value
// is stored and freed when the value is dropped.
//
// Thread safety: as the PageSpace; a chain is only ever touched by the
// collection whose value names it, under that collection's lock.
// Errors: Error(kCorruption) for a chain shorter than its length, plus
// whatever the PageSpace throws.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "pager/space/page_space.h"

namespace pagefs {

class Blobs {
 public:
  static constexpr uint32_t kLinkBytes = 8;  // each page starts with the next page's id

  explicit Blobs(PageSpace& space) : space_(space) {}
  Blobs(const Blobs&) = delete;
  Blobs& operator=(const Blobs&) = delete;

  // Payloads longer than this (a quarter page less 16 bytes) are blobs, so a
  // list leaf always holds at least four values.
  size_t threshold() const { return space_.page_size() / 4 - 16; }
  // Pages of a blob of length bytes on pages of page_size (at least one).
  static uint64_t Pages(uint64_t length, uint32_t page_size) {
    const uint32_t chunk = page_size - kLinkBytes;
    return std::max<uint64_t>(1, (length + chunk - 1) / chunk);
  }

  // Writes payload to new pages; returns the first.
  PageId Write(std::string_view payload);
  // Appends the length bytes of the blob at first to out.
  void Read(PageId first, uint64_t length, std::string& out);
  void Free(PageId first, uint64_t length);

 private:
  PageSpace& space_;
};

}  // namespace pagefs
