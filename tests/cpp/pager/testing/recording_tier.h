// RecordingTier: a MemoryTier that counts the calls of each Tier method, so
// tests can see which calls a wrapper passes on (a ReadRun as one ReadRun,
// not as n Reads), and the slots WillNeed was given. Thread-safe, as every Tier.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "pager/tier/memory_tier.h"
#include "pager/tier/tier.h"

namespace pagefs {

class RecordingTier final : public Tier {
 public:
  struct Calls {
    std::atomic<int> slot_size{0}, read{0}, read_run{0}, write{0}, sync{0}, discard{0},
        discard_run{0}, size{0}, stats{0}, name{0}, will_need{0}, memory_bytes{0};
  };

  explicit RecordingTier(uint32_t slot_size) : memory_(slot_size) {}

  MemoryTier& memory() { return memory_; }
  const Calls& calls() const { return calls_; }
  // Every slot WillNeed was given, in order.
  std::vector<SlotId> will_need_slots() const {
    std::lock_guard<std::mutex> lock(mu_);
    return will_need_slots_;
  }

  uint32_t slot_size() const override {
    ++calls_.slot_size;
    return memory_.slot_size();
  }
  void Read(SlotId slot, uint8_t* buf) override {
    ++calls_.read;
    memory_.Read(slot, buf);
  }
  void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) override {
    ++calls_.read_run;
    memory_.ReadRun(first, n, bufs);
  }
  void WillNeed(const std::vector<SlotId>& slots) override {
    ++calls_.will_need;
    {
      std::lock_guard<std::mutex> lock(mu_);
      will_need_slots_.insert(will_need_slots_.end(), slots.begin(), slots.end());
    }
    memory_.WillNeed(slots);
  }
  void Write(SlotId slot, const uint8_t* buf) override {
    ++calls_.write;
    memory_.Write(slot, buf);
  }
  void Sync() override {
    ++calls_.sync;
    memory_.Sync();
  }
  void Discard(SlotId slot) override {
    ++calls_.discard;
    memory_.Discard(slot);
  }
  void DiscardRun(SlotId first, uint64_t n) override {
    ++calls_.discard_run;
    memory_.DiscardRun(first, n);
  }
  SlotId size() const override {
    ++calls_.size;
    return memory_.size();
  }
  TierStats stats() const override {
    ++calls_.stats;
    return memory_.stats();
  }
  std::string name() const override {
    ++calls_.name;
    return "recording";
  }
  // What memory_bytes reports: as a remote tier's slot map would grow.
  void set_memory_bytes(uint64_t bytes) { memory_bytes_ = bytes; }
  uint64_t memory_bytes() const override {
    ++calls_.memory_bytes;
    return memory_bytes_.load();
  }

 private:
  MemoryTier memory_;
  mutable Calls calls_;
  mutable std::mutex mu_;
  std::vector<SlotId> will_need_slots_;
  std::atomic<uint64_t> memory_bytes_{0};
};

}  // namespace pagefs
