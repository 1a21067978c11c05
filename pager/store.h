// Store: one open prefix of a pagefs root folder, ROOT/PREFIX. It owns, through
// its mode, the Volume (page table, segments, commits) and the BufferPool that
// holds the cache budget, and the Heap of collections on top. This is what the Python package
// and the tools open; collections reach pages only through space().
//
// One writer per prefix: a read-write Store holds an exclusive lock on
// ROOT/PREFIX/LOCK for its lifetime; a second writer gets Error(kBusy) naming
// the holder's pid. Read-only stores take no lock: each holds a slot of
// ROOT/PREFIX/readers (ReaderTable, docs/readers.md) with the commit it reads,
// so the writer keeps that commit's pages; it follows newer commits at the
// start of an operation (at most every kFollowInterval) and on Refresh.
//
// Through a mount: when ROOT is a pagefs mount (statfs says FUSE and
// ROOT/.stats names pagefs), Open works on the mount's files instead
// (MountedSpace): the daemon holds the Volume, the commit and the cache budget,
// this process a small cache (at most kMountedCacheMax of cache_size). The
// writer role is then the mount's (Error(kBusy) naming the holder); the page
// size is the daemon's; volume() is not available.
//
// Remote: with StoreOptions::remote (s3://BUCKET[/PREFIX]) the store's
// commits live in the bucket (RemoteEnv, env/remote_env.h): a commit returns
// once it is durable there, and ROOT/PREFIX holds only the writer lock, a
// bounded cache of fetched pages (local_cache_size) and pages not yet
// uploaded, so a store opens from the bucket alone on an empty root.
//
// The Store is the composition root: it picks the Env (StoreOptions::env,
// PosixEnv by default, wrapped in a RemoteEnv for a remote store), through
// which every file, lock and tier is made, and
// the mode (store_mode.h) that holds what differs between the two homes:
// EmbeddedMode or, on a mount, MountedMode.
//
// Thread safety: every method is safe from any thread. Commit and Close take
// the heap's op lock exclusively, so they wait for running operations.
//
// Fork: a child forked while the store is open gets Error(kClosed) saying so
// from every operation (fork_guard.h), before any lock is taken; it never
// writes, commits, frees or unlocks the parent's store, and its copy of the
// writer lock is closed at the fork. Close in the child only drops the
// child's copy (it never touches a file). The child opens the store again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"
#include "pager/env/posix_env.h"
#include "pager/remote_gc.h"
#include "pager/space/page_space.h"

