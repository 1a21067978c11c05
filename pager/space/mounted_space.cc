#include "pager/space/mounted_space.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pager/util/error.h"
#include "pager/util/no_wait.h"
#include "pager/util/read_only_op.h"

namespace pagefs {

SpaceInfo MountedSpace::AskInfo(int fd) const {
  SpaceInfoArg arg;
  if (Request(fd, kIoctlSpaceInfo, &arg) != 0) {
    throw Error::FromErrno(errno, "ask the mount about " + describe_);
  }
  SpaceInfo info;
  if (!DecodeSpaceInfo(arg.bytes, info)) {
    throw Error(ErrorCode::kCorruption,
                "the mount's answer about " + describe_ + " is not a space record");
  }
  return info;
}

MountedSpace::MountedSpace(Env& env, const std::string& dir, const std::string& describe,
                           uint64_t cache_bytes, bool read_only)
    : env_(env), dir_(dir), describe_(describe), read_only_(read_only) {
  try {
    if (!read_only_) {
      // The writer role is this open file's: claimed with a request, given
      // back when it closes.
      data_fd_ = ::open((dir_ + "/data").c_str(), O_RDWR | O_CLOEXEC);
      if (data_fd_ < 0 && errno == EROFS) {
        throw Error(ErrorCode::kReadOnly, describe_ + " is on a read-only mount");
      }
      if (data_fd_ < 0) throw Error::FromErrno(errno, "open " + dir_ + "/data");
      page_size_ = static_cast<uint32_t>(AskInfo(data_fd_).page_size);
      AnchorsArg claimed;
      if (Request(data_fd_, kIoctlClaimWriter, &claimed) != 0) {
        const int err = errno;
        if (err == EBUSY) {
          const uint64_t pid = AskInfo(data_fd_).writer_pid;
          throw Error(ErrorCode::kBusy,
                      describe_ + " is open for writing by " +
                          (pid != 0 ? DescribeMountWriter(pid) : std::string("another client")));
        }
        if (err == EROFS) throw Error(ErrorCode::kReadOnly, describe_ + " is on a read-only mount");
        throw Error::FromErrno(err, "take the writer role of " + describe_);
      }
      anchors_ = DecodeAnchors(claimed.bytes);
    } else {
      // The pages and the anchors of one commit, from the same open file.
      CommittedHeader h;
      data_fd_ = OpenCommitted(h);
      page_size_ = static_cast<uint32_t>(AskInfo(data_fd_).page_size);
      anchors_ = {h.root_map, h.orphan_head};
      epoch_ = h.epoch;
      last_look_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
    }
    if (page_size_ < 4096 || page_size_ > 65536 || (page_size_ & (page_size_ - 1)) != 0) {
      throw Error(ErrorCode::kCorruption, "the mount names no valid page size for " + describe_ +
                                              ": " + std::to_string(page_size_));
    }
    if (!read_only_ && MountCachesData(page_size_, OsPageSize())) {
      // The writer's role is on a direct-I/O open; the pages it reads come
      // from a mapping of a second, cached, read-only open of data. Failing
      // that, it preads.
      map_fd_ = ::open((dir_ + "/data").c_str(), O_RDONLY | O_CLOEXEC);
    }
    backing_ = std::make_unique<MountBacking>(data_fd_, page_size_, MapFd());
    pool_ =
        std::make_unique<BufferPool>(page_size_, std::min(cache_bytes, LocalCacheMax()), *backing_);
  } catch (...) {
    if (map_fd_ >= 0) ::close(map_fd_);
    if (data_fd_ >= 0) ::close(data_fd_);
    throw;
  }
}

uint64_t MountedSpace::LocalCacheMax() const {
  return read_only_ && backing_->mapped() ? kMountedReaderCacheMax : kMountedCacheMax;
}

uint64_t MountedSpace::OsPageSize() { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

int MountedSpace::OpenCommitted(CommittedHeader& header) const {
  const std::string path = dir_ + "/committed";
  // Each commit's file is its own inode: an open that meets an older commit's
  // (a commit landed between the kernel's lookup and the open) fails with
  // ESTALE after the kernel's one retry; the next look finds the newer one.
  int fd;
  for (int attempt = 0;; ++attempt) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != ESTALE || attempt == 100) break;
  }
  if (fd < 0) throw Error::FromErrno(errno, "open " + path);
  uint8_t raw[CommittedHeader::kBytes];
  ssize_t n;
  do {
    n = ::pread(fd, raw, sizeof(raw), 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(raw)) || !DecodeCommittedHeader(raw, header)) {
    const int err = n < 0 ? errno : EIO;
    ::close(fd);
    throw Error::FromErrno(err, "read the commit header of " + path);
  }
  return fd;
}

