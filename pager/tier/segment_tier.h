// SegmentTier: slots stored in a folder of large segment files, many slots per
// file (never one OS file per page). Slot s lives in file
// segment-<s / slots_per_segment>.pfs at offset (s % slots_per_segment) * slot_size.
// Files are sparse: a slot never written reads as zeros. The format is in
// docs/segment_format.md.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "pager/tier/tier.h"
#include "pager/util/mutex.h"

namespace pagefs {

class SegmentTier final : public Tier {
 public:
  static constexpr uint32_t kMaxSegments = 16384;

  // Opens the segment files in dir, which must exist. Throws Error(kIo) when
  // the folder cannot be used; Error(kCorruption) when it is damaged (a
  // segment file that is not a regular file, segment 0 missing beside other
  // segments, or empty); and, unless read_only, Error(kInvalidArgument) (or
  // kCorruption for segment-like names) when it holds no segment but files
  // that are not a store's, which a format would go over. Files are created
  // 0600.
  // for_writer: refuse a folder with files but no segment (a writer would
  // format it); a read-only probe made for a writer's open passes true.
  SegmentTier(std::string dir, uint32_t slot_size, uint32_t slots_per_segment, bool read_only,
              std::optional<bool> for_writer = std::nullopt);
  ~SegmentTier() override;
  SegmentTier(const SegmentTier&) = delete;
  SegmentTier& operator=(const SegmentTier&) = delete;

  uint32_t slot_size() const override { return slot_size_; }
  void Read(SlotId slot, uint8_t* buf) override;
  // One preadv per segment file the run touches (split at IOV_MAX buffers).
  void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) override;
  // POSIX_FADV_WILLNEED on each run of adjacent slots (at most kMaxAdviceRuns):
  // the kernel reads them from disk in the background, so a stream's preads
  // find them in its page cache instead of waiting for the disk one by one.
  void WillNeed(const std::vector<SlotId>& slots) override;
  static constexpr size_t kMaxAdviceRuns = 64;
  void Write(SlotId slot, const uint8_t* buf) override;
  void Sync() override;
  void Discard(SlotId slot) override;
  // One hole punch per segment file the run touches.
  void DiscardRun(SlotId first, uint64_t n) override;
  SlotId size() const override { return size_.load(std::memory_order_acquire); }
  TierStats stats() const override;
  std::string name() const override { return "segments:" + dir_; }

  static std::string SegmentFileName(uint64_t index);

 private:
  struct Segment {
    int fd = -1;
    std::atomic<bool> dirty{false};
  };
  // The segment holding slot, opened (or created, for writes) on demand;
  // nullptr when reading a segment that does not exist.
  Segment* SegmentFor(SlotId slot, bool for_write);
  void ScanFolder(bool for_writer);
  // Throws when slot's segment file is one missing below the last (damage).
  void CheckNotLost(SlotId slot) const;

  const std::string dir_;
  const uint32_t slot_size_;
  const uint32_t slots_per_segment_;
  const bool read_only_;
  int dir_fd_ = -1;

  Mutex open_mu_;  // serializes opening/creating segment files
  std::unique_ptr<std::atomic<Segment*>[]> segments_;
  std::atomic<bool> dir_dirty_{false};
  std::atomic<bool> first_pending_{false};  // segment 0 written as .new, renamed by Sync
  std::atomic<SlotId> size_{0};
  // With a segment file missing below the last one (damage), the index of
  // the last: reads of slots in a missing file below it throw
  // Error(kCorruption) naming the file instead of reading zeros. 0: none.
  uint64_t missing_below_ = 0;
  std::atomic<uint64_t> reads_{0}, writes_{0}, syncs_{0};
};

}  // namespace pagefs
