#include "pager/tier/remote/remote_objects.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/tier/remote/remote_tier.h"
#include "pager/util/checksum.h"

namespace pagefs {
namespace {

TEST(RemoteObjectsTest, NamesRoundTripAndOthersAreNotOurs) {
  EXPECT_EQ("seg/00000001000000ff", RemoteSegmentName(0x1000000ffULL));
  EXPECT_EQ(0x1000000ffULL, ParseRemoteSegmentName("seg/00000001000000ff"));
  EXPECT_EQ("commit/000000000000000c-0000abcd", RemoteCommitName(12, 0xabcd));
  EXPECT_EQ(12u, ParseRemoteCommitName("commit/000000000000000c-0000abcd"));
  for (const char* other :
       {"seg/1", "seg/00000001000000fg", "segs/00000001000000ff", "head",
        "commit/000000000000000c_0000abcd", "commit/000000000000000c-0000abcd.tmp"}) {
    EXPECT_FALSE(ParseRemoteSegmentName(other)) << other;
    EXPECT_FALSE(ParseRemoteCommitName(other)) << other;
  }
}

TEST(RemoteObjectsTest, ASlotMapOutOfOrderOrOutOfRangeIsCorruption) {
  RemoteSlotMap slots;
  slots.Set(4, {1, 8, 100, 11});
  slots.Set(9, {1, 108, 100, 12});
  const std::string good = EncodeRemoteCommit(1, "r", 4096, slots);
  EXPECT_EQ(DecodeRemoteCommit(good, "c").slots.size(), 2u);
  // The entries: after magic, epoch, record, slot size and count; 32 bytes each.
  const size_t first = 8 + 8 + 4 + 1 + 4 + 8;
  auto with_slots = [&](uint64_t a, uint64_t b) {
    std::string bytes = good.substr(0, good.size() - 8);
    std::memcpy(bytes.data() + first, &a, 8);
    std::memcpy(bytes.data() + first + 32, &b, 8);
    const uint64_t sum = Checksum(bytes.data(), bytes.size(), 0x434f4d4d4954ULL);
    bytes.append(reinterpret_cast<const char*>(&sum), 8);
    return bytes;
  };
  EXPECT_EQ(DecodeRemoteCommit(with_slots(2, 3), "c").slots.end_slot(), 4u) << "the patch works";
  for (auto [a, b] : {std::pair<uint64_t, uint64_t>{9, 4}, {4, 4}, {4, kMaxRemoteSlots}}) {
    std::string msg;
    EXPECT_EQ(CodeOf([&] { DecodeRemoteCommit(with_slots(a, b), "commit/x"); }, &msg),
              ErrorCode::kCorruption)
        << a << " " << b;
    EXPECT_NE(msg.find("commit/x"), std::string::npos) << msg;
  }
}

TEST(RemoteObjectsTest, WhatRemoteTierPublishesDecodesAndDamageIsNamed) {
  std::unique_ptr<S3Client> client =
      S3Client::Connect(SeaweedServer::Shared().NewPrefix("objects"));
  RemoteTier tier(*client, 4096);
  for (SlotId s = 2; s < 10; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
  tier.PublishCommit(7, "the record");
  RemoteHead head = DecodeRemoteHead(client->Get("head"), "head");
  EXPECT_EQ(7u, head.epoch);
  RemoteCommit commit = DecodeRemoteCommit(client->Get(head.commit), head.commit);
  EXPECT_EQ(7u, commit.epoch);
  EXPECT_EQ("the record", commit.record);
  EXPECT_EQ(4096u, commit.slot_size);
  ASSERT_EQ(8u, commit.slots.size());
  EXPECT_EQ(tier.SegmentOf(5), RemoteSegmentName(commit.slots.Find(5)->segment));
  EXPECT_EQ(client->Get(head.commit), EncodeRemoteCommit(commit)) << "the same bytes";
  EXPECT_EQ(client->Get("head"), EncodeRemoteHead(head));
  ASSERT_NE(commit.slots.Find(5), nullptr);
  const FrameLocation& loc = *commit.slots.Find(5);
  const std::string seg = client->Get(RemoteSegmentName(loc.segment));
  EXPECT_EQ(loc.checksum, FrameChecksum(5, seg.data() + loc.offset, loc.length));
  std::string bad = EncodeRemoteCommit(commit);
  bad[30] ^= 1;
  std::string message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { DecodeRemoteCommit(bad, "s3://b/c"); }, &message));
  EXPECT_NE(std::string::npos, message.find("s3://b/c")) << message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { DecodeRemoteHead("PFSHEAD1", "h"); }));
}

}  // namespace
}  // namespace pagefs
