// Folder and metadata handlers: lookup, getattr, readdir(plus), statfs.
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "fs/attrs.h"
#include "fs/errno_map.h"
#include "fs/ops.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

namespace {

constexpr size_t kMaxWrite = 1u << 20;

std::optional<Node> ChildOf(Mount& mount, const Node& parent, std::string_view name) {
  switch (parent.kind) {
    case NodeKind::kRoot: {
      if (name == ".stats") return Node{NodeKind::kStats};
      if (name == ".control") return Node{NodeKind::kControl};
      int64_t index = mount.FindPrefix(name);
      if (index < 0) return std::nullopt;
      return Node{NodeKind::kPrefixDir, static_cast<uint32_t>(index)};
    }
    case NodeKind::kPrefixDir:
      if (name == "data") return Node{NodeKind::kData, parent.prefix};
      if (name == "pages") return Node{NodeKind::kPagesDir, parent.prefix};
      if (name == "info.json") return Node{NodeKind::kInfo, parent.prefix};
      if (name == "anchors") return Node{NodeKind::kAnchors, parent.prefix};
      if (name == "committed") {
        // The file of the last commit: each commit's has its own inode.
        PrefixView* prefix = mount.prefix(parent.prefix);
        if (prefix == nullptr) return std::nullopt;
        return Node{NodeKind::kCommitted, parent.prefix, LatestCommitTag(*prefix)};
      }
      return std::nullopt;
    case NodeKind::kPagesDir: {
      std::optional<PageId> id = ParsePageFileName(name);
      if (!id) return std::nullopt;
      return Node{NodeKind::kPage, parent.prefix, *id};
    }
    default: return std::nullopt;
  }
}

struct DirEntry {
  std::string name;
  std::optional<Node> node;  // nullopt for "." and ".."
  fuse_ino_t ino;
  mode_t type;
};

// Entry number index (0-based) of folder dir, or false past the end.
bool EntryAt(Mount& mount, OpenFile& dir, size_t index, DirEntry& out) {
  const Node& node = dir.node;
  if (index == 0 || index == 1) {
    out.name = index == 0 ? "." : "..";
    out.node.reset();
    out.ino = InodeOf(node);
    out.type = S_IFDIR;
    return true;
  }
  index -= 2;
  switch (node.kind) {
    case NodeKind::kRoot:
      if (index == 0) {
        out = {".stats", Node{NodeKind::kStats}, 2, S_IFREG};
      } else if (index == 1) {
        out = {".control", Node{NodeKind::kControl}, 3, S_IFREG};
      } else if (index - 2 < mount.prefix_count()) {
        Node child{NodeKind::kPrefixDir, static_cast<uint32_t>(index - 2)};
        out = {mount.prefix(child.prefix)->name, child, InodeOf(child), S_IFDIR};
      } else {
        return false;
      }
      return true;
    case NodeKind::kPrefixDir: {
      static const char* const kNames[] = {"data", "pages", "info.json", "anchors", "committed"};
      static const NodeKind kKinds[] = {NodeKind::kData, NodeKind::kPagesDir, NodeKind::kInfo,
                                        NodeKind::kAnchors, NodeKind::kCommitted};
      if (index >= 5) return false;
      Node child{kKinds[index], node.prefix};
      if (child.kind == NodeKind::kCommitted) {
        PrefixView* prefix = mount.prefix(node.prefix);
        if (prefix == nullptr) return false;
        child.page = LatestCommitTag(*prefix);
      }
      out = {kNames[index], child, InodeOf(child),
             static_cast<mode_t>(index == 1 ? S_IFDIR : S_IFREG)};
      return true;
    }
    case NodeKind::kPagesDir: {
      if (index >= dir.pages.size()) return false;
      Node child{NodeKind::kPage, node.prefix, dir.pages[index]};
      out = {PageFileName(child.page), child, InodeOf(child), S_IFREG};
      return true;
    }
    default: return false;
  }
}

void ReadDirectory(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    OpenFile& dir = OpenFileOf(fi);
    std::unique_ptr<char[]> buf(new char[size]);
    size_t used = 0;
    DirEntry entry;
    for (size_t index = static_cast<size_t>(off); EntryAt(mount, dir, index, entry); ++index) {
      const off_t next = static_cast<off_t>(index + 1);
      size_t need;
      if (plus) {
        fuse_entry_param e;
        if (entry.node) {
          // A page freed since opendir is left out rather than shown stale.
          if (!EntryFor(mount, *entry.node, e)) continue;
        } else {
          std::memset(&e, 0, sizeof(e));
          e.attr.st_ino = entry.ino;
          e.attr.st_mode = entry.type;
        }
        need = fuse_add_direntry_plus(req, buf.get() + used, size - used, entry.name.c_str(), &e,
                                      next);
      } else {
        struct stat st;
        std::memset(&st, 0, sizeof(st));
        st.st_ino = entry.ino;
        st.st_mode = entry.type;
        need = fuse_add_direntry(req, buf.get() + used, size - used, entry.name.c_str(), &st, next);
      }
      if (need > size - used) break;
      used += need;
    }
    fuse_reply_buf(req, buf.get(), used);
  });
}

}  // namespace

