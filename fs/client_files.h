// The files a process working through the mount (pager/mounted_space.h)
// uses besides data, one pair per prefix:
//
//   PREFIX/anchors  16 bytes: the root map and orphan-list heads (little-endian
//                   u64 each). A read returns the last commit's; a write sets
//                   those the prefix's next commit carries. Opening it for
//                   writing takes the prefix's writer role (EBUSY while another
//                   handle has it); closing that handle gives it back, and if
//                   the prefix changed since its last commit (the writer died)
//                   the prefix is rolled back to that commit.
//   PREFIX/.alloc   each read of N bytes returns N/8 page ids (little-endian
//                   u64), each allocated zero-filled for the reader. Ids not
//                   used are given back with a hole punch on data.
//
// Thread safety: any FUSE worker thread; the writer role is guarded by the
// prefix's writer_mu.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fs/mount_state.h"
#include "pager/mount_protocol.h"

namespace pagefs::fs {


// Takes the writer role for handle (an open anchors file) on behalf of pid.
// Throws Error(kBusy) when another handle has it, kReadOnly on a read-only mount.
void ClaimWriter(Mount& mount, PrefixView& prefix, const void* handle, pid_t pid);
// Gives the role back if handle has it; rolls back uncommitted changes.
void ReleaseWriter(Mount& mount, PrefixView& prefix, const void* handle);

// The last commit's anchors, encoded.
std::string ReadAnchors(PrefixView& prefix);
// Sets the anchors of the next commit. REQUIRES: handle has the writer role.
void WriteAnchors(PrefixView& prefix, const void* handle, const uint8_t* bytes, size_t size,
                  uint64_t off);

// Allocates up to size / 8 pages (at most kMaxAllocBatch) into out.
// Returns the bytes filled.
size_t AllocateIds(PrefixView& prefix, size_t size, uint8_t* out);

}  // namespace pagefs::fs
