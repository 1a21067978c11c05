#include "pager/values/value_format.h"

#include <cstring>

#include "pager/util/error.h"

namespace pagefs {
namespace {

constexpr uint8_t Tag(ValueTag t) { return static_cast<uint8_t>(t); }
constexpr size_t kMaxVarint = 10;  // a u64 in 7-bit groups

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutFixed64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

uint64_t GetFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void Corrupt(const char* what) {
  throw Error(ErrorCode::kCorruption, std::string("value format: ") + what);
}

// Reads a varint at p[*pos], never past avail; rejects overlong u64s.
uint64_t GetVarint(const uint8_t* p, size_t avail, size_t* pos) {
  uint64_t v = 0;
  for (size_t i = 0; i < kMaxVarint; ++i) {
    if (*pos >= avail) Corrupt("truncated varint");
    uint8_t b = p[(*pos)++];
    if (i == kMaxVarint - 1 && b > 1) Corrupt("varint overflows 64 bits");
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  Corrupt("varint too long");
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// A varint length n followed by n payload bytes, starting at p[pos].
std::string_view GetLengthPrefixed(const uint8_t* p, size_t avail, size_t pos, size_t* end) {
  uint64_t n = GetVarint(p, avail, &pos);
  if (n > avail - pos) Corrupt("payload runs past the end");
  *end = pos + n;
  return {reinterpret_cast<const char*>(p + pos), static_cast<size_t>(n)};
}

ValueView::Kind BlobKind(uint8_t tag) {
  switch (static_cast<ValueTag>(tag)) {
    case ValueTag::kBlobStr: return ValueView::Kind::kBlobStr;
    case ValueTag::kBlobBytes: return ValueView::Kind::kBlobBytes;
    case ValueTag::kBlobTuple: return ValueView::Kind::kBlobTuple;
    default: return ValueView::Kind::kBlobBigInt;
  }
}

// Decodes the value at p and reports its size; the one parser.
ValueView DecodeSized(const uint8_t* p, size_t avail, size_t* size) {
  if (avail == 0) Corrupt("empty input");
  ValueView v;
  const uint8_t tag = p[0];
  if (tag >= Tag(ValueTag::kSmallIntBase)) {
    v.kind = ValueView::Kind::kInt;
    v.i = static_cast<int64_t>(tag - Tag(ValueTag::kSmallIntBase)) - kSmallIntBias;
    *size = 1;
    return v;
  }
  if (tag >= Tag(ValueTag::kShortStrBase)) {
    size_t n = tag - Tag(ValueTag::kShortStrBase);
    if (n > avail - 1) Corrupt("short str runs past the end");
    v.kind = ValueView::Kind::kStr;
    v.data = {reinterpret_cast<const char*>(p + 1), n};
    *size = 1 + n;
    return v;
  }
  switch (static_cast<ValueTag>(tag)) {
    case ValueTag::kNone: *size = 1; return v;
    case ValueTag::kFalse:
    case ValueTag::kTrue:
      v.kind = ValueView::Kind::kBool;
      v.b = tag == Tag(ValueTag::kTrue);
      *size = 1;
      return v;
    case ValueTag::kInt: {
      size_t pos = 1;
      v.kind = ValueView::Kind::kInt;
      v.i = UnZigZag(GetVarint(p, avail, &pos));
      *size = pos;
      return v;
    }
    case ValueTag::kBigInt:
      v.kind = ValueView::Kind::kBigInt;
      v.data = GetLengthPrefixed(p, avail, 1, size);
      return v;
    case ValueTag::kFloat: {
      if (avail < 9) Corrupt("truncated float");
      uint64_t bits = GetFixed64(p + 1);
      v.kind = ValueView::Kind::kFloat;
      std::memcpy(&v.f, &bits, 8);
      *size = 9;
      return v;
    }
    case ValueTag::kStr:
    case ValueTag::kBytes:
      v.kind = tag == Tag(ValueTag::kStr) ? ValueView::Kind::kStr : ValueView::Kind::kBytes;
      v.data = GetLengthPrefixed(p, avail, 1, size);
      return v;
    case ValueTag::kBlobStr:
    case ValueTag::kBlobBytes:
    case ValueTag::kBlobBigInt:
    case ValueTag::kBlobTuple:
      if (avail < 17) Corrupt("truncated blob reference");
      v.kind = BlobKind(tag);
      v.blob_length = GetFixed64(p + 1);
      v.blob_page = GetFixed64(p + 9);
      if (v.blob_page == kNoPage) Corrupt("blob reference to page 0");
      *size = 17;
      return v;
    case ValueTag::kRef: {
      if (avail < 10) Corrupt("truncated reference");
      uint8_t kind = p[1];
      if (!IsKnownCollectionKind(kind)) {
        Corrupt("reference to an unknown collection kind");
      }
      v.kind = ValueView::Kind::kRef;
      v.ref_kind = static_cast<CollectionKind>(kind);
      v.ref_id = GetFixed64(p + 2);
      if (v.ref_id == kNoPage) Corrupt("reference to collection 0");
      *size = 10;
      return v;
    }
    case ValueTag::kTuple: {
      size_t pos = 1;
      v.kind = ValueView::Kind::kTuple;
      v.count = GetVarint(p, avail, &pos);
      v.data = GetLengthPrefixed(p, avail, pos, size);
      // Every element takes at least one byte.
      if (v.count > v.data.size()) Corrupt("tuple count exceeds its bytes");
      return v;
    }
    case ValueTag::kAbsent:
      v.kind = ValueView::Kind::kAbsent;
      *size = 1;
      return v;
    default: Corrupt("unknown tag");
  }
}

}  // namespace

void EncodeNone(std::string& out) { out.push_back(static_cast<char>(ValueTag::kNone)); }

void EncodeBool(std::string& out, bool v) {
  out.push_back(static_cast<char>(v ? ValueTag::kTrue : ValueTag::kFalse));
}

void EncodeInt(std::string& out, int64_t v) {
  if (v >= -kSmallIntBias && v < 128 - kSmallIntBias) {
    out.push_back(static_cast<char>(Tag(ValueTag::kSmallIntBase) + (v + kSmallIntBias)));
    return;
  }
  out.push_back(static_cast<char>(ValueTag::kInt));
  PutVarint(out, ZigZag(v));
}

void EncodeBigInt(std::string& out, std::string_view twos) {
  if (!twos.empty() && twos.size() <= 8) {
    // Sign-extend into an int64 and use the short form.
    uint64_t u = (static_cast<uint8_t>(twos.back()) & 0x80) ? ~uint64_t{0} : 0;
    for (size_t i = twos.size(); i-- > 0;) u = (u << 8) | static_cast<uint8_t>(twos[i]);
    EncodeInt(out, static_cast<int64_t>(u));
    return;
  }
  if (twos.empty()) {
    EncodeInt(out, 0);
    return;
  }
  EncodeInlinePayload(out, ValueView::Kind::kBigInt, twos);
}

void EncodeFloat(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  out.push_back(static_cast<char>(ValueTag::kFloat));
  PutFixed64(out, bits);
}

void EncodeStr(std::string& out, std::string_view utf8) {
  if (utf8.size() <= kShortStrMax) {
    out.push_back(static_cast<char>(Tag(ValueTag::kShortStrBase) + utf8.size()));
    out.append(utf8);
    return;
  }
  EncodeInlinePayload(out, ValueView::Kind::kStr, utf8);
}

void EncodeBytes(std::string& out, std::string_view bytes) {
  EncodeInlinePayload(out, ValueView::Kind::kBytes, bytes);
}

void EncodeInlinePayload(std::string& out, ValueView::Kind kind, std::string_view payload) {
  ValueTag tag = kind == ValueView::Kind::kStr     ? ValueTag::kStr
                 : kind == ValueView::Kind::kBytes ? ValueTag::kBytes
                                                   : ValueTag::kBigInt;
  out.push_back(static_cast<char>(tag));
  PutVarint(out, payload.size());
  out.append(payload);
}

void EncodeRef(std::string& out, CollectionKind kind, uint64_t id) {
  out.push_back(static_cast<char>(ValueTag::kRef));
  out.push_back(static_cast<char>(kind));
  PutFixed64(out, id);
}

void EncodeTuple(std::string& out, uint64_t count, std::string_view elements) {
  out.push_back(static_cast<char>(ValueTag::kTuple));
  PutVarint(out, count);
  PutVarint(out, elements.size());
  out.append(elements);
}

void EncodeAbsent(std::string& out) { out.push_back(static_cast<char>(ValueTag::kAbsent)); }

void EncodeBlob(std::string& out, bool is_str, uint64_t length, PageId first_page) {
  EncodeBlob(out, is_str ? ValueView::Kind::kStr : ValueView::Kind::kBytes, length, first_page);
}

void EncodeBlob(std::string& out, ValueView::Kind inline_kind, uint64_t length, PageId first_page) {
  ValueTag tag = inline_kind == ValueView::Kind::kStr     ? ValueTag::kBlobStr
                 : inline_kind == ValueView::Kind::kBytes ? ValueTag::kBlobBytes
                 : inline_kind == ValueView::Kind::kTuple ? ValueTag::kBlobTuple
                                                          : ValueTag::kBlobBigInt;
  out.push_back(static_cast<char>(tag));
  PutFixed64(out, length);
  PutFixed64(out, first_page);
}

size_t EncodedSize(const uint8_t* p, size_t avail) {
  size_t size;
  DecodeSized(p, avail, &size);
  return size;
}

ValueView Decode(const uint8_t* p, size_t avail) {
  size_t size;
  return DecodeSized(p, avail, &size);
}

}  // namespace pagefs
