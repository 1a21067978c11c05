// RemoteEnv: the Env of a store whose commits live in an S3 bucket
// (StoreOptions::remote, s3://BUCKET[/PREFIX]; the store's objects are under
// PREFIX/<store prefix>/, docs/remote_format.md). The local folder
// ROOT/PREFIX holds only what is local by nature: the writer lock (an flock,
// as for a local store), the bounded LocalPageCache of fetched pages
// (`page-cache`, `page-cache.index`) and, while a change is not committed,
// the unlinked spill file of pages not yet uploaded. Everything committed is
// in the bucket: the folder can be deleted between runs, and a store opens
// on an empty one from the bucket alone.
//
// It wraps the local Env (folders, mount detection) and brings its own tier
// (RemoteTier), commit root (RemoteCommitRoot), page-size probe (the head's
// superblock) and writer lock: the local flock, then a lease in the bucket
// (RemoteLease, remote_lease.h) for the writer role across machines, of
// PAGEFS_LEASE_SECONDS (default 30) renewed every third of it. Read-only stores register in no
// reader table: a writer elsewhere cannot see them, and needs not (objects a commit references are
// never overwritten).
//
// One RemoteEnv serves one store (the Store makes it and owns it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pager/env/env_wrapper.h"
#include "pager/tier/page_filter.h"
#include "pager/tier/remote/local_page_cache.h"
#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/s3_config.h"
#include "pager/util/mutex.h"

namespace pagefs {

// The local cache's size when none is given.
inline constexpr uint64_t kDefaultLocalCacheSize = 256ull << 20;

struct RemoteEnvStats {
  S3ClientStats bucket;
  LocalPageCacheStats local;
};

class RemoteEnv final : public EnvWrapper {
 public:
  // Connects to the bucket url names with the AWS settings lookup finds
  // (s3_config.h) and checks it answers. Throws Error(kInvalidArgument)
  // naming the URL for a malformed one (or naming where it looked when no
  // credentials are found), and, naming endpoint and bucket,
  // Error(kNotFound) for a missing bucket, Error(kIo, EACCES) for refused
  // credentials, Error(kIo) for an endpoint that does not answer.
  RemoteEnv(Env& local, const std::string& url, const std::string& store_prefix,
            uint64_t local_cache_size, const EnvLookup& lookup = ProcessEnv,
            std::optional<RetryPolicy> retry = std::nullopt);
  ~RemoteEnv() override;

  // Also true when the local folder is missing but the bucket holds the store.
  bool IsFolder(const std::string& path) override;
  // The page size in the head's superblock; 0 when the bucket prefix holds
  // no store. Refuses a local folder that holds a local store's segments.
  uint32_t ProbePageSize(const std::string& dir, const std::string& describe,
                         bool for_writer) override;
  std::unique_ptr<Tier> OpenTier(const std::string& dir, uint32_t page_size,
                                 bool read_only) override;
  std::unique_ptr<CommitRoot> OpenCommitRoot(const std::string& dir, Tier& tier) override;
  // The local flock, then the bucket's lease: Error(kBusy) naming the holder
  // (and, for the lease, when it expires).
  std::unique_ptr<WriterLock> LockWriter(const std::string& dir,
                                         const std::string& describe) override;
  std::unique_ptr<ReaderTable> OpenReaderTable(const std::string& dir, bool writable) override;

  // "s3://BUCKET/PREFIX/STORE (endpoint)".
  std::string Describe() const;
  S3Client& client() { return *client_; }
  RemoteEnvStats stats() const;
  // The tiers opened from now on rewrite pages with filter before they
  // compress them (tier/page_filter.h); it must outlive them.
  void UsePageFilter(const PageFilter& filter) { filter_ = &filter; }

 private:
  bool HasStore();

  const std::string dir_suffix_;  // "/" + store prefix: which folder is ours
  std::unique_ptr<S3Client> client_;
  const uint64_t cache_capacity_;
  std::chrono::seconds lease_duration_{30};
  const PageFilter* filter_ = nullptr;  // set before the tiers open, read by OpenTier
  mutable Mutex mu_;
  std::unique_ptr<LocalPageCache> cache_ GUARDED_BY(mu_);  // made by the first OpenTier
};

}  // namespace pagefs
