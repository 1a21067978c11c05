// The stored form of one value. Every value is self-delimiting: a tag byte and
// a payload whose length the tag and payload say, so a run of values is just
// their concatenation. The layout is specified in docs/value_format.md; this
// file is its one writer and reader.
//
// Callers (the Python binding) encode and decode the *inline* forms only. The
// collections may store a long str/bytes out of line as a blob (kBlobStr,
// kBlobBytes) but resolve blobs before handing a value back, so callers never
// see blob tags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pager/page_space.h"

namespace pagefs {

enum class ValueTag : uint8_t {
  kNone = 0x00,
  kFalse = 0x01,
  kTrue = 0x02,
  kInt = 0x03,        // zigzag varint, any int64
  kBigInt = 0x04,     // varint n, then n bytes of two's complement, little-endian
  kFloat = 0x05,      // 8 bytes IEEE-754, little-endian, bit-exact (nan, -0.0)
  kStr = 0x06,        // varint n, then n bytes of UTF-8 ("surrogatepass")
  kBytes = 0x07,      // varint n, then n bytes
  kBlobStr = 0x08,    // stored form only: u64 length, u64 first blob page
  kBlobBytes = 0x09,  // stored form only
  kRef = 0x0A,        // u8 CollectionKind, u64 collection id
  kShortStrBase = 0x40,  // 0x40..0x7F: str of (tag - 0x40) bytes, bytes follow
  kSmallIntBase = 0x80,  // 0x80..0xFF: int (tag - 0x80 - kSmallIntBias)
};
inline constexpr int kSmallIntBias = 16;  // small ints cover -16..111
inline constexpr size_t kShortStrMax = 63;

enum class CollectionKind : uint8_t { kList = 1, kRootMap = 2 };

// The decoded view of one value; string payloads point into the source bytes.
struct ValueView {
  enum class Kind : uint8_t { kNone, kBool, kInt, kBigInt, kFloat, kStr, kBytes, kBlobStr, kBlobBytes, kRef };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view data;  // kStr/kBytes: the payload; kBigInt: two's complement LE
  uint64_t blob_length = 0;
  PageId blob_page = kNoPage;
  CollectionKind ref_kind = CollectionKind::kList;
  uint64_t ref_id = 0;
};

// Appenders: add the encoding of one value to out.
void EncodeNone(std::string& out);
void EncodeBool(std::string& out, bool v);
void EncodeInt(std::string& out, int64_t v);
// bytes: minimal two's complement, little-endian (as int.to_bytes(signed=True)).
void EncodeBigInt(std::string& out, std::string_view twos_complement_le);
void EncodeFloat(std::string& out, double v);
void EncodeStr(std::string& out, std::string_view utf8);
void EncodeBytes(std::string& out, std::string_view bytes);
void EncodeRef(std::string& out, CollectionKind kind, uint64_t id);
void EncodeBlob(std::string& out, bool is_str, uint64_t length, PageId first_page);

// Length in bytes of the value that starts at p (at most avail bytes readable).
// Throws Error(kCorruption) when the bytes are not a valid value.
size_t EncodedSize(const uint8_t* p, size_t avail);
// Decode the value at p. Throws Error(kCorruption) on malformed input.
ValueView Decode(const uint8_t* p, size_t avail);

}  // namespace pagefs
