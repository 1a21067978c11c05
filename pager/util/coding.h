// Fixed-width fields at byte offsets of a page, read and written with memcpy
// so that unaligned offsets are fine and no aliasing rule is broken. Pages
// are little-endian on disk; the engine targets little-endian hosts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

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

// The same fields appended to and read from a byte string (a record built
// in memory: an object's manifest, an index file).
template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads a T at at, advancing it; false when the bytes run out.
template <typename T>
bool Take(const std::string& in, size_t& at, T& v) {
  if (in.size() < at + sizeof v) return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
}

}  // namespace pagefs
