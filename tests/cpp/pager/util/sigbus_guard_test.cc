// CopyFromMapping and ProbeMapping: a copy or probe whose source faults with
// SIGBUS (here: a mapping of a file touched past the file's end, as a FUSE
// file whose daemon answers EIO would) returns false and the process goes on;
// a SIGBUS outside them is passed on to what was installed before (here: the
// default, or the sanitizer's), which kills the process, saying so first when
// the address is in a range registered as read in place.
#include "pager/util/sigbus_guard.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/temp_folder.h"

namespace pagefs {
namespace {

constexpr size_t kOsPage = 4096;

// A file of one kernel page of 0x5A mapped over two: the second page is past
// the file's end, so touching it raises SIGBUS.
class SigbusGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(kOsPage, static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
    std::filesystem::create_directories(folder_.path());
    fd_ = ::open((folder_.path() / "file").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd_, 0);
    std::vector<uint8_t> page(kOsPage, 0x5A);
    ASSERT_EQ(static_cast<ssize_t>(kOsPage), ::pwrite(fd_, page.data(), kOsPage, 0));
    void* p = ::mmap(nullptr, 2 * kOsPage, PROT_READ, MAP_SHARED, fd_, 0);
    ASSERT_NE(MAP_FAILED, p);
    map_ = static_cast<const uint8_t*>(p);
    InstallSigbusHandler();
  }
  void TearDown() override {
    if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), 2 * kOsPage);
    if (fd_ >= 0) ::close(fd_);
  }

  TempFolder folder_{"sigbus"};
  int fd_ = -1;
  const uint8_t* map_ = nullptr;
};

TEST_F(SigbusGuardTest, ACopyOfAPageInTheFileSucceeds) {
  std::vector<uint8_t> out(kOsPage, 0);
  EXPECT_TRUE(CopyFromMapping(out.data(), map_, kOsPage));
  EXPECT_EQ(std::vector<uint8_t>(kOsPage, 0x5A), out);
}

TEST_F(SigbusGuardTest, ACopyThatFaultsReturnsFalseAndTheNextCopyWorks) {
  std::vector<uint8_t> out(kOsPage, 0);
  for (int round = 0; round < 3; ++round) {  // the handler stays usable after a jump
    EXPECT_FALSE(CopyFromMapping(out.data(), map_ + kOsPage, kOsPage));
    EXPECT_TRUE(CopyFromMapping(out.data(), map_, kOsPage));
    EXPECT_EQ(0x5A, out[kOsPage - 1]);
  }
  // A copy straddling the end faults in its second half.
  EXPECT_FALSE(CopyFromMapping(out.data(), map_ + kOsPage / 2, kOsPage));
}

TEST_F(SigbusGuardTest, ThreadsFaultingAtOnceEachGetTheirOwnAnswer) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> out(kOsPage);
      for (int i = 0; i < 2000; ++i) {
        const bool past_end = (i + t) % 2 == 0;
        const bool ok = CopyFromMapping(out.data(), map_ + (past_end ? kOsPage : 0), kOsPage);
        if (ok == past_end || (ok && out[7] != 0x5A)) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, wrong.load());
}

TEST_F(SigbusGuardTest, AProbeFaultsInThePagesOfTheFileAndFailsPastItsEnd) {
  EXPECT_TRUE(ProbeMapping(map_, kOsPage, kOsPage));
  for (int round = 0; round < 3; ++round) {
    EXPECT_FALSE(ProbeMapping(map_, 2 * kOsPage, kOsPage));
    EXPECT_FALSE(ProbeMapping(map_ + kOsPage, 1, kOsPage));
    EXPECT_TRUE(ProbeMapping(map_ + 100, 1, kOsPage));
  }
}

TEST_F(SigbusGuardTest, ASigbusInAnInPlaceRangeSaysWhatHappenedAsTheProcessEnds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RegisterInPlaceRange(map_, 2 * kOsPage);
        volatile uint8_t b = map_[kOsPage];  // unguarded, as a page read in place
        (void)b;
      },
      "read in place from a mount's file could not be read again");
}

TEST_F(SigbusGuardTest, AnUnregisteredRangeGivesItsEntryBack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        // Far more than the table holds: each one's entry is free again.
        for (size_t i = 0; i < 4 * kInPlaceRanges; ++i) {
          RegisterInPlaceRange(map_ + 8 * i, 8);
          UnregisterInPlaceRange(map_ + 8 * i);
        }
        RegisterInPlaceRange(map_ + kOsPage, kOsPage);
        volatile uint8_t b = map_[kOsPage];
        (void)b;
      },
      "read in place from a mount's file could not be read again");
}

TEST_F(SigbusGuardTest, ASigbusOutsideACopyStillEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        volatile uint8_t b = map_[kOsPage];  // past the end, unguarded
        (void)b;
      },
      "");
}

}  // namespace
}  // namespace pagefs
