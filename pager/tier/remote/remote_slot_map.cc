#include "pager/tier/remote/remote_slot_map.h"

#include <algorithm>
#include <string>

#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

RemoteSlotMap::RemoteSlotMap(uint32_t slot_size, size_t max_clean_chunks)
    : slot_size_(slot_size),
      per_chunk_(std::max<uint32_t>(1, slot_size / kEntryBytes)),
      max_clean_(max_clean_chunks) {}

void RemoteSlotMap::EncodeChunk(const std::vector<FrameLocation>& entries, uint8_t* page,
                                uint32_t slot_size) {
  std::fill(page, page + slot_size, uint8_t{0});
  uint32_t at = 0;
  for (const FrameLocation& e : entries) {
    SetField<uint64_t>(page, at, e.segment);
    SetField<uint32_t>(page, at + 8, e.offset);
    SetField<uint32_t>(page, at + 12, e.length);
    SetField<uint64_t>(page, at + 16, e.checksum);
    at += kEntryBytes;
  }
}

void RemoteSlotMap::DecodeChunk(const uint8_t* page, std::vector<FrameLocation>& entries) {
  uint32_t at = 0;
  for (FrameLocation& e : entries) {
    e.segment = Field<uint64_t>(page, at);
    e.offset = Field<uint32_t>(page, at + 8);
    e.length = Field<uint32_t>(page, at + 12);
    e.checksum = Field<uint64_t>(page, at + 16);
    at += kEntryBytes;
  }
}

RemoteSlotMap::Chunk* RemoteSlotMap::Get(uint64_t c, bool create) {
  auto it = loaded_.find(c);
  if (it != loaded_.end()) {
    if (!it->second.dirty) clean_.splice(clean_.begin(), clean_, it->second.lru);
    return &it->second;
  }
  const bool held = c < dir_.size() && dir_[c].count > 0;
  if (!held && !create) return nullptr;
  Chunk chunk;
  chunk.entries.resize(per_chunk_);
  if (held) {
    const Dir& d = dir_[c];
    auto what = [&] {
      return "slot map chunk " + std::to_string(c) + " (slots " + std::to_string(c * per_chunk_) +
             "..) in segment " + std::to_string(d.frame.segment) + " at byte " +
             std::to_string(d.frame.offset);
    };
    if (d.frame.length == 0 || !loader_) {
      throw Error(ErrorCode::kCorruption, what() + " is neither loaded nor stored");
    }
    std::vector<uint8_t> page(slot_size_);
    loader_(c, d.frame, page.data());
    DecodeChunk(page.data(), chunk.entries);
    uint32_t count = 0;
    uint64_t bytes = 0;
    for (const FrameLocation& e : chunk.entries) {
      if (e.length != 0) {
        ++count;
        bytes += e.length;
      }
    }
    if (count != d.count || bytes != d.bytes) {
      throw Error(ErrorCode::kCorruption, what() + " holds " + std::to_string(count) + " slots (" +
                                              std::to_string(bytes) + " bytes); its commit names " +
                                              std::to_string(d.count) + " (" +
                                              std::to_string(d.bytes) + ")");
    }
  }
  it = loaded_.emplace(c, std::move(chunk)).first;
  clean_.push_front(c);
  it->second.lru = clean_.begin();
  if (c >= dir_.size()) dir_.resize(c + 1);
  EvictClean(c);
  return &it->second;
}

void RemoteSlotMap::MarkDirty(Chunk& chunk) {
  if (chunk.dirty) return;
  clean_.erase(chunk.lru);
  chunk.dirty = true;
  ++dirty_count_;
}

void RemoteSlotMap::EvictClean(uint64_t keep) {
  while (clean_.size() > max_clean_) {
    const uint64_t victim = clean_.back();
    if (victim == keep) break;
    clean_.pop_back();
    loaded_.erase(victim);
  }
}

void RemoteSlotMap::Reference(uint64_t segment, int64_t frames) {
  uint64_t& n = segments_[segment];
  n += static_cast<uint64_t>(frames);
  if (n == 0) segments_.erase(segment);
}

