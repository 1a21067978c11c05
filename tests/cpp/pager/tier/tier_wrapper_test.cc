#include "pager/tier/tier_wrapper.h"

#include <gtest/gtest.h>

#include <vector>

#include "pager/testing/page_bytes.h"
#include "pager/testing/recording_tier.h"
#include "pager/testing/test_page_size.h"

namespace pagefs {
namespace {

TEST(TierWrapperTest, ForwardsEveryCallAsItIs) {
  RecordingTier target(kPage);
  TierWrapper tier(target);
  const RecordingTier::Calls& calls = target.calls();
  EXPECT_EQ(&target, &tier.target());

  EXPECT_EQ(kPage, tier.slot_size());
  EXPECT_EQ(1, calls.slot_size);
  for (SlotId s = 3; s < 7; ++s) tier.Write(s, PageBytes(s, 1).data());
  EXPECT_EQ(4, calls.write);
  tier.Sync();
  EXPECT_EQ(1, calls.sync);

  std::vector<uint8_t> buf(kPage);
  tier.Read(4, buf.data());
  EXPECT_EQ(PageBytes(4, 1), buf);
  EXPECT_EQ(1, calls.read);

  std::vector<std::vector<uint8_t>> run(3, std::vector<uint8_t>(kPage));
  uint8_t* bufs[] = {run[0].data(), run[1].data(), run[2].data()};
  tier.ReadRun(3, 3, bufs);
  EXPECT_EQ(1, calls.read_run) << "a run stays one request";
  EXPECT_EQ(1, calls.read) << "not n single reads";
  for (SlotId s = 3; s < 6; ++s) EXPECT_EQ(PageBytes(s, 1), run[s - 3]);

  tier.WillNeed({3, 4});
  EXPECT_EQ(1, calls.will_need) << "the hint reaches the tier that can use it";

  EXPECT_EQ(7u, tier.size());
  EXPECT_EQ(1, calls.size);
  EXPECT_EQ(target.memory().stats().writes, tier.stats().writes);
  EXPECT_EQ(1, calls.stats);
  EXPECT_EQ("recording", tier.name());
  EXPECT_EQ(1, calls.name);
  target.set_memory_bytes(12345);
  EXPECT_EQ(12345u, tier.memory_bytes());
  EXPECT_EQ(1, calls.memory_bytes);

  tier.Discard(6);
  EXPECT_EQ(1, calls.discard);
  tier.DiscardRun(3, 2);
  EXPECT_EQ(1, calls.discard_run) << "a discard run stays one request";
  EXPECT_EQ(1, calls.discard);
  EXPECT_EQ(std::vector<uint8_t>(kPage, 0), SlotBytes(target.memory(), 3));
  EXPECT_EQ(PageBytes(5, 1), SlotBytes(target.memory(), 5));
}

// A wrapper that changes one call leaves the others to the target.
class CountingWrites final : public TierWrapper {
 public:
  using TierWrapper::TierWrapper;
  void Write(SlotId slot, const uint8_t* buf) override {
    ++writes;
    TierWrapper::Write(slot, buf);
  }
  int writes = 0;
};

TEST(TierWrapperTest, AWrapperOverridesOnlyWhatItChanges) {
  RecordingTier target(kPage);
  CountingWrites tier(target);
  tier.Write(2, PageBytes(2, 1).data());
  EXPECT_EQ(1, tier.writes);
  EXPECT_EQ(1, target.calls().write);
  std::vector<uint8_t> buf(kPage);
  uint8_t* bufs[] = {buf.data()};
  tier.ReadRun(2, 1, bufs);
  EXPECT_EQ(1, target.calls().read_run);
  EXPECT_EQ(PageBytes(2, 1), buf);
}

}  // namespace
}  // namespace pagefs
