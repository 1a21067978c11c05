#include "pager/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pager/cache/buffer_pool.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/space/embedded_space.h"
#include "pager/space/mounted_space.h"
#include "pager/tier/segment_tier.h"
#include "pager/util/error.h"
#include "pager/util/fork_guard.h"
#include "pager/volume/reader_table.h"
#include "pager/volume/superblock.h"
#include "pager/volume/volume.h"

namespace pagefs {

namespace {

constexpr uint32_t kProbeSlot = 4096;

const KindRegistry& KindsOf(const StoreOptions& o) { return o.kinds ? *o.kinds : BuiltinKinds(); }

// The page size of an existing volume folder, read from whichever superblock
// copy is intact; 0 when there is none (an empty or damaged folder).
// Throws Error(kCorruption) for a folder with segment data but no superblock,
// and whatever SegmentTier's scan of the folder finds wrong.
uint32_t ProbePageSize(const std::string& dir, const std::string& describe, bool for_writer) {
  SegmentTier probe(dir, kProbeSlot, kSegmentBytes / kProbeSlot, /*read_only=*/true, for_writer);
  if (probe.size() == 0) return 0;
  std::vector<uint8_t> buf(kProbeSlot);
  for (uint32_t size = 4096; size <= 65536; size *= 2) {
    for (SlotId superblock : {SlotId{0}, SlotId{1}}) {
      probe.Read(superblock * size / kProbeSlot, buf.data());
      std::optional<Superblock> sb = DecodeSuperblockSlot(buf.data());
      if (sb && sb->page_size == size) return size;
    }
  }
  throw Error(ErrorCode::kCorruption, "no valid superblock in " + describe + " (" + dir + "/" +
                                          SegmentTier::SegmentFileName(0) +
                                          "): the store is damaged (nothing was changed)");
}

constexpr long kFuseSuperMagic = 0x65735546;

}  // namespace

bool IsPagefsMount(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0 || fs.f_type != kFuseSuperMagic) return false;
  // Another FUSE file system is not ours: the daemon's .stats says what it is.
  // A failed read of it says nothing, and guessing "a plain folder" would
  // open the store beside the daemon: retry for a while, then say so.
  int err = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt > 0) ::usleep(10000);
    int fd = ::open((path + "/.stats").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      err = errno;
      continue;
    }
    char head[256];
    ssize_t n = ::pread(fd, head, sizeof(head), 0);
    err = n < 0 ? errno : EIO;
    ::close(fd);
    if (n > 0) {
      return std::string(head, static_cast<size_t>(n)).find("\"fs\": \"pagefs\"") !=
             std::string::npos;
    }
  }
  throw Error::FromErrno(err, "read " + path + "/.stats (is the FUSE mount at " + path +
                                  " a healthy pagefs mount?)");
}

void CheckCacheSize(uint64_t bytes) {
  if (bytes < kMinCacheSize) {
    throw Error(ErrorCode::kInvalidArgument,
                "cache size " + std::to_string(bytes) + " is below the engine's floor of " +
                    std::to_string(kMinCacheSize) + " bytes (1 MiB)");
  }
}

void ValidatePrefix(const std::string& prefix) {
  std::string why;
  if (prefix.empty()) {
    why = "it is empty";
  } else if (prefix.size() > 255) {
    why = "it is longer than 255 bytes";
  } else if (prefix == "." || prefix == "..") {
    why = "it names a special folder";
  } else if (prefix.find('/') != std::string::npos) {
    why = "it contains '/'";
  } else if (prefix.find('\0') != std::string::npos) {
    why = "it contains a NUL character";
  } else if (prefix[0] == '.') {
    why = "it starts with '.'";
  }
  if (!why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid prefix '" + prefix + "': " + why);
  }
}

Store::Store(std::string root, std::string prefix, const StoreOptions& options)
    : root_(std::move(root)),
      prefix_(std::move(prefix)),
      options_(options),
      cache_size_(options.cache_size),
      fork_generation_(ForkGeneration()) {}

