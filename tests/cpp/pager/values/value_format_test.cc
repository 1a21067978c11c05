#include "pager/values/value_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {
namespace {

const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

ValueView DecodeAll(const std::string& s) {
  EXPECT_EQ(s.size(), EncodedSize(U(s), s.size()));
  EXPECT_EQ(s.size(), FastEncodedSize(U(s), s.size()));
  return Decode(U(s), s.size());
}

void ExpectCorrupt(const std::string& s) {
  try {
    EncodedSize(U(s), s.size());
    ADD_FAILURE() << "accepted malformed bytes of size " << s.size();
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kCorruption, e.code());
  }
}

TEST(ValueFormat, ScalarsRoundTrip) {
  std::string s;
  EncodeNone(s);
  EXPECT_EQ(ValueView::Kind::kNone, DecodeAll(s).kind);
  for (bool b : {false, true}) {
    s.clear();
    EncodeBool(s, b);
    ValueView v = DecodeAll(s);
    EXPECT_EQ(ValueView::Kind::kBool, v.kind);
    EXPECT_EQ(b, v.b);
  }
}

TEST(ValueFormat, IntsRoundTripAtEveryBoundary) {
  std::vector<int64_t> ints = {0,
                               1,
                               -1,
                               -16,
                               -17,
                               111,
                               112,
                               127,
                               128,
                               -128,
                               1 << 20,
                               std::numeric_limits<int64_t>::max(),
                               std::numeric_limits<int64_t>::min()};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) ints.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
  for (int64_t i : ints) {
    std::string s;
    EncodeInt(s, i);
    ValueView v = DecodeAll(s);
    EXPECT_EQ(ValueView::Kind::kInt, v.kind);
    EXPECT_EQ(i, v.i);
  }
  std::string small;
  EncodeInt(small, 111);
  EXPECT_EQ(1u, small.size()) << "small ints take one byte";
}

TEST(ValueFormat, BigIntsThatFitAreStoredAsInts) {
  std::string s;
  EncodeBigInt(s, std::string("\xff", 1));  // -1
  ValueView v = DecodeAll(s);
  EXPECT_EQ(ValueView::Kind::kInt, v.kind);
  EXPECT_EQ(-1, v.i);
  std::string big(40, '\x5a');
  s.clear();
  EncodeBigInt(s, big);
  v = DecodeAll(s);
  EXPECT_EQ(ValueView::Kind::kBigInt, v.kind);
  EXPECT_EQ(big, v.data);
}

TEST(ValueFormat, FloatsAreBitExact) {
  std::vector<uint64_t> patterns = {0,
                                    0x8000000000000000ull,
                                    0x7ff0000000000000ull,
                                    0xfff0000000000000ull,
                                    0x7ff8000000000001ull,
                                    0x7ff4000000000abcull,
                                    0x0000000000000001ull};
  for (uint64_t bits : patterns) {
    double d;
    std::memcpy(&d, &bits, 8);
    std::string s;
    EncodeFloat(s, d);
    ValueView v = DecodeAll(s);
    uint64_t back;
    std::memcpy(&back, &v.f, 8);
    EXPECT_EQ(bits, back);
  }
}

TEST(ValueFormat, StringsAndBytesRoundTripAtEveryLength) {
  for (size_t n : {0, 1, 62, 63, 64, 127, 128, 300, 16384, 100000}) {
    std::string payload(n, 'x');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 31);
    std::string s;
    EncodeStr(s, payload);
    ValueView v = DecodeAll(s);
    EXPECT_EQ(ValueView::Kind::kStr, v.kind);
    EXPECT_EQ(payload, v.data);
    s.clear();
    EncodeBytes(s, payload);
    v = DecodeAll(s);
    EXPECT_EQ(ValueView::Kind::kBytes, v.kind);
    EXPECT_EQ(payload, v.data);
  }
}

TEST(ValueFormat, RefsAndBlobsRoundTrip) {
  std::string s;
  EncodeRef(s, CollectionKind::kList, 0x123456789abcull);
  ValueView v = DecodeAll(s);
  EXPECT_EQ(ValueView::Kind::kRef, v.kind);
  EXPECT_EQ(CollectionKind::kList, v.ref_kind);
  EXPECT_EQ(0x123456789abcull, v.ref_id);
  for (auto kind : {ValueView::Kind::kStr, ValueView::Kind::kBytes, ValueView::Kind::kBigInt}) {
    s.clear();
    EncodeBlob(s, kind, 1ull << 33, 77);
    v = DecodeAll(s);
    EXPECT_EQ(1ull << 33, v.blob_length);
    EXPECT_EQ(77u, v.blob_page);
  }
  s.clear();
  EncodeBlob(s, true, 5000, 3);
  EXPECT_EQ(ValueView::Kind::kBlobStr, DecodeAll(s).kind);
}

