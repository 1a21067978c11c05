#include "pager/tier/remote/curl_transport.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "pager/tier/remote/remote_libraries.h"

namespace pagefs {

namespace {

struct Upload {
  const uint8_t* data;
  size_t size;
  size_t offset = 0;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t take = std::min(size * n, up->size - up->offset);
  std::memcpy(out, up->data + up->offset, take);
  up->offset += take;
  return take;
}

size_t WriteBody(char* in, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(in, size * n);
  return size * n;
}

size_t WriteHeader(char* in, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(in, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100 Continue)
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    size_t b = line.find_first_not_of(" \t", colon + 1);
    size_t e = line.find_last_not_of(" \t\r\n");
    (*headers)[name] = (b == std::string::npos || e < b) ? "" : line.substr(b, e - b + 1);
  }
  return size * n;
}

// "1.5" for 1500 ms.
std::string SecondsText(std::chrono::milliseconds ms) {
  std::string s = std::to_string(ms.count() / 1000);
  if (ms.count() % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms.count() % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s;
}

}  // namespace

CurlTransport::CurlTransport(const std::string& access_key, const std::string& secret_key,
                             const std::string& region, CurlTimeouts timeouts)
    : userpwd_(access_key + ":" + secret_key),
      sigv4_("aws:amz:" + region + ":s3"),
      timeouts_(timeouts),
      read_seconds_(std::max<long>(1, static_cast<long>((timeouts.read.count() + 999) / 1000))) {
  Curl();  // a missing libcurl is reported when the store opens, not at its first read
}

CurlTransport::~CurlTransport() {
  for (void* h : idle_) Curl().easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  CURL* h = Curl().easy_init();
  if (h == nullptr) throw TransportError("curl_easy_init failed");
  return h;
}

void CurlTransport::GiveBack(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

HttpResponse CurlTransport::Send(const HttpRequest& request) {
  const CurlApi& curl = Curl();
  CURL* h = static_cast<CURL*>(TakeHandle());
  // Options are set afresh each time; the connection cache survives the reset.
  curl.easy_reset(h);
  HttpResponse response;
  Upload upload{request.body, request.body_size};
  curl_slist* headers = nullptr;
  for (const std::string& line : request.headers)
    headers = curl.slist_append(headers, line.c_str());
  // No "Expect:" override here: libcurl would sign the empty header it then
  // leaves out, and the server would refuse the signature.

  curl.easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl.easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl.easy_setopt(h, CURLOPT_USERPWD, userpwd_.c_str());
  curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts_.connect.count()));
  // Fewer than one byte a second, averaged over read_timeout: no byte moved.
  curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, read_seconds_);
  curl.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl.easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl.easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "PUT") {
    curl.easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl.easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl.easy_setopt(h, CURLOPT_READDATA, &upload);
    curl.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
  } else if (request.method == "POST") {
    curl.easy_setopt(h, CURLOPT_POST, 1L);
    curl.easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl.easy_setopt(h, CURLOPT_READDATA, &upload);
    curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_size));
  } else if (request.method == "HEAD") {
    curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl.easy_perform(h);
  curl.slist_free_all(headers);
  if (rc != CURLE_OK) {
    // The handle may hold a broken connection: drop it rather than pool it.
    curl.easy_cleanup(h);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      throw TransportError(request.method + " " + request.url + ": " + curl.easy_strerror(rc) +
                               " (connect timeout " + SecondsText(timeouts_.connect) +
                               " s, PAGEFS_S3_CONNECT_TIMEOUT; read timeout " +
                               std::to_string(read_seconds_) + " s, PAGEFS_S3_READ_TIMEOUT)",
                           ETIMEDOUT);
    }
    throw TransportError(request.method + " " + request.url + ": " + curl.easy_strerror(rc));
  }
  curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  GiveBack(h);
  return response;
}

}  // namespace pagefs