bool MountedSpace::NewerCommit(bool force) {
  if (!read_only_) return false;
  if (stale_.load()) return true;
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  const int64_t interval = std::chrono::nanoseconds(kFollowInterval).count();
  int64_t last = last_look_ns_.load();
  if (!force && now - last < interval) return false;
  NoWaitScope::Refuse();  // the look reads the file
  // One thread looks per interval.
  if (!last_look_ns_.compare_exchange_strong(last, now) && !force) return false;
  MutexLock lock(mu_);
  uint8_t raw[CommittedHeader::kBytes];
  ssize_t n;
  do {
    n = ::pread(data_fd_, raw, sizeof(raw), 0);
  } while (n < 0 && errno == EINTR);
  CommittedHeader h;
  if (n != static_cast<ssize_t>(sizeof(raw)) || !DecodeCommittedHeader(raw, h)) {
    return true;  // reopening says what is wrong, if anything
  }
  return h.latest_epoch != epoch_;
}

void MountedSpace::FollowCommit() {
  if (!read_only_) return;
  CommittedHeader h;
  const int fd = OpenCommitted(h);
  view_generation_.fetch_add(1, std::memory_order_acq_rel);  // the pages change from here on
  const uint64_t budget = pool_->budget();
  // The pool first: its destructor waits for a background prefetch that
  // reads through the backing.
  pool_.reset();
  backing_.reset();
  MutexLock lock(mu_);
  ::close(data_fd_);
  data_fd_ = fd;
  // The new commit's file is a new inode: mapped anew (the old mapping went
  // with the old backing).
  backing_ = std::make_unique<MountBacking>(data_fd_, page_size_, MapFd());
  pool_ = std::make_unique<BufferPool>(page_size_, budget, *backing_);
  anchors_ = {h.root_map, h.orphan_head};
  epoch_ = h.epoch;
  stale_ = false;
}

MountedSpace::~MountedSpace() {
  pool_.reset();     // dirty pages are dropped: only Commit publishes them
  backing_.reset();  // unmaps
  if (map_fd_ >= 0) ::close(map_fd_);
  // The writer role is given back before this returns, so that the next
  // open (this process's or another's) finds it free; changes not committed
  // are rolled back by the daemon. If the request fails, the close still
  // gives the role back, a moment later.
  if (!read_only_ && data_fd_ >= 0) (void)Request(data_fd_, kIoctlReleaseWriter, nullptr);
  if (data_fd_ >= 0) ::close(data_fd_);
}

void MountedSpace::CheckWritable() const {
  if (read_only_) throw Error(ErrorCode::kReadOnly, describe_ + " is open read-only");
  if (failed_.load()) {
    throw Error(ErrorCode::kFailed, describe_ + " refuses writes after a failed commit; reopen it");
  }
}

PageGuard MountedSpace::Read(PageId id) {
  if (id == kNoPage) throw Error(ErrorCode::kInvalidArgument, "page 0 is no page");
  // A reader takes pages in place from its mapping of one commit, which
  // never changes (mounted_space.h). A thread that must not wait takes only
  // pages it faulted in before (a first touch may be a FUSE request) and
  // asks the cache for the others, which refuses them when it would load.
  if (read_only_) {
    if (const uint8_t* p = InPlace(id)) return PageGuard(nullptr, 0, id, const_cast<uint8_t*>(p));
  } else if (ReadOnlyOpScope::active() && backing_->mapped()) {
    // The writer, in an operation that changes nothing: a page it holds
    // comes from its cache (it may be newer than data's), any other in place
    // (PinOrPlace looks with no write-back in flight, and InPlace refuses a
    // page whose write-back is still pending here).
    return pool_->PinOrPlace(id, [this](PageId p) { return InPlace(p); });
  }
  try {
    return pool_->Pin(id, false);
  } catch (const Error& e) {
    // A commit replaced the one this operation reads: the next operation
    // moves to the newest (the daemon cannot serve this one any more).
    if (e.code() == ErrorCode::kStale) stale_ = true;
    throw;
  }
}

