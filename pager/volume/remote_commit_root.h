// RemoteCommitRoot: the CommitRoot of a volume on a RemoteTier. Publish
// stores the superblock as the record of an immutable commit object, with
// the tier's slot map, and moves the bucket's head record to it with a
// conditional write (RemoteTier::PublishCommit); Load reads the head's commit
// and has the tier adopt its slot map. A crash at any instant leaves the
// head on the last complete commit (docs/remote_format.md).
//
// Read-only volumes see the commit that was the head when they loaded it;
// following newer commits of another machine's writer is not built yet.
#pragma once

#include "pager/tier/remote/remote_tier.h"
#include "pager/volume/commit_root.h"

namespace pagefs {

class RemoteCommitRoot final : public CommitRoot {
 public:
  // tier must outlive the root.
  explicit RemoteCommitRoot(RemoteTier& tier) : tier_(tier) {}

  std::optional<Superblock> Load() override;
  void Publish(const Superblock& sb) override;

 private:
  RemoteTier& tier_;
};

}  // namespace pagefs
