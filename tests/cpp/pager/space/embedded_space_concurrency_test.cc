// Several threads on one EmbeddedSpace (a Volume cached by a BufferPool, as a
// Store has it): each thread allocates, writes, reads and frees its own pages,
// or works on its own list, while the others do the same. A page id freed by
// one thread and at once allocated by another must never lose the second
// thread's page, and no thread may see another's bytes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/list_test_util.h"
#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/util/error.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/collections/heap.h"
#include "pager/tier/memory_tier.h"
#include "pager/collections/persistent_list.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;

struct Embedded {
  explicit Embedded(uint64_t budget)
      : volume(tier, "prefix 'threads'", {}), pool(kPage, budget, volume), space(volume, pool) {}
  MemoryTier tier{kPage};
  Volume volume;
  BufferPool pool;
  EmbeddedSpace space;
};

void Stamp(uint8_t* data, PageId id, uint64_t version) {
  std::memcpy(data, &id, sizeof id);
  std::memcpy(data + 8, &version, sizeof version);
  std::memset(data + 16, static_cast<int>((id * 31 + version) & 0xff), kPage - 16);
}

bool HasStamp(const uint8_t* data, PageId id, uint64_t version) {
  std::vector<uint8_t> want(kPage);
  Stamp(want.data(), id, version);
  return std::memcmp(want.data(), data, kPage) == 0;
}

// Pages allocated, stamped and freed in a loop by each thread, under a budget
// small enough that pages are evicted and loaded again all the time.
TEST(EmbeddedSpaceConcurrency, PagesFreedAndReallocatedByOtherThreadsKeepTheirBytes) {
  Embedded e(256 << 10);
  constexpr int kThreads = 4, kRounds = 4000;
  std::atomic<int> bad{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      std::deque<std::pair<PageId, uint64_t>> mine;  // id, version stamped
      try {
        for (uint64_t round = 1; round <= kRounds; ++round) {
          const int action = static_cast<int>(rng() % 4);
          if (action <= 1 || mine.empty()) {
            PageGuard g = e.space.Allocate();
            Stamp(g.mutable_data(), g.id(), round);
            mine.emplace_back(g.id(), round);
          } else if (action == 2) {
            auto& [id, version] = mine[rng() % mine.size()];
            PageGuard g = e.space.Read(id);
            if (!HasStamp(g.data(), id, version)) ++bad;
          } else {
            e.space.Free(mine.front().first);
            mine.pop_front();
          }
        }
        for (auto& [id, version] : mine) {
          PageGuard g = e.space.Read(id);
          if (!HasStamp(g.data(), id, version)) ++bad;
        }
      } catch (const Error&) {
        ++errors;  // e.g. "freed while still pinned" for another thread's page
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(0, bad.load()) << "pages lost or overwritten by another thread";
}

// The Python report of issue 10 in C++: each thread extends and cuts the
// front of its own list; every list must equal its model, before and after
// a commit.
TEST(EmbeddedSpaceConcurrency, ThreadsOnTheirOwnListsNeverDisturbEachOther) {
  Embedded e(1 << 20);
  Heap heap(e.space, BuiltinKinds());
  constexpr int kThreads = 4, kRounds = 1500;
  std::vector<uint64_t> ids;
  std::vector<std::unique_ptr<PersistentList>> keepers;  // unreferenced lists live while a handle does
  for (int t = 0; t < kThreads; ++t) {
    ids.push_back(PersistentList::Create(heap));
    keepers.push_back(std::make_unique<PersistentList>(heap, ids.back()));
  }
  std::vector<std::vector<int64_t>> models(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 7);
      std::vector<int64_t>& model = models[t];
      try {
        PersistentList list(heap, ids[t]);
        for (int round = 0; round < kRounds; ++round) {
          if (rng() % 2 == 0) {
            const int n = static_cast<int>(rng() % 500);
            std::string run;
            for (int v = 0; v < n; ++v) run += Int(v);
            list.Append(run, n);
            for (int v = 0; v < n; ++v) model.push_back(v);
          } else {
            const uint64_t n = std::min<uint64_t>(rng() % 300, model.size());
            list.Erase(0, n);
            model.erase(model.begin(), model.begin() + static_cast<int64_t>(n));
          }
        }
      } catch (const Error&) {
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(0, errors.load());
  auto check = [&](const char* when) {
    for (int t = 0; t < kThreads; ++t) {
      PersistentList& list = *keepers[t];
      list.Verify();
      std::vector<int64_t> got;
      list.Scan(0, UINT64_MAX, [&](std::string_view v) {
        got.push_back(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).i);
      });
      EXPECT_EQ(models[t], got) << "list " << t << " " << when;
    }
  };
  check("before the commit");
  {
    std::unique_lock op(heap.op_lock());
    e.space.Commit();
  }
  e.pool.SetBudget(64 << 10);  // everything is read back from the tier
  check("after the commit");
}

}  // namespace
}  // namespace pagefs
