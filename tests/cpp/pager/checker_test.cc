#include "pager/checker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "pager/collections/hash_bucket.h"
#include "pager/collections/hash_table.h"
#include "pager/collections/list_leaf.h"
#include "pager/collections/list_node.h"
#include "pager/collections/list_tree.h"
#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"
#include "pager/store.h"
#include "pager/testing/fake_kind.h"
#include "pager/testing/forked_child.h"
#include "pager/testing/list_test_util.h"
#include "pager/tier/segment_tier.h"
#include "pager/util/checksum.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"
#include "pager/values/value_format.h"
#include "pager/volume/page_table.h"
#include "pager/volume/superblock.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

std::string Describe(const CheckReport& r) {
  std::ostringstream out;
  out << r.problems.size() << " problems (+" << r.problems_omitted << "):";
  for (const CheckProblem& p : r.problems) {
    out << "\n  " << p.kind << " page " << p.page << " collection " << p.collection << ": "
        << p.message;
  }
  for (const std::string& n : r.notes) out << "\n  note: " << n;
  return out.str();
}

class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("pagefs-check-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::shared_ptr<Store> Open(uint32_t page_size = 4096) {
    StoreOptions o;
    o.page_size = page_size;
    o.cache_size = 4 << 20;
    return Store::Open(root_, "p", o);
  }
  CheckReport Check() { return CheckPrefix(root_, "p"); }
  fs::path dir() const { return root_ / "p"; }

  // A list named name in the root map, holding run (count values).
  static uint64_t NamedList(Store& s, const std::string& name, const std::string& run,
                            uint64_t count) {
    uint64_t id = PersistentList::Create(s.heap());
    PersistentList list(s.heap(), id);
    if (count) list.Append(run, count);
    RootMap(s.heap()).Set(name, Ref(id));
    return id;
  }
  static std::string Ints(int64_t from, int64_t to) {
    std::string run;
    for (int64_t i = from; i < to; ++i) run += Int(i);
    return run;
  }
  static PageId HeaderRoot(Store& s, uint64_t list) {
    PageGuard g = s.space().Read(list);
    return Field<uint64_t>(g.data(), ListHeaderFields::kRoot);
  }

  Superblock Committed(uint32_t page_size = 4096) {
    SegmentTier tier(dir(), page_size, kSegmentBytes / page_size, true);
    std::vector<uint8_t> buf(page_size);
    std::optional<Superblock> best;
    for (SlotId s : {SlotId{0}, SlotId{1}}) {
      tier.Read(s, buf.data());
      auto sb = DecodeSuperblockSlot(buf.data());
      if (sb && (!best || sb->epoch > best->epoch)) best = sb;
    }
    return *best;
  }
  // The slot the last commit keeps page id in.
  SlotId SlotOf(PageId id, uint32_t page_size = 4096) {
    Superblock sb = Committed(page_size);
    SegmentTier tier(dir(), page_size, kSegmentBytes / page_size, true);
    PageTable table(tier, page_size, "test");
    table.Open({sb.table_height, {sb.table_root_slot, sb.table_root_checksum}});
    return table.Get(id).slot;
  }
  void FlipBit(SlotId slot, uint32_t byte, uint32_t page_size = 4096) {
    const uint64_t per = kSegmentBytes / page_size;
    char name[32];
    std::snprintf(name, sizeof name, "segment-%05llu.pfs",
                  static_cast<unsigned long long>(slot / per));
    std::fstream f(dir() / name, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    const std::streamoff at = static_cast<std::streamoff>((slot % per) * page_size + byte);
    f.seekg(at);
    char c;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(at);
    f.write(&c, 1);
  }
  // Every byte of the prefix folder, to show the check writes nothing. The
  // reader table is left out: a read-only open registers there while it runs
  // (docs/readers.md), which is coordination, not store data.
  std::string FolderBytes() {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir())) {
      if (e.path().filename() == "readers") continue;
      std::ifstream f(e.path(), std::ios::binary);
      all += e.path().filename().string() + ":" +
             std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    return all;
  }

  static const CheckProblem* Find(const CheckReport& r, const std::string& kind) {
    for (const CheckProblem& p : r.problems) {
      if (p.kind == kind) return &p;
    }
    return nullptr;
  }

  fs::path root_;
};

// ---- clean stores of several shapes ---------------------------------------------

