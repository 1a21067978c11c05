#include "fs/client_files.h"

#include <signal.h>

#include <cerrno>
#include <shared_mutex>

#include "pager/error.h"
#include "pager/volume.h"

namespace pagefs::fs {

namespace {

// REQUIRES prefix.writer_mu. A clean close commits last, so changes newer than
// the last commit are those of a writer that went away without committing:
// drop them, as a crash of an embedded writer would.
void DropWriterLocked(Mount& mount, PrefixView& prefix) {
  prefix.writer = nullptr;
  prefix.writer_pid = 0;
  prefix.writer_name.clear();
  if (prefix.modified_ns.load() > prefix.committed_ns.load()) mount.Rollback(prefix);
}

}  // namespace

void ClaimWriter(Mount& mount, PrefixView& prefix, const void* handle, pid_t pid) {
  if (mount.read_only()) throw Error(ErrorCode::kReadOnly, "the mount is read-only");
  std::lock_guard<std::mutex> lock(prefix.writer_mu);
  // A writer that died hands its descriptor back only when the kernel gets
  // round to sending RELEASE, which can come after the next writer's open.
  if (prefix.writer != nullptr && ::kill(prefix.writer_pid, 0) != 0 && errno == ESRCH) {
    DropWriterLocked(mount, prefix);
  }
  if (prefix.writer != nullptr) {
    throw Error(ErrorCode::kBusy, "prefix '" + prefix.name + "' has a writer: " +
                                      prefix.writer_name);
  }
  prefix.writer = handle;
  prefix.writer_pid = pid;
  prefix.writer_name = "process " + std::to_string(pid) + " through the mount";
}

void ReleaseWriter(Mount& mount, PrefixView& prefix, const void* handle) {
  std::lock_guard<std::mutex> lock(prefix.writer_mu);
  if (prefix.writer != handle) return;
  DropWriterLocked(mount, prefix);
}

std::string ReadAnchors(PrefixView& prefix) {
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  const Anchors a = prefix.store->volume().committed().anchors;
  std::string out(kAnchorsBytes, '\0');
  EncodeAnchors(a, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

void WriteAnchors(PrefixView& prefix, const void* handle, const uint8_t* bytes, size_t size,
                  uint64_t off) {
  {
    std::lock_guard<std::mutex> lock(prefix.writer_mu);
    if (prefix.writer != handle) {
      throw Error::FromErrno(EBADF, "anchors of '" + prefix.name + "' written without the writer role");
    }
  }
  if (off != 0 || size != kAnchorsBytes) {
    throw Error(ErrorCode::kInvalidArgument, "anchors are written whole: 16 bytes at offset 0");
  }
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  prefix.store->space().set_anchors(DecodeAnchors(bytes));
  prefix.modified_ns.store(NowNs());
}

size_t AllocateIds(PrefixView& prefix, size_t size, uint8_t* out) {
  const size_t count = std::min(size / 8, kMaxAllocBatch);
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  for (size_t i = 0; i < count; ++i) {
    // Pinned new (zero-filled, dirty) and released at once: stored at the
    // next commit even if the client never writes it.
    PageGuard page = prefix.store->space().Allocate();
    PutLe64(out + 8 * i, page.id());
  }
  prefix.modified_ns.store(NowNs());
  return count * 8;
}

}  // namespace pagefs::fs
