// RemoteCommitRoot: the CommitRoot of a volume on a RemoteTier. Publish
// stores the superblock as the record of an immutable commit object, with
// the tier's slot map, and moves the bucket's head record to it with a
// conditional write (RemoteTier::PublishCommit); Load reads the head's commit
// and has the tier adopt its slot map. A crash at any instant leaves the
// head on the last complete commit (docs/remote_format.md).
//
// Only the first Load (or a Publish) makes the tier adopt a commit's slot
// map; later Loads only look (a small GET of the head, and the commit's
// record when the head moved), so a read-only volume asking whether a newer
// commit exists goes on reading its own. To follow a newer commit, a store
// opens a new tier and root (EmbeddedMode does for remote stores).
#pragma once

#include <optional>

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
  Superblock Decode(const std::string& record) const;

  RemoteTier& tier_;
  std::optional<Superblock> adopted_;  // the commit the tier reads
};

}  // namespace pagefs