TEST_F(CheckerTest, EmptyPrefixIsClean) {
  Open()->Close();
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.pages, 0u);
  EXPECT_FALSE(r.root_map);
}

TEST_F(CheckerTest, VariedStoreIsCleanAndCounted) {
  uint64_t big;
  {
    auto s = Open();
    big = NamedList(*s, "big", Ints(0, 200000), 200000);  // internal nodes, a two-level table
    std::string mixed;
    mixed += Str(std::string(5000, 'x'));  // a blob over several pages
    mixed += Str("short");
    std::string b;
    EncodeBytes(b, std::string(3000, '\0'));
    mixed += b;
    std::string bi;
    EncodeBigInt(bi, std::string(2000, '\x7f'));  // a blob int
    mixed += bi;
    EncodeFloat(mixed, -0.0);
    EncodeNone(mixed);
    NamedList(*s, "mixed", mixed, 6);
    // A chain of nested lists, and a list referenced twice.
    uint64_t inner = PersistentList::Create(s->heap());
    {
      PersistentList l(s->heap(), inner);  // held until stored, or it is freed
      l.Append(Str("inner"), 1);
      NamedList(*s, "twice", Ref(inner) + Ref(inner), 2);
    }
    NamedList(*s, std::string(2000, 'k'), Int(1), 1);  // a key long enough to be a blob
    RootMap(s->heap()).Set("n", Int(7));
    // Middle inserts and erases mend and split nodes.
    PersistentList l(s->heap(), big);
    for (int i = 0; i < 300; ++i) l.Insert(1000 + i * 300, Str("in the middle"));
    l.Erase(5000, 90000);
    s->Commit();
  }
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_TRUE(r.root_map);
  EXPECT_EQ(r.root_names, 5u);
  EXPECT_EQ(r.lists, 5u);
  EXPECT_EQ(r.collections_by_kind, (std::map<std::string, uint64_t>{{"list", 5}, {"root map", 1}}));
  EXPECT_GT(r.table_nodes, 1u);
  EXPECT_EQ(r.pages_reached, r.pages);
  EXPECT_EQ(r.epoch, Committed().epoch);
}

TEST_F(CheckerTest, LargePagesAreClean) {
  {
    auto s = Open(65536);
    NamedList(*s, "a", Ints(0, 50000), 50000);
    NamedList(*s, "s", Str(std::string(40000, 's')), 1);
  }
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.page_size, 65536u);
}

TEST_F(CheckerTest, CommittedOrphanIsCleanAndCounted) {
  ASSERT_EQ(0, InForkedChild([&] {  // a process that dies holding an unreferenced list
              auto s = Open();
              NamedList(*s, "kept", Int(1), 1);
              uint64_t id = PersistentList::Create(s->heap());
              PersistentList orphan(s->heap(), id);
              orphan.Append(Ints(0, 2000), 2000);
              s->Commit();
              ::_exit(0);  // no destructor closes the store
              return 0;
            }));
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.orphans, 1u);
  EXPECT_EQ(r.lists, 2u);
}

TEST_F(CheckerTest, EachCollectionIsVerifiedByItsKindsHook) {
  FakeKind fake;
  ASSERT_EQ(0, InForkedChild([&] {  // a process that dies holding an orphan of the fake kind
              StoreOptions o;
              o.cache_size = 4 << 20;
              o.kinds = &fake.kinds;
              auto s = Store::Open(root_, "p", o);
              NamedList(*s, "kept", Int(1), 1);
              FakeKind::Create(s->heap());
              s->Commit();
              ::_exit(0);  // no destructor closes the store
              return 0;
            }));
  CheckOptions options;
  options.kinds = &fake.kinds;
  CheckReport r = CheckPrefix(root_, "p", options);
  EXPECT_TRUE(r.ok()) << Describe(r);
  ASSERT_EQ(fake.verified.size(), 1u);
  const PageId id = fake.verified[0];
  EXPECT_EQ(r.orphans, 1u);
  EXPECT_EQ(r.pages_reached, r.pages) << "the fake's data page was taken through the check";
  EXPECT_EQ(r.collections_by_kind,
            (std::map<std::string, uint64_t>{{"fake", 1}, {"list", 1}, {"root map", 1}}));

  // A checker that does not know the kind reports the header, by collection
  // and kind, and does not guess at the pages behind it.
  r = Check();
  const CheckProblem* p = Find(r, "header");
  ASSERT_NE(p, nullptr) << Describe(r);
  EXPECT_EQ(p->collection, id);
  EXPECT_EQ(p->message, "collection " + std::to_string(id) +
                            " has unknown kind 200, not 1 (list), 3 (dict) or 4 (set)");
  EXPECT_EQ(fake.verified.size(), 1u);
}

