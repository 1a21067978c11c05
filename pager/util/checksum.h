// Page checksums: XXH3-64 from libxxhash. The seed binds a checksum to what
// the bytes are supposed to be (a data page's id, a page-table node's level
// and index), so a page written to the wrong slot fails verification too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pagefs {

uint64_t Checksum(const void* data, size_t n, uint64_t seed);

inline uint64_t DataPageSeed(uint64_t page_id) { return page_id; }
inline uint64_t TableNodeSeed(uint32_t level, uint64_t index) {
  return (uint64_t{1} << 63) | (uint64_t{level} << 56) | index;
}

}  // namespace pagefs
