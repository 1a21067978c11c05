// S3Config: where an S3-compatible object store is and who we are to it,
// gathered the way every S3 tool gathers it (the AWS CLI, boto3, rclone):
// - the store URL names the bucket and a key prefix: s3://BUCKET/PREFIX;
// - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or endpoint_url in the
//   profile's section of ~/.aws/config (default: AWS's regional endpoint);
// - region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1;
// - credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
//   else the profile (AWS_PROFILE, default "default") in ~/.aws/credentials
//   (AWS_SHARED_CREDENTIALS_FILE) and ~/.aws/config (AWS_CONFIG_FILE);
// - addressing: path-style (http://host/BUCKET/KEY) for a custom endpoint,
//   virtual-hosted (http://BUCKET.host/KEY) for AWS, unless the profile says
//   `s3 =` / `  addressing_style = path|virtual` as the AWS CLI reads it;
// - attempts per request: AWS_MAX_ATTEMPTS, else the profile's max_attempts
//   (the first try included, as the AWS SDKs count), default 6;
// - timeouts, pagefs's own: PAGEFS_S3_CONNECT_TIMEOUT (seconds to set up a
//   connection, default 5) and PAGEFS_S3_READ_TIMEOUT (seconds without a
//   byte moving either way before a request is given up, default 15; a slow
//   but moving transfer of a large object is never cut).
// Pure functions of their inputs (the environment is passed in), so tests
// need no process state.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace pagefs {

struct S3Location {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'; may be empty
};

struct S3Config {
  std::string endpoint;  // scheme://host[:port], no trailing '/'
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty: none
  bool path_style = true;
  S3Location location;
  int max_attempts = 6;                             // 1..kMaxAttempts
  std::chrono::milliseconds connect_timeout{5000};  // 1 ms .. kMaxTimeout
  std::chrono::milliseconds read_timeout{15000};    // whole seconds are what curl measures

  static constexpr int kMaxAttempts = 100;
  static constexpr std::chrono::hours kMaxTimeout{24};

  // "endpoint http://127.0.0.1:8333, bucket b" for messages.
  std::string Describe() const;
};

// Parses s3://BUCKET[/PREFIX]. Throws Error(kInvalidArgument) naming the URL
// and what is wrong (scheme, bucket name rules: 3-63 of [a-z0-9.-]).
S3Location ParseS3Url(const std::string& url);

// Looks a variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// The config for the store at url. Throws Error(kInvalidArgument) for a bad
// URL or endpoint, when no credentials are found anywhere (naming where it
// looked), and for an attempt count or timeout that is not a number in range
// (naming the variable, or the profile and file, and the value).
S3Config S3ConfigFor(const std::string& url, const EnvLookup& env = ProcessEnv);

}  // namespace pagefs
