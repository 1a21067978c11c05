// HashBucket: the page view of one bucket of a dict's or set's index, its
// layout as docs/hash_format.md states it, byte for byte.
#include "pager/collections/hash_bucket.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "pager/util/coding.h"

namespace pagefs {
namespace {

class HashBucketTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  HashBucketTest() : page_(GetParam(), 0xAB) {}
  uint32_t page_size() const { return GetParam(); }
  HashBucket View() { return HashBucket(page_.data(), page_size()); }

  std::vector<uint8_t> page_;  // filled with garbage: Init must not rely on zeros
};

INSTANTIATE_TEST_SUITE_P(PageSizes, HashBucketTest, ::testing::Values(512u, 4096u, 65536u),
                         [](const auto& info) { return "page" + std::to_string(info.param); });

TEST_P(HashBucketTest, CapacityIsThePageLessTheHeaderInEightByteEntries) {
  EXPECT_EQ((page_size() - 16) / 8, HashBucket::Capacity(page_size()));
  EXPECT_EQ(16u, HashBucket::kHeaderSize);
  EXPECT_EQ(8u, HashBucket::kEntrySize);
}

TEST_P(HashBucketTest, InitLeavesAnEmptyLastPageAndTouchesOnlyTheHeader) {
  HashBucket b = View();
  b.Init();
  EXPECT_EQ(0u, b.count());
  EXPECT_EQ(kNoPage, b.next());
  EXPECT_FALSE(b.full());
  EXPECT_TRUE(b.sane());
  for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(0u, page_[i]) << "header byte " << i;
  EXPECT_EQ(HashBucket::kSorted, Field<uint32_t>(page_.data(), 12)) << "a new page is sorted";
  EXPECT_TRUE(b.sorted());
  EXPECT_EQ(0xAB, page_[16]) << "entries are not cleared: count says how many are valid";
}

TEST_P(HashBucketTest, FieldsSitWhereTheFormatSays) {
  HashBucket b = View();
  b.Init();
  b.set_next(0x0102030405060708ull);
  b.Push({0xDEADBEEF, 7});
  b.Push({0x01020304, 0xFFFFFFFF});
  EXPECT_EQ(0x0102030405060708ull, Field<uint64_t>(page_.data(), 0));
  EXPECT_EQ(2u, Field<uint32_t>(page_.data(), 8));
  EXPECT_EQ(0u, Field<uint32_t>(page_.data(), 12)) << "pushed out of order: the flag is cleared";
  EXPECT_EQ(0xDEADBEEFu, Field<uint32_t>(page_.data(), 16));
  EXPECT_EQ(7u, Field<uint32_t>(page_.data(), 20));
  EXPECT_EQ(0x01020304u, Field<uint32_t>(page_.data(), 24));
  EXPECT_EQ(0xFFFFFFFFu, Field<uint32_t>(page_.data(), 28));
  // Little-endian on the page, whatever the machine.
  EXPECT_EQ(0xEF, page_[16]);
  EXPECT_EQ(0x08, page_[0]);
}

TEST_P(HashBucketTest, PushFillsThePageInOrderUntilFull) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  for (uint32_t j = 0; j < cap; ++j) {
    ASSERT_FALSE(b.full()) << j;
    b.Push({j * 2654435761u, j});
  }
  EXPECT_TRUE(b.full());
  EXPECT_TRUE(b.sane());
  EXPECT_EQ(cap, b.count());
  for (uint32_t j = 0; j < cap; ++j) {
    const IndexEntry e = b.at(j);
    ASSERT_EQ(j * 2654435761u, e.hash_lo) << j;
    ASSERT_EQ(j, e.entry) << j;
  }
  // The last entry ends inside the page.
  EXPECT_LE(HashBucket::kHeaderSize + cap * HashBucket::kEntrySize, page_size());
}

