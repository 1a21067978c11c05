// Heap: collection lifetime over its pieces (blobs, stored references, the
// orphan list, handles, freeing), the closed heap, and freeing dispatched to
// each collection's kind through the registry.
#include "pager/collections/heap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/persistent_list.h"
#include "pager/testing/error_code.h"
#include "pager/testing/fake_kind.h"
#include "pager/testing/heap_fixture.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/memory_page_space.h"

namespace pagefs {
namespace {

class HeapTest : public HeapOnMemory {};

INSTANTIATE_TEST_SUITE_P(PageSizes, HeapTest, kPageSizes, PageSizeName);

TEST_P(HeapTest, BlobsFromOneByteToOneMebibyteRoundTrip) {
  auto list = NewList();
  uint64_t baseline = space_.pages_in_use();
  std::vector<std::string> expect;
  size_t t = heap_.blobs().threshold();
  for (size_t n :
       {size_t{1}, size_t{100}, t, t + 1, size_t{5000}, size_t{65536}, size_t{1} << 20}) {
    std::string payload(n, '\0');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7 + n);
    std::string s, b;
    EncodeStr(s, payload);
    EncodeBytes(b, payload);
    list->Append(s + b, 2);
    expect.push_back(s);
    expect.push_back(b);
  }
  std::string big_int;
  EncodeBigInt(big_int, std::string(t + 50, '\x11'));
  list->Insert(3, big_int);
  expect.insert(expect.begin() + 3, big_int);
  EXPECT_EQ(expect, ReadAll(*list));
  EXPECT_EQ(expect.back(), GetOne(*list, expect.size() - 1));
  EXPECT_GT(space_.pages_in_use(), baseline + 2 * ((1u << 20) / GetParam()));
  list->Verify();

  // Overwriting and erasing blobs gives their pages back.
  for (size_t i = 0; i < expect.size(); ++i) list->Set(i, Int(static_cast<int64_t>(i)));
  EXPECT_LE(space_.pages_in_use(), baseline + 1);
  list->Append(expect.back(), 1);
  list->Erase(0, 1);
  list->Erase(list->size() - 1, list->size());
  EXPECT_LE(space_.pages_in_use(), baseline + 1);
}

std::string TupleOfItems(std::initializer_list<std::string> items) {
  std::string elements, out;
  for (const std::string& i : items) elements += i;
  EncodeTuple(out, items.size(), elements);
  return out;
}

TEST_P(HeapTest, TuplesHoldingBlobsAndReferencesRoundTripAndAreFreed) {
  auto list = NewList();
  const uint64_t baseline = space_.pages_in_use();
  uint64_t inner_id;
  {
    PersistentList inner(heap_, PersistentList::Create(heap_));
    inner_id = inner.id();
    const std::string long_str = Str(std::string(3 * GetParam(), 'q'));
    const std::string tuple =
        TupleOfItems({Int(1), long_str, TupleOfItems({Ref(inner_id), Str("x")})});
    list->Append(tuple, 1);
    EXPECT_EQ(tuple, GetOne(*list, 0));  // elements come back inline
  }
  // The tuple's reference keeps inner alive after its handle went.
  heap_.CollectOrphans();
  EXPECT_NO_THROW(PersistentList(heap_, inner_id));
  list->Verify();
  // Overwriting the tuple frees its blob and drops its reference (freeing inner).
  list->Set(0, Int(0));
  EXPECT_EQ(baseline + 1, space_.pages_in_use());  // the list's one leaf
}

TEST_P(HeapTest, ALongTupleIsStoredOutOfLineWhole) {
  auto list = NewList();
  const uint64_t baseline = space_.pages_in_use();
  std::string elements;
  const size_t n = GetParam();  // GetParam() floats: far over a quarter page
  for (size_t i = 0; i < n; ++i) {
    std::string f;
    EncodeFloat(f, static_cast<double>(i) + 0.5);
    elements += f;
  }
  std::string tuple;
  EncodeTuple(tuple, n, elements);
  list->Append(tuple, 1);
  list->Append(tuple, 1);
  EXPECT_EQ(tuple, GetOne(*list, 1));
  EXPECT_GT(space_.pages_in_use(), baseline + 4);
  list->Verify();
  list->Clear();
  EXPECT_EQ(baseline, space_.pages_in_use());
}

TEST_P(HeapTest, ATupleWithABadReferenceStoresNothing) {
  auto list = NewList();
  const uint64_t baseline = space_.pages_in_use();
  const std::string tuple =
      TupleOfItems({Str(std::string(3 * GetParam(), 'q')), Ref(list->id() + 1000)});
  EXPECT_THROW(list->Append(tuple, 1), Error);
  EXPECT_EQ(0u, list->size());
  EXPECT_LE(space_.pages_in_use(), baseline + 1);  // at most an empty leaf, no blob
}

TEST_P(HeapTest, ListStoredInAnotherListSurvivesDroppingItsHandle) {
  auto outer = NewList();
  uint64_t inner_id;
  {
    PersistentList inner(heap_, PersistentList::Create(heap_));
    inner_id = inner.id();
    inner.Append(Str("kept"), 1);
    outer->Append(Ref(inner_id), 1);
  }
  EXPECT_EQ(Ref(inner_id), GetOne(*outer, 0));
  heap_.CollectOrphans();  // inner is referenced, so it is not an orphan
  PersistentList again(heap_, inner_id);
  EXPECT_EQ(Str("kept"), GetOne(again, 0));
}

TEST_P(HeapTest, DroppingTheLastReferenceAndHandleFreesEveryPage) {
  auto outer = NewList();
  uint64_t baseline = space_.pages_in_use();
  uint64_t inner_id;
  {
    PersistentList inner(heap_, PersistentList::Create(heap_));
    inner_id = inner.id();
    std::string run;
    for (int i = 0; i < 20000; ++i) run += Str("inner" + std::to_string(i));
    inner.Append(run, 20000);
    inner.Append(Str(std::string(200000, 'z')), 1);
    outer->Append(Ref(inner_id) + Ref(inner_id), 2);  // two stored references
  }
  EXPECT_GT(space_.pages_in_use(), baseline + 10);
  outer->Erase(0, 1);
  EXPECT_GT(space_.pages_in_use(), baseline + 10) << "one reference is left";
  outer->Set(0, Int(1));
  EXPECT_EQ(baseline + 1, space_.pages_in_use()) << "all that is left is outer's one leaf";
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { PersistentList gone(heap_, inner_id); }))
      << "its header page was freed";
}

