// FaultTier: forwards every call to another Tier and injects faults on cue,
// like LevelDB's EnvWrapper-based fault injection. Tests use it to fail the
// Nth write with ENOSPC or EIO, tear it (only the first half reaches the
// tier), or "crash" there: the cut write is torn or dropped and every later
// call fails, as if the process had died at that instant.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "pager/tier/tier.h"

namespace pagefs {

class FaultTier final : public Tier {
 public:
  enum class Fault {
    kNone,
    kError,      // the cut write fails with error_errno; later calls work
    kTornCrash,  // the cut write is torn; it and every later call fail
    kDropCrash,  // the cut write is lost; it and every later call fail
  };

  explicit FaultTier(Tier& base) : base_(base) {}

  // Arms a fault on the nth Write from now (1 = the next one).
  void Arm(Fault fault, uint64_t nth_write, int error_errno = 5 /* EIO */);
  // Makes the next Sync fail with error_errno.
  void FailNextSync(int error_errno);
  uint64_t writes() const { return writes_.load(); }
  bool crashed() const { return crashed_.load(); }

  uint32_t slot_size() const override { return base_.slot_size(); }
  void Read(SlotId slot, uint8_t* buf) override;
  void Write(SlotId slot, const uint8_t* buf) override;
  void Sync() override;
  void Discard(SlotId slot) override;
  SlotId size() const override { return base_.size(); }
  TierStats stats() const override { return base_.stats(); }
  std::string name() const override { return "fault:" + base_.name(); }

 private:
  void CheckAlive() const;

  Tier& base_;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> cut_at_{0};
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> errno_{5};
  std::atomic<int> sync_errno_{0};
  std::atomic<bool> crashed_{false};
};

}  // namespace pagefs
