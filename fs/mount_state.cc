#include "fs/mount_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "pager/space/mount_protocol.h"
#include "pager/store_folders.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t LatestCommitTag(PrefixView& prefix) {
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  return CommitTag(prefix.store->volume().committed().epoch);
}

namespace {

// The kernel may cache up to this part of the budget; the pools keep the rest.
constexpr uint64_t KernelLimit(uint64_t budget) { return budget - budget / 4; }
// A read waits while evictions of more than max(this, the kernel's limit / 8)
// are queued, until the notifier has made no progress for this long
// (Notifier::WaitBacklog).
constexpr uint64_t kKernelBacklogMin = 1 << 20;
constexpr std::chrono::milliseconds kKernelBacklogPatience{20};
// The pools' budget moves in steps this large, not at every read.
constexpr uint64_t PoolStep(uint64_t budget) { return std::max<uint64_t>(1 << 20, budget / 16); }

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
    : options_(options),
      budget_(options.cache_size),
      pool_budget_(options.cache_size),
      started_ns_(NowNs()),
      kernel_(static_cast<uint32_t>(::sysconf(_SC_PAGESIZE))) {
  Invalidations none;  // nothing is cached yet
  kernel_.SetLimit(KernelLimit(options.cache_size), none);
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
    prefixes_.back()->index = static_cast<uint32_t>(prefixes_.size() - 1);
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
  // Private, as every store folder is (README, "Private files").
  if (::mkdir(path.c_str(), 0700) != 0) throw Error::FromErrno(errno, "create " + path);
  StoreOptions so;
  so.cache_size = pool_budget_.load() / (prefix_count() + 1);
  so.remote = options_.remote;
  so.local_cache_size = options_.local_cache_size / (prefix_count() + 1);
  prefixes_.push_back(OpenPrefix(options_.root, name, so));  // within the reserve: no reallocation
  prefixes_.back()->index = static_cast<uint32_t>(prefixes_.size() - 1);
  count_.store(prefixes_.size(), std::memory_order_release);
  SetPoolBudget(pool_budget_.load());
  return static_cast<uint32_t>(prefixes_.size() - 1);
}

void Mount::Rollback(PrefixView& prefix) {
  Invalidations after;
  if (read_only()) return;
  prefix.store->Rollback();
  prefix.flat->MarkChanged();
  prefix.committed_ns = prefix.flat->changed_ns();
  // Any page changed since the last commit may have been read since: data
  // and every cached page file are dropped whole (rollbacks are rare).
  const fuse_ino_t data = InodeOf(Node{NodeKind::kData, prefix.index});
  after.push_back({data, -1, 0, {}});  // its size too
  kernel_.Forget(data, after);
  const fuse_ino_t first = InodeOf(Node{NodeKind::kPage, prefix.index, 1});
  for (fuse_ino_t ino :
       kernel_.FilesIn(first, InodeOf(Node{NodeKind::kPage, prefix.index, kMaxPageId}))) {
    kernel_.Forget(ino, after);
  }
  notifier_.SendAndWait(std::move(after));
  Rebalance();
}

void Mount::SetCacheSize(uint64_t bytes) {
  budget_.store(bytes);
  Invalidations evict;
  kernel_.SetLimit(KernelLimit(bytes), evict);
  notifier_.Queue(std::move(evict));
  SetPoolBudget(std::max(bytes / 4, bytes - std::min(bytes, kernel_.bytes())));
}

void Mount::SetPoolBudget(uint64_t bytes) {
  pool_budget_.store(bytes);
  const size_t n = prefix_count();
  if (n == 0) return;
  const uint64_t share = bytes / n;
  for (size_t i = 0; i < n; ++i) prefixes_.data()[i]->store->set_cache_size(share);
}

void Mount::Rebalance() {
  const uint64_t budget = budget_.load();
  const uint64_t kernel = std::min(budget, kernel_.bytes());
  const uint64_t step = PoolStep(budget);
  // Rounded up to a step, so the pools and the kernel together stay within the
  // budget plus at most one step.
  const uint64_t target =
      std::min(budget, std::max(budget / 4, (budget - kernel + step - 1) / step * step));
  uint64_t now = pool_budget_.load();
  if (target == now) return;
  if (!pool_budget_.compare_exchange_strong(now, target)) return;  // another thread does it
  notifier_.QueueTask([this] {
    const uint64_t bytes = pool_budget_.load();
    const size_t n = prefix_count();
    for (size_t i = 0; i < n && n > 0; ++i) {
      try {
        prefixes_.data()[i]->store->set_cache_size(bytes / n);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "pagefs-mount: error: resizing the cache of prefix '%s': %s\n",
                     prefixes_.data()[i]->name.c_str(), e.what());
      }
    }
  });
}

bool Mount::CachesFiles(const PrefixView& prefix) const {
  return MountCachesData(prefix.page_size, kernel_.kernel_page_size());
}