TEST_P(HeapTest, AnOpenHandleKeepsAnUnreferencedListAlive) {
  auto outer = NewList();
  auto inner = NewList();
  inner->Append(Int(5), 1);
  outer->Append(Ref(inner->id()), 1);
  outer->Clear();
  EXPECT_EQ(Int(5), GetOne(*inner, 0));
  heap_.CollectOrphans();
  EXPECT_EQ(Int(5), GetOne(*inner, 0));
  uint64_t before = space_.pages_in_use();
  inner.reset();
  EXPECT_EQ(before - 2, space_.pages_in_use()) << "header and leaf freed with the last handle";
}

TEST_P(HeapTest, CollectOrphansFreesUnreferencedLists) {
  uint64_t baseline = space_.pages_in_use();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(PersistentList::Create(heap_));  // never opened
  auto kept = NewList();
  kept->Append(Ref(ids[3]), 1);
  EXPECT_EQ(baseline + 12, space_.pages_in_use());
  heap_.CollectOrphans();
  EXPECT_EQ(space_.anchors().orphan_head, kept->id()) << "only the open list is still an orphan";
  PersistentList survivor(heap_, ids[3]);
  EXPECT_EQ(0u, survivor.size());
  EXPECT_EQ(baseline + 2 + 1, space_.pages_in_use());  // kept (header+leaf) and ids[3]
}

// A store opens with CollectOrphans: a damaged orphan list that loops is
// refused there, not walked forever, and nothing is freed on its account.
TEST_P(HeapTest, CollectOrphansRefusesAnOrphanListThatLoops) {
  const uint64_t a = PersistentList::Create(heap_), b = PersistentList::Create(heap_);
  {
    PageGuard g = space_.Write(a);  // the list is b (head), a; now a -> b again
    CollectionHeader h;
    std::memcpy(&h, g.data(), sizeof h);
    h.orphan_next = b;
    std::memcpy(g.mutable_data(), &h, sizeof h);
  }
  const uint64_t pages = space_.pages_in_use();
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { heap_.CollectOrphans(); }));
  EXPECT_EQ(pages, space_.pages_in_use()) << "nothing freed from a list found damaged";
}

TEST_P(HeapTest, OrphanListStaysConsistentAcrossLinksAndUnlinks) {
  auto holder = NewList();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(PersistentList::Create(heap_));
  // Unlink from the middle, the head and the tail of the orphan list.
  for (int i : {2, 5, 0}) holder->Append(Ref(ids[i]), 1);
  holder->Clear();  // all three back on the list, and freed (no handles)
  heap_.CollectOrphans();
  EXPECT_EQ(holder->id(), space_.anchors().orphan_head);
  EXPECT_EQ(1u, space_.pages_in_use()) << "only holder's header is left";
}