std::shared_ptr<Store> Store::Open(const std::string& root, const std::string& prefix,
                                   const StoreOptions& options) {
  ValidatePrefix(prefix);
  if (root.empty()) throw Error(ErrorCode::kInvalidArgument, "the store root path is empty");
  std::shared_ptr<Store> store(new Store(root, prefix, options));
  const std::string dir = root + "/" + prefix;
  const std::string describe = "prefix '" + prefix + "' of " + root;
  const bool mounted = IsPagefsMount(root);
  if (options.read_only) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw Error(ErrorCode::kNotFound, "no " + describe + " to open read-only");
    }
  } else if (mounted) {
    // The daemon makes a new prefix (its folder and store) on mkdir.
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      throw Error::FromErrno(errno, "create prefix " + dir + " on the mount");
    }
  } else {
    if (options.page_size < 4096 || options.page_size > 65536 ||
        (options.page_size & (options.page_size - 1)) != 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "page size must be a power of two from 4096 to 65536, not " +
                      std::to_string(options.page_size));
    }
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) throw Error::FromErrno(ec.value(), "create store root " + root);
    // The prefix folder is private: a store holds a program's data.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Error::FromErrno(errno, "create store folder " + dir);
    }
    // A damaged folder is refused before anything (the lock file included)
    // is written in it.
    ProbePageSize(dir, describe, /*for_writer=*/true);
    store->Lock();
  }
  if (mounted) {
    store->mounted_ = std::make_unique<MountedSpace>(dir, describe, options.cache_size,
                                                     options.read_only);
    store->options_.page_size = store->mounted_->page_size();
    store->active_ = store->mounted_.get();
    store->heap_ = std::make_unique<Heap>(*store->mounted_, KindsOf(store->options_));
  } else {
    store->OpenVolume();
  }
  if (!options.read_only) {
    // No process can hold a handle on an orphan left by an earlier one.
    store->heap_->CollectOrphans();
  }
  return store;
}

void Store::OpenVolume() {
  const std::string dir = root_ + "/" + prefix_;
  const std::string describe = "prefix '" + prefix_ + "' of " + root_;
  uint32_t page_size = ProbePageSize(dir, describe, !options_.read_only);
  const bool found = page_size != 0;
  if (page_size == 0) page_size = options_.page_size;
  options_.page_size = page_size;
  tier_ = std::make_unique<SegmentTier>(dir, page_size,
                                        static_cast<uint32_t>(kSegmentBytes / page_size),
                                        options_.read_only);
  VolumeOptions vopts;
  vopts.page_size = page_size;
  vopts.read_only = options_.read_only;
  vopts.create = !options_.read_only;
  if (!found) {
    // Formats an empty folder, or refuses a damaged one, before the reader
    // table is created: a refused folder gets no new file.
    Volume probe(*tier_, describe, vopts);
  }
  if (!readers_) readers_ = ReaderTable::Open(dir, /*writable=*/!options_.read_only);
  vopts.readers = readers_.get();
  volume_ = std::make_unique<Volume>(*tier_, describe, vopts);
  pool_ = std::make_unique<BufferPool>(page_size, cache_size_.load(std::memory_order_relaxed),
                                       *volume_);
  if (space_) {
    space_->Rebind(*volume_, *pool_);
  } else {
    space_ = std::make_unique<EmbeddedSpace>(*volume_, *pool_);
    active_ = space_.get();
    heap_ = std::make_unique<Heap>(*space_, KindsOf(options_));
    if (options_.read_only) space_->set_follow([this] { FollowNewest(); });
  }
}

void Store::FollowNewest() {
  const uint64_t budget = pool_->budget();
  // The pool first: its destructor waits for a background prefetch that
  // reads through the volume.
  pool_.reset();
  try {
    volume_->FollowNewest();
  } catch (...) {
    pool_ = std::make_unique<BufferPool>(options_.page_size, budget, *volume_);
    space_->Rebind(*volume_, *pool_);
    throw;
  }
  pool_ = std::make_unique<BufferPool>(options_.page_size, budget, *volume_);
  space_->Rebind(*volume_, *pool_);
}

void Store::Rollback() {
  CheckOpen();
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  if (mounted_) throw Error(ErrorCode::kInvalidArgument, "a mounted store cannot roll back");
  // The pool goes first: its dirty pages belong to the changes being dropped.
  pool_.reset();
  volume_.reset();
  tier_.reset();
  OpenVolume();
}

bool Store::has_uncommitted_changes() const {
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  if (mounted_) {
    throw Error(ErrorCode::kInvalidArgument, "a mounted store's changes are the daemon's to tell");
  }
  // The pool counts a page dirty until its write-back has reached the volume,
  // so a page on its way between the two is never missed.
  return pool_->stats().dirty != 0 || volume_->has_uncommitted_changes() ||
         space_->anchors() != volume_->committed().anchors;
}

void Store::Lock() {
  const std::string path = root_ + "/" + prefix_ + "/LOCK";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) throw Error::FromErrno(errno, "open lock file " + path);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char holder[32] = {0};
    ssize_t n = ::pread(lock_fd_, holder, sizeof(holder) - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      throw Error(ErrorCode::kBusy, "prefix '" + prefix_ + "' of " + root_ +
                                        " is open for writing by " + who);
    }
    throw Error::FromErrno(err, "lock " + path);
  }
  // A forked child must not keep the flock held once this process closes.
  CloseInChildren(lock_fd_);
  std::string me = "process " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 ||
      ::pwrite(lock_fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock is held; the holder's name is only a courtesy for error messages.
  }
}

