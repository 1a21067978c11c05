// The writer's side of a process working through the mount
// (pager/space/mounted_space.h), one per prefix, and the rule that a prefix with a
// writer changes and commits only at its writer's request:
//
//   kIoctlClaimWriter on a data handle open for writing takes the prefix's
//   writer role for that handle (EBUSY while another handle has it). Pending
//   changes that no writer made (writes to data by other tools) are committed
//   first, so the writer starts from a commit. kIoctlReleaseWriter (a
//   closing client's last request) or the handle's RELEASE gives the role
//   back; if the prefix changed since its last commit then (the writer died
//   or closed without committing), the prefix is rolled back to that commit.
//   kIoctlAllocate and kIoctlCommit: the writer's allocation and commit.
//   While a handle holds the role, every other change of the prefix (writes,
//   hole punches, truncates, page files made or removed) fails with EBUSY,
//   and commits not asked for by it (fsync, .control, the daemon's stop)
//   commit nothing of it (Mount::Commit).
//   PREFIX/anchors: read-only, the last commit's root map and orphan head.
//   kIoctlSpaceInfo on any data or committed handle: the prefix's state for
//   a client (page size, last commit, size, writer), as a binary record.
//
// Thread safety: any FUSE worker thread; the role is guarded by the prefix's
// role_mu.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fs/mount_state.h"
#include "pager/space/mount_protocol.h"

namespace pagefs::fs {

// Takes the writer role for handle (an open data file) on behalf of the
// thread tid. Returns the last commit's anchors. Throws Error(kBusy) when
// another handle has it, kReadOnly on a read-only mount. What the kernel must
// drop before the claim is answered (a commit or a rollback it made) goes to
// after.
Anchors ClaimWriter(Mount& mount, PrefixView& prefix, const void* handle, pid_t tid,
                    Invalidations& after);
// Gives the role back if handle has it; rolls back uncommitted changes.
void ReleaseWriter(Mount& mount, PrefixView& prefix, const void* handle);

// Held while a change of the prefix runs: handle (nullptr for requests that
// name no open file) may change it when no client holds the writer role or
// when it is the writer's. Throws Error(kBusy) naming the writer otherwise.
class SCOPED_CAPABILITY ChangeHold {
 public:
  ChangeHold(PrefixView& prefix, const void* handle) ACQUIRE_SHARED(prefix.role_mu);
  ~ChangeHold() RELEASE() { mu_.UnlockShared(); }
  ChangeHold(const ChangeHold&) = delete;
  ChangeHold& operator=(const ChangeHold&) = delete;

 private:
  SharedMutex& mu_;
};

// kIoctlSpaceInfo's answer: the prefix's page size, last commit, size and writer.
SpaceInfo DescribeSpace(PrefixView& prefix);

// The last commit's anchors, encoded.
std::string ReadAnchors(PrefixView& prefix);

// The writer's commit with these anchors. Throws Error(kNotAllowed) unless
// handle has the writer role.
void WriterCommit(Mount& mount, PrefixView& prefix, const void* handle, const Anchors& anchors,
                  Invalidations& after);

// Allocates kAllocBatch pages for the writer into out. REQUIRES (checked):
// handle has the writer role.
void AllocateIds(PrefixView& prefix, const void* handle, AllocArg& out);

}  // namespace pagefs::fs
