// PersistentList::Pop, InsertRun and Replace, and reading references safely
// while other threads erase them (ReferencedLists).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
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

class ListPopTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  ListPopTest() : space_(GetParam()), heap_(space_, BuiltinKinds()) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  std::unique_ptr<PersistentList> NewList() {
    return std::make_unique<PersistentList>(heap_, PersistentList::Create(heap_));
  }
  std::string PopOne(PersistentList& list, int64_t i) {
    std::string out;
    list.Pop(i, [&](std::string_view v) { out = v; });
    return out;
  }
  // A new list holding Str(tag) k times, referenced from nowhere once the
  // returned handle is dropped.
  std::unique_ptr<PersistentList> Filled(const std::string& tag, int k) {
    auto list = NewList();
    std::string run;
    for (int j = 0; j < k; ++j) run += Str(tag);
    list->Append(run, k);
    return list;
  }

  MemoryPageSpace space_;
  Heap heap_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, ListPopTest, ::testing::Values(4096u, 65536u),
                         [](const auto& info) { return "page" + std::to_string(info.param); });

TEST_P(ListPopTest, PopTakesPythonIndicesLikeAVector) {
  auto list = NewList();
  std::vector<std::string> oracle;
  std::string run;
  for (int i = 0; i < 3000; ++i) {
    oracle.push_back(i % 7 ? Int(i) : Str(std::string(i % 3000, 'x')));  // some blobs
    run += oracle.back();
  }
  list->Append(run, oracle.size());
  std::mt19937_64 rng(7);
  while (!oracle.empty()) {
    const int64_t n = static_cast<int64_t>(oracle.size());
    const int64_t i = static_cast<int64_t>(rng() % (2 * n)) - n;  // [-n, n)
    const size_t at = static_cast<size_t>(i < 0 ? i + n : i);
    ASSERT_EQ(oracle[at], PopOne(*list, i));
    oracle.erase(oracle.begin() + static_cast<ptrdiff_t>(at));
    if (oracle.size() % 500 == 0) {
      EXPECT_EQ(oracle, ReadAll(*list));
      list->Verify();
    }
  }
  EXPECT_EQ(0u, list->size());
}

TEST_P(ListPopTest, PopOutOfRangeRaisesIndexAndChangesNothing) {
  auto list = NewList();
  std::string msg;
  EXPECT_EQ(ErrorCode::kIndex, CodeOf([&] { PopOne(*list, -1); }, &msg));
  EXPECT_EQ("pop from empty list", msg);
  EXPECT_EQ(ErrorCode::kIndex, CodeOf([&] { PopOne(*list, 0); }, &msg));
  EXPECT_EQ("pop from empty list", msg);
  list->Append(Int(1) + Int(2), 2);
  for (int64_t i : {int64_t{2}, int64_t{-3}, INT64_MAX, INT64_MIN}) {
    bool visited = false;
    EXPECT_EQ(ErrorCode::kIndex, CodeOf([&] { list->Pop(i, [&](std::string_view) { visited = true; }); }, &msg));
    EXPECT_EQ("pop index out of range", msg);
    EXPECT_FALSE(visited);
  }
  EXPECT_EQ((std::vector<std::string>{Int(1), Int(2)}), ReadAll(*list));
  EXPECT_EQ(Int(1), PopOne(*list, -2));
}

