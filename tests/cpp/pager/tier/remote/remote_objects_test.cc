#include "pager/tier/remote/remote_objects.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// Without a head, only the format's commit 0 may be there (a format cut
// short); any later commit means the head was lost.
TEST(RemoteObjectsTest, OnlyCommitsAfterTheFormatsShowAHeadWasLost) {
  EXPECT_FALSE(IsCommitAfterFormat(RemoteCommitName(0, 7)));
  EXPECT_TRUE(IsCommitAfterFormat(RemoteCommitName(1, 7)));
  EXPECT_TRUE(IsCommitAfterFormat(RemoteCommitName(42, 0)));
  EXPECT_FALSE(IsCommitAfterFormat(RemoteSegmentName(3)));
  EXPECT_FALSE(IsCommitAfterFormat("commit/not-a-commit"));
  EXPECT_EQ(LostHeadMessage("H", "C"),
            "H is missing while C holds a later commit: the store is damaged");
}

TEST(RemoteObjectsTest, AFirstFormatSlotMapOutOfOrderOrOutOfRangeIsCorruption) {
  const std::vector<std::pair<SlotId, FrameLocation>> slots = {{4, {1, 8, 100, 11}},
                                                               {9, {1, 108, 100, 12}}};
  const std::string good = EncodeFlatRemoteCommit(1, "r", 4096, slots);
  const RemoteCommit decoded = DecodeRemoteCommit(good, "c");
  EXPECT_EQ(decoded.map.flat.size(), 2u);
  EXPECT_EQ(decoded.map.end_slot, 10u);
  EXPECT_EQ(decoded.map.segments, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}}))
      << "the segments are found from the whole map";
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
  EXPECT_EQ(DecodeRemoteCommit(with_slots(2, 3), "c").map.end_slot, 4u) << "the patch works";
  for (auto [a, b] : {std::pair<uint64_t, uint64_t>{9, 4}, {4, 4}, {4, kMaxRemoteSlots}}) {
    std::string msg;
    EXPECT_EQ(CodeOf([&] { DecodeRemoteCommit(with_slots(a, b), "commit/x"); }, &msg),
              ErrorCode::kCorruption)
        << a << " " << b;
    EXPECT_NE(msg.find("commit/x"), std::string::npos) << msg;
  }
}

RemoteCommit PagedCommit() {
  RemoteCommit c{3, "rec", 4096, {}};
  c.map.end_slot = 2 * 170 + 5;
  c.map.chunks = {{0, {7, 8, 300, 1}, 170, 17000}, {2, {7, 308, 200, 2}, 5, 500}};
  c.map.segments = {{6, 175}, {7, 2}};
  return c;
}

TEST(RemoteObjectsTest, APagedSlotMapRoundTrips) {
  const RemoteCommit c = PagedCommit();
  const RemoteCommit d = DecodeRemoteCommit(EncodeRemoteCommit(c), "c");
  EXPECT_EQ(d.epoch, 3u);
  EXPECT_EQ(d.record, "rec");
  EXPECT_EQ(d.map.end_slot, c.map.end_slot);
  ASSERT_EQ(d.map.chunks.size(), 2u);
  EXPECT_EQ(d.map.chunks[1].chunk, 2u);
  EXPECT_EQ(d.map.chunks[1].frame.offset, 308u);
  EXPECT_EQ(d.map.chunks[1].count, 5u);
  EXPECT_EQ(d.map.chunks[1].bytes, 500u);
  EXPECT_EQ(d.map.segments, c.map.segments);
  EXPECT_TRUE(d.map.flat.empty());
  EXPECT_EQ(EncodeRemoteCommit(d), EncodeRemoteCommit(c)) << "the same bytes";
}

