#include "pager/tier/segment_tier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {
namespace {

class SegmentTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pagefs-seg-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

// Pages of fd's first bytes in the host's page cache (mincore of a mapping).
size_t CachedPages(int fd, size_t bytes) {
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 0;
  std::vector<unsigned char> vec((bytes + 4095) / 4096);
  size_t n = 0;
  if (::mincore(map, bytes, vec.data()) == 0) {
    for (unsigned char v : vec) n += v & 1;
  }
  ::munmap(map, bytes);
  return n;
}

TEST_F(SegmentTierTest, WillNeedReadsTheSlotsIntoTheHostPageCache) {
  SegmentTier tier(dir_, 4096, 64, false);
  std::vector<uint8_t> buf(4096, 0x5A);
  for (SlotId s = 0; s < 128; ++s) tier.Write(s, buf.data());  // two segment files
  tier.Sync();
  const std::string second = (dir_ / SegmentTier::SegmentFileName(1)).string();
  int fd = ::open(second.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (CachedPages(fd, 64 * 4096) > 8) {
    ::close(fd);
    GTEST_SKIP() << "this file system keeps the pages cached (tmpfs?)";
  }
  // Slots 64..79 and 90..99 of segment 1, out of order, and slots of a
  // segment that does not exist: two runs advised, no error.
  std::vector<SlotId> slots;
  for (SlotId s = 99; s >= 90; --s) slots.push_back(s);
  for (SlotId s = 64; s < 80; ++s) slots.push_back(s);
  slots.push_back(64 * 500);
  tier.WillNeed(slots);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t cached = 0;
  while ((cached = CachedPages(fd, 64 * 4096)) < 26 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::close(fd);
  EXPECT_GE(cached, 26u);
}

TEST_F(SegmentTierTest, UnwrittenSlotsReadAsZeros) {
  SegmentTier tier(dir_, 4096, 16, false);
  std::vector<uint8_t> buf(4096, 0xAB);
  tier.Read(100, buf.data());
  EXPECT_EQ(std::vector<uint8_t>(4096, 0), buf);
  EXPECT_EQ(0u, tier.size());
}

TEST_F(SegmentTierTest, SlotsSpreadOverSegmentFilesAndSurviveReopen) {
  {
    SegmentTier tier(dir_, 4096, 16, false);
    std::vector<uint8_t> buf(4096);
    for (SlotId s = 0; s < 40; ++s) {
      std::fill(buf.begin(), buf.end(), static_cast<uint8_t>(s));
      tier.Write(s, buf.data());
    }
    tier.Sync();
    EXPECT_EQ(40u, tier.size());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / SegmentTier::SegmentFileName(2)));
  EXPECT_FALSE(std::filesystem::exists(dir_ / SegmentTier::SegmentFileName(3)));
  SegmentTier tier(dir_, 4096, 16, true);
  EXPECT_EQ(40u, tier.size());
  std::vector<uint8_t> buf(4096);
  for (SlotId s = 0; s < 40; ++s) {
    tier.Read(s, buf.data());
    EXPECT_EQ(std::vector<uint8_t>(4096, static_cast<uint8_t>(s)), buf) << "slot " << s;
  }
}

TEST_F(SegmentTierTest, ReadOnlyTierRefusesWrites) {
  SegmentTier tier(dir_, 4096, 16, true);
  std::vector<uint8_t> buf(4096);
  try {
    tier.Write(0, buf.data());
    FAIL() << "write succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kReadOnly, e.code());
  }
}

// A segment file missing below the last one (lost, or the last one is not
// the store's): a writer is refused before it writes, naming the file, and
// a reader's reads of the lost slots fail instead of reading zeros.
TEST_F(SegmentTierTest, ASegmentMissingBelowTheLastIsDamage) {
  std::vector<uint8_t> buf(4096, 7);
  {
    SegmentTier tier(dir_, 4096, 16, false);
    for (SlotId s = 0; s < 40; ++s) tier.Write(s, buf.data());
    tier.Sync();
  }
  const auto lost = dir_ / SegmentTier::SegmentFileName(1);
  std::filesystem::remove(lost);
  const auto last_size = std::filesystem::file_size(dir_ / SegmentTier::SegmentFileName(2));
  try {
    SegmentTier tier(dir_, 4096, 16, false);
    FAIL() << "a writer opened a folder with a segment missing";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kCorruption, e.code());
    EXPECT_NE(std::string(e.what()).find(lost.string() + " is missing while segment-00002.pfs"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(lost));
  EXPECT_EQ(last_size, std::filesystem::file_size(dir_ / SegmentTier::SegmentFileName(2)));
  SegmentTier reader(dir_, 4096, 16, true);
  reader.Read(0, buf.data());
  reader.Read(32, buf.data());
  EXPECT_EQ(std::vector<uint8_t>(4096, 7), buf);
  for (bool run : {false, true}) {
    try {
      if (run) {
        uint8_t* bufs[2] = {buf.data(), buf.data()};
        reader.ReadRun(16, 2, bufs);
      } else {
        reader.Read(17, buf.data());
      }
      FAIL() << "read a slot of the missing segment";
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCode::kCorruption, e.code());
      EXPECT_NE(std::string(e.what()).find("segment-00001.pfs (slot 1"), std::string::npos)
          << e.what();
    }
  }
}

TEST_F(SegmentTierTest, MissingFolderIsAnIoError) {
  try {
    SegmentTier tier((dir_ / "nope").string(), 4096, 16, false);
    FAIL() << "opened a missing folder";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCode::kIo, e.code());
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}

}  // namespace
}  // namespace pagefs
