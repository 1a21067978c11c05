#include "pager/tier/remote/s3_config.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include "pager/util/error.h"

namespace pagefs {

namespace {

using Section = std::map<std::string, std::string>;

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// One section of an AWS ini file. A nested block ("s3 =" followed by indented
// "key = value" lines) is flattened to "s3.key".
Section ReadSection(const std::string& path, const std::string& wanted) {
  Section out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line, current, nested;
  bool inside = false;
  while (std::getline(in, line)) {
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      current = Trim(t.substr(1, t.size() - 2));
      inside = current == wanted;
      nested.clear();
      continue;
    }
    if (!inside) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    if (!indented) nested.clear();
    if (!indented && value.empty()) {
      nested = key;
      continue;
    }
    out[nested.empty() ? key : nested + "." + key] = value;
  }
  return out;
}

bool ValidBucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

// A whole number in [1, S3Config::kMaxAttempts]; where names the setting.
int ParseAttempts(const std::string& value, const std::string& where) {
  size_t used = 0;
  long n = 0;
  try {
    n = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || n < 1 || n > S3Config::kMaxAttempts) {
    throw Error(ErrorCode::kInvalidArgument, where + " = '" + value +
                                                 "' is not a whole number of attempts from 1 to " +
                                                 std::to_string(S3Config::kMaxAttempts));
  }
  return static_cast<int>(n);
}

// Seconds (a decimal number, fractions allowed) above 0 and at most
// S3Config::kMaxTimeout, in milliseconds rounded up.
std::chrono::milliseconds ParseSeconds(const std::string& value, const std::string& where) {
  size_t used = 0;
  double s = 0;
  try {
    s = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const double max = std::chrono::duration<double>(S3Config::kMaxTimeout).count();
  if (used == 0 || used != value.size() || !(s > 0) || s > max) {
    throw Error(ErrorCode::kInvalidArgument,
                where + " = '" + value + "' is not a number of seconds above 0 and at most " +
                    std::to_string(static_cast<int64_t>(max)));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(s * 1000)));
}

}  // namespace

