// Superblock: the root of one commit. Two superblock slots (tier slots 0 and
// 1) alternate by epoch parity; a commit is durable once its superblock is.
// Each slot holds two copies of the record (at bytes 0 and 2048), each
// framed as [u32 length][cereal binary record][u64 XXH3 of both], so a single
// flipped bit never costs a commit and a torn write is recognised. Opening
// takes the valid copy with the highest epoch. Layout: docs/superblock_format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pager/util/page.h"

namespace pagefs {

inline constexpr size_t kSuperblockCopySize = 2048;  // two copies fit the smallest page

struct Superblock {
  static constexpr uint64_t kMagic = 0x3153424653474150ULL;  // "PAGSFBS1" in little-endian bytes
  static constexpr uint32_t kFormatVersion = 1;

  uint64_t magic = kMagic;
  uint32_t format_version = kFormatVersion;
  uint32_t page_size = 0;
  uint32_t slots_per_segment = 0;
  uint64_t epoch = 0;         // commit number; the newest valid one wins
  uint64_t page_count = 0;    // logical page ids in use are < page_count
  uint32_t table_height = 0;  // levels of the page table (0: empty)
  uint64_t table_root_slot = 0;
  uint64_t table_root_checksum = 0;
  Anchors anchors;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(magic, format_version, page_size, slots_per_segment, epoch, page_count, table_height,
       table_root_slot, table_root_checksum, anchors.root_map, anchors.orphan_head);
  }
};

// Fills a slot-sized buffer (>= 2 * kSuperblockCopySize) with two framed copies of sb.
void EncodeSuperblock(const Superblock& sb, std::vector<uint8_t>& slot);
// The valid copy with the highest epoch among the two at p (which holds at
// least 2 * kSuperblockCopySize bytes), if any.
std::optional<Superblock> DecodeSuperblockSlot(const uint8_t* p);

}  // namespace pagefs