TEST_P(ListPopTest, GetSignedCountsNegativeIndicesFromTheEnd) {
  auto list = NewList();
  std::string msg;
  auto get = [&](int64_t i) {
    std::string out;
    list->GetSigned(i, [&](std::string_view v) { out = v; });
    return out;
  };
  EXPECT_EQ(ErrorCode::kIndex, CodeOf([&] { get(-1); }, &msg));
  EXPECT_EQ("list index out of range", msg);
  list->Append(Int(10) + Int(11) + Int(12), 3);
  EXPECT_EQ(Int(10), get(0));
  EXPECT_EQ(Int(12), get(-1));
  EXPECT_EQ(Int(10), get(-3));
  for (int64_t i : {int64_t{3}, int64_t{-4}, INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(ErrorCode::kIndex, CodeOf([&] { get(i); }, &msg)) << i;
    EXPECT_EQ("list index out of range", msg);
  }
}

TEST_P(ListPopTest, PoppedListReferencedOnlyFromItsSlotIsKeptByAHandleOpenedInTheVisitor) {
  auto outer = NewList();
  const uint64_t baseline = space_.pages_in_use();
  uint64_t nested_id = 0;
  {
    auto nested = Filled("n", 2000);
    nested_id = nested->id();
    outer->Append(Ref(nested_id), 1);
  }  // now referenced only from outer[0]
  ReferencedLists refs(heap_);
  std::string value;
  outer->Pop(0, [&](std::string_view v) {
    value = v;
    refs.Open(v);
  });
  EXPECT_EQ(Ref(nested_id), value);
  std::unique_ptr<PersistentList> popped = refs.Adopt(nested_id);
  ASSERT_NE(nullptr, popped);
  EXPECT_EQ(nullptr, refs.Adopt(nested_id));
  EXPECT_EQ(2000u, popped->size());
  EXPECT_EQ(Str("n"), GetOne(*popped, 1999));
  popped->Verify();
  popped.reset();  // the last handle on an unreferenced list frees it
  EXPECT_EQ(baseline, space_.pages_in_use());
}

TEST_P(ListPopTest, HandlesNotAdoptedAreClosedAndFreeWhatNothingHolds) {
  auto outer = NewList();
  const uint64_t baseline = space_.pages_in_use();
  for (int k = 0; k < 3; ++k) outer->Append(Ref(Filled("n", 500)->id()), 1);
  outer->Append(Ref(Filled("m", 10)->id()) + Int(5), 2);
  {
    ReferencedLists refs(heap_);
    outer->Scan(0, 5, [&](std::string_view v) { refs.Open(v); });
    EXPECT_FALSE(refs.empty());
    outer->Clear();  // the lists stay alive: refs holds them
    EXPECT_LT(baseline, space_.pages_in_use());
    EXPECT_EQ(nullptr, refs.Adopt(outer->id()));  // nothing was opened for it
  }
  EXPECT_EQ(baseline, space_.pages_in_use());
}

TEST_P(ListPopTest, InsertRunMatchesAVector) {
  auto list = NewList();
  std::vector<std::string> oracle;
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    const uint64_t count = rng() % 300;
    std::string run;
    std::vector<std::string> values;
    for (uint64_t k = 0; k < count; ++k) {
      values.push_back(rng() % 20 ? Str("r" + std::to_string(round) + "." + std::to_string(k))
                                  : Str(std::string(rng() % 3000, 'b')));
      run += values.back();
    }
    const uint64_t at = rng() % (oracle.size() + 2);  // past the end clamps
    list->InsertRun(at, run, count);
    const size_t pos = std::min<size_t>(at, oracle.size());
    oracle.insert(oracle.begin() + static_cast<ptrdiff_t>(pos), values.begin(), values.end());
    if (round % 20 == 0) {
      ASSERT_EQ(oracle, ReadAll(*list));
    }
  }
  EXPECT_EQ(oracle, ReadAll(*list));
  EXPECT_EQ(oracle.size(), list->Verify().size);
}

TEST_P(ListPopTest, InsertRunAndReplaceRejectMalformedRunsWhole) {
  auto list = NewList();
  list->Append(Int(1) + Int(2) + Int(3), 3);
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { list->InsertRun(1, Int(7) + Int(8), 3); }));
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { list->InsertRun(1, Int(7) + "\x06\x05" "ab", 2); }));
  std::string blob;
  EncodeBlob(blob, true, 5000, 1);
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { list->InsertRun(1, Int(7) + blob, 2); }));
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { list->Replace(0, 3, Int(7) + Int(8), 1); }));
  EXPECT_EQ((std::vector<std::string>{Int(1), Int(2), Int(3)}), ReadAll(*list));
}