TEST_P(HeapTest, LongChainsOfNestedListsAreFreedIteratively) {
  const int depth = GetParam() == 4096 ? 30000 : 3000;  // pages are RAM here
  uint64_t baseline = space_.pages_in_use();
  auto next = NewList();
  for (int i = 0; i < depth; ++i) {
    auto cur = NewList();
    cur->Append(Ref(next->id()), 1);
    next = std::move(cur);  // the old handle closes; the reference keeps it
  }
  EXPECT_EQ(baseline + 2 * (depth + 1u) - 1, space_.pages_in_use());
  next.reset();
  EXPECT_EQ(baseline, space_.pages_in_use());
  EXPECT_EQ(kNoPage, space_.anchors().orphan_head);
}

TEST_P(HeapTest, ReferencesToNonCollectionsAreRejected) {
  auto list = NewList();
  list->Append(Int(1), 1);
  std::string never_allocated, leaf_page;
  EncodeRef(never_allocated, CollectionKind::kList, 999999);
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { list->Append(never_allocated, 1); }));
  EncodeRef(leaf_page, CollectionKind::kList, list->Verify().height == 1 ? list->id() + 1 : 0);
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { list->Insert(0, leaf_page); }));
  EXPECT_EQ(1u, list->size());
}

TEST_P(HeapTest, ClosedHeapThrowsClosedOnEveryOperation) {
  auto list = NewList();
  list->Append(Int(1), 1);
  heap_.MarkClosed();
  std::string msg;
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { list->size(); }, &msg));
  EXPECT_EQ(msg, "the store is closed");  // a heap made without a name
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { GetOne(*list, 0); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { list->Append(Int(2), 1); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { list->Erase(0, 1); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { list->Reverse(); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { PersistentList::Create(heap_); }));
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { PersistentList other(heap_, list->id()); }));
  uint64_t pages = space_.pages_in_use();
  list.reset();  // closing a handle after close touches no page
  EXPECT_EQ(pages, space_.pages_in_use());
}

// ---- kinds: freeing goes through the registry ------------------------------------

class HeapKindsTest : public ::testing::Test {
 protected:
  HeapKindsTest() : heap_(space_, fake_.kinds) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  MemoryPageSpace space_;
  FakeKind fake_;
  Heap heap_;
};

TEST_F(HeapKindsTest, CollectOrphansDestroysEachOrphanThroughItsKind) {
  const PageId a = FakeKind::Create(heap_);
  const PageId b = FakeKind::Create(heap_);
  PersistentList::Create(heap_);
  EXPECT_EQ(5u, space_.pages_in_use());
  heap_.CollectOrphans();
  EXPECT_EQ((std::vector<PageId>{a, b}), fake_.destroyed) << "each once, by the fake's hook";
  EXPECT_EQ(0u, space_.pages_in_use()) << "the list went through the list's own hook";
  EXPECT_EQ(kNoPage, space_.anchors().orphan_head);
}

TEST_F(HeapKindsTest, TheLastReferenceAndHandleGoingDestroysThroughTheKind) {
  const PageId fake = FakeKind::Create(heap_);
  // A reference to a fake collection: the value format knows lists only, so
  // the heap is told of it directly, as a kind's own store would.
  ValueView ref;
  ref.kind = ValueView::Kind::kRef;
  ref.ref_kind = kFakeKind;
  ref.ref_id = fake;
  heap_.OnStored(ref);
  heap_.CollectOrphans();
  EXPECT_TRUE(fake_.destroyed.empty()) << "referenced";
  auto handle = heap_.OpenHandle(fake);
  heap_.OnDropped(ref);
  EXPECT_TRUE(fake_.destroyed.empty()) << "a handle holds it";
  heap_.CloseHandle(fake);
  EXPECT_EQ((std::vector<PageId>{fake}), fake_.destroyed);
  EXPECT_EQ(0u, space_.pages_in_use());
}

TEST_F(HeapKindsTest, AnUnknownKindIsCorruptionNamingKindAndCollectionAndChangesNothing) {
  Heap builtin(space_, BuiltinKinds());
  const PageId fake = FakeKind::Create(builtin);
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { builtin.CollectOrphans(); }, &msg));
  EXPECT_EQ("collection " + std::to_string(fake) + " has unknown kind 200", msg);
  EXPECT_EQ(fake, space_.anchors().orphan_head) << "still an orphan";
  EXPECT_EQ(2u, space_.pages_in_use());
  heap_.CollectOrphans();  // a heap that knows the kind frees it
  EXPECT_EQ((std::vector<PageId>{fake}), fake_.destroyed);
  EXPECT_EQ(0u, space_.pages_in_use());
}

}  // namespace
}  // namespace pagefs
