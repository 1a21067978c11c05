// FaultTier: a TierWrapper that injects faults on cue, like LevelDB's
// EnvWrapper-based fault injection; every call it does not fail goes to the
// wrapped tier unchanged (ReadRun too, so the batched read path is the one
// under test). Tests use it to
// - fail the Nth write with ENOSPC or EIO, tear it (only the first half
//   reaches the tier), or "crash" there: the cut write is torn or dropped and
//   every later call fails, as if the process had died at that instant;
// - fail the Nth slot read, or every read of one slot, with EIO (in Read and
//   in ReadRun alike: a run of n slots counts as n reads);
// - fail the next Sync;
// - delay every request (latency of a remote tier, for benchmarks).
// Safe for concurrent calls, as the Tier contract asks.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "pager/tier/tier_wrapper.h"

namespace pagefs {

class FaultTier final : public TierWrapper {
 public:
  enum class Fault {
    kNone,
    kError,      // the cut write fails with error_errno; later calls work
    kTornCrash,  // the cut write is torn; it and every later call fail
    kDropCrash,  // the cut write is lost; it and every later call fail
  };

  explicit FaultTier(Tier& target) : TierWrapper(target) {}

  // Arms a fault on the nth Write from now (1 = the next one).
  void Arm(Fault fault, uint64_t nth_write, int error_errno = EIO);
  // Fails the nth slot read from now (1 = the next one) with error_errno, once.
  void FailRead(uint64_t nth_read, int error_errno = EIO);
  // Fails every read of slot with error_errno until ClearReadFaults.
  void FailReadsOf(SlotId slot, int error_errno = EIO);
  void ClearReadFaults();
  // Makes the next Sync fail with error_errno.
  void FailNextSync(int error_errno);
  // Sleeps this long before every request (Read, ReadRun, Write, Sync,
  // Discard, DiscardRun); zero turns it off.
  void SetLatency(std::chrono::nanoseconds latency) { latency_ns_.store(latency.count()); }

  uint64_t writes() const { return writes_.load(); }
  uint64_t reads() const { return reads_.load(); }          // slots read, by Read and ReadRun
  uint64_t read_runs() const { return read_runs_.load(); }  // ReadRun requests
  bool crashed() const { return crashed_.load(); }

  void Read(SlotId slot, uint8_t* buf) override;
  void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) override;
  void Write(SlotId slot, const uint8_t* buf) override;
  void Sync() override;
  void Discard(SlotId slot) override;
  void DiscardRun(SlotId first, uint64_t n) override;
  std::string name() const override { return "fault:" + TierWrapper::name(); }

 private:
  static constexpr SlotId kNoSlot = std::numeric_limits<SlotId>::max();

  // Every request starts here: latency, then the crashed check.
  void Enter() const;
  // Counts n slot reads from first; throws if one of them is to fail.
  void CountReads(SlotId first, uint64_t n);

  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> cut_at_{0};
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> errno_{EIO};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> read_runs_{0};
  std::atomic<uint64_t> read_cut_at_{0};  // 0: none
  std::atomic<SlotId> bad_slot_{kNoSlot};
  std::atomic<int> read_errno_{EIO};
  std::atomic<int> sync_errno_{0};
  std::atomic<int64_t> latency_ns_{0};
  std::atomic<bool> crashed_{false};
};

}  // namespace pagefs
