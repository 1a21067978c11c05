#include "pager/tier/remote/s3_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "pager/testing/error_code.h"
#include "pager/tier/remote/s3_client.h"

namespace pagefs {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

class S3ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pagefs-s3cfg-XXXXXX";
    home_ = mkdtemp(tmpl);
    std::filesystem::create_directories(home_ + "/.aws");
    env_.vars["HOME"] = home_;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  void Write(const std::string& file, const std::string& text) {
    std::ofstream(home_ + "/.aws/" + file) << text;
  }
  std::string home_;
  FakeEnv env_;
};

TEST(S3UrlTest, BucketAndPrefixComeFromTheUrl) {
  S3Location loc = ParseS3Url("s3://my-bucket/stores/a/");
  EXPECT_EQ(loc.bucket, "my-bucket");
  EXPECT_EQ(loc.prefix, "stores/a");
  EXPECT_EQ(ParseS3Url("s3://abc").prefix, "");
}

TEST(S3UrlTest, MalformedUrlsAreRefusedNamingWhatIsWrong) {
  std::string msg;
  EXPECT_EQ(CodeOf([] { ParseS3Url("http://bucket/x"); }, &msg), ErrorCode::kInvalidArgument);
  EXPECT_NE(msg.find("s3://BUCKET"), std::string::npos) << msg;
  EXPECT_EQ(CodeOf([] { ParseS3Url("s3://ab/x"); }, &msg), ErrorCode::kInvalidArgument);
  EXPECT_NE(msg.find("'ab'"), std::string::npos) << msg;
  EXPECT_EQ(CodeOf([] { ParseS3Url("s3://Upper/x"); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([] { ParseS3Url("s3://bucket//x"); }), ErrorCode::kInvalidArgument);
  // Path steps, which a server resolves: the objects would land elsewhere.
  for (const char* url : {"s3://bucket/../x", "s3://bucket/./x", "s3://bucket/a/..",
                          "s3://bucket/a/./b/", "s3://bucket/."}) {
    EXPECT_EQ(CodeOf([url] { ParseS3Url(url); }, &msg), ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(msg.find("path segment"), std::string::npos) << msg;
  }
  EXPECT_EQ(ParseS3Url("s3://bucket/a..b/.c/d.").prefix, "a..b/.c/d.");
}

TEST_F(S3ConfigTest, EnvironmentVariablesWinAndACustomEndpointIsPathStyle) {
  env_.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:8333/";
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  env_.vars["AWS_SESSION_TOKEN"] = "TOK";
  env_.vars["AWS_DEFAULT_REGION"] = "eu-west-1";
  Write("credentials",
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  S3Config c = S3ConfigFor("s3://bucket/p", env_.lookup());
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:8333");
  EXPECT_EQ(c.access_key, "AK");
  EXPECT_EQ(c.secret_key, "SK");
  EXPECT_EQ(c.session_token, "TOK");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_TRUE(c.path_style);
  env_.vars["AWS_ENDPOINT_URL_S3"] = "http://s3only:9000";
  env_.vars["AWS_REGION"] = "ap-south-1";
  c = S3ConfigFor("s3://bucket/p", env_.lookup());
  EXPECT_EQ(c.endpoint, "http://s3only:9000");
  EXPECT_EQ(c.region, "ap-south-1");
}

TEST_F(S3ConfigTest, AwsDefaultsAreUsEast1AndVirtualHosted) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  S3Config c = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(c.path_style);
  // Dotted buckets stay path-style: their virtual host breaks TLS names.
  EXPECT_TRUE(S3ConfigFor("s3://my.bucket", env_.lookup()).path_style);
}

TEST_F(S3ConfigTest, TheNamedProfileComesFromTheCredentialsAndConfigFiles) {
  Write("credentials",
        "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
        "[work]\naws_access_key_id = W\naws_secret_access_key = WS\naws_session_token = WT\n");
  Write("config",
        "[default]\nregion = us-west-2\n"
        "[profile work]\nregion = eu-central-1\nendpoint_url = http://ceph:7480\n"
        "s3 =\n  addressing_style = virtual\n");
  S3Config d = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(d.access_key, "D");
  EXPECT_EQ(d.region, "us-west-2");
  env_.vars["AWS_PROFILE"] = "work";
  S3Config w = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(w.access_key, "W");
  EXPECT_EQ(w.secret_key, "WS");
  EXPECT_EQ(w.session_token, "WT");
  EXPECT_EQ(w.region, "eu-central-1");
  EXPECT_EQ(w.endpoint, "http://ceph:7480");
  EXPECT_FALSE(w.path_style);  // the profile's addressing_style wins
}

TEST_F(S3ConfigTest, FilesNamedByTheirVariablesAreRead) {
  std::ofstream(home_ + "/creds")
      << "[default]\naws_access_key_id = X\naws_secret_access_key = Y\n";
  env_.vars["AWS_SHARED_CREDENTIALS_FILE"] = home_ + "/creds";
  EXPECT_EQ(S3ConfigFor("s3://bucket", env_.lookup()).access_key, "X");
}

TEST_F(S3ConfigTest, MissingCredentialsSayWhereTheyWereLookedFor) {
  std::string msg;
  EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }, &msg),
            ErrorCode::kInvalidArgument);
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos) << msg;
  EXPECT_NE(msg.find(home_ + "/.aws/credentials"), std::string::npos) << msg;
}

