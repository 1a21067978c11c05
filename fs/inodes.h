// Inode numbers of the mount view. They are computed from what a node is, not
// handed out, so the daemon keeps no inode table and FORGET costs nothing:
//   1 root, 2 .stats, 3 .control
//   (p+1) << 48 | 1..5      folder, data, pages/, info.json, anchors of
//                           prefix p (6 was .alloc, now an ioctl; 7 the
//                           committed file before it had one inode per commit)
//   (p+1) << 48 | 1 << 47 | id   pages/<id> of prefix p (id < 2^47)
//   (p+1) << 48 | 1 << 46 | e    committed of prefix p as of the commit with
//                                epoch e (mod 2^46): one inode per commit, so
//                                the kernel's cache of each is immutable
//                                (kernel_cache.h)
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pager/util/page.h"

namespace pagefs::fs {

enum class NodeKind {
  kRoot,
  kStats,
  kControl,
  kPrefixDir,
  kData,
  kPagesDir,
  kInfo,
  kPage,
  kAnchors,
  kCommitted,  // the files of a client through the mount (client_files.h)
};

struct Node {
  NodeKind kind = NodeKind::kRoot;
  uint32_t prefix = 0;    // index into the mount's prefixes, for per-prefix kinds
  PageId page = kNoPage;  // kPage: the page id; kCommitted: CommitTag(epoch)
};

inline constexpr uint32_t kMaxPrefixes = 65534;
inline constexpr PageId kMaxPageId = (PageId{1} << 47) - 1;

// The committed file of one commit is named by its epoch's low 46 bits (two
// commits 2^46 apart would share an inode; no store lives that long).
inline constexpr uint64_t CommitTag(uint64_t epoch) { return epoch & ((uint64_t{1} << 46) - 1); }

fuse_ino_t InodeOf(const Node& node);
// The node an inode names, or nullopt for a number this mount never made.
std::optional<Node> NodeOf(fuse_ino_t ino);

// "0000000000000001" for page 1: 16 lower-case hex digits.
std::string PageFileName(PageId id);
// The page a file name in pages/ names, or nullopt.
std::optional<PageId> ParsePageFileName(std::string_view name);

}  // namespace pagefs::fs
