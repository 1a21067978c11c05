// RemoteLease: the writer role of a remote store across machines, a lease
// object (PREFIX/<store>/lease) in the bucket. Taken by a create-only PUT
// (If-None-Match: *); a lease whose expiry has passed is taken over with
// If-Match on the etag that was read, so two openers racing for a stale
// lease cannot both win. While held, a thread renews it (If-Match on our own
// etag) every third of its duration; destroying it deletes the lease.
//
// The lease keeps a second writer from opening; the head's conditional
// write (remote_tier.h) is what keeps two writers from both committing, so a
// lease lost to a long pause (its expiry passed, another writer took it)
// costs the paused writer its next commit (Error(kBusy)), never the data.
// Expiry is wall-clock time of the machine that wrote it: clocks of the
// machines sharing a bucket should agree to well within the duration.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "pager/env/env.h"
#include "pager/tier/remote/s3_client.h"
#include "pager/util/mutex.h"

namespace pagefs {

class RemoteLease final : public WriterLock {
 public:
  static constexpr const char* kObject = "lease";

  // Takes the lease of client's prefix for duration, naming this holder
  // ("host:pid"). Throws Error(kBusy) naming the holder and when its lease
  // expires; S3 errors as S3Client's. client must outlive the lease.
  RemoteLease(S3Client& client, std::string holder, std::chrono::seconds duration,
              const std::string& describe);
  ~RemoteLease() override;
  RemoteLease(const RemoteLease&) = delete;
  RemoteLease& operator=(const RemoteLease&) = delete;

  // Whether the last renewal kept the lease (false: another writer took it).
  bool held() const;

 private:
  std::string Body(int64_t expires_ms) const;
  void Renew();

  S3Client& client_;
  const std::string holder_;
  const std::chrono::seconds duration_;
  const uint64_t fork_generation_;
  mutable Mutex mu_;
  CondVar stop_cv_{mu_};
  bool stop_ GUARDED_BY(mu_) = false;
  bool held_ GUARDED_BY(mu_) = true;
  std::string etag_ GUARDED_BY(mu_);
  std::unique_ptr<std::thread> renewer_;
};

// A lease as it stands in the bucket.
struct LeaseState {
  std::string holder;
  int64_t expires_ms = 0;  // milliseconds since 1970, UTC
};
// The lease of client's prefix, or nullopt when there is none (or it is not
// a lease object). S3 errors as S3Client's.
std::optional<LeaseState> ReadLease(S3Client& client);

// The holder name of this process: "HOST:PID".
std::string LeaseHolderName();

// The lease duration PAGEFS_LEASE_SECONDS asks for (1 to 86400), else 30 s.
// Throws Error(kInvalidArgument) naming the variable for another value.
std::chrono::seconds LeaseDurationFrom(const EnvLookup& lookup);

}  // namespace pagefs
