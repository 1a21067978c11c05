// The garbage step and compaction (pager/remote_gc.h) against the real
// SeaweedFS of testing/seaweed_server.h, on commits a RemoteTier publishes.
#include "pager/remote_gc.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "pager/env/remote_lease.h"
#include "pager/testing/error_code.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/seaweed_server.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/fault_transport.h"
#include "pager/tier/remote/remote_objects.h"
#include "pager/tier/remote/remote_tier.h"
#include "pager/volume/remote_commit_root.h"
#include "pager/volume/superblock.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

std::string Record(uint64_t epoch) {
  Superblock sb;
  sb.page_size = kPage;
  sb.epoch = epoch;
  std::vector<uint8_t> slot(2 * kSuperblockCopySize);
  EncodeSuperblock(sb, slot);
  return std::string(slot.begin(), slot.end());
}

GcOptions Now() {
  GcOptions o;
  o.min_age = std::chrono::seconds(0);
  o.retention = std::chrono::seconds(0);
  return o;
}

class RemoteGcTest : public testing::Test {
 protected:
  void SetUp() override {
    client_ = S3Client::Connect(SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  std::set<std::string> Names(const std::string& kind) {
    std::set<std::string> out;
    for (const ObjectInfo& o : client_->List(kind + "/")) out.insert(o.name);
    return out;
  }
  // Every slot of a tier opened on the head reads back as version.
  void ExpectSlots(SlotId first, SlotId end, uint32_t version) {
    RemoteTier tier(*client_, kPage, {.read_only = true});
    ASSERT_TRUE(tier.LoadCommit());
    for (SlotId s = first; s < end; ++s) ASSERT_EQ(PageBytes(s, version), SlotBytes(tier, s)) << s;
  }
  std::unique_ptr<S3Client> client_;
};

TEST_F(RemoteGcTest, DeletesSupersededCommitsAndTheirSegmentsAndKeepsTheHeadWhole) {
  RemoteTier tier(*client_, kPage);
  for (uint32_t epoch = 1; epoch <= 3; ++epoch) {
    for (SlotId s = 2; s < 50; ++s) tier.Write(s, PageBytes(s, epoch).data());
    tier.Sync();
    tier.PublishCommit(epoch, Record(epoch));
  }
  ASSERT_EQ(3u, Names("commit").size());
  const size_t segments = Names("seg").size();
  GcOptions o = Now();
  o.compact = false;
  GcReport r = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(3u, r.head_epoch);
  EXPECT_EQ(2u, r.commits_deleted);
  EXPECT_EQ(1u, r.commits_kept);
  EXPECT_EQ(segments - 1, r.segments_deleted);
  EXPECT_EQ(r.commits_deleted + r.segments_deleted, r.objects_deleted);
  EXPECT_EQ(2u, r.delete_requests) << "one DeleteObjects for the commits, one for the segments";
  EXPECT_EQ(std::set<std::string>{r.head_commit}, Names("commit"));
  EXPECT_EQ(1u, Names("seg").size());
  ExpectSlots(2, 50, 3);
  GcReport again = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(0u, again.objects_deleted) << "nothing more to do";
  EXPECT_EQ(0u, again.delete_requests);
}

TEST_F(RemoteGcTest, AServerWithoutDeleteObjectsGetsSingleDeletes) {
  S3Config config = client_->config();
  auto curl = std::make_shared<CurlTransport>(config.access_key, config.secret_key, config.region);
  auto faults = std::make_shared<FaultTransport>(*curl);
  faults->RefuseMultiDelete(true);
  S3Client client(config, faults);
  RemoteTier tier(client, kPage);
  for (uint32_t epoch = 1; epoch <= 3; ++epoch) {
    for (SlotId s = 2; s < 20; ++s) tier.Write(s, PageBytes(s, epoch).data());
    tier.Sync();
    tier.PublishCommit(epoch, Record(epoch));
  }
  GcOptions o = Now();
  o.compact = false;
  GcReport r = CollectRemoteGarbage(client, o);
  EXPECT_EQ(4u, r.objects_deleted) << "two commits, two segments";
  EXPECT_EQ(1u + r.objects_deleted, r.delete_requests) << "one refused DeleteObjects, then DELETEs";
  EXPECT_EQ(1u, faults->multi_deletes_refused());
  EXPECT_EQ(std::set<std::string>{r.head_commit}, Names("commit"));
  ExpectSlots(2, 20, 3);
}

TEST_F(RemoteGcTest, KeepsWhatWasTheHeadWithinTheRetentionAndWhatIsYoungerThanMinAge) {
  RemoteTier tier(*client_, kPage);
  for (uint32_t epoch = 1; epoch <= 3; ++epoch) {
    tier.Write(2, PageBytes(2, epoch).data());
    tier.Sync();
    tier.PublishCommit(epoch, Record(epoch));
  }
  client_->Put("seg/00000000feedf00d", "PFSSEG1");  // a writer's upload, not yet published
  GcOptions o;
  o.compact = false;
  o.retention = std::chrono::hours(1);
  o.min_age = std::chrono::seconds(0);
  GcReport r = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(3u, r.commits_kept);
  EXPECT_EQ(1u, r.objects_deleted) << "the orphan only";
  client_->Put("seg/00000000feedf00e", "PFSSEG1");
  o.min_age = std::chrono::hours(1);
  o.dry_run = true;
  // Two hours later, a dry run: only the head is kept then, and the young orphan is old.
  o.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 (std::chrono::system_clock::now() + std::chrono::hours(2)).time_since_epoch())
                 .count();
  r = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(1u, r.commits_kept);
  EXPECT_EQ(2u, r.commits_deleted);
  EXPECT_EQ(3u, r.segments_deleted);
  EXPECT_EQ(5u, Names("seg").size() + Names("commit").size() - 2) << "a dry run deletes nothing";
  o.now_ms = 0;
  r = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(1u, r.objects_too_young) << "now, the new orphan is younger than min_age";
}

// A Volume writing the bucket, as a store does (no lease: the tests take it).
struct Writer {
  explicit Writer(S3Client& client, bool create = true)
      : tier(client, kPage),
        root(tier),
        volume(tier, "prefix 'gc'", VolumeOptions{kPage, false, create, nullptr, &root}) {}
  RemoteTier tier;
  RemoteCommitRoot root;
  Volume volume;
};

// n pages committed, then all but the first keep freed and committed again:
// one segment of mostly freed slots. Returns the kept ids.
std::vector<PageId> SparseHead(S3Client& client, int n, int keep) {
  Writer w(client);
  std::vector<PageId> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(w.volume.AllocateId());
    w.volume.Store(ids.back(), PageBytes(ids.back(), 1).data());
  }
  w.volume.Commit({ids[0], kNoPage});
  for (int i = keep; i < n; ++i) w.volume.FreeId(ids[i]);
  w.volume.Commit({ids[0], kNoPage});
  ids.resize(keep);
  return ids;
}