TEST_F(CheckerTest, ReferenceCycleIsNotedNotDamage) {
  {
    auto s = Open();
    NamedList(*s, "x", Int(1), 1);
    uint64_t a = PersistentList::Create(s->heap());
    uint64_t b = PersistentList::Create(s->heap());
    PersistentList la(s->heap(), a), lb(s->heap(), b);
    la.Append(Ref(b), 1);
    lb.Append(Ref(a), 1);
  }
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.cycle_collections, 2u);
  EXPECT_GE(r.cycle_pages, 2u);
}

// A collection behind a damaged page is unreached like a cycle's, but not
// known to be one: noted as such, not counted as a cycle.
TEST_F(CheckerTest, WhatDamageHidesIsNotCountedAsACycle) {
  PageId parent;
  {
    auto s = Open();
    uint64_t child = PersistentList::Create(s->heap());
    PersistentList(s->heap(), child).Append(Int(5), 1);
    uint64_t middle = PersistentList::Create(s->heap());
    PersistentList(s->heap(), middle).Append(Ref(child), 1);
    parent = NamedList(*s, "p", Ref(middle), 1);
    s->Commit();
  }
  FlipBit(SlotOf(parent), 3000);
  CheckReport r = Check();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.cycle_collections, 0u) << Describe(r);
  EXPECT_EQ(r.cycle_pages, 0u);
  bool noted = false;
  for (const std::string& n : r.notes) {
    noted = noted || n.find("not reached from the roots: behind the damage") != std::string::npos;
  }
  EXPECT_TRUE(noted) << Describe(r);
}

TEST_F(CheckerTest, WritesNothingAndReportsProgress) {
  {
    auto s = Open();
    NamedList(*s, "a", Ints(0, 100000), 100000);
  }
  const std::string before = FolderBytes();
  std::vector<CheckProgress> seen;
  CheckReport r = CheckPrefix(root_, "p", {}, [&](const CheckProgress& p) { seen.push_back(p); });
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(FolderBytes(), before);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_STREQ(seen.front().phase, "checksums");
  EXPECT_STREQ(seen.back().phase, "structure");
  EXPECT_EQ(seen.back().done, seen.back().total);
  EXPECT_EQ(seen.back().total, r.pages);
  for (size_t i = 1; i < seen.size(); ++i) {
    if (std::string(seen[i].phase) == seen[i - 1].phase) {
      EXPECT_GE(seen[i].done, seen[i - 1].done);
    }
  }
}

TEST_F(CheckerTest, FindsEveryPrefixWithSegments) {
  for (const char* p : {"b", "a"}) Store::Open(root_, p, {})->Close();
  fs::create_directories(root_ / "not-a-store");
  fs::create_directories(root_ / ".hidden");
  EXPECT_EQ(FindPrefixes(root_), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(FindPrefixes(root_ / "missing"), Error);
}

TEST_F(CheckerTest, MissingPrefixIsAnErrorNotAReport) {
  fs::create_directories(root_);
  try {
    Check();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
  EXPECT_FALSE(fs::exists(dir()));
}

// ---- each kind of damage is found, with where ------------------------------------

TEST_F(CheckerTest, FlippedBitInDataPageNamesThePage) {
  PageId leaf;
  {
    auto s = Open();
    uint64_t id = NamedList(*s, "a", Ints(0, 100), 100);
    s->Commit();
    leaf = HeaderRoot(*s, id);
  }
  FlipBit(SlotOf(leaf), 3000);
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "checksum");
  EXPECT_EQ(r.problems[0].page, leaf);
  EXPECT_NE(r.problems[0].message.find("page " + std::to_string(leaf)), std::string::npos);
}

TEST_F(CheckerTest, FlippedBitInTableNodeNamesTheNode) {
  {
    auto s = Open();
    NamedList(*s, "a", Ints(0, 300000), 300000);  // over 256 pages: a table of two levels
  }
  Superblock sb = Committed();
  ASSERT_EQ(sb.table_height, 2u);
  // The last leaf of the table: the root node's entry for it.
  SegmentTier tier(dir(), 4096, kSegmentBytes / 4096, true);
  std::vector<uint8_t> root(4096);
  tier.Read(sb.table_root_slot, root.data());
  SlotId leaf_slot = 0;
  uint64_t leaf_index = 0;
  for (uint64_t i = 0; i < 256; ++i) {
    TableEntry e;
    std::memcpy(&e, root.data() + 16 * i, 16);
    if (e.slot != 0) leaf_slot = e.slot, leaf_index = i;
  }
  ASSERT_GT(leaf_index, 0u);
  FlipBit(leaf_slot, 100);
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "table");
  EXPECT_NE(r.problems[0].message.find("level 1, index " + std::to_string(leaf_index)),
            std::string::npos)
      << r.problems[0].message;
  EXPECT_GT(r.pages_lost, 0u);
  EXPECT_FALSE(r.notes.empty());
}

