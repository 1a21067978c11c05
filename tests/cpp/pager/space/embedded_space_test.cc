// EmbeddedSpace: a Volume cached by a BufferPool, as a Store has it. Pages
// are read, written, allocated and freed through the pool; Commit writes the
// dirty pages back and commits the anchors; a read-only space follows newer
// commits only through the follow its owner sets; Rebind takes a fresh
// volume's committed anchors.
//
// Concurrency: several threads allocate, write, read and free their own
// pages, or work on their own lists, while the others do the same. A page id
// freed by one thread and at once allocated by another must never lose the
// second thread's page, and no thread may see another's bytes.
#include "pager/space/embedded_space.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/collections/heap.h"
#include "pager/collections/persistent_list.h"
#include "pager/space/embedded_space.h"
#include "pager/testing/error_code.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"
#include "pager/util/read_only_op.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

struct Embedded {
  explicit Embedded(uint64_t budget)
      : volume(tier, "prefix 'threads'", {}), pool(kPage, budget, volume), space(volume, pool) {}
  MemoryTier tier{kPage};
  Volume volume;
  BufferPool pool;
  EmbeddedSpace space;
};

TEST(EmbeddedSpaceTest, PagesGoThroughThePoolAndCommitStoresThemWithTheAnchors) {
  MemoryTier tier(kPage);
  PageId id;
  {
    Volume volume(tier, "prefix 'e'", {});
    BufferPool pool(kPage, 1 << 20, volume);
    EmbeddedSpace space(volume, pool);
    EXPECT_EQ(kPage, space.page_size());
    EXPECT_FALSE(space.read_only());
    {
      PageGuard g = space.Allocate();
      id = g.id();
      EXPECT_EQ(std::vector<uint8_t>(kPage, 0), std::vector<uint8_t>(g.data(), g.data() + kPage));
      StampPage(g.mutable_data(), id, 1, kPage);
    }
    EXPECT_EQ(1u, pool.stats().dirty);  // in the cache only, not yet in the volume
    space.set_anchors({id, 0});
    EXPECT_EQ((Anchors{}), volume.committed().anchors);  // until the commit
    space.Commit();
    EXPECT_EQ(0u, pool.stats().dirty);
    EXPECT_EQ((Anchors{id, 0}), volume.committed().anchors);
    EXPECT_TRUE(HasStampedPage(space.Read(id).data(), id, 1, kPage));
    {
      PageGuard g = space.Write(id);
      StampPage(g.mutable_data(), id, 2, kPage);
    }
    EXPECT_FALSE(space.NewerCommit(/*force=*/true));  // a writer follows nothing
  }
  tier.Crash();  // the second version was never committed
  Volume volume(tier, "prefix 'e'", {});
  BufferPool pool(kPage, 1 << 20, volume);
  EmbeddedSpace space(volume, pool);
  EXPECT_EQ((Anchors{id, 0}), space.anchors());
  EXPECT_TRUE(HasStampedPage(space.Read(id).data(), id, 1, kPage));
}

TEST(EmbeddedSpaceTest, AFreedPageLeavesCacheAndVolumeAtOnce) {
  Embedded e(1 << 20);
  PageId id;
  {
    PageGuard g = e.space.Allocate();
    id = g.id();
    StampPage(g.mutable_data(), id, 1, kPage);
  }
  e.space.Free(id);
  EXPECT_FALSE(e.volume.IsAllocated(id));
  EXPECT_EQ(0u, e.pool.stats().dirty);  // its dirty copy is dropped, never written back
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { e.space.Free(id); }));
  PageGuard again = e.space.Allocate();  // the id is reused, zero-filled
  EXPECT_EQ(id, again.id());
  EXPECT_EQ(0, again.data()[100]);
}

TEST(EmbeddedSpaceTest, AReadOnlySpaceRefusesWritesAndFollowsOnlyThroughItsOwner) {
  MemoryTier tier(kPage);
  {
    Volume writer(tier, "prefix 'e'", {});
    writer.Store(writer.AllocateId(), std::vector<uint8_t>(kPage, 3).data());
    writer.Commit({1, 0});
  }
  VolumeOptions ro;
  ro.read_only = true;
  ro.create = false;
  Volume volume(tier, "prefix 'e'", ro);
  BufferPool pool(kPage, 1 << 20, volume);
  EmbeddedSpace space(volume, pool);
  EXPECT_TRUE(space.read_only());
  EXPECT_EQ(3, space.Read(1).data()[0]);
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { space.Write(1); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { space.Allocate(); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { space.Free(1); }));
  EXPECT_EQ(ErrorCode::kReadOnly, CodeOf([&] { space.set_anchors({1, 1}); }));
  EXPECT_FALSE(space.NewerCommit(/*force=*/true));  // no follow set
  int follows = 0;
  space.set_follow([&] { ++follows; });
  space.FollowCommit();
  EXPECT_EQ(1, follows);
}

TEST(EmbeddedSpaceTest, APageChangedInsideAReadOnlyOperationIsRefusedAsABug) {
  Embedded e(1 << 20);
  const PageId id = e.space.Allocate().id();
  ReadOnlyOpScope reading;
  EXPECT_EQ(0, e.space.Read(id).data()[0]);
  std::string message;
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { e.space.Write(id); }, &message));
  EXPECT_NE(message.find("read-only operation"), std::string::npos) << message;
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { e.space.Allocate(); }));
  EXPECT_EQ(ErrorCode::kNotAllowed, CodeOf([&] { e.space.Free(id); }));
}

TEST(EmbeddedSpaceTest, RebindTakesTheNewVolumesCommittedAnchors) {
  MemoryTier tier(kPage);
  Volume first(tier, "prefix 'e'", {});
  BufferPool first_pool(kPage, 1 << 20, first);
  EmbeddedSpace space(first, first_pool);
  space.set_anchors({5, 6});  // never committed
  EXPECT_EQ((Anchors{5, 6}), space.anchors());
  MemoryTier fresh(kPage);
  Volume second(fresh, "prefix 'f'", {});
  second.Commit({9, 8});
  BufferPool second_pool(kPage, 1 << 20, second);
  space.Rebind(second, second_pool);
  EXPECT_EQ((Anchors{9, 8}), space.anchors());
  PageGuard g = space.Allocate();
  EXPECT_TRUE(second.IsAllocated(g.id()));
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
            StampPage(g.mutable_data(), g.id(), round, kPage);
            mine.emplace_back(g.id(), round);
          } else if (action == 2) {
            auto& [id, version] = mine[rng() % mine.size()];
            PageGuard g = e.space.Read(id);
            if (!HasStampedPage(g.data(), id, version, kPage)) ++bad;
          } else {
            e.space.Free(mine.front().first);
            mine.pop_front();
          }
        }
        for (auto& [id, version] : mine) {
          PageGuard g = e.space.Read(id);
          if (!HasStampedPage(g.data(), id, version, kPage)) ++bad;
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
  std::vector<std::unique_ptr<PersistentList>>
      keepers;  // unreferenced lists live while a handle does
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
