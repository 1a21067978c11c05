// SlotAllocator: which tier slots are free. Shadow paging lives here: a slot
// that the last commit references is never handed out again before the next
// commit succeeds, so a crash always finds the last commit's pages intact.
//
// - Allocate() marks a slot used and *fresh* (written since the last commit);
//   a fresh slot may be overwritten in place.
// - Release(s) frees a fresh slot at once; a committed slot becomes *pending*.
// - CommitSucceeded(epoch) tags the pending slots with the epoch of the commit
//   that released them and *holds* them: older commits may still be read.
// - Reclaim(oldest) frees the held slots whose tag is <= oldest, the oldest
//   epoch a live reader reads (no reader: all of them). A reader of epoch e
//   reaches only slots that commit e references, and a slot released by
//   commit k > e is still needed by it, so it waits until every reader is at k.
// Not thread-safe: the Volume serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

class SlotAllocator {
 public:
  // Slots below first_slot (the superblocks) are never handed out.
  explicit SlotAllocator(SlotId first_slot);

  void MarkUsed(SlotId slot);  // for the walk of the committed state at open
  SlotId Allocate();
  bool IsFresh(SlotId slot) const;
  void Release(SlotId slot);
  void CommitSucceeded(uint64_t epoch);
  // Marks the slots used and held with tag epoch (those of older commits
  // that live readers still read, found at open). Slots already used are
  // skipped. Returns how many were taken.
  uint64_t Hold(uint64_t epoch, const std::vector<SlotId>& slots);
  // Frees the held slots released at or before epoch oldest (all of them when
  // there is no reader). Returns how many were freed.
  uint64_t Reclaim(std::optional<uint64_t> oldest);
  bool IsUsed(SlotId slot) const { return Test(used_, slot); }

  uint64_t used_slots() const { return used_count_; }
  uint64_t held_slots() const { return held_count_; }
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
  struct Held {
    uint64_t epoch;  // the commit that released them
    std::vector<SlotId> slots;
  };
  std::deque<Held> held_;  // ascending epochs
  uint64_t held_count_ = 0;
  SlotId cursor_;  // next-fit search starts here
  uint64_t used_count_ = 0;
};

}  // namespace pagefs
