#include "pager/tier/remote/s3_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <random>
#include <thread>

#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/remote_libraries.h"

namespace pagefs {

namespace {

std::string Hex(const unsigned char* p, unsigned n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string RawDigest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  Crypto().digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  const std::string raw = RawDigest(md, data);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<unsigned>(raw.size()));
}

// RFC 4648 base64 with padding (Content-MD5).
std::string Base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (i + 1 < in.size()) v |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// RFC 3986 percent-encoding as SigV4 canonicalizes it; '/' kept in keys.
std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string XmlUnescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {{"&lt;", "<"},    {"&gt;", ">"},
                                                                  {"&quot;", "\""}, {"&apos;", "'"},
                                                                  {"&#34;", "\""},  {"&amp;", "&"}};
  for (auto [from, to] : kEntities) {
    std::string f(from);
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, at + 1))
      s.replace(at, f.size(), to);
  }
  return s;
}

// The text of the first <tag>...</tag> at or after from; npos-safe.
// "2026-12-02T19:14:24.123Z" in milliseconds since 1970; 0 when unreadable.
int64_t IsoTimeMs(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return 0;
  if (*rest == '.') {
    // Fraction digits: the first three are milliseconds.
    for (int i = 1, scale = 100; i <= 3 && std::isdigit(static_cast<unsigned char>(rest[i]));
         ++i, scale /= 10) {
      ms += (rest[i] - '0') * scale;
    }
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::optional<std::string> XmlField(const std::string& xml, const std::string& tag, size_t from = 0,
                                    size_t to = std::string::npos) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t b = xml.find(open, from);
  if (b == std::string::npos || b >= to) return std::nullopt;
  b += open.size();
  size_t e = xml.find(close, b);
  if (e == std::string::npos) return std::nullopt;
  return XmlUnescape(xml.substr(b, e - b));
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// 501: the server does not implement the request (a multi-object delete on
// some servers); asking again cannot change that.
bool Retryable(long status) { return (status >= 500 && status != 501) || status == 429; }

const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

S3Client::S3Client(S3Config config, std::shared_ptr<HttpTransport> transport, RetryPolicy retry)
    : config_(std::move(config)), transport_(std::move(transport)), retry_(retry) {
  Crypto();  // as for libcurl: a missing libcrypto is reported at open
}

RetryPolicy RetryPolicyFor(const S3Config& config) {
  RetryPolicy p;
  p.max_attempts = config.max_attempts;
  return p;
}

std::unique_ptr<S3Client> S3Client::Connect(S3Config config, std::optional<RetryPolicy> retry) {
  auto transport =
      std::make_shared<CurlTransport>(config.access_key, config.secret_key, config.region,
                                      CurlTimeouts{config.connect_timeout, config.read_timeout});
  const RetryPolicy policy = retry.value_or(RetryPolicyFor(config));
  return std::make_unique<S3Client>(std::move(config), std::move(transport), policy);
}

std::string S3Client::Key(const std::string& name) const {
  return config_.location.prefix.empty() ? name : config_.location.prefix + "/" + name;
}

std::string S3Client::Describe(const std::string& name) const {
  return "s3://" + config_.location.bucket + "/" + Key(name) + " (" + config_.endpoint + ")";
}

std::string S3Client::UrlFor(const std::string& key, const std::string& query) const {
  std::string url;
  if (config_.path_style) {
    url = config_.endpoint + "/" + config_.location.bucket + "/" + UriEncode(key, true);
  } else {
    size_t host = config_.endpoint.find("//") + 2;
    url = config_.endpoint.substr(0, host) + config_.location.bucket + "." +
          config_.endpoint.substr(host) + "/" + UriEncode(key, true);
  }
  if (!query.empty()) url += "?" + query;
  return url;
}

S3ClientStats S3Client::stats() const {
  S3ClientStats s;
  s.gets = gets_.load();
  s.puts = puts_.load();
  s.heads = heads_.load();
  s.deletes = deletes_.load();
  s.lists = lists_.load();
  s.multi_deletes = multi_deletes_.load();
  s.retries = retries_.load();
  s.bytes_received = bytes_received_.load();
  s.bytes_sent = bytes_sent_.load();
  return s;
}

HttpResponse S3Client::SendWithRetry(HttpRequest request, const std::string& what,
                                     size_t expected_body) {
  if (!config_.session_token.empty()) {
    request.headers.push_back("x-amz-security-token: " + config_.session_token);
  }
  thread_local std::minstd_rand jitter(std::random_device{}());
  std::string last;
  int last_errno = EIO;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      retries_.fetch_add(1);
      auto delay = retry_.base_delay * (int64_t{1} << std::min(attempt - 2, 20));
      delay = std::min<std::chrono::milliseconds>(delay, retry_.max_delay);
      std::uniform_int_distribution<int64_t> half(delay.count() / 2, delay.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(half(jitter)));
    }
    try {
      HttpResponse r = transport_->Send(request);
      bytes_sent_.fetch_add(request.body_size);
      bytes_received_.fetch_add(r.body.size());
      last_errno = EIO;
      if (Retryable(r.status)) {
        last = "HTTP " + std::to_string(r.status) + " " + XmlField(r.body, "Code").value_or("") +
               " " + XmlField(r.body, "Message").value_or("");
      } else if (request.method == "GET" && r.status / 100 == 2) {
        std::string cl = r.Header("content-length");
        size_t want = expected_body != SIZE_MAX ? expected_body
                      : cl.empty()              ? r.body.size()
                                                : std::stoull(cl);
        if (r.body.size() == want || (expected_body != SIZE_MAX && r.status == 200)) return r;
        last = "short body: " + std::to_string(r.body.size()) + " of " + std::to_string(want) +
               " bytes";
      } else {
        return r;
      }
    } catch (const TransportError& e) {
      last = e.what();
      last_errno = e.sys_errno() != 0 ? e.sys_errno() : EIO;
    }
    if (attempt >= retry_.max_attempts) {
      throw Error(ErrorCode::kIo,
                  what + " failed after " + std::to_string(attempt) +
                      (attempt == 1 ? " attempt: " : " attempts: ") + last,
                  last_errno);
    }
  }
}