TEST_F(CheckerTest, DamagedUpperTableNodeIsAnOpenProblem) {
  {
    auto s = Open();
    NamedList(*s, "a", Ints(0, 300000), 300000);
  }
  Superblock sb = Committed();
  FlipBit(sb.table_root_slot, 8);
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "open");
  EXPECT_NE(r.problems[0].message.find("page table node"), std::string::npos);
}

TEST_F(CheckerTest, MissingSuperblockSegmentIsAnOpenProblem) {
  {
    auto s = Open();
    NamedList(*s, "a", Ints(0, 3000), 3000);
  }
  // As if segment 0 (the superblocks) were deleted and a later one kept.
  fs::rename(dir() / "segment-00000.pfs", dir() / "segment-00001.pfs");
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "open");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(FindPrefixes(root_), std::vector<std::string>{"p"});
}

std::string TupleOf(uint64_t count, const std::string& elements) {
  std::string out;
  EncodeTuple(out, count, elements);
  return out;
}

TEST_F(CheckerTest, TuplesHoldingBlobsAndReferencesAreCleanAndCounted) {
  {
    auto s = Open();
    uint64_t inner = PersistentList::Create(s->heap());
    PersistentList l(s->heap(), inner);
    const std::string nested = TupleOf(2, Ref(inner) + Str(std::string(3000, 'y')));
    std::string floats;
    for (int i = 0; i < 600; ++i) EncodeFloat(floats, i + 0.25);
    // A tuple with a blob, a reference and a tuple in it; a tuple out of line.
    NamedList(*s, "t",
              TupleOf(3, Int(1) + Str(std::string(5000, 'x')) + nested) + TupleOf(600, floats), 2);
    s->Commit();
  }
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.lists, 2u);
  EXPECT_EQ(r.pages_reached, r.pages);
}

TEST_F(CheckerTest, AWrongRefcountThroughATupleIsReported) {
  uint64_t inner;
  {
    auto s = Open();
    inner = PersistentList::Create(s->heap());
    PersistentList l(s->heap(), inner);
    NamedList(*s, "t", TupleOf(1, Ref(inner)), 1);
    PageGuard g = s->space().Write(inner);
    SetField<uint64_t>(g.mutable_data(), offsetof(CollectionHeader, refcount), 2);
  }
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "refcount");
  EXPECT_EQ(r.problems[0].collection, inner);
}

std::string RefOf(CollectionKind kind, uint64_t id) {
  std::string out;
  EncodeRef(out, kind, id);
  return out;
}

// A dict "d" in the root map with many entries (split buckets, some deleted),
// long keys and values, and a set and a list stored in it.
uint64_t NamedDict(Store& s) {
  Heap& heap = s.heap();
  const uint64_t id = PersistentHash::Create(heap, CollectionKind::kDict);
  PersistentHash d(heap, id, CollectionKind::kDict);
  for (int i = 0; i < 5000; ++i) d.Set(Str("key-" + std::to_string(i)), Int(i));
  for (int i = 0; i < 5000; i += 3)
    d.Erase(Str("key-" + std::to_string(i)), [](std::string_view) {});
  d.Set(Str(std::string(3000, 'k')), Str(std::string(5000, 'v')));
  PersistentHash set(heap, PersistentHash::Create(heap, CollectionKind::kSet),
                     CollectionKind::kSet);
  set.Set(Str("member"), "");
  PersistentList list(heap, PersistentList::Create(heap));
  d.Set(Str("set"), RefOf(CollectionKind::kSet, set.id()));
  d.Set(Str("list"), RefOf(CollectionKind::kList, list.id()));
  RootMap(heap).Set("d", RefOf(CollectionKind::kDict, id));
  return id;
}

