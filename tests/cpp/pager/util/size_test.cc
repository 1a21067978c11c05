// The one grammar of sizes (size.h): what it accepts, what it refuses and
// what the refusals say.
#include "pager/util/size.h"

#include <gtest/gtest.h>

#include <string>

#include "pager/testing/error_code.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

constexpr uint64_t kKiB = 1ull << 10, kMiB = 1ull << 20, kGiB = 1ull << 30, kTiB = 1ull << 40;

TEST(ParseSize, PlainNumbersAreBytes) {
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("007"), 7u);
  EXPECT_EQ(ParseSize("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseSize("512B"), 512u);
  EXPECT_EQ(ParseSize("512 b"), 512u);
}

TEST(ParseSize, UnitsArePowersOf1024WithOrWithoutBOrIb) {
  for (const char* suffix : {"", "B", "iB", "b", "ib", "IB", "Ib"}) {
    EXPECT_EQ(ParseSize(std::string("3K") + suffix), 3 * kKiB) << suffix;
    EXPECT_EQ(ParseSize(std::string("3M") + suffix), 3 * kMiB) << suffix;
    EXPECT_EQ(ParseSize(std::string("3G") + suffix), 3 * kGiB) << suffix;
    EXPECT_EQ(ParseSize(std::string("3T") + suffix), 3 * kTiB) << suffix;
  }
  EXPECT_EQ(ParseSize("64m"), 64 * kMiB);
  EXPECT_EQ(ParseSize("64mib"), 64 * kMiB);
  EXPECT_EQ(ParseSize("1g"), kGiB);
}

TEST(ParseSize, SpacesAroundTheNumberAndBeforeTheUnitAreAllowed) {
  EXPECT_EQ(ParseSize("64 M"), 64 * kMiB);
  EXPECT_EQ(ParseSize("  64M  "), 64 * kMiB);
  EXPECT_EQ(ParseSize("\t64\tMiB\n"), 64 * kMiB);
  EXPECT_EQ(ParseSize(" 2 tb "), 2 * kTiB);
}

TEST(ParseSize, FractionsAreExactAndRoundedDownToBytes) {
  EXPECT_EQ(ParseSize("1.5G"), kGiB + kGiB / 2);
  EXPECT_EQ(ParseSize("1.5 K"), 1536u);
  EXPECT_EQ(ParseSize("0.3K"), 307u);  // 307.2
  EXPECT_EQ(ParseSize("0.5"), 0u);
  EXPECT_EQ(ParseSize("2.75"), 2u);
  EXPECT_EQ(ParseSize("0.999999999999999999999999K"), 1023u);
  // 1/2**40 has 40 decimals: exactly one byte, which 19 digits would miss.
  EXPECT_EQ(ParseSize("0.0000000000009094947017729282379150390625T"), 1u);
  EXPECT_EQ(ParseSize("0.0000000000009094947017729282379150390624T"), 0u);
  EXPECT_EQ(ParseSize("1.00000000000000000000000000000000001M"), kMiB);
}

TEST(ParseSize, TextOutsideTheGrammarIsAnInvalidArgumentThatQuotesIt) {
  for (const char* bad :
       {"", "   ", "M", "64X", "64MM", "64Mb ytes", "64i", "64ib", ".5G", "5.G", "1e6", "0x10",
        "+5", "5,5M", "64 M B", "1.2.3", "ten", "64KB!", "1 000"}) {
    std::string msg;
    EXPECT_EQ(CodeOf([&] { ParseSize(bad, "cache size"); }, &msg), ErrorCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(msg.find(std::string("invalid cache size '") + bad + "'"), 0u) << msg;
    EXPECT_NE(msg.find("K, M, G or T"), std::string::npos) << msg;
    EXPECT_NE(msg.find("64M"), std::string::npos) << msg;
  }
}

TEST(ParseSize, NegativeSizesAreRefusedAsSuch) {
  for (const char* bad : {"-1", "-5M", " -1.5G", "-0"}) {
    std::string msg;
    EXPECT_EQ(CodeOf([&] { ParseSize(bad); }, &msg), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(msg, std::string("invalid size '") + bad + "': a size cannot be negative");
  }
  std::string msg;
  CodeOf([&] { ParseSize("-abc"); }, &msg);  // not a number at all: the forms
  EXPECT_NE(msg.find("K, M, G or T"), std::string::npos) << msg;
}

TEST(ParseSize, SizesPast64BitsAreTooLarge) {
  for (const std::string& big :
       {std::string("18446744073709551616"),    // 2**64
        std::string("1180591620717411303424"),  // 2**70
        std::string("99999999999T"), std::string("16777216T"), std::string("17179869184G"),
        std::string("16777216.0T"), std::string("99999999999999999999999999999999")}) {
    std::string msg;
    EXPECT_EQ(CodeOf([&] { ParseSize(big, "cache size"); }, &msg), ErrorCode::kTooLarge) << big;
    EXPECT_EQ(msg, "cache size '" + big + "' is too large (at most 2**64 - 1 bytes)");
  }
  // Just below the limit: 2**64 - 2**40 bytes, that plus a fraction, and the
  // largest fraction of a TiB that stays below 2**64.
  EXPECT_EQ(ParseSize("16777215T"), UINT64_MAX - kTiB + 1);
  EXPECT_EQ(ParseSize("16777215.5T"), UINT64_MAX - kTiB + 1 + kTiB / 2);
  EXPECT_EQ(ParseSize("16777215.99999999999999999999T"), UINT64_MAX);
}

}  // namespace
}  // namespace pagefs
