// ListNode: a view of one internal page of a list B+tree (docs/list_format.md).
//
//   [0]     u8  type = kNodeType
//   [1]     reserved
//   [2..3]  u16 count (children)
//   [4..7]  reserved, zero
//   [8..]   count entries of { u64 child page, u64 cumulative count }
//
// The cumulative count of entry i is the number of values in children 0..i,
// so finding the child that holds index k is a search (Find) and the node's
// total is its last entry. The view does not own the page; the caller keeps
// it pinned (writable for the mutators) and checks room first.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "pager/util/page.h"

namespace pagefs {

static_assert(std::endian::native == std::endian::little,
              "list pages are little-endian and read in host order");

inline constexpr uint8_t kNodeType = 2;

class ListNode {
 public:
  static constexpr uint32_t kHeaderSize = 8;
  static constexpr uint32_t kEntrySize = 16;

  ListNode(const uint8_t* page, uint32_t page_size)
      : p_(const_cast<uint8_t*>(page)), capacity_((page_size - kHeaderSize) / kEntrySize) {}

  void Init() {
    std::memset(p_, 0, kHeaderSize);
    p_[0] = kNodeType;
  }
  bool is_node() const { return p_[0] == kNodeType; }
  uint32_t count() const {
    uint16_t v;
    std::memcpy(&v, p_ + 2, 2);
    return v;
  }
  uint32_t capacity() const { return capacity_; }
  bool full() const { return count() >= capacity_; }

  PageId child(uint32_t i) const { return Load64(Entry(i)); }
  void set_child(uint32_t i, PageId id) { Store64(Entry(i), id); }
  uint64_t cum(uint32_t i) const { return Load64(Entry(i) + 8); }
  uint64_t before(uint32_t i) const { return i == 0 ? 0 : cum(i - 1); }
  uint64_t count_of(uint32_t i) const { return cum(i) - before(i); }
  uint64_t total() const { return count() == 0 ? 0 : cum(count() - 1); }

  // The child holding index k: the first entry with cum > k, or the last
  // entry when k == total() (an insert at the very end). Children hold
  // about the same number of values, so the search starts where k would sit
  // if they held exactly as many and gallops out from there: a random read
  // touches two or three of the page's cache lines, where a binary search
  // over hundreds of entries misses the cache at most of its steps. Any
  // counts are still found, in O(log n) probes at worst.
  uint32_t Find(uint64_t k) const {
    const uint32_t n = count();
    if (n <= 1) return 0;
    const uint64_t all = cum(n - 1);
    if (k >= all) return n - 1;
    const auto guess = std::min(
        n - 1, static_cast<uint32_t>(static_cast<double>(k) / static_cast<double>(all) * n));
    uint32_t lo = 0, hi = n - 1;  // the answer is in [lo, hi]
    if (cum(guess) > k) {
      hi = guess;
      for (uint32_t step = 1; step <= guess; step *= 2) {
        if (cum(guess - step) <= k) {
          lo = guess - step + 1;
          break;
        }
        hi = guess - step;
      }
    } else {
      lo = guess + 1;
      for (uint32_t step = 1; guess + step < n - 1; step *= 2) {
        if (cum(guess + step) > k) {
          hi = guess + step;
          break;
        }
        lo = guess + step + 1;
      }
    }
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (cum(mid) > k) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  // Adds delta values to child i (and so to every later cumulative count).
  void AddCount(uint32_t i, int64_t delta) {
    for (uint32_t j = i, n = count(); j < n; ++j) Store64(Entry(j) + 8, cum(j) + delta);
  }
  // Inserts child id holding n values before entry i. REQUIRES !full().
  void Insert(uint32_t i, PageId id, uint64_t n) {
    uint32_t c = count();
    std::memmove(p_ + Entry(i + 1), p_ + Entry(i), kEntrySize * (c - i));
    SetCount(c + 1);
    Store64(Entry(i), id);
    Store64(Entry(i) + 8, before(i));
    AddCount(i, static_cast<int64_t>(n));
  }
  void Append(PageId id, uint64_t n) { Insert(count(), id, n); }
  // Removes entries [a, b) (and their values from the counts).
  void Remove(uint32_t a, uint32_t b) {
    if (a == b) return;
    uint64_t gone = cum(b - 1) - before(a);
    uint32_t c = count();
    std::memmove(p_ + Entry(a), p_ + Entry(b), kEntrySize * (c - b));
    SetCount(c - (b - a));
    for (uint32_t j = a, n = count(); j < n; ++j) Store64(Entry(j) + 8, cum(j) - gone);
  }
  // Rewrites the entries from parallel arrays of children and their counts.
  void Assign(const PageId* ids, const uint64_t* counts, uint32_t n) {
    uint64_t run = 0;
    for (uint32_t j = 0; j < n; ++j) {
      run += counts[j];
      Store64(Entry(j), ids[j]);
      Store64(Entry(j) + 8, run);
    }
    SetCount(n);
  }

 private:
  static uint32_t Entry(uint32_t i) { return kHeaderSize + kEntrySize * i; }
  void SetCount(uint32_t n) {
    uint16_t v = static_cast<uint16_t>(n);
    std::memcpy(p_ + 2, &v, 2);
  }
  uint64_t Load64(uint32_t at) const {
    uint64_t v;
    std::memcpy(&v, p_ + at, 8);
    return v;
  }
  void Store64(uint32_t at, uint64_t v) { std::memcpy(p_ + at, &v, 8); }

  uint8_t* p_;
  uint32_t capacity_;
};

}  // namespace pagefs