void S3Client::ThrowFor(const HttpResponse& r, const std::string& what) const {
  const std::string code = XmlField(r.body, "Code").value_or("");
  const std::string message = XmlField(r.body, "Message").value_or("");
  const std::string detail = "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code) +
                             (message.empty() ? "" : ": " + message);
  if (code == "NoSuchBucket") {
    throw Error(ErrorCode::kNotFound, what + ": bucket '" + config_.location.bucket +
                                          "' does not exist at " + config_.endpoint);
  }
  if (r.status == 404)
    throw Error(ErrorCode::kNotFound, what + ": no such object (" + detail + ")");
  if (r.status == 403 || r.status == 401) {
    throw Error(ErrorCode::kIo,
                what + ": access denied with access key '" + config_.access_key + "' (" + detail +
                    "); check the credentials",
                EACCES);
  }
  throw Error(ErrorCode::kIo, what + ": " + detail, EIO);
}

std::string S3Client::Get(const std::string& name) {
  gets_.fetch_add(1);
  HttpRequest req{"GET", UrlFor(Key(name), ""), {"x-amz-content-sha256: " + kEmptySha256}};
  HttpResponse r = SendWithRetry(req, "GET " + Describe(name));
  if (r.status != 200) ThrowFor(r, "GET " + Describe(name));
  return std::move(r.body);
}

