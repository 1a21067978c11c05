#include "pager/tier/remote/remote_tier.h"

#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "pager/util/checksum.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

constexpr char kSegmentMagic[8] = {'P', 'F', 'S', 'S', 'E', 'G', '1', '\0'};
constexpr char kCommitMagic[8] = {'P', 'F', 'S', 'C', 'M', 'T', '1', '\0'};
constexpr char kHeadMagic[8] = {'P', 'F', 'S', 'H', 'E', 'A', 'D', '1'};
constexpr uint64_t kCommitSeed = 0x434f4d4d4954ULL;  // "COMMIT"
constexpr uint64_t kHeadSeed = 0x48454144ULL;        // "HEAD"
constexpr int kZstdLevel = 3;
constexpr const char* kHead = "head";

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads a T at at, advancing it; false when the bytes run out.
template <typename T>
bool Take(const std::string& in, size_t& at, T& v) {
  if (in.size() < at + sizeof v) return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
}

uint64_t FrameSeed(SlotId slot) { return slot; }

}  // namespace

RemoteTier::RemoteTier(S3Client& client, uint32_t slot_size)
    : client_(client), slot_size_(slot_size), session_(std::random_device{}()) {}

std::string RemoteTier::SegmentName(uint64_t segment) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "seg/%016llx", static_cast<unsigned long long>(segment));
  return buf;
}

std::string RemoteTier::name() const {
  return "remote:s3://" + client_.config().location.bucket + "/" + client_.config().location.prefix;
}

SlotId RemoteTier::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  SlotId a = slots_.empty() ? 0 : slots_.rbegin()->first + 1;
  SlotId b = pending_.empty() ? 0 : pending_.rbegin()->first + 1;
  return std::max(a, b);
}

TierStats RemoteTier::stats() const {
  TierStats s;
  s.reads = reads_.load();
  s.writes = writes_.load();
  s.syncs = syncs_.load();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [slot, loc] : slots_) s.bytes_on_disk += loc.length;
  return s;
}

RemoteTierStats RemoteTier::remote_stats() const {
  S3ClientStats c = client_.stats();
  return {c.gets, c.puts, c.bytes_received, c.bytes_sent, segments_uploaded_.load()};
}

std::optional<std::string> RemoteTier::SegmentOf(SlotId slot) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(slot);
  if (it == slots_.end()) return std::nullopt;
  return SegmentName(it->second.segment);
}

void RemoteTier::Write(SlotId slot, const uint8_t* buf) {
  writes_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mu_);
  pending_[slot].assign(buf, buf + slot_size_);
}

void RemoteTier::Discard(SlotId slot) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_.erase(slot);
  pending_.erase(slot);
}

void RemoteTier::DecodeFrame(SlotId slot, const Location& loc, const char* bytes,
                             uint8_t* out) const {
  const std::string where = "slot " + std::to_string(slot) + " in " +
                            client_.Describe(SegmentName(loc.segment)) + " at byte " +
                            std::to_string(loc.offset);
  if (Checksum(bytes, loc.length, FrameSeed(slot)) != loc.checksum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + where);
  }
  size_t n = ZSTD_decompress(out, slot_size_, bytes, loc.length);
  if (ZSTD_isError(n) || n != slot_size_) {
    throw Error(ErrorCode::kCorruption, "cannot decompress " + where);
  }
}

void RemoteTier::Read(SlotId slot, uint8_t* buf) {
  uint8_t* bufs[1] = {buf};
  ReadRun(slot, 1, bufs);
}

