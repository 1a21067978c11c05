#include "pager/tier/remote/s3_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/seaweed_server.h"
#include "pager/tier/remote/curl_transport.h"

namespace pagefs {
namespace {

// Records requests and answers 200 with no body (URL building, no server).
class RecordingTransport final : public HttpTransport {
 public:
  HttpResponse Send(const HttpRequest& request) override {
    requests.push_back(request);
    HttpResponse r;
    r.status = 200;
    return r;
  }
  std::vector<HttpRequest> requests;
};

std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const std::string& h : r.headers) {
    if (h.rfind(name + ": ", 0) == 0) return h.substr(name.size() + 2);
  }
  return "";
}

S3Config Offline(bool path_style) {
  S3Config c;
  c.endpoint = "http://store.example:9000";
  c.access_key = "AK";
  c.secret_key = "SK";
  c.path_style = path_style;
  c.location = {"bucket", "stores/p"};
  return c;
}

TEST(S3ClientUrlTest, PathStyleAndVirtualHostedAddressing) {
  auto t = std::make_shared<RecordingTransport>();
  S3Client path(Offline(true), t);
  path.Put("seg/a b", "x");
  EXPECT_EQ(t->requests.back().url, "http://store.example:9000/bucket/stores/p/seg/a%20b");
  S3Client virt(Offline(false), t);
  virt.Delete("head");
  EXPECT_EQ(t->requests.back().url, "http://bucket.store.example:9000/stores/p/head");
}

TEST(S3ClientUrlTest, PutSignsThePayloadHashAndSendsConditionsAndTheSessionToken) {
  auto t = std::make_shared<RecordingTransport>();
  S3Config c = Offline(true);
  c.session_token = "TOKEN";
  S3Client client(c, t);
  client.Put("k", "hello\n", PutCondition::kIfAbsent);
  const HttpRequest& r = t->requests.back();
  EXPECT_EQ(HeaderOf(r, "x-amz-content-sha256"),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  EXPECT_EQ(HeaderOf(r, "If-None-Match"), "*");
  EXPECT_EQ(HeaderOf(r, "x-amz-security-token"), "TOKEN");
  client.Put("k", "v", PutCondition::kIfMatch, "abc");
  EXPECT_EQ(HeaderOf(t->requests.back(), "If-Match"), "\"abc\"");
}

class S3ClientTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    client_ = S3Client::Connect(config_);
  }
  S3Config config_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(S3ClientTest, PutGetHeadDeleteRoundTrip) {
  std::string body(100000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + 3);
  PutResult put = client_->Put("seg/1", body);
  EXPECT_TRUE(put.written);
  EXPECT_FALSE(put.etag.empty());
  EXPECT_EQ(client_->Get("seg/1"), body);
  std::optional<ObjectInfo> info = client_->Head("seg/1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, body.size());
  EXPECT_EQ(info->etag, put.etag);
  client_->Delete("seg/1");
  EXPECT_FALSE(client_->Head("seg/1"));
  EXPECT_EQ(CodeOf([&] { client_->Get("seg/1"); }), ErrorCode::kNotFound);
  client_->Delete("seg/1");  // deleting what is gone is fine
}

TEST_F(S3ClientTest, RangedGetReturnsExactlyTheRange) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += std::to_string(i) + ",";
  client_->Put("obj", body);
  EXPECT_EQ(client_->GetRange("obj", 1000, 333), body.substr(1000, 333));
  EXPECT_EQ(client_->GetRange("obj", 0, 1), body.substr(0, 1));
  EXPECT_EQ(client_->GetRange("obj", body.size() - 5, 5), body.substr(body.size() - 5));
  EXPECT_EQ(CodeOf([&] { client_->GetRange("obj", body.size() + 10, 5); }), ErrorCode::kIo);
}

TEST_F(S3ClientTest, IfNoneMatchCreatesOnceThenAnswersPreconditionFailed) {
  EXPECT_TRUE(client_->Put("head", "one", PutCondition::kIfAbsent).written);
  PutResult again = client_->Put("head", "two", PutCondition::kIfAbsent);
  EXPECT_FALSE(again.written);
  EXPECT_EQ(client_->Get("head"), "one");
}

TEST_F(S3ClientTest, IfMatchReplacesOnlyTheVersionNamed) {
  PutResult first = client_->Put("head", "one");
  PutResult second = client_->Put("head", "two", PutCondition::kIfMatch, first.etag);
  ASSERT_TRUE(second.written);
  EXPECT_EQ(client_->Get("head"), "two");
  // A writer still holding the first version's etag loses the race.
  EXPECT_FALSE(client_->Put("head", "three", PutCondition::kIfMatch, first.etag).written);
  EXPECT_EQ(client_->Get("head"), "two");
}

TEST_F(S3ClientTest, ListReturnsNamesUnderThePrefixInOrderWithSizes) {
  client_->Put("seg/b", "22");
  client_->Put("seg/a", "1");
  client_->Put("seg/c d", "333");
  client_->Put("head", "h");
  std::vector<ObjectInfo> seg = client_->List("seg/");
  ASSERT_EQ(seg.size(), 3u);
  EXPECT_EQ(seg[0].name, "seg/a");
  EXPECT_EQ(seg[1].name, "seg/b");
  EXPECT_EQ(seg[1].size, 2u);
  EXPECT_EQ(seg[2].name, "seg/c d");
  EXPECT_EQ(client_->List().size(), 4u);
}

TEST_F(S3ClientTest, ParallelRequestsFromManyThreadsAllLand) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string name = "p/" + std::to_string(t) + "-" + std::to_string(i);
        client_->Put(name, name);
        if (client_->Get(name) == name) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(client_->stats().puts, 40u);
}

TEST_F(S3ClientTest, WrongCredentialsAreAccessDeniedNamingTheKey) {
  S3Config bad = config_;
  bad.secret_key = "wrong";
  std::string msg;
  EXPECT_EQ(CodeOf([&] { S3Client::Connect(bad)->Put("x", "y"); }, &msg), ErrorCode::kIo);
  EXPECT_NE(msg.find("access denied"), std::string::npos) << msg;
  EXPECT_NE(msg.find(bad.access_key), std::string::npos) << msg;
}

TEST_F(S3ClientTest, AMissingBucketIsNotFoundNamingTheBucketAndEndpoint) {
  S3Config missing = config_;
  missing.location.bucket = "no-such-bucket-here";
  auto client = S3Client::Connect(missing);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client->Get("x"); }, &msg), ErrorCode::kNotFound);
  EXPECT_NE(msg.find("no-such-bucket-here"), std::string::npos) << msg;
  EXPECT_NE(msg.find(missing.endpoint), std::string::npos) << msg;
  EXPECT_EQ(CodeOf([&] { client->Head("x"); }), ErrorCode::kNotFound);
}

TEST(S3ClientUnreachableTest, AnUnreachableEndpointFailsAfterBoundedRetries) {
  S3Config c = Offline(true);
  c.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  auto transport = std::make_shared<CurlTransport>("AK", "SK", "us-east-1",
                                                   CurlTimeouts{std::chrono::milliseconds(500)});
  S3Client client(c, transport, {3, std::chrono::milliseconds(1), std::chrono::milliseconds(5)});
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client.Get("x"); }, &msg), ErrorCode::kIo);
  EXPECT_NE(msg.find("127.0.0.1:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 attempts"), std::string::npos) << msg;
  EXPECT_EQ(client.stats().retries, 2u);
}

}  // namespace
}  // namespace pagefs
