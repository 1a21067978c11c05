#include "pager/volume/superblock.h"

#include <algorithm>
#include <cereal/archives/binary.hpp>
#include <cstring>
#include <sstream>

#include "pager/util/checksum.h"

namespace pagefs {

namespace {

constexpr uint64_t kSuperblockSeed = 0x5375706572426C6BULL;

std::optional<Superblock> DecodeCopy(const uint8_t* p, size_t avail) {
  uint32_t len;
  if (avail < sizeof(len) + sizeof(uint64_t)) return std::nullopt;
  std::memcpy(&len, p, sizeof(len));
  if (len == 0 || len > avail - sizeof(len) - sizeof(uint64_t)) return std::nullopt;
  uint64_t stored;
  std::memcpy(&stored, p + sizeof(len) + len, sizeof(stored));
  if (Checksum(p, sizeof(len) + len, kSuperblockSeed) != stored) return std::nullopt;
  Superblock sb;
  try {
    std::istringstream in(std::string(reinterpret_cast<const char*>(p) + sizeof(len), len));
    cereal::BinaryInputArchive archive(in);
    archive(sb);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (sb.magic != Superblock::kMagic || sb.format_version != Superblock::kFormatVersion) {
    return std::nullopt;
  }
  return sb;
}

}  // namespace

void EncodeSuperblock(const Superblock& sb, std::vector<uint8_t>& slot) {
  std::ostringstream out;
  {
    cereal::BinaryOutputArchive archive(out);
    archive(sb);
  }
  const std::string record = out.str();
  const uint32_t len = static_cast<uint32_t>(record.size());
  const size_t half = kSuperblockCopySize;
  std::fill(slot.begin(), slot.end(), 0);
  for (size_t base : {size_t{0}, half}) {
    uint8_t* p = slot.data() + base;
    std::memcpy(p, &len, sizeof(len));
    std::copy(record.begin(), record.end(), p + sizeof(len));  // a binary record, not a C string
    uint64_t sum = Checksum(p, sizeof(len) + len, kSuperblockSeed);
    std::memcpy(p + sizeof(len) + len, &sum, sizeof(sum));
  }
}

std::optional<Superblock> DecodeSuperblockSlot(const uint8_t* p) {
  std::optional<Superblock> a = DecodeCopy(p, kSuperblockCopySize);
  std::optional<Superblock> b = DecodeCopy(p + kSuperblockCopySize, kSuperblockCopySize);
  if (a && b) return a->epoch >= b->epoch ? a : b;
  return a ? a : b;
}

}  // namespace pagefs
