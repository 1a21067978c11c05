#include "pager/tier/fault_tier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/recording_tier.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

struct PageBuffers {
  explicit PageBuffers(uint32_t n) : pages(n, std::vector<uint8_t>(kPage)) {
    for (auto& p : pages) ptrs.push_back(p.data());
  }
  std::vector<std::vector<uint8_t>> pages;
  std::vector<uint8_t*> ptrs;
};

// Slots 0..9 hold PageBytes(slot, 1), durably.
void Fill(Tier& tier) {
  for (SlotId s = 0; s < 10; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
}

TEST(FaultTierTest, WithoutFaultsEveryCallReachesTheTargetAsItIs) {
  RecordingTier target(kPage);
  FaultTier tier(target);
  Fill(tier);
  PageBuffers run(4);
  tier.ReadRun(2, 4, run.ptrs.data());
  EXPECT_EQ(1, target.calls().read_run) << "the batched read path is the one under test";
  EXPECT_EQ(0, target.calls().read);
  for (SlotId s = 2; s < 6; ++s) EXPECT_EQ(PageBytes(s, 1), run.pages[s - 2]);
  tier.DiscardRun(7, 3);
  EXPECT_EQ(1, target.calls().discard_run);
  EXPECT_EQ(0, target.calls().discard);
  EXPECT_EQ(10, target.calls().write);
  EXPECT_EQ(1, target.calls().sync);
  EXPECT_EQ(4u, tier.reads());
  EXPECT_EQ(1u, tier.read_runs());
  EXPECT_EQ(10u, tier.writes());
  EXPECT_EQ("fault:recording", tier.name());
  EXPECT_EQ(target.memory().size(), tier.size());
  EXPECT_EQ(kPage, tier.slot_size());
}

TEST(FaultTierTest, AnArmedWriteErrorFailsThatWriteOnlyAndLeavesTheSlot) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  tier.Arm(FaultTier::Fault::kError, 2, ENOSPC);
  tier.Write(1, PageBytes(1, 2).data());
  std::string what;
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { tier.Write(2, PageBytes(2, 2).data()); }, &what));
  EXPECT_NE(what.find("slot 2"), std::string::npos) << what;
  EXPECT_EQ(PageBytes(2, 1), SlotBytes(base, 2));
  EXPECT_FALSE(tier.crashed());
  tier.Write(3, PageBytes(3, 2).data());  // later calls work
  EXPECT_EQ(PageBytes(3, 2), SlotBytes(tier, 3));

  tier.Arm(FaultTier::Fault::kError, 1, EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Write(4, PageBytes(4, 2).data()); }));
  EXPECT_EQ(PageBytes(4, 1), SlotBytes(base, 4));
}

void ExpectEveryCallFails(FaultTier& tier) {
  std::vector<uint8_t> buf(kPage);
  PageBuffers run(2);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Read(0, buf.data()); }));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.ReadRun(0, 2, run.ptrs.data()); }));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Write(0, buf.data()); }));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Sync(); }));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Discard(0); }));
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.DiscardRun(0, 2); }));
}

TEST(FaultTierTest, ATornCrashWritesHalfTheSlotAndFailsEverythingAfter) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  tier.Arm(FaultTier::Fault::kTornCrash, 1);
  const std::vector<uint8_t> next = PageBytes(5, 2), old = PageBytes(5, 1);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Write(5, next.data()); }));
  EXPECT_TRUE(tier.crashed());
  std::vector<uint8_t> want(next.begin(), next.begin() + kPage / 2);
  want.insert(want.end(), old.begin() + kPage / 2, old.end());
  EXPECT_EQ(want, SlotBytes(base, 5));
  ExpectEveryCallFails(tier);
  EXPECT_EQ(PageBytes(0, 1), SlotBytes(base, 0)) << "calls after the crash reach nothing";
}

TEST(FaultTierTest, ADroppedCrashLosesTheWriteAndFailsEverythingAfter) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  tier.Arm(FaultTier::Fault::kDropCrash, 3);
  tier.Write(5, PageBytes(5, 2).data());
  tier.Write(6, PageBytes(6, 2).data());
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Write(7, PageBytes(7, 2).data()); }));
  EXPECT_TRUE(tier.crashed());
  EXPECT_EQ(PageBytes(6, 2), SlotBytes(base, 6));
  EXPECT_EQ(PageBytes(7, 1), SlotBytes(base, 7));
  ExpectEveryCallFails(tier);
}

