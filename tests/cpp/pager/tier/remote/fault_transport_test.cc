// The retry logic of S3Client, with faults injected between it and a real
// SeaweedFS (FaultTransport).
#include "pager/tier/remote/fault_transport.h"

#include <gtest/gtest.h>

#include "pager/testing/error_code.h"
#include "pager/testing/seaweed_server.h"
#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/s3_client.h"

namespace pagefs {
namespace {

using Fault = FaultTransport::Fault;

class FaultTransportTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    curl_ = std::make_shared<CurlTransport>(config_.access_key, config_.secret_key, "us-east-1");
    faults_ = std::make_shared<FaultTransport>(*curl_);
    client_ = std::make_unique<S3Client>(
        config_, faults_,
        RetryPolicy{4, std::chrono::milliseconds(1), std::chrono::milliseconds(4)});
  }
  S3Config config_;
  std::shared_ptr<CurlTransport> curl_;
  std::shared_ptr<FaultTransport> faults_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(FaultTransportTest, SlowDownAndServerErrorsAreRetried) {
  faults_->Queue(Fault::kStatus, 503);
  faults_->Queue(Fault::kStatus, 500);
  EXPECT_TRUE(client_->Put("k", "v").written);
  EXPECT_EQ(faults_->requests(), 3u);
  EXPECT_EQ(client_->stats().retries, 2u);
  faults_->Queue(Fault::kStatus, 503);
  EXPECT_EQ(client_->Get("k"), "v");
}

TEST_F(FaultTransportTest, RetriesAreBoundedAndTheLastFailureIsNamed) {
  for (int i = 0; i < 4; ++i) faults_->Queue(Fault::kStatus, 503);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->Put("k", "v"); }, &msg), ErrorCode::kIo);
  EXPECT_NE(msg.find("4 attempts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SlowDown"), std::string::npos) << msg;
  EXPECT_NE(msg.find(config_.location.prefix + "/k"), std::string::npos) << msg;
  EXPECT_EQ(faults_->queued(), 0u);
}

TEST_F(FaultTransportTest, DroppedConnectionsAreRetried) {
  faults_->Queue(Fault::kDropBefore);
  faults_->Queue(Fault::kDropAfter);
  EXPECT_TRUE(client_->Put("k", "v").written);
  faults_->Queue(Fault::kDropBefore);
  EXPECT_TRUE(client_->Head("k"));
}

TEST_F(FaultTransportTest, ShortAndTruncatedBodiesAreRetried) {
  std::string body(50000, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  client_->Put("k", body);
  faults_->Queue(Fault::kShortBody);
  faults_->Queue(Fault::kTruncateBody);
  EXPECT_EQ(client_->Get("k"), body);
  faults_->Queue(Fault::kTruncateBody);
  EXPECT_EQ(client_->GetRange("k", 100, 20000), body.substr(100, 20000));
  EXPECT_EQ(client_->stats().retries, 3u);
}

TEST_F(FaultTransportTest, ACreateWhoseAnswerWasLostIsNotMistakenForAConflict) {
  // The first attempt creates the object, then its connection drops; the
  // retry's 412 answers our own write.
  faults_->Queue(Fault::kDropAfter);
  EXPECT_TRUE(client_->Put("head", "mine", PutCondition::kIfAbsent).written);
  // Someone else's object stays a conflict after a drop too.
  faults_->Queue(Fault::kDropAfter);
  EXPECT_FALSE(client_->Put("head", "other", PutCondition::kIfAbsent).written);
  EXPECT_EQ(client_->Get("head"), "mine");
}

}  // namespace
}  // namespace pagefs
