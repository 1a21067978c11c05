#include "pager/tier/remote/remote_objects.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>

#include "pager/util/checksum.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

constexpr char kFlatCommitMagic[8] = {'P', 'F', 'S', 'C', 'M', 'T', '1', '\0'};
constexpr char kCommitMagic[8] = {'P', 'F', 'S', 'C', 'M', 'T', '2', '\0'};
constexpr char kHeadMagic[8] = {'P', 'F', 'S', 'H', 'E', 'A', 'D', '1'};
constexpr uint64_t kCommitSeed = 0x434f4d4d4954ULL;  // "COMMIT"
constexpr uint64_t kHeadSeed = 0x48454144ULL;        // "HEAD"

void PutFrame(std::string& out, const FrameLocation& loc) {
  Put<uint64_t>(out, loc.segment);
  Put<uint32_t>(out, loc.offset);
  Put<uint32_t>(out, loc.length);
  Put<uint64_t>(out, loc.checksum);
}

bool TakeFrame(const std::string& in, size_t& at, FrameLocation& loc) {
  return Take(in, at, loc.segment) && Take(in, at, loc.offset) && Take(in, at, loc.length) &&
         Take(in, at, loc.checksum);
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

}  // namespace

std::string RemoteSegmentName(uint64_t segment) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "seg/%016llx", static_cast<unsigned long long>(segment));
  return buf;
}

std::string RemoteCommitName(uint64_t epoch, uint64_t session) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "commit/%016llx-%08llx", static_cast<unsigned long long>(epoch),
                static_cast<unsigned long long>(session));
  return buf;
}

std::optional<uint64_t> ParseRemoteSegmentName(std::string_view name) {
  if (name.size() != 4 + 16 || name.substr(0, 4) != "seg/" || !IsHex(name.substr(4))) {
    return std::nullopt;
  }
  return std::stoull(std::string(name.substr(4)), nullptr, 16);
}

std::optional<uint64_t> ParseRemoteCommitName(std::string_view name) {
  if (name.size() != 7 + 16 + 1 + 8 || name.substr(0, 7) != "commit/" || name[23] != '-' ||
      !IsHex(name.substr(7, 16)) || !IsHex(name.substr(24))) {
    return std::nullopt;
  }
  return std::stoull(std::string(name.substr(7, 16)), nullptr, 16);
}

uint64_t FrameChecksum(SlotId slot, const char* bytes, size_t length) {
  return Checksum(bytes, length, slot);
}

bool IsCommitAfterFormat(std::string_view name) {
  std::optional<uint64_t> epoch = ParseRemoteCommitName(name);
  return epoch && *epoch >= 1;
}

std::string LostHeadMessage(const std::string& head_what, const std::string& commit_what) {
  return head_what + " is missing while " + commit_what +
         " holds a later commit: the store is damaged";
}

std::string EncodeRemoteHead(const RemoteHead& head) {
  std::string out(kHeadMagic, sizeof kHeadMagic);
  Put<uint64_t>(out, head.epoch);
  Put<uint16_t>(out, static_cast<uint16_t>(head.commit.size()));
  out += head.commit;
  Put<uint64_t>(out, Checksum(out.data(), out.size(), kHeadSeed));
  return out;
}

RemoteHead DecodeRemoteHead(const std::string& bytes, const std::string& what) {
  size_t at = sizeof kHeadMagic;
  RemoteHead head;
  uint16_t len = 0;
  uint64_t sum = 0;
  if (bytes.size() < sizeof kHeadMagic + 18 || std::memcmp(bytes.data(), kHeadMagic, 8) != 0 ||
      !Take(bytes, at, head.epoch) || !Take(bytes, at, len) || bytes.size() != at + len + 8) {
    throw Error(ErrorCode::kCorruption, what + " is not a pagefs head record");
  }
  head.commit = bytes.substr(at, len);
  at += len;
  Take(bytes, at, sum);
  if (Checksum(bytes.data(), bytes.size() - 8, kHeadSeed) != sum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + what);
  }
  return head;
}

std::string EncodeFlatRemoteCommit(uint64_t epoch, std::string_view record, uint32_t slot_size,
                                   const std::vector<std::pair<SlotId, FrameLocation>>& slots) {
  std::string out(kFlatCommitMagic, sizeof kFlatCommitMagic);
  Put<uint64_t>(out, epoch);
  Put<uint32_t>(out, static_cast<uint32_t>(record.size()));
  out += record;
  Put<uint32_t>(out, slot_size);
  Put<uint64_t>(out, slots.size());
  for (const auto& [slot, loc] : slots) {
    Put<uint64_t>(out, slot);
    PutFrame(out, loc);
  }
  Put<uint64_t>(out, Checksum(out.data(), out.size(), kCommitSeed));
  return out;
}

std::string EncodeRemoteCommit(const RemoteCommit& c) {
  if (!c.map.flat.empty()) {
    throw Error(ErrorCode::kNotAllowed, "a commit object is written with a paged slot map");
  }
  std::string out(kCommitMagic, sizeof kCommitMagic);
  Put<uint64_t>(out, c.epoch);
  Put<uint32_t>(out, static_cast<uint32_t>(c.record.size()));
  out += c.record;
  Put<uint32_t>(out, c.slot_size);
  Put<uint64_t>(out, c.map.end_slot);
  Put<uint64_t>(out, c.map.chunks.size());
  for (const ChunkRef& r : c.map.chunks) {
    Put<uint64_t>(out, r.chunk);
    PutFrame(out, r.frame);
    Put<uint32_t>(out, r.count);
    Put<uint64_t>(out, r.bytes);
  }
  Put<uint64_t>(out, c.map.segments.size());
  for (const auto& [segment, frames] : c.map.segments) {
    Put<uint64_t>(out, segment);
    Put<uint64_t>(out, frames);
  }
  Put<uint64_t>(out, Checksum(out.data(), out.size(), kCommitSeed));
  return out;
}