std::vector<uint8_t> LoadedPage(Volume& v, PageId id) {
  std::vector<uint8_t> buf(kPage);
  v.Load(id, buf.data());
  return buf;
}

TEST_F(RemoteGcTest, CompactionRewritesSparseSegmentsUnderTheNextEpoch) {
  const std::vector<PageId> kept = SparseHead(*client_, 400, 40);
  const uint64_t epoch = *RemoteTier(*client_, kPage, {.read_only = true}).HeadEpoch();
  GcReport r = CollectRemoteGarbage(*client_, Now());
  // The first commit's segment, and the second's: its table nodes (live) and
  // its slot map's chunks, which compaction stores anew.
  EXPECT_EQ(2u, r.segments_compacted);
  EXPECT_EQ(2u, r.segments_written) << "the live frames, and the slot map's chunks";
  EXPECT_LT(r.bytes_written * 4, r.bytes_compacted);
  EXPECT_EQ(epoch + 1, r.head_epoch);
  EXPECT_EQ(r.head_commit, r.compaction_commit);
  {
    Writer w(*client_, false);
    for (PageId id : kept) ASSERT_EQ(PageBytes(id, 1), LoadedPage(w.volume, id)) << id;
    // The next writer goes on from the compacted commit.
    w.volume.Store(kept[1], PageBytes(kept[1], 2).data());
    w.volume.Commit({kept[0], kNoPage});
  }
  // The segment it replaced goes once the commit before compaction is not kept.
  GcReport next = CollectRemoteGarbage(*client_, Now());
  EXPECT_GE(next.segments_deleted, 1u);
  Writer w(*client_, false);
  EXPECT_EQ(PageBytes(kept[1], 2), LoadedPage(w.volume, kept[1]));
  for (size_t i = 2; i < kept.size(); ++i)
    ASSERT_EQ(PageBytes(kept[i], 1), LoadedPage(w.volume, kept[i]));
}

TEST_F(RemoteGcTest, CompactionVerifiesEveryFrameAndPublishesNothingOnAMismatch) {
  SparseHead(*client_, 300, 30);
  RemoteTier reader(*client_, kPage, {.read_only = true});
  reader.LoadCommit();
  const uint64_t epoch = *reader.HeadEpoch();
  const std::string seg = *reader.SegmentOf(2);  // the first page's, a kept one
  std::string bytes = client_->Get(seg);
  bytes[20] ^= 1;
  client_->Put(seg, bytes);
  std::string message;
  EXPECT_EQ(ErrorCode::kCorruption,
            CodeOf([&] { CollectRemoteGarbage(*client_, Now()); }, &message));
  EXPECT_NE(std::string::npos, message.find("checksum mismatch in slot 2 in ")) << message;
  EXPECT_NE(std::string::npos, message.find(seg)) << message;
  EXPECT_EQ(epoch, *reader.HeadEpoch()) << "the head did not move";
}