void RemoteTier::ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) {
  reads_.fetch_add(n);
  // Look up under the lock; fetch outside it.
  std::vector<std::optional<Location>> locs(n);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t i = 0; i < n; ++i) {
      if (auto p = pending_.find(first + i); p != pending_.end()) {
        std::memcpy(bufs[i], p->second.data(), slot_size_);
      } else if (auto it = slots_.find(first + i); it != slots_.end()) {
        locs[i] = it->second;
      } else {
        std::memset(bufs[i], 0, slot_size_);
      }
    }
  }
  // Slots whose frames lie end to end in one segment share one ranged GET.
  uint32_t i = 0;
  while (i < n) {
    if (!locs[i]) {
      ++i;
      continue;
    }
    uint32_t end = i + 1;
    while (end < n && locs[end] && locs[end]->segment == locs[i]->segment &&
           locs[end]->offset == locs[end - 1]->offset + locs[end - 1]->length) {
      ++end;
    }
    const uint64_t from = locs[i]->offset;
    const uint64_t length = locs[end - 1]->offset + locs[end - 1]->length - from;
    std::string bytes = client_.GetRange(SegmentName(locs[i]->segment), from, length);
    for (uint32_t j = i; j < end; ++j) {
      DecodeFrame(first + j, *locs[j], bytes.data() + (locs[j]->offset - from), bufs[j]);
    }
    i = end;
  }
}

void RemoteTier::Sync() {
  syncs_.fetch_add(1);
  std::map<SlotId, std::vector<uint8_t>> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = pending_;  // kept readable until the upload lands
  }
  if (pending.empty()) return;
  std::vector<char> scratch(ZSTD_compressBound(slot_size_));
  std::map<SlotId, Location> placed;
  std::string segment(kSegmentMagic, sizeof kSegmentMagic);
  uint64_t segment_id = 0;
  auto flush = [&] {
    if (segment.size() == sizeof kSegmentMagic) return;
    // Create-only: a name this process made up is never anyone else's.
    PutResult r = client_.Put(SegmentName(segment_id), segment, PutCondition::kIfAbsent);
    if (!r.written) {
      throw Error(ErrorCode::kBusy, "segment " + client_.Describe(SegmentName(segment_id)) +
                                        " already exists: another writer uses this prefix");
    }
    segments_uploaded_.fetch_add(1);
    segment.assign(kSegmentMagic, sizeof kSegmentMagic);
  };
  for (const auto& [slot, page] : pending) {
    if (segment.size() == sizeof kSegmentMagic) {
      std::lock_guard<std::mutex> lock(mu_);
      segment_id = (session_ << 32) | next_segment_++;
    }
    size_t len =
        ZSTD_compress(scratch.data(), scratch.size(), page.data(), page.size(), kZstdLevel);
    if (ZSTD_isError(len))
      throw Error(ErrorCode::kIo, "zstd failed on slot " + std::to_string(slot));
    Location loc{segment_id, static_cast<uint32_t>(segment.size()), static_cast<uint32_t>(len),
                 Checksum(scratch.data(), len, FrameSeed(slot))};
    segment.append(scratch.data(), len);
    placed[slot] = loc;
    if (segment.size() >= kSegmentTarget) flush();
  }
  flush();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [slot, loc] : placed) {
    slots_[slot] = loc;
    // A slot written again (or discarded) during the upload keeps its news.
    auto p = pending_.find(slot);
    if (p != pending_.end() && p->second == pending.at(slot)) pending_.erase(p);
  }
}

std::string RemoteTier::EncodeManifest() const {
  std::string out;
  Put<uint32_t>(out, slot_size_);
  Put<uint64_t>(out, slots_.size());
  for (const auto& [slot, loc] : slots_) {
    Put<uint64_t>(out, slot);
    Put<uint64_t>(out, loc.segment);
    Put<uint32_t>(out, loc.offset);
    Put<uint32_t>(out, loc.length);
    Put<uint64_t>(out, loc.checksum);
  }
  return out;
}

void RemoteTier::DecodeManifest(const std::string& object, size_t at, const std::string& what) {
  uint32_t slot_size = 0;
  uint64_t count = 0;
  if (!Take(object, at, slot_size) || !Take(object, at, count)) {
    throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
  }
  if (slot_size != slot_size_) {
    throw Error(ErrorCode::kInvalidArgument, what + " has slots of " + std::to_string(slot_size) +
                                                 " bytes, not " + std::to_string(slot_size_));
  }
  std::map<SlotId, Location> slots;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t slot;
    Location loc;
    if (!Take(object, at, slot) || !Take(object, at, loc.segment) ||
        !Take(object, at, loc.offset) || !Take(object, at, loc.length) ||
        !Take(object, at, loc.checksum)) {
      throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
    }
    slots.emplace_hint(slots.end(), slot, loc);
  }
  slots_ = std::move(slots);
}

