// Readahead of the remote tier: the policy and queue alone, then a RemoteTier
// against a real SeaweedFS, counting GETs and bytes as a scan and as random
// reads make them, and with readahead GETs that fail or come back damaged.
#include "pager/tier/remote/readahead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pager/testing/seaweed_server.h"
#include "pager/testing/temp_folder.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/local_page_cache.h"
#include "pager/tier/remote/remote_tier.h"

namespace pagefs {
namespace {

constexpr uint64_t kFrame = 1000;  // the mean stored frame in the policy tests
constexpr uint64_t kNoSlotCap = UINT64_MAX;

TEST(ReadaheadPolicyTest, RandomReadsNeverFetchAhead) {
  ReadaheadPolicy policy(2 << 20, kNoSlotCap);
  std::mt19937 rng(1);
  for (int i = 0; i < 500; ++i) {
    SlotId at = 2 + static_cast<SlotId>(rng() % 100) * 10;  // never within kMaxSkip of the last
    EXPECT_FALSE(policy.OnRead(at, at, kFrame, 1002));
  }
}

TEST(ReadaheadPolicyTest, ASequentialReadStartsASmallWindowThatGrowsToTheLastSlot) {
  constexpr SlotId kEnd = 2 + 6000;
  ReadaheadPolicy policy(1 << 20, kNoSlotCap);
  EXPECT_FALSE(policy.OnRead(2, 2, kFrame, kEnd)) << "one read is not yet a scan";
  EXPECT_FALSE(policy.OnRead(3, 3, kFrame, kEnd)) << "nor two: a node and its neighbour";
  auto w = policy.OnRead(4, 4, kFrame, kEnd);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->first, 5u) << "starts after the read";
  EXPECT_EQ(w->end - w->first, ReadaheadPolicy::kInitialWindow / kFrame);
  uint64_t window = ReadaheadPolicy::kInitialWindow;
  SlotId ahead = w->end;
  int windows = 1;
  // Read on slot by slot: each window is asked for once the reader is in the
  // one before, twice as large up to the maximum, each starting where the
  // last ended; the last one stops at the highest slot.
  for (SlotId s = 5; s < kEnd; ++s) {
    auto nw = policy.OnRead(s, s, kFrame, kEnd);
    if (!nw) continue;
    ++windows;
    window = std::min<uint64_t>(window * 2, 1 << 20);
    EXPECT_EQ(nw->first, ahead) << "no slot asked for twice, none left out";
    EXPECT_LE(nw->end, kEnd);
    if (nw->end < kEnd) {
      EXPECT_EQ(nw->end - nw->first, window / kFrame);
    }
    ahead = nw->end;
  }
  EXPECT_EQ(ahead, kEnd) << "the windows reached the last slot";
  EXPECT_GE(windows, 5);
  EXPECT_LE(windows, 2 + 6000 * kFrame / (1 << 20) + 4) << "few windows for 6 MB";
  EXPECT_FALSE(policy.OnRead(kEnd - 1, kEnd - 1, kFrame, kEnd)) << "nothing past the end";
}

TEST(ReadaheadPolicyTest, AWindowIsSizedByTheMeanFrame) {
  ReadaheadPolicy policy(2 << 20, kNoSlotCap);
  policy.OnRead(10, 10, 4000, 100000);
  policy.OnRead(11, 11, 4000, 100000);
  auto w = policy.OnRead(12, 12, 4000, 100000);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->end - w->first, ReadaheadPolicy::kInitialWindow / 4000);
}

TEST(ReadaheadPolicyTest, FramesThatCompressWellNeverMakeAWindowOfMoreThanMaxSlots) {
  ReadaheadPolicy policy(2 << 20, 100);
  policy.OnRead(10, 10, 20, 100000);
  policy.OnRead(11, 11, 20, 100000);
  auto w = policy.OnRead(12, 12, 20, 100000);  // 64 KiB of 20-byte frames: 3276 pages
  ASSERT_TRUE(w);
  EXPECT_EQ(w->end - w->first, 100u);
}

TEST(ReadaheadPolicyTest, ALeafReadInTheMiddleOfAScanDoesNotBreakIt) {
  ReadaheadPolicy policy(1 << 20, kNoSlotCap);
  policy.OnRead(2, 2, kFrame, 5000);
  policy.OnRead(3, 3, kFrame, 5000);
  ASSERT_TRUE(policy.OnRead(4, 4, kFrame, 5000));
  EXPECT_FALSE(policy.OnRead(4020, 4020, kFrame, 5000)) << "elsewhere: a stream of its own";
  int windows = 0;
  for (SlotId s = 5; s < 1000; ++s) windows += policy.OnRead(s, s, kFrame, 5000) ? 1 : 0;
  EXPECT_GE(windows, 2) << "the scan goes on fetching ahead";
}

