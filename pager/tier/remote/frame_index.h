// FrameIndex: the frames of each segment object in the order they lie in it,
// so the remote tier can ask "which frames come after this one" when it reads
// ahead of a sequential scan (readahead.h). The slot map answers "where is
// slot s"; this answers the reverse, by position.
//
// A position is (segment, index of the frame in it). The frame after the last
// one of segment S is the first of segment S+1 when that exists: a commit
// uploads its segments under consecutive names, so a scan of what it wrote
// crosses from one into the next.
//
// Entries are not removed one by one: a slot discarded or stored again leaves
// its old frame listed (callers check a frame against the slot map before they
// use it), and a segment is dropped once no slot is stored in it. Memory: 16
// bytes a frame. Not thread-safe: the tier guards it with its own lock.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

struct FramePos {
  uint64_t segment = 0;
  uint32_t index = 0;
  bool operator==(const FramePos& o) const { return segment == o.segment && index == o.index; }
};

struct FrameRef {
  uint64_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  SlotId slot = 0;
};

class FrameIndex {
 public:
  // Lists slot's frame; Finish() must follow a batch of Adds before lookups.
  void Add(SlotId slot, uint64_t segment, uint32_t offset, uint32_t length);
  // Puts the frames of each segment changed since the last call in order.
  void Finish();
  // A slot stored in segment was discarded or moved: the segment goes once
  // no stored slot is left in it.
  void Release(uint64_t segment);
  void Clear() {
    segments_.clear();
    listed_ = 0;
  }

  // The position of the frame at (segment, offset); nullopt when not listed.
  std::optional<FramePos> Locate(uint64_t segment, uint32_t offset) const;
  // The position after p (into segment+1 past the end); nullopt at the end.
  std::optional<FramePos> Next(FramePos p) const;
  // How many frames to step from `from` to reach `to` going forward (0 when
  // equal), within from's segment and the one after it; nullopt otherwise.
  std::optional<uint64_t> Steps(FramePos from, FramePos to) const;
  // The frames from `from` on, until their bytes reach `bytes` (at least one
  // frame), crossing into the next segment. *after is the position that
  // follows them (nullopt: the end of the chain).
  std::vector<FrameRef> Take(FramePos from, uint64_t bytes, std::optional<FramePos>* after) const;

  size_t frames() const;
  // The RAM the index takes (its frames and segments).
  uint64_t memory_bytes() const;

 private:
  struct Frame {
    uint32_t offset;
    uint32_t length;
    SlotId slot;
  };
  struct Segment {
    std::vector<Frame> frames;  // by offset, once Finish()ed
    uint64_t live = 0;          // slots the tier stores here
    bool sorted = true;
  };
  std::unordered_map<uint64_t, Segment> segments_;
  uint64_t listed_ = 0;  // frames in segments_, summed
};

}  // namespace pagefs
