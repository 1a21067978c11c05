#include "pager/tier/remote/remote_tier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

class RemoteTierTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    client_ = S3Client::Connect(config_);
  }
  S3Config config_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(RemoteTierTest, WrittenSlotsReadBackBeforeAndAfterSyncAndUnwrittenOnesAreZeros) {
  RemoteTier tier(*client_, kPage);
  for (SlotId s = 2; s < 12; ++s) tier.Write(s, PageBytes(s, 1).data());
  EXPECT_EQ(PageBytes(5, 1), SlotBytes(tier, 5)) << "pending, not yet uploaded";
  EXPECT_EQ(client_->stats().puts, 0u) << "nothing leaves before Sync";
  tier.Sync();
  for (SlotId s = 2; s < 12; ++s) EXPECT_EQ(PageBytes(s, 1), SlotBytes(tier, s));
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), SlotBytes(tier, 50));
  EXPECT_EQ(12u, tier.size());
  tier.Discard(3);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), SlotBytes(tier, 3));
}

TEST_F(RemoteTierTest, SyncPacksCompressedPagesIntoFewSegmentObjects) {
  RemoteTier tier(*client_, kPage);
  constexpr SlotId kSlots = 3000;  // 12 MiB raw
  for (SlotId s = 0; s < kSlots; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
  std::vector<ObjectInfo> segments = client_->List("seg/");
  EXPECT_GE(segments.size(), 1u);
  EXPECT_LE(segments.size(), 3u) << "objects of a few MiB, never one per page";
  uint64_t bytes = 0;
  for (const ObjectInfo& o : segments) bytes += o.size;
  EXPECT_LT(bytes, kSlots * kPage / 4) << "each page is compressed";
  EXPECT_EQ(bytes - segments.size() * 8, tier.stats().bytes_on_disk);
  EXPECT_EQ(PageBytes(2999, 1), SlotBytes(tier, 2999));
}

TEST_F(RemoteTierTest, AReadRunOfNeighboursIsOneRangedGet) {
  RemoteTier tier(*client_, kPage);
  for (SlotId s = 0; s < 200; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
  std::vector<std::vector<uint8_t>> pages(100, std::vector<uint8_t>(kPage));
  std::vector<uint8_t*> bufs;
  for (auto& p : pages) bufs.push_back(p.data());
  const uint64_t before = client_->stats().gets;
  tier.ReadRun(50, 100, bufs.data());
  EXPECT_EQ(client_->stats().gets - before, 1u);
  for (SlotId i = 0; i < 100; ++i) EXPECT_EQ(PageBytes(50 + i, 1), pages[i]) << i;
}

TEST_F(RemoteTierTest, AReadRunWithSmallGapsInOneSegmentIsStillOneGet) {
  RemoteTier tier(*client_, kPage);
  for (SlotId s = 0; s < 200; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
  tier.Discard(60);                         // a hole in the run: never written, zeros
  tier.Write(61, PageBytes(61, 2).data());  // pending: served from the spill file
  std::vector<std::vector<uint8_t>> pages(100, std::vector<uint8_t>(kPage));
  std::vector<uint8_t*> bufs;
  for (auto& p : pages) bufs.push_back(p.data());
  const uint64_t before = client_->stats().gets;
  tier.ReadRun(50, 100, bufs.data());
  EXPECT_EQ(client_->stats().gets - before, 1u);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), pages[10]);
  EXPECT_EQ(PageBytes(61, 2), pages[11]);
  for (SlotId i = 12; i < 100; ++i) EXPECT_EQ(PageBytes(50 + i, 1), pages[i]) << i;
}

TEST_F(RemoteTierTest, ACommitIsFoundByAnotherTierWithNothingLocal) {
  {
    RemoteTier writer(*client_, kPage);
    EXPECT_FALSE(writer.LoadCommit()) << "an empty prefix has no head";
    for (SlotId s = 2; s < 40; ++s) writer.Write(s, PageBytes(s, 1).data());
    writer.Sync();
    writer.PublishCommit(1, "record one");
    writer.Write(7, PageBytes(7, 2).data());
    writer.Sync();
    writer.PublishCommit(2, "record two");
  }
  RemoteTier reader(*client_, kPage);
  EXPECT_EQ(reader.LoadCommit().value_or(""), "record two");
  EXPECT_EQ(PageBytes(7, 2), SlotBytes(reader, 7));
  EXPECT_EQ(PageBytes(39, 1), SlotBytes(reader, 39));
}

TEST_F(RemoteTierTest, TheHeadMovesOnlyFromTheVersionAWriterRead) {
  RemoteTier first(*client_, kPage), second(*client_, kPage);
  EXPECT_FALSE(first.LoadCommit());
  EXPECT_FALSE(second.LoadCommit());
  first.PublishCommit(1, "first");
  std::string msg;
  EXPECT_EQ(CodeOf([&] { second.PublishCommit(1, "second"); }, &msg), ErrorCode::kBusy);
  EXPECT_NE(msg.find("another writer"), std::string::npos) << msg;
  first.PublishCommit(2, "first again");
  RemoteTier reader(*client_, kPage);
  EXPECT_EQ(reader.LoadCommit().value_or(""), "first again");
}

TEST_F(RemoteTierTest, AFlippedBitInASegmentIsCorruptionNamingTheObjectAndSlot) {
  RemoteTier writer(*client_, kPage);
  for (SlotId s = 2; s < 10; ++s) writer.Write(s, PageBytes(s, 1).data());
  writer.Sync();
  writer.PublishCommit(1, "r");
  const std::string segment = writer.SegmentOf(5).value();
  std::string bytes = client_->Get(segment);
  bytes[bytes.size() / 2] ^= 0x10;  // written behind pagefs's back through the S3 API
  client_->Put(segment, bytes);
  RemoteTier reader(*client_, kPage);
  reader.LoadCommit();
  int corrupt = 0;
  for (SlotId s = 2; s < 10; ++s) {
    std::string msg;
    try {
      SlotBytes(reader, s);
    } catch (const Error& e) {
      ++corrupt;
      msg = e.what();
      EXPECT_EQ(e.code(), ErrorCode::kCorruption);
      EXPECT_NE(msg.find(segment), std::string::npos) << msg;
      EXPECT_NE(msg.find("slot " + std::to_string(s)), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(corrupt, 1) << "exactly the frame with the flipped bit";
}

TEST_F(RemoteTierTest, ADamagedOrMissingCommitObjectIsReportedNamingIt) {
  RemoteTier writer(*client_, kPage);
  writer.PublishCommit(1, "r");
  std::vector<ObjectInfo> commits = client_->List("commit/");
  ASSERT_EQ(commits.size(), 1u);
  std::string bytes = client_->Get(commits[0].name);
  bytes[12] ^= 1;
  client_->Put(commits[0].name, bytes);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { RemoteTier(*client_, kPage).LoadCommit(); }, &msg),
            ErrorCode::kCorruption);
  EXPECT_NE(msg.find(commits[0].name), std::string::npos) << msg;
  client_->Delete(commits[0].name);
  EXPECT_EQ(CodeOf([&] { RemoteTier(*client_, kPage).LoadCommit(); }, &msg), ErrorCode::kNotFound);
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pagefs
