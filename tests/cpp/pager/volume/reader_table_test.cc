// ReaderTable and the Volume's slot-release rule: a writer never reuses a
// slot that a live reader's commit reaches, dead readers are cleared, and
// what is held comes back once the readers move on.
#include "pager/volume/reader_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "pager/testing/forked_child.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

class ReaderTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pagefs_readers_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ReaderTableTest, PublishedEpochsShowUntilTheSlotIsReleased) {
  auto table = ReaderTable::Open(dir_, true);
  EXPECT_EQ(0u, table->Scan().live);
  auto a = table->Claim();
  auto b = table->Claim();
  EXPECT_NE(a->index(), b->index());
  EXPECT_EQ(0u, table->Scan().live);  // claimed, nothing published
  a->Publish({7, 1, 100, 5, 9});
  b->Publish({4, 1, 200, 6, 9});
  ReaderScan scan = table->Scan();
  EXPECT_EQ(2u, scan.live);
  ASSERT_TRUE(scan.oldest);
  EXPECT_EQ(4u, *scan.oldest);
  ASSERT_EQ(2u, scan.snapshots.size());
  EXPECT_EQ((ReaderSnapshot{4, 1, 200, 6, 9}), scan.snapshots[0]);
  b.reset();
  scan = table->Scan();
  EXPECT_EQ(1u, scan.live);
  EXPECT_EQ(7u, *scan.oldest);
  EXPECT_EQ(0u, scan.cleared);  // a clean release leaves nothing to clear
}

TEST_F(ReaderTableTest, ADeadReadersSlotIsClearedAndReused) {
  auto table = ReaderTable::Open(dir_, true);
  ASSERT_EQ(0, InForkedChild([&] {
              // The reader dies holding its slot with an old epoch published.
              auto mine = ReaderTable::Open(dir_, true);
              auto slot = mine->Claim();
              slot->Publish({3, 0, 0, 0, 1});
              std::_Exit(0);  // no destructor frees the slot
              return 0;
            }));
  ReaderScan scan = table->Scan();
  EXPECT_EQ(0u, scan.live);
  EXPECT_FALSE(scan.oldest);
  EXPECT_EQ(1u, scan.cleared);
  EXPECT_EQ(0u, table->Scan().cleared);
}

TEST_F(ReaderTableTest, AnotherProcessOpeningTheTableSeesLiveReaders) {
  auto table = ReaderTable::Open(dir_, true);
  auto slot = table->Claim();
  slot->Publish({11, 0, 0, 0, 1});
  EXPECT_EQ(0, InForkedChild([&] {
              auto other = ReaderTable::Open(dir_, true);
              ReaderScan scan = other->Scan();
              return scan.live == 1 && scan.oldest && *scan.oldest == 11 ? 0 : 1;
            }));
}

TEST_F(ReaderTableTest, AFileThatIsNotAReaderTableIsRefused) {
  {
    std::FILE* f = std::fopen((dir_ / "readers").c_str(), "w");
    std::fputs("not a reader table, just some text of more than 24 bytes", f);
    std::fclose(f);
  }
  try {
    ReaderTable::Open(dir_, true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kCorruption, e.code());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("readers"));
  }
}

TEST_F(ReaderTableTest, APinKeepsItsCommitReadableAndTheSpaceComesBackAfter) {
  MemoryTier tier(kPage);
  Volume v(tier, "t", {});
  std::vector<PageId> ids;
  for (int i = 0; i < 32; ++i) ids.push_back(v.AllocateId());
  for (PageId id : ids) v.Store(id, PageBytes(id, 1).data());
  v.Commit({1, 0});
  std::optional<CommitPin> pin = v.PinCommitted();
  EXPECT_EQ(1u, v.reader_stats().live);
  for (uint32_t version = 2; version <= 6; ++version) {
    for (PageId id : ids) v.Store(id, PageBytes(id, version).data());
    v.Commit({1, 0});
    for (PageId id : ids) {  // every page of the pinned commit is intact
      std::vector<uint8_t> buf(kPage);
      v.LoadPinned(pin->commit, id, buf.data());
      ASSERT_EQ(PageBytes(id, 1), buf) << "page " << id << " after version " << version;
    }
  }
  VolumeReaderStats held = v.reader_stats();
  EXPECT_EQ(1u, *held.oldest);
  EXPECT_GE(held.held_slots, 4u * ids.size());
  const SlotId size_pinned = tier.size();
  pin.reset();
  // The first commit after the pin went still writes beside the held slots
  // (they come back at its end); from then on the writer reuses them.
  SlotId size_after = 0;
  for (uint32_t version = 7; version <= 12; ++version) {
    for (PageId id : ids) v.Store(id, PageBytes(id, version).data());
    v.Commit({1, 0});
    if (version == 7) size_after = tier.size();
  }
  EXPECT_EQ(0u, v.reader_stats().live);
  EXPECT_EQ(0u, v.reader_stats().held_slots);
  EXPECT_LE(size_after, size_pinned + ids.size() + 4);
  EXPECT_EQ(size_after, tier.size());  // reused, not grown
}

