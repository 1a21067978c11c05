// The FUSE low-level handler table. Each handler translates one request into
// calls on the Mount (mount_state.h, pager/space/flat_view.h, views.h, control.h) and
// replies once; errors become errno in errno_map.cc. Handlers keep no state
// of their own beyond the per-open OpenFile.
#pragma once

#include <fuse_lowlevel.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/inodes.h"
#include "fs/mount_state.h"
#include "pager/volume/superblock.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

// What an open file or folder handle (fuse_file_info::fh) holds.
struct OpenFile {
  Node node;
  bool writable = false;  // opened for writing (ioctl requests carry no open flags)
  bool cached = false;    // served through the kernel's page cache (kernel_cache.h)
  // .stats / info.json / .control: rendered at open. Shared so that a read
  // keeps it alive through its reply even if RELEASE runs on another thread
  // as soon as the kernel has the bytes.
  std::shared_ptr<const std::string> text;
  std::vector<PageId> pages;  // pages/: the ids at opendir, listed in order
  CommitPin commit;           // committed: the commit this handle reads (pinned at open)
};

inline Mount& MountOf(fuse_req_t req) { return *static_cast<Mount*>(fuse_req_userdata(req)); }
// FUSE carries our pointer in the uint64_t fh.
inline OpenFile& OpenFileOf(fuse_file_info* fi) {
  return *reinterpret_cast<OpenFile*>(fi->fh);  // NOLINT(performance-no-int-to-ptr)
}

// Folder and metadata handlers (ops_dir.cc).
void OpInit(void* userdata, fuse_conn_info* conn);
void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReleasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void OpStatfs(fuse_req_t req, fuse_ino_t ino);
// A new prefix: ROOT/name and its store (mkdir in the mount's root).
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);

// File handlers (ops_file.cc).
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi);
void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                 fuse_file_info* fi);
void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name);
// The writer's requests on data (pager/space/mount_protocol.h: claim, allocate, commit).
void OpIoctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi,
             unsigned flags, const void* in_buf, size_t in_bufsz, size_t out_bufsz);

fuse_lowlevel_ops MakeOperations();

}  // namespace pagefs::fs
