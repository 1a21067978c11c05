// Values in their encoded form (pager/values/value_format.h), one call each,
// for tests that hand the engine keys and elements as bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "pager/values/value_format.h"

namespace pagefs::encoded {

inline std::string Int(int64_t v) {
  std::string s;
  EncodeInt(s, v);
  return s;
}
inline std::string Float(double v) {
  std::string s;
  EncodeFloat(s, v);
  return s;
}
inline std::string Bool(bool v) {
  std::string s;
  EncodeBool(s, v);
  return s;
}
inline std::string Str(std::string_view v) {
  std::string s;
  EncodeStr(s, v);
  return s;
}
inline std::string Bytes(std::string_view v) {
  std::string s;
  EncodeBytes(s, v);
  return s;
}
inline std::string None() {
  std::string s;
  EncodeNone(s);
  return s;
}
// An int too large for 64 bits, from its little-endian two's-complement bytes.
inline std::string Big(std::string_view le) {
  std::string s;
  EncodeBigInt(s, le);
  return s;
}
// A tuple of already encoded items.
inline std::string Tuple(std::initializer_list<std::string> items) {
  std::string elements, s;
  for (const auto& i : items) elements += i;
  EncodeTuple(s, items.size(), elements);
  return s;
}

}  // namespace pagefs::encoded
