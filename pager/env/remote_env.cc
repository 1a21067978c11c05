#include "pager/env/remote_env.h"

#include <optional>

#include "pager/env/remote_lease.h"
#include "pager/tier/remote/remote_tier.h"
#include "pager/util/error.h"
#include "pager/volume/remote_commit_root.h"
#include "pager/volume/superblock.h"

namespace pagefs {

namespace {

// The local lock and the lease, released in reverse.
class RemoteWriterLock final : public WriterLock {
 public:
  RemoteWriterLock(std::unique_ptr<WriterLock> local, std::unique_ptr<RemoteLease> lease)
      : local_(std::move(local)), lease_(std::move(lease)) {}

 private:
  std::unique_ptr<WriterLock> local_;
  std::unique_ptr<RemoteLease> lease_;
};

S3Config ConfigFor(const std::string& url, const std::string& store_prefix,
                   const EnvLookup& lookup) {
  S3Config config = S3ConfigFor(url, lookup);
  std::string& prefix = config.location.prefix;
  prefix = prefix.empty() ? store_prefix : prefix + "/" + store_prefix;
  return config;
}

}  // namespace

RemoteEnv::RemoteEnv(Env& local, const std::string& url, const std::string& store_prefix,
                     uint64_t local_cache_size, const EnvLookup& lookup,
                     std::optional<RetryPolicy> retry)
    : EnvWrapper(local),
      dir_suffix_("/" + store_prefix),
      client_(S3Client::Connect(ConfigFor(url, store_prefix, lookup), retry)),
      cache_capacity_(local_cache_size) {
  lease_duration_ = LeaseDurationFrom(lookup);
  // Asked at once, so that a wrong endpoint, bucket or key fails the open
  // with its own message rather than the first commit.
  try {
    client_->List("head");
  } catch (const Error& e) {
    throw Error(e.code(), "cannot open the remote store " + Describe() + ": " + e.what(),
                e.sys_errno());
  }
}

RemoteEnv::~RemoteEnv() = default;

std::string RemoteEnv::Describe() const {
  const S3Config& c = client_->config();
  return "s3://" + c.location.bucket + "/" + c.location.prefix + " (" + c.endpoint + ")";
}

bool RemoteEnv::HasStore() { return client_->Head("head").has_value(); }

bool RemoteEnv::IsFolder(const std::string& path) {
  if (target().IsFolder(path)) return true;
  const bool ours =
      path.size() >= dir_suffix_.size() &&
      path.compare(path.size() - dir_suffix_.size(), dir_suffix_.size(), dir_suffix_) == 0;
  return ours && HasStore();
}

uint32_t RemoteEnv::ProbePageSize(const std::string& dir, const std::string& describe,
                                  bool for_writer) {
  if (target().IsFolder(dir) && target().ProbePageSize(dir, describe, false) != 0) {
    throw Error(ErrorCode::kInvalidArgument,
                dir + " holds a local store (segment files); the remote store " + Describe() +
                    " keeps only its cache in its folder: open it with another root");
  }
  (void)for_writer;
  RemoteTier probe(*client_, 4096, {.spill_dir = "", .cache = nullptr, .read_only = true});
  std::optional<std::string> record = probe.PeekCommit();
  if (!record) return 0;
  std::optional<Superblock> sb =
      record->size() >= 2 * kSuperblockCopySize
          ? DecodeSuperblockSlot(reinterpret_cast<const uint8_t*>(record->data()))
          : std::nullopt;
  if (!sb) {
    throw Error(ErrorCode::kCorruption, "no valid superblock in the commit the head of " +
                                            Describe() + " names (" + describe +
                                            "): the store is damaged (nothing was changed)");
  }
  return sb->page_size;
}

std::unique_ptr<Tier> RemoteEnv::OpenTier(const std::string& dir, uint32_t page_size,
                                          bool read_only) {
  // The cache folder: a reader on a new machine makes it too.
  if (!target().IsFolder(dir)) target().CreateFolders(dir);
  LocalPageCache* cache = nullptr;
  {
    MutexLock lock(mu_);
    if (!cache_ && cache_capacity_ >= page_size) {
      cache_ = std::make_unique<LocalPageCache>(dir + "/page-cache", page_size, cache_capacity_);
    }
    cache = cache_.get();
  }
  RemoteTierOptions options;
  options.spill_dir = dir;
  options.cache = cache;
  options.read_only = read_only;
  options.filter = filter_;
  return std::make_unique<RemoteTier>(*client_, page_size, options);
}

std::unique_ptr<CommitRoot> RemoteEnv::OpenCommitRoot(const std::string& /*dir*/, Tier& tier) {
  auto* remote = dynamic_cast<RemoteTier*>(&tier);
  if (remote == nullptr) {
    throw Error(ErrorCode::kInvalidArgument,
                "a remote store's commits need its RemoteTier, not " + tier.name());
  }
  return std::make_unique<RemoteCommitRoot>(*remote);
}

std::unique_ptr<WriterLock> RemoteEnv::LockWriter(const std::string& dir,
                                                  const std::string& describe) {
  std::unique_ptr<WriterLock> local = target().LockWriter(dir, describe);
  auto lease = std::make_unique<RemoteLease>(*client_, LeaseHolderName(), lease_duration_,
                                             describe + " (" + Describe() + ")");
  return std::make_unique<RemoteWriterLock>(std::move(local), std::move(lease));
}

std::unique_ptr<ReaderTable> RemoteEnv::OpenReaderTable(const std::string& dir, bool writable) {
  if (!writable) return nullptr;
  return target().OpenReaderTable(dir, writable);
}

RemoteEnvStats RemoteEnv::stats() const {
  RemoteEnvStats s;
  s.bucket = client_->stats();
  MutexLock lock(mu_);
  if (cache_) s.local = cache_->stats();
  return s;
}

}  // namespace pagefs
