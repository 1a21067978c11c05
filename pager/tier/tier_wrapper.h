// TierWrapper: a Tier that forwards every call to another tier, as LevelDB's
// EnvWrapper does for its Env. A tier that changes only a few calls (fault
// injection, latency, counting; later a cache in front of a remote tier)
// derives from it and overrides just those, so a new Tier method is forwarded
// everywhere once it is added here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

class TierWrapper : public Tier {
 public:
  // target must outlive the wrapper.
  explicit TierWrapper(Tier& target) : target_(target) {}

  Tier& target() const { return target_; }

  uint32_t slot_size() const override { return target_.slot_size(); }
  void Read(SlotId slot, uint8_t* buf) override { target_.Read(slot, buf); }
  void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) override {
    target_.ReadRun(first, n, bufs);
  }
  void WillNeed(const std::vector<SlotId>& slots) override { target_.WillNeed(slots); }
  void Write(SlotId slot, const uint8_t* buf) override { target_.Write(slot, buf); }
  void Sync() override { target_.Sync(); }
  void Discard(SlotId slot) override { target_.Discard(slot); }
  void DiscardRun(SlotId first, uint64_t n) override { target_.DiscardRun(first, n); }
  SlotId size() const override { return target_.size(); }
  TierStats stats() const override { return target_.stats(); }
  std::string name() const override { return target_.name(); }
  uint64_t memory_bytes() const override { return target_.memory_bytes(); }

 private:
  Tier& target_;
};

}  // namespace pagefs