void RemoteSlotMap::ForgetFrame(Dir& d) {
  if (d.frame.length == 0) return;
  Reference(d.frame.segment, -1);
  chunk_bytes_ -= d.frame.length;
  d.frame = FrameLocation{};
}

void RemoteSlotMap::Forget(Dir& d, FrameLocation& e) {
  Reference(e.segment, -1);
  --count_;
  --d.count;
  bytes_ -= e.length;
  d.bytes -= e.length;
  e = FrameLocation{};
}

void RemoteSlotMap::Drop(uint64_t c) {
  Dir& d = dir_[c];
  ForgetFrame(d);
  d = Dir{};
  auto it = loaded_.find(c);
  if (it != loaded_.end()) {
    if (it->second.dirty) {
      --dirty_count_;
    } else {
      clean_.erase(it->second.lru);
    }
    loaded_.erase(it);
  }
  while (!dir_.empty() && dir_.back().count == 0) dir_.pop_back();
}

std::optional<FrameLocation> RemoteSlotMap::Find(SlotId slot) {
  Chunk* chunk = Get(slot / per_chunk_, false);
  if (chunk == nullptr) return std::nullopt;
  const FrameLocation& e = chunk->entries[slot % per_chunk_];
  if (e.length == 0) return std::nullopt;
  return e;
}

void RemoteSlotMap::Set(SlotId slot, const FrameLocation& loc) {
  const uint64_t c = slot / per_chunk_;
  Chunk* chunk = Get(c, true);
  FrameLocation& e = chunk->entries[slot % per_chunk_];
  Dir& d = dir_[c];
  if (e.length != 0) Forget(d, e);
  e = loc;
  Reference(loc.segment, 1);
  ++count_;
  ++d.count;
  bytes_ += loc.length;
  d.bytes += loc.length;
  MarkDirty(*chunk);
  end_ = std::max(end_, slot + 1);
}

void RemoteSlotMap::Erase(SlotId first, uint64_t n) {
  if (first >= end_) return;
  const SlotId last = first + std::min<uint64_t>(n, end_ - first);
  bool end_gone = false;
  for (SlotId s = first; s < last;) {
    const uint64_t c = s / per_chunk_;
    const SlotId chunk_end = std::min<SlotId>((c + 1) * per_chunk_, last);
    Chunk* chunk = Get(c, false);
    if (chunk != nullptr) {
      Dir& d = dir_[c];
      bool changed = false;
      for (SlotId t = s; t < chunk_end; ++t) {
        FrameLocation& e = chunk->entries[t % per_chunk_];
        if (e.length == 0) continue;
        Forget(d, e);
        changed = true;
        end_gone = end_gone || t + 1 == end_;
      }
      if (d.count == 0) {
        Drop(c);
      } else if (changed) {
        MarkDirty(*chunk);
      }
    }
    s = chunk_end;
  }
  if (end_gone) FindEnd();
}

void RemoteSlotMap::FindEnd() {
  while (!dir_.empty()) {
    const uint64_t c = dir_.size() - 1;
    Chunk* chunk = Get(c, false);
    if (chunk == nullptr) {  // holds nothing (not yet counted)
      dir_.pop_back();
      continue;
    }
    for (uint32_t i = per_chunk_; i-- > 0;) {
      if (chunk->entries[i].length != 0) {
        end_ = c * per_chunk_ + i + 1;
        return;
      }
    }
    Drop(c);  // unreachable: a chunk with a count has an entry
  }
  end_ = 0;
}

void RemoteSlotMap::clear() {
  dir_.clear();
  loaded_.clear();
  clean_.clear();
  dirty_count_ = 0;
  segments_.clear();
  count_ = 0;
  bytes_ = 0;
  chunk_bytes_ = 0;
  end_ = 0;
}

std::vector<uint64_t> RemoteSlotMap::Segments() const {
  std::vector<uint64_t> out;
  out.reserve(segments_.size());
  for (const auto& [segment, frames] : segments_) out.push_back(segment);
  return out;
}

