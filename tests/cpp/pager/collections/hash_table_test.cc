// The hash structure of dicts and sets: lookups by key form, insertion order,
// LIFO pops, growth and shrinking by pages, compaction, and Verify, against
// an in-memory model over seeded random operations.
#include "pager/collections/hash_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"
#include "pager/testing/encoded_values.h"
#include "pager/testing/memory_page_space.h"
#include "pager/util/coding.h"
#include "pager/values/stable_hash.h"
#include "pager/values/value_format.h"

namespace pagefs {
namespace {

using encoded::Float;
using encoded::Int;
using encoded::Str;

class HashTableTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  HashTableTest() : space_(GetParam()), heap_(space_, BuiltinKinds()) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  PageId NewTable(CollectionKind kind) { return PersistentHash::Create(heap_, kind); }

  // Every live entry in log order: (key, value).
  std::vector<std::pair<std::string, std::string>> Entries(HashTable& t) {
    std::vector<std::pair<std::string, std::string>> out;
    for (uint64_t from = 0; from < t.log_entries();) {
      from = t.ScanFrom(from, 7, [&](uint64_t, std::string_view k, std::string_view v) {
        out.emplace_back(k, v);
      });
    }
    return out;
  }

  MemoryPageSpace space_;
  Heap heap_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, HashTableTest, ::testing::Values(512u, 4096u),
                         [](const auto& info) { return "page" + std::to_string(info.param); });

TEST_P(HashTableTest, EqualKeysAreOneKeyAndTheFirstKeyStays) {
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  EXPECT_TRUE(t.Set(Float(1.0), Str("a")));
  EXPECT_FALSE(t.Set(Int(1), Str("b")));
  std::string b;
  EncodeBool(b, true);
  EXPECT_FALSE(t.Set(b, Str("c")));
  EXPECT_EQ(1u, t.size());
  auto entries = Entries(t);
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ(Float(1.0), entries[0].first);
  EXPECT_EQ(Str("c"), entries[0].second);
  EXPECT_TRUE(t.Contains(Float(-0.0)) == false);
  EXPECT_TRUE(t.Set(Float(-0.0), Str("z")));
  EXPECT_TRUE(t.Contains(Int(0)));
}

TEST_P(HashTableTest, IterationKeepsInsertionOrderAndPopIsLastInFirstOut) {
  HashTable t(heap_, NewTable(CollectionKind::kSet));
  for (int i = 0; i < 300; ++i) t.Set(Int(i * 7919 % 1000), "");
  t.Erase(Int(7919 % 1000), [](std::string_view) {});
  auto entries = Entries(t);
  ASSERT_EQ(299u, entries.size());
  EXPECT_EQ(Int(0), entries[0].first);
  EXPECT_EQ(Int(2 * 7919 % 1000), entries[1].first);
  std::string popped;
  EXPECT_TRUE(t.PopLast([&](uint64_t, std::string_view k, std::string_view) { popped = k; }));
  EXPECT_EQ(Int(299 * 7919 % 1000), popped);
  EXPECT_TRUE(t.PopLast([&](uint64_t, std::string_view k, std::string_view) { popped = k; }));
  EXPECT_EQ(Int(298 * 7919 % 1000), popped);
  std::vector<std::string> backwards;
  for (uint64_t before = t.log_entries(); before > 0;) {
    before = t.ScanBefore(before, 5, [&](uint64_t, std::string_view k, std::string_view) {
      backwards.emplace_back(k);
    });
  }
  ASSERT_EQ(297u, backwards.size());
  EXPECT_EQ(Int(297 * 7919 % 1000), backwards.front());
  EXPECT_EQ(Int(0), backwards.back());
  t.Verify();
}

TEST_P(HashTableTest, UnsortedBucketPagesOfAnEarlierVersionStillServeEveryOperation) {
  // Stores written before pagefs sorted its bucket pages hold pages in
  // arrival order without the flag: lookups scan them, changes sort them.
  const PageId id = NewTable(CollectionKind::kDict);
  HashTable t(heap_, id);
  for (int i = 0; i < 3000; ++i) t.Set(Str("key-" + std::to_string(i)), Int(i));
  PageId directory;
  {
    PageGuard h = space_.Read(id);
    directory = Field<uint64_t>(h.data(), HashHeaderFields::kDirectory);
  }
  std::vector<PageId> pages;
  {
    ListTree dir(heap_, directory);
    dir.Scan(0, dir.size(), [&](std::string_view v) {
      pages.push_back(
          static_cast<PageId>(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).i));
    });
  }
  for (size_t k = 0; k < pages.size(); ++k) {
    for (PageId page = pages[k]; page != kNoPage;) {
      PageGuard g = space_.Write(page);
      HashBucket b(g.mutable_data(), GetParam());
      std::vector<IndexEntry> all;
      for (uint32_t j = 0; j < b.count(); ++j) all.push_back(b.at(j));
      std::reverse(all.begin(), all.end());
      for (uint32_t j = 0; j < b.count(); ++j) b.put(j, all[j]);
      b.set_flags(0);
      page = b.next();
    }
  }
  EXPECT_EQ(3000u, t.Verify().live);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(t.Contains(Str("key-" + std::to_string(i)))) << i;
  }
  for (int i = 0; i < 3000; i += 3) {
    ASSERT_TRUE(t.Erase(Str("key-" + std::to_string(i)), [](std::string_view) {})) << i;
  }
  for (int i = 3000; i < 6000; ++i) t.Set(Str("key-" + std::to_string(i)), Int(i));
  EXPECT_EQ(5000u, t.Verify().live);
  for (int i = 0; i < 6000; ++i) {
    ASSERT_EQ(i >= 3000 || i % 3 != 0, t.Contains(Str("key-" + std::to_string(i)))) << i;
  }
}

