// This process's view of its mounts, from /proc/self/mountinfo.
#pragma once

#include <string>

namespace pagefs::fs {

// The device ("MAJOR:MINOR") of the topmost mount at path (an absolute,
// resolved path); "" if none.
std::string MountDevice(const std::string& path);

}  // namespace pagefs::fs
