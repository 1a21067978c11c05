// Speed of the list on MemoryPageSpace. Disabled: a benchmark prints figures
// and never fails for being slow. Run with
//   pager_tests --gtest_also_run_disabled_tests --gtest_filter='*ListBenchmark*'
// MemoryPageSpace takes a mutex and a hash lookup per pin, so pin-heavy
// figures (Get) are a floor for what a real buffer pool hit costs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/collections/heap.h"
#include "pager/collections/persistent_list.h"

namespace pagefs {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Report(const char* what, uint64_t n, double s) {
  std::printf("%-44s %10.1f M/s  (%llu in %.3f s)\n", what, n / s / 1e6,
              static_cast<unsigned long long>(n), s);
}

TEST(ListBenchmark, DISABLED_AppendGetScanInsertErase) {
  MemoryPageSpace space(4096);
  Heap heap(space, BuiltinKinds());
  PersistentList list(heap, PersistentList::Create(heap));
  constexpr int kBatches = 100, kBatch = 50000;
  std::vector<std::string> runs;
  for (int b = 0; b < kBatches; ++b) {
    std::string run;
    for (int j = 0; j < kBatch; ++j) {
      char s[16];
      std::snprintf(s, sizeof s, "s%06d-%06d", b, j);  // 13 chars: a 14-byte encoding
      run += Str(s);
    }
    runs.push_back(std::move(run));
  }
  auto t = std::chrono::steady_clock::now();
  for (const std::string& run : runs) list.Append(run, kBatch);
  const uint64_t n = uint64_t{kBatches} * kBatch;
  Report("append, batches of 50000 x 14-byte values", n, Seconds(t));

  std::mt19937_64 rng(1);
  constexpr int kGets = 1000000;
  uint64_t sink = 0;
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < kGets; ++i) list.Get(rng() % n, [&](std::string_view v) { sink += v.size(); });
  Report("random get (5M list)", kGets, Seconds(t));
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < kGets; ++i) list.Get(rng() % 65536, [&](std::string_view v) { sink += v.size(); });
  Report("random get, hot set of 64Ki (5M list)", kGets, Seconds(t));
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < kGets; ++i) list.Get(i, [&](std::string_view v) { sink += v.size(); });
  Report("get of consecutive indices (5M list)", kGets, Seconds(t));

  t = std::chrono::steady_clock::now();
  list.Scan(0, n, [&](std::string_view v) { sink += v.size(); });
  Report("scan", n, Seconds(t));

  constexpr int kSingles = 1000000;
  std::string one = Str("single-append");
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < kSingles; ++i) list.Append(one, 1);
  Report("append one value per call", kSingles, Seconds(t));

  constexpr int kEdits = 100000;
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < kEdits; ++i) {
    uint64_t at = rng() % list.size();
    if (i % 2) {
      list.Insert(at, one);
    } else {
      list.Erase(at, at + 1);
    }
  }
  Report("random insert/erase in the middle (6M list)", kEdits, Seconds(t));
  ListShape shape = list.Verify();
  std::printf("height %u, %llu leaves, fill %.2f, %llu pages\n", shape.height,
              static_cast<unsigned long long>(shape.leaves), shape.fill(),
              static_cast<unsigned long long>(space.pages_in_use()));
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace pagefs
