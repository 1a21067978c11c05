// Blobs: page chains of long payloads, on their own.
#include "pager/collections/blobs.h"

#include <gtest/gtest.h>

#include <string>

#include "pager/testing/error_code.h"
#include "pager/testing/heap_fixture.h"
#include "pager/testing/memory_page_space.h"
#include "pager/util/coding.h"

namespace pagefs {
namespace {

class BlobsTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  BlobsTest() : space_(GetParam()), blobs_(space_) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  static std::string Payload(size_t n) {
    std::string p(n, '\0');
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(i * 31 + n);
    return p;
  }

  MemoryPageSpace space_;
  Blobs blobs_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, BlobsTest, kPageSizes, PageSizeName);

TEST_P(BlobsTest, ThresholdIsAQuarterPageLessSixteen) {
  EXPECT_EQ(GetParam() / 4 - 16, blobs_.threshold());
}

TEST_P(BlobsTest, PayloadsAroundPageBoundariesRoundTripOnTheirPageCount) {
  const uint32_t chunk = GetParam() - Blobs::kLinkBytes;
  for (size_t n : {size_t{1}, size_t{chunk - 1}, size_t{chunk}, size_t{chunk + 1},
                   size_t{3 * chunk}, size_t{3 * chunk + 7}, size_t{1} << 20}) {
    const std::string payload = Payload(n);
    const uint64_t before = space_.pages_in_use();
    const PageId first = blobs_.Write(payload);
    EXPECT_EQ(Blobs::Pages(n, GetParam()), space_.pages_in_use() - before) << n;
    EXPECT_EQ((n + chunk - 1) / chunk, Blobs::Pages(n, GetParam())) << n;
    std::string out = "prefix:";
    blobs_.Read(first, n, out);
    EXPECT_EQ("prefix:" + payload, out) << n;
    blobs_.Free(first, n);
    EXPECT_EQ(before, space_.pages_in_use()) << n;
  }
}

TEST_P(BlobsTest, EachPageLinksToTheNextAndTheLastToNone) {
  const uint32_t chunk = GetParam() - Blobs::kLinkBytes;
  const PageId first = blobs_.Write(Payload(2 * chunk + 1));
  PageId id = first;
  for (int k = 0; k < 3; ++k) {
    ASSERT_NE(kNoPage, id) << "page " << k;
    PageGuard g = space_.Read(id);
    id = Field<uint64_t>(g.data(), 0);
  }
  EXPECT_EQ(kNoPage, id);
  blobs_.Free(first, 2 * chunk + 1);
}

TEST_P(BlobsTest, AShortChainIsCorruptionNamingItsFirstPage) {
  const uint32_t chunk = GetParam() - Blobs::kLinkBytes;
  const PageId first = blobs_.Write(Payload(chunk));  // one page
  std::string out, msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { blobs_.Read(first, 2 * chunk, out); }, &msg));
  EXPECT_EQ("blob at page " + std::to_string(first) + " is short", msg);
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { blobs_.Free(first, 2 * chunk); }));
  EXPECT_EQ(0u, space_.pages_in_use()) << "the pages there were are freed";
}

}  // namespace
}  // namespace pagefs
