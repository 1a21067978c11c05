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

TEST_F(FaultTransportTest, A501IsAnAnswerNotRetried) {
  faults_->Queue(Fault::kStatus, 501);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->Put("k", "v"); }, &msg), ErrorCode::kIo);
  EXPECT_NE(msg.find("501"), std::string::npos) << msg;
  EXPECT_EQ(faults_->requests(), 1u);
  EXPECT_EQ(client_->stats().retries, 0u);
}

// Names of objects put under the test's prefix.
std::vector<std::string> PutObjects(S3Client& client, const std::string& stem, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    names.push_back(stem + "/" + std::to_string(i) + (i % 2 ? "&<odd>" : ""));
    client.Put(names.back(), "v" + std::to_string(i));
  }
  return names;
}

TEST_F(FaultTransportTest, DeleteManySendsBatchesOfDeleteObjects) {
  std::vector<std::string> names = PutObjects(*client_, "many", 7);
  client_->Put("kept", "k");
  names.push_back("never-there");  // deleting a missing object succeeds
  std::vector<size_t> done;
  EXPECT_EQ(client_->DeleteMany(names, 3, [&](size_t n) { done.push_back(n); }), 3u);
  EXPECT_EQ(done, (std::vector<size_t>{3, 6, 8}));
  EXPECT_EQ(client_->stats().multi_deletes, 3u);
  EXPECT_EQ(client_->stats().deletes, 0u);
  std::vector<ObjectInfo> left = client_->List("");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "kept");
  EXPECT_EQ(client_->DeleteMany({}), 0u);
}

TEST_F(FaultTransportTest, AServerWithoutDeleteObjectsGetsSingleDeletes) {
  const std::vector<std::string> names = PutObjects(*client_, "single", 5);
  faults_->RefuseMultiDelete(true);
  EXPECT_EQ(client_->DeleteMany(names, 2), 1u + 5u) << "one refused DeleteObjects, five DELETEs";
  EXPECT_EQ(faults_->multi_deletes_refused(), 1u);
  EXPECT_EQ(client_->stats().retries, 0u) << "a 501 is not retried";
  EXPECT_TRUE(client_->List("").empty());
  // Learnt once: the next call sends single DELETEs at once.
  const std::vector<std::string> more = PutObjects(*client_, "again", 2);
  EXPECT_EQ(client_->DeleteMany(more), 2u);
  EXPECT_EQ(faults_->multi_deletes_refused(), 1u);
  EXPECT_TRUE(client_->List("").empty());
}

TEST_F(FaultTransportTest, KeysTheServerRefusesAreNamedAndTheOthersStillGo) {
  const std::vector<std::string> names = PutObjects(*client_, "refused", 4);
  faults_->Queue(Fault::kRefuseKeys);  // the first batch's answer refuses its two keys
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->DeleteMany(names, 2); }, &msg), ErrorCode::kIo);
  EXPECT_NE(msg.find("2 of 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("AccessDenied"), std::string::npos) << msg;
  EXPECT_NE(msg.find(config_.location.prefix + "/refused/0 "), std::string::npos) << msg;
  EXPECT_EQ(client_->stats().multi_deletes, 2u) << "the second batch was sent all the same";
}

TEST_F(FaultTransportTest, ADeleteObjectsIsRetriedOnServerErrors) {
  const std::vector<std::string> names = PutObjects(*client_, "retried", 3);
  faults_->Queue(Fault::kStatus, 503);
  faults_->Queue(Fault::kDropAfter);
  EXPECT_EQ(client_->DeleteMany(names), 1u);
  EXPECT_EQ(client_->stats().retries, 2u);
  EXPECT_TRUE(client_->List("").empty());
}

}  // namespace
}  // namespace pagefs
