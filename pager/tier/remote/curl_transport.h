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

struct CurlTimeouts {
  std::chrono::milliseconds connect{5000};
  // A transfer slower than 1 KiB/s for this long is dropped (a stalled
  // connection), however large the object.
  std::chrono::seconds stall{15};
  std::chrono::seconds total{300};
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
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*, kept alive with their connections
};

}  // namespace pagefs
