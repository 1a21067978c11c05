#include "pager/values/stable_hash.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "pager/testing/encoded_values.h"
#include "pager/util/error.h"
#include "pager/values/value_format.h"

namespace pagefs {
namespace {

using namespace encoded;  // NOLINT: the values read as words

TEST(StableHash, KeysPythonCallsEqualHashEqualAndHaveOneForm) {
  EXPECT_EQ(KeyForm(Int(1)), KeyForm(Float(1.0)));
  EXPECT_EQ(KeyForm(Int(1)), KeyForm(Bool(true)));
  EXPECT_EQ(KeyForm(Int(0)), KeyForm(Bool(false)));
  EXPECT_EQ(KeyForm(Float(0.0)), KeyForm(Float(-0.0)));
  EXPECT_EQ(KeyForm(Int(0)), KeyForm(Float(-0.0)));
  EXPECT_EQ(StableHash(Int(1)), StableHash(Float(1.0)));
  EXPECT_EQ(StableHash(Int(-5)), StableHash(Float(-5.0)));
  EXPECT_EQ(KeyForm(Tuple({Int(1), Str("a")})), KeyForm(Tuple({Float(1.0), Str("a")})));
  EXPECT_EQ(KeyForm(Tuple({Tuple({Bool(true)})})), KeyForm(Tuple({Tuple({Int(1)})})));
}

TEST(StableHash, KeysPythonCallsDifferentHaveDifferentForms) {
  EXPECT_NE(KeyForm(Int(1)), KeyForm(Float(1.5)));
  EXPECT_NE(KeyForm(Str("a")), KeyForm(Bytes("a")));
  EXPECT_NE(KeyForm(None()), KeyForm(Int(0)));
  EXPECT_NE(KeyForm(Tuple({})), KeyForm(None()));
  EXPECT_NE(KeyForm(Tuple({Int(1), Int(2)})), KeyForm(Tuple({Int(2), Int(1)})));
  EXPECT_NE(KeyForm(Tuple({Tuple({Int(1)}), Int(2)})), KeyForm(Tuple({Int(1), Int(2)})));
  EXPECT_NE(KeyForm(Float(INFINITY)), KeyForm(Float(-INFINITY)));
}

TEST(StableHash, IntegralFloatsOfAnySizeEqualTheirInts) {
  // 2**63 as two's complement little-endian: 9 bytes, the top one 0.
  const std::string two63("\0\0\0\0\0\0\0\x80\0", 9);
  EXPECT_EQ(KeyForm(Big(two63)), KeyForm(Float(9223372036854775808.0)));
  // -2**63 is an int64.
  EXPECT_EQ(KeyForm(Int(std::numeric_limits<int64_t>::min())),
            KeyForm(Float(-9223372036854775808.0)));
  // 2**100 and -2**100.
  std::string p100(13, '\0'), m100(13, '\0');
  p100[12] = 0x10;
  m100[12] = static_cast<char>(0xF0);
  EXPECT_EQ(KeyForm(Big(p100)), KeyForm(Float(std::ldexp(1.0, 100))));
  EXPECT_EQ(KeyForm(Big(m100)), KeyForm(Float(-std::ldexp(1.0, 100))));
  // 3 * 2**70: a mantissa over more than one byte.
  std::string t70(10, '\0');
  t70[8] = static_cast<char>(0xC0);  // 3 << 70 = 0xC0 << 64
  t70[9] = 0;
  EXPECT_EQ(KeyForm(Big(t70)), KeyForm(Float(3 * std::ldexp(1.0, 70))));
  EXPECT_EQ(StableHash(Big(t70)), StableHash(Float(3 * std::ldexp(1.0, 70))));
}

TEST(StableHash, StrsHashByTheirUtf8BytesWhateverTheirEncodingLength) {
  const std::string long_str(200, 'z');
  std::string as_long_form;  // a str of 3 bytes written in the 0x06 form
  EncodeInlinePayload(as_long_form, ValueView::Kind::kStr, "abc");
  EXPECT_EQ(KeyForm(Str("abc")), KeyForm(as_long_form));
  EXPECT_NE(StableHash(Str(long_str)), StableHash(Str(long_str + "z")));
}

TEST(StableHash, ValuesAreFixedForEver) {
  // Stored hashes must never change (they file every entry of every stored
  // dict and set): the values of this definition, on every machine.
  EXPECT_EQ(0xdc6150d0e41f5fbfull, StableHash(Str("a")));
  EXPECT_EQ(0x0e171a26286f2aa4ull, StableHash(Int(1)));
  EXPECT_EQ(0x0e171a26286f2aa4ull, StableHash(Float(1.0)));
  EXPECT_EQ(0x5ef5958a5c302a54ull, StableHash(None()));
  EXPECT_EQ(0xb75ae527ba6cd121ull, StableHash(Tuple({Str("x"), Int(2)})));
  EXPECT_EQ(std::string("\x41"
                        "a",
                        2),
            KeyForm(Str("a")));
}

TEST(StableHash, ReferencesAreUnhashable) {
  std::string ref;
  EncodeRef(ref, CollectionKind::kList, 5);
  try {
    KeyForm(ref);
    ADD_FAILURE() << "a reference was hashed";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kInvalidArgument, e.code());
  }
  EXPECT_THROW(KeyForm(Tuple({Int(1), ref})), Error);
  std::string absent;
  EncodeAbsent(absent);
  EXPECT_THROW(KeyForm(absent), Error);
}

}  // namespace
}  // namespace pagefs
