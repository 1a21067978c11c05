#include "pager/env/remote_lease.h"

#include <unistd.h>

#include <ctime>
#include <optional>

#include "pager/util/background_thread.h"
#include "pager/util/error.h"
#include "pager/util/fork_guard.h"

namespace pagefs {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "holder=NAME\nexpires_ms=N\n": the fields of a lease object, or false.
bool ParseLease(const std::string& body, std::string& holder, int64_t& expires_ms) {
  const size_t h = body.find("holder=");
  const size_t e = body.find("expires_ms=");
  if (h == std::string::npos || e == std::string::npos) return false;
  holder = body.substr(h + 7, body.find('\n', h) - h - 7);
  try {
    expires_ms = std::stoll(body.substr(e + 11));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

std::string Utc(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

std::string LeaseHolderName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "unknown-host") + ":" + std::to_string(::getpid());
}

std::optional<LeaseState> ReadLease(S3Client& client) {
  std::string body;
  try {
    body = client.Get(RemoteLease::kObject);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return std::nullopt;
    throw;
  }
  LeaseState state;
  if (!ParseLease(body, state.holder, state.expires_ms)) return std::nullopt;
  return state;
}

std::chrono::seconds LeaseDurationFrom(const EnvLookup& lookup) {
  std::optional<std::string> s = lookup("PAGEFS_LEASE_SECONDS");
  if (!s) return std::chrono::seconds(30);
  try {
    const long long n = std::stoll(*s);
    if (n < 1 || n > 86400) throw std::out_of_range("");
    return std::chrono::seconds(n);
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid PAGEFS_LEASE_SECONDS '" + *s + "': expected seconds from 1 to 86400");
  }
}

std::string RemoteLease::Body(int64_t expires_ms) const {
  return "holder=" + holder_ + "\nexpires_ms=" + std::to_string(expires_ms) + "\n";
}

RemoteLease::RemoteLease(S3Client& client, std::string holder, std::chrono::seconds duration,
                         const std::string& describe)
    : client_(client),
      holder_(std::move(holder)),
      duration_(duration),
      fork_generation_(ForkGeneration()) {
  const int64_t duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  PutResult r = client_.Put(kObject, Body(NowMs() + duration_ms), PutCondition::kIfAbsent);
  if (!r.written) {
    // Held, or left by a writer that stopped renewing: read whose and until when.
    std::optional<ObjectInfo> info = client_.Head(kObject);
    std::string body = info ? client_.Get(kObject) : "";
    std::string other;
    int64_t expires_ms = 0;
    const bool parsed = info && ParseLease(body, other, expires_ms);
    if (!info || !parsed || expires_ms < NowMs()) {
      // Gone meanwhile, damaged, or expired: take it over, if no one else does first.
      r = info ? client_.Put(kObject, Body(NowMs() + duration_ms), PutCondition::kIfMatch,
                             info->etag)
               : client_.Put(kObject, Body(NowMs() + duration_ms), PutCondition::kIfAbsent);
    }
    if (!r.written) {
      const int64_t left = (expires_ms - NowMs() + 999) / 1000;
      throw Error(ErrorCode::kBusy,
                  describe + " is open for writing by " + (parsed ? other : "another writer") +
                      " (lease " + client_.Describe(kObject) +
                      (parsed ? ", expires " + Utc(expires_ms) + ", in " +
                                    std::to_string(std::max<int64_t>(left, 0)) + " s unless renewed"
                              : "") +
                      ")");
    }
  }
  {
    MutexLock lock(mu_);
    etag_ = r.etag;
  }
  renewer_ = std::make_unique<std::thread>(StartBackgroundThread([this] { Renew(); }));
}

void RemoteLease::Renew() {
  const auto every = std::chrono::duration_cast<std::chrono::milliseconds>(duration_) / 3;
  const int64_t duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(duration_).count();
  MutexLock lock(mu_);
  while (!stop_) {
    stop_cv_.WaitFor(every);
    if (stop_ || !held_) continue;
    const std::string etag = etag_;
    lock.Unlock();
    PutResult r;
    bool failed = false;
    try {
      r = client_.Put(kObject, Body(NowMs() + duration_ms), PutCondition::kIfMatch, etag);
    } catch (const Error&) {
      failed = true;  // the server is away: try again next time, the lease may still hold
    }
    lock.Lock();
    if (failed) continue;
    if (r.written) {
      etag_ = r.etag;
    } else {
      held_ = false;  // another writer took it: our next commit fails on the head
    }
  }
}

bool RemoteLease::held() const {
  MutexLock lock(mu_);
  return held_;
}

RemoteLease::~RemoteLease() {
  if (fork_generation_ != ForkGeneration()) {
    // A forked child's copy: the parent holds the lease, and the renewer
    // thread does not exist here.
    (void)renewer_.release();
    return;
  }
  {
    MutexLock lock(mu_);
    stop_ = true;
    stop_cv_.SignalAll();
  }
  renewer_->join();
  std::string etag;
  bool held = false;
  {
    MutexLock lock(mu_);
    etag = etag_;
    held = held_;
  }
  if (!held) return;
  try {
    // Ours still (not taken over after an expiry): give it back at once.
    std::optional<ObjectInfo> now = client_.Head(kObject);
    if (now && now->etag == etag) client_.Delete(kObject);
  } catch (const Error&) {
    // The server is away: the lease expires by itself.
  }
}

}  // namespace pagefs