TEST(RemoteObjectsTest, APagedSlotMapThatContradictsItselfIsCorruptionNamingTheObject) {
  std::vector<std::function<void(RemoteCommit&)>> damages = {
      [](RemoteCommit& c) { std::swap(c.map.chunks[0], c.map.chunks[1]); },  // out of order
      [](RemoteCommit& c) { c.map.chunks[1].count = 171; },                  // more than fit
      [](RemoteCommit& c) { c.map.chunks[1].count = 0; },
      [](RemoteCommit& c) { c.map.chunks[1].frame.length = 0; },         // no frame
      [](RemoteCommit& c) { c.map.chunks[1].chunk = kMaxRemoteSlots; },  // out of range
      [](RemoteCommit& c) { c.map.end_slot = 2 * 170; },                 // before its last chunk
      [](RemoteCommit& c) { c.map.end_slot = 3 * 170 + 1; },             // past it
      [](RemoteCommit& c) {
        c.map.segments = {{7, 2}, {6, 175}};
      },
      [](RemoteCommit& c) { c.map.segments[0].second = 0; },
  };
  for (size_t i = 0; i < damages.size(); ++i) {
    RemoteCommit c = PagedCommit();
    damages[i](c);
    std::string msg;
    EXPECT_EQ(CodeOf([&] { DecodeRemoteCommit(EncodeRemoteCommit(c), "commit/x"); }, &msg),
              ErrorCode::kCorruption)
        << i;
    EXPECT_NE(msg.find("commit/x"), std::string::npos) << msg;
  }
  const std::string good = EncodeRemoteCommit(PagedCommit());
  for (size_t cut : {good.size() - 9, size_t{40}, size_t{60}}) {
    std::string bytes = good.substr(0, cut);
    const uint64_t sum = Checksum(bytes.data(), bytes.size(), 0x434f4d4d4954ULL);
    bytes.append(reinterpret_cast<const char*>(&sum), 8);
    EXPECT_EQ(CodeOf([&] { DecodeRemoteCommit(bytes, "commit/x"); }), ErrorCode::kCorruption)
        << "truncated at " << cut;
  }
}

TEST(RemoteObjectsTest, WhatRemoteTierPublishesDecodesAndDamageIsNamed) {
  std::unique_ptr<S3Client> client =
      S3Client::Connect(SeaweedServer::Shared().NewPrefix("objects"));
  RemoteTier tier(*client, 4096);
  for (SlotId s = 2; s < 10; ++s) tier.Write(s, PageBytes(s, 1).data());
  tier.Sync();
  const std::string name = tier.PublishCommit(7, "the record");
  RemoteHead head = DecodeRemoteHead(client->Get("head"), "head");
  EXPECT_EQ(7u, head.epoch);
  EXPECT_EQ(name, head.commit);
  RemoteCommit commit = DecodeRemoteCommit(client->Get(head.commit), head.commit);
  EXPECT_EQ(7u, commit.epoch);
  EXPECT_EQ("the record", commit.record);
  EXPECT_EQ(4096u, commit.slot_size);
  EXPECT_EQ(10u, commit.map.end_slot);
  ASSERT_EQ(1u, commit.map.chunks.size()) << "slots 2..9 lie in chunk 0";
  EXPECT_EQ(8u, commit.map.chunks[0].count);
  ASSERT_EQ(1u, commit.map.segments.size());
  EXPECT_EQ(9u, commit.map.segments[0].second) << "eight pages and the chunk, in one segment";
  EXPECT_EQ(tier.SegmentOf(5), RemoteSegmentName(commit.map.segments[0].first));
  EXPECT_EQ(client->Get(head.commit), EncodeRemoteCommit(commit)) << "the same bytes";
  EXPECT_EQ(client->Get("head"), EncodeRemoteHead(head));
  // The chunk's frame lies in the segment, checksummed with its own seed.
  const FrameLocation& chunk = commit.map.chunks[0].frame;
  const std::string seg = client->Get(RemoteSegmentName(chunk.segment));
  EXPECT_EQ(chunk.checksum, FrameChecksum(kChunkSeed | 0, seg.data() + chunk.offset, chunk.length));
  std::string bad = EncodeRemoteCommit(commit);
  bad[30] ^= 1;
  std::string message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { DecodeRemoteCommit(bad, "s3://b/c"); }, &message));
  EXPECT_NE(std::string::npos, message.find("s3://b/c")) << message;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { DecodeRemoteHead("PFSHEAD1", "h"); }));
}

}  // namespace
}  // namespace pagefs