void RemoteTier::PublishCommit(uint64_t epoch, std::string_view record) {
  std::string object(kCommitMagic, sizeof kCommitMagic);
  Put<uint64_t>(object, epoch);
  Put<uint32_t>(object, static_cast<uint32_t>(record.size()));
  object.append(record);
  std::string etag;
  {
    std::lock_guard<std::mutex> lock(mu_);
    object += EncodeManifest();
    etag = head_etag_;
  }
  Put<uint64_t>(object, Checksum(object.data(), object.size(), kCommitSeed));
  char name[64];
  std::snprintf(name, sizeof name, "commit/%016llx-%08llx", static_cast<unsigned long long>(epoch),
                static_cast<unsigned long long>(session_));
  if (!client_.Put(name, object, PutCondition::kIfAbsent).written) {
    throw Error(ErrorCode::kBusy, "commit " + client_.Describe(name) +
                                      " already exists: another writer uses this prefix");
  }
  std::string head(kHeadMagic, sizeof kHeadMagic);
  Put<uint64_t>(head, epoch);
  Put<uint16_t>(head, static_cast<uint16_t>(std::strlen(name)));
  head += name;
  Put<uint64_t>(head, Checksum(head.data(), head.size(), kHeadSeed));
  PutResult r = etag.empty() ? client_.Put(kHead, head, PutCondition::kIfAbsent)
                             : client_.Put(kHead, head, PutCondition::kIfMatch, etag);
  if (!r.written) {
    throw Error(ErrorCode::kBusy, client_.Describe(kHead) +
                                      " was moved by another writer; this commit (epoch " +
                                      std::to_string(epoch) + ") was not published");
  }
  std::lock_guard<std::mutex> lock(mu_);
  head_etag_ = r.etag;
}

std::optional<std::string> RemoteTier::LoadCommit() {
  std::optional<ObjectInfo> info = client_.Head(kHead);
  if (!info) return std::nullopt;
  std::string head;
  try {
    head = client_.Get(kHead);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return std::nullopt;
    throw;
  }
  const std::string head_what = client_.Describe(kHead);
  size_t at = sizeof kHeadMagic;
  uint64_t epoch = 0, sum = 0;
  uint16_t len = 0;
  if (head.size() < sizeof kHeadMagic + 18 || std::memcmp(head.data(), kHeadMagic, 8) != 0 ||
      !Take(head, at, epoch) || !Take(head, at, len) || head.size() != at + len + 8) {
    throw Error(ErrorCode::kCorruption, head_what + " is not a pagefs head record");
  }
  std::string name = head.substr(at, len);
  at += len;
  Take(head, at, sum);
  if (Checksum(head.data(), head.size() - 8, kHeadSeed) != sum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + head_what);
  }
  std::string object;
  try {
    object = client_.Get(name);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    throw Error(ErrorCode::kNotFound, head_what + " names " + client_.Describe(name) +
                                          ", which is missing: the store is damaged");
  }
  const std::string what = client_.Describe(name);
  uint64_t stored = 0, object_epoch = 0;
  uint32_t record_len = 0;
  size_t end = object.size() - 8;
  if (object.size() < sizeof kCommitMagic + 20 ||
      std::memcmp(object.data(), kCommitMagic, 8) != 0) {
    throw Error(ErrorCode::kCorruption, what + " is not a pagefs commit object");
  }
  std::memcpy(&stored, object.data() + end, 8);
  if (Checksum(object.data(), end, kCommitSeed) != stored) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + what);
  }
  object.resize(end);
  at = sizeof kCommitMagic;
  if (!Take(object, at, object_epoch) || object_epoch != epoch || !Take(object, at, record_len) ||
      object.size() < at + record_len) {
    throw Error(ErrorCode::kCorruption, what + " does not hold the commit " + head_what + " names");
  }
  std::string record = object.substr(at, record_len);
  std::lock_guard<std::mutex> lock(mu_);
  DecodeManifest(object, at + record_len, what);
  head_etag_ = info->etag;
  return record;
}

}  // namespace pagefs
