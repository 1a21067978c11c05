#include "pager/tier/remote/remote_tier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/page_filter.h"
#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/fault_transport.h"

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
  // The pages' frames and the slot map's (18 chunks of 170 slots).
  EXPECT_EQ(bytes - segments.size() * 8, tier.stats().bytes_on_disk);
  EXPECT_EQ(PageBytes(2999, 1), SlotBytes(tier, 2999));
}

TEST_F(RemoteTierTest, ASyncWhoseUploadsFailPartwayPlacesNothingAndTheNextSyncUploadsAll) {
  // Pages that do not compress: 3000 of them fill three segment objects,
  // two of which are uploaded at once while the next is packed.
  constexpr SlotId kSlots = 3000;
  std::mt19937_64 rng(7);
  std::vector<std::vector<uint8_t>> pages(kSlots, std::vector<uint8_t>(kPage));
  for (auto& page : pages) {
    for (uint8_t& b : page) b = static_cast<uint8_t>(rng());
  }
  auto curl = std::make_shared<CurlTransport>(config_.access_key, config_.secret_key, "us-east-1");
  for (uint64_t cut : {1, 2, 3}) {
    SCOPED_TRACE("the server dies at upload " + std::to_string(cut));
    auto faults = std::make_shared<FaultTransport>(*curl);
    S3Client client(config_, faults,
                    RetryPolicy{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)});
    RemoteTier tier(client, kPage);
    for (SlotId s = 0; s < kSlots; ++s) tier.Write(s, pages[s].data());
    faults->FailFrom(cut);
    EXPECT_EQ(CodeOf([&] { tier.Sync(); }), ErrorCode::kIo);
    EXPECT_FALSE(tier.SegmentOf(0).has_value()) << "nothing placed before every upload landed";
    for (SlotId s : {SlotId{0}, SlotId{1500}, kSlots - 1}) EXPECT_EQ(pages[s], SlotBytes(tier, s));
    faults->Heal();
    tier.Sync();
    EXPECT_GE(tier.Segments().size(), 3u);
    std::vector<std::vector<uint8_t>> back(kSlots, std::vector<uint8_t>(kPage));
    std::vector<uint8_t*> bufs;
    for (auto& b : back) bufs.push_back(b.data());
    tier.ReadRun(0, kSlots, bufs.data());  // a few ranged GETs, not one per slot
    for (SlotId s = 0; s < kSlots; ++s) ASSERT_EQ(pages[s], back[s]) << "slot " << s;
  }
}

