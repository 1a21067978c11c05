#include "pager/util/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace pagefs {
namespace {

TEST(Utf8Test, AcceptsWhatPythonDecodes) {
  for (Surrogates s : {Surrogates::kAllowed, Surrogates::kRefused}) {
    EXPECT_TRUE(ValidUtf8("", s));
    EXPECT_TRUE(ValidUtf8("data", s));
    EXPECT_TRUE(ValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", s));  // 2, 3 and 4 bytes
    EXPECT_TRUE(ValidUtf8("\xf4\x8f\xbf\xbf", s));                           // U+10FFFF
  }
}

TEST(Utf8Test, RefusesBytesNoDecoderTakes) {
  for (const char* bad :
       {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xc3", "a\xe2\x82", "\x80"}) {
    EXPECT_FALSE(ValidUtf8(bad, Surrogates::kAllowed)) << bad;
    EXPECT_FALSE(ValidUtf8(bad, Surrogates::kRefused)) << bad;
  }
}

TEST(Utf8Test, LoneSurrogatesOnlyWhereAsked) {
  const std::string surrogate = "x\xed\xa0\x80";  // U+D800, as "surrogatepass" writes it
  EXPECT_TRUE(ValidUtf8(surrogate, Surrogates::kAllowed));
  EXPECT_FALSE(ValidUtf8(surrogate, Surrogates::kRefused));
}

}  // namespace
}  // namespace pagefs