TEST(ReadaheadPolicyTest, SkippingSlotsItFetchedAheadKeepsTheStream) {
  ReadaheadPolicy policy(1 << 20, kNoSlotCap);
  policy.OnRead(2, 2, kFrame, 50000);
  policy.OnRead(3, 3, kFrame, 50000);
  auto w = policy.OnRead(4, 4, kFrame, 50000);
  ASSERT_TRUE(w);
  // Pages still in memory are not read from the tier: the next read lands
  // far past kMaxSkip, but inside the window, and is still the scan.
  const SlotId inside = w->end - 2;
  ASSERT_GT(inside - 5, ReadaheadPolicy::kMaxSkip);
  auto next = policy.OnRead(inside, inside, kFrame, 50000);
  ASSERT_TRUE(next) << "the reader entered the newest window";
  EXPECT_EQ(next->first, w->end);
}

TEST(FetchQueueTest, AReaderWaitsForTheJobHoldingItsFrameAndAFailingJobIsDropped) {
  std::atomic<int> ran{0};
  std::atomic<bool> release{false};
  FetchQueue q(
      [&](const FetchQueue::Job& job) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ++ran;
        if (job.frames.front().slot == 99) throw std::runtime_error("fails");
      },
      2);
  EXPECT_FALSE(q.WaitFor(1, 8)) << "nothing queued";
  ASSERT_TRUE(q.Push({{{1, 8, 100, 99}}}));
  ASSERT_TRUE(q.Push({{{1, 108, 100, 3}}}));
  EXPECT_FALSE(q.Push({{{1, 208, 100, 4}}})) << "full: dropped";
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release.store(true);
  });
  EXPECT_TRUE(q.WaitFor(1, 108));
  EXPECT_EQ(ran.load(), 2) << "the failing job did not stop the queue";
  EXPECT_FALSE(q.WaitFor(1, 208));
  t.join();
}

TEST(FetchQueueTest, FramesAlreadyQueuedOrRunningAreNotFetchedTwice) {
  std::mutex mu;
  std::vector<uint32_t> fetched;
  std::atomic<bool> release{false};
  FetchQueue q(
      [&](const FetchQueue::Job& job) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::lock_guard<std::mutex> lock(mu);
        for (const FrameRef& f : job.frames) fetched.push_back(f.offset);
      },
      8, 2);
  ASSERT_TRUE(q.Push({{{1, 8, 100, 2}, {1, 108, 100, 3}}}));
  ASSERT_TRUE(q.Push({{{1, 108, 100, 3}, {1, 208, 100, 4}}})) << "two streams, one frame";
  ASSERT_TRUE(q.Push({{{1, 8, 100, 2}}})) << "nothing new: nothing queued";
  release.store(true);
  q.WaitFor(1, 8);
  q.WaitFor(1, 108);
  q.WaitFor(1, 208);
  std::lock_guard<std::mutex> lock(mu);
  std::sort(fetched.begin(), fetched.end());
  EXPECT_EQ(fetched, (std::vector<uint32_t>{8, 108, 208}));
}

// Pages that compress about in half, as real pages do: ~2 KiB frames.
std::vector<uint8_t> RandomPage(SlotId slot, uint32_t version = 1) {
  std::vector<uint8_t> p(kPage, 0);
  std::mt19937_64 rng(slot * 1000 + version);
  for (uint32_t i = 0; i < kPage / 2; i += 8) {
    uint64_t v = rng();
    std::memcpy(p.data() + i, &v, 8);
  }
  return p;
}

// Flips a byte in, or fails, the body of every ranged GET longer than one
// frame (what only readahead asks for); forwards the rest.
class SpoilingTransport final : public HttpTransport {
 public:
  enum class Mode { kNone, kFlip, kFail, kShort };
  explicit SpoilingTransport(std::shared_ptr<HttpTransport> target) : target_(std::move(target)) {}
  std::atomic<Mode> mode{Mode::kNone};
  std::atomic<int> spoiled{0};

  HttpResponse Send(const HttpRequest& request) override {
    const Mode m = mode.load();
    if (m == Mode::kNone || RangeLength(request) <= 3 * kPage) return target_->Send(request);
    ++spoiled;
    if (m == Mode::kFail) {
      HttpResponse r;
      r.status = 500;
      r.body = "<Error><Code>InternalError</Code></Error>";
      return r;
    }
    HttpResponse r = target_->Send(request);
    if (m == Mode::kFlip) {
      r.body[r.body.size() / 3] ^= 0x40;
    } else {
      r.body.resize(r.body.size() / 2);  // and its Content-Length with it: a lying proxy
      r.headers["content-length"] = std::to_string(r.body.size());
    }
    return r;
  }

