// MountedMode: a store opened through a pagefs mount (ROOT is the mount):
// the daemon holds the volume, the commits and the cache budget; this
// process has a MountedSpace over MOUNT/PREFIX's files, which holds the
// mount's writer role for a writer. A writer's new prefix is made by a mkdir
// on the mount (the daemon makes the store). No rollback, no volume here:
// those are the daemon's.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "pager/env/env.h"
#include "pager/space/mounted_space.h"
#include "pager/store.h"
#include "pager/store_mode.h"

namespace pagefs {

class MountedMode final : public StoreMode {
 public:
  // Opens dir, a prefix folder of the mount (a writer: made if new); describe
  // names it in errors. env must outlive the mode. Throws as Store::Open.
  MountedMode(Env& env, const std::string& dir, const std::string& describe,
              const StoreOptions& options);

  PageSpace& space() override { return *space_; }
  bool mounted() const override { return true; }
  bool failed() const override { return space_->failed(); }
  void Flush() override { space_->Flush(); }
  void set_cache_size(uint64_t bytes) override;
  // The budget asked for: the daemon holds the real one, this process a share.
  uint64_t cache_size() const override { return cache_size_.load(std::memory_order_relaxed); }
  // This process's cache; the daemon's figures are in MOUNT/.stats.
  void FillStats(StoreStats& stats) const override;
  bool has_uncommitted_changes() const override;
  void Rollback() override;
  Volume& volume() override;
  GcReport CollectGarbage(const GcOptions& options, const GcProgressFn& progress) override;

 private:
  const std::string describe_;
  std::atomic<uint64_t> cache_size_;
  std::unique_ptr<MountedSpace> space_;
};

}  // namespace pagefs
