#include "pager/tier/remote/local_page_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "pager/testing/page_bytes.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

class LocalPageCacheTest : public testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(folder_.path()); }
  std::string Path() const { return (folder_.path() / "page-cache").string(); }
  TempFolder folder_{"local-page-cache"};
};

TEST_F(LocalPageCacheTest, AnInsertedPageLoadsBackAndAnotherKeyMisses) {
  LocalPageCache cache(Path(), kPage, 16 * kPage);
  cache.Insert(7, 4096, PageBytes(1, 1).data());
  std::vector<uint8_t> out(kPage);
  ASSERT_TRUE(cache.Load(7, 4096, out.data()));
  EXPECT_EQ(PageBytes(1, 1), out);
  EXPECT_FALSE(cache.Load(7, 8, out.data())) << "another offset of the segment";
  EXPECT_FALSE(cache.Load(8, 4096, out.data())) << "another segment";
  LocalPageCacheStats s = cache.stats();
  EXPECT_EQ(1u, s.hits);
  EXPECT_EQ(2u, s.misses);
  EXPECT_EQ(kPage, s.bytes);
}

TEST_F(LocalPageCacheTest, TheFileNeverPassesItsCapacityAndTheLeastRecentlyUsedGoes) {
  LocalPageCache cache(Path(), kPage, 8 * kPage);
  for (uint32_t i = 0; i < 8; ++i) cache.Insert(1, i, PageBytes(i, 1).data());
  std::vector<uint8_t> out(kPage);
  ASSERT_TRUE(cache.Load(1, 0, out.data()));  // 0 is now the most recently used
  for (uint32_t i = 8; i < 100; ++i) {
    cache.Insert(1, i, PageBytes(i, 1).data());
    if (i % 2 == 0) {
      ASSERT_TRUE(cache.Load(1, 0, out.data())) << "kept warm at " << i;
    }
    EXPECT_LE(std::filesystem::file_size(Path()), 8u * kPage);
  }
  EXPECT_TRUE(cache.Load(1, 0, out.data()));
  EXPECT_EQ(PageBytes(0, 1), out);
  EXPECT_FALSE(cache.Load(1, 1, out.data())) << "the oldest were evicted";
  EXPECT_TRUE(cache.Load(1, 99, out.data()));
  EXPECT_EQ(PageBytes(99, 1), out);
  EXPECT_LE(cache.stats().bytes, 8u * kPage);
  EXPECT_GT(cache.stats().evictions, 0u);
}

TEST_F(LocalPageCacheTest, PagesInsertedAheadCountAsHitWhenLoadedAndUnusedWhenDroppedUnread) {
  LocalPageCache cache(Path(), kPage, 4 * kPage);
  std::vector<uint8_t> out(kPage);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(cache.Insert(1, i, PageBytes(i, 1).data(), true));
  EXPECT_FALSE(cache.Insert(1, 0, PageBytes(0, 1).data(), true)) << "cached already: unused";
  ASSERT_TRUE(cache.Load(1, 0, out.data()));
  ASSERT_TRUE(cache.Load(1, 0, out.data())) << "a second load is no second readahead hit";
  ASSERT_TRUE(cache.Load(1, 1, out.data()));
  LocalPageCacheStats s = cache.stats();
  EXPECT_EQ(5u, s.ahead);
  EXPECT_EQ(2u, s.ahead_hits);
  EXPECT_EQ(1u, s.ahead_unused);
  // Two inserts evict the least recently used: 2 and 3, fetched ahead and never read.
  cache.Insert(2, 0, PageBytes(5, 1).data());
  cache.Insert(2, 1, PageBytes(6, 1).data());
  s = cache.stats();
  EXPECT_EQ(2u, s.evictions);
  EXPECT_EQ(3u, s.ahead_unused);
  EXPECT_EQ(5u, s.ahead) << "inserts for a read are not readahead";
  EXPECT_EQ(s.ahead, s.ahead_hits + s.ahead_unused) << "nothing fetched ahead is left waiting";
  LocalPageCache off(Path() + "-off", kPage, 0);
  EXPECT_FALSE(off.Insert(1, 0, PageBytes(0, 1).data(), true));
  EXPECT_EQ(1u, off.stats().ahead_unused) << "a disabled cache drops it";
}

