// Attributes of the nodes of the view, and how long the kernel may cache them.
#pragma once

#include <sys/stat.h>

#include "fs/inodes.h"
#include "fs/mount_state.h"

namespace pagefs::fs {

// Fills st for node. Returns false when the node does not exist (a page that
// is not allocated, a prefix index the mount does not have).
bool StatNode(Mount& mount, const Node& node, struct stat& st);

// Seconds the kernel may trust attributes / a name. Long for what only
// changes through this mount (the notifier invalidates data's size when it
// changes behind the kernel's back) and for a committed file (one commit's);
// 0 for .stats and info.json, whose sizes change with every request or
// commit, and for the name committed, which names the last commit's file.
double AttrTimeout(const Node& node);
double EntryTimeout(const Node& node);

// A fuse_entry_param for node, or false when it does not exist.
bool EntryFor(Mount& mount, const Node& node, fuse_entry_param& e);

}  // namespace pagefs::fs