TEST_F(CheckerTest, DictsAndSetsAreCleanAndCounted) {
  {
    auto s = Open();
    NamedDict(*s);
    s->Commit();
  }
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.collections_by_kind.at("dict"), 1u);
  EXPECT_EQ(r.collections_by_kind.at("set"), 1u);
  EXPECT_EQ(r.lists, 1u);
  EXPECT_EQ(r.pages_reached, r.pages);
}

TEST_F(CheckerTest, ABucketEntryFiledUnderAnotherHashIsAHashProblem) {
  uint64_t id;
  {
    auto s = Open();
    id = NamedDict(*s);
    s->Commit();
    // Bucket 0's first entry: give it another hash.
    PageId dir = Field<uint64_t>(s->space().Read(id).data(), HashHeaderFields::kDirectory);
    std::string first;
    ListTree(s->heap(), dir).Get(0, [&](std::string_view v) { first = v; });
    const PageId bucket =
        static_cast<PageId>(Decode(reinterpret_cast<const uint8_t*>(first.data()), first.size()).i);
    PageGuard g = s->space().Write(bucket);
    HashBucket b(g.mutable_data(), 4096);
    IndexEntry e = b.at(0);
    e.hash_lo ^= 1u << 31;
    b.put(0, e);
    g.Release();
    s->Commit();
  }
  CheckReport r = Check();
  ASSERT_FALSE(r.problems.empty()) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "hash") << Describe(r);
  EXPECT_EQ(r.problems[0].collection, id);
}

TEST_F(CheckerTest, WrongRefcountNamesTheCollection) {
  uint64_t id;
  {
    auto s = Open();
    id = NamedList(*s, "a", Int(1), 1);
    PageGuard g = s->space().Write(id);
    SetField<uint64_t>(g.mutable_data(), offsetof(CollectionHeader, refcount), 3);
  }
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "refcount");
  EXPECT_EQ(r.problems[0].collection, id);
  EXPECT_NE(r.problems[0].message.find("refcount 3 but 1 reference"), std::string::npos);
}

TEST_F(CheckerTest, BrokenNodeCountNamesTheNode) {
  PageId node;
  uint64_t id;
  {
    auto s = Open();
    id = NamedList(*s, "a", Ints(0, 20000), 20000);
    node = HeaderRoot(*s, id);
    PageGuard g = s->space().Write(node);
    ListNode view(g.data(), 4096);
    ASSERT_TRUE(view.is_node());
    view.AddCount(1, 5);  // child 1 and every later cumulative count claim 5 more
  }
  CheckReport r = Check();
  const CheckProblem* p = Find(r, "list");
  ASSERT_NE(p, nullptr) << Describe(r);
  EXPECT_EQ(p->page, node);
  EXPECT_EQ(p->collection, id);
  EXPECT_NE(p->message.find("child 1"), std::string::npos) << p->message;
  for (const CheckProblem& q : r.problems) EXPECT_EQ(q.kind, "list") << Describe(r);
}

TEST_F(CheckerTest, ReferencedCollectionOnOrphanListIsReported) {
  uint64_t id;
  {
    auto s = Open();
    id = NamedList(*s, "a", Int(1), 1);
    s->Commit();
    Anchors a = s->space().anchors();
    ASSERT_EQ(a.orphan_head, kNoPage);
    a.orphan_head = id;  // the orphan list now claims a referenced list
    s->space().set_anchors(a);
    s->Commit();
  }
  CheckReport r = Check();
  const CheckProblem* p = Find(r, "orphan");
  ASSERT_NE(p, nullptr) << Describe(r);
  EXPECT_EQ(p->collection, id);
  EXPECT_NE(p->message.find("on the orphan list but has refcount 1"), std::string::npos);
}

TEST_F(CheckerTest, UnreferencedCollectionOffTheOrphanListIsReported) {
  uint64_t id;
  {
    auto s = Open();
    NamedList(*s, "kept", Int(1), 1);
    id = PersistentList::Create(s->heap());
    s->Commit();
    Anchors a = s->space().anchors();
    ASSERT_EQ(a.orphan_head, id);
    a.orphan_head = kNoPage;  // drop it from the orphan list: it would never be freed
    s->space().set_anchors(a);
    s->Commit();
  }
  CheckReport r = Check();
  const CheckProblem* p = Find(r, "orphan");
  ASSERT_NE(p, nullptr) << Describe(r);
  EXPECT_EQ(p->collection, id);
  EXPECT_NE(p->message.find("not on the orphan list"), std::string::npos);
}