 private:
  static uint64_t RangeLength(const HttpRequest& r) {
    for (const std::string& h : r.headers) {
      unsigned long long a = 0, b = 0;
      if (std::sscanf(h.c_str(), "Range: bytes=%llu-%llu", &a, &b) == 2) return b - a + 1;
    }
    return 0;
  }
  std::shared_ptr<HttpTransport> target_;
};

class RemoteReadaheadTest : public testing::Test {
 protected:
  static constexpr SlotId kSlots = 3000;  // ~6 MiB of frames: two segment objects

  void SetUp() override {
    std::filesystem::create_directories(folder_.path());
    config_ = SeaweedServer::Shared().NewPrefix(
        testing::UnitTest::GetInstance()->current_test_info()->name());
    curl_ = std::make_shared<CurlTransport>(config_.access_key, config_.secret_key, "us-east-1");
    spoiler_ = std::make_shared<SpoilingTransport>(curl_);
    S3Client writer_client(config_, curl_);
    RemoteTier writer(writer_client, kPage);
    for (SlotId s = 2; s < 2 + kSlots; ++s) writer.Write(s, RandomPage(s).data());
    writer.Sync();
    writer.PublishCommit(1, "r");
  }

  // A reader with nothing local: its own client (over the spoiler), cache, tier.
  struct Reader {
    Reader(const S3Config& config, std::shared_ptr<HttpTransport> transport,
           const std::string& cache_path, uint64_t cache_bytes)
        : client(config, std::move(transport),
                 RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(2)}),
          cache(cache_path, kPage, cache_bytes),
          tier(client, kPage, {.spill_dir = "", .cache = &cache, .read_only = true}) {
      tier.LoadCommit();
    }
    S3Client client;
    LocalPageCache cache;
    RemoteTier tier;
  };
  std::unique_ptr<Reader> Open(uint64_t cache_bytes = 64 << 20) {
    return std::make_unique<Reader>(
        config_, spoiler_, (folder_.path() / ("cache" + std::to_string(++opened_))).string(),
        cache_bytes);
  }
  // Reads the first n slots in order, one Read each, checking every byte.
  void Scan(RemoteTier& tier, SlotId n = kSlots) {
    std::vector<uint8_t> buf(kPage);
    for (SlotId s = 2; s < 2 + n; ++s) {
      tier.Read(s, buf.data());
      ASSERT_EQ(RandomPage(s), buf) << "slot " << s;
    }
  }

  S3Config config_;
  std::shared_ptr<CurlTransport> curl_;
  std::shared_ptr<SpoilingTransport> spoiler_;
  TempFolder folder_{"remote-readahead"};
  int opened_ = 0;
};

TEST_F(RemoteReadaheadTest, AForwardScanCostsAFewLargeGetsNotOnePerPage) {
  auto r = Open();
  const S3ClientStats before = r->client.stats();
  Scan(r->tier);
  const S3ClientStats after = r->client.stats();
  EXPECT_LE(after.gets - before.gets, kSlots / 100) << "frames come in windows of up to 2 MiB";
  const RemoteTierStats ahead = r->tier.remote_stats();
  EXPECT_GE(ahead.readahead_frames, kSlots * 9 / 10);
  EXPECT_GE(ahead.readahead_hits, ahead.readahead_frames * 9 / 10) << "read from the local cache";
  EXPECT_EQ(ahead.readahead_hits + ahead.readahead_unused, ahead.readahead_frames)
      << "the scan came to every frame fetched ahead";
  EXPECT_LE(after.bytes_received - before.bytes_received, r->tier.stats().bytes_on_disk * 11 / 10)
      << "each frame fetched about once";
  // Again: all of it is local now.
  const uint64_t gets = after.gets;
  Scan(r->tier);
  EXPECT_EQ(r->client.stats().gets, gets);
}

TEST_F(RemoteReadaheadTest, RandomReadsFetchOnlyTheFramesTheyRead) {
  std::vector<SlotId> picks;
  for (SlotId s = 2; s < 2 + kSlots; s += 20) picks.push_back(s);
  std::shuffle(picks.begin(), picks.end(), std::mt19937(7));
  auto read_all = [&](RemoteTier& tier) {
    std::vector<uint8_t> buf(kPage);
    for (SlotId s : picks) {
      tier.Read(s, buf.data());
      ASSERT_EQ(RandomPage(s), buf);
    }
  };
  auto with_readahead = Open();
  const S3ClientStats a0 = with_readahead->client.stats();
  read_all(with_readahead->tier);
  const S3ClientStats a1 = with_readahead->client.stats();
  // The same reads with no local cache (so no readahead): one GET per frame.
  S3Client plain_client(config_, curl_);
  RemoteTier plain(plain_client, kPage, {.spill_dir = "", .cache = nullptr, .read_only = true});
  plain.LoadCommit();
  const S3ClientStats b0 = plain_client.stats();
  read_all(plain);
  const S3ClientStats b1 = plain_client.stats();
  EXPECT_EQ(a1.gets - a0.gets, picks.size());
  // The plain reader also fetches the slot map's chunks as it goes (the other
  // fetched them at open, before a0).
  EXPECT_LE(a1.bytes_received - a0.bytes_received, b1.bytes_received - b0.bytes_received)
      << "no byte more than the reads need";
  EXPECT_EQ(with_readahead->tier.remote_stats().readahead_frames, 0u);
  EXPECT_EQ(with_readahead->tier.remote_stats().readahead_unused, 0u);
}

