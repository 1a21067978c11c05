// Several threads on one list through several handles.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/collections/heap.h"
#include "pager/collections/persistent_list.h"

namespace pagefs {
namespace {

TEST(ListConcurrency, ReadersNeverSeeATornAppend) {
  MemoryPageSpace space;
  Heap heap(space, BuiltinKinds());
  const uint64_t id = PersistentList::Create(heap);
  PersistentList keeper(heap, id);
  constexpr int kWriters = 4, kBatches = 200, kBatch = 50;
  std::atomic<int> writers_left{kWriters};
  std::atomic<bool> failed{false};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      PersistentList list(heap, id);  // a handle of its own
      for (int b = 0; b < kBatches; ++b) {
        std::string run;
        for (int j = 0; j < kBatch; ++j) run += Str(Cat("w", std::to_string(w), "-", std::to_string(j)));
        list.Append(run, kBatch);
      }
      --writers_left;
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      PersistentList list(heap, id);
      uint64_t last = 0;
      while (writers_left.load() > 0) {
        uint64_t n = list.size();
        // Whole batches only, never shrinking, and the last value is readable.
        if (n % kBatch != 0 || n < last) failed = true;
        if (n > 0) {
          std::string v = GetOne(list, n - 1);
          if (v.find(Cat("-", std::to_string(kBatch - 1))) == std::string::npos) failed = true;
        }
        last = n;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(uint64_t{kWriters} * kBatches * kBatch, keeper.size());
  keeper.Verify();
  EXPECT_EQ(0u, space.live_pins());
}

TEST(ListConcurrency, ListsSharingReferencesCanBeChangedFromManyThreads) {
  MemoryPageSpace space;
  Heap heap(space, BuiltinKinds());
  PersistentList shared(heap, PersistentList::Create(heap));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      PersistentList mine(heap, PersistentList::Create(heap));
      for (int i = 0; i < 500; ++i) {
        mine.Append(Ref(shared.id()), 1);  // refcount changes race across threads
        if (i % 3 == 0) mine.Erase(0, 1);
      }
    });  // mine closes with references in it: they are released as it is freed
  }
  for (auto& t : threads) t.join();
  uint64_t before = space.pages_in_use();
  heap.CollectOrphans();
  EXPECT_EQ(before, space.pages_in_use()) << "nothing left to collect";
  EXPECT_EQ(shared.id(), space.anchors().orphan_head) << "shared is unreferenced again";
}

}  // namespace
}  // namespace pagefs