TEST_P(HashBucketTest, PutReplacesOneEntryInPlace) {
  HashBucket b = View();
  b.Init();
  for (uint32_t j = 0; j < 3; ++j) b.Push({j, j});
  b.put(1, {99, 100});
  EXPECT_EQ(3u, b.count());
  EXPECT_EQ(0u, b.at(0).entry);
  EXPECT_EQ(99u, b.at(1).hash_lo);
  EXPECT_EQ(100u, b.at(1).entry);
  EXPECT_EQ(2u, b.at(2).entry);
}

TEST_P(HashBucketTest, FindHashGivesEveryMatchInOrderWhereverItSits) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  EXPECT_EQ(0u, b.FindHash(0, 7)) << "an empty page has no match";
  // Matches at every offset modulo eight (the scan compares eight at a
  // time), at the first and the last place, and entries past count never
  // seen. Entry 42 (not a match) has the number searched for as its entry
  // number: only hashes are compared.
  std::vector<uint32_t> want;
  for (uint32_t j = 0; j < cap; ++j) {
    const bool match = j == 0 || j == cap - 1 || j % 13 == 5 || j == 6 || j == 7;
    b.Push({match ? 42u : j + 1000, j});
    if (match) want.push_back(j);
  }
  std::vector<uint32_t> got;
  for (uint32_t j = b.FindHash(0, 42); j < b.count(); j = b.FindHash(j + 1, 42)) got.push_back(j);
  EXPECT_EQ(want, got);
  EXPECT_EQ(b.count(), b.FindHash(0, 41));
  EXPECT_EQ(b.count(), b.FindHash(b.count(), 42));
  b.set_count(3);  // entries 3.. remain on the page but are not the bucket's
  got.clear();
  for (uint32_t j = b.FindHash(0, 42); j < b.count(); j = b.FindHash(j + 1, 42)) got.push_back(j);
  EXPECT_EQ(std::vector<uint32_t>{0}, got);
  EXPECT_EQ(3u, b.FindHash(1, 1000 + 4)) << "entry 4 is past the count";
}

TEST_P(HashBucketTest, InsertKeepsThePageSortedAndFindHashSearchesIt) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  std::mt19937 rng(5);
  std::multimap<uint32_t, uint32_t> model;  // hash -> entry
  for (uint32_t j = 0; j < cap; ++j) {
    // Few distinct hashes on small pages, so equal hashes sit side by side;
    // the extremes of the range included.
    uint32_t h = j % 7 == 0 ? 0 : j % 7 == 1 ? UINT32_MAX : rng() % (cap / 2 + 3);
    b.Insert({h, j});
    model.emplace(h, j);
  }
  EXPECT_TRUE(b.sorted());
  EXPECT_TRUE(b.InOrder());
  EXPECT_TRUE(b.full());
  for (uint32_t h : {0u, 1u, 2u, cap / 4, UINT32_MAX, UINT32_MAX - 1}) {
    std::vector<uint32_t> got, want;
    for (uint32_t j = b.FindHash(0, h); j < b.count(); j = b.FindHash(j + 1, h)) {
      EXPECT_EQ(h, b.at(j).hash_lo);
      got.push_back(b.at(j).entry);
    }
    for (auto [it, end] = model.equal_range(h); it != end; ++it) want.push_back(it->second);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(want, got) << "hash " << h;
  }
  // Removing keeps the order of the rest.
  while (b.count() > 0) {
    const uint32_t j = rng() % b.count();
    const IndexEntry gone = b.at(j);
    b.Remove(j);
    auto [it, end] = model.equal_range(gone.hash_lo);
    while (it->second != gone.entry) ++it;
    model.erase(it);
    ASSERT_TRUE(b.InOrder());
    ASSERT_EQ(model.size(), b.count());
  }
}

