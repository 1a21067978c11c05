#include "pager/tier/remote/fault_transport.h"

#include <optional>
#include <string>
#include <thread>

namespace pagefs {

namespace {

HttpResponse ErrorResponse(long status, const std::string& code) {
  HttpResponse r;
  r.status = status;
  r.body =
      "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>injected</Message></Error>";
  return r;
}

bool IsMultiDelete(const HttpRequest& request) {
  return request.method == "POST" && request.url.find("?delete") != std::string::npos;
}

// A DeleteObjects answer refusing every <Key> of the request's body.
HttpResponse RefuseEveryKey(const HttpRequest& request) {
  const std::string body(reinterpret_cast<const char*>(request.body), request.body_size);
  HttpResponse r;
  r.status = 200;
  r.body = "<?xml version=\"1.0\"?><DeleteResult>";
  for (size_t at = body.find("<Key>"); at != std::string::npos; at = body.find("<Key>", at + 1)) {
    const size_t end = body.find("</Key>", at);
    r.body += "<Error>" + body.substr(at, end + 6 - at) +
              "<Code>AccessDenied</Code><Message>injected</Message></Error>";
  }
  r.body += "</DeleteResult>";
  return r;
}

}  // namespace

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
  if (refuse_multi_delete_.load() && IsMultiDelete(request)) {
    multi_deletes_refused_.fetch_add(1);
    return ErrorResponse(501, "NotImplemented");
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
    case Fault::kStatus:
      return ErrorResponse(planned->status, planned->status == 503   ? "SlowDown"
                                            : planned->status == 501 ? "NotImplemented"
                                                                     : "InternalError");
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
    case Fault::kRefuseKeys: target_.Send(request); return RefuseEveryKey(request);
    case Fault::kTruncateBody: {
      HttpResponse r = target_.Send(request);
      r.body.resize(r.body.size() / 2);
      return r;
    }
  }
  return target_.Send(request);
}

}  // namespace pagefs
