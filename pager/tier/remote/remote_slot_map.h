// RemoteSlotMap: where each slot a remote tier stores lies in the bucket (its
// FrameLocation). A volume allocates slots from the bottom up and reuses the
// ones it frees, so the map is a vector indexed by slot: 24 bytes a slot and
// one indexed load per lookup, where a std::map took about 80 bytes and a
// walk of some twenty nodes at 200k slots. A zero length marks a slot not
// stored (no zstd frame is empty). It keeps the count and the stored bytes as
// it goes, so neither costs a pass. Iteration is by slot, ascending, as
// (slot, location) pairs. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

// Where one slot's compressed frame is: segment id, byte range, XXH3 of the
// frame seeded by the slot.
struct FrameLocation {
  uint64_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;  // > 0 for a stored frame
  uint64_t checksum = 0;
};

// The most slots a remote tier holds (16 TiB of 4 KiB pages): a commit
// object naming a slot past it is damaged, not a reason to allocate.
inline constexpr SlotId kMaxRemoteSlots = SlotId{1} << 32;

class RemoteSlotMap {
 public:
  const FrameLocation* Find(SlotId slot) const {
    return slot < locs_.size() && locs_[slot].length != 0 ? &locs_[slot] : nullptr;
  }
  // Makes loc (loc.length > 0) slot's location; returns the one it had.
  std::optional<FrameLocation> Set(SlotId slot, const FrameLocation& loc) {
    if (slot >= locs_.size()) locs_.resize(slot + 1);
    std::optional<FrameLocation> old = Take(slot);
    locs_[slot] = loc;
    ++count_;
    bytes_ += loc.length;
    return old;
  }
  // Forgets slot; returns the location it had.
  std::optional<FrameLocation> Erase(SlotId slot) {
    std::optional<FrameLocation> old = Take(slot);
    while (!locs_.empty() && locs_.back().length == 0) locs_.pop_back();
    return old;
  }
  void clear() {
    locs_.clear();
    count_ = 0;
    bytes_ = 0;
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t bytes() const { return bytes_; }         // the stored frames' lengths, summed
  SlotId end_slot() const { return locs_.size(); }  // one past the highest slot stored
  uint64_t memory_bytes() const { return locs_.capacity() * sizeof(FrameLocation); }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::pair<SlotId, const FrameLocation&>;
    using difference_type = std::ptrdiff_t;
    value_type operator*() const { return {slot_, (*locs_)[slot_]}; }
    const_iterator& operator++() {
      ++slot_;
      Skip();
      return *this;
    }
    bool operator==(const const_iterator& o) const { return slot_ == o.slot_; }

   private:
    friend class RemoteSlotMap;
    const_iterator(const std::vector<FrameLocation>* locs, SlotId slot) : locs_(locs), slot_(slot) {
      Skip();
    }
    void Skip() {
      while (slot_ < locs_->size() && (*locs_)[slot_].length == 0) ++slot_;
    }
    const std::vector<FrameLocation>* locs_;
    SlotId slot_;
  };
  const_iterator begin() const { return {&locs_, 0}; }
  const_iterator end() const { return {&locs_, locs_.size()}; }

 private:
  std::optional<FrameLocation> Take(SlotId slot) {
    if (slot >= locs_.size() || locs_[slot].length == 0) return std::nullopt;
    FrameLocation old = locs_[slot];
    locs_[slot] = FrameLocation{};
    --count_;
    bytes_ -= old.length;
    return old;
  }

  std::vector<FrameLocation> locs_;
  size_t count_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace pagefs
