#include "pager/volume/remote_commit_root.h"

#include <vector>

#include "pager/util/error.h"

namespace pagefs {

std::optional<Superblock> RemoteCommitRoot::Load() {
  if (adopted_) {
    std::optional<uint64_t> epoch = tier_.HeadEpoch();
    if (epoch && *epoch == adopted_->epoch) return adopted_;
    std::optional<std::string> record = tier_.PeekCommit();
    if (!record) return std::nullopt;
    return Decode(*record);
  }
  std::optional<std::string> record = tier_.LoadCommit();
  if (!record) return std::nullopt;
  adopted_ = Decode(*record);
  return adopted_;
}

Superblock RemoteCommitRoot::Decode(const std::string& record) const {
  // The record is a superblock slot image: two framed copies (superblock.h).
  if (record.size() < 2 * kSuperblockCopySize) {
    throw Error(ErrorCode::kCorruption, "the commit record in " + tier_.name() + " is truncated");
  }
  std::optional<Superblock> sb =
      DecodeSuperblockSlot(reinterpret_cast<const uint8_t*>(record.data()));
  if (!sb) {
    throw Error(ErrorCode::kCorruption, "no valid superblock in the commit " + tier_.name() +
                                            "'s head names: the store is damaged");
  }
  return *sb;
}

void RemoteCommitRoot::Publish(const Superblock& sb) {
  std::vector<uint8_t> slot(2 * kSuperblockCopySize);
  EncodeSuperblock(sb, slot);
  tier_.PublishCommit(sb.epoch,
                      std::string_view(reinterpret_cast<const char*>(slot.data()), slot.size()));
  adopted_ = sb;
}

}  // namespace pagefs
