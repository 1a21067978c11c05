#include "fs/client_files.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <mutex>

#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

namespace {

// A writer's changes newer than its last commit are half-done: drop them, as
// a crash of an embedded writer would.
void DropWriterLocked(Mount& mount, PrefixView& prefix) REQUIRES(prefix.role_mu) {
  prefix.writer = nullptr;
  prefix.writer_pid = 0;
  prefix.writer_name.clear();
  if (prefix.store->has_uncommitted_changes()) mount.Rollback(prefix);
}

// The process of thread tid (FUSE names the calling thread, which may end
// before its process does).
pid_t ProcessOf(pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "Tgid:") {
      pid_t pid = 0;
      if (status >> pid && pid > 0) return pid;
      break;
    }
  }
  return tid;
}

void CheckWriter(const PrefixView& prefix, const void* handle, const char* what)
    REQUIRES_SHARED(prefix.role_mu) {
  if (prefix.writer != handle) {
    throw Error(ErrorCode::kNotAllowed, std::string(what) + " of prefix '" + prefix.name +
                                            "' asked without the writer role");
  }
}

}  // namespace

Anchors ClaimWriter(Mount& mount, PrefixView& prefix, const void* handle, pid_t tid,
                    Invalidations& after) {
  if (mount.read_only()) throw Error(ErrorCode::kReadOnly, "the mount is read-only");
  const pid_t pid = ProcessOf(tid);
  ExclusiveLock lock(prefix.role_mu);
  // A writer that died hands its descriptor back only when the kernel gets
  // round to sending RELEASE, which can come after the next writer's open.
  if (prefix.writer != nullptr && ::kill(prefix.writer_pid, 0) != 0 && errno == ESRCH) {
    DropWriterLocked(mount, prefix);
  }
  if (prefix.writer == handle) return prefix.store->volume().committed().anchors;
  if (prefix.writer != nullptr) {
    throw Error(ErrorCode::kBusy,
                "prefix '" + prefix.name + "' has a writer: " + prefix.writer_name);
  }
  // Changes made without the role (tools writing data) are theirs to keep:
  // committed now, so that the writer starts from a commit it can read.
  if (prefix.store->has_uncommitted_changes()) {
    prefix.store->Commit();
    mount.NoteCommit(prefix, after);
  }
  prefix.writer = handle;
  prefix.writer_pid = pid;
  prefix.writer_name = DescribeMountWriter(static_cast<uint64_t>(pid));
  return prefix.store->volume().committed().anchors;
}

void ReleaseWriter(Mount& mount, PrefixView& prefix, const void* handle) {
  ExclusiveLock lock(prefix.role_mu);
  if (prefix.writer != handle) return;
  DropWriterLocked(mount, prefix);
}

ChangeHold::ChangeHold(PrefixView& prefix, const void* handle) : mu_(prefix.role_mu) {
  mu_.LockShared();
  if (prefix.writer != nullptr && prefix.writer != handle) {
    const std::string message = "prefix '" + prefix.name + "' is being written by " +
                                prefix.writer_name + ": only it may change the prefix";
    mu_.UnlockShared();  // no destructor runs for a constructor that throws
    throw Error(ErrorCode::kBusy, message);
  }
}

SpaceInfo DescribeSpace(PrefixView& prefix) {
  SpaceInfo info;
  info.page_size = prefix.page_size;
  {
    std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
    Volume& volume = prefix.store->volume();
    info.epoch = volume.committed().epoch;
    info.page_count = volume.page_count();
  }
  SharedLock role(prefix.role_mu);
  info.writer_pid = prefix.writer != nullptr ? static_cast<uint64_t>(prefix.writer_pid) : 0;
  return info;
}

std::string ReadAnchors(PrefixView& prefix) {
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  const Anchors a = prefix.store->volume().committed().anchors;
  std::string out(kAnchorsBytes, '\0');
  EncodeAnchors(a, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

void WriterCommit(Mount& mount, PrefixView& prefix, const void* handle, const Anchors& anchors,
                  Invalidations& after) {
  SharedLock role(prefix.role_mu);
  CheckWriter(prefix, handle, "commit");
  {
    std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
    prefix.store->space().set_anchors(anchors);
  }
  // No other commit of this prefix runs while it has a writer (Mount::Commit),
  // so the anchors just set are the ones this commit carries.
  prefix.store->Commit();
  mount.NoteCommit(prefix, after);
}

void AllocateIds(PrefixView& prefix, const void* handle, AllocArg& out) {
  SharedLock role(prefix.role_mu);
  CheckWriter(prefix, handle, "page allocation");
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  for (size_t i = 0; i < kAllocBatch; ++i) {
    // Pinned new (zero-filled, dirty) and released at once: stored at the
    // next commit even if the client never writes it.
    PageGuard page = prefix.store->space().Allocate();
    PutLe64(out.ids + 8 * i, page.id());
  }
  prefix.flat->MarkChanged();
}

}  // namespace pagefs::fs
