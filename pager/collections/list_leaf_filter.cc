#include "pager/collections/list_leaf_filter.h"

#include <cstring>

#include "pager/collections/list_leaf.h"
#include "pager/util/coding.h"

namespace pagefs {

namespace {

constexpr uint32_t kOffsets = ListLeaf::kHeaderSize;  // where offset[0] is

// The count of the leaf-like page p, or -1 when its offsets do not fit.
int64_t LeafCount(const uint8_t* p, uint32_t size) {
  if (size < kOffsets || p[0] != kLeafType) return -1;
  const uint32_t count = Field<uint16_t>(p, 2);
  if (kOffsets + 2 * uint64_t{count} > size) return -1;
  return count;
}

}  // namespace

uint8_t ListLeafFilter::Encode(const uint8_t* page, uint32_t size, uint8_t* out) const {
  const int64_t count = LeafCount(page, size);
  if (count < 0) return 0;
  std::memcpy(out, page, size);
  auto before = static_cast<uint16_t>(size);  // 65536 wraps to 0, as in the offsets
  for (uint32_t i = 0; i < count; ++i) {
    const auto start = Field<uint16_t>(page, kOffsets + 2 * i);
    SetField<uint16_t>(out, kOffsets + 2 * i, static_cast<uint16_t>(before - start));
    before = start;
  }
  return kId;
}

bool ListLeafFilter::Decode(uint8_t id, const uint8_t* in, uint32_t size, uint8_t* out) const {
  const int64_t count = LeafCount(in, size);
  if (id != kId || count < 0) return false;
  std::memcpy(out, in, size);
  auto before = static_cast<uint16_t>(size);
  for (uint32_t i = 0; i < count; ++i) {
    before = static_cast<uint16_t>(before - Field<uint16_t>(in, kOffsets + 2 * i));
    SetField<uint16_t>(out, kOffsets + 2 * i, before);
  }
  return true;
}

}  // namespace pagefs