TEST(FaultTierTest, TheNthReadFailsOnceWhetherSingleOrInARun) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  std::vector<uint8_t> buf(kPage);
  PageBuffers run(4);
  tier.FailRead(3);
  tier.Read(0, buf.data());  // read 1
  std::string what;          // reads 2..5 are slots 4..7: read 3 is slot 5
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.ReadRun(4, 4, run.ptrs.data()); }, &what));
  EXPECT_NE(what.find("read slot 5"), std::string::npos) << what;
  tier.ReadRun(4, 4, run.ptrs.data());  // once only
  for (SlotId s = 4; s < 8; ++s) EXPECT_EQ(PageBytes(s, 1), run.pages[s - 4]);
  EXPECT_EQ(9u, tier.reads());
  EXPECT_EQ(2u, tier.read_runs());

  tier.FailRead(1, ENOSPC);
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { tier.Read(9, buf.data()); }));
  tier.Read(9, buf.data());
  EXPECT_EQ(PageBytes(9, 1), buf);
  EXPECT_FALSE(tier.crashed());
}

TEST(FaultTierTest, AChosenSlotFailsEveryReadOfItUntilCleared) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  std::vector<uint8_t> buf(kPage);
  PageBuffers run(3);
  tier.FailReadsOf(6);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.Read(6, buf.data()); }));
  std::string what;
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.ReadRun(4, 3, run.ptrs.data()); }, &what));
  EXPECT_NE(what.find("read slot 6"), std::string::npos) << what;
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { tier.ReadRun(6, 3, run.ptrs.data()); }));
  tier.ReadRun(7, 3, run.ptrs.data());  // runs beside it work
  tier.ReadRun(3, 3, run.ptrs.data());
  tier.Read(5, buf.data());
  EXPECT_EQ(PageBytes(5, 1), buf);
  tier.Write(6, PageBytes(6, 2).data());  // writes are not read faults
  tier.ClearReadFaults();
  tier.Read(6, buf.data());
  EXPECT_EQ(PageBytes(6, 2), buf);
}

TEST(FaultTierTest, AFailedSyncFailsOnceAndTheNextSyncMakesWritesDurable) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  tier.Write(2, PageBytes(2, 1).data());
  tier.FailNextSync(ENOSPC);
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { tier.Sync(); }));
  base.Crash();  // the failed sync made nothing durable
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), SlotBytes(base, 2));
  tier.Write(2, PageBytes(2, 2).data());
  tier.Sync();
  base.Crash();
  EXPECT_EQ(PageBytes(2, 2), SlotBytes(base, 2));
}

TEST(FaultTierTest, LatencyDelaysEveryRequest) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  tier.SetLatency(std::chrono::milliseconds(3));
  std::vector<uint8_t> buf(kPage);
  PageBuffers run(2);
  const auto start = std::chrono::steady_clock::now();
  tier.Write(2, buf.data());
  tier.Sync();
  tier.Read(2, buf.data());
  tier.ReadRun(2, 2, run.ptrs.data());
  tier.Discard(3);
  tier.DiscardRun(4, 2);
  // A lower bound only: sleeping guarantees it, whatever else runs.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(18));
}

TEST(FaultTierTest, TheNthReadFailsExactlyOnceAmongConcurrentReaders) {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Fill(tier);
  tier.FailRead(777);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> buf(kPage);
      PageBuffers run(3);
      for (int i = 0; i < 300; ++i) {
        try {
          if ((i + t) % 2 == 0) {
            tier.Read(static_cast<SlotId>(i % 10), buf.data());
          } else {
            tier.ReadRun(static_cast<SlotId>(i % 7), 3, run.ptrs.data());
          }
        } catch (const Error& e) {
          EXPECT_EQ(ErrorCode::kIo, e.code());
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(1, failures.load());
  EXPECT_EQ(4u * 150 * (1 + 3), tier.reads());
}

}  // namespace
}  // namespace pagefs
