// HashBucket: one page of a hash collection's index (docs/hash_format.md).
//
//   [0..7]    u64 next page of this bucket's chain, 0 on the last
//   [8..11]   u32 number of entries on this page
//   [12..15]  u32 flags: bit 0 (kSorted) entries in ascending order of hash
//   [16..]    entries of 8 bytes: u32 low half of the key's stable hash,
//             u32 number of the entry in the collection's entry log
//
// Pages are kept sorted, so a lookup is a search from where lo would sit
// (LowerBound; a bucket holds hundreds of entries); a page without the flag
// (written before pagefs kept them sorted) is scanned whole and sorted by
// its next Insert.
//
// A view over page bytes; it owns nothing and checks only what it is asked.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

  static constexpr uint32_t kSorted = 1;

  void Init() {
    std::memset(p_, 0, kHeaderSize);
    set_flags(kSorted);
  }
  PageId next() const { return Field<uint64_t>(p_, 0); }
  void set_next(PageId id) { SetField<uint64_t>(p_, 0, id); }
  uint32_t count() const { return Field<uint32_t>(p_, 8); }
  void set_count(uint32_t n) { SetField<uint32_t>(p_, 8, n); }
  uint32_t flags() const { return Field<uint32_t>(p_, 12); }
  void set_flags(uint32_t f) { SetField<uint32_t>(p_, 12, f); }
  bool sorted() const { return (flags() & kSorted) != 0; }
  bool full() const { return count() >= Capacity(page_size_); }
  IndexEntry at(uint32_t j) const {
    return {Field<uint32_t>(p_, kHeaderSize + j * kEntrySize),
            Field<uint32_t>(p_, kHeaderSize + j * kEntrySize + 4)};
  }
  // Raw store of entry j: the caller keeps the order (or clears kSorted).
  void put(uint32_t j, IndexEntry e) {
    SetField<uint32_t>(p_, kHeaderSize + j * kEntrySize, e.hash_lo);
    SetField<uint32_t>(p_, kHeaderSize + j * kEntrySize + 4, e.entry);
  }
  // Appends e; a page it leaves out of order loses kSorted. REQUIRES !full().
  void Push(IndexEntry e) {
    const uint32_t n = count();
    if (sorted() && n > 0 && at(n - 1).hash_lo > e.hash_lo) set_flags(flags() & ~kSorted);
    put(n, e);
    set_count(n + 1);
  }
  // Files e in hash order (sorting the page first if it is not).
  // REQUIRES !full() and sane().
  void Insert(IndexEntry e) {
    if (!sorted()) Sort();
    const uint32_t n = count();
    const uint32_t j = UpperBound(e.hash_lo);
    uint8_t* at = p_ + kHeaderSize + j * kEntrySize;
    std::memmove(at + kEntrySize, at, (n - j) * kEntrySize);
    put(j, e);
    set_count(n + 1);
  }
  // Removes entry j, keeping the order of the others. REQUIRES j < count().
  void Remove(uint32_t j) {
    const uint32_t n = count();
    uint8_t* at = p_ + kHeaderSize + j * kEntrySize;
    std::memmove(at, at + kEntrySize, (n - j - 1) * kEntrySize);
    set_count(n - 1);
  }
  // The order of a sorted page (ties by entry number).
  static bool InHashOrder(const IndexEntry& a, const IndexEntry& b) {
    return a.hash_lo < b.hash_lo || (a.hash_lo == b.hash_lo && a.entry < b.entry);
  }
  // Puts the entries in hash order and sets kSorted. REQUIRES sane().
  void Sort() {
    std::vector<IndexEntry> all(count());
    for (uint32_t j = 0; j < count(); ++j) all[j] = at(j);
    std::sort(all.begin(), all.end(), InHashOrder);
    for (uint32_t j = 0; j < count(); ++j) put(j, all[j]);
    set_flags(flags() | kSorted);
  }
  // True when the entries really are in hash order (a page read from disk
  // may say kSorted and lie).
  bool InOrder() const {
    for (uint32_t j = 1; j < count(); ++j) {
      if (at(j - 1).hash_lo > at(j).hash_lo) return false;
    }
    return true;
  }

  // The first j in [from, count()) whose entry has hash_lo lo; count() when
  // there is none. The hot loop of every lookup: a binary search on a sorted
  // page; on an unsorted one a scan that, with SSE2, compares eight entries
  // per step. REQUIRES sane().
  uint32_t FindHash(uint32_t from, uint32_t lo) const {
    const uint32_t n = count();
    if (sorted()) {
      // Matches are side by side: the first at or after from, or none.
      const uint32_t j = std::max(from, LowerBound(lo));
      return j < n && at(j).hash_lo == lo ? j : n;
    }
    uint32_t j = from;
#if defined(__SSE2__)
    // Two entries per 16 bytes: lanes 0 and 2 hold the hashes, 1 and 3 the
    // entry numbers, which the mask 0x5 of movemask_ps leaves out.
    const __m128i want = _mm_set1_epi32(static_cast<int>(lo));
    for (; j + 8 <= n; j += 8) {
      const uint8_t* at = p_ + kHeaderSize + j * kEntrySize;
      const __m128i a = _mm_cmpeq_epi32(Load16(at), want);
      const __m128i b = _mm_cmpeq_epi32(Load16(at + 16), want);
      const __m128i c = _mm_cmpeq_epi32(Load16(at + 32), want);
      const __m128i d = _mm_cmpeq_epi32(Load16(at + 48), want);
      const __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
      if ((_mm_movemask_ps(_mm_castsi128_ps(any)) & 0x5) != 0) break;
    }
#else
    for (; j + 4 <= n; j += 4) {
      const uint32_t at = kHeaderSize + j * kEntrySize;
      const bool any = (Field<uint32_t>(p_, at) == lo) | (Field<uint32_t>(p_, at + 8) == lo) |
                       (Field<uint32_t>(p_, at + 16) == lo) | (Field<uint32_t>(p_, at + 24) == lo);
      if (any) break;
    }
#endif
    for (; j < n; ++j) {
      if (Field<uint32_t>(p_, kHeaderSize + j * kEntrySize) == lo) return j;
    }
    return n;
  }
  // True when the count fits the page (a page read from disk may lie).
  bool sane() const { return count() <= Capacity(page_size_); }

 private:
  uint32_t HashAt(uint32_t j) const { return Field<uint32_t>(p_, kHeaderSize + j * kEntrySize); }
  // The first j whose hash is >= lo (LowerBound) or > lo (UpperBound), on a
  // sorted page. A page's hashes are spread evenly (their low bits are the
  // bucket's, the rest uniform), so the search starts where lo would sit if
  // they were exactly even and gallops out from there: its probes mostly
  // stay on that cache line and its neighbours, where a binary search over
  // hundreds of entries misses the cache at most of its steps. Any order of
  // hashes is still found, in O(log n) probes at worst.
  uint32_t LowerBound(uint32_t lo) const {
    const uint32_t n = count();
    if (n == 0) return 0;
    const auto guess = static_cast<uint32_t>((uint64_t{lo} * n) >> 32);  // < n
    uint32_t first = 0, last = n;  // the answer is in [first, last]
    if (HashAt(guess) < lo) {
      first = guess + 1;
      for (uint32_t step = 1; guess + step < n; step *= 2) {
        if (HashAt(guess + step) >= lo) {
          last = guess + step;
          break;
        }
        first = guess + step + 1;
      }
    } else {
      last = guess;
      for (uint32_t step = 1; step <= guess; step *= 2) {
        if (HashAt(guess - step) < lo) {
          first = guess - step + 1;
          break;
        }
        last = guess - step;
      }
    }
    for (uint32_t len = last - first; len > 0;) {
      const uint32_t half = len / 2;
      if (HashAt(first + half) < lo) {
        first += half + 1;
        len -= half + 1;
      } else {
        len = half;
      }
    }
    return first;
  }
  uint32_t UpperBound(uint32_t lo) const { return lo == UINT32_MAX ? count() : LowerBound(lo + 1); }

#if defined(__SSE2__)
  static __m128i Load16(const uint8_t* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  }
#endif

  uint8_t* p_;
  uint32_t page_size_;
};

}  // namespace pagefs
