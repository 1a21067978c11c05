// CollectionHeaders: the common header, stored-reference counts and the
// persistent orphan list, on their own.
#include "pager/collections/collection_headers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "pager/testing/error_code.h"
#include "pager/testing/memory_page_space.h"

namespace pagefs {
namespace {

class CollectionHeadersTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  PageId New(CollectionKind kind = CollectionKind::kList) { return headers_.Create(kind).id(); }
  std::vector<PageId> Orphans() {
    std::vector<PageId> ids;
    headers_.ForEachOrphan([&](PageId id) { ids.push_back(id); });
    return ids;
  }
  // The orphan list walked backwards from its tail, through orphan_prev.
  std::vector<PageId> OrphansBackwards() {
    std::vector<PageId> forward = Orphans(), back;
    if (forward.empty()) return back;
    for (PageId id = forward.back(); id != kNoPage; id = headers_.Load(id).orphan_prev)
      back.push_back(id);
    return back;
  }

  MemoryPageSpace space_;
  CollectionHeaders headers_{space_};
};

TEST_F(CollectionHeadersTest, ANewHeaderIsAnUnreferencedOrphanOfItsKind) {
  const PageId id = New(CollectionKind::kRootMap);
  const CollectionHeader h = headers_.Load(id);
  EXPECT_EQ(CollectionHeader::kMagic, h.magic);
  EXPECT_EQ(static_cast<uint8_t>(CollectionKind::kRootMap), h.kind);
  EXPECT_EQ(0u, h.refcount);
  EXPECT_EQ(id, space_.anchors().orphan_head);
  headers_.Check(id, CollectionKind::kRootMap);
}

TEST_F(CollectionHeadersTest, CheckRefusesAnotherKindAndLoadAPageThatIsNoHeader) {
  const PageId id = New(CollectionKind::kList);
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption,
            CodeOf([&] { headers_.Check(id, CollectionKind::kRootMap); }, &msg));
  EXPECT_EQ("collection " + std::to_string(id) + " is of another kind", msg);
  const PageId plain = space_.Allocate().id();
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { headers_.Load(plain); }, &msg));
  EXPECT_EQ("page " + std::to_string(plain) + " is not a collection", msg);
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { headers_.AddRef(plain); }));
}

TEST_F(CollectionHeadersTest, NewHeadersGoToTheHeadOfTheOrphanList) {
  const PageId a = New(), b = New(), c = New();
  EXPECT_EQ((std::vector<PageId>{c, b, a}), Orphans());
  EXPECT_EQ((std::vector<PageId>{a, b, c}), OrphansBackwards());
}

TEST_F(CollectionHeadersTest, TheFirstReferenceUnlinksFromTheMiddleHeadAndTail) {
  const PageId a = New(), b = New(), c = New(), d = New();  // list: d c b a
  headers_.AddRef(b);
  EXPECT_EQ((std::vector<PageId>{d, c, a}), Orphans());
  headers_.AddRef(d);
  EXPECT_EQ((std::vector<PageId>{c, a}), Orphans());
  headers_.AddRef(a);
  EXPECT_EQ((std::vector<PageId>{c}), Orphans());
  EXPECT_EQ((std::vector<PageId>{c}), OrphansBackwards());
  const CollectionHeader h = headers_.Load(b);
  EXPECT_EQ(1u, h.refcount);
  EXPECT_EQ(kNoPage, h.orphan_prev);
  EXPECT_EQ(kNoPage, h.orphan_next);
}

TEST_F(CollectionHeadersTest, ReleaseSaysWhenTheLastReferenceWentAndRelinks) {
  const PageId a = New(), b = New();
  headers_.AddRef(a);
  headers_.AddRef(a);
  EXPECT_FALSE(headers_.Release(a));
  EXPECT_EQ((std::vector<PageId>{b}), Orphans());
  EXPECT_TRUE(headers_.Release(a));
  EXPECT_EQ((std::vector<PageId>{a, b}), Orphans());
  EXPECT_EQ((std::vector<PageId>{b, a}), OrphansBackwards());
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { headers_.Release(a); }, &msg));
  EXPECT_EQ("collection " + std::to_string(a) + " released below zero", msg);
}

TEST_F(CollectionHeadersTest, UnlinkTakesAnOrphanOffAndRefusesOneNotOnTheList) {
  const PageId a = New(), b = New(), c = New();
  headers_.Unlink(b);
  EXPECT_EQ((std::vector<PageId>{c, a}), Orphans());
  EXPECT_EQ((std::vector<PageId>{a, c}), OrphansBackwards());
  headers_.Unlink(c);
  headers_.Unlink(a);
  EXPECT_EQ(kNoPage, space_.anchors().orphan_head);
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { headers_.Unlink(b); }, &msg));
  EXPECT_EQ("collection " + std::to_string(b) + " is not on the orphan list", msg);
}

// A damaged folder must be refused, not walked forever (CollectOrphans walks
// the list at every open).
TEST_F(CollectionHeadersTest, AnOrphanListThatLoopsIsCorruptionNotAnEndlessWalk) {
  const PageId a = New(), b = New();  // the list: b (head), a
  {
    PageGuard g = space_.Write(a);
    CollectionHeader h;
    std::memcpy(&h, g.data(), sizeof h);
    h.orphan_next = b;  // a -> b again
    std::memcpy(g.mutable_data(), &h, sizeof h);
  }
  std::vector<PageId> seen;
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption,
            CodeOf([&] { headers_.ForEachOrphan([&](PageId id) { seen.push_back(id); }); }, &msg));
  EXPECT_EQ((std::vector<PageId>{b, a}), seen) << "each orphan once, then the error";
  EXPECT_EQ("the orphan list is damaged: the orphan after collection " + std::to_string(a) +
                " is collection " + std::to_string(b) + ", which links back to none" +
                " (pagefs check describes the damage)",
            msg);
}

TEST_F(CollectionHeadersTest, AnOrphanListWhoseHeadLinksBackIsCorruption) {
  const PageId a = New();
  {
    PageGuard g = space_.Write(a);
    CollectionHeader h;
    std::memcpy(&h, g.data(), sizeof h);
    h.orphan_prev = a;  // a loop of one
    h.orphan_next = a;
    std::memcpy(g.mutable_data(), &h, sizeof h);
  }
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Orphans(); }, &msg));
  EXPECT_NE(std::string::npos, msg.find("the head of the orphan list is collection")) << msg;
}

TEST_F(CollectionHeadersTest, TheKindSpecificPartOfTheHeaderPageIsLeftAlone) {
  PageGuard g = headers_.Create(CollectionKind::kList);
  const PageId id = g.id();
  std::memset(g.mutable_data() + sizeof(CollectionHeader), 0xAB, 64);
  g.Release();
  const PageId other = New();
  headers_.AddRef(id);
  EXPECT_TRUE(headers_.Release(id));
  headers_.Unlink(other);
  PageGuard after = space_.Read(id);
  for (size_t i = 0; i < 64; ++i) ASSERT_EQ(0xAB, after.data()[sizeof(CollectionHeader) + i]) << i;
}

}  // namespace
}  // namespace pagefs
