// Crash safety: run a small workload, cut the tier at every write in turn
// (tearing or dropping that write, failing everything after it), reopen, and
// check that the store holds exactly the last commit, or, for a process crash
// whose commit had already written its superblock, the commit in flight.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <random>

#include "pager/cache/buffer_pool.h"
#include "pager/space/embedded_space.h"
#include "pager/testing/page_bytes.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/fault_tier.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/error.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

using State = std::map<PageId, uint32_t>;  // page -> version stamped in it

struct Snapshot {
  State pages;
  Anchors anchors;
  bool operator==(const Snapshot&) const = default;
};

// The workload: rounds of allocate/rewrite/free with a cache small enough
// that dirty pages are evicted (written back) between commits.
// committed/in_flight track what each commit promises.
void RunWorkload(Tier& tier, Snapshot& committed, std::optional<Snapshot>& in_flight) {
  Volume volume(tier, "crash", {});
  BufferPool pool(kPage, 24 * kPage, volume);
  EmbeddedSpace space(volume, pool);
  std::mt19937 rng(42);
  Snapshot live;
  for (uint32_t round = 1; round <= 6; ++round) {
    for (int i = 0; i < 20; ++i) {
      PageGuard g = space.Allocate();
      StampPage(g.mutable_data(), g.id(), round, kPage);
      live.pages[g.id()] = round;
    }
    for (auto& [id, version] : live.pages) {
      if (rng() % 3 == 0) {
        PageGuard g = space.Write(id);
        version = round * 100 + static_cast<uint32_t>(rng() % 100);
        StampPage(g.mutable_data(), id, version, kPage);
      }
    }
    for (int i = 0; i < 5 && !live.pages.empty(); ++i) {
      auto it = live.pages.begin();
      std::advance(it, rng() % live.pages.size());
      space.Free(it->first);
      live.pages.erase(it);
    }
    live.anchors = {round, round * 2};
    space.set_anchors(live.anchors);
    in_flight = live;
    space.Commit();
    committed = live;
    in_flight.reset();
  }
}

Snapshot ReadBack(Tier& tier, const Snapshot& expected_shape) {
  Volume volume(tier, "crash", {});
  Snapshot got;
  got.anchors = volume.committed().anchors;
  std::vector<uint8_t> buf(kPage);
  // Every page the committed or in-flight state may hold.
  for (const auto& [id, version] : expected_shape.pages) {
    if (id >= volume.page_count()) continue;  // allocated after the commit reopened
    volume.Load(id, buf.data());
    PageId stored_id;
    uint32_t stored_version;
    std::memcpy(&stored_id, buf.data(), sizeof(stored_id));
    std::memcpy(&stored_version, buf.data() + 8, sizeof(stored_version));
    if (stored_id == id) got.pages[id] = stored_version;
  }
  return got;
}

uint64_t CountWrites() {
  MemoryTier base(kPage);
  FaultTier tier(base);
  Snapshot committed;
  std::optional<Snapshot> in_flight;
  RunWorkload(tier, committed, in_flight);
  return tier.writes();
}

void CheckEveryCut(FaultTier::Fault fault, bool power_loss) {
  const uint64_t total = CountWrites();
  ASSERT_GT(total, 100u);
  int matched_in_flight = 0;
  for (uint64_t cut = 1; cut <= total; ++cut) {
    MemoryTier base(kPage);
    FaultTier tier(base);
    tier.Arm(fault, cut);
    Snapshot committed;
    std::optional<Snapshot> in_flight;
    try {
      RunWorkload(tier, committed, in_flight);
      FAIL() << "the workload survived a cut at write " << cut;
    } catch (const Error& e) {
      ASSERT_TRUE(tier.crashed()) << e.what();
    }
    if (power_loss) base.Crash();
    // Union of the page ids either state may hold, to read them all back.
    Snapshot shape = committed;
    if (in_flight) shape.pages.insert(in_flight->pages.begin(), in_flight->pages.end());
    Snapshot got = ReadBack(base, shape);
    // Pages read back that the state does not hold were freed: drop them.
    auto project = [&](const Snapshot& want) {
      Snapshot p = got;
      for (auto it = p.pages.begin(); it != p.pages.end();) {
        it = want.pages.count(it->first) ? std::next(it) : p.pages.erase(it);
      }
      return p;
    };
    if (project(committed) == committed && got.anchors == committed.anchors) continue;
    ASSERT_TRUE(!power_loss && in_flight && project(*in_flight) == *in_flight &&
                got.anchors == in_flight->anchors)
        << "after a cut at write " << cut << " of " << total
        << ", the store holds neither the last commit nor the one in flight";
    ++matched_in_flight;
  }
  if (fault == FaultTier::Fault::kTornCrash && !power_loss) {
    // A torn superblock keeps its intact first copy: that commit is whole.
    EXPECT_GT(matched_in_flight, 0);
  }
}

TEST(CrashTest, TornWriteAtAnyPointReopensAtACommit) {
  CheckEveryCut(FaultTier::Fault::kTornCrash, /*power_loss=*/false);
}

TEST(CrashTest, DroppedWriteAtAnyPointReopensAtACommit) {
  CheckEveryCut(FaultTier::Fault::kDropCrash, /*power_loss=*/false);
}

TEST(CrashTest, PowerLossAtAnyPointReopensAtTheLastCommit) {
  CheckEveryCut(FaultTier::Fault::kTornCrash, /*power_loss=*/true);
}

}  // namespace
}  // namespace pagefs
