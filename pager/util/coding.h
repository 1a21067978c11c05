// Fixed-width fields at byte offsets of a page, read and written with memcpy
// so that unaligned offsets are fine and no aliasing rule is broken. Pages
// are little-endian on disk; the engine targets little-endian hosts.
#pragma once

#include <cstdint>
#include <cstring>

namespace pagefs {

template <typename T>
T Field(const uint8_t* page, uint32_t at) {
  T v;
  std::memcpy(&v, page + at, sizeof v);
  return v;
}

template <typename T>
void SetField(uint8_t* page, uint32_t at, T v) {
  std::memcpy(page + at, &v, sizeof v);
}

}  // namespace pagefs