TEST_F(ReaderTableTest, AReaderOfAnOldCommitSurvivesTheWritersCrashAndReopen) {
  auto table = ReaderTable::Open(dir_, true);
  MemoryTier tier(kPage);
  std::vector<PageId> ids;
  VolumeOptions wopts;
  wopts.readers = table.get();
  auto writer = std::make_unique<Volume>(tier, "t", wopts);
  for (int i = 0; i < 32; ++i) ids.push_back(writer->AllocateId());
  for (PageId id : ids) writer->Store(id, PageBytes(id, 1).data());
  writer->Commit({1, 0});
  VolumeOptions ropts = wopts;
  ropts.read_only = true;
  ropts.create = false;
  Volume reader(tier, "t", ropts);
  for (uint32_t version = 2; version <= 3; ++version) {
    for (PageId id : ids) writer->Store(id, PageBytes(id, version).data());
    writer->Commit({1, 0});
  }
  writer.reset();  // the writer is gone: what it held for the reader is not in memory any more
  Volume reopened(tier, "t", wopts);
  for (uint32_t version = 4; version <= 8; ++version) {
    for (PageId id : ids) reopened.Store(id, PageBytes(id, version).data());
    PageId extra = reopened.AllocateId();
    reopened.Store(extra, PageBytes(extra, version).data());
    reopened.Commit({1, 0});
  }
  for (PageId id : ids) {
    std::vector<uint8_t> buf(kPage);
    reader.Load(id, buf.data());
    ASSERT_EQ(PageBytes(id, 1), buf) << "page " << id;
  }
  EXPECT_EQ(1u, *reopened.reader_stats().oldest);
  EXPECT_TRUE(reader.FollowNewest());
  std::vector<uint8_t> buf(kPage);
  reader.Load(ids[0], buf.data());
  EXPECT_EQ(PageBytes(ids[0], 8), buf);
}

TEST_F(ReaderTableTest, AReadOnlyVolumeKeepsItsCommitWhileTheWriterCommits) {
  auto table = ReaderTable::Open(dir_, true);
  MemoryTier tier(kPage);
  VolumeOptions wopts;
  wopts.readers = table.get();
  Volume writer(tier, "t", wopts);
  std::vector<PageId> ids;
  for (int i = 0; i < 16; ++i) ids.push_back(writer.AllocateId());
  for (PageId id : ids) writer.Store(id, PageBytes(id, 1).data());
  writer.Commit({1, 0});
  VolumeOptions ropts = wopts;
  ropts.read_only = true;
  ropts.create = false;
  auto reader = std::make_unique<Volume>(tier, "t", ropts);
  for (uint32_t version = 2; version <= 5; ++version) {
    for (PageId id : ids) writer.Store(id, PageBytes(id, version).data());
    writer.Commit({1, 0});
  }
  for (PageId id : ids) {
    std::vector<uint8_t> buf(kPage);
    reader->Load(id, buf.data());
    ASSERT_EQ(PageBytes(id, 1), buf) << "page " << id;
  }
  EXPECT_GT(writer.reader_stats().held_slots, 0u);
  reader.reset();  // the reader goes: the next commit gives everything back
  for (PageId id : ids) writer.Store(id, PageBytes(id, 6).data());
  writer.Commit({1, 0});
  EXPECT_EQ(0u, writer.reader_stats().held_slots);
}

TEST_F(ReaderTableTest, AFreshReaderSeesOneWholeCommitWhileTheWriterCommits) {
  auto table = ReaderTable::Open(dir_, true);
  MemoryTier tier(kPage);
  VolumeOptions wopts;
  wopts.readers = table.get();
  Volume writer(tier, "t", wopts);
  std::vector<PageId> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(writer.AllocateId());
  for (PageId id : ids) writer.Store(id, PageBytes(id, 1).data());
  writer.Commit({1, 0});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> opens{0};
  std::thread readers([&] {
    VolumeOptions ropts = wopts;
    ropts.read_only = true;
    ropts.create = false;
    while (!stop.load()) try {
        Volume r(tier, "t", ropts);
        std::vector<uint8_t> first(kPage), buf(kPage);
        r.Load(ids[0], first.data());
        uint32_t version;
        std::memcpy(&version, first.data() + sizeof(uint64_t), 4);  // PageBytes: id, then version
        for (PageId id : ids) {
          r.Load(id, buf.data());  // throws on a reused slot (checksum mismatch)
          if (PageBytes(id, version) != buf) throw std::runtime_error("a page of another commit");
        }
        opens.fetch_add(1);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "reader: " << e.what();
        stop = true;
      }
  });
  for (uint32_t version = 2; !stop.load() && (opens.load() < 200 || version < 200); ++version) {
    for (PageId id : ids) writer.Store(id, PageBytes(id, version).data());
    writer.Commit({1, 0});
  }
  stop = true;
  readers.join();
}

}  // namespace
}  // namespace pagefs
