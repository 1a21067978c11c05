#include "pager/values/stable_hash.h"

#include <cmath>
#include <cstring>

#include "pager/util/checksum.h"
#include "pager/util/error.h"
#include "pager/values/value_format.h"

namespace pagefs {
namespace {

// Fixed for ever: changing it changes every stored hash.
constexpr uint64_t kKeyHashSeed = 0x7061676566736b31;  // "pagefsk1"

// The two's complement bytes (little-endian, minimal) of the integral
// double f, |f| >= 2**63.
std::string IntegralDoubleBytes(double f) {
  int e = 0;
  const double m = std::frexp(std::fabs(f), &e);  // |f| = m * 2**e, m in [0.5, 1)
  const uint64_t mant = static_cast<uint64_t>(std::ldexp(m, 53));
  const int shift = e - 53;  // >= 11, as |f| >= 2**63
  std::string le(static_cast<size_t>(shift / 8 + 10), '\0');
  const uint64_t placed = mant << (shift % 8);  // at most 53 + 7 bits
  for (int k = 0; k < 8; ++k)
    le[shift / 8 + k] = static_cast<char>(static_cast<uint8_t>(placed >> (8 * k)));
  if (f < 0) {
    bool carry = true;
    for (char& c : le) {
      uint8_t b = static_cast<uint8_t>(~static_cast<uint8_t>(c));
      if (carry) carry = ++b == 0;
      c = static_cast<char>(b);
    }
  }
  while (le.size() > 1) {
    const uint8_t top = static_cast<uint8_t>(le.back());
    const uint8_t next = static_cast<uint8_t>(le[le.size() - 2]);
    if ((top == 0x00 && (next & 0x80) == 0) || (top == 0xFF && (next & 0x80) != 0)) {
      le.pop_back();
    } else {
      break;
    }
  }
  return le;
}

void AppendFloatForm(double f, std::string& out) {
  if (!std::isfinite(f) || std::trunc(f) != f) return EncodeFloat(out, f);
  if (std::fabs(f) < 9223372036854775808.0)
    return EncodeInt(out, static_cast<int64_t>(f));  // -0.0 is 0
  EncodeBigInt(out, IntegralDoubleBytes(f));
}

}  // namespace

void AppendKeyForm(std::string_view key, std::string& out) {
  const ValueView v = Decode(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  switch (v.kind) {
    case ValueView::Kind::kNone: return EncodeNone(out);
    case ValueView::Kind::kBool: return EncodeInt(out, v.b ? 1 : 0);
    case ValueView::Kind::kInt: return EncodeInt(out, v.i);
    case ValueView::Kind::kBigInt: return EncodeBigInt(out, v.data);
    case ValueView::Kind::kFloat: return AppendFloatForm(v.f, out);
    case ValueView::Kind::kStr: return EncodeStr(out, v.data);
    case ValueView::Kind::kBytes: return EncodeBytes(out, v.data);
    case ValueView::Kind::kTuple: {
      std::string elements;
      const auto* p = reinterpret_cast<const uint8_t*>(v.data.data());
      uint64_t n = 0;
      for (size_t pos = 0; pos < v.data.size(); ++n) {
        const size_t len = EncodedSize(p + pos, v.data.size() - pos);
        AppendKeyForm(v.data.substr(pos, len), elements);
        pos += len;
      }
      if (n != v.count)
        throw Error(ErrorCode::kCorruption, "a tuple's count does not match its elements");
      return EncodeTuple(out, v.count, elements);
    }
    case ValueView::Kind::kRef:
      throw Error(ErrorCode::kInvalidArgument, "unhashable key: a reference to a collection");
    default: throw Error(ErrorCode::kInvalidArgument, "unhashable key: a stored-only form");
  }
}

std::string KeyForm(std::string_view key) {
  std::string out;
  AppendKeyForm(key, out);
  return out;
}

std::string_view KeyFormOf(std::string_view key, std::string& scratch) {
  if (!key.empty()) {
    // The forms EncodeStr and EncodeInt give these, byte for byte.
    const auto tag = static_cast<uint8_t>(key[0]);
    const auto short_str = static_cast<uint8_t>(ValueTag::kShortStrBase);
    const auto small_int = static_cast<uint8_t>(ValueTag::kSmallIntBase);
    if (tag >= small_int ? key.size() == 1
                         : tag >= short_str && key.size() == size_t{1} + (tag - short_str)) {
      return key;
    }
  }
  scratch.clear();
  AppendKeyForm(key, scratch);
  return scratch;
}

uint64_t StableHashOfForm(std::string_view form) {
  return Checksum(form.data(), form.size(), kKeyHashSeed);
}

uint64_t StableHash(std::string_view key) { return StableHashOfForm(KeyForm(key)); }

}  // namespace pagefs
