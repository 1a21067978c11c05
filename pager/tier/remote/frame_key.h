// FrameKey: where a page's frame lies in the bucket (segment object, byte
// offset), the key of everything that holds frames by place: the local page
// cache and the readahead queue. Segment objects are immutable, so a key
// never names two different frames.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pagefs {

struct FrameKey {
  uint64_t segment;
  uint32_t offset;
  bool operator==(const FrameKey& o) const { return segment == o.segment && offset == o.offset; }
};

struct FrameKeyHash {
  size_t operator()(const FrameKey& k) const {
    return k.segment * 0x9e3779b97f4a7c15ULL ^ k.offset;
  }
};

}  // namespace pagefs