// The search starts at the place an even spread of hashes gives: pages
// whose hashes are anything but even are searched right too.
TEST_P(HashBucketTest, FindHashFindsTheFirstMatchHoweverTheHashesAreSpread) {
  const uint32_t cap = HashBucket::Capacity(page_size());
  std::mt19937 rng(11);
  const std::vector<std::function<uint32_t(uint32_t)>> spreads = {
      [&](uint32_t) { return static_cast<uint32_t>(rng()); },                      // even
      [&](uint32_t) { return static_cast<uint32_t>(rng() % 1000); },               // all low
      [&](uint32_t) { return UINT32_MAX - static_cast<uint32_t>(rng() % 1000); },  // all high
      [&](uint32_t) { return 0x80000000u; },                                       // all one hash
      [&](uint32_t j) { return j % 2 == 0 ? 0u : UINT32_MAX; },                    // two extremes
      [&](uint32_t j) { return j < cap / 2 ? 0x10u * j : 0xF0000000u + j; },       // two clusters
  };
  for (size_t s = 0; s < spreads.size(); ++s) {
    for (uint32_t n : {1u, 2u, 3u, cap / 2, cap}) {
      HashBucket b = View();
      b.Init();
      std::vector<uint32_t> hashes;
      for (uint32_t j = 0; j < n; ++j) {
        hashes.push_back(spreads[s](j));
        b.Insert({hashes.back(), j});
      }
      std::sort(hashes.begin(), hashes.end());
      std::vector<uint32_t> probes = hashes;
      for (uint32_t h : hashes) {  // absent neighbours too
        probes.push_back(h + 1);
        probes.push_back(h - 1);
      }
      probes.insert(probes.end(), {0u, 1u, 0x7FFFFFFFu, UINT32_MAX});
      for (uint32_t h : probes) {
        const auto first = std::lower_bound(hashes.begin(), hashes.end(), h);
        const uint32_t want = first != hashes.end() && *first == h
                                  ? static_cast<uint32_t>(first - hashes.begin())
                                  : n;
        ASSERT_EQ(want, b.FindHash(0, h)) << "spread " << s << ", " << n << " entries, hash " << h;
      }
    }
  }
}

TEST_P(HashBucketTest, AnUnsortedPageIsScannedWholeAndSortedByItsNextInsert) {
  HashBucket b = View();
  b.Init();
  b.set_flags(0);  // as a page written before pagefs kept them sorted
  for (uint32_t j = 0; j < 20; ++j) b.put(j, {(20 - j) * 3, j});
  b.set_count(20);
  EXPECT_FALSE(b.sorted());
  EXPECT_EQ(5u, b.FindHash(0, 45));
  EXPECT_EQ(20u, b.FindHash(6, 45));
  b.Insert({46, 99});
  EXPECT_TRUE(b.sorted());
  EXPECT_TRUE(b.InOrder());
  EXPECT_EQ(21u, b.count());
  const uint32_t j = b.FindHash(0, 46);
  ASSERT_LT(j, b.count());
  EXPECT_EQ(99u, b.at(j).entry);
  EXPECT_LT(b.FindHash(0, 3), b.count());
  EXPECT_LT(b.FindHash(0, 60), b.count());
  EXPECT_EQ(b.count(), b.FindHash(0, 4));
}

TEST_P(HashBucketTest, ACountPastThePageIsNotSane) {
  HashBucket b = View();
  b.Init();
  const uint32_t cap = HashBucket::Capacity(page_size());
  b.set_count(cap);
  EXPECT_TRUE(b.sane());
  b.set_count(cap + 1);
  EXPECT_FALSE(b.sane());
  SetField<uint32_t>(page_.data(), 8, 0xFFFFFFFF);  // as a damaged page from disk may say
  EXPECT_FALSE(View().sane());
  EXPECT_TRUE(View().full());
}

TEST_P(HashBucketTest, AViewOverConstBytesReadsThem) {
  HashBucket b = View();
  b.Init();
  b.Push({5, 6});
  const std::vector<uint8_t> copy = page_;
  const HashBucket read(copy.data(), page_size());
  EXPECT_EQ(1u, read.count());
  EXPECT_EQ(5u, read.at(0).hash_lo);
  EXPECT_EQ(6u, read.at(0).entry);
}

}  // namespace
}  // namespace pagefs