TEST_P(HashTableTest, GrowsByPagesAndDeletionGivesThemBack) {
  const uint64_t before = space_.pages_in_use();
  const PageId id = NewTable(CollectionKind::kDict);
  {
    HashTable t(heap_, id);
    const uint64_t empty = space_.pages_in_use();
    for (int i = 0; i < 20000; ++i) t.Set(Str("key-" + std::to_string(i)), Int(i));
    HashShape grown = t.Verify();
    EXPECT_EQ(20000u, grown.live);
    EXPECT_GT(grown.buckets, 4u);
    // About 3/4 full at most before a split, so few pages per entry.
    EXPECT_LE(grown.bucket_pages * HashBucket::Capacity(GetParam()) * 3, 20000u * 8);
    for (int i = 0; i < 20000; ++i) {
      ASSERT_TRUE(t.Erase(Str("key-" + std::to_string(i)), [](std::string_view) {})) << i;
    }
    HashShape shrunk = t.Verify();
    EXPECT_EQ(0u, shrunk.live);
    EXPECT_EQ(0u, shrunk.log_entries);
    EXPECT_EQ(1u, shrunk.buckets);
    EXPECT_EQ(empty, space_.pages_in_use());
    for (int i = 0; i < 1000; ++i) t.Set(Int(i), Int(i));
    t.Clear();
    EXPECT_EQ(0u, t.size());
    EXPECT_EQ(empty, space_.pages_in_use());
  }
  PersistentHash::Destroy(heap_, id);
  // Only the orphan list's anchor changed; every page is back.
  EXPECT_EQ(before, space_.pages_in_use());
}

TEST_P(HashTableTest, DeletingFromTheFrontCompactsTheLogAndBumpsTheGeneration) {
  HashTable t(heap_, NewTable(CollectionKind::kSet));
  for (int i = 0; i < 2000; ++i) t.Set(Int(i), "");
  const uint64_t gen = t.generation();
  for (int i = 0; i < 1500; ++i) t.Erase(Int(i), [](std::string_view) {});
  EXPECT_NE(gen, t.generation());
  EXPECT_LT(t.log_entries(), 1000u);
  auto entries = Entries(t);
  ASSERT_EQ(500u, entries.size());
  EXPECT_EQ(Int(1500), entries.front().first);
  EXPECT_EQ(Int(1999), entries.back().first);
  t.Verify();
}

TEST_P(HashTableTest, LongKeysAndValuesLiveInBlobsAndAreFreed) {
  const uint64_t before = space_.pages_in_use();
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  const uint64_t empty = space_.pages_in_use();
  const std::string big_key = Str(std::string(5000, 'k'));
  const std::string big_value = Str(std::string(9000, 'v'));
  EXPECT_TRUE(t.Set(big_key, big_value));
  std::string got;
  EXPECT_TRUE(t.Get(big_key, [&](std::string_view v) { got = v; }));
  EXPECT_EQ(big_value, got);
  EXPECT_FALSE(t.Set(big_key, Int(1)));  // the old value's blob goes
  EXPECT_TRUE(t.Erase(big_key, [](std::string_view) {}));
  EXPECT_EQ(empty, space_.pages_in_use());
  (void)before;
}

TEST_P(HashTableTest, SetDefaultStoresOnlyWhenAbsent) {
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  std::string seen;
  t.SetDefault(Str("a"), Int(1), [&](std::string_view v) { seen = v; });
  EXPECT_EQ(Int(1), seen);
  t.SetDefault(Str("a"), Int(2), [&](std::string_view v) { seen = v; });
  EXPECT_EQ(Int(1), seen);
  EXPECT_EQ(1u, t.size());
}

TEST_P(HashTableTest, UnhashableKeysAndBadInputStoreNothing) {
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  std::string ref;
  EncodeRef(ref, CollectionKind::kList, PersistentList::Create(heap_));
  EXPECT_THROW(t.Set(ref, Int(1)), Error);
  std::string blob;
  EncodeBlob(blob, true, 10, 3);
  EXPECT_THROW(t.Set(Int(1), blob), Error);
  EXPECT_THROW(t.Set(Int(1) + Int(2), Int(1)), Error);  // two values as a key
  EXPECT_EQ(0u, t.size());
  EXPECT_EQ(0u, t.log_entries());
  t.Verify();
}

