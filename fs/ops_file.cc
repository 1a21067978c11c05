// File handlers: open/create, read/write, fsync, setattr (truncate),
// fallocate, unlink. Read-only opens of data, pages/<id> and committed use
// the kernel's page cache (keep_cache; the daemon counts and evicts what it
// served, kernel_cache.h); opens for writing use direct_io, so every write
// reaches the daemon and no handler holds a kernel page lock. A change is
// answered only once the kernel dropped the cached pages it made stale
// (Notifier::QueueThen), so no process reads a stale page after it.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
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

// The names of freed page files, which the kernel may have cached.
void FreedNames(uint32_t prefix, const std::vector<PageId>& ids, Invalidations& after) {
  const fuse_ino_t pages = InodeOf(Node{NodeKind::kPagesDir, prefix});
  for (PageId id : ids) after.push_back({pages, -1, 0, PageFileName(id)});
}

// Sends reply once the kernel has dropped what after names.
template <class Reply>
void ReplyAfter(Mount& mount, Invalidations after, Reply reply) {
  mount.notifier().QueueThen(std::move(after), std::function<void()>(std::move(reply)));
}

void ReplyErrAfter(Mount& mount, fuse_req_t req, Invalidations after) {
  ReplyAfter(mount, std::move(after), [req] { fuse_reply_err(req, 0); });
}

