#include "pager/volume/slot_allocator.h"

#include <algorithm>
#include <bit>

namespace pagefs {

SlotAllocator::SlotAllocator(SlotId first_slot) : first_slot_(first_slot), cursor_(first_slot) {}

void SlotAllocator::Set(std::vector<uint64_t>& bits, SlotId s, bool on) {
  if (s / 64 >= bits.size()) bits.resize(s / 64 + 1 + bits.size() / 2, 0);
  if (on) {
    bits[s / 64] |= uint64_t{1} << (s % 64);
  } else {
    bits[s / 64] &= ~(uint64_t{1} << (s % 64));
  }
}

void SlotAllocator::MarkUsed(SlotId slot) {
  if (!Test(used_, slot)) ++used_count_;
  Set(used_, slot, true);
}

SlotId SlotAllocator::Allocate() {
  // First fit: every slot below cursor_ is used (Release lowers the cursor),
  // so scan from it a word at a time; past the bitmap everything is free.
  SlotId s = std::max<SlotId>(cursor_, used_.size() * 64);
  for (size_t w = cursor_ / 64; w < used_.size(); ++w) {
    uint64_t free_bits = ~used_[w];
    if (w == cursor_ / 64) free_bits &= ~uint64_t{0} << (cursor_ % 64);
    if (free_bits != 0) {
      s = w * 64 + static_cast<SlotId>(std::countr_zero(free_bits));
      break;
    }
  }
  MarkUsed(s);
  Set(fresh_, s, true);
  fresh_list_.push_back(s);
  cursor_ = s + 1;
  return s;
}

bool SlotAllocator::IsFresh(SlotId slot) const { return Test(fresh_, slot); }

void SlotAllocator::Release(SlotId slot) {
  if (IsFresh(slot)) {
    Set(fresh_, slot, false);
    Set(used_, slot, false);
    --used_count_;
    cursor_ = std::min(cursor_, slot);
  } else {
    pending_.push_back(slot);
  }
}

void SlotAllocator::CommitSucceeded(uint64_t epoch) {
  for (SlotId s : fresh_list_) Set(fresh_, s, false);
  fresh_list_.clear();
  if (pending_.empty()) return;
  held_count_ += pending_.size();
  if (!held_.empty() && held_.back().epoch == epoch) {
    held_.back().slots.insert(held_.back().slots.end(), pending_.begin(), pending_.end());
    pending_.clear();
  } else {
    held_.push_back({epoch, std::move(pending_)});
    pending_ = {};
  }
}

uint64_t SlotAllocator::Hold(uint64_t epoch, const std::vector<SlotId>& slots) {
  std::vector<SlotId> taken;
  for (SlotId s : slots) {
    if (s < first_slot_ || Test(used_, s)) continue;
    MarkUsed(s);
    taken.push_back(s);
  }
  if (taken.empty()) return 0;
  held_count_ += taken.size();
  // Held groups stay in ascending epochs: the open's group comes first.
  held_.push_front({epoch, std::move(taken)});
  return held_.front().slots.size();
}

uint64_t SlotAllocator::Reclaim(std::optional<uint64_t> oldest) {
  uint64_t freed = 0;
  while (!held_.empty() && (!oldest || held_.front().epoch <= *oldest)) {
    for (SlotId s : held_.front().slots) {
      if (Test(used_, s)) --used_count_;
      Set(used_, s, false);
      cursor_ = std::min(cursor_, s);
    }
    freed += held_.front().slots.size();
    held_.pop_front();
  }
  held_count_ -= freed;
  return freed;
}

uint64_t SlotAllocator::memory_bytes() const {
  return (used_.capacity() + fresh_.capacity() + fresh_list_.capacity() + pending_.capacity() +
          held_count_) *
         sizeof(uint64_t);
}

}  // namespace pagefs
