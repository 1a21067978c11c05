#include "pager/tier/remote/remote_objects.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include "pager/util/checksum.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

constexpr char kCommitMagic[8] = {'P', 'F', 'S', 'C', 'M', 'T', '1', '\0'};
constexpr char kHeadMagic[8] = {'P', 'F', 'S', 'H', 'E', 'A', 'D', '1'};
constexpr uint64_t kCommitSeed = 0x434f4d4d4954ULL;  // "COMMIT"
constexpr uint64_t kHeadSeed = 0x48454144ULL;        // "HEAD"

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

std::string EncodeRemoteCommit(uint64_t epoch, std::string_view record, uint32_t slot_size,
                               const RemoteSlotMap& slots) {
  std::string out(kCommitMagic, sizeof kCommitMagic);
  Put<uint64_t>(out, epoch);
  Put<uint32_t>(out, static_cast<uint32_t>(record.size()));
  out += record;
  Put<uint32_t>(out, slot_size);
  Put<uint64_t>(out, slots.size());
  for (const auto& [slot, loc] : slots) {
    Put<uint64_t>(out, slot);
    Put<uint64_t>(out, loc.segment);
    Put<uint32_t>(out, loc.offset);
    Put<uint32_t>(out, loc.length);
    Put<uint64_t>(out, loc.checksum);
  }
  Put<uint64_t>(out, Checksum(out.data(), out.size(), kCommitSeed));
  return out;
}

RemoteCommit DecodeRemoteCommit(const std::string& bytes, const std::string& what) {
  if (bytes.size() < sizeof kCommitMagic + 20 || std::memcmp(bytes.data(), kCommitMagic, 8) != 0) {
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
  uint64_t count = 0;
  if (!Take(body, at, c.epoch) || !Take(body, at, record_len) || body.size() < at + record_len) {
    throw Error(ErrorCode::kCorruption, what + ": truncated commit record");
  }
  c.record = body.substr(at, record_len);
  at += record_len;
  if (!Take(body, at, c.slot_size) || !Take(body, at, count)) {
    throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t slot = 0;
    FrameLocation loc;
    if (!Take(body, at, slot) || !Take(body, at, loc.segment) || !Take(body, at, loc.offset) ||
        !Take(body, at, loc.length) || !Take(body, at, loc.checksum)) {
      throw Error(ErrorCode::kCorruption, what + ": truncated slot map");
    }
    // Ascending, as written, and each frame a real one: the map is indexed by
    // slot, so a wild slot id must not become a wild allocation.
    if (loc.length == 0 || (i > 0 && slot < c.slots.end_slot()) || slot >= kMaxRemoteSlots) {
      throw Error(ErrorCode::kCorruption, what + ": slot map entry " + std::to_string(i) +
                                              " (slot " + std::to_string(slot) +
                                              ") is out of order or out of range");
    }
    c.slots.Set(slot, loc);
  }
  return c;
}

}  // namespace pagefs