TEST_P(ListPopTest, ReplaceMatchesVectorSliceAssignment) {
  auto list = NewList();
  std::vector<std::string> oracle;
  std::mt19937_64 rng(5);
  for (int round = 0; round < 300; ++round) {
    const uint64_t n = oracle.size();
    uint64_t start = rng() % (n + 3), stop = rng() % (n + 3);
    const uint64_t count = rng() % 100;
    std::string run;
    std::vector<std::string> values;
    for (uint64_t k = 0; k < count; ++k) {
      values.push_back(Int(static_cast<int64_t>(round * 1000 + k)));
      run += values.back();
    }
    list->Replace(start, stop, run, count);
    start = std::min(start, n);
    stop = std::clamp(stop, start, n);
    oracle.erase(oracle.begin() + static_cast<ptrdiff_t>(start), oracle.begin() + static_cast<ptrdiff_t>(stop));
    oracle.insert(oracle.begin() + static_cast<ptrdiff_t>(start), values.begin(), values.end());
    if (round % 30 == 0) {
      ASSERT_EQ(oracle, ReadAll(*list));
    }
  }
  EXPECT_EQ(oracle, ReadAll(*list));
  list->Verify();
}

TEST(ListPopConcurrency, ThreadsPoppingOneListTakeEveryValueExactlyOnce) {
  MemoryPageSpace space;
  Heap heap(space, BuiltinKinds());
  const uint64_t id = PersistentList::Create(heap);
  PersistentList keeper(heap, id);
  constexpr int kValues = 20000, kThreads = 6;
  std::string run;
  for (int i = 0; i < kValues; ++i) run += Int(i);
  keeper.Append(run, kValues);

  std::vector<std::vector<int64_t>> taken(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PersistentList list(heap, id);
      std::mt19937_64 rng(t);
      while (true) {
        std::string v;
        try {
          // Mostly the end, sometimes the front or the middle.
          const int64_t i = rng() % 4 == 0 ? 0 : rng() % 4 == 0 ? -17 : -1;
          list.Pop(i, [&](std::string_view s) { v = s; });
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kIndex) throw;
          if (list.size() == 0) return;
          continue;  // fewer than 17 left
        }
        taken[t].push_back(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).i);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int64_t> all;
  for (auto& part : taken) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(static_cast<size_t>(kValues), all.size());
  for (int i = 0; i < kValues; ++i) ASSERT_EQ(i, all[i]);
  EXPECT_EQ(0u, keeper.size());
  EXPECT_EQ(0u, space.live_pins());
}

// A reader takes handles on outer[0] while a writer keeps replacing it with
// a fresh list that nothing else holds: every list read must be whole.
TEST(ListPopConcurrency, AReferenceReadWhileReplacedIsNeverFreedUnderTheReader) {
  MemoryPageSpace space;
  Heap heap(space, BuiltinKinds());
  PersistentList outer(heap, PersistentList::Create(heap));
  constexpr int kLength = 300;
  // Stores a fresh list of kLength copies of tag at outer[0]; once this
  // returns, only that slot holds it.
  auto store = [&](int tag) {
    PersistentList nested(heap, PersistentList::Create(heap));
    std::string run;
    for (int j = 0; j < kLength; ++j) run += Int(tag);
    nested.Append(run, kLength);
    if (tag == 0) {
      outer.Append(Ref(nested.id()), 1);
    } else {
      outer.Set(0, Ref(nested.id()));
    }
  };
  store(0);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string failure;
  std::mutex failure_mu;
  std::thread writer([&] {
    for (int tag = 1; tag <= 3000; ++tag) store(tag);
    done = true;
  });
  std::thread reader([&] {
    try {
      while (!done.load()) {
        ReferencedLists refs(heap);
        std::string v;
        outer.Get(0, [&](std::string_view s) {
          v = s;
          refs.Open(s);
        });
        const uint64_t nested_id = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).ref_id;
        std::unique_ptr<PersistentList> nested = refs.Adopt(nested_id);
        const std::vector<std::string> values = ReadAll(*nested);
        if (values.size() != kLength || std::count(values.begin(), values.end(), values[0]) != kLength) {
          throw std::runtime_error("a torn or reused list");
        }
        ++reads;
      }
    } catch (const std::exception& e) {
      std::lock_guard l(failure_mu);
      failure = e.what();
      done = true;
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ("", failure);
  EXPECT_LT(0, reads.load());
  EXPECT_EQ(0u, space.live_pins());
}

}  // namespace
}  // namespace pagefs
