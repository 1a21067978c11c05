// S3Client: the few S3 calls pagefs needs (GET, ranged GET, PUT with
// conditions, HEAD, DELETE, LIST), against one bucket and key prefix
// (S3Config), over an HttpTransport. Object names passed in are relative to
// the prefix ("seg/000001" is s3://BUCKET/PREFIX/seg/000001).
//
// Failures and retries: a dropped connection, a timeout, a short body, or a
// 5xx status (503 SlowDown included) is retried with exponential backoff and
// jitter, up to RetryPolicy::max_attempts (S3Config::max_attempts unless a
// policy is given); then Error(kIo) names the endpoint, bucket, object and
// the last failure (errno ETIMEDOUT when that was a timeout, else EIO). A 501
// Not Implemented is an answer, not a failure: never retried. Errors no retry can fix
// come at once: Error(kNotFound) for a missing bucket or object (GET),
// Error(kIo, EACCES) for refused credentials, Error(kIo) for other 4xx.
// A conditional PUT whose condition fails (412) is not an error: Put says so
// in its result. PUTs send x-amz-content-sha256 (SigV4 signs the payload).
//
// Thread safety: every method may be called from several threads at once
// (the transport runs them in parallel).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pager/tier/remote/http_transport.h"
#include "pager/tier/remote/s3_config.h"

namespace pagefs {

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{50};  // doubled per attempt, jittered
  std::chrono::milliseconds max_delay{2000};
};
// The policy config asks for (its max_attempts, the default backoff).
RetryPolicy RetryPolicyFor(const S3Config& config);

struct ObjectInfo {
  std::string name;  // relative to the prefix
  uint64_t size = 0;
  std::string etag;  // without quotes
  // The server's LastModified, in milliseconds since 1970 (UTC); set by List
  // only (0 when the server gave none).
  int64_t last_modified_ms = 0;
};

enum class PutCondition {
  kNone,
  kIfAbsent,  // If-None-Match: * (create only)
  kIfMatch,   // If-Match: etag (replace only that version)
};

struct PutResult {
  bool written = false;  // false: the condition did not hold (412)
  std::string etag;      // of the new object, when written
};

struct S3ClientStats {
  uint64_t gets = 0, puts = 0, heads = 0, deletes = 0, lists = 0;
  uint64_t multi_deletes = 0;  // DeleteObjects requests (deletes: single DELETEs)
  uint64_t retries = 0;
  uint64_t bytes_received = 0, bytes_sent = 0;
};

class S3Client {
 public:
  S3Client(S3Config config, std::shared_ptr<HttpTransport> transport, RetryPolicy retry = {});
  // Over a CurlTransport signing with config's credentials, with config's
  // timeouts, and retrying as retry says (none: RetryPolicyFor(config)).
  static std::unique_ptr<S3Client> Connect(S3Config config,
                                           std::optional<RetryPolicy> retry = std::nullopt);

  // The whole object. Throws Error(kNotFound) when it does not exist.
  std::string Get(const std::string& name);
  // length bytes from offset; Error(kIo) if the object is shorter.
  std::string GetRange(const std::string& name, uint64_t offset, uint64_t length);
  // nullopt when the object does not exist.
  std::optional<ObjectInfo> Head(const std::string& name);
  PutResult Put(const std::string& name, std::string_view body,
                PutCondition condition = PutCondition::kNone, const std::string& etag = "");
  // Deleting a missing object succeeds.
  void Delete(const std::string& name);
  // Deletes every object named (missing ones succeed) with S3 DeleteObjects
  // requests (POST ?delete, Content-MD5) of at most batch keys (S3 takes
  // 1000), in order: batch k+1 is sent once batch k is answered. A server
  // that answers one with 501 / NotImplemented gets single DELETEs, then and
  // from then on. done(n), when given, is told after each request how many
  // names are done. Returns the requests sent (a refused DeleteObjects
  // included). Keys the server refuses (its per-key <Error>s) do not stop
  // the others: then Error(kIo) names the first one, its code and message,
  // and how many failed.
  static constexpr size_t kMaxDeleteBatch = 1000;
  uint64_t DeleteMany(const std::vector<std::string>& names, size_t batch = kMaxDeleteBatch,
                      const std::function<void(size_t done)>& done = {});
  // Every object whose name starts with name_prefix, in name order.
  std::vector<ObjectInfo> List(const std::string& name_prefix = "");
  // Creates the bucket (tests and first use); an existing one of ours is fine.
  void CreateBucket();

  const S3Config& config() const { return config_; }
  S3ClientStats stats() const;
  // "s3://BUCKET/PREFIX/NAME".
  std::string Describe(const std::string& name) const;

 private:
  std::string Key(const std::string& name) const;
  std::string UrlFor(const std::string& key, const std::string& query) const;
  // Sends with retries; returns the first response that is not retryable,
  // or throws after the last attempt. check_body: a complete body is
  // expected (GET), its length verified against Content-Length.
  HttpResponse SendWithRetry(HttpRequest request, const std::string& what,
                             size_t expected_body = SIZE_MAX);
  [[noreturn]] void ThrowFor(const HttpResponse& r, const std::string& what) const;

  const S3Config config_;
  std::shared_ptr<HttpTransport> transport_;
  const RetryPolicy retry_;
  // One DeleteObjects request; false when the server does not implement it.
  // Appends the keys it refused ("name: Code: Message") to refused.
  bool DeleteBatch(const std::vector<std::string>& names, size_t from, size_t to,
                   std::vector<std::string>& refused);

  std::atomic<uint64_t> gets_{0}, puts_{0}, heads_{0}, deletes_{0}, lists_{0}, retries_{0};
  std::atomic<uint64_t> multi_deletes_{0};
  std::atomic<bool> no_multi_delete_{false};  // the server answered 501 to one
  std::atomic<uint64_t> bytes_received_{0}, bytes_sent_{0};
};

}  // namespace pagefs
