#include "pager/volume/commit_root.h"

#include <string>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {

SuperblockSlots::SuperblockSlots(Tier& tier) : tier_(tier) {
  if (tier.slot_size() < 2 * kSuperblockCopySize) {
    throw Error(ErrorCode::kInvalidArgument, "superblock slots of " +
                                                 std::to_string(tier.slot_size()) + " bytes in " +
                                                 tier.name() + " cannot hold two copies of " +
                                                 std::to_string(kSuperblockCopySize));
  }
}

std::optional<Superblock> SuperblockSlots::Load() {
  std::vector<uint8_t> buf(tier_.slot_size());
  std::optional<Superblock> best;
  for (SlotId s = 0; s < kSlotCount; ++s) {
    tier_.Read(s, buf.data());
    std::optional<Superblock> sb = DecodeSuperblockSlot(buf.data());
    if (sb && (!best || sb->epoch > best->epoch)) best = sb;
  }
  return best;
}

void SuperblockSlots::Publish(const Superblock& sb) {
  std::vector<uint8_t> buf(tier_.slot_size());
  EncodeSuperblock(sb, buf);
  tier_.Write(sb.epoch % kSlotCount, buf.data());
  tier_.Sync();
}

}  // namespace pagefs
