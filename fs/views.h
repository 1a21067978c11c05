// The generated files: MOUNT/.stats (live cache figures), PREFIX/info.json
// (the last commit's superblock and the page space), and .control's help.
// Rendered fresh on every open (and for getattr, so the size is right).
#pragma once

#include <string>

#include "fs/mount_state.h"

namespace pagefs::fs {

std::string RenderStats(Mount& mount);
std::string RenderInfo(PrefixView& prefix);
const char* ControlHelp();

}  // namespace pagefs::fs
