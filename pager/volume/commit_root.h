// CommitRoot: where a volume finds its newest commit and how it makes the
// next one durable (the superblock flip). The Volume writes and syncs the
// commit's pages first, then calls Publish; a crash at any instant leaves
// Load returning either the previous commit or the new one, never less.
//
// Today's root is SuperblockSlots: slots 0 and 1 of the volume's own tier,
// rewritten in place by epoch parity (docs/superblock_format.md). An object
// store provides another one later: an immutable object per commit plus a
// conditional write of a head record.
//
// Load may run concurrently with itself and with Publish (a read-only
// process polls while a writer commits); Publish calls are serialized by the
// caller. Failures throw pagefs::Error.
#pragma once

#include <optional>

#include "pager/tier/tier.h"
#include "pager/volume/superblock.h"

namespace pagefs {

class CommitRoot {
 public:
  virtual ~CommitRoot() = default;

  // The newest valid superblock, if there is one.
  virtual std::optional<Superblock> Load() = 0;
  // Makes sb the newest commit, durable when this returns (sb.epoch is one
  // past the last published epoch, or 0 when formatting).
  virtual void Publish(const Superblock& sb) = 0;
};

// The two superblock slots at the start of a tier, alternating by epoch
// parity: epoch e goes to slot e % 2, so the previous commit's slot is never
// touched by the flip. Each slot holds two framed copies (superblock.h).
class SuperblockSlots final : public CommitRoot {
 public:
  static constexpr SlotId kSlotCount = 2;  // data starts after them

  // tier must outlive the root. Throws Error(kInvalidArgument) when its
  // slots are too small for the two copies.
  explicit SuperblockSlots(Tier& tier);

  std::optional<Superblock> Load() override;
  void Publish(const Superblock& sb) override;

 private:
  Tier& tier_;
};

}  // namespace pagefs
