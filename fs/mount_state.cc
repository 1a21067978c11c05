#include "fs/mount_state.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "pager/store_folders.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Prefix folders of root: stores, and empty folders (a new prefix, made with
// mkdir); other folders are left alone rather than turned into stores.
std::vector<std::string> ListPrefixes(const std::string& root) {
  return ListStoreFolders(root, StoreFolders::kStoresAndEmpty);
}

std::unique_ptr<PrefixView> OpenPrefix(const std::string& root, const std::string& name,
                                       const StoreOptions& so) {
  auto view = std::make_unique<PrefixView>();
  view->name = name;
  view->store = Store::Open(root, name, so);
  view->page_size = view->store->stats().page_size;
  Store* store = view->store.get();
  view->flat = std::make_unique<FlatView>(
      store->heap().op_lock(), store->space(), [store]() -> Volume& { return store->volume(); },
      name);
  view->committed_ns = view->flat->changed_ns();
  return view;
}

}  // namespace

Mount::Mount(const MountOptions& options)
    : options_(options), budget_(options.cache_size), started_ns_(NowNs()) {
  std::vector<std::string> names = ListPrefixes(options.root);
  if (names.size() > kMaxPrefixes) {
    throw Error(ErrorCode::kInvalidArgument,
                options.root + " has more prefixes than one mount can show");
  }
  prefixes_.reserve(kMaxPrefixes);
  if (!options.remote.empty()) {
    // A remote root's stores are in the bucket; the local folders are caches.
    for (std::string& name : RemoteStorePrefixes(options.remote)) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
  }
  const uint64_t share = names.empty() ? options.cache_size : options.cache_size / names.size();
  const uint64_t local_share =
      names.empty() ? options.local_cache_size : options.local_cache_size / names.size();
  for (const std::string& name : names) {
    StoreOptions so;
    so.cache_size = share;
    so.read_only = options.read_only;
    so.remote = options.remote;
    so.local_cache_size = local_share;
    prefixes_.push_back(OpenPrefix(options.root, name, so));
  }
  count_.store(prefixes_.size(), std::memory_order_release);
}

PrefixView* Mount::prefix(uint32_t index) const {
  return index < prefix_count() ? prefixes_.data()[index].get() : nullptr;
}

int64_t Mount::FindPrefix(std::string_view name) const {
  const size_t n = prefix_count();
  for (size_t i = 0; i < n; ++i) {
    if (prefixes_.data()[i]->name == name) return static_cast<int64_t>(i);
  }
  return -1;
}

uint32_t Mount::AddPrefix(const std::string& name) {
  if (read_only()) throw Error(ErrorCode::kReadOnly, "the mount is read-only");
  ValidatePrefix(name);
  MutexLock lock(add_mu_);
  if (FindPrefix(name) >= 0) throw Error(ErrorCode::kExists, "prefix '" + name + "' exists");
  if (prefix_count() >= kMaxPrefixes) {
    throw Error(ErrorCode::kInvalidArgument, "the mount shows as many prefixes as it can");
  }
  const std::string path = options_.root + "/" + name;
  if (::mkdir(path.c_str(), 0755) != 0) throw Error::FromErrno(errno, "create " + path);
  StoreOptions so;
  so.cache_size = budget_.load() / (prefix_count() + 1);
  so.remote = options_.remote;
  so.local_cache_size = options_.local_cache_size / (prefix_count() + 1);
  prefixes_.push_back(OpenPrefix(options_.root, name, so));  // within the reserve: no reallocation
  count_.store(prefixes_.size(), std::memory_order_release);
  SetCacheSize(budget_.load());
  return static_cast<uint32_t>(prefixes_.size() - 1);
}

void Mount::Rollback(PrefixView& prefix) {
  if (read_only()) return;
  prefix.store->Rollback();
  prefix.flat->MarkChanged();
  prefix.committed_ns = prefix.flat->changed_ns();
}

void Mount::SetCacheSize(uint64_t bytes) {
  budget_.store(bytes);
  const size_t n = prefix_count();
  if (n == 0) return;
  const uint64_t share = bytes / n;
  for (size_t i = 0; i < n; ++i) prefixes_.data()[i]->store->set_cache_size(share);
}

bool Mount::Commit(PrefixView& prefix) {
  if (read_only()) return false;
  SharedLock role(prefix.role_mu);
  if (prefix.writer != nullptr) return false;
  prefix.store->Commit();
  prefix.committed_ns = NowNs();
  return true;
}

void Mount::CommitAll() {
  const size_t n = prefix_count();
  for (size_t i = 0; i < n; ++i) Commit(*prefixes_.data()[i]);
}

void Mount::FlushAll() {
  if (read_only()) return;
  const size_t n = prefix_count();
  for (size_t i = 0; i < n; ++i) prefixes_.data()[i]->store->Flush();
}

bool Mount::Close() {
  bool ok = true;
  MutexLock lock(add_mu_);
  for (auto& p : prefixes_) {
    try {
      ExclusiveLock role(p->role_mu);
      if (p->writer != nullptr) {
        std::fprintf(stderr,
                     "pagefs-mount: prefix '%s': %s still writes it; its change since its "
                     "last commit is dropped\n",
                     p->name.c_str(), p->writer_name.c_str());
        p->writer = nullptr;
        if (!read_only() && p->store->has_uncommitted_changes()) p->store->Rollback();
      }
      p->store->Close();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pagefs-mount: error: closing prefix '%s': %s\n", p->name.c_str(),
                   e.what());
      ok = false;
    }
  }
  return ok;
}

}  // namespace pagefs::fs
