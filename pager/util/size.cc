#include "pager/util/size.h"

#include <limits>
#include <string>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The power of two a unit stands for, or -1 when unit is none.
int UnitShift(std::string_view unit) {
  std::string u;
  for (char c : unit) u.push_back(Lower(c));
  if (u.empty() || u == "b") return 0;
  int shift = 0;
  switch (u[0]) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    default: return -1;
  }
  const std::string_view rest = std::string_view(u).substr(1);
  return rest.empty() || rest == "b" || rest == "ib" ? shift : -1;
}

// floor(0.<digits> * 2**shift), exactly: the decimal fraction is doubled
// shift times, each doubling carrying one bit into the integer part.
uint64_t FractionBytes(std::string_view digits, int shift) {
  std::vector<uint8_t> d(digits.begin(), digits.end());
  for (uint8_t& x : d) x = static_cast<uint8_t>(x - '0');
  uint64_t out = 0;
  for (int s = 0; s < shift; ++s) {
    unsigned carry = 0;
    for (size_t k = d.size(); k-- > 0;) {
      const unsigned v = d[k] * 2u + carry;
      d[k] = static_cast<uint8_t>(v % 10);
      carry = v / 10;
    }
    out = out * 2 + carry;
  }
  return out;
}

}  // namespace

uint64_t ParseSize(std::string_view text, std::string_view what) {
  const std::string quoted = std::string(what) + " '" + std::string(text) + "'";
  auto invalid = [&](const char* why) {
    return Error(ErrorCode::kInvalidArgument, "invalid " + quoted + ": " + why);
  };
  constexpr const char* kForms =
      "expected a number of bytes, or a number with K, M, G or T (powers of 1024, "
      "B or iB may follow), such as 4096, 64M or 1.5G";
  std::string_view s = Trim(text);
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  const std::string_view whole = s.substr(0, i);
  std::string_view fraction;
  if (whole.empty()) throw invalid(kForms);
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && IsDigit(s[j])) ++j;
    fraction = s.substr(i + 1, j - i - 1);
    if (fraction.empty()) throw invalid(kForms);
    i = j;
  }
  while (i < s.size() && IsSpace(s[i])) ++i;
  const int shift = UnitShift(s.substr(i));
  if (shift < 0) throw invalid(kForms);
  if (negative) throw invalid("a size cannot be negative");

  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  auto too_large = [&] {
    return Error(ErrorCode::kTooLarge, quoted + " is too large (at most 2**64 - 1 bytes)");
  };
  uint64_t value = 0;
  for (char c : whole) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) throw too_large();
    value = value * 10 + digit;
  }
  if (value > (kMax >> shift)) throw too_large();
  // The low shift bits of value << shift are zero and the fraction's bytes
  // are below 2**shift: they add without carry or overflow.
  return (value << shift) | FractionBytes(fraction, shift);
}

}  // namespace pagefs
