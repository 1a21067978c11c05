// File handlers: open/create, read/write, fsync, setattr (truncate),
// fallocate, unlink. data and pages/<id> are opened with direct_io: the
// kernel keeps no copy, so the daemon's budget is the mount's whole cache and
// every read sees the daemon's current page.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "fs/attrs.h"
#include "fs/client_files.h"
#include "fs/control.h"
#include "fs/errno_map.h"
#include "fs/ops.h"
#include "fs/views.h"
#include "pager/util/error.h"

namespace pagefs::fs {

namespace {

// One reply buffer per worker thread, grown to the largest read (1 MiB).
uint8_t* ReadBuffer(size_t size) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

// Pages one read may keep pinned while its reply is sent: a small share of
// the prefix's cache per worker thread, so concurrent reads cannot pin it all.
size_t PinLimit(Mount& mount, PrefixView& prefix) {
  const uint64_t frames = prefix.store->cache_size() / prefix.page_size;
  return static_cast<size_t>(std::clamp<uint64_t>(frames / (4 * mount.options().threads), 0, 256));
}

bool WantsWrite(const fuse_file_info* fi) {
  return (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0;
}

PrefixView* PrefixOf(Mount& mount, const Node& node) { return mount.prefix(node.prefix); }

void NotifyGrew(Mount& mount, const Node& node) {
  mount.notifier().QueueInvalidateAttributes(InodeOf(Node{NodeKind::kData, node.prefix}));
}

void NotifyFreed(Mount& mount, uint32_t prefix, const std::vector<PageId>& ids) {
  const fuse_ino_t pages = InodeOf(Node{NodeKind::kPagesDir, prefix});
  for (PageId id : ids) mount.notifier().QueueInvalidateEntry(pages, PageFileName(id));
}

void OpenNode(fuse_req_t req, const Node& node, fuse_file_info* fi,
              const fuse_entry_param* created) {
  Mount& mount = MountOf(req);
  auto file = std::make_unique<OpenFile>();
  file->node = node;
  file->writable = WantsWrite(fi);
  fi->keep_cache = 0;
  fi->direct_io = 1;
  switch (node.kind) {
    case NodeKind::kRoot:
    case NodeKind::kPrefixDir:
    case NodeKind::kPagesDir: return (void)fuse_reply_err(req, EISDIR);
    case NodeKind::kStats:
      if (WantsWrite(fi)) return (void)fuse_reply_err(req, EACCES);
      file->text = std::make_shared<const std::string>(RenderStats(mount));
      break;
    case NodeKind::kInfo: {
      if (WantsWrite(fi)) return (void)fuse_reply_err(req, EACCES);
      PrefixView* prefix = PrefixOf(mount, node);
      if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
      file->text = std::make_shared<const std::string>(RenderInfo(*prefix));
      break;
    }
    case NodeKind::kControl: file->text = std::make_shared<const std::string>(ControlHelp()); break;
    case NodeKind::kData:
    case NodeKind::kPage:
      if (WantsWrite(fi) && mount.read_only()) return (void)fuse_reply_err(req, EROFS);
      if (PrefixOf(mount, node) == nullptr) return (void)fuse_reply_err(req, ENOENT);
      break;
    case NodeKind::kAnchors: {
      if (WantsWrite(fi)) return (void)fuse_reply_err(req, EACCES);
      PrefixView* prefix = PrefixOf(mount, node);
      if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
      file->text = std::make_shared<const std::string>(ReadAnchors(*prefix));
      break;
    }
    case NodeKind::kCommitted: {
      if (WantsWrite(fi)) return (void)fuse_reply_err(req, EACCES);
      PrefixView* prefix = PrefixOf(mount, node);
      if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
      file->commit = prefix->flat->PinCommitted();
      break;
    }
  }
  fi->fh = reinterpret_cast<uint64_t>(file.get());
  int rc = created ? fuse_reply_create(req, created, fi) : fuse_reply_open(req, fi);
  if (rc == 0) (void)file.release();  // owned by fh until release
}

}  // namespace

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Handle(req, [&] {
    std::optional<Node> node = NodeOf(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    if (node->kind == NodeKind::kPage) {
      PrefixView* prefix = PrefixOf(MountOf(req), *node);
      if (prefix == nullptr || !prefix->flat->PageAllocated(node->page)) {
        return (void)fuse_reply_err(req, ENOENT);
      }
    }
    OpenNode(req, *node, fi, nullptr);
  });
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t /*mode*/,
              fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> dir = NodeOf(parent);
    if (!dir || dir->kind != NodeKind::kPagesDir) return (void)fuse_reply_err(req, EPERM);
    if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
    std::optional<PageId> id = ParsePageFileName(name);
    if (!id) return (void)fuse_reply_err(req, EINVAL);  // only 16-hex-digit page names
    PrefixView* prefix = PrefixOf(mount, *dir);
    if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
    Node node{NodeKind::kPage, dir->prefix, *id};
    if (prefix->flat->PageAllocated(*id)) {
      if (fi->flags & O_EXCL) return (void)fuse_reply_err(req, EEXIST);
    } else {
      ChangeHold role(*prefix, nullptr);
      if (prefix->flat->CreatePage(*id)) NotifyGrew(mount, node);
    }
    fuse_entry_param e;
    if (!EntryFor(mount, node, e)) return (void)fuse_reply_err(req, ENOENT);
    OpenNode(req, node, fi, &e);
  });
}