void OpenNode(fuse_req_t req, const Node& node, fuse_file_info* fi,
              const fuse_entry_param* created) {
  Mount& mount = MountOf(req);
  auto file = std::make_unique<OpenFile>();
  file->node = node;
  file->writable = WantsWrite(fi);
  // Generated files are rendered per open: never cached.
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
    case NodeKind::kPage: {
      if (WantsWrite(fi) && mount.read_only()) return (void)fuse_reply_err(req, EROFS);
      PrefixView* prefix = PrefixOf(mount, node);
      if (prefix == nullptr) return (void)fuse_reply_err(req, ENOENT);
      // What other opens cached stays (the daemon invalidates what changes).
      fi->keep_cache = 1;
      file->cached = !WantsWrite(fi) && (fi->flags & O_DIRECT) == 0 && mount.CachesFiles(*prefix);
      fi->direct_io = file->cached ? 0 : 1;
      break;
    }
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
      // An open is bound to the last commit, and this inode is one commit's:
      // an older one's is stale (the kernel looks the name up again and
      // retries once; a client retries further).
      if (!mount.OpenCommitted(*prefix, node.page, file->commit)) {
        return (void)fuse_reply_err(req, ESTALE);
      }
      // One commit's pages never change: always cached.
      fi->keep_cache = 1;
      fi->direct_io = (fi->flags & O_DIRECT) != 0 ? 1 : 0;
      file->cached = fi->direct_io == 0;
      break;
    }
  }
  fi->fh = reinterpret_cast<uint64_t>(file.get());
  int rc = created ? fuse_reply_create(req, created, fi) : fuse_reply_open(req, fi);
  if (rc == 0) {
    (void)file.release();  // owned by fh until release
  } else if (node.kind == NodeKind::kCommitted) {
    mount.ReleaseCommitted(*PrefixOf(mount, node), node.page);
  }
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
    Invalidations after;  // a new page reads as zeros, as before: only data's size
    if (prefix->flat->PageAllocated(*id)) {
      if (fi->flags & O_EXCL) return (void)fuse_reply_err(req, EEXIST);
    } else {
      ChangeHold role(*prefix, nullptr);
      mount.Changed(*prefix, 0, 0, prefix->flat->CreatePage(*id), after);
    }
    fuse_entry_param e;
    if (!EntryFor(mount, node, e)) return (void)fuse_reply_err(req, ENOENT);
    // OpenNode fills a copy of fi: the request's may be gone once this returns.
    ReplyAfter(mount, std::move(after), [req, node, e, open = *fi]() mutable {
      Handle(req, [&] { OpenNode(req, node, &open, &e); });
    });
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
        // Counted before the engine is read (kernel_cache.h).
        if (file.cached) mount.Served(InodeOf(node), static_cast<uint64_t>(off), size);
        FlatView::PinnedRead read;
        // To the kernel's page cache a short read is the end of the file
        // (it would shrink the file's size there): a failed page fails it all.
        prefix.flat->ReadPinned(static_cast<uint64_t>(off), size, PinLimit(mount, prefix),
                                ReadBuffer(size), read, file.cached);
        return (void)fuse_reply_iov(req, read.iov().data(), static_cast<int>(read.iov().size()));
      }
      case NodeKind::kPage: {
        PrefixView& prefix = *PrefixOf(mount, node);
        const uint64_t ps = prefix.page_size;
        if (static_cast<uint64_t>(off) >= ps) return (void)fuse_reply_buf(req, nullptr, 0);
        size = std::min<size_t>(size, ps - static_cast<uint64_t>(off));
        if (file.cached) mount.Served(InodeOf(node), static_cast<uint64_t>(off), size);
        if (!prefix.flat->PageAllocated(node.page)) return (void)fuse_reply_err(req, ENOENT);
        uint8_t* buf = ReadBuffer(size);
        size_t n = prefix.flat->Read(node.page * ps + static_cast<uint64_t>(off), size, buf);
        return (void)fuse_reply_buf(req, reinterpret_cast<char*>(buf), n);
      }
      case NodeKind::kCommitted: {
        if (file.cached) mount.Served(InodeOf(node), static_cast<uint64_t>(off), size);
        uint8_t* buf = ReadBuffer(size);
        size_t n = PrefixOf(mount, node)
                       ->flat->ReadCommitted(file.commit, static_cast<uint64_t>(off), size, buf,
                                             file.cached);  // as for data
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
      case NodeKind::kControl: {
        Invalidations after;
        RunControl(mount, std::string_view(buf, size), after);
        return ReplyAfter(mount, std::move(after), [req, size] { fuse_reply_write(req, size); });
      }
      case NodeKind::kData: {
        if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
        PrefixView& prefix = *PrefixOf(mount, node);
        Invalidations after;
        size_t n;
        {
          ChangeHold role(prefix, &file);
          FlatView::WriteResult r = prefix.flat->Write(static_cast<uint64_t>(off), bytes, size);
          n = r.bytes;
          mount.Changed(prefix, static_cast<uint64_t>(off), n, r.grew, after);
        }
        return ReplyAfter(mount, std::move(after), [req, n] { fuse_reply_write(req, n); });
      }
      case NodeKind::kPage: {
        if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
        PrefixView& prefix = *PrefixOf(mount, node);
        const uint64_t ps = prefix.page_size;
        if (static_cast<uint64_t>(off) >= ps) return (void)fuse_reply_err(req, EFBIG);
        size = std::min<size_t>(size, ps - static_cast<uint64_t>(off));
        Invalidations after;
        size_t n;
        {
          ChangeHold role(prefix, &file);
          if (!prefix.flat->PageAllocated(node.page)) return (void)fuse_reply_err(req, ENOENT);
          const uint64_t at = node.page * ps + static_cast<uint64_t>(off);
          n = prefix.flat->Write(at, bytes, size).bytes;
          mount.Changed(prefix, at, n, false, after);
        }
        return ReplyAfter(mount, std::move(after), [req, n] { fuse_reply_write(req, n); });
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
    Invalidations after;
    if (node.kind == NodeKind::kData || node.kind == NodeKind::kPage) {
      // Nothing when a client holds the writer role: every write this handle
      // could make is committed already (the others are refused), and the
      // writer's half-done change is not this fsync's to commit.
      mount.Commit(*PrefixOf(mount, node), after);
    } else if (node.kind == NodeKind::kControl) {
      mount.CommitAll(after);
    }
    ReplyErrAfter(mount, req, std::move(after));
  });
}

