// EmbeddedMode: a store whose pages live in this process, ROOT/PREFIX on a
// tier the Env makes: the writer lock (taken after the folder is probed, so
// a damaged folder is refused before anything is written in it), the tier
// and its commit root, the reader table, the Volume, the BufferPool that
// holds the cache budget, and the EmbeddedSpace over them. A rollback or a
// read-only store's move to a newer commit rebuilds the volume and pool
// under the same space.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "pager/cache/buffer_pool.h"
#include "pager/env/env.h"
#include "pager/space/embedded_space.h"
#include "pager/store.h"
#include "pager/store_mode.h"
#include "pager/volume/volume.h"

namespace pagefs {

class EmbeddedMode final : public StoreMode {
 public:
  // Opens (a writer: creates the folders of, locks, and formats if new) the
  // store in dir; describe names it in errors ("prefix 'p' of ROOT"). env
  // must outlive the mode. Throws as Store::Open; whatever it took before a
  // failure (the lock included) is released.
  EmbeddedMode(Env& env, const std::string& root, const std::string& dir,
               const std::string& describe, const StoreOptions& options);
  ~EmbeddedMode() override;
  EmbeddedMode(const EmbeddedMode&) = delete;
  EmbeddedMode& operator=(const EmbeddedMode&) = delete;

  PageSpace& space() override { return *space_; }
  bool mounted() const override { return false; }
  bool failed() const override { return volume_->failed(); }
  void Flush() override;
  void set_cache_size(uint64_t bytes) override;
  uint64_t cache_size() const override { return pool_->budget(); }
  void FillStats(StoreStats& stats) const override;
  bool has_uncommitted_changes() const override;
  void Rollback() override;
  bool usable() const override { return volume_ != nullptr && pool_ != nullptr; }
  Volume& volume() override { return *volume_; }
  GcReport CollectGarbage(const GcOptions& options, const GcProgressFn& progress) override;

 private:
  // Tier, commit root, volume and pool over dir at the page size on disk
  // (options' for a new store); the space on first use, else rebound.
  void OpenVolume();
  // Read-only: the volume moves to the newest commit and the pool, which
  // caches the old one's pages, is replaced. REQUIRES the op lock exclusively.
  void FollowNewest();

  Env& env_;
  const std::string dir_;
  const std::string describe_;
  const bool read_only_;
  uint32_t page_size_;
  std::atomic<uint64_t> budget_;  // for the pool a rollback builds
  // Declaration order is release order reversed: the lock goes last, the
  // reader table (pins outlive a rollback's volume) before it.
  std::unique_ptr<WriterLock> lock_;
  std::unique_ptr<ReaderTable> readers_;
  std::unique_ptr<Tier> tier_;
  std::unique_ptr<CommitRoot> commit_root_;
  std::unique_ptr<Volume> volume_;
  std::unique_ptr<BufferPool> pool_;
  std::unique_ptr<EmbeddedSpace> space_;
};

}  // namespace pagefs