TEST_F(CheckerTest, LeakedPageIsReported) {
  PageId leaked;
  {
    auto s = Open();
    NamedList(*s, "a", Int(1), 1);
    PageGuard g = s->space().Allocate();
    g.mutable_data()[0] = 42;
    leaked = g.id();
  }
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "leak");
  EXPECT_EQ(r.problems[0].page, leaked);
}

TEST_F(CheckerTest, BadValueNamesLeafAndValue) {
  PageId leaf;
  {
    auto s = Open();
    uint64_t id = NamedList(*s, "a", Ints(200, 210), 10);
    leaf = HeaderRoot(*s, id);
    PageGuard g = s->space().Write(leaf);
    g.mutable_data()[ListLeaf(g.data(), 4096).start(0)] = 0x0C;  // value 0's tag: a reserved one
  }
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "value");
  EXPECT_EQ(r.problems[0].page, leaf);
  EXPECT_NE(r.problems[0].message.find("value 0 of leaf"), std::string::npos);
}

TEST_F(CheckerTest, InvalidUtf8StrIsReported) {
  PageId leaf;
  {
    auto s = Open();
    uint64_t id = NamedList(*s, "a", Str("ab"), 1);
    leaf = HeaderRoot(*s, id);
    PageGuard g = s->space().Write(leaf);
    g.mutable_data()[4095] = '\xff';  // the last byte of value 0: "a\xff"
  }
  CheckReport r = Check();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, "value");
  EXPECT_NE(r.problems[0].message.find("not UTF-8"), std::string::npos);
}

TEST_F(CheckerTest, TwoPagesInOneSlotAreNamed) {
  PageId a_leaf, b_leaf;
  {
    auto s = Open();
    uint64_t a = NamedList(*s, "a", Int(1), 1);
    uint64_t b = NamedList(*s, "b", Int(2), 1);
    s->Commit();
    a_leaf = HeaderRoot(*s, a);
    b_leaf = HeaderRoot(*s, b);
  }
  // Point b's leaf at a's slot in the (one-level) table, and re-seal the
  // table and the superblock so that only the sharing is wrong.
  Superblock sb = Committed();
  ASSERT_EQ(sb.table_height, 1u);
  {
    SegmentTier tier(dir(), 4096, kSegmentBytes / 4096, false);
    std::vector<uint8_t> node(4096);
    tier.Read(sb.table_root_slot, node.data());
    TableEntry ea;
    std::memcpy(&ea, node.data() + 16 * a_leaf, 16);
    std::memcpy(node.data() + 16 * b_leaf, &ea, 16);
    sb.table_root_checksum = Checksum(node.data(), 4096, TableNodeSeed(1, 0));
    tier.Write(sb.table_root_slot, node.data());
    std::vector<uint8_t> slot(4096);
    EncodeSuperblock(sb, slot);
    tier.Write(sb.epoch % 2, slot.data());
    tier.Sync();
  }
  CheckReport r = Check();
  const CheckProblem* p = Find(r, "slot");
  ASSERT_NE(p, nullptr) << Describe(r);
  EXPECT_NE(p->message.find("page " + std::to_string(a_leaf)), std::string::npos) << p->message;
  EXPECT_NE(p->message.find("page " + std::to_string(b_leaf)), std::string::npos) << p->message;
  const CheckProblem* c = Find(r, "checksum");  // b's leaf reads a's bytes
  ASSERT_NE(c, nullptr) << Describe(r);
  EXPECT_EQ(c->page, b_leaf);
}

TEST_F(CheckerTest, ProblemsAreCappedAndCounted) {
  {
    auto s = Open();
    NamedList(*s, "a", Int(1), 1);
    std::vector<PageId> ids;
    for (int i = 0; i < 40; ++i) ids.push_back(s->space().Allocate().id());
    for (int i = 1; i < 40; i += 2) s->space().Free(ids[i]);  // so the 20 leaks are not adjacent
  }
  CheckOptions o;
  o.max_problems = 5;
  CheckReport r = CheckPrefix(root_, "p", o);
  EXPECT_EQ(r.problems.size(), 5u) << Describe(r);
  EXPECT_EQ(r.problems_omitted, 15u);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pagefs
