// Page contents for tests of the tier and volume layers: bytes that tell
// which page and which version they are, and where a tier holds them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

// page_size bytes that differ for every (id, version): the id and version
// stamped at the start, then a pattern of both.
inline std::vector<uint8_t> PageBytes(uint64_t id, uint32_t version, uint32_t page_size = 4096) {
  std::vector<uint8_t> bytes(page_size);
  for (uint32_t i = 0; i < page_size; ++i) {
    bytes[i] = static_cast<uint8_t>(id * 31 + version * 7 + i);
  }
  std::memcpy(bytes.data(), &id, sizeof(id));
  std::memcpy(bytes.data() + sizeof(id), &version, sizeof(version));
  return bytes;
}

// Writes PageBytes(id, version, page_size) into a page.
inline void StampPage(uint8_t* data, uint64_t id, uint32_t version, uint32_t page_size = 4096) {
  const std::vector<uint8_t> bytes = PageBytes(id, version, page_size);
  std::memcpy(data, bytes.data(), page_size);
}

// Whether a page holds exactly PageBytes(id, version, page_size).
inline bool HasStampedPage(const uint8_t* data, uint64_t id, uint32_t version,
                           uint32_t page_size = 4096) {
  return std::memcmp(PageBytes(id, version, page_size).data(), data, page_size) == 0;
}

// The bytes of a tier slot.
inline std::vector<uint8_t> SlotBytes(Tier& tier, SlotId slot) {
  std::vector<uint8_t> bytes(tier.slot_size());
  tier.Read(slot, bytes.data());
  return bytes;
}

// The first slot at or after from that holds exactly bytes (fails if none).
inline SlotId SlotHolding(Tier& tier, const std::vector<uint8_t>& bytes, SlotId from = 0) {
  for (SlotId s = from; s < tier.size(); ++s) {
    if (SlotBytes(tier, s) == bytes) return s;
  }
  ADD_FAILURE() << "no slot of " << tier.name() << " holds these bytes";
  return 0;
}

}  // namespace pagefs