TEST(ValueFormat, TuplesRoundTripNestedAndEmpty) {
  std::string elements, inner, s;
  EncodeInt(inner, 7);
  EncodeStr(inner, "x");
  EncodeTuple(elements, 2, inner);  // a tuple inside
  EncodeNone(elements);
  EncodeTuple(s, 2, elements);
  ValueView v = DecodeAll(s);
  ASSERT_EQ(ValueView::Kind::kTuple, v.kind);
  EXPECT_EQ(2u, v.count);
  EXPECT_EQ(elements, std::string(v.data));
  s.clear();
  EncodeTuple(s, 0, "");
  v = DecodeAll(s);
  EXPECT_EQ(ValueView::Kind::kTuple, v.kind);
  EXPECT_EQ(0u, v.count);
  EXPECT_EQ(std::string("\x0C\x00\x00", 3), s);
  s.clear();
  EncodeBlob(s, ValueView::Kind::kTuple, 4000, 12);
  v = DecodeAll(s);
  EXPECT_EQ(ValueView::Kind::kBlobTuple, v.kind);
  EXPECT_EQ(4000u, v.blob_length);
  EXPECT_EQ(12u, v.blob_page);
  s.clear();
  EncodeAbsent(s);
  EXPECT_EQ(ValueView::Kind::kAbsent, DecodeAll(s).kind);
}

TEST(ValueFormat, ExistingEncodingsAreUnchanged) {
  // The tuple tags were added beside these; their bytes must stay as they were.
  std::string s;
  EncodeInt(s, 5);
  EncodeStr(s, "ab");
  EncodeRef(s, CollectionKind::kList, 3);
  EncodeFloat(s, 1.0);
  EXPECT_EQ(std::string("\x95\x42"
                        "ab"
                        "\x0A\x01\x03\0\0\0\0\0\0\0"
                        "\x05\0\0\0\0\0\0\xf0\x3f",
                        23),
            s);
}

TEST(ValueFormat, StoredOnlyFormsAreKnownByTheirTag) {
  for (ValueTag t : {ValueTag::kBlobStr, ValueTag::kBlobBytes, ValueTag::kBlobBigInt,
                     ValueTag::kBlobTuple, ValueTag::kAbsent}) {
    EXPECT_TRUE(IsStoredOnlyForm(static_cast<uint8_t>(t)));
  }
  for (ValueTag t : {ValueTag::kRef, ValueTag::kTuple, ValueTag::kStr, ValueTag::kNone}) {
    EXPECT_FALSE(IsStoredOnlyForm(static_cast<uint8_t>(t)));
  }
  EXPECT_TRUE(NeedsInlining(static_cast<uint8_t>(ValueTag::kTuple)));
  EXPECT_TRUE(OwnsHeapObject(static_cast<uint8_t>(ValueTag::kTuple)));
  EXPECT_TRUE(MayTouchHeap(static_cast<uint8_t>(ValueTag::kTuple)));
  EXPECT_FALSE(NeedsInlining(static_cast<uint8_t>(ValueTag::kRef)));
}

TEST(ValueFormat, RefsToDictsAndSetsDecode) {
  for (CollectionKind k : {CollectionKind::kDict, CollectionKind::kSet}) {
    std::string s;
    EncodeRef(s, k, 42);
    EXPECT_EQ(k, DecodeAll(s).ref_kind);
  }
}

TEST(ValueFormat, RunsOfValuesAreTheirConcatenation) {
  std::string run;
  EncodeInt(run, 5);
  EncodeStr(run, "hello");
  EncodeFloat(run, 2.5);
  EncodeNone(run);
  size_t pos = 0, n = 0;
  while (pos < run.size()) {
    pos += EncodedSize(U(run) + pos, run.size() - pos);
    ++n;
  }
  EXPECT_EQ(4u, n);
  EXPECT_EQ(run.size(), pos);
}

TEST(ValueFormat, TruncatedValuesAreCorruptionAtEveryCut) {
  std::vector<std::string> values(7);
  EncodeInt(values[0], 1 << 30);
  EncodeStr(values[1], std::string(200, 'a'));
  EncodeStr(values[2], "short");
  EncodeFloat(values[3], 1.0);
  EncodeRef(values[4], CollectionKind::kList, 9);
  EncodeBlob(values[5], false, 10, 4);
  EncodeBigInt(values[6], std::string(20, '\x01'));
  for (const std::string& v : values) {
    for (size_t cut = 0; cut < v.size(); ++cut) ExpectCorrupt(v.substr(0, cut));
  }
}

TEST(ValueFormat, MalformedBytesAreCorruption) {
  ExpectCorrupt(std::string("\x0C", 1));                  // truncated tuple
  ExpectCorrupt(std::string("\x0F", 1));                  // unknown tag
  ExpectCorrupt(std::string("\x0C\x03\x02\x80\x80", 5));  // 3 elements in 2 bytes
  ExpectCorrupt(std::string("\x0C\x01\x05\x80", 4));      // elements run past the end
  ExpectCorrupt(std::string("\x3F", 1));                  // unknown tag
  ExpectCorrupt(std::string("\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11));  // > 64 bits
  ExpectCorrupt(std::string("\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));  // huge length
  ExpectCorrupt(std::string("\x0A\x07\x01\0\0\0\0\0\0\0", 10));                    // unknown kind
  ExpectCorrupt(std::string("\x0A\x01\0\0\0\0\0\0\0\0", 10));                      // ref to 0
  ExpectCorrupt(std::string("\x08\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 17));        // blob page 0
}

TEST(ValueFormat, RandomBytesNeverReadPastTheEnd) {
  // Under ASan this also proves no read past avail.
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    size_t n = rng() % 24;
    auto buf = std::make_unique<uint8_t[]>(n);
    for (size_t j = 0; j < n; ++j) buf[j] = static_cast<uint8_t>(rng());
    try {
      size_t size = EncodedSize(buf.get(), n);
      EXPECT_LE(size, n);
      EXPECT_GT(size, 0u);
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
    }
  }
}

}  // namespace
}  // namespace pagefs
