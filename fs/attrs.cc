#include "fs/attrs.h"

#include <unistd.h>

#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "fs/views.h"

namespace pagefs::fs {

namespace {

constexpr double kLong = 3600.0;

timespec ToTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  return ts;
}

void SetTimes(struct stat& st, int64_t mtime_ns) {
  st.st_mtim = ToTimespec(mtime_ns);
  st.st_ctim = st.st_mtim;
  st.st_atim = st.st_mtim;
}

void SetFile(struct stat& st, mode_t mode, uint64_t size, uint32_t block) {
  st.st_mode = S_IFREG | mode;
  st.st_nlink = 1;
  st.st_size = static_cast<off_t>(size);
  st.st_blksize = block;
  st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
}

void SetDir(struct stat& st, nlink_t links) {
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = links;
  st.st_size = 4096;
  st.st_blksize = 4096;
}

}  // namespace

bool StatNode(Mount& mount, const Node& node, struct stat& st) {
  std::memset(&st, 0, sizeof(st));
  st.st_ino = InodeOf(node);
  st.st_uid = ::getuid();
  st.st_gid = ::getgid();
  const mode_t rw = mount.read_only() ? 0444 : 0644;
  switch (node.kind) {
    case NodeKind::kRoot:
      SetDir(st, 2 + mount.prefix_count());
      SetTimes(st, mount.started_ns());
      return true;
    case NodeKind::kStats:
      // Live, like a /proc file: size 0 and read to the end, with times that
      // stay put, so tar and rsync do not see it change under every stat.
      SetFile(st, 0444, 0, 4096);
      SetTimes(st, mount.started_ns());
      return true;
    case NodeKind::kControl:
      SetFile(st, mount.read_only() ? 0444 : 0644, std::strlen(ControlHelp()), 4096);
      SetTimes(st, mount.started_ns());
      return true;
    default: break;
  }
  PrefixView* prefix = mount.prefix(node.prefix);
  if (prefix == nullptr) return false;
  switch (node.kind) {
    case NodeKind::kPrefixDir:
      SetDir(st, 3);
      SetTimes(st, prefix->flat->changed_ns());
      return true;
    case NodeKind::kData: {
      uint64_t bytes;
      {
        // A rollback replaces the Volume that bytes() reads.
        std::shared_lock<std::shared_mutex> op(prefix->store->heap().op_lock());
        bytes = prefix->flat->bytes();
      }
      SetFile(st, rw, bytes, prefix->page_size);
      SetTimes(st, prefix->flat->changed_ns());
      return true;
    }
    case NodeKind::kPagesDir:
      SetDir(st, 2);
      SetTimes(st, prefix->flat->changed_ns());
      return true;
    case NodeKind::kInfo:
      SetFile(st, 0444, RenderInfo(*prefix).size(), 4096);
      SetTimes(st, prefix->committed_ns.load());
      return true;
    case NodeKind::kAnchors:
      SetFile(st, 0444, 16, 4096);
      SetTimes(st, prefix->committed_ns.load());
      return true;
    case NodeKind::kCommitted:
      SetFile(st, 0444, mount.CommittedBytes(*prefix, node.page), prefix->page_size);
      SetTimes(st, prefix->committed_ns.load());
      return true;
    case NodeKind::kPage:
      if (!prefix->flat->PageAllocated(node.page)) return false;
      SetFile(st, rw, prefix->page_size, prefix->page_size);
      SetTimes(st, prefix->flat->changed_ns());
      return true;
    default: return false;
  }
}

double AttrTimeout(const Node& node) {
  switch (node.kind) {
    case NodeKind::kStats:
    case NodeKind::kInfo: return 0.0;
    default: return kLong;  // a committed file's inode is one commit's: its size never changes
  }
}

double EntryTimeout(const Node& node) {
  // committed names the last commit's inode: looked up at every open, so an
  // open after a commit finds the new one.
  return node.kind == NodeKind::kCommitted ? 0.0 : kLong;
}

bool EntryFor(Mount& mount, const Node& node, fuse_entry_param& e) {
  std::memset(&e, 0, sizeof(e));
  if (!StatNode(mount, node, e.attr)) return false;
  e.ino = e.attr.st_ino;
  e.generation = 1;
  e.attr_timeout = AttrTimeout(node);
  e.entry_timeout = EntryTimeout(node);
  return true;
}

}  // namespace pagefs::fs