void Mount::Served(fuse_ino_t ino, uint64_t off, uint64_t len) {
  Invalidations evict;
  kernel_.Served(ino, off, len, evict);
  const bool evicted = !evict.empty();
  notifier_.Queue(std::move(evict));
  Rebalance();
  // While evictions wait to be sent, the kernel holds more than it is
  // counted for: past an eighth of its limit, this read waits for them.
  if (evicted) {
    notifier_.WaitBacklog(ino, off, len, std::max<uint64_t>(kKernelBacklogMin, kernel_.limit() / 8),
                          kKernelBacklogPatience);
  }
}

void Mount::Changed(const PrefixView& prefix, uint64_t off, uint64_t len, bool grew,
                    Invalidations& after) {
  const fuse_ino_t data = InodeOf(Node{NodeKind::kData, prefix.index});
  if (grew) after.push_back({data, -1, 0, {}});
  if (len == 0) return;
  const uint64_t ps = prefix.page_size;
  kernel_.Changed(data, off, len, ps, after);
  const PageId first = std::max<PageId>(1, off / ps);
  const PageId last = std::min<PageId>(kMaxPageId, (off + len - 1) / ps);
  if (first > last) return;
  for (fuse_ino_t ino : kernel_.FilesIn(InodeOf(Node{NodeKind::kPage, prefix.index, first}),
                                        InodeOf(Node{NodeKind::kPage, prefix.index, last}))) {
    const PageId id = NodeOf(ino)->page;
    const uint64_t from = std::max<uint64_t>(off, id * ps);
    const uint64_t to = std::min<uint64_t>(off + len, (id + 1) * ps);
    kernel_.Changed(ino, from - id * ps, to - from, ps, after);
  }
  Rebalance();
}

void Mount::NoteCommit(PrefixView& prefix, Invalidations& after) {
  prefix.committed_ns = NowNs();
  const uint64_t latest = LatestCommitTag(prefix);
  const fuse_ino_t first = InodeOf(Node{NodeKind::kCommitted, prefix.index, 0});
  const fuse_ino_t last =
      InodeOf(Node{NodeKind::kCommitted, prefix.index, CommitTag(~uint64_t{0})});
  Invalidations later;
  for (fuse_ino_t ino : kernel_.FilesIn(first, last)) {
    const uint64_t tag = NodeOf(ino)->page;
    if (tag == latest) continue;
    bool open;
    {
      MutexLock lock(prefix.committed_mu);
      open = prefix.committed_opens.count(tag) != 0;
    }
    // Its header (the first kernel page) names the latest epoch: stale now,
    // and dropped before the commit is reported.
    kernel_.Changed(ino, 0, CommittedHeader::kBytes, 1, after);
    // No open file reads that commit, and none can open it again: the rest
    // of its pages are garbage, dropped in the background.
    if (!open) kernel_.Forget(ino, later);
  }
  notifier_.Queue(std::move(later));
  Rebalance();
}

bool Mount::OpenCommitted(PrefixView& prefix, uint64_t tag, CommitPin& out) {
  CommitPin pin = prefix.flat->PinCommitted();
  if (CommitTag(pin.commit.epoch) != tag) return false;
  MutexLock lock(prefix.committed_mu);
  PrefixView::CommittedOpens& opens = prefix.committed_opens[tag];
  ++opens.opens;
  opens.bytes = std::max<uint64_t>(1, pin.commit.page_count) * prefix.page_size;
  out = std::move(pin);
  return true;
}

void Mount::ReleaseCommitted(PrefixView& prefix, uint64_t tag) {
  {
    MutexLock lock(prefix.committed_mu);
    auto it = prefix.committed_opens.find(tag);
    if (it == prefix.committed_opens.end()) return;
    if (--it->second.opens != 0) return;
    prefix.committed_opens.erase(it);
  }
  if (tag == LatestCommitTag(prefix)) return;  // still the latest
  Invalidations later;  // no open reads that commit now: its pages are garbage
  kernel_.Forget(InodeOf(Node{NodeKind::kCommitted, prefix.index, tag}), later);
  notifier_.Queue(std::move(later));
  Rebalance();
}

uint64_t Mount::CommittedBytes(PrefixView& prefix, uint64_t tag) {
  {
    MutexLock lock(prefix.committed_mu);
    auto it = prefix.committed_opens.find(tag);
    if (it != prefix.committed_opens.end()) return it->second.bytes;
  }
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  return prefix.flat->committed_bytes();
}

bool Mount::Commit(PrefixView& prefix, Invalidations& after) {
  if (read_only()) return false;
  SharedLock role(prefix.role_mu);
  if (prefix.writer != nullptr) return false;
  prefix.store->Commit();
  NoteCommit(prefix, after);
  return true;
}

void Mount::CommitAll(Invalidations& after) {
  const size_t n = prefix_count();
  for (size_t i = 0; i < n; ++i) Commit(*prefixes_.data()[i], after);
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
