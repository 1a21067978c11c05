// SlotAllocator: which tier slots are free. Shadow paging lives here: a slot
// that the last commit references is never handed out again before the next
// commit succeeds, so a crash always finds the last commit's pages intact.
//
// - Allocate() marks a slot used and *fresh* (written since the last commit);
//   a fresh slot may be overwritten in place.
// - Release(s) frees a fresh slot at once; a committed slot becomes *pending*
//   and turns free only in CommitSucceeded().
// Not thread-safe: the Volume serializes calls.
#pragma once

#include <cstdint>
#include <vector>

#include "pager/tier.h"

namespace pagefs {

class SlotAllocator {
 public:
  // Slots below first_slot (the superblocks) are never handed out.
  explicit SlotAllocator(SlotId first_slot);

  void MarkUsed(SlotId slot);  // for the walk of the committed state at open
  SlotId Allocate();
  bool IsFresh(SlotId slot) const;
  void Release(SlotId slot);
  void CommitSucceeded();

  uint64_t used_slots() const { return used_count_; }
  uint64_t memory_bytes() const;

 private:
  static bool Test(const std::vector<uint64_t>& bits, SlotId s) {
    return s / 64 < bits.size() && (bits[s / 64] >> (s % 64)) & 1;
  }
  static void Set(std::vector<uint64_t>& bits, SlotId s, bool on);

  const SlotId first_slot_;
  std::vector<uint64_t> used_;
  std::vector<uint64_t> fresh_;
  std::vector<SlotId> fresh_list_;
  std::vector<SlotId> pending_;
  SlotId cursor_;        // next-fit search starts here
  uint64_t used_count_ = 0;
};

}  // namespace pagefs