TEST_P(HashTableTest, SetRunFilesARunAsSetsOneByOneWould) {
  // Runs large and small against the table (the directory read whole or per
  // key), keys repeated inside a run and across runs, equal keys in other
  // forms: the same entries, order, values and first keys as Set one by one.
  std::mt19937_64 rng(GetParam() + 1);
  for (CollectionKind kind : {CollectionKind::kDict, CollectionKind::kSet}) {
    const uint32_t w = kind == CollectionKind::kDict ? 2 : 1;
    HashTable batched(heap_, NewTable(kind));
    HashTable single(heap_, NewTable(kind));
    uint64_t step = 0;
    for (int r = 0; r < 60; ++r) {
      const uint64_t n = r % 3 == 0 ? 2000 + rng() % 3000 : 1 + rng() % 8;
      std::string run;
      uint64_t added = 0;
      for (uint64_t k = 0; k < n; ++k) {
        const int64_t x = static_cast<int64_t>(rng() % 20000);
        const std::string key = x % 5 == 0 ? Float(static_cast<double>(x)) : Int(x);
        const std::string value = Int(static_cast<int64_t>(step++));
        run += key;
        if (w == 2) run += value;
        added += single.Set(key, w == 2 ? value : std::string()) ? 1 : 0;
      }
      ASSERT_EQ(added, batched.SetRun(run, n)) << "run " << r;
    }
    EXPECT_EQ(single.size(), batched.size());
    EXPECT_EQ(Entries(single), Entries(batched));
    const HashShape shape = batched.Verify();
    EXPECT_EQ(single.size(), shape.live);
    EXPECT_GT(shape.buckets, 4u) << "runs split the table as they filed";
  }
}

TEST_P(HashTableTest, SetRunRefusesARunThatDoesNotHoldItsCount) {
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  EXPECT_THROW(t.SetRun(Int(1) + Str("a") + Int(2), 2), Error) << "ends inside a pair";
  EXPECT_THROW(t.SetRun(Int(3) + Str("c"), 2), Error);
  // What came before the fault is stored, as dict.update leaves it.
  EXPECT_EQ(2u, t.size());
  EXPECT_TRUE(t.Contains(Int(1)));
  EXPECT_TRUE(t.Contains(Int(3)));
  t.Verify();
}

TEST_P(HashTableTest, RandomOperationsMatchAnInsertionOrderedModel) {
  std::mt19937_64 rng(GetParam());
  HashTable t(heap_, NewTable(CollectionKind::kDict));
  std::vector<std::pair<std::string, std::string>> model;  // (key form, value), in order
  std::map<std::string, std::string> first_key;            // key form -> the key stored
  auto find = [&](const std::string& form) {
    for (size_t k = 0; k < model.size(); ++k)
      if (model[k].first == form) return static_cast<long>(k);
    return -1L;
  };
  auto random_key = [&]() {
    const int64_t n = static_cast<int64_t>(rng() % 600);
    switch (rng() % 3) {
      case 0: return Int(n);
      case 1: return Float(static_cast<double>(n));
      default: return Str("s" + std::to_string(n % 97));
    }
  };
  for (int step = 0; step < 6000; ++step) {
    const std::string key = random_key();
    const std::string form = KeyForm(key);
    const long at = find(form);
    switch (rng() % 5) {
      case 0:
      case 1: {
        const std::string value = Int(step);
        EXPECT_EQ(at < 0, t.Set(key, value));
        if (at < 0) {
          model.emplace_back(form, value);
          first_key[form] = key;
        } else {
          model[at].second = value;
        }
        break;
      }
      case 2: {
        std::string got;
        const bool found = t.Erase(key, [&](std::string_view v) { got = v; });
        ASSERT_EQ(at >= 0, found);
        if (found) {
          EXPECT_EQ(model[at].second, got);
          model.erase(model.begin() + at);
        }
        break;
      }
      case 3: {
        std::string got;
        ASSERT_EQ(at >= 0, t.Get(key, [&](std::string_view v) { got = v; }));
        if (at >= 0) {
          EXPECT_EQ(model[at].second, got);
        }
        break;
      }
      default: {
        std::string k, v;
        const bool popped = t.PopLast([&](uint64_t, std::string_view pk, std::string_view pv) {
          k = pk;
          v = pv;
        });
        ASSERT_EQ(!model.empty(), popped);
        if (popped) {
          EXPECT_EQ(first_key[model.back().first], k);
          EXPECT_EQ(model.back().second, v);
          model.pop_back();
        }
      }
    }
    ASSERT_EQ(model.size(), t.size());
    if (step % 1000 == 999) {
      t.Verify();
      auto entries = Entries(t);
      ASSERT_EQ(model.size(), entries.size());
      for (size_t k = 0; k < model.size(); ++k) {
        EXPECT_EQ(first_key[model[k].first], entries[k].first);
        EXPECT_EQ(model[k].second, entries[k].second);
      }
    }
  }
}

}  // namespace
}  // namespace pagefs
