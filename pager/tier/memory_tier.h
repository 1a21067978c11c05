// MemoryTier: a Tier in RAM that models what survives a crash. Writes land in
// a volatile layer; Sync() makes them durable. Crash() throws the volatile
// layer away (power loss); a process crash, where written data survives in the
// OS, is the same tier left as it is. Used by tests and tools.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pager/tier/tier.h"
#include "pager/util/mutex.h"

namespace pagefs {

class MemoryTier final : public Tier {
 public:
  explicit MemoryTier(uint32_t slot_size) : slot_size_(slot_size) {}

  uint32_t slot_size() const override { return slot_size_; }
  void Read(SlotId slot, uint8_t* buf) override;
  void Write(SlotId slot, const uint8_t* buf) override;
  void Sync() override;
  void Discard(SlotId slot) override;
  SlotId size() const override;
  TierStats stats() const override;
  std::string name() const override { return "memory"; }

  // Loses every write since the last Sync.
  void Crash();
  // Overwrites the durable bytes of a slot directly (for corruption tests).
  void FlipBit(SlotId slot, size_t bit);

 private:
  const std::vector<uint8_t>* Find(SlotId slot) const REQUIRES(mu_);

  const uint32_t slot_size_;
  mutable Mutex mu_;
  std::map<SlotId, std::vector<uint8_t>> durable_ GUARDED_BY(mu_);
  std::map<SlotId, std::vector<uint8_t>> pending_ GUARDED_BY(mu_);
  TierStats stats_ GUARDED_BY(mu_);
};

}  // namespace pagefs
