// ListSlice: the positions a Python slice names in a list of a given length,
// resolved as list does it (PySlice_AdjustIndices), so that the engine can
// resolve a slice against the size it sees under the list's lock.
#pragma once

#include <cstdint>
#include <limits>

#include "pager/util/error.h"

namespace pagefs {

// start, start + step, ... (count positions, in the slice's order).
struct ListSlice {
  uint64_t start = 0;
  int64_t step = 1;
  uint64_t count = 0;

  uint64_t at(uint64_t k) const {
    return start + static_cast<uint64_t>(static_cast<int64_t>(k) * step);
  }
  // The lowest and one past the highest position. REQUIRES count > 0.
  uint64_t low() const { return step > 0 ? start : at(count - 1); }
  uint64_t high() const { return (step > 0 ? at(count - 1) : start) + 1; }
};

// A slice's start, stop and step as PySlice_Unpack gives them (None already
// replaced by the ends for the step's direction) resolved against a list of
// length values. Error(kInvalidArgument) "slice step cannot be zero", as
// Python says it. REQUIRES length <= INT64_MAX.
inline ListSlice ResolveSlice(int64_t start, int64_t stop, int64_t step, uint64_t length) {
  if (step == 0) throw Error(ErrorCode::kInvalidArgument, "slice step cannot be zero");
  if (step == std::numeric_limits<int64_t>::min())
    step = -std::numeric_limits<int64_t>::max();  // as Python clamps it
  const int64_t n = static_cast<int64_t>(length);
  auto adjust = [&](int64_t i) {
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  start = adjust(start);
  stop = adjust(stop);
  ListSlice s;
  s.step = step;
  if (step < 0 ? stop < start : start < stop) {
    s.start = static_cast<uint64_t>(start);
    // (distance - 1) / |step| + 1, in unsigned arithmetic (|step| may be 2**63 - 1).
    const uint64_t distance =
        step < 0 ? static_cast<uint64_t>(start - stop) : static_cast<uint64_t>(stop - start);
    const uint64_t stride = step < 0 ? static_cast<uint64_t>(-step) : static_cast<uint64_t>(step);
    s.count = (distance - 1) / stride + 1;
  }
  return s;
}

}  // namespace pagefs
