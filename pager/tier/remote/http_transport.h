// HttpTransport: sends one HTTP request and returns the response, with no
// retries and no knowledge of S3 beyond signing. S3Client builds requests and
// decides what to retry; CurlTransport speaks HTTP through libcurl;
// FaultTransport wraps another transport to inject latency, 503s, dropped
// connections and short bodies in tests (LevelDB's EnvWrapper move).
//
// Send throws TransportError when no complete response arrived (connection
// refused or dropped, timeout, a body shorter than its Content-Length): the
// request may or may not have taken effect. Any HTTP status is a response.
// Implementations are safe for concurrent calls.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {

struct HttpRequest {
  std::string method;  // GET, PUT, POST, HEAD, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  const uint8_t* body = nullptr;     // PUT and POST only
  size_t body_size = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// No complete response: worth a retry. sys_errno ETIMEDOUT: the connection
// or the transfer timed out (the last attempt's errno is what S3Client
// reports).
class TransportError : public Error {
 public:
  explicit TransportError(const std::string& message, int sys_errno = EIO)
      : Error(ErrorCode::kIo, message, sys_errno) {}
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse Send(const HttpRequest& request) = 0;
};

}  // namespace pagefs