TEST_F(RemoteReadaheadTest, DamagedReadaheadBytesNeverReachAReader) {
  spoiler_->mode = SpoilingTransport::Mode::kFlip;
  auto r = Open();
  Scan(r->tier);  // every byte checked
  EXPECT_GT(spoiler_->spoiled.load(), 0) << "readahead GETs were sent, and spoiled";
  EXPECT_GT(r->cache.stats().inserts, 0u) << "the frames around the flipped byte were cached";
}

TEST_F(RemoteReadaheadTest, FailingOrShortReadaheadGetsNeverFailARead) {
  for (auto mode : {SpoilingTransport::Mode::kFail, SpoilingTransport::Mode::kShort}) {
    spoiler_->mode = mode;
    spoiler_->spoiled = 0;
    auto r = Open();
    Scan(r->tier, 150);  // every page a GET of its own once the readahead fails
    EXPECT_GT(spoiler_->spoiled.load(), 0);
    EXPECT_EQ(r->tier.remote_stats().readahead_frames, 0u) << "nothing came from a bad GET";
  }
}

TEST_F(RemoteReadaheadTest, WillNeedFetchesScatteredSlotsInFewGets) {
  auto r = Open();
  std::vector<SlotId> want;
  // Farther apart than a scan skips: the reads below fetch nothing ahead.
  for (SlotId s = 2; s < 2 + kSlots; s += ReadaheadPolicy::kMaxSkip + 3) want.push_back(s);
  const uint64_t g0 = r->client.stats().gets;
  r->tier.WillNeed(want);
  const uint64_t g1 = r->client.stats().gets;
  EXPECT_LE(g1 - g0, 2u) << "slots of one segment lie within kCoalesceGap of each other";
  std::vector<uint8_t> buf(kPage);
  for (SlotId s : want) {
    r->tier.Read(s, buf.data());
    ASSERT_EQ(RandomPage(s), buf);
  }
  EXPECT_EQ(r->client.stats().gets, g1) << "all of them local";
}

TEST_F(RemoteReadaheadTest, ASmallLocalCacheBoundsTheWindowAndTheScanStillReadsRight) {
  auto r = Open(64 * kPage);  // 256 KiB: windows of 32 KiB at most
  const uint64_t g0 = r->client.stats().gets;
  Scan(r->tier);
  EXPECT_LE(r->cache.stats().bytes, 64u * kPage);
  EXPECT_LT(r->client.stats().gets - g0, kSlots) << "still fewer GETs than pages";
}

TEST_F(RemoteReadaheadTest, PagesThatCompressToAlmostNothingNeverOverfillTheLocalCache) {
  // Frames of a few dozen bytes: a window's bytes would be thousands of pages.
  const S3Config zeros = SeaweedServer::Shared().NewPrefix("zeros");
  {
    S3Client client(zeros, curl_);
    RemoteTier writer(client, kPage);
    std::vector<uint8_t> page(kPage, 0);
    for (SlotId s = 2; s < 2 + kSlots; ++s) {
      std::memcpy(page.data(), &s, sizeof s);
      writer.Write(s, page.data());
    }
    writer.Sync();
    writer.PublishCommit(1, "r");
  }
  Reader r(zeros, curl_, (folder_.path() / "zeros-cache").string(), 64 * kPage);
  std::vector<uint8_t> buf(kPage);
  for (SlotId s = 2; s < 2 + kSlots; ++s) {
    r.tier.Read(s, buf.data());
    SlotId got = 0;
    std::memcpy(&got, buf.data(), sizeof got);
    ASSERT_EQ(got, s);
  }
  const RemoteTierStats ahead = r.tier.remote_stats();
  EXPECT_GT(ahead.readahead_frames, kSlots / 2) << "the scan was fetched ahead";
  EXPECT_EQ(ahead.readahead_unused, 0u) << "nothing fetched ahead was evicted before its read";
}

}  // namespace
}  // namespace pagefs
