#include "pager/mounted_mode.h"

#include "pager/util/error.h"

namespace pagefs {

namespace {

std::unique_ptr<MountedSpace> OpenSpace(Env& env, const std::string& dir,
                                        const std::string& describe, const StoreOptions& options) {
  // The daemon makes a new prefix (its folder and store) on mkdir.
  if (!options.read_only) env.CreateFolder(dir, 0755, "create prefix " + dir + " on the mount");
  return std::make_unique<MountedSpace>(env, dir, describe, options.cache_size, options.read_only);
}

}  // namespace

MountedMode::MountedMode(Env& env, const std::string& dir, const std::string& describe,
                         const StoreOptions& options)
    : describe_(describe),
      cache_size_(options.cache_size),
      space_(OpenSpace(env, dir, describe, options)) {}

void MountedMode::set_cache_size(uint64_t bytes) {
  // Several threads may set it at once: they share the op lock.
  cache_size_.store(bytes, std::memory_order_relaxed);
  space_->set_cache_size(bytes);
}

void MountedMode::FillStats(StoreStats& s) const {
  PoolStats pool = space_->pool_stats();
  FillCacheStats(pool, s);
  s.pages = space_->page_count();
  s.tier_reads = pool.misses;
  s.tier_writes = pool.writebacks;
  s.epoch = space_->epoch();
  s.page_size = space_->page_size();
}

bool MountedMode::has_uncommitted_changes() const {
  throw Error(ErrorCode::kInvalidArgument, "a mounted store's changes are the daemon's to tell");
}

void MountedMode::Rollback() {
  throw Error(ErrorCode::kInvalidArgument, "a mounted store cannot roll back");
}

Volume& MountedMode::volume() {
  throw Error(ErrorCode::kInvalidArgument, describe_ + " is a mount's: its volume is the daemon's");
}

GcReport MountedMode::CollectGarbage(const GcOptions& /*options*/,
                                     const GcProgressFn& /*progress*/) {
  throw Error(ErrorCode::kInvalidArgument,
              describe_ +
                  " is a mount's: its writer is the daemon; run pagefs gc on the bucket "
                  "(--no-compact while the mount is up)");
}

}  // namespace pagefs