namespace pagefs {

struct StoreOptions {
  uint64_t cache_size = 64ull << 20;  // bytes of RAM the engine may hold
  bool read_only = false;
  uint32_t page_size = 4096;  // for new stores only: 4096..65536, a power of two
  Env* env = nullptr;         // what opens files, locks and tiers; none: Env::Default()
  // The collection kinds the heap knows (outliving the store); nullptr:
  // BuiltinKinds(). Tests register more.
  const KindRegistry* kinds = nullptr;
  // s3://BUCKET[/PREFIX]: the store lives in that bucket, under
  // PREFIX/<prefix>/, with the AWS settings of the environment
  // (tier/remote/s3_config.h); empty: a local store.
  std::string remote;
  // Bytes of local disk the cache of fetched pages may hold (remote stores).
  uint64_t local_cache_size = 256ull << 20;
};

struct StoreStats {
  uint64_t cache_budget = 0;
  uint64_t resident_bytes = 0;  // page frames + page table + metadata, all counted in the budget
  uint64_t page_bytes = 0;      // the page frames' part of resident_bytes
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t dirty_pages = 0;
  uint64_t pinned_pages = 0;
  uint64_t pages = 0;  // logical pages in use
  uint64_t bytes_on_disk = 0;
  uint64_t tier_reads = 0;
  uint64_t tier_writes = 0;
  uint64_t epoch = 0;  // number of the last commit
  uint32_t page_size = 0;
  // Readers of the prefix (read-only processes, and pins of the mount
  // daemon), the oldest commit one of them reads (has_oldest_reader false:
  // none), and the slots a writer keeps back for them.
  uint64_t readers = 0;
  bool has_oldest_reader = false;
  uint64_t oldest_reader_epoch = 0;
  uint64_t held_slots = 0;
  // Remote stores only (remote true): the local cache of fetched pages, the
  // pages waiting on local disk for the next commit, and the bucket's traffic.
  bool remote = false;
  uint64_t local_capacity = 0, local_bytes = 0, local_hits = 0, local_misses = 0;
  uint64_t local_evictions = 0, local_bad_blocks = 0;
  // Pages the scan readahead fetched into the local cache, those read from
  // it since, and those dropped unread (tier/remote/remote_tier.h).
  uint64_t readahead_frames = 0, readahead_hits = 0, readahead_unused = 0;
  uint64_t pending_bytes = 0;
  // RAM the remote tier keeps for its slot map and indexes, inside
  // resident_bytes (Tier::memory_bytes).
  uint64_t remote_index_bytes = 0;
  uint64_t remote_gets = 0, remote_puts = 0, remote_heads = 0, remote_lists = 0;
  uint64_t remote_retries = 0, remote_bytes_received = 0, remote_bytes_sent = 0;
  uint64_t remote_bytes_stored = 0;  // compressed bytes of the slots the store references
};

class Volume;
class StoreMode;

// The smallest cache budget the engine holds: below it, its fixed needs (the
// minimum of frames a tree operation pins, the cache's tables) alone pass the
// budget. CheckCacheSize throws Error(kInvalidArgument) naming it for a
// smaller one; the Python package checks every budget a user gives to an
// embedded store (the mount's daemon splits its own budget and keeps whatever
// share it gets; a process through a mount keeps only a small local cache).
inline constexpr uint64_t kMinCacheSize = 1ull << 20;
void CheckCacheSize(uint64_t bytes);

// Throws Error(kInvalidArgument) unless prefix can name a folder of a root:
// not empty, at most 255 bytes, no '/', no NUL, not "." or "..".
void ValidatePrefix(const std::string& prefix);

class Store {
 public:
  // Opens ROOT/PREFIX, creating the folders on first use (not when read-only).
  // Errors: kInvalidArgument for a bad prefix ("/", "..", empty, too long) or
  // page size; kIo/kNoSpace when the root cannot be created or written;
  // kNotFound for a read-only open of a prefix that does not exist; kBusy when
  // another writer holds the prefix; kCorruption when no valid superblock exists.
  static std::shared_ptr<Store> Open(const std::string& root, const std::string& prefix,
                                     const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Heap& heap();
  PageSpace& space();

  // Makes all changes durable and atomic. After a failed commit the store
  // refuses further writes (Error(kFailed)) until it is reopened; the last
  // successful commit is intact on disk.
  void Commit();
  // A read-only store: moves to the newest commit now (it also does so by
  // itself, at the start of an operation). A no-op for a writer.
  void Refresh();
  // Writes every dirty cached page back to the volume (to slots that no
  // commit references) without committing, so they stay cached but clean.
  // Throws Error(kReadOnly)/Error(kFailed) like any write.
  void Flush();
  // Commits (unless read-only or failed), frees unreferenced collections, and
  // releases memory, files and the writer lock. Idempotent.
  void Close();
  bool closed() const;
  // Throws Error(kClosed) when closed ("prefix 'p' of ROOT is closed", the
  // message the heap gives too) or in a forked child (before any lock).
  void CheckOpen() const;

  void set_cache_size(uint64_t bytes);
  uint64_t cache_size() const;
  StoreStats stats() const;

  const std::string& root() const { return root_; }
  const std::string& prefix() const { return prefix_; }
  bool read_only() const { return options_.read_only; }
  // The bucket URL of a remote store; empty for a local one.
  const std::string& remote() const { return options_.remote; }
  // The Volume, for tools that show its state (the mount's info.json).
  // REQUIRES: not closed.
  Volume& volume();
  // True when the store works through a pagefs mount (MountedSpace).
  bool mounted() const;

  // The garbage step of a remote store run by its own writer (remote_gc.h,
  // GcWriter): no commit starts until it returns, so what is deleted is only
  // what no kept commit and no page of this writer references, however young
  // (options.min_age still applies when given). Compaction is refused:
  // Error(kInvalidArgument) for options.compact; also for a local store and
  // through a mount; Error(kReadOnly) for a read-only store. Errors as the
  // client's otherwise.
  GcReport CollectGarbage(const GcOptions& options, const GcProgressFn& progress = {});

  // Whether the store holds changes since its last commit: pages dirty in the
  // cache, pages written back, freed or grown, or new anchors (what Rollback
  // would drop). Embedded stores only: Error(kInvalidArgument) through a
  // mount, where the daemon holds them.
  bool has_uncommitted_changes() const;

  // Drops every change since the last commit and reopens the volume at it
  // (the daemon does this when a writer through the mount goes away without
  // committing). Embedded stores only. REQUIRES: no collection handles are
  // in use (the heap is rebuilt). Throws like Open; when the volume cannot be
  // opened again, the store is closed then (its writer lock released).
  void Rollback();

 private:
  Store(std::string root, std::string prefix, const StoreOptions& options);
  bool forked() const;

  const std::string root_;
  const std::string prefix_;
  const StoreOptions options_;       // as opened
  const uint64_t fork_generation_;   // ForkGeneration() at open
  std::unique_ptr<Env> remote_env_;  // a remote store's Env; outlives the mode
  std::unique_ptr<StoreMode> mode_;  // none once closed
  std::unique_ptr<Heap> heap_;
};

}  // namespace pagefs
