#include "pager/embedded_mode.h"

#include "pager/env/remote_env.h"
#include "pager/tier/remote/remote_tier.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

void CheckPageSize(uint32_t page_size) {
  if (page_size < 4096 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    throw Error(
        ErrorCode::kInvalidArgument,
        "page size must be a power of two from 4096 to 65536, not " + std::to_string(page_size));
  }
}

}  // namespace

EmbeddedMode::EmbeddedMode(Env& env, const std::string& root, const std::string& dir,
                           const std::string& describe, const StoreOptions& options)
    : env_(env),
      dir_(dir),
      describe_(describe),
      read_only_(options.read_only),
      page_size_(options.page_size),
      budget_(options.cache_size) {
  if (!read_only_) {
    CheckPageSize(options.page_size);
    env_.CreateFolders(root);
    // The prefix folder is private: a store holds a program's data.
    env_.CreateFolder(dir_, 0700, "create store folder " + dir_);
    // A damaged folder is refused before anything (the lock file included)
    // is written in it.
    env_.ProbePageSize(dir_, describe_, /*for_writer=*/true);
    lock_ = env_.LockWriter(dir_, describe_);
  }
  OpenVolume();
}

// The pool first: its destructor waits for a background prefetch that reads
// through the volume; the lock last (members in reverse).
EmbeddedMode::~EmbeddedMode() = default;

void EmbeddedMode::OpenVolume() {
  uint32_t page_size = env_.ProbePageSize(dir_, describe_, !read_only_);
  const bool found = page_size != 0;
  if (page_size == 0) page_size = page_size_;
  page_size_ = page_size;
  tier_ = env_.OpenTier(dir_, page_size, read_only_);
  commit_root_ = env_.OpenCommitRoot(dir_, *tier_);
  VolumeOptions vopts;
  vopts.page_size = page_size;
  vopts.read_only = read_only_;
  vopts.create = !read_only_;
  vopts.commit_root = commit_root_.get();
  if (!found) {
    // Formats an empty folder, or refuses a damaged one, before the reader
    // table is created: a refused folder gets no new file.
    Volume probe(*tier_, describe_, vopts);
  }
  if (!readers_) readers_ = env_.OpenReaderTable(dir_, /*writable=*/!read_only_);
  vopts.readers = readers_.get();
  volume_ = std::make_unique<Volume>(*tier_, describe_, vopts);
  pool_ =
      std::make_unique<BufferPool>(page_size, budget_.load(std::memory_order_relaxed), *volume_);
  if (space_) {
    space_->Rebind(*volume_, *pool_);
  } else {
    space_ = std::make_unique<EmbeddedSpace>(*volume_, *pool_);
    if (read_only_) space_->set_follow([this] { FollowNewest(); });
  }
}

void EmbeddedMode::FollowNewest() {
  if (dynamic_cast<RemoteTier*>(tier_.get()) != nullptr) {
    // A remote tier reads the slot map of the commit it loaded: a newer
    // commit gets a tier (and root, volume, pool) of its own. The local
    // cache, keyed by immutable objects, stays warm.
    pool_.reset();
    volume_.reset();
    commit_root_.reset();
    tier_.reset();
    OpenVolume();
    return;
  }
  const uint64_t budget = pool_->budget();
  // The pool first: its destructor waits for a background prefetch that
  // reads through the volume.
  pool_.reset();
  try {
    volume_->FollowNewest();
  } catch (...) {
    pool_ = std::make_unique<BufferPool>(page_size_, budget, *volume_);
    space_->Rebind(*volume_, *pool_);
    throw;
  }
  pool_ = std::make_unique<BufferPool>(page_size_, budget, *volume_);
  space_->Rebind(*volume_, *pool_);
}

void EmbeddedMode::Rollback() {
  // The pool goes first: its dirty pages belong to the changes being dropped.
  pool_.reset();
  volume_.reset();
  commit_root_.reset();
  tier_.reset();
  OpenVolume();
}

bool EmbeddedMode::has_uncommitted_changes() const {
  // The pool counts a page dirty until its write-back has reached the volume,
  // so a page on its way between the two is never missed.
  return pool_->stats().dirty != 0 || volume_->has_uncommitted_changes() ||
         space_->anchors() != volume_->committed().anchors;
}

void EmbeddedMode::Flush() {
  volume_->CheckWritable();
  pool_->FlushAll();
}

void EmbeddedMode::set_cache_size(uint64_t bytes) {
  // Several threads may set it at once: they share the op lock.
  budget_.store(bytes, std::memory_order_relaxed);
  pool_->SetBudget(bytes);
}

GcReport EmbeddedMode::CollectGarbage(const GcOptions& options, const GcProgressFn& progress) {
  auto* remote = dynamic_cast<RemoteEnv*>(&env_);
  auto* tier = dynamic_cast<RemoteTier*>(tier_.get());
  if (remote == nullptr || tier == nullptr) {
    throw Error(ErrorCode::kInvalidArgument,
                describe_ +
                    " is a local store: gc is for remote stores (a local store's commits "
                    "reuse the slots of freed pages)");
  }
  if (read_only_) {
    throw Error(ErrorCode::kReadOnly,
                describe_ +
                    " is open read-only: gc runs from its writer, or on the bucket with "
                    "pagefs gc / pagefs.gc(url, prefix)");
  }
  const GcWriter self{tier->Segments()};
  return CollectRemoteGarbage(remote->client(), options, progress, &self);
}

void EmbeddedMode::FillStats(StoreStats& s) const {
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
  if (auto* remote = dynamic_cast<RemoteEnv*>(&env_)) {
    RemoteEnvStats r = remote->stats();
    s.remote = true;
    s.local_capacity = r.local.capacity;
    s.local_bytes = r.local.bytes;
    s.local_hits = r.local.hits;
    s.local_misses = r.local.misses;
    s.local_evictions = r.local.evictions;
    s.local_bad_blocks = r.local.bad_blocks;
    s.readahead_frames = r.local.ahead;
    s.readahead_hits = r.local.ahead_hits;
    s.readahead_unused = r.local.ahead_unused;
    s.remote_gets = r.bucket.gets;
    s.remote_puts = r.bucket.puts;
    s.remote_heads = r.bucket.heads;
    s.remote_lists = r.bucket.lists;
    s.remote_retries = r.bucket.retries;
    s.remote_bytes_received = r.bucket.bytes_received;
    s.remote_bytes_sent = r.bucket.bytes_sent;
    s.remote_bytes_stored = tier.bytes_on_disk;
    if (auto* rt = dynamic_cast<RemoteTier*>(tier_.get())) {
      s.pending_bytes = rt->remote_stats().pending_bytes;
      s.remote_index_bytes = rt->memory_bytes();
    }
    s.bytes_on_disk = s.local_bytes + s.pending_bytes;
  }
}

}  // namespace pagefs