void OpInit(void* /*userdata*/, fuse_conn_info* conn) {
  conn->max_write = kMaxWrite;
  if (conn->capable & FUSE_CAP_READDIRPLUS) {
    conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;  // always plus: ls -l costs no lookups
  }
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  // Writes go to the daemon (through handles opened with direct_io), which
  // invalidates what they change in the kernel's cache itself.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  // Cached pages are dropped only when the daemon says so (kernel_cache.h):
  // auto_inval_data would drop a file's pages whenever its mtime moved, and
  // ask for its attributes at every read after that.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  if (conn->capable & FUSE_CAP_EXPLICIT_INVAL_DATA) conn->want |= FUSE_CAP_EXPLICIT_INVAL_DATA;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> dir = NodeOf(parent);
    if (!dir) return (void)fuse_reply_err(req, ENOENT);
    std::optional<Node> child = ChildOf(mount, *dir, name);
    fuse_entry_param e;
    if (!child || !EntryFor(mount, *child, e)) return (void)fuse_reply_err(req, ENOENT);
    fuse_reply_entry(req, &e);
  });
}

void OpForget(fuse_req_t req, fuse_ino_t /*ino*/, uint64_t /*nlookup*/) {
  fuse_reply_none(req);  // inode numbers are computed: nothing to drop
}

void OpForgetMulti(fuse_req_t req, size_t /*count*/, fuse_forget_data* /*forgets*/) {
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Handle(req, [&] {
    std::optional<Node> node = NodeOf(ino);
    struct stat st;
    if (!node || !StatNode(MountOf(req), *node, st)) return (void)fuse_reply_err(req, ENOENT);
    fuse_reply_attr(req, &st, AttrTimeout(*node));
  });
}

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> node = NodeOf(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    if (node->kind != NodeKind::kRoot && node->kind != NodeKind::kPrefixDir &&
        node->kind != NodeKind::kPagesDir) {
      return (void)fuse_reply_err(req, ENOTDIR);
    }
    auto dir = std::make_unique<OpenFile>();
    dir->node = *node;
    if (node->kind != NodeKind::kRoot) {
      PrefixView* prefix = mount.prefix(node->prefix);
      if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
      if (node->kind == NodeKind::kPagesDir) dir->pages = prefix->flat->AllocatedPages();
    }
    fi->fh = reinterpret_cast<uint64_t>(dir.get());
    if (fuse_reply_open(req, fi) == 0) (void)dir.release();  // owned by fh until releasedir
  });
}

void OpReaddir(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirectory(req, size, off, fi, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirectory(req, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  delete &OpenFileOf(fi);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info* /*fi*/) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> node = NodeOf(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    Invalidations after;
    if (node->kind == NodeKind::kRoot) {
      mount.CommitAll(after);
    } else if (PrefixView* prefix = mount.prefix(node->prefix)) {
      mount.Commit(*prefix, after);
    }
    mount.notifier().QueueThen(std::move(after), [req] { fuse_reply_err(req, 0); });
  });
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t /*mode*/) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> dir = NodeOf(parent);
    if (!dir || dir->kind != NodeKind::kRoot) return (void)fuse_reply_err(req, EPERM);
    Node node{NodeKind::kPrefixDir, mount.AddPrefix(name)};
    fuse_entry_param e;
    if (!EntryFor(mount, node, e)) return (void)fuse_reply_err(req, ENOENT);
    fuse_reply_entry(req, &e);
  });
}

void OpStatfs(fuse_req_t req, fuse_ino_t /*ino*/) {
  Handle(req, [&] {
    struct statvfs st;
    if (::statvfs(MountOf(req).options().root.c_str(), &st) != 0) {
      return (void)fuse_reply_err(req, errno);
    }
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
  });
}

}  // namespace pagefs::fs
