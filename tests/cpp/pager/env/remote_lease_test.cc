// RemoteLease against a real SeaweedFS: the writer role of a remote store
// across machines, taken, refused, renewed, taken over and lost.
#include "pager/env/remote_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/seaweed_server.h"

namespace pagefs {
namespace {

using std::chrono::seconds;

int64_t MsFromNow(int64_t ms) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         ms;
}

class RemoteLeaseTest : public testing::Test {
 protected:
  void SetUp() override {
    client_ = S3Client::Connect(SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  // Writes a lease object directly, as another machine's writer would.
  void PutLease(const std::string& holder, int64_t expires_ms) {
    client_->Put(RemoteLease::kObject,
                 "holder=" + holder + "\nexpires_ms=" + std::to_string(expires_ms) + "\n");
  }
  std::unique_ptr<RemoteLease> Take(const std::string& holder, seconds duration = seconds(30)) {
    return std::make_unique<RemoteLease>(*client_, holder, duration, "store 'p'");
  }

  std::unique_ptr<S3Client> client_;
};

TEST_F(RemoteLeaseTest, ASecondWriterIsBusyNamingTheHolderAndWhenTheLeaseExpires) {
  auto lease = Take("machine-a:11");
  std::optional<LeaseState> state = ReadLease(*client_);
  ASSERT_TRUE(state);
  EXPECT_EQ("machine-a:11", state->holder);
  EXPECT_GT(state->expires_ms, MsFromNow(25'000));
  EXPECT_LE(state->expires_ms, MsFromNow(30'000));
  std::string message;
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { Take("machine-b:22"); }, &message));
  EXPECT_NE(std::string::npos, message.find("store 'p' is open for writing by machine-a:11"))
      << message;
  EXPECT_NE(std::string::npos, message.find("expires")) << message;
  EXPECT_NE(std::string::npos, message.find("lease")) << message;
  EXPECT_TRUE(lease->held());
}

TEST_F(RemoteLeaseTest, ClosingGivesTheLeaseBackAtOnce) {
  Take("machine-a:11").reset();
  EXPECT_FALSE(ReadLease(*client_));
  auto next = Take("machine-b:22");
  EXPECT_EQ("machine-b:22", ReadLease(*client_)->holder);
}

TEST_F(RemoteLeaseTest, AnExpiredOrDamagedLeaseIsTakenOver) {
  PutLease("crashed:1", MsFromNow(-1000));
  auto lease = Take("machine-b:22");
  EXPECT_EQ("machine-b:22", ReadLease(*client_)->holder);
  lease.reset();
  client_->Put(RemoteLease::kObject, "not a lease");
  EXPECT_FALSE(ReadLease(*client_));  // not a lease object
  lease = Take("machine-c:33");
  EXPECT_EQ("machine-c:33", ReadLease(*client_)->holder);
}

TEST_F(RemoteLeaseTest, OfWritersRacingForAnExpiredLeaseExactlyOneWins) {
  PutLease("crashed:1", MsFromNow(-1000));
  constexpr int kWriters = 4;
  std::vector<std::unique_ptr<RemoteLease>> won(kWriters);
  std::atomic<int> busy{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        won[i] = Take("racer:" + std::to_string(i));
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kBusy) ++busy;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int winners = 0;
  std::string winner;
  for (int i = 0; i < kWriters; ++i) {
    if (won[i]) {
      ++winners;
      winner = "racer:" + std::to_string(i);
    }
  }
  EXPECT_EQ(1, winners);
  EXPECT_EQ(kWriters - 1, busy.load());
  EXPECT_EQ(winner, ReadLease(*client_)->holder);
}

TEST_F(RemoteLeaseTest, AHeldLeaseIsRenewedBeforeItExpires) {
  auto lease = Take("machine-a:11", seconds(1));
  const int64_t first = ReadLease(*client_)->expires_ms;
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // 2.5 durations
  EXPECT_TRUE(lease->held());
  std::optional<LeaseState> now = ReadLease(*client_);
  ASSERT_TRUE(now);
  EXPECT_EQ("machine-a:11", now->holder);
  EXPECT_GT(now->expires_ms, first + 1000);
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { Take("machine-b:22"); }));
}

TEST_F(RemoteLeaseTest, ALeaseTakenBehindItsBackIsLostAndNotDeletedOnClose) {
  auto lease = Take("machine-a:11", seconds(1));
  PutLease("thief:9", MsFromNow(60'000));
  // The next renewal (a third of the duration) finds another etag.
  for (int i = 0; i < 40 && lease->held(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(lease->held());
  lease.reset();
  std::optional<LeaseState> state = ReadLease(*client_);
  ASSERT_TRUE(state);
  EXPECT_EQ("thief:9", state->holder);
}

TEST(LeaseDurationTest, ComesFromTheVariableWithinOneSecondToADay) {
  auto from = [](std::optional<std::string> value) {
    return LeaseDurationFrom([value](const std::string& name) -> std::optional<std::string> {
      return name == "PAGEFS_LEASE_SECONDS" ? value : std::nullopt;
    });
  };
  EXPECT_EQ(seconds(30), from(std::nullopt));
  EXPECT_EQ(seconds(1), from("1"));
  EXPECT_EQ(seconds(86400), from("86400"));
  for (const char* bad : {"0", "86401", "-3", "ten", ""}) {
    std::string message;
    EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { from(bad); }, &message)) << bad;
    EXPECT_NE(std::string::npos, message.find("PAGEFS_LEASE_SECONDS")) << message;
  }
}

}  // namespace
}  // namespace pagefs