void OpRead(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    OpenFile& file = OpenFileOf(fi);
    const Node& node = file.node;
    switch (node.kind) {
      case NodeKind::kData: {
        // The reply points into the cache; the pins end after it is sent.
        PrefixView& prefix = *PrefixOf(mount, node);
        FlatView::PinnedRead read;
        prefix.flat->ReadPinned(static_cast<uint64_t>(off), size, PinLimit(mount, prefix),
                                ReadBuffer(size), read);
        return (void)fuse_reply_iov(req, read.iov().data(), static_cast<int>(read.iov().size()));
      }
      case NodeKind::kPage: {
        PrefixView& prefix = *PrefixOf(mount, node);
        const uint64_t ps = prefix.page_size;
        if (static_cast<uint64_t>(off) >= ps) return (void)fuse_reply_buf(req, nullptr, 0);
        size = std::min<size_t>(size, ps - static_cast<uint64_t>(off));
        if (!prefix.flat->PageAllocated(node.page)) return (void)fuse_reply_err(req, ENOENT);
        uint8_t* buf = ReadBuffer(size);
        size_t n = prefix.flat->Read(node.page * ps + static_cast<uint64_t>(off), size, buf);
        return (void)fuse_reply_buf(req, reinterpret_cast<char*>(buf), n);
      }
      case NodeKind::kCommitted: {
        uint8_t* buf = ReadBuffer(size);
        size_t n = PrefixOf(mount, node)
                       ->flat->ReadCommitted(file.commit, static_cast<uint64_t>(off), size, buf);
        return (void)fuse_reply_buf(req, reinterpret_cast<char*>(buf), n);
      }
      case NodeKind::kAnchors: {
        // The last commit's, read afresh: a reader's open may be old.
        const std::string text = ReadAnchors(*PrefixOf(mount, node));
        if (static_cast<uint64_t>(off) >= text.size()) return (void)fuse_reply_buf(req, nullptr, 0);
        size_t n = std::min<size_t>(size, text.size() - static_cast<size_t>(off));
        return (void)fuse_reply_buf(req, text.data() + off, n);
      }
      default: {
        const std::shared_ptr<const std::string> keep = file.text;
        const std::string& text = *keep;
        if (static_cast<uint64_t>(off) >= text.size()) return (void)fuse_reply_buf(req, nullptr, 0);
        size_t n = std::min<size_t>(size, text.size() - static_cast<size_t>(off));
        return (void)fuse_reply_buf(req, text.data() + off, n);
      }
    }
  });
}

