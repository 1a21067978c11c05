// HashBucket: one page of a hash collection's index (docs/hash_format.md).
//
//   [0..7]    u64 next page of this bucket's chain, 0 on the last
//   [8..11]   u32 number of entries on this page
//   [12..15]  reserved, 0
//   [16..]    entries of 8 bytes: u32 low half of the key's stable hash,
//             u32 number of the entry in the collection's entry log
//
// A view over page bytes; it owns nothing and checks only what it is asked.
#pragma once

#include <cstdint>
#include <cstring>

#include "pager/util/coding.h"
#include "pager/util/page.h"

namespace pagefs {

struct IndexEntry {
  uint32_t hash_lo;
  uint32_t entry;
};

class HashBucket {
 public:
  static constexpr uint32_t kHeaderSize = 16;
  static constexpr uint32_t kEntrySize = 8;
  static uint32_t Capacity(uint32_t page_size) { return (page_size - kHeaderSize) / kEntrySize; }

  HashBucket(const uint8_t* page, uint32_t page_size)
      : p_(const_cast<uint8_t*>(page)), page_size_(page_size) {}

  void Init() { std::memset(p_, 0, kHeaderSize); }
  PageId next() const { return Field<uint64_t>(p_, 0); }
  void set_next(PageId id) { SetField<uint64_t>(p_, 0, id); }
  uint32_t count() const { return Field<uint32_t>(p_, 8); }
  void set_count(uint32_t n) { SetField<uint32_t>(p_, 8, n); }
  bool full() const { return count() >= Capacity(page_size_); }
  IndexEntry at(uint32_t j) const {
    return {Field<uint32_t>(p_, kHeaderSize + j * kEntrySize),
            Field<uint32_t>(p_, kHeaderSize + j * kEntrySize + 4)};
  }
  void put(uint32_t j, IndexEntry e) {
    SetField<uint32_t>(p_, kHeaderSize + j * kEntrySize, e.hash_lo);
    SetField<uint32_t>(p_, kHeaderSize + j * kEntrySize + 4, e.entry);
  }
  // REQUIRES !full().
  void Push(IndexEntry e) {
    put(count(), e);
    set_count(count() + 1);
  }
  // The first j in [from, count()) whose entry has hash_lo lo; count() when
  // there is none. The hot loop of every lookup: entries are compared four
  // at a time, one branch per four. REQUIRES sane().
  uint32_t FindHash(uint32_t from, uint32_t lo) const {
    const uint32_t n = count();
    uint32_t j = from;
    for (; j + 4 <= n; j += 4) {
      const uint32_t at = kHeaderSize + j * kEntrySize;
      const bool any = (Field<uint32_t>(p_, at) == lo) | (Field<uint32_t>(p_, at + 8) == lo) |
                       (Field<uint32_t>(p_, at + 16) == lo) | (Field<uint32_t>(p_, at + 24) == lo);
      if (any) break;
    }
    for (; j < n; ++j) {
      if (Field<uint32_t>(p_, kHeaderSize + j * kEntrySize) == lo) return j;
    }
    return n;
  }
  // True when the count fits the page (a page read from disk may lie).
  bool sane() const { return count() <= Capacity(page_size_); }

 private:
  uint8_t* p_;
  uint32_t page_size_;
};

}  // namespace pagefs
