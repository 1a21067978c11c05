// CheckHashTable: the check's walk of one dict or set, against a recording
// CollectionCheck: a whole table is taken page by page with nothing to
// report, and each kind of damage to its buckets and entries is reported as
// a "hash" problem on the page that holds it. (Through the whole checker:
// checker_test.cc.)
#include "pager/collections/hash_check.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pager/collections/hash_bucket.h"
#include "pager/collections/hash_table.h"
#include "pager/collections/list_tree.h"
#include "pager/collections/op_scope.h"
#include "pager/collections/persistent_hash.h"
#include "pager/testing/heap_fixture.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/recording_check.h"
#include "pager/util/coding.h"

namespace pagefs {
namespace {

class HashCheckTest : public HeapOnMemory {
 protected:
  // A dict of n entries "key-i" -> i, every third one deleted afterwards, so
  // that buckets have split and the log holds absent entries.
  PageId Dict(int n) {
    PersistentHash& d =
        Open(PersistentHash::Create(heap_, CollectionKind::kDict), CollectionKind::kDict);
    for (int i = 0; i < n; ++i) d.Set(Str("key-" + std::to_string(i)), Int(i));
    for (int i = 0; i < n; i += 3)
      d.Erase(Str("key-" + std::to_string(i)), [](std::string_view) {});
    return d.id();
  }

  // A handle kept open for the test: a collection nothing references is
  // freed when its last handle closes.
  PersistentHash& Open(PageId id, CollectionKind kind) {
    handles_.push_back(std::make_unique<PersistentHash>(heap_, id, kind));
    return *handles_.back();
  }

  std::optional<uint64_t> Check(RecordingCheck& check) {
    check.heap_ptr = &heap_;
    return CheckHashTable(check, space_.Read(check.collection()));
  }

  PageId Directory(PageId id) {
    return Field<uint64_t>(space_.Read(id).data(), HashHeaderFields::kDirectory);
  }

  // The first page of every bucket, as the directory lists them.
  std::vector<PageId> Buckets(PageId id) {
    OpScope scope(heap_, mu_);
    ListTree dir(heap_, Directory(id));
    std::vector<PageId> out;
    dir.Scan(0, dir.size(), [&](std::string_view v) {
      out.push_back(
          static_cast<PageId>(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).i));
    });
    return out;
  }

  // The first bucket with at least one entry.
  PageId NonEmptyBucket(PageId id) {
    for (PageId b : Buckets(id)) {
      if (HashBucket(space_.Read(b).data(), GetParam()).count() > 0) return b;
    }
    ADD_FAILURE() << "every bucket is empty";
    return kNoPage;
  }

  void EditBucket(PageId page, const std::function<void(HashBucket&)>& edit) {
    PageGuard g = space_.Write(page);
    HashBucket b(g.mutable_data(), GetParam());
    edit(b);
  }

  bool Reported(const RecordingCheck& check, const std::string& what) {
    for (const std::string& p : check.problems) {
      if (p.rfind("hash @", 0) == 0 && p.find(what) != std::string::npos) return true;
    }
    return false;
  }