void OpWrite(fuse_req_t req, fuse_ino_t /*ino*/, const char* buf, size_t size, off_t off,
             fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    OpenFile& file = OpenFileOf(fi);
    const Node& node = file.node;
    const auto* bytes = reinterpret_cast<const uint8_t*>(buf);
    switch (node.kind) {
      case NodeKind::kControl:
        RunControl(mount, std::string_view(buf, size));
        return (void)fuse_reply_write(req, size);
      case NodeKind::kData: {
        if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
        PrefixView& prefix = *PrefixOf(mount, node);
        ChangeHold role(prefix, &file);
        FlatView::WriteResult r = prefix.flat->Write(static_cast<uint64_t>(off), bytes, size);
        if (r.grew) NotifyGrew(mount, node);
        return (void)fuse_reply_write(req, r.bytes);
      }
      case NodeKind::kPage: {
        if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
        PrefixView& prefix = *PrefixOf(mount, node);
        const uint64_t ps = prefix.page_size;
        if (static_cast<uint64_t>(off) >= ps) return (void)fuse_reply_err(req, EFBIG);
        size = std::min<size_t>(size, ps - static_cast<uint64_t>(off));
        ChangeHold role(prefix, &file);
        if (!prefix.flat->PageAllocated(node.page)) return (void)fuse_reply_err(req, ENOENT);
        FlatView::WriteResult r =
            prefix.flat->Write(node.page * ps + static_cast<uint64_t>(off), bytes, size);
        return (void)fuse_reply_write(req, r.bytes);
      }
      default: return (void)fuse_reply_err(req, EACCES);
    }
  });
}

void OpFlush(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* /*fi*/) {
  fuse_reply_err(req, 0);  // close is not a commit; fsync is
}

void OpFsync(fuse_req_t req, fuse_ino_t /*ino*/, int /*datasync*/, fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    const Node& node = OpenFileOf(fi).node;
    if (node.kind == NodeKind::kData || node.kind == NodeKind::kPage) {
      // Nothing when a client holds the writer role: every write this handle
      // could make is committed already (the others are refused), and the
      // writer's half-done change is not this fsync's to commit.
      mount.Commit(*PrefixOf(mount, node));
    } else if (node.kind == NodeKind::kControl) {
      mount.CommitAll();
    }
    fuse_reply_err(req, 0);
  });
}

void OpRelease(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  OpenFile* file = &OpenFileOf(fi);
  if (file->node.kind == NodeKind::kData) {
    Mount& mount = MountOf(req);
    try {
      if (PrefixView* prefix = PrefixOf(mount, file->node)) ReleaseWriter(mount, *prefix, file);
    } catch (...) {
      ErrnoForCurrentException();  // logged; the handle goes regardless
    }
  }
  delete file;
  fuse_reply_err(req, 0);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> node = NodeOf(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
      return (void)fuse_reply_err(req, EPERM);  // modes and owners are the view's
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
      const uint64_t size = static_cast<uint64_t>(attr->st_size);
      switch (node->kind) {
        case NodeKind::kControl: break;  // `echo cmd > .control` truncates first: nothing to do
        case NodeKind::kData: {
          if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
          PrefixView& prefix = *PrefixOf(mount, *node);
          ChangeHold role(prefix, fi != nullptr ? &OpenFileOf(fi) : nullptr);
          if (size != prefix.flat->bytes() && prefix.flat->Resize(size)) NotifyGrew(mount, *node);
          break;
        }
        case NodeKind::kPage: {
          if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
          PrefixView& prefix = *PrefixOf(mount, *node);
          if (size > prefix.page_size) return (void)fuse_reply_err(req, EFBIG);
          ChangeHold role(prefix, fi != nullptr ? &OpenFileOf(fi) : nullptr);
          // A page file is always one page long: truncating zeroes its tail.
          prefix.flat->ZeroPageTail(node->page, static_cast<uint32_t>(size));
          break;
        }
        case NodeKind::kStats:
        case NodeKind::kInfo: return (void)fuse_reply_err(req, EACCES);
        default: return (void)fuse_reply_err(req, EISDIR);
      }
    }
    // Times (touch) are accepted and not stored: they follow writes and commits.
    struct stat st;
    if (!StatNode(mount, *node, st)) return (void)fuse_reply_err(req, ENOENT);
    fuse_reply_attr(req, &st, AttrTimeout(*node));
  });
}