// What the tier keeps in RAM that grows with the store, so the budget can
// count it (Tier::memory_bytes): pending pages' index before the upload, the
// slot map (24 bytes a stored page) after it.
TEST_F(RemoteTierTest, ItsMemoryFollowsWhatItStores) {
  RemoteTier tier(*client_, kPage);
  const uint64_t empty = tier.memory_bytes();
  constexpr SlotId kSlots = 2000;
  for (SlotId s = 0; s < kSlots; ++s) tier.Write(s, PageBytes(s, 1).data());
  const uint64_t pending = tier.memory_bytes();
  EXPECT_GE(pending - empty, kSlots * 32) << "the spill file's index";
  tier.Sync();
  const uint64_t stored = tier.memory_bytes();
  EXPECT_GE(stored - empty, kSlots * sizeof(FrameLocation));
  EXPECT_LE(stored - empty, kSlots * 2 * sizeof(FrameLocation));
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

// The slot map is paged: a commit stores the chunks it changed and names
// every chunk in its commit object (44 bytes per 170 slots), not every slot;
// a reader loads only the chunks its reads reach.
TEST_F(RemoteTierTest, ACommitStoresOnlyTheSlotMapChunksItChangesAndAReaderLoadsOnlyWhatItReads) {
  const uint32_t per_chunk = kPage / RemoteSlotMap::kEntryBytes;
  const SlotId slots = 40 * per_chunk;
  RemoteTier writer(*client_, kPage);
  for (SlotId s = 2; s < slots; ++s) writer.Write(s, PageBytes(s, 1).data());
  writer.Sync();
  const std::string first = client_->Get(writer.PublishCommit(1, "r"));
  EXPECT_LT(first.size(), 40u * 44 + 200) << "a directory entry a chunk, not 32 bytes a slot";
  const S3ClientStats before = client_->stats();
  writer.Write(100, PageBytes(100, 2).data());
  writer.Sync();
  const S3ClientStats after = client_->stats();
  EXPECT_LE(after.bytes_sent - before.bytes_sent, 2u * kPage + 8)
      << "one page's frame and one chunk's, not the whole map";
  EXPECT_EQ(client_->Get(writer.PublishCommit(2, "r")).size(), first.size() + 16)
      << "the same directory, and one more segment";

  RemoteTier reader(*client_, kPage, {.read_only = true});
  ASSERT_TRUE(reader.LoadCommit());
  EXPECT_EQ(PageBytes(100, 2), SlotBytes(reader, 100));
  EXPECT_EQ(PageBytes(slots - 1, 1), SlotBytes(reader, slots - 1));
  EXPECT_LT(reader.memory_bytes(), writer.memory_bytes() / 10) << "two chunks of forty";
}

// A bucket written before the map was paged: its commit object holds every
// slot (PFSCMT1). It reads as before, and its next writer goes on in pages.
TEST_F(RemoteTierTest, AStoreWhoseCommitHoldsTheWholeSlotMapReadsAndGoesOnInPages) {
  {
    RemoteTier writer(*client_, kPage);
    for (SlotId s = 2; s < 500; ++s) writer.Write(s, PageBytes(s, 1).data());
    writer.Sync();
    writer.PublishCommit(1, "paged");
    // The same frames, named the old way, under the next epoch.
    const std::string old = RemoteCommitName(2, 0xabc);
    ASSERT_TRUE(client_
                    ->Put(old, EncodeFlatRemoteCommit(2, "flat", kPage, writer.StoredSlots()),
                          PutCondition::kIfAbsent)
                    .written);
    ASSERT_TRUE(client_->Put("head", EncodeRemoteHead({2, old}), PutCondition::kNone).written);
  }
  {
    RemoteTier reader(*client_, kPage, {.read_only = true});
    EXPECT_EQ(reader.LoadCommit().value_or(""), "flat");
    EXPECT_EQ(PageBytes(2, 1), SlotBytes(reader, 2));
    EXPECT_EQ(PageBytes(499, 1), SlotBytes(reader, 499));
  }
  RemoteTier writer(*client_, kPage);
  ASSERT_EQ(writer.LoadCommit().value_or(""), "flat");
  writer.Write(7, PageBytes(7, 2).data());
  writer.Sync();
  const RemoteCommit next =
      DecodeRemoteCommit(client_->Get(writer.PublishCommit(3, "next")), "next");
  EXPECT_TRUE(next.map.flat.empty());
  EXPECT_EQ(next.map.chunks.size(), 3u) << "slots 2..499 in pages of 170";
  RemoteTier reader(*client_, kPage, {.read_only = true});
  EXPECT_EQ(reader.LoadCommit().value_or(""), "next");
  EXPECT_EQ(PageBytes(7, 2), SlotBytes(reader, 7));
  EXPECT_EQ(PageBytes(499, 1), SlotBytes(reader, 499));
}

// Takes the pages whose first byte is 0x77 and flips every other byte of
// them (id 7): a rewrite a test can see in the bucket's bytes.
class FlipFilter final : public PageFilter {
 public:
  static constexpr uint8_t kId = 7;
  uint8_t Encode(const uint8_t* page, uint32_t size, uint8_t* out) const override {
    if (page[0] != 0x77) return 0;
    for (uint32_t i = 0; i < size; ++i) out[i] = i == 0 ? page[i] : page[i] ^ 0xFF;
    return kId;
  }
  bool Decode(uint8_t id, const uint8_t* in, uint32_t size, uint8_t* out) const override {
    if (id != kId) return false;
    for (uint32_t i = 0; i < size; ++i) out[i] = i == 0 ? in[i] : in[i] ^ 0xFF;
    return true;
  }
};

TEST_F(RemoteTierTest, PagesAFilterTakesReadBackAndOnlyATierWithTheFilterDecodesThem) {
  const FlipFilter flip;
  std::vector<uint8_t> taken = PageBytes(3, 1);
  taken[0] = 0x77;
  const std::vector<uint8_t> plain = PageBytes(4, 1);
  {
    RemoteTier writer(*client_, kPage, {.filter = &flip});
    writer.Write(3, taken.data());
    writer.Write(4, plain.data());
    writer.Sync();
    writer.PublishCommit(1, "r");
  }
  RemoteTier reader(*client_, kPage, {.filter = &flip});
  reader.LoadCommit();
  EXPECT_EQ(taken, SlotBytes(reader, 3));
  EXPECT_EQ(plain, SlotBytes(reader, 4));
  // Without the filter: the plain page (as every frame written before
  // filters existed) still reads; the rewritten one is corruption naming it.
  RemoteTier without(*client_, kPage);
  without.LoadCommit();
  EXPECT_EQ(plain, SlotBytes(without, 4));
  std::string msg;
  EXPECT_EQ(CodeOf([&] { SlotBytes(without, 3); }, &msg), ErrorCode::kCorruption);
  EXPECT_NE(msg.find("page filter 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("slot 3"), std::string::npos) << msg;
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