TEST_F(LocalPageCacheTest, ADamagedBlockIsAMissNeverWrongBytes) {
  {
    LocalPageCache cache(Path(), kPage, 4 * kPage);
    cache.Insert(3, 0, PageBytes(3, 1).data());
  }
  {
    std::fstream f(Path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  LocalPageCache cache(Path(), kPage, 4 * kPage);
  std::vector<uint8_t> out(kPage);
  EXPECT_FALSE(cache.Load(3, 0, out.data()));
  EXPECT_EQ(1u, cache.stats().bad_blocks);
  EXPECT_FALSE(cache.Load(3, 0, out.data())) << "dropped, not tried again";
}

TEST_F(LocalPageCacheTest, TheIndexSurvivesAReopenAndASmallerCapacityShrinksTheFile) {
  {
    LocalPageCache cache(Path(), kPage, 8 * kPage);
    for (uint32_t i = 0; i < 8; ++i) cache.Insert(2, i * 100, PageBytes(i, 2).data());
  }
  std::vector<uint8_t> out(kPage);
  {
    LocalPageCache cache(Path(), kPage, 8 * kPage);
    for (uint32_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(cache.Load(2, i * 100, out.data())) << i;
      EXPECT_EQ(PageBytes(i, 2), out);
    }
  }
  LocalPageCache small(Path(), kPage, 2 * kPage);
  EXPECT_LE(std::filesystem::file_size(Path()), 2u * kPage);
  int found = 0;
  for (uint32_t i = 0; i < 8; ++i) {
    if (small.Load(2, i * 100, out.data())) {
      EXPECT_EQ(PageBytes(i, 2), out);
      ++found;
    }
  }
  EXPECT_LE(found, 2);
}

TEST_F(LocalPageCacheTest, AnotherPageSizesIndexIsIgnored) {
  { LocalPageCache(Path(), kPage, 4 * kPage).Insert(1, 0, PageBytes(1, 1).data()); }
  LocalPageCache other(Path(), 2 * kPage, 4 * kPage);
  std::vector<uint8_t> out(2 * kPage);
  EXPECT_FALSE(other.Load(1, 0, out.data()));
}

TEST_F(LocalPageCacheTest, ACapacityBelowAPageCachesNothingAndMakesNoFile) {
  LocalPageCache cache(Path(), kPage, kPage - 1);
  cache.Insert(1, 0, PageBytes(1, 1).data());
  std::vector<uint8_t> out(kPage);
  EXPECT_FALSE(cache.Load(1, 0, out.data()));
  EXPECT_FALSE(std::filesystem::exists(Path()));
}

TEST_F(LocalPageCacheTest, ThreadsInsertingAndLoadingAtOnceOnlyEverSeeTheirOwnPages) {
  LocalPageCache cache(Path(), kPage, 32 * kPage);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> out(kPage);
      for (uint32_t i = 0; i < 400; ++i) {
        const uint32_t key = (i * 7 + t) % 64;
        if (cache.Load(5, key, out.data())) {
          if (out != PageBytes(key, 9)) ++wrong;
        } else {
          cache.Insert(5, key, PageBytes(key, 9).data());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, wrong.load());
  EXPECT_LE(std::filesystem::file_size(Path()), 32u * kPage);
}

TEST_F(LocalPageCacheTest, ItsIndexTakesAboutAHundredBytesABlockUpToItsCapacity) {
  LocalPageCache cache(Path(), kPage, 500 * uint64_t{kPage});
  const uint64_t empty = cache.memory_bytes();
  for (uint32_t i = 0; i < 500; ++i) cache.Insert(1, i * 100, PageBytes(i, 1).data());
  const uint64_t full = cache.memory_bytes();
  EXPECT_GE(full - empty, 500u * 80);
  EXPECT_LE(full - empty, 500u * 160);
  for (uint32_t i = 500; i < 1500; ++i) cache.Insert(2, i * 100, PageBytes(i, 1).data());
  EXPECT_LE(cache.memory_bytes(), full + 500 * 8) << "bounded by the capacity, not the inserts";
}

}  // namespace
}  // namespace pagefs