std::string S3Client::GetRange(const std::string& name, uint64_t offset, uint64_t length) {
  if (length == 0) return {};
  gets_.fetch_add(1);
  const std::string what =
      "GET " + Describe(name) + " bytes " + std::to_string(offset) + "+" + std::to_string(length);
  HttpRequest req{
      "GET",
      UrlFor(Key(name), ""),
      {"x-amz-content-sha256: " + kEmptySha256,
       "Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  HttpResponse r = SendWithRetry(req, what, length);
  if (r.status == 200) {
    // A server that ignores Range sends the whole object.
    if (r.body.size() < offset + length) {
      throw Error(ErrorCode::kIo,
                  what + ": the object has only " + std::to_string(r.body.size()) + " bytes", EIO);
    }
    return r.body.substr(offset, length);
  }
  if (r.status == 416) {
    throw Error(ErrorCode::kIo, what + ": the object is shorter than the range", EIO);
  }
  if (r.status != 206) ThrowFor(r, what);
  return std::move(r.body);
}

std::optional<ObjectInfo> S3Client::Head(const std::string& name) {
  heads_.fetch_add(1);
  HttpRequest req{"HEAD", UrlFor(Key(name), ""), {"x-amz-content-sha256: " + kEmptySha256}};
  HttpResponse r = SendWithRetry(req, "HEAD " + Describe(name));
  if (r.status == 404) {
    // A HEAD has no body to say whether the bucket is missing; ask the bucket.
    HttpRequest bucket{"HEAD", UrlFor("", ""), {"x-amz-content-sha256: " + kEmptySha256}};
    HttpResponse b = SendWithRetry(bucket, "HEAD bucket " + config_.location.bucket);
    if (b.status == 404) {
      throw Error(ErrorCode::kNotFound, "HEAD " + Describe(name) + ": bucket '" +
                                            config_.location.bucket + "' does not exist at " +
                                            config_.endpoint);
    }
    return std::nullopt;
  }
  if (r.status != 200) ThrowFor(r, "HEAD " + Describe(name));
  ObjectInfo info;
  info.name = name;
  std::string cl = r.Header("content-length");
  info.size = cl.empty() ? 0 : std::stoull(cl);
  info.etag = Unquote(r.Header("etag"));
  return info;
}

PutResult S3Client::Put(const std::string& name, std::string_view body, PutCondition condition,
                        const std::string& etag) {
  puts_.fetch_add(1);
  const std::string what = "PUT " + Describe(name);
  HttpRequest req{"PUT",
                  UrlFor(Key(name), ""),
                  {"x-amz-content-sha256: " + Digest(Crypto().sha256(), body),
                   "Content-Type: application/octet-stream"},
                  reinterpret_cast<const uint8_t*>(body.data()),
                  body.size()};
  if (condition == PutCondition::kIfAbsent) req.headers.push_back("If-None-Match: *");
  if (condition == PutCondition::kIfMatch) req.headers.push_back("If-Match: \"" + etag + "\"");
  const uint64_t retries_before = retries_.load();
  HttpResponse r = SendWithRetry(req, what);
  if (r.status == 412) {
    // After a retry the 412 may answer our own earlier attempt, which took
    // effect before its connection dropped: the object then holds our bytes.
    if (retries_.load() != retries_before) {
      std::optional<ObjectInfo> now = Head(name);
      const std::string md5 = Digest(Crypto().md5(), body);
      if (now && now->etag == md5) return {true, md5};
    }
    return {false, {}};
  }
  if (r.status != 200) ThrowFor(r, what);
  return {true, Unquote(r.Header("etag"))};
}

void S3Client::Delete(const std::string& name) {
  deletes_.fetch_add(1);
  HttpRequest req{"DELETE", UrlFor(Key(name), ""), {"x-amz-content-sha256: " + kEmptySha256}};
  HttpResponse r = SendWithRetry(req, "DELETE " + Describe(name));
  if (r.status == 204 || r.status == 200) return;
  if (r.status == 404 && XmlField(r.body, "Code").value_or("") != "NoSuchBucket") return;
  ThrowFor(r, "DELETE " + Describe(name));
}

bool S3Client::DeleteBatch(const std::vector<std::string>& names, size_t from, size_t to,
                           std::vector<std::string>& refused) {
  multi_deletes_.fetch_add(1);
  // Quiet: the answer lists only the keys that failed.
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (size_t i = from; i < to; ++i)
    body += "<Object><Key>" + XmlEscape(Key(names[i])) + "</Key></Object>";
  body += "</Delete>";
  // The query "delete=" rather than "delete": what SigV4 canonicalizes it to.
  HttpRequest req{
      "POST",
      UrlFor("", "delete="),
      {"x-amz-content-sha256: " + Digest(Crypto().sha256(), body),
       "Content-MD5: " + Base64(RawDigest(Crypto().md5(), body)), "Content-Type: application/xml"},
      reinterpret_cast<const uint8_t*>(body.data()),
      body.size()};
  const std::string what = "DeleteObjects of " + std::to_string(to - from) +
                           " objects (the first " + Describe(names[from]) + ")";
  HttpResponse r = SendWithRetry(req, what);
  const std::string code = XmlField(r.body, "Code").value_or("");
  if (r.status == 501 || (r.status / 100 != 2 && code == "NotImplemented")) return false;
  if (r.status != 200) ThrowFor(r, what);
  const size_t strip = config_.location.prefix.empty() ? 0 : config_.location.prefix.size() + 1;
  for (size_t at = r.body.find("<Error>"); at != std::string::npos;
       at = r.body.find("<Error>", at + 1)) {
    const size_t end = r.body.find("</Error>", at);
    std::string key = XmlField(r.body, "Key", at, end).value_or("");
    const std::string key_code = XmlField(r.body, "Code", at, end).value_or("");
    if (key_code == "NoSuchKey") continue;  // gone already: what we wanted
    if (key.size() >= strip) key = key.substr(strip);
    refused.push_back(Describe(key) + ": " + key_code + ": " +
                      XmlField(r.body, "Message", at, end).value_or(""));
  }
  return true;
}

uint64_t S3Client::DeleteMany(const std::vector<std::string>& names, size_t batch,
                              const std::function<void(size_t done)>& done) {
  batch = std::clamp<size_t>(batch, 1, kMaxDeleteBatch);
  uint64_t requests = 0;
  std::vector<std::string> refused;
  size_t next = 0;
  while (next < names.size()) {
    if (!no_multi_delete_.load()) {
      const size_t to = std::min(names.size(), next + batch);
      ++requests;
      if (DeleteBatch(names, next, to, refused)) {
        next = to;
        if (done) done(next);
        continue;
      }
      no_multi_delete_.store(true);  // 501: single DELETEs from now on
    }
    Delete(names[next++]);
    ++requests;
    if (done) done(next);
  }
  if (!refused.empty()) {
    throw Error(ErrorCode::kIo,
                "DeleteObjects refused " + std::to_string(refused.size()) + " of " +
                    std::to_string(names.size()) + " objects; the first: " + refused.front(),
                EIO);
  }
  return requests;
}

std::vector<ObjectInfo> S3Client::List(const std::string& name_prefix) {
  const std::string key_prefix = Key(name_prefix);
  const size_t strip = config_.location.prefix.empty() ? 0 : config_.location.prefix.size() + 1;
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    lists_.fetch_add(1);
    // SigV4 wants the query's parameters sorted by name.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
    query += "list-type=2&prefix=" + UriEncode(key_prefix, false);
    HttpRequest req{"GET", UrlFor("", query), {"x-amz-content-sha256: " + kEmptySha256}};
    const std::string what =
        "LIST s3://" + config_.location.bucket + "/" + key_prefix + " (" + config_.endpoint + ")";
    HttpResponse r = SendWithRetry(req, what);
    if (r.status != 200) ThrowFor(r, what);
    for (size_t at = r.body.find("<Contents>"); at != std::string::npos;
         at = r.body.find("<Contents>", at + 1)) {
      size_t end = r.body.find("</Contents>", at);
      ObjectInfo info;
      std::string key = XmlField(r.body, "Key", at, end).value_or("");
      if (key.size() < strip) continue;
      info.name = key.substr(strip);
      info.size = std::stoull(XmlField(r.body, "Size", at, end).value_or("0"));
      info.etag = Unquote(XmlField(r.body, "ETag", at, end).value_or(""));
      info.last_modified_ms = IsoTimeMs(XmlField(r.body, "LastModified", at, end).value_or(""));
      out.push_back(std::move(info));
    }
    if (XmlField(r.body, "IsTruncated").value_or("false") != "true") break;
    token = XmlField(r.body, "NextContinuationToken").value_or("");
    if (token.empty()) break;
  }
  return out;
}

void S3Client::CreateBucket() {
  HttpRequest req{"PUT", UrlFor("", ""), {"x-amz-content-sha256: " + kEmptySha256}};
  req.url = config_.path_style ? config_.endpoint + "/" + config_.location.bucket : UrlFor("", "");
  const std::string what = "create bucket " + config_.location.bucket + " at " + config_.endpoint;
  HttpResponse r = SendWithRetry(req, what);
  if (r.status == 200) return;
  if (r.status == 409 && XmlField(r.body, "Code").value_or("") == "BucketAlreadyOwnedByYou") return;
  ThrowFor(r, what);
}

}  // namespace pagefs
