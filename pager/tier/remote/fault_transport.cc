#include "pager/tier/remote/fault_transport.h"

#include <optional>
#include <thread>

namespace pagefs {

void FaultTransport::Queue(Fault fault, long status) {
  std::lock_guard<std::mutex> lock(mu_);
  plan_.push_back({fault, status});
}

size_t FaultTransport::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plan_.size();
}

HttpResponse FaultTransport::Send(const HttpRequest& request) {
  const uint64_t n = requests_.fetch_add(1) + 1;
  if (uint64_t from = fail_from_.load(); from != 0 && n >= from) {
    throw TransportError(request.method + " " + request.url + ": connection refused (injected)");
  }
  if (int64_t ns = latency_ns_.load(); ns > 0) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
  }
  std::optional<Planned> planned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!plan_.empty()) {
      planned = plan_.front();
      plan_.pop_front();
    }
  }
  if (!planned) return target_.Send(request);
  switch (planned->fault) {
    case Fault::kStatus: {
      HttpResponse r;
      r.status = planned->status;
      const char* code = planned->status == 503 ? "SlowDown" : "InternalError";
      r.body = std::string("<?xml version=\"1.0\"?><Error><Code>") + code +
               "</Code><Message>injected</Message></Error>";
      return r;
    }
    case Fault::kDropBefore:
      throw TransportError(request.method + " " + request.url + ": connection dropped (injected)");
    case Fault::kDropAfter:
      target_.Send(request);
      throw TransportError(request.method + " " + request.url +
                           ": connection dropped after the request (injected)");
    case Fault::kShortBody:
      target_.Send(request);
      throw TransportError(request.method + " " + request.url +
                           ": transferred a partial file (injected)");
    case Fault::kTruncateBody: {
      HttpResponse r = target_.Send(request);
      r.body.resize(r.body.size() / 2);
      return r;
    }
  }
  return target_.Send(request);
}

}  // namespace pagefs
