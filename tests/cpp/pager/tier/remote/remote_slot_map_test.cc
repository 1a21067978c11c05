// RemoteSlotMap: set, replace, erase, iterate against a std::map of the same
// operations; chunks stored, dropped from RAM and loaded back through the
// loader; the segments it references; damaged chunks.
#include "pager/tier/remote/remote_slot_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "pager/testing/error_code.h"

namespace pagefs {
namespace {

constexpr uint32_t kPage = 4096;
constexpr uint32_t kPerChunk = kPage / RemoteSlotMap::kEntryBytes;  // 170

FrameLocation Loc(uint64_t n) {
  return {n % 7, static_cast<uint32_t>(n * 16), static_cast<uint32_t>(1 + n % 300), n * 31};
}

bool Same(const FrameLocation& a, const FrameLocation& b) {
  return a.segment == b.segment && a.offset == b.offset && a.length == b.length &&
         a.checksum == b.checksum;
}

// Stands in for the bucket: chunk pages "uploaded" by a Sync, loaded back by
// the map's loader, counted.
struct FakeBucket {
  std::map<uint64_t, std::vector<uint8_t>> frames;  // by offset in segment 1000
  uint32_t next = 8;
  int loads = 0;

  void Attach(RemoteSlotMap& map) {
    map.set_loader([this](uint64_t, const FrameLocation& f, uint8_t* page) {
      ++loads;
      const std::vector<uint8_t>& p = frames.at(f.offset);
      std::copy(p.begin(), p.end(), page);
    });
  }
  // What a Sync does: the chunks' pages stored, then `then` applied and the
  // chunks marked stored.
  void Sync(RemoteSlotMap& map, const std::vector<std::pair<SlotId, FrameLocation>>& then = {}) {
    auto pages = map.PagesToStore(then);
    std::vector<std::pair<uint64_t, FrameLocation>> stored;
    for (auto& [chunk, page] : pages) {
      stored.emplace_back(chunk, FrameLocation{1000, next, 100, chunk});
      frames[next] = std::move(page);
      next += 100;
    }
    for (const auto& [slot, loc] : then) map.Set(slot, loc);
    for (const auto& [chunk, loc] : stored) map.Stored(chunk, loc);
  }
};

TEST(RemoteSlotMapTest, AgreesWithAStdMapOverRandomSetsErasesAndSyncs) {
  RemoteSlotMap map(kPage, /*max_clean_chunks=*/2);
  FakeBucket bucket;
  bucket.Attach(map);
  std::map<SlotId, FrameLocation> model;
  std::mt19937_64 rng(3);
  for (int step = 0; step < 20000; ++step) {
    const SlotId slot = rng() % 2000;
    const uint64_t op = rng() % 10;
    if (op < 3) {
      map.Erase(slot);
      model.erase(slot);
    } else if (op == 3) {
      const uint64_t n = rng() % 400;
      map.Erase(slot, n);
      model.erase(model.lower_bound(slot), model.lower_bound(slot + n));
    } else if (op == 4) {
      bucket.Sync(map);
      ASSERT_FALSE(map.dirty());
      ASSERT_LE(map.loaded_chunks(), 2u) << "clean chunks past the limit leave RAM";
    } else {
      const FrameLocation loc = Loc(rng() % 100000);
      map.Set(slot, loc);
      model[slot] = loc;
    }
    ASSERT_EQ(map.size(), model.size()) << step;
    ASSERT_EQ(map.end_slot(), model.empty() ? 0 : model.rbegin()->first + 1) << step;
    const SlotId probe = rng() % 2100;
    const std::optional<FrameLocation> got = map.Find(probe);
    ASSERT_EQ(got.has_value(), model.count(probe) == 1) << step;
    if (got) ASSERT_TRUE(Same(*got, model[probe])) << step;
  }
  bucket.Sync(map);
  uint64_t bytes = 0;
  std::vector<SlotId> seen;
  map.ForEach([&](SlotId slot, const FrameLocation& loc) {
    seen.push_back(slot);
    bytes += loc.length;
    EXPECT_TRUE(Same(loc, model.at(slot)));
  });
  ASSERT_EQ(seen.size(), model.size()) << "each stored slot once, ascending";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(map.bytes(), bytes);
  EXPECT_GT(bucket.loads, 0) << "chunks left RAM and came back";
}

TEST(RemoteSlotMapTest, AnImageTakenInAnotherMapFindsEverySlotByLoadingOnlyItsChunk) {
  RemoteSlotMap writer(kPage);
  FakeBucket bucket;
  bucket.Attach(writer);
  std::vector<std::pair<SlotId, FrameLocation>> placed;
  for (SlotId s = 2; s < 10 * kPerChunk; ++s) placed.emplace_back(s, Loc(s));
  bucket.Sync(writer, placed);
  const SlotMapImage image = writer.Image();
  EXPECT_EQ(image.chunks.size(), 10u);
  EXPECT_EQ(image.end_slot, 10 * kPerChunk);

  RemoteSlotMap reader(kPage);
  bucket.Attach(reader);
  bucket.loads = 0;
  reader.Adopt(image);
  EXPECT_EQ(reader.size(), placed.size());
  EXPECT_EQ(reader.bytes(), writer.bytes());
  EXPECT_EQ(reader.end_slot(), writer.end_slot());
  EXPECT_EQ(reader.Segments(), writer.Segments()) << "without loading a chunk";
  EXPECT_EQ(bucket.loads, 0);
  EXPECT_TRUE(Same(*reader.Find(5 * kPerChunk + 3), Loc(5 * kPerChunk + 3)));
  EXPECT_FALSE(reader.Find(10 * kPerChunk));
  EXPECT_EQ(bucket.loads, 1) << "one chunk for a lookup";
  EXPECT_EQ(reader.loaded_chunks(), 1u);
}

TEST(RemoteSlotMapTest, OnlyTheChunksAChangeTouchesAreStoredAgain) {
  RemoteSlotMap map(kPage);
  FakeBucket bucket;
  bucket.Attach(map);
  std::vector<std::pair<SlotId, FrameLocation>> placed;
  for (SlotId s = 0; s < 100 * kPerChunk; ++s) placed.emplace_back(s, Loc(s + 1));
  bucket.Sync(map, placed);
  EXPECT_EQ(bucket.frames.size(), 100u);
  EXPECT_TRUE(map.PagesToStore({}).empty()) << "nothing changed";
  const auto pages = map.PagesToStore({{3, Loc(9)}, {42 * kPerChunk, Loc(9)}});
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].first, 0u);
  EXPECT_EQ(pages[1].first, 42u);
  map.Erase(7 * kPerChunk + 1);
  EXPECT_EQ(map.PagesToStore({}).size(), 1u) << "an erase dirties its chunk";
}

