#include "pager/tier/memory_tier.h"

#include <cstring>

namespace pagefs {

const std::vector<uint8_t>* MemoryTier::Find(SlotId slot) const {
  auto p = pending_.find(slot);
  if (p != pending_.end()) return &p->second;
  auto d = durable_.find(slot);
  return d != durable_.end() ? &d->second : nullptr;
}

void MemoryTier::Read(SlotId slot, uint8_t* buf) {
  MutexLock lock(mu_);
  ++stats_.reads;
  const std::vector<uint8_t>* bytes = Find(slot);
  if (bytes == nullptr) {
    std::memset(buf, 0, slot_size_);
  } else {
    std::memcpy(buf, bytes->data(), slot_size_);
  }
}

void MemoryTier::Write(SlotId slot, const uint8_t* buf) {
  MutexLock lock(mu_);
  ++stats_.writes;
  pending_[slot].assign(buf, buf + slot_size_);
}

void MemoryTier::Sync() {
  MutexLock lock(mu_);
  ++stats_.syncs;
  for (auto& [slot, bytes] : pending_) durable_[slot] = std::move(bytes);
  pending_.clear();
}

void MemoryTier::Discard(SlotId slot) {
  MutexLock lock(mu_);
  pending_.erase(slot);
  durable_.erase(slot);
}

SlotId MemoryTier::size() const {
  MutexLock lock(mu_);
  SlotId end = 0;
  if (!durable_.empty()) end = durable_.rbegin()->first + 1;
  if (!pending_.empty()) end = std::max(end, pending_.rbegin()->first + 1);
  return end;
}

TierStats MemoryTier::stats() const {
  MutexLock lock(mu_);
  TierStats s = stats_;
  s.bytes_on_disk = (durable_.size() + pending_.size()) * uint64_t{slot_size_};
  return s;
}

void MemoryTier::Crash() {
  MutexLock lock(mu_);
  pending_.clear();
}

void MemoryTier::FlipBit(SlotId slot, size_t bit) {
  MutexLock lock(mu_);
  auto& bytes = durable_[slot];
  if (bytes.empty()) bytes.assign(slot_size_, 0);
  bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
}

}  // namespace pagefs
