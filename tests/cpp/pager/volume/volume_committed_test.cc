// Volume::LoadCommitted: reads of the last commit while newer versions are
// stored, freed, evicted from a pool and committed concurrently.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/util/error.h"
#include "pager/tier/memory_tier.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;

// Every byte of page id at version v says both, so a torn or mixed page shows.
std::vector<uint8_t> Pattern(PageId id, uint32_t version) {
  std::vector<uint8_t> bytes(kPage);
  for (uint32_t i = 0; i < kPage; i += 8) {
    uint64_t word = (uint64_t{version} << 32) | id;
    std::memcpy(bytes.data() + i, &word, 8);
  }
  return bytes;
}

std::vector<uint8_t> Committed(Volume& v, PageId id, uint64_t* epoch = nullptr) {
  std::vector<uint8_t> buf(kPage, 0xAB);
  uint64_t e = v.LoadCommitted(id, buf.data());
  if (epoch) *epoch = e;
  return buf;
}

const std::vector<uint8_t> kZeros(kPage, 0);

TEST(VolumeCommittedTest, ReadsTheLastCommitWhileNewerVersionsAreStoredAndFreed) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  PageId a = v.AllocateId(), b = v.AllocateId(), c = v.AllocateId();
  for (PageId id : {a, b, c}) v.Store(id, Pattern(id, 1).data());
  EXPECT_EQ(kZeros, Committed(v, a));  // not committed yet: the commit has no such page
  v.Commit({1, 0});
  const uint64_t metadata_before = v.metadata_bytes();
  v.Store(a, Pattern(a, 2).data());  // a new slot
  v.Store(a, Pattern(a, 3).data());  // the same fresh slot, in place
  PageId d = v.AllocateId();  // new since the commit
  v.Store(d, Pattern(d, 1).data());
  v.FreeId(b);  // its slot is pending: d's store above could not take it
  EXPECT_GT(v.metadata_bytes(), metadata_before);  // the map of committed entries counts
  uint64_t epoch = 0;
  EXPECT_EQ(Pattern(a, 1), Committed(v, a, &epoch));
  EXPECT_EQ(1u, epoch);
  EXPECT_EQ(Pattern(b, 1), Committed(v, b));
  EXPECT_EQ(Pattern(c, 1), Committed(v, c));
  EXPECT_EQ(kZeros, Committed(v, d));
  EXPECT_EQ(Pattern(a, 3), [&] {
    std::vector<uint8_t> buf(kPage);
    v.Load(a, buf.data());
    return buf;
  }());
  v.Commit({2, 0});
  EXPECT_EQ(Pattern(a, 3), Committed(v, a, &epoch));
  EXPECT_EQ(2u, epoch);
  EXPECT_EQ(kZeros, Committed(v, b));
  EXPECT_EQ(Pattern(d, 1), Committed(v, d));
  // A stale expectation is refused rather than answered from another commit.
  std::vector<uint8_t> buf(kPage);
  try {
    v.LoadCommitted(a, buf.data(), 1);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kStale, e.code());
  }
  EXPECT_EQ(2u, v.LoadCommitted(a, buf.data(), 2));
}

TEST(VolumeCommittedTest, PagesDirtyOnlyInThePoolOrEvictedReadAsCommitted) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  BufferPool pool(kPage, 64 * kPage, v);  // small: writes evict (store) older pages
  EmbeddedSpace space(v, pool);
  std::vector<PageId> ids;
  for (int i = 0; i < 200; ++i) {
    PageGuard g = space.Allocate();
    std::memcpy(g.mutable_data(), Pattern(g.id(), 1).data(), kPage);
    ids.push_back(g.id());
  }
  space.Commit();
  for (PageId id : ids) {
    PageGuard g = space.Write(id);
    std::memcpy(g.mutable_data(), Pattern(id, 2).data(), kPage);
  }
  // Some version-2 pages were evicted (stored), the rest are dirty in the pool.
  for (PageId id : ids) EXPECT_EQ(Pattern(id, 1), Committed(v, id)) << id;
  space.Commit();
  for (PageId id : ids) EXPECT_EQ(Pattern(id, 2), Committed(v, id)) << id;
}

TEST(VolumeCommittedTest, ConcurrentCommitsNeverShowAMixOrATornPage) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  constexpr int kPages = 32;
  std::vector<PageId> ids;
  for (int i = 0; i < kPages; ++i) ids.push_back(v.AllocateId());
  for (PageId id : ids) v.Store(id, Pattern(id, 1).data());
  v.Commit({1, 0});  // epoch 1 holds version 1, epoch n version n
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> checked{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      std::vector<uint8_t> buf(kPage);
      uint64_t n = 0;
      while (!stop.load()) {
        PageId id = ids[(n++ * 7 + r) % kPages];
        uint64_t epoch = v.LoadCommitted(id, buf.data());
        if (buf != Pattern(id, static_cast<uint32_t>(epoch))) {
          ADD_FAILURE() << "page " << id << " at epoch " << epoch << " is not version " << epoch;
          stop = true;
        }
        // A pinned epoch either answers that epoch or says it is stale.
        try {
          v.LoadCommitted(id, buf.data(), epoch);
          if (buf != Pattern(id, static_cast<uint32_t>(epoch))) {
            ADD_FAILURE() << "pinned read of page " << id << " is not version " << epoch;
            stop = true;
          }
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kStale) throw;
        }
        checked++;
      }
    });
  }
  for (uint32_t version = 2; version < 300; ++version) {
    for (PageId id : ids) v.Store(id, Pattern(id, version).data());
    if (version % 3 == 0) {  // free and reallocate one page: its slot is pending too
      PageId id = ids[version % kPages];
      v.FreeId(id);
      v.EnsureAllocated(id);
      v.Store(id, Pattern(id, version).data());
    }
    v.Commit({version, 0});
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(checked.load(), 0u);
  EXPECT_EQ(299u, v.committed().epoch);
}

}  // namespace
}  // namespace pagefs