TEST(RemoteSlotMapTest, AChunkLeftEmptyIsDroppedAndTheEndFollowsTheHighestSlot) {
  RemoteSlotMap map(kPage);
  FakeBucket bucket;
  bucket.Attach(map);
  bucket.Sync(map, {{3, Loc(1)}, {5 * kPerChunk + 9, Loc(2)}});
  EXPECT_EQ(map.end_slot(), 5 * kPerChunk + 10);
  EXPECT_EQ(map.Segments(), (std::vector<uint64_t>{1, 2, 1000}));
  map.Erase(5 * kPerChunk, kPerChunk);
  EXPECT_EQ(map.end_slot(), 4u) << "the slots above the highest one stored are gone";
  EXPECT_FALSE(map.dirty()) << "an emptied chunk needs no frame";
  EXPECT_EQ(map.Segments(), (std::vector<uint64_t>{1, 1000}))
      << "its frame and its slot's are no longer referenced";
  EXPECT_EQ(map.Image().chunks.size(), 1u);
  EXPECT_EQ(map.chunk_bytes(), 100u) << "one chunk frame left";
  map.Erase(0, 1000);
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.end_slot(), 0u);
  EXPECT_TRUE(map.Segments().empty());
  EXPECT_EQ(map.chunk_bytes(), 0u);
}

TEST(RemoteSlotMapTest, AFirstFormatMapIsTakenWholeAndStoredAsChunksByTheNextSync) {
  SlotMapImage flat;
  for (SlotId s = 2; s < 3 * kPerChunk; s += 2) flat.flat.emplace_back(s, Loc(s));
  RemoteSlotMap map(kPage);
  FakeBucket bucket;
  bucket.Attach(map);
  map.Adopt(flat);
  EXPECT_EQ(map.size(), flat.flat.size());
  EXPECT_TRUE(map.dirty());
  bucket.Sync(map);
  EXPECT_EQ(bucket.frames.size(), 3u);
  EXPECT_EQ(map.Image().chunks.size(), 3u);
}

TEST(RemoteSlotMapTest, AChunkThatDisagreesWithItsDirectoryIsCorruptionNamingIt) {
  RemoteSlotMap writer(kPage);
  FakeBucket bucket;
  bucket.Attach(writer);
  bucket.Sync(writer, {{2, Loc(1)}, {3, Loc(2)}});
  SlotMapImage image = writer.Image();
  image.chunks[0].count = 3;  // the commit says three, the chunk holds two
  RemoteSlotMap reader(kPage);
  bucket.Attach(reader);
  reader.Adopt(image);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { reader.Find(2); }, &msg), ErrorCode::kCorruption);
  EXPECT_NE(msg.find("slot map chunk 0"), std::string::npos) << msg;
}

TEST(RemoteSlotMapTest, ItsMemoryIsItsDirectoryAndTheChunksItHolds) {
  RemoteSlotMap map(kPage, /*max_clean_chunks=*/4);
  FakeBucket bucket;
  bucket.Attach(map);
  EXPECT_EQ(0u, map.memory_bytes());
  std::vector<std::pair<SlotId, FrameLocation>> placed;
  for (SlotId s = 0; s < 1000 * kPerChunk; ++s) placed.emplace_back(s, Loc(s + 1));
  bucket.Sync(map, placed);
  EXPECT_LE(map.loaded_chunks(), 4u);
  // 170,000 slots: the directory (a few dozen bytes a chunk), four chunks.
  EXPECT_LT(map.memory_bytes(), 1000u * 64 + 5 * kPage + 1000);
}

}  // namespace
}  // namespace pagefs
