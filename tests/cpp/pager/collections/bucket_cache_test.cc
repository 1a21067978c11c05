// BucketCache (the in-memory copy of a dict's bucket directory): every path
// that changes the directory behind it makes it forget what went stale. Each
// test fills the cache, changes the directory on that path (its own writes
// through another handle, a rollback, a reader's move to a newer commit),
// then looks every key up: a stale cache sends lookups to bucket pages that
// no longer hold them, and they come back absent or corrupt.
#include "pager/collections/bucket_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/persistent_hash.h"
#include "pager/store.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

// Keys [first, first + n) of one batch: strs distinct from every other batch.
std::string BucketCacheKey(int batch, int i) {
  return Str("b" + std::to_string(batch) + "-" + std::to_string(i));
}

void FillBatch(PersistentHash& d, int batch, int n) {
  std::string run;
  for (int i = 0; i < n; ++i) run += BucketCacheKey(batch, i) + Int(i);
  EXPECT_EQ(static_cast<uint64_t>(n), d.SetRun(run, n));
}

// How many keys of the batch d holds, each with its own value.
int CountBatch(PersistentHash& d, int batch, int n) {
  int found = 0;
  for (int i = 0; i < n; ++i) {
    std::string got;
    if (d.Get(BucketCacheKey(batch, i), [&](std::string_view v) { got = v; })) {
      EXPECT_EQ(Int(i), got) << "batch " << batch << " key " << i;
      ++found;
    }
  }
  return found;
}

TEST(BucketCacheTest, KeepsOnlyWhatWasFilledUnderOneViewAndDirectory) {
  BucketCache c;
  c.Check(1, 7);
  c.Put(3, 42);
  EXPECT_EQ(42u, c.Get(3));
  EXPECT_EQ(kNoPage, c.Get(2));
  c.Check(1, 7);
  EXPECT_EQ(42u, c.Get(3));
  c.Check(2, 7);  // a new view generation
  EXPECT_EQ(kNoPage, c.Get(3));
  c.Put(3, 42);
  c.Check(2, 8);  // another directory page
  EXPECT_EQ(kNoPage, c.Get(3));
  c.Put(3, 42);
  c.Forget(3);
  EXPECT_EQ(kNoPage, c.Get(3));
  c.Put(BucketCache::kMaxBuckets, 9);  // past the bound: not kept
  EXPECT_EQ(kNoPage, c.Get(BucketCache::kMaxBuckets));
}

class BucketCacheHeapTest : public ::testing::Test {
 protected:
  BucketCacheHeapTest() : space_(kPage), heap_(space_, BuiltinKinds()) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }
  MemoryPageSpace space_;
  Heap heap_;
};

TEST_F(BucketCacheHeapTest, WritesThroughOneHandleAreSeenThroughAnother) {
  const uint64_t id = PersistentHash::Create(heap_, CollectionKind::kDict);
  PersistentHash writer(heap_, id, CollectionKind::kDict);
  PersistentHash reader(heap_, id, CollectionKind::kDict);  // shares the cache
  // Splits: the index grows from one bucket to dozens.
  FillBatch(writer, 0, 20000);
  EXPECT_EQ(20000, CountBatch(reader, 0, 20000));
  const uint64_t grown = writer.Verify().buckets;
  EXPECT_GT(grown, 16u);
  // Merges: erasing most keys shrinks the index (and compacts the log,
  // which rebuilds it).
  for (int i = 0; i < 19000; ++i)
    EXPECT_TRUE(writer.Erase(BucketCacheKey(0, i), [](std::string_view) {}));
  EXPECT_LT(writer.Verify().buckets, grown);
  EXPECT_EQ(0, CountBatch(reader, 0, 19000));
  for (int i = 19000; i < 20000; ++i) EXPECT_TRUE(reader.Contains(BucketCacheKey(0, i)));
  // Grows again over the merged buckets, one key at a time.
  for (int i = 0; i < 8000; ++i) EXPECT_TRUE(writer.Set(BucketCacheKey(1, i), Int(i)));
  EXPECT_EQ(8000, CountBatch(reader, 1, 8000));
  // A clear rebuilds the index on new pages.
  writer.Clear();
  FillBatch(writer, 2, 12000);
  EXPECT_EQ(0, CountBatch(reader, 1, 8000));
  EXPECT_EQ(12000, CountBatch(reader, 2, 12000));
  EXPECT_EQ(12000u, reader.Verify().live);
}

class BucketCacheStoreTest : public ::testing::Test {
 protected:
  StoreOptions Options(bool read_only) const {
    StoreOptions o;
    o.read_only = read_only;
    o.page_size = kPage;
    return o;
  }
  TempFolder folder_{"bucket-cache"};
};

TEST_F(BucketCacheStoreTest, ARollbackForgetsTheCache) {
  auto store = Store::Open(folder_.path(), "data", Options(false));
  Heap& heap = store->heap();
  PersistentHash d(heap, PersistentHash::Create(heap, CollectionKind::kDict),
                   CollectionKind::kDict);
  FillBatch(d, 0, 6000);
  store->Commit();
  EXPECT_EQ(6000, CountBatch(d, 0, 6000));
  // The index rebuilt on new pages, then looked up: the cache holds them.
  d.Clear();
  FillBatch(d, 1, 9000);
  EXPECT_EQ(9000, CountBatch(d, 1, 9000));
  store->Rollback();  // back to batch 0's index, whose pages the cache forgot
  EXPECT_EQ(6000, CountBatch(d, 0, 6000));
  EXPECT_EQ(0, CountBatch(d, 1, 9000));
  EXPECT_EQ(6000u, d.Verify().live);
}

TEST_F(BucketCacheStoreTest, AReaderMovingToANewerCommitForgetsTheCache) {
  auto writer = Store::Open(folder_.path(), "data", Options(false));
  PersistentHash d(writer->heap(), PersistentHash::Create(writer->heap(), CollectionKind::kDict),
                   CollectionKind::kDict);
  FillBatch(d, 0, 6000);
  writer->Commit();
  auto reader = Store::Open(folder_.path(), "data", Options(true));
  PersistentHash r(reader->heap(), d.id(), CollectionKind::kDict);
  EXPECT_EQ(6000, CountBatch(r, 0, 6000));
  d.Clear();
  FillBatch(d, 1, 9000);
  writer->Commit();
  reader->Refresh();
  EXPECT_EQ(0, CountBatch(r, 0, 6000));
  EXPECT_EQ(9000, CountBatch(r, 1, 9000));
  EXPECT_EQ(9000u, r.Verify().live);
}

}  // namespace
}  // namespace pagefs