void OpFallocate(fuse_req_t req, fuse_ino_t /*ino*/, int mode, off_t off, off_t len,
                 fuse_file_info* fi) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    OpenFile& file = OpenFileOf(fi);
    const Node& node = file.node;
    if (node.kind != NodeKind::kData) return (void)fuse_reply_err(req, EOPNOTSUPP);
    if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
    if (off < 0 || len <= 0) return (void)fuse_reply_err(req, EINVAL);
    PrefixView& prefix = *PrefixOf(mount, node);
    ChangeHold role(prefix, &file);
    const auto start = static_cast<uint64_t>(off);
    const auto length = static_cast<uint64_t>(len);
    if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
      NotifyFreed(mount, node.prefix, prefix.flat->Punch(start, length));
    } else if (mode == 0) {
      if (prefix.flat->Allocate(start, length)) NotifyGrew(mount, node);
    } else if (mode == FALLOC_FL_KEEP_SIZE) {
      prefix.flat->Allocate(start, length, /*keep_size=*/true);
    } else {
      return (void)fuse_reply_err(req, EOPNOTSUPP);
    }
    fuse_reply_err(req, 0);
  });
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    std::optional<Node> dir = NodeOf(parent);
    if (!dir || dir->kind != NodeKind::kPagesDir) return (void)fuse_reply_err(req, EPERM);
    if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
    std::optional<PageId> id = ParsePageFileName(name);
    PrefixView* prefix = PrefixOf(mount, *dir);
    if (!id || prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
    ChangeHold role(*prefix, nullptr);
    prefix->flat->FreePage(*id);  // the page's id becomes free; data reads zeros there
    fuse_reply_err(req, 0);
  });
}

void OpIoctl(fuse_req_t req, fuse_ino_t /*ino*/, unsigned int cmd, void* /*arg*/,
             fuse_file_info* fi, unsigned /*flags*/, const void* in_buf, size_t in_bufsz,
             size_t out_bufsz) {
  Handle(req, [&] {
    Mount& mount = MountOf(req);
    OpenFile& file = OpenFileOf(fi);
    if (cmd == kIoctlSpaceInfo &&
        (file.node.kind == NodeKind::kData || file.node.kind == NodeKind::kCommitted)) {
      if (out_bufsz < sizeof(SpaceInfoArg)) return (void)fuse_reply_err(req, EINVAL);
      SpaceInfoArg out;
      EncodeSpaceInfo(DescribeSpace(*PrefixOf(mount, file.node)), out.bytes);
      return (void)fuse_reply_ioctl(req, 0, &out, sizeof(out));
    }
    if (file.node.kind != NodeKind::kData) return (void)fuse_reply_err(req, ENOTTY);
    if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
    if (!file.writable) return (void)fuse_reply_err(req, EBADF);
    PrefixView& prefix = *PrefixOf(mount, file.node);
    switch (cmd) {
      case kIoctlClaimWriter: {
        if (out_bufsz < sizeof(AnchorsArg)) return (void)fuse_reply_err(req, EINVAL);
        AnchorsArg out;
        EncodeAnchors(ClaimWriter(mount, prefix, &file, fuse_req_ctx(req)->pid), out.bytes);
        return (void)fuse_reply_ioctl(req, 0, &out, sizeof(out));
      }
      case kIoctlAllocate: {
        if (out_bufsz < sizeof(AllocArg)) return (void)fuse_reply_err(req, EINVAL);
        AllocArg out;
        AllocateIds(prefix, &file, out);
        NotifyGrew(mount, file.node);
        return (void)fuse_reply_ioctl(req, 0, &out, sizeof(out));
      }
      case kIoctlCommit: {
        if (in_bufsz < sizeof(AnchorsArg)) return (void)fuse_reply_err(req, EINVAL);
        WriterCommit(prefix, &file, DecodeAnchors(static_cast<const uint8_t*>(in_buf)));
        return (void)fuse_reply_ioctl(req, 0, nullptr, 0);
      }
      default: return (void)fuse_reply_err(req, ENOTTY);
    }
  });
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.readdirplus = OpReaddirplus;
  ops.releasedir = OpReleasedir;
  ops.fsyncdir = OpFsyncdir;
  ops.statfs = OpStatfs;
  ops.open = OpOpen;
  ops.create = OpCreate;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.fsync = OpFsync;
  ops.release = OpRelease;
  ops.fallocate = OpFallocate;
  ops.unlink = OpUnlink;
  ops.mkdir = OpMkdir;
  ops.ioctl = OpIoctl;
  return ops;
}

}  // namespace pagefs::fs