TEST_F(RemoteGcTest, CompactionNeedsTheLeaseAndTheGarbageStepRunsBesideAWriter) {
  RemoteTier tier(*client_, kPage);
  tier.Write(2, PageBytes(2, 1).data());
  tier.Sync();
  tier.PublishCommit(1, Record(1));
  tier.Write(3, PageBytes(3, 1).data());
  tier.Sync();
  tier.PublishCommit(2, Record(2));
  RemoteLease writer(*client_, "writer-host:42", std::chrono::seconds(30), "the store");
  std::string message;
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { CollectRemoteGarbage(*client_, Now()); }, &message));
  EXPECT_NE(std::string::npos, message.find("writer-host:42")) << message;
  GcOptions o = Now();
  o.compact = false;
  GcReport beside = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(1u, beside.commits_kept);
  EXPECT_EQ(1u, beside.objects_too_young) << "epoch 1's commit: young, and a writer is live";
  ASSERT_EQ(1u, beside.notes.size());
  EXPECT_NE(std::string::npos, beside.notes[0].find("writer-host:42")) << beside.notes[0];
  o.dry_run = true;
  o.compact = true;
  EXPECT_EQ(0u, CollectRemoteGarbage(*client_, o).segments_compacted) << "a dry run takes no lease";
}

// Three commits of slots 2..19, then a Sync whose commit is not published
// (a failed one, or the writer's next): slot 30 lies in a segment no commit names.
void HistoryAndAnUnpublishedSync(RemoteTier& tier) {
  for (uint32_t epoch = 1; epoch <= 3; ++epoch) {
    for (SlotId s = 2; s < 20; ++s) tier.Write(s, PageBytes(s, epoch).data());
    tier.Sync();
    tier.PublishCommit(epoch, Record(epoch));
  }
  tier.Write(30, PageBytes(30, 9).data());
  tier.Sync();
}

TEST_F(RemoteGcTest, TheStoresOwnWriterDeletesYoungGarbageButNothingItStillNeeds) {
  RemoteLease lease(*client_, LeaseHolderName(), std::chrono::seconds(30), "the store");
  RemoteTier tier(*client_, kPage);
  HistoryAndAnUnpublishedSync(tier);
  const std::string unpublished = *tier.SegmentOf(30);
  GcOptions o = Now();
  o.compact = false;
  const GcWriter self{tier.Segments()};
  GcReport r = CollectRemoteGarbage(*client_, o, {}, &self);
  EXPECT_EQ(2u, r.commits_deleted);
  EXPECT_EQ(2u, r.segments_deleted) << "epochs 1 and 2's, seconds old";
  EXPECT_EQ(0u, r.objects_too_young);
  EXPECT_TRUE(r.notes.empty()) << r.notes[0];
  EXPECT_TRUE(client_->Head(unpublished)) << "the writer's unpublished segment stays";
  // The writer publishes what it synced: every page there.
  tier.PublishCommit(4, Record(4));
  ExpectSlots(2, 20, 3);
  ExpectSlots(30, 31, 9);
  // Without the writer's word, the same lease means a live writer: 15 minutes kept.
  tier.Write(2, PageBytes(2, 5).data());
  tier.Sync();
  tier.PublishCommit(5, Record(5));
  GcReport outside = CollectRemoteGarbage(*client_, o);
  EXPECT_EQ(0u, outside.objects_deleted);
  EXPECT_GE(outside.objects_too_young, 1u);
  // Compaction is never the writer's.
  GcOptions compact = Now();
  std::string message;
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            CodeOf([&] { CollectRemoteGarbage(*client_, compact, {}, &self); }, &message));
  EXPECT_NE(std::string::npos, message.find("compact=False")) << message;
}

TEST_F(RemoteGcTest, AWriterWhoseLeaseIsAnothersKeepsTheLiveWriterFloor) {
  RemoteLease other(*client_, "elsewhere:7", std::chrono::seconds(30), "the store");
  RemoteTier tier(*client_, kPage);
  HistoryAndAnUnpublishedSync(tier);
  GcOptions o = Now();
  o.compact = false;
  const GcWriter self{tier.Segments()};
  GcReport r = CollectRemoteGarbage(*client_, o, {}, &self);
  EXPECT_EQ(0u, r.objects_deleted);
  EXPECT_EQ(4u, r.objects_too_young) << "two commits and two segments, younger than 15 minutes";
  ASSERT_EQ(1u, r.notes.size());
  EXPECT_NE(std::string::npos, r.notes[0].find("elsewhere:7")) << r.notes[0];
}

}  // namespace
}  // namespace pagefs
