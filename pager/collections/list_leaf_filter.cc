#include "pager/collections/list_leaf_filter.h"

#include <cstring>

#include "pager/collections/list_leaf.h"
#include "pager/util/coding.h"

namespace pagefs {

namespace {

// Whether the page looks like a leaf whose offsets fit it (ListLeaf reads the
// type and the count; nothing else of the page need make sense).
bool TakesPage(const ListLeaf& leaf, uint32_t size) {
  return size >= ListLeaf::kHeaderSize && leaf.is_leaf() &&
         ListLeaf::kHeaderSize + 2 * uint64_t{leaf.count()} <= size;
}

}  // namespace

uint8_t ListLeafFilter::Encode(const uint8_t* page, uint32_t size, uint8_t* out) const {
  const ListLeaf leaf(page, size);
  if (!TakesPage(leaf, size)) return 0;
  std::memcpy(out, page, size);
  auto before = static_cast<uint16_t>(size);  // 65536 wraps to 0, as in the offsets
  for (uint32_t i = 0; i < leaf.count(); ++i) {
    const auto start = static_cast<uint16_t>(leaf.start(i));
    SetField<uint16_t>(out, ListLeaf::kHeaderSize + 2 * i, static_cast<uint16_t>(before - start));
    before = start;
  }
  return kId;
}

bool ListLeafFilter::Decode(uint8_t id, const uint8_t* in, uint32_t size, uint8_t* out) const {
  const ListLeaf filtered(in, size);  // its offsets are lengths; type and count as they were
  if (id != kId || !TakesPage(filtered, size)) return false;
  std::memcpy(out, in, size);
  auto before = static_cast<uint16_t>(size);
  for (uint32_t i = 0; i < filtered.count(); ++i) {
    before = static_cast<uint16_t>(before - filtered.start(i));
    SetField<uint16_t>(out, ListLeaf::kHeaderSize + 2 * i, before);
  }
  return true;
}

}  // namespace pagefs
