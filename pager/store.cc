#include "pager/store.h"

#include <exception>
#include <utility>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/list_leaf_filter.h"
#include "pager/embedded_mode.h"
#include "pager/env/remote_env.h"
#include "pager/mounted_mode.h"
#include "pager/util/error.h"
#include "pager/util/fork_guard.h"
#include "pager/util/utf8.h"

namespace pagefs {

void CheckCacheSize(uint64_t bytes) {
  if (bytes < kMinCacheSize) {
    throw Error(ErrorCode::kInvalidArgument, "cache size " + std::to_string(bytes) +
                                                 " is below the engine's floor of " +
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
  } else if (!ValidUtf8(prefix, Surrogates::kRefused)) {
    why = "it is not valid UTF-8";  // Python, JSON and the mount's views need text
  }
  if (!why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid prefix '" + prefix + "': " + why);
  }
}

Store::Store(std::string root, std::string prefix, const StoreOptions& options)
    : root_(std::move(root)),
      prefix_(std::move(prefix)),
      options_(options),
      fork_generation_(ForkGeneration()) {}

std::shared_ptr<Store> Store::Open(const std::string& root, const std::string& prefix,
                                   const StoreOptions& options) {
  ValidatePrefix(prefix);
  if (root.empty()) throw Error(ErrorCode::kInvalidArgument, "the store root path is empty");
  std::shared_ptr<Store> store(new Store(root, prefix, options));
  Env* base = options.env != nullptr ? options.env : &Env::Default();
  const std::string dir = root + "/" + prefix;
  const std::string describe = "prefix '" + prefix + "' of " + root;
  if (!options.remote.empty()) {
    if (base->IsPagefsMount(root)) {
      throw Error(ErrorCode::kInvalidArgument,
                  root + " is a pagefs mount: give remote= to the mount (-o remote=" +
                      options.remote + "), not to a store opened through it");
    }
    auto remote =
        std::make_unique<RemoteEnv>(*base, options.remote, prefix, options.local_cache_size);
    // List leaves compress to three quarters with their offsets as lengths.
    static const ListLeafFilter kListLeaves;
    remote->UsePageFilter(kListLeaves);
    store->remote_env_ = std::move(remote);
    base = store->remote_env_.get();
  }
  Env& env = *base;
  const bool mounted = env.IsPagefsMount(root);
  if (options.read_only && !env.IsFolder(dir)) {
    // A remote store is looked for in its bucket: name that, not the cache.
    const std::string where = options.remote.empty() ? describe
                                                     : "store '" + prefix + "' in " +
                                                           options.remote + " (no head object)";
    throw Error(ErrorCode::kNotFound, "no " + where + " to open read-only");
  }
  if (mounted) {
    store->mode_ = std::make_unique<MountedMode>(env, dir, describe, options);
  } else {
    store->mode_ = std::make_unique<EmbeddedMode>(env, root, dir, describe, options);
  }
  store->heap_ = std::make_unique<Heap>(store->mode_->space(),
                                        options.kinds ? *options.kinds : BuiltinKinds(), describe);
  if (!options.read_only) {
    // No process can hold a handle on an orphan left by an earlier one.
    store->heap_->CollectOrphans();
  }
  return store;
}

void Store::Rollback() {
  CheckOpen();
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  try {
    mode_->Rollback();
  } catch (...) {
    if (!mode_->usable()) {
      // The old volume is gone and no new one opened: the store is closed.
      heap_->MarkClosed();
      mode_.reset();
    }
    throw;
  }
}

GcReport Store::CollectGarbage(const GcOptions& options, const GcProgressFn& progress) {
  CheckOpen();
  // Shared: collections go on being read and written meanwhile; a commit
  // (which takes the op lock exclusively) waits for the end of the run, and
  // so does a close, which would take the bucket's connections away.
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  return mode_->CollectGarbage(options, progress);
}

bool Store::has_uncommitted_changes() const {
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  return mode_->has_uncommitted_changes();
}

Store::~Store() {
  try {
    Close();
  } catch (...) {
    // Close already released everything it could; a destructor cannot report.
  }
}

bool Store::forked() const { return fork_generation_ != ForkGeneration(); }

void Store::CheckOpen() const {
  if (heap_ && heap_->forked()) heap_->CheckOpen();  // names both processes
  if (!mode_) {
    throw Error::Closed("prefix '" + prefix_ + "' of " + root_);  // as the heap says it
  }
}

Heap& Store::heap() { return *heap_; }

PageSpace& Store::space() {
  CheckOpen();
  return mode_->space();
}

Volume& Store::volume() {
  CheckOpen();
  return mode_->volume();
}

bool Store::mounted() const { return mode_ && mode_->mounted(); }

void Store::Commit() {
  CheckOpen();  // before the lock: a forked child must not wait on it
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  mode_->space().Commit();
}

void Store::Refresh() {
  CheckOpen();
  heap_->FollowCommits(/*force=*/true);
}

void Store::Flush() {
  CheckOpen();
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  mode_->Flush();
}

bool Store::closed() const { return !mode_; }

void Store::Close() {
  if (!heap_) return;  // Open failed part way: its mode released what it took
  if (forked()) {
    // The child's copy of the parent's store: no commit, no freeing, no
    // lock taken or released, no destructor that could write back a page or
    // join a thread the child does not have. Its memory is left as it is.
    heap_->MarkClosed();
    (void)mode_.release();
    return;
  }
  std::unique_lock<std::shared_mutex> op(heap_->op_lock());
  if (closed()) return;
  std::exception_ptr failure;
  if (!options_.read_only && !mode_->failed()) {
    try {
      heap_->CollectOrphans();
      mode_->space().Commit();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  heap_->MarkClosed();
  mode_.reset();        // the space, then the volume, files and the writer lock (or role)
  remote_env_.reset();  // the bucket's connections; the local cache saves its index
  if (failure) std::rethrow_exception(failure);
}

void Store::set_cache_size(uint64_t bytes) {
  CheckOpen();
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  mode_->set_cache_size(bytes);
}

uint64_t Store::cache_size() const {
  CheckOpen();
  return mode_->cache_size();
}

StoreStats Store::stats() const {
  CheckOpen();
  std::shared_lock<std::shared_mutex> op(heap_->op_lock());
  CheckOpen();
  StoreStats s;
  mode_->FillStats(s);
  return s;
}

}  // namespace pagefs
