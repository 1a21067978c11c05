// CurlTransport: HttpTransport over libcurl easy handles, SigV4-signed by
// libcurl itself (CURLOPT_AWS_SIGV4; the caller sends x-amz-content-sha256,
// which libcurl signs as the payload hash). Handles are pooled and reused, so
// connections stay alive between requests; each thread takes a free handle
// (or makes one), so requests from several threads run in parallel.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "pager/tier/remote/http_transport.h"

namespace pagefs {

// S3Config's connect_timeout and read_timeout. There is no limit on a
// request's whole time: a large upload that keeps moving is never cut.
struct CurlTimeouts {
  std::chrono::milliseconds connect{5000};
  // A request during which no byte moved, either way, for this long (rounded
  // up to whole seconds, what curl measures) is dropped: a stalled server or
  // connection.
  std::chrono::milliseconds read{15000};
};

class CurlTransport final : public HttpTransport {
 public:
  // Signs as access_key/secret_key in region (service s3).
  CurlTransport(const std::string& access_key, const std::string& secret_key,
                const std::string& region, CurlTimeouts timeouts = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse Send(const HttpRequest& request) override;

 private:
  void* TakeHandle();
  void GiveBack(void* handle);

  const std::string userpwd_;
  const std::string sigv4_;
  const CurlTimeouts timeouts_;
  const long read_seconds_;  // CURLOPT_LOW_SPEED_TIME
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*, kept alive with their connections
};

}  // namespace pagefs
