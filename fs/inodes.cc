#include "fs/inodes.h"

namespace pagefs::fs {

namespace {

constexpr uint64_t kPrefixShift = 48;
constexpr uint64_t kPageBit = uint64_t{1} << 47;
constexpr uint64_t kCommitBit = uint64_t{1} << 46;

}  // namespace

fuse_ino_t InodeOf(const Node& node) {
  const uint64_t base = (uint64_t{node.prefix} + 1) << kPrefixShift;
  switch (node.kind) {
    case NodeKind::kRoot: return FUSE_ROOT_ID;
    case NodeKind::kStats: return 2;
    case NodeKind::kControl: return 3;
    case NodeKind::kPrefixDir: return base | 1;
    case NodeKind::kData: return base | 2;
    case NodeKind::kPagesDir: return base | 3;
    case NodeKind::kInfo: return base | 4;
    case NodeKind::kPage: return base | kPageBit | node.page;
    case NodeKind::kAnchors: return base | 5;
    case NodeKind::kCommitted: return base | kCommitBit | CommitTag(node.page);
  }
  return 0;
}

std::optional<Node> NodeOf(fuse_ino_t ino) {
  if (ino == FUSE_ROOT_ID) return Node{NodeKind::kRoot};
  if (ino == 2) return Node{NodeKind::kStats};
  if (ino == 3) return Node{NodeKind::kControl};
  const uint64_t high = ino >> kPrefixShift;
  if (high == 0 || high > kMaxPrefixes) return std::nullopt;
  Node node;
  node.prefix = static_cast<uint32_t>(high - 1);
  const uint64_t low = ino & ((uint64_t{1} << kPrefixShift) - 1);
  if (low & kPageBit) {
    node.kind = NodeKind::kPage;
    node.page = low & ~kPageBit;
    if (node.page == kNoPage) return std::nullopt;
    return node;
  }
  if (low & kCommitBit) {
    node.kind = NodeKind::kCommitted;
    node.page = low & ~kCommitBit;
    return node;
  }
  switch (low) {
    case 1: node.kind = NodeKind::kPrefixDir; return node;
    case 2: node.kind = NodeKind::kData; return node;
    case 3: node.kind = NodeKind::kPagesDir; return node;
    case 4: node.kind = NodeKind::kInfo; return node;
    case 5: node.kind = NodeKind::kAnchors; return node;
    default: return std::nullopt;
  }
}

std::string PageFileName(PageId id) {
  static const char kHex[] = "0123456789abcdef";
  std::string name(16, '0');
  for (int i = 15; i >= 0; --i) {
    name[static_cast<size_t>(i)] = kHex[id & 0xf];
    id >>= 4;
  }
  return name;
}

std::optional<PageId> ParsePageFileName(std::string_view name) {
  if (name.size() != 16) return std::nullopt;
  PageId id = 0;
  for (char c : name) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    id = id << 4 | static_cast<PageId>(digit);
  }
  if (id == kNoPage || id > kMaxPageId) return std::nullopt;
  return id;
}

}  // namespace pagefs::fs