uint64_t RemoteSlotMap::memory_bytes() const {
  // A loaded chunk: its entries and about 64 bytes of hash node and list link.
  return dir_.capacity() * sizeof(Dir) +
         loaded_.size() * (uint64_t{per_chunk_} * sizeof(FrameLocation) + 64) +
         segments_.size() * 48;
}

std::vector<std::pair<uint64_t, std::vector<uint8_t>>> RemoteSlotMap::PagesToStore(
    const std::vector<std::pair<SlotId, FrameLocation>>& then) {
  std::map<uint64_t, std::vector<std::pair<uint32_t, FrameLocation>>> changes;
  for (const auto& [c, chunk] : loaded_) {
    if (chunk.dirty) changes[c];
  }
  for (const auto& [slot, loc] : then) {
    changes[slot / per_chunk_].emplace_back(static_cast<uint32_t>(slot % per_chunk_), loc);
  }
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> out;
  for (const auto& [c, list] : changes) {
    const Chunk* chunk = Get(c, false);
    std::vector<FrameLocation> entries =
        chunk != nullptr ? chunk->entries : std::vector<FrameLocation>(per_chunk_);
    for (const auto& [i, loc] : list) entries[i] = loc;
    if (std::none_of(entries.begin(), entries.end(),
                     [](const FrameLocation& e) { return e.length != 0; })) {
      continue;
    }
    std::vector<uint8_t> page(slot_size_);
    EncodeChunk(entries, page.data(), slot_size_);
    out.emplace_back(c, std::move(page));
  }
  return out;
}

void RemoteSlotMap::Stored(uint64_t c, const FrameLocation& frame) {
  auto it = loaded_.find(c);
  if (it == loaded_.end() || c >= dir_.size()) {
    throw Error(ErrorCode::kNotAllowed,
                "slot map chunk " + std::to_string(c) + " was stored but is not loaded");
  }
  Dir& d = dir_[c];
  ForgetFrame(d);
  d.frame = frame;
  Reference(frame.segment, 1);
  chunk_bytes_ += frame.length;
  Chunk& chunk = it->second;
  if (chunk.dirty) {
    chunk.dirty = false;
    --dirty_count_;
    clean_.push_front(c);
    chunk.lru = clean_.begin();
  }
  EvictClean(c);
}

void RemoteSlotMap::MarkAllDirty() {
  for (uint64_t c = 0; c < dir_.size(); ++c) {
    if (dir_[c].count == 0) continue;
    Chunk* chunk = Get(c, false);
    MarkDirty(*chunk);
  }
}

SlotMapImage RemoteSlotMap::Image() const {
  if (dirty()) {
    throw Error(ErrorCode::kNotAllowed, "a slot map with unstored chunks has no image");
  }
  SlotMapImage image;
  image.end_slot = end_;
  for (uint64_t c = 0; c < dir_.size(); ++c) {
    const Dir& d = dir_[c];
    if (d.count > 0) image.chunks.push_back({c, d.frame, d.count, d.bytes});
  }
  image.segments.assign(segments_.begin(), segments_.end());
  return image;
}

void RemoteSlotMap::Adopt(const SlotMapImage& image) {
  clear();
  if (!image.flat.empty()) {
    for (const auto& [slot, loc] : image.flat) Set(slot, loc);
    return;
  }
  for (const ChunkRef& r : image.chunks) {
    if (r.chunk >= dir_.size()) dir_.resize(r.chunk + 1);
    dir_[r.chunk] = Dir{r.frame, r.count, r.bytes};
    count_ += r.count;
    bytes_ += r.bytes;
    chunk_bytes_ += r.frame.length;
  }
  for (const auto& [segment, frames] : image.segments) segments_[segment] = frames;
  end_ = image.end_slot;
}

void RemoteSlotMap::ForEach(const std::function<void(SlotId, const FrameLocation&)>& fn) {
  for (uint64_t c = 0; c < dir_.size(); ++c) {
    if (dir_[c].count == 0) continue;
    const std::vector<FrameLocation> entries = Get(c, false)->entries;  // fn may load others
    for (uint32_t i = 0; i < per_chunk_; ++i) {
      if (entries[i].length != 0) fn(c * per_chunk_ + i, entries[i]);
    }
  }
}

}  // namespace pagefs