const uint8_t* MountedSpace::InPlace(PageId id) {
  return NoWaitScope::active() ? backing_->ProbedMappedPage(id) : backing_->MappedPage(id);
}

void MountedSpace::CheckChangeAllowed() const {
  CheckWritable();
  ReadOnlyOpScope::RefuseChange(describe_);  // pages read in place would not show it
}

PageGuard MountedSpace::Write(PageId id) {
  CheckChangeAllowed();
  return pool_->Pin(id, true);
}

PageGuard MountedSpace::Allocate() {
  CheckChangeAllowed();
  PageId id = kNoPage;
  {
    MutexLock lock(mu_);
    if (spare_ids_.empty()) {
      AllocArg batch;
      if (Request(data_fd_, kIoctlAllocate, &batch) != 0) {
        throw Error::FromErrno(errno, "allocate pages of " + describe_);
      }
      // Handed out lowest first, as the embedded volume does.
      for (size_t i = kAllocBatch; i-- > 0;) spare_ids_.push_back(GetLe64(batch.ids + 8 * i));
    }
    id = spare_ids_.back();
    spare_ids_.pop_back();
  }
  return pool_->PinNew(id);
}

void MountedSpace::Free(PageId id) {
  CheckChangeAllowed();
  pool_->Discard(id);
  backing_->Flush();  // a combined write still holding the page must not outlive the free
  if (::fallocate(data_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(id * page_size_), page_size_) != 0) {
    throw Error::FromErrno(errno, "free page " + std::to_string(id) + " of " + describe_);
  }
}

void MountedSpace::ReturnUnusedIds() {
  std::vector<PageId> ids;
  {
    MutexLock lock(mu_);
    ids.swap(spare_ids_);
  }
  // One hole punch (a request to the daemon) per run of adjacent ids: a
  // batch is usually one run.
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size();) {
    size_t end = i + 1;
    while (end < ids.size() && ids[end] == ids[end - 1] + 1) ++end;
    if (::fallocate(data_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(ids[i] * page_size_),
                    static_cast<off_t>((end - i) * page_size_)) != 0) {
      throw Error::FromErrno(errno, "give back pages " + std::to_string(ids[i]) + ".." +
                                        std::to_string(ids[end - 1]) + " of " + describe_);
    }
    i = end;
  }
}

void MountedSpace::Flush() {
  CheckWritable();
  try {
    pool_->FlushAll();
  } catch (...) {
    failed_ = true;
    throw;
  }
}

void MountedSpace::Commit() {
  CheckWritable();
  try {
    // Ids of the batch not used yet go back first: a commit holding them would
    // show them as stored pages no collection reaches (pagefs check: a leak),
    // for good if this writer then died.
    ReturnUnusedIds();
    pool_->FlushAll();
    AnchorsArg next;
    EncodeAnchors(anchors(), next.bytes);
    if (Request(data_fd_, kIoctlCommit, &next) != 0) {
      throw Error::FromErrno(errno, "commit " + describe_);
    }
  } catch (...) {
    failed_ = true;
    throw;
  }
}

Anchors MountedSpace::anchors() const {
  MutexLock lock(mu_);
  return anchors_;
}

void MountedSpace::set_anchors(const Anchors& anchors) {
  CheckWritable();
  MutexLock lock(mu_);
  anchors_ = anchors;
}

void MountedSpace::set_cache_size(uint64_t bytes) {
  pool_->SetBudget(std::min(bytes, LocalCacheMax()));
}

uint64_t MountedSpace::epoch() const {
  MutexLock lock(mu_);  // a read-only space replaces data_fd_ under it
  return read_only_ ? epoch_ : AskInfo(data_fd_).epoch;
}

uint64_t MountedSpace::page_count() const {
  MutexLock lock(mu_);
  return AskInfo(data_fd_).page_count;
}

}  // namespace pagefs