void Store::ReleaseLock() {
  if (lock_fd_ < 0) return;
  // In a forked child the fork handler has closed this number already.
  if (!forked()) {
    ForgetInChildren(lock_fd_);
    ::close(lock_fd_);  // releases the flock
  }
  lock_fd_ = -1;
}

Store::~Store() {
  try {
    Close();
  } catch (...) {
    // Close already released everything it could; a destructor cannot report.
  }
  ReleaseLock();  // also after an Open that failed before the heap existed
}

bool Store::forked() const { return fork_generation_ != ForkGeneration(); }

void Store::CheckOpen() const {
  if (heap_ && heap_->forked()) heap_->CheckOpen();  // names both processes
  if (!volume_ && !mounted_) {
    throw Error(ErrorCode::kClosed, "prefix '" + prefix_ + "' of " + root_ + " is closed");
  }
}

Heap& Store::heap() { return *heap_; }

PageSpace& Store::space() {
  CheckOpen();
  return *active_;
}

Volume& Store::volume() {
  CheckOpen();
  if (mounted_) {
    throw Error(ErrorCode::kInvalidArgument,
                "prefix '" + prefix_ + "' of " + root_ + " is a mount's: its volume is the daemon's");
  }
  return *volume_;
}

void Store::Commit() {
  CheckOpen();  // before the lock: a forked child must not wait on it
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  active_->Commit();
}

void Store::Refresh() {
  CheckOpen();
  heap_->FollowCommits(/*force=*/true);
}

void Store::Flush() {
  CheckOpen();
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  if (mounted_) return mounted_->Flush();
  volume_->CheckWritable();
  pool_->FlushAll();
}

bool Store::closed() const { return !volume_ && !mounted_; }

void Store::Close() {
  if (!heap_) return ReleaseLock();  // Open failed part way
  if (forked()) {
    // The child's copy of the parent's store: no commit, no freeing, no
    // lock taken or released, no destructor that could write back a page or
    // join a thread the child does not have. Its memory is left as it is.
    heap_->MarkClosed();
    active_ = nullptr;
    (void)mounted_.release();
    (void)space_.release();
    (void)pool_.release();
    (void)volume_.release();
    (void)tier_.release();
    lock_fd_ = -1;
    return;
  }
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  if (closed()) return;
  std::exception_ptr failure;
  const bool failed = mounted_ ? mounted_->failed() : volume_->failed();
  if (!options_.read_only && !failed) {
    try {
      heap_->CollectOrphans();
      if (mounted_) mounted_->ReturnUnusedIds();
      active_->Commit();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  heap_->MarkClosed();
  active_ = nullptr;
  mounted_.reset();  // closes anchors last: the mount's writer role ends
  space_.reset();
  pool_.reset();
  volume_.reset();
  tier_.reset();
  readers_.reset();
  ReleaseLock();
  if (failure) std::rethrow_exception(failure);
}

void Store::set_cache_size(uint64_t bytes) {
  CheckOpen();
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  // Several threads may set it at once: they share the op lock.
  cache_size_.store(bytes, std::memory_order_relaxed);
  if (mounted_) return mounted_->set_cache_size(bytes);
  pool_->SetBudget(bytes);
}

uint64_t Store::cache_size() const {
  CheckOpen();
  // Through a mount the budget is the daemon's; this process keeps a share.
  if (mounted_) return cache_size_.load(std::memory_order_relaxed);
  return pool_->budget();
}

namespace {

void FillCacheStats(const PoolStats& pool, StoreStats& s) {
  s.cache_budget = pool.budget;
  s.resident_bytes = pool.resident_bytes;
  s.hits = pool.hits;
  s.misses = pool.misses;
  s.evictions = pool.evictions;
  s.dirty_pages = pool.dirty;
  s.pinned_pages = pool.pinned;
}

}  // namespace

StoreStats Store::stats() const {
  CheckOpen();
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  StoreStats s;
  if (mounted_) {
    // The local cache of this process; the daemon's figures are in MOUNT/.stats.
    PoolStats pool = mounted_->pool_stats();
    FillCacheStats(pool, s);
    s.pages = mounted_->page_count();
    s.tier_reads = pool.misses;
    s.tier_writes = pool.writebacks;
    s.epoch = mounted_->epoch();
    s.page_size = mounted_->page_size();
    return s;
  }
  FillCacheStats(pool_->stats(), s);
  TierStats tier = tier_->stats();
  s.pages = volume_->pages_in_use();
  s.bytes_on_disk = tier.bytes_on_disk;
  s.tier_reads = tier.reads;
  s.tier_writes = tier.writes;
  s.epoch = volume_->committed().epoch;
  s.page_size = volume_->page_size();
  VolumeReaderStats readers = volume_->reader_stats();
  s.readers = readers.live;
  s.has_oldest_reader = readers.oldest.has_value();
  s.oldest_reader_epoch = readers.oldest.value_or(0);
  s.held_slots = readers.held_slots;
  return s;
}

}  // namespace pagefs
