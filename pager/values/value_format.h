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

#include "pager/util/page.h"

namespace pagefs {

enum class ValueTag : uint8_t {
  kNone = 0x00,
  kFalse = 0x01,
  kTrue = 0x02,
  kInt = 0x03,           // zigzag varint, any int64
  kBigInt = 0x04,        // varint n, then n bytes of two's complement, little-endian
  kFloat = 0x05,         // 8 bytes IEEE-754, little-endian, bit-exact (nan, -0.0)
  kStr = 0x06,           // varint n, then n bytes of UTF-8 ("surrogatepass")
  kBytes = 0x07,         // varint n, then n bytes
  kBlobStr = 0x08,       // stored form only: u64 length, u64 first blob page
  kBlobBytes = 0x09,     // stored form only
  kRef = 0x0A,           // u8 CollectionKind, u64 collection id
  kBlobBigInt = 0x0B,    // stored form only: an int too long to keep inline
  kTuple = 0x0C,         // varint count, varint n, then n bytes: the count values
  kBlobTuple = 0x0D,     // stored form only: u64 length, u64 first page of a stored kTuple
  kAbsent = 0x0E,        // stored form only: the slot of a deleted entry of a hash collection
  kShortStrBase = 0x40,  // 0x40..0x7F: str of (tag - 0x40) bytes, bytes follow
  kSmallIntBase = 0x80,  // 0x80..0xFF: int (tag - 0x80 - kSmallIntBias)
};
inline constexpr int kSmallIntBias = 16;  // small ints cover -16..111
inline constexpr size_t kShortStrMax = 63;

enum class CollectionKind : uint8_t { kList = 1, kRootMap = 2, kDict = 3, kSet = 4 };
// True for the kinds a reference may name (Decode rejects the others).
inline bool IsKnownCollectionKind(uint8_t kind) { return kind >= 1 && kind <= 4; }

// The decoded view of one value; string payloads point into the source bytes.
struct ValueView {
  enum class Kind : uint8_t {
    kNone,
    kBool,
    kInt,
    kBigInt,
    kFloat,
    kStr,
    kBytes,
    kBlobStr,
    kBlobBytes,
    kRef,
    kBlobBigInt,
    kTuple,
    kBlobTuple,
    kAbsent
  };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view data;  // kStr/kBytes: the payload; kBigInt: two's complement LE;
                          // kTuple: the elements' encodings, back to back
  uint64_t count = 0;     // kTuple: the number of elements
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
// An int that fits in int64 is written as EncodeInt would, so every int has
// one encoding (equal values, equal bytes).
void EncodeBigInt(std::string& out, std::string_view twos_complement_le);
void EncodeFloat(std::string& out, double v);
void EncodeStr(std::string& out, std::string_view utf8);
void EncodeBytes(std::string& out, std::string_view bytes);
void EncodeRef(std::string& out, CollectionKind kind, uint64_t id);
// A tuple of count values whose encodings are elements, back to back.
void EncodeTuple(std::string& out, uint64_t count, std::string_view elements);
void EncodeAbsent(std::string& out);
void EncodeBlob(std::string& out, bool is_str, uint64_t length, PageId first_page);
// The blob form of an inline value of kind (kStr, kBytes or kBigInt) whose
// payload of length bytes starts at first_page.
void EncodeBlob(std::string& out, ValueView::Kind inline_kind, uint64_t length, PageId first_page);
// The inline form of kind (kStr, kBytes or kBigInt) around payload, written
// as is (no canonicalisation): the inverse of storing a payload as a blob.
void EncodeInlinePayload(std::string& out, ValueView::Kind kind, std::string_view payload);

// Length in bytes of the value that starts at p (at most avail bytes readable).
// Throws Error(kCorruption) when the bytes are not a valid value.
size_t EncodedSize(const uint8_t* p, size_t avail);
// EncodedSize without a call for the commonest values (short str, small int,
// None, bools, floats); the rest go to EncodedSize. Hot path of list appends.
inline size_t FastEncodedSize(const uint8_t* p, size_t avail) {
  if (avail != 0) {
    uint8_t tag = p[0];
    size_t n = tag >= static_cast<uint8_t>(ValueTag::kSmallIntBase) ? 1
               : tag >= static_cast<uint8_t>(ValueTag::kShortStrBase)
                   ? 1 + (tag - static_cast<uint8_t>(ValueTag::kShortStrBase))
               : tag <= static_cast<uint8_t>(ValueTag::kTrue) ? 1
                                                              : 0;
    if (n != 0 && n <= avail) return n;
  }
  return EncodedSize(p, avail);
}
// True when a value with this first byte may own something outside its own
// bytes (a blob, a reference, a tuple holding one) or may need to become a
// blob when stored.
inline bool MayTouchHeap(uint8_t tag) {
  return tag >= static_cast<uint8_t>(ValueTag::kBigInt) &&
         tag <= static_cast<uint8_t>(ValueTag::kBlobTuple) &&
         tag != static_cast<uint8_t>(ValueTag::kFloat);
}
// True when a *stored* value with this first byte may own a blob or a
// reference (a tuple may, through its elements).
inline bool OwnsHeapObject(uint8_t tag) {
  return tag >= static_cast<uint8_t>(ValueTag::kBlobStr) &&
         tag <= static_cast<uint8_t>(ValueTag::kBlobTuple);
}
// True for the forms that only collections write (blobs, the absent slot):
// a caller handing one in is refused, as it could name pages it does not own.
inline bool IsStoredOnlyForm(uint8_t tag) {
  return (tag >= static_cast<uint8_t>(ValueTag::kBlobStr) &&
          tag <= static_cast<uint8_t>(ValueTag::kBlobBytes)) ||
         tag == static_cast<uint8_t>(ValueTag::kBlobBigInt) ||
         tag == static_cast<uint8_t>(ValueTag::kBlobTuple) ||
         tag == static_cast<uint8_t>(ValueTag::kAbsent);
}
// True when a stored value must go through Heap::ToInline before a caller
// sees it (blob forms, and tuples, whose elements may be blobs).
inline bool NeedsInlining(uint8_t tag) {
  return IsStoredOnlyForm(tag) || tag == static_cast<uint8_t>(ValueTag::kTuple);
}
// Decode the value at p. Throws Error(kCorruption) on malformed input.
ValueView Decode(const uint8_t* p, size_t avail);

}  // namespace pagefs