namespace {

// The whole map of a first-format object, from `at` on.
void TakeFlatMap(const std::string& body, size_t at, const std::string& what, RemoteCommit& c) {
  uint64_t count = 0;
  if (!Take(body, at, count)) throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
  std::map<uint64_t, uint64_t> segments;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t slot = 0;
    FrameLocation loc;
    if (!Take(body, at, slot) || !TakeFrame(body, at, loc)) {
      throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
    }
    // Ascending, as written, and each frame a real one: a wild slot id must
    // not become a wild allocation.
    if (loc.length == 0 || (i > 0 && slot <= c.map.flat.back().first) || slot >= kMaxRemoteSlots) {
      throw Error(ErrorCode::kCorruption, what + ": slot map entry " + std::to_string(i) +
                                              " (slot " + std::to_string(slot) +
                                              ") is out of order or out of range");
    }
    c.map.flat.emplace_back(slot, loc);
    segments[loc.segment] += 1;
  }
  c.map.end_slot = c.map.flat.empty() ? 0 : c.map.flat.back().first + 1;
  c.map.segments.assign(segments.begin(), segments.end());
}

// The paged map's directory and segments, from `at` on.
void TakePagedMap(const std::string& body, size_t at, const std::string& what, RemoteCommit& c) {
  const uint64_t per_chunk = std::max<uint32_t>(1, c.slot_size / RemoteSlotMap::kEntryBytes);
  uint64_t chunks = 0;
  if (!Take(body, at, c.map.end_slot) || !Take(body, at, chunks) || chunks > body.size() / 40) {
    throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
  }
  for (uint64_t i = 0; i < chunks; ++i) {
    ChunkRef r;
    if (!Take(body, at, r.chunk) || !TakeFrame(body, at, r.frame) || !Take(body, at, r.count) ||
        !Take(body, at, r.bytes)) {
      throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
    }
    if (r.frame.length == 0 || r.count == 0 || r.count > per_chunk ||
        (i > 0 && r.chunk <= c.map.chunks.back().chunk) || r.chunk >= kMaxRemoteSlots / per_chunk) {
      throw Error(ErrorCode::kCorruption, what + ": slot map chunk entry " + std::to_string(i) +
                                              " (chunk " + std::to_string(r.chunk) +
                                              ") is out of order or out of range");
    }
    c.map.chunks.push_back(r);
  }
  const uint64_t lowest = c.map.chunks.empty() ? 0 : c.map.chunks.back().chunk * per_chunk + 1;
  const uint64_t highest = c.map.chunks.empty() ? 0 : (c.map.chunks.back().chunk + 1) * per_chunk;
  if (c.map.end_slot < lowest || c.map.end_slot > highest) {
    throw Error(ErrorCode::kCorruption, what + ": its slot map ends at slot " +
                                            std::to_string(c.map.end_slot) +
                                            ", outside its last chunk");
  }
  uint64_t segments = 0;
  if (!Take(body, at, segments) || segments > body.size() / 16) {
    throw Error(ErrorCode::kCorruption, what + ": truncated segment list");
  }
  for (uint64_t i = 0; i < segments; ++i) {
    std::pair<uint64_t, uint64_t> s;
    if (!Take(body, at, s.first) || !Take(body, at, s.second)) {
      throw Error(ErrorCode::kCorruption, what + ": truncated segment list");
    }
    if (s.second == 0 || (i > 0 && s.first <= c.map.segments.back().first)) {
      throw Error(ErrorCode::kCorruption,
                  what + ": segment list entry " + std::to_string(i) + " is out of order or empty");
    }
    c.map.segments.push_back(s);
  }
}

}  // namespace

RemoteCommit DecodeRemoteCommit(const std::string& bytes, const std::string& what) {
  const bool flat = bytes.size() >= sizeof kFlatCommitMagic &&
                    std::memcmp(bytes.data(), kFlatCommitMagic, 8) == 0;
  if (bytes.size() < sizeof kCommitMagic + 20 ||
      (!flat && std::memcmp(bytes.data(), kCommitMagic, 8) != 0)) {
    throw Error(ErrorCode::kCorruption, what + " is not a pagefs commit object");
  }
  const size_t end = bytes.size() - 8;
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + end, 8);
  if (Checksum(bytes.data(), end, kCommitSeed) != stored) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + what);
  }
  const std::string body = bytes.substr(0, end);
  size_t at = sizeof kCommitMagic;
  RemoteCommit c;
  uint32_t record_len = 0;
  if (!Take(body, at, c.epoch) || !Take(body, at, record_len) || body.size() < at + record_len) {
    throw Error(ErrorCode::kCorruption, what + ": truncated commit record");
  }
  c.record = body.substr(at, record_len);
  at += record_len;
  if (!Take(body, at, c.slot_size)) throw Error(ErrorCode::kCorruption, what + ": truncated");
  if (flat) {
    TakeFlatMap(body, at, what, c);
  } else {
    TakePagedMap(body, at, what, c);
  }
  return c;
}

}  // namespace pagefs