void OpRelease(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  OpenFile* file = &OpenFileOf(fi);
  Mount& mount = MountOf(req);
  if (file->node.kind == NodeKind::kData) {
    try {
      if (PrefixView* prefix = PrefixOf(mount, file->node)) ReleaseWriter(mount, *prefix, file);
    } catch (...) {
      ErrnoForCurrentException();  // logged; the handle goes regardless
    }
  } else if (file->node.kind == NodeKind::kCommitted) {
    if (PrefixView* prefix = PrefixOf(mount, file->node)) {
      mount.ReleaseCommitted(*prefix, file->node.page);
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
    Invalidations after;
    if (to_set & FUSE_SET_ATTR_SIZE) {
      const uint64_t size = static_cast<uint64_t>(attr->st_size);
      switch (node->kind) {
        case NodeKind::kControl: break;  // `echo cmd > .control` truncates first: nothing to do
        case NodeKind::kData: {
          if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
          PrefixView& prefix = *PrefixOf(mount, *node);
          ChangeHold role(prefix, fi != nullptr ? &OpenFileOf(fi) : nullptr);
          // Growing adds pages that read as zeros: only the size changes.
          const bool grew = size != prefix.flat->bytes() && prefix.flat->Resize(size);
          mount.Changed(prefix, 0, 0, grew, after);
          break;
        }
        case NodeKind::kPage: {
          if (mount.read_only()) return (void)fuse_reply_err(req, EROFS);
          PrefixView& prefix = *PrefixOf(mount, *node);
          if (size > prefix.page_size) return (void)fuse_reply_err(req, EFBIG);
          ChangeHold role(prefix, fi != nullptr ? &OpenFileOf(fi) : nullptr);
          // A page file is always one page long: truncating zeroes its tail.
          prefix.flat->ZeroPageTail(node->page, static_cast<uint32_t>(size));
          mount.Changed(prefix, node->page * prefix.page_size + size, prefix.page_size - size,
                        false, after);
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
    ReplyAfter(mount, std::move(after),
               [req, st, timeout = AttrTimeout(*node)] { fuse_reply_attr(req, &st, timeout); });
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
    const auto start = static_cast<uint64_t>(off);
    const auto length = static_cast<uint64_t>(len);
    Invalidations after;
    {
      ChangeHold role(prefix, &file);
      if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
        FreedNames(node.prefix, prefix.flat->Punch(start, length), after);
        mount.Changed(prefix, start, length, false, after);
      } else if (mode == 0) {
        // New pages read as zeros, as before: only the size changes.
        mount.Changed(prefix, 0, 0, prefix.flat->Allocate(start, length), after);
      } else if (mode == FALLOC_FL_KEEP_SIZE) {
        prefix.flat->Allocate(start, length, /*keep_size=*/true);
      } else {
        return (void)fuse_reply_err(req, EOPNOTSUPP);
      }
    }
    ReplyErrAfter(mount, req, std::move(after));
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
    Invalidations after;
    {
      ChangeHold role(*prefix, nullptr);
      prefix->flat->FreePage(*id);  // the page's id becomes free; data reads zeros there
      mount.Changed(*prefix, *id * prefix->page_size, prefix->page_size, false, after);
    }
    ReplyErrAfter(mount, req, std::move(after));
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
        Invalidations after;
        EncodeAnchors(ClaimWriter(mount, prefix, &file, fuse_req_ctx(req)->pid, after), out.bytes);
        return ReplyAfter(mount, std::move(after),
                          [req, out] { fuse_reply_ioctl(req, 0, &out, sizeof(out)); });
      }
      case kIoctlAllocate: {
        if (out_bufsz < sizeof(AllocArg)) return (void)fuse_reply_err(req, EINVAL);
        AllocArg out;
        AllocateIds(prefix, &file, out);
        // The new pages read as zeros, as their free ids did: only the size.
        Invalidations after;
        mount.Changed(prefix, 0, 0, true, after);
        return ReplyAfter(mount, std::move(after),
                          [req, out] { fuse_reply_ioctl(req, 0, &out, sizeof(out)); });
      }
      case kIoctlCommit: {
        if (in_bufsz < sizeof(AnchorsArg)) return (void)fuse_reply_err(req, EINVAL);
        Invalidations after;
        WriterCommit(mount, prefix, &file, DecodeAnchors(static_cast<const uint8_t*>(in_buf)),
                     after);
        return ReplyAfter(mount, std::move(after), [req] { fuse_reply_ioctl(req, 0, nullptr, 0); });
      }
      case kIoctlReleaseWriter:
        ReleaseWriter(mount, prefix, &file);
        return (void)fuse_reply_ioctl(req, 0, nullptr, 0);
      default: return (void)fuse_reply_err(req, ENOTTY);
    }
  });
}

namespace {

// The view's names are the store's: nothing is renamed, no folder removed,
// no link or special file made. Refused as chmod and ln are (EPERM), not
// left to the kernel's ENOSYS ("Function not implemented").
void OpRename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) {
  fuse_reply_err(req, EPERM);
}
void OpRmdir(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
void OpSymlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
void OpMknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EPERM); }
void OpLink(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }

}  // namespace

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
  ops.rename = OpRename;
  ops.rmdir = OpRmdir;
  ops.symlink = OpSymlink;
  ops.mknod = OpMknod;
  ops.link = OpLink;
  ops.ioctl = OpIoctl;
  return ops;
}

}  // namespace pagefs::fs
