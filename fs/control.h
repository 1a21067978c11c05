// MOUNT/.control: commands written to the daemon. A write holds one or more
// commands separated by newlines or semicolons:
//   cache_size=SIZE   set the daemon's total cache budget (K/M/G), at once
//   commit            commit every prefix
//   flush             write dirty cached pages back without committing
// The whole write is checked first: if any command is unknown or malformed,
// none runs and the write fails with EINVAL.
#pragma once

#include <string_view>

#include "fs/mount_state.h"

namespace pagefs::fs {

// Throws Error(kInvalidArgument) for bad input, Error(kReadOnly) for commit
// or flush on a read-only mount (cache_size works on any mount). What the
// kernel must drop before the write is answered (commits) goes to after.
void RunControl(Mount& mount, std::string_view text, Invalidations& after);

}  // namespace pagefs::fs