  std::string Problems(const RecordingCheck& check) {
    std::string out;
    for (const std::string& p : check.problems) out += p + "\n";
    return out;
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<PersistentHash>> handles_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, HashCheckTest, kPageSizes, PageSizeName);

TEST_P(HashCheckTest, AWholeDictIsTakenPageByPageWithNothingToReport) {
  const PageId id = Dict(30000);  // split even on the largest pages
  RecordingCheck check(space_, id);
  const std::optional<uint64_t> entries = Check(check);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  ASSERT_TRUE(entries.has_value());
  {
    OpScope scope(heap_, mu_);
    EXPECT_EQ(HashTable(heap_, id).log_entries(), *entries);
    EXPECT_EQ(30000u, *entries) << "live and deleted entries, not the log's values";
  }
  EXPECT_EQ(space_.pages_in_use() - 1, check.taken.size()) << "every page but the header, given";
  EXPECT_EQ(0u, check.taken.count(id));
  EXPECT_GT(Buckets(id).size(), 1u) << "the table should have split";
}

TEST_P(HashCheckTest, AWholeSetAndAnEmptyDictAreClean) {
  PersistentHash& s =
      Open(PersistentHash::Create(heap_, CollectionKind::kSet), CollectionKind::kSet);
  for (int i = 0; i < 3000; ++i) s.Set(Int(i * 31), "");
  RecordingCheck set_check(space_, s.id());
  EXPECT_EQ(std::optional<uint64_t>(3000), Check(set_check));
  EXPECT_TRUE(set_check.problems.empty()) << Problems(set_check);

  RecordingCheck empty_check(
      space_,
      Open(PersistentHash::Create(heap_, CollectionKind::kDict), CollectionKind::kDict).id());
  EXPECT_EQ(std::optional<uint64_t>(0), Check(empty_check));
  EXPECT_TRUE(empty_check.problems.empty()) << Problems(empty_check);
}

TEST_P(HashCheckTest, ABucketPageWithACountPastThePageIsReported) {
  const PageId id = Dict(2000);
  const PageId bucket = NonEmptyBucket(id);
  EditBucket(bucket, [&](HashBucket& b) { b.set_count(HashBucket::Capacity(GetParam()) + 1); });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  EXPECT_TRUE(Reported(
      check, "hash @" + std::to_string(bucket) + ": page " + std::to_string(bucket) + " of bucket"))
      << Problems(check);
  EXPECT_TRUE(Reported(check, "has a bad count")) << Problems(check);
}

TEST_P(HashCheckTest, AnEntryFiledUnderAnotherHashIsReported) {
  const PageId id = Dict(2000);
  EditBucket(NonEmptyBucket(id), [](HashBucket& b) {
    IndexEntry e = b.at(0);
    e.hash_lo ^= 1u << 31;  // a bit above the table's level: same bucket, other hash
    b.put(0, e);
  });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  ASSERT_EQ(1u, check.problems.size()) << Problems(check);
  EXPECT_TRUE(Reported(check, "collection " + std::to_string(id) + ": ")) << Problems(check);
  EXPECT_TRUE(Reported(check, "filed under another hash")) << Problems(check);
}

TEST_P(HashCheckTest, ABucketPageOutOfOrderIsReported) {
  // Every entry is right, but a lookup's binary search would miss some.
  const PageId id = Dict(2000);
  const PageId bucket = NonEmptyBucket(id);
  EditBucket(bucket, [](HashBucket& b) {
    ASSERT_GE(b.count(), 2u);
    ASSERT_NE(b.at(0).hash_lo, b.at(b.count() - 1).hash_lo);
    const IndexEntry first = b.at(0);
    b.put(0, b.at(b.count() - 1));
    b.put(b.count() - 1, first);
  });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  ASSERT_EQ(1u, check.problems.size()) << Problems(check);
  EXPECT_TRUE(Reported(
      check, "bucket page " + std::to_string(bucket) + " is marked sorted but out of order"))
      << Problems(check);
}

TEST_P(HashCheckTest, AnEntryInTheWrongBucketIsReported) {
  const PageId id = Dict(30000);  // split even on the largest pages
  ASSERT_GT(Buckets(id).size(), 1u);
  EditBucket(NonEmptyBucket(id), [](HashBucket& b) {
    IndexEntry e = b.at(0);
    e.hash_lo ^= 1u;  // the lowest bit picks the bucket once the table has split
    b.put(0, e);
  });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  EXPECT_TRUE(Reported(check, "belongs to another bucket")) << Problems(check);
}

TEST_P(HashCheckTest, AnIndexEntryNamingNoLiveEntryIsReported) {
  const PageId id = Dict(2000);
  EditBucket(NonEmptyBucket(id), [](HashBucket& b) {
    IndexEntry e = b.at(0);
    e.entry = 0;  // "key-0": deleted
    b.put(0, e);
  });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  EXPECT_FALSE(check.problems.empty());
  // Which rule breaks first depends on what else entry 0's slot held.
  EXPECT_TRUE(Reported(check, "is not a live entry") || Reported(check, "indexed twice") ||
              Reported(check, "filed under another hash") ||
              Reported(check, "belongs to another bucket"))
      << Problems(check);
}

TEST_P(HashCheckTest, AnEntryIndexedTwiceIsReported) {
  const PageId id = Dict(2000);
  EditBucket(NonEmptyBucket(id), [](HashBucket& b) {
    if (b.full()) b.set_count(b.count() - 1);
    b.Push(b.at(0));
  });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  EXPECT_TRUE(Reported(check, "indexed twice") || Reported(check, "index holds"))
      << Problems(check);
}

TEST_P(HashCheckTest, ALostIndexEntryIsReported) {
  const PageId id = Dict(2000);
  EditBucket(NonEmptyBucket(id), [](HashBucket& b) { b.set_count(b.count() - 1); });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  ASSERT_EQ(1u, check.problems.size()) << Problems(check);
  EXPECT_TRUE(Reported(check, "the index holds")) << Problems(check);
}

TEST_P(HashCheckTest, ADirectoryNamingNoPageIsReported) {
  const PageId id = Dict(2000);
  {
    OpScope scope(heap_, mu_);
    ListTree dir(heap_, Directory(id));
    dir.Set(0, Int(0));
  }
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());
  EXPECT_TRUE(Reported(check, "names page 0 for bucket 0")) << Problems(check);
}

TEST_P(HashCheckTest, AnUnreadableBucketStopsTheCheckBeforeTheTableIsRead) {
  const PageId id = Dict(2000);
  RecordingCheck check(space_, id);
  check.refuse.insert(Buckets(id).back());
  EXPECT_FALSE(Check(check).has_value());
  // The page's damage is the checker's to report; nothing is made up on top.
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
}

TEST_P(HashCheckTest, ABucketChainThatLoopsEndsTheWalk) {
  const PageId id = Dict(2000);
  const PageId bucket = NonEmptyBucket(id);
  EditBucket(bucket, [&](HashBucket& b) { b.set_next(bucket); });
  RecordingCheck check(space_, id);
  EXPECT_FALSE(Check(check).has_value());  // the second Take of the page is refused
}

}  // namespace
}  // namespace pagefs