TEST_F(S3ConfigTest, AnEndpointWithoutSchemeOrWithAPathIsRefused) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  env_.vars["AWS_ENDPOINT_URL"] = "127.0.0.1:8333";
  EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }),
            ErrorCode::kInvalidArgument);
  env_.vars["AWS_ENDPOINT_URL"] = "http://host:1/path";
  EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }),
            ErrorCode::kInvalidArgument);
}

TEST_F(S3ConfigTest, AttemptsComeFromAwsMaxAttemptsElseTheProfile) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  EXPECT_EQ(S3ConfigFor("s3://bucket", env_.lookup()).max_attempts, 6) << "the default";
  Write("config", "[default]\nmax_attempts = 4\n[profile work]\nmax_attempts = 9\n");
  EXPECT_EQ(S3ConfigFor("s3://bucket", env_.lookup()).max_attempts, 4);
  env_.vars["AWS_PROFILE"] = "work";
  EXPECT_EQ(S3ConfigFor("s3://bucket", env_.lookup()).max_attempts, 9);
  env_.vars["AWS_MAX_ATTEMPTS"] = "2";
  S3Config c = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(c.max_attempts, 2) << "the variable wins over the profile";
  EXPECT_EQ(RetryPolicyFor(c).max_attempts, 2);
  env_.vars["AWS_MAX_ATTEMPTS"] = "1";
  EXPECT_EQ(S3ConfigFor("s3://bucket", env_.lookup()).max_attempts, 1) << "no retry at all";
}

TEST_F(S3ConfigTest, BadAttemptCountsAreRefusedNamingTheSettingAndValue) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  for (const char* bad : {"0", "-1", "three", "2.5", "101", "4x", "99999999999999999999"}) {
    env_.vars["AWS_MAX_ATTEMPTS"] = bad;
    std::string msg;
    EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }, &msg),
              ErrorCode::kInvalidArgument)
        << bad;
    EXPECT_NE(msg.find("AWS_MAX_ATTEMPTS"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("'") + bad + "'"), std::string::npos) << msg;
  }
  env_.vars.erase("AWS_MAX_ATTEMPTS");
  Write("config", "[default]\nmax_attempts = lots\n");
  std::string msg;
  EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }, &msg),
            ErrorCode::kInvalidArgument);
  EXPECT_NE(msg.find("max_attempts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("profile 'default'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(home_ + "/.aws/config"), std::string::npos) << msg;
}

TEST_F(S3ConfigTest, TimeoutsAreSecondsFromPagefsVariables) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  S3Config d = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(d.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(d.read_timeout, std::chrono::seconds(15));
  env_.vars["PAGEFS_S3_CONNECT_TIMEOUT"] = "0.25";
  env_.vars["PAGEFS_S3_READ_TIMEOUT"] = "120";
  S3Config c = S3ConfigFor("s3://bucket", env_.lookup());
  EXPECT_EQ(c.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.read_timeout, std::chrono::seconds(120));
}

TEST_F(S3ConfigTest, BadTimeoutsAreRefusedNamingTheVariableAndValue) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AK";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SK";
  for (const char* var : {"PAGEFS_S3_CONNECT_TIMEOUT", "PAGEFS_S3_READ_TIMEOUT"}) {
    for (const char* bad : {"0", "-3", "soon", "5s", "nan", "inf", "1e9"}) {
      env_.vars[var] = bad;
      std::string msg;
      EXPECT_EQ(CodeOf([&] { S3ConfigFor("s3://bucket", env_.lookup()); }, &msg),
                ErrorCode::kInvalidArgument)
          << var << "=" << bad;
      EXPECT_NE(msg.find(var), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::string("'") + bad + "'"), std::string::npos) << msg;
    }
    env_.vars.erase(var);
  }
}

}  // namespace
}  // namespace pagefs
