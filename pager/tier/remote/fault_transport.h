// FaultTransport: an HttpTransport that forwards to another one and injects
// the faults an object store shows on a bad day, on cue: a status (503
// SlowDown, 500) answered instead of the request, a dropped connection before
// or after the request reached the server, a body cut short, and latency.
// Faults are queued per request: each Send takes the next one queued (none:
// forward unchanged). It can also play a server without multi-object
// deletes (RefuseMultiDelete: every POST ?delete answered 501 NotImplemented,
// as some S3 servers do), so the single-DELETE fallback is tested against a
// server that has them. Tests of S3Client's retries use it over a real server.
// Safe for concurrent calls.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

#include "pager/tier/remote/http_transport.h"

namespace pagefs {

class FaultTransport final : public HttpTransport {
 public:
  enum class Fault {
    kStatus,        // answer `status` (with an S3 error body); the server never sees it
    kDropBefore,    // TransportError; the server never sees the request
    kDropAfter,     // the server handles the request, then the connection drops
    kShortBody,     // the server's response with its body cut in half, as a TransportError
                    // would be for curl (what a partial read becomes)
    kTruncateBody,  // the body cut in half but returned as if complete (a lying proxy)
    kRefuseKeys,    // a DeleteObjects forwarded, then answered as if the server had refused
                    // every key in it (a per-key <Error> each, code AccessDenied)
  };

  explicit FaultTransport(HttpTransport& target) : target_(target) {}

  // Queues fault for the next Send that has none queued before it.
  void Queue(Fault fault, long status = 503);
  // Every Send from the nth from now on (1 = the next) throws TransportError
  // before reaching the server, as if it had been killed; Heal() ends it.
  void FailFrom(uint64_t nth) { fail_from_.store(requests_.load() + nth); }
  void Heal() { fail_from_.store(0); }
  void SetLatency(std::chrono::nanoseconds latency) { latency_ns_.store(latency.count()); }
  // Answers every DeleteObjects (POST ?delete) with 501 NotImplemented,
  // without forwarding it, while on.
  void RefuseMultiDelete(bool on) { refuse_multi_delete_.store(on); }
  uint64_t multi_deletes_refused() const { return multi_deletes_refused_.load(); }
  uint64_t requests() const { return requests_.load(); }  // Sends seen, faulted or not
  size_t queued() const;

  HttpResponse Send(const HttpRequest& request) override;

 private:
  struct Planned {
    Fault fault;
    long status;
  };
  HttpTransport& target_;
  mutable std::mutex mu_;
  std::deque<Planned> plan_;
  std::atomic<int64_t> latency_ns_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> fail_from_{0};  // 0: off
  std::atomic<bool> refuse_multi_delete_{false};
  std::atomic<uint64_t> multi_deletes_refused_{0};
};

}  // namespace pagefs
