// ListLeaf: a view of one leaf page of a list B+tree (docs/list_format.md).
//
//   [0]     u8  type = kLeafType
//   [1]     u8  flags (kLeafOwnsHeap: some value may be a blob or a reference)
//   [2..3]  u16 count
//   [4..7]  reserved, zero
//   [8..]   u16 offset[count]: where value i starts
//   ...     free space
//   [..end] values, packed downward from the end of the page: value 0 ends at
//           page_size, value i ends where value i-1 starts.
//
// Value i is found in O(1) and its length is the difference of two offsets,
// so a leaf never parses its values. Offsets fit u16 for any page size up to
// 65536 because a value is never empty. The view does not own the page; the
// caller keeps it pinned (writable for the mutators) and checks room first.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace pagefs {

inline constexpr uint8_t kLeafType = 1;
inline constexpr uint8_t kLeafOwnsHeap = 1;

class ListLeaf {
 public:
  static constexpr uint32_t kHeaderSize = 8;

  ListLeaf(const uint8_t* page, uint32_t page_size)
      : p_(const_cast<uint8_t*>(page)), page_size_(page_size) {}

  void Init() {
    std::memset(p_, 0, kHeaderSize);
    p_[0] = kLeafType;
  }
  bool is_leaf() const { return p_[0] == kLeafType; }
  uint32_t count() const { return Load16(2); }
  bool owns_heap() const { return (p_[1] & kLeafOwnsHeap) != 0; }
  void mark_owns_heap() { p_[1] |= kLeafOwnsHeap; }

  uint32_t start(uint32_t i) const { return Load16(kHeaderSize + 2 * i); }
  uint32_t end(uint32_t i) const { return i == 0 ? page_size_ : start(i - 1); }
  std::string_view value(uint32_t i) const {
    uint32_t s = start(i);
    return {reinterpret_cast<const char*>(p_ + s), end(i) - s};
  }
  uint32_t data_start() const { return end(count()); }
  // Bytes a value of n bytes needs: the bytes and one offset.
  static uint32_t Cost(size_t n) { return static_cast<uint32_t>(n) + 2; }
  uint32_t free_bytes() const { return data_start() - kHeaderSize - 2 * count(); }
  uint32_t used_bytes() const { return capacity() - free_bytes(); }
  uint32_t capacity() const { return page_size_ - kHeaderSize; }
  bool fits(size_t n) const { return Cost(n) <= free_bytes(); }

  // REQUIRES fits(v.size()).
  void Append(std::string_view v) {
    uint32_t n = count();
    uint32_t s = end(n) - static_cast<uint32_t>(v.size());
    std::memcpy(p_ + s, v.data(), v.size());
    Store16(kHeaderSize + 2 * n, s);
    Store16(2, n + 1);
  }

  // Inserts v before value i. REQUIRES i <= count(), fits(v.size()).
  void Insert(uint32_t i, std::string_view v) {
    uint32_t n = count(), len = static_cast<uint32_t>(v.size());
    uint32_t ds = data_start(), e = end(i);
    std::memmove(p_ + ds - len, p_ + ds, e - ds);
    std::memmove(p_ + kHeaderSize + 2 * (i + 1), p_ + kHeaderSize + 2 * i, 2 * (n - i));
    Store16(kHeaderSize + 2 * i, e - len);
    for (uint32_t j = i + 1; j <= n; ++j) Store16(kHeaderSize + 2 * j, start(j) - len);
    Store16(2, n + 1);
    std::memcpy(p_ + e - len, v.data(), len);
  }

  // Removes values [a, b). REQUIRES a <= b <= count().
  void Erase(uint32_t a, uint32_t b) {
    if (a == b) return;
    uint32_t n = count(), ds = data_start(), cut = start(b - 1);
    uint32_t len = end(a) - cut;
    std::memmove(p_ + ds + len, p_ + ds, cut - ds);
    for (uint32_t j = b; j < n; ++j) Store16(kHeaderSize + 2 * (j - (b - a)), start(j) + len);
    Store16(2, n - (b - a));
  }

  // Removes values first, first + stride, ... (erased of them) in one pass.
  // REQUIRES stride >= 1, erased >= 1, first + (erased - 1) * stride < count().
  void EraseEvery(uint32_t first, uint32_t stride, uint32_t erased) {
    const uint32_t n = count();
    const uint32_t last = first + (erased - 1) * stride;
    uint32_t old_end = end(first), write_end = old_end, kept = first;
    for (uint32_t j = first; j < n; ++j) {
      const uint32_t old_start = start(j);  // read before entry `kept` <= j is rewritten
      const uint32_t len = old_end - old_start;
      old_end = old_start;
      if (j <= last && (j - first) % stride == 0) continue;
      // Kept values move up (toward the page end), over bytes already read.
      write_end -= len;
      std::memmove(p_ + write_end, p_ + old_start, len);
      Store16(kHeaderSize + 2 * kept, write_end);
      ++kept;
    }
    Store16(2, kept);
  }

  // Replaces value i by v. REQUIRES free_bytes() + value(i).size() >= v.size().
  void Replace(uint32_t i, std::string_view v) {
    uint32_t n = count(), ds = data_start(), e = end(i), s = start(i);
    int32_t delta = static_cast<int32_t>(v.size()) - static_cast<int32_t>(e - s);
    std::memmove(p_ + ds - delta, p_ + ds, s - ds);
    for (uint32_t j = i; j < n; ++j) Store16(kHeaderSize + 2 * j, start(j) - delta);
    std::memcpy(p_ + e - v.size(), v.data(), v.size());
  }

 private:
  uint32_t Load16(uint32_t at) const {
    uint16_t v;
    std::memcpy(&v, p_ + at, 2);
    return v;
  }
  void Store16(uint32_t at, uint32_t v) {
    uint16_t w = static_cast<uint16_t>(v);
    std::memcpy(p_ + at, &w, 2);
  }

  uint8_t* p_;
  uint32_t page_size_;
};

}  // namespace pagefs
