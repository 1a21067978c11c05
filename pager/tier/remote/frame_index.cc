#include "pager/tier/remote/frame_index.h"

#include <algorithm>

namespace pagefs {

void FrameIndex::Add(SlotId slot, uint64_t segment, uint32_t offset, uint32_t length) {
  Segment& s = segments_[segment];
  if (!s.frames.empty() && s.frames.back().offset >= offset) s.sorted = false;
  s.frames.push_back({offset, length, slot});
  ++s.live;
  ++listed_;
}

void FrameIndex::Finish() {
  for (auto& [id, s] : segments_) {
    if (s.sorted) continue;
    std::sort(s.frames.begin(), s.frames.end(),
              [](const Frame& a, const Frame& b) { return a.offset < b.offset; });
    // The same frame listed twice (a slot map entry re-added): keep one.
    const size_t before = s.frames.size();
    s.frames.erase(std::unique(s.frames.begin(), s.frames.end(),
                               [](const Frame& a, const Frame& b) { return a.offset == b.offset; }),
                   s.frames.end());
    listed_ -= before - s.frames.size();
    s.sorted = true;
  }
}

void FrameIndex::Release(uint64_t segment) {
  auto it = segments_.find(segment);
  if (it == segments_.end()) return;
  if (--it->second.live != 0) return;
  listed_ -= it->second.frames.size();
  segments_.erase(it);
}

std::optional<FramePos> FrameIndex::Locate(uint64_t segment, uint32_t offset) const {
  auto it = segments_.find(segment);
  if (it == segments_.end()) return std::nullopt;
  const std::vector<Frame>& f = it->second.frames;
  auto at = std::lower_bound(f.begin(), f.end(), offset,
                             [](const Frame& a, uint32_t off) { return a.offset < off; });
  if (at == f.end() || at->offset != offset) return std::nullopt;
  return FramePos{segment, static_cast<uint32_t>(at - f.begin())};
}

std::optional<FramePos> FrameIndex::Next(FramePos p) const {
  auto it = segments_.find(p.segment);
  if (it != segments_.end() && p.index + 1 < it->second.frames.size()) {
    return FramePos{p.segment, p.index + 1};
  }
  if (segments_.count(p.segment + 1) != 0) return FramePos{p.segment + 1, 0};
  return std::nullopt;
}

std::optional<uint64_t> FrameIndex::Steps(FramePos from, FramePos to) const {
  if (to.segment == from.segment) {
    if (to.index < from.index) return std::nullopt;
    return to.index - from.index;
  }
  if (to.segment != from.segment + 1) return std::nullopt;
  auto it = segments_.find(from.segment);
  const uint64_t count = it == segments_.end() ? 0 : it->second.frames.size();
  if (from.index > count) return std::nullopt;
  return count - from.index + to.index;
}

std::vector<FrameRef> FrameIndex::Take(FramePos from, uint64_t bytes,
                                       std::optional<FramePos>* after) const {
  std::vector<FrameRef> out;
  std::optional<FramePos> p = from;
  uint64_t taken = 0;
  while (p && (out.empty() || taken < bytes)) {
    auto it = segments_.find(p->segment);
    if (it == segments_.end() || p->index >= it->second.frames.size()) {
      p = std::nullopt;
      break;
    }
    const Frame& f = it->second.frames[p->index];
    out.push_back({p->segment, f.offset, f.length, f.slot});
    taken += f.length;
    p = Next(*p);
  }
  *after = p;
  return out;
}

size_t FrameIndex::frames() const {
  size_t n = 0;
  for (const auto& [id, s] : segments_) n += s.frames.size();
  return n;
}

uint64_t FrameIndex::memory_bytes() const {
  // A map node holds the segment's id, its vector and counts, a next pointer
  // and the cached hash; one bucket pointer each.
  constexpr uint64_t kPerSegment = sizeof(uint64_t) + sizeof(Segment) + 2 * sizeof(void*) + 8;
  return listed_ * sizeof(Frame) + segments_.size() * kPerSegment;
}

}  // namespace pagefs