std::string S3Config::Describe() const {
  return "endpoint " + endpoint + ", bucket " + location.bucket;
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

S3Location ParseS3Url(const std::string& url) {
  const std::string scheme = "s3://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "remote '" + url + "' is not an S3 URL: expected s3://BUCKET[/PREFIX]");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) loc.prefix = rest.substr(slash + 1);
  while (!loc.prefix.empty() && loc.prefix.back() == '/') loc.prefix.pop_back();
  if (!ValidBucket(loc.bucket)) {
    throw Error(ErrorCode::kInvalidArgument,
                "remote '" + url + "': bucket name '" + loc.bucket +
                    "' must be 3 to 63 characters of a-z, 0-9, '.' and '-'");
  }
  if (loc.prefix.find("//") != std::string::npos || (!loc.prefix.empty() && loc.prefix[0] == '/')) {
    throw Error(ErrorCode::kInvalidArgument,
                "remote '" + url + "': the key prefix has an empty path segment");
  }
  // "." and ".." are path steps to an HTTP client and a server (which may
  // resolve them), never the key they spell: the objects would not be where
  // a listing of that prefix looks.
  for (size_t at = 0; at <= loc.prefix.size() && !loc.prefix.empty();) {
    const size_t end = std::min(loc.prefix.find('/', at), loc.prefix.size());
    const std::string_view segment(loc.prefix.data() + at, end - at);
    if (segment == "." || segment == "..") {
      throw Error(ErrorCode::kInvalidArgument, "remote '" + url + "': the key prefix has a '" +
                                                   std::string(segment) + "' path segment");
    }
    at = end + 1;
  }
  return loc;
}

S3Config S3ConfigFor(const std::string& url, const EnvLookup& env) {
  S3Config cfg;
  cfg.location = ParseS3Url(url);
  const std::string home = env("HOME").value_or("");
  const std::string profile = env("AWS_PROFILE").value_or("default");
  const std::string cred_path =
      env("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  const std::string conf_path = env("AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  Section creds = ReadSection(cred_path, profile);
  // ~/.aws/config names non-default profiles "[profile NAME]".
  Section conf = ReadSection(conf_path, profile == "default" ? "default" : "profile " + profile);
  auto from_conf = [&](const std::string& key) -> std::optional<std::string> {
    if (auto it = conf.find(key); it != conf.end() && !it->second.empty()) return it->second;
    return std::nullopt;
  };
  auto from_creds = [&](const std::string& key) -> std::optional<std::string> {
    if (auto it = creds.find(key); it != creds.end() && !it->second.empty()) return it->second;
    return from_conf(key);  // the config file may hold credentials too
  };

  std::optional<std::string> region = env("AWS_REGION");
  if (!region) region = env("AWS_DEFAULT_REGION");
  if (!region) region = from_conf("region");
  if (region) cfg.region = *region;

  std::optional<std::string> endpoint = env("AWS_ENDPOINT_URL_S3");
  if (!endpoint) endpoint = env("AWS_ENDPOINT_URL");
  if (!endpoint) endpoint = from_conf("s3.endpoint_url");
  if (!endpoint) endpoint = from_conf("endpoint_url");
  const bool custom = endpoint.has_value();
  cfg.endpoint = custom ? *endpoint : "https://s3." + cfg.region + ".amazonaws.com";
  while (!cfg.endpoint.empty() && cfg.endpoint.back() == '/') cfg.endpoint.pop_back();
  if (cfg.endpoint.rfind("http://", 0) != 0 && cfg.endpoint.rfind("https://", 0) != 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "S3 endpoint '" + cfg.endpoint + "' must start with http:// or https://");
  }
  if (cfg.endpoint.find('/', cfg.endpoint.find("//") + 2) != std::string::npos) {
    throw Error(ErrorCode::kInvalidArgument,
                "S3 endpoint '" + cfg.endpoint + "' must be scheme://host[:port], without a path");
  }
  cfg.path_style = custom;
  if (auto style = from_conf("s3.addressing_style")) {
    if (*style == "path")
      cfg.path_style = true;
    else if (*style == "virtual")
      cfg.path_style = false;
  }
  // A dotted bucket name breaks TLS certificates of virtual hosts.
  if (cfg.location.bucket.find('.') != std::string::npos) cfg.path_style = true;

  const std::string in_profile = " in profile '" + profile + "' of " + conf_path;
  if (std::optional<std::string> v = env("AWS_MAX_ATTEMPTS")) {
    cfg.max_attempts = ParseAttempts(*v, "AWS_MAX_ATTEMPTS");
  } else if (std::optional<std::string> p = from_conf("max_attempts")) {
    cfg.max_attempts = ParseAttempts(*p, "max_attempts" + in_profile);
  }
  if (std::optional<std::string> v = env("PAGEFS_S3_CONNECT_TIMEOUT")) {
    cfg.connect_timeout = ParseSeconds(*v, "PAGEFS_S3_CONNECT_TIMEOUT");
  }
  if (std::optional<std::string> v = env("PAGEFS_S3_READ_TIMEOUT")) {
    cfg.read_timeout = ParseSeconds(*v, "PAGEFS_S3_READ_TIMEOUT");
  }

  std::optional<std::string> key = env("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env("AWS_SECRET_ACCESS_KEY");
  if (key && secret) {
    cfg.access_key = *key;
    cfg.secret_key = *secret;
    cfg.session_token = env("AWS_SESSION_TOKEN").value_or("");
  } else {
    cfg.access_key = from_creds("aws_access_key_id").value_or("");
    cfg.secret_key = from_creds("aws_secret_access_key").value_or("");
    cfg.session_token = from_creds("aws_session_token").value_or("");
  }
  if (cfg.access_key.empty() || cfg.secret_key.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "no S3 credentials for remote '" + url +
                    "': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '" +
                    profile + "' aws_access_key_id and aws_secret_access_key in " + cred_path);
  }
  return cfg;
}

}  // namespace pagefs
