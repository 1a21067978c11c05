#include "pager/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"
#include "pager/testing/fault_env.h"
#include "pager/testing/forked_child.h"
#include "pager/testing/temp_folder.h"
#include "pager/util/error.h"
#include "pager/values/value_format.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  static std::string Str(const std::string& s) {
    std::string out;
    EncodeStr(out, s);
    return out;
  }
  static std::string DecodeStr(std::string_view encoded) {
    ValueView v = Decode(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
    return std::string(v.data);
  }

  ErrorCode CodeOf(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      last_message_ = e.what();
      return e.code();
    }
    ADD_FAILURE() << "no error";
    return ErrorCode::kIo;
  }

  TempFolder folder_{"store"};
  const fs::path& root_ = folder_.path();
  std::string last_message_;
};

TEST_F(StoreTest, ListNamedInTheRootMapSurvivesReopen) {
  StoreOptions small;
  small.cache_size = 1 << 20;  // far less than the data: pages are evicted and written back
  {
    auto store = Store::Open(root_, "data", small);
    uint64_t id = PersistentList::Create(store->heap());
    PersistentList list(store->heap(), id);
    std::string run;
    for (int i = 0; i < 200000; ++i) EncodeStr(run, "value-" + std::to_string(i));
    list.Append(run, 200000);
    std::string ref;
    EncodeRef(ref, CollectionKind::kList, id);
    RootMap(store->heap()).Set("results", ref);
    EXPECT_LE(store->stats().resident_bytes, small.cache_size);
    store->Close();
  }
  auto store = Store::Open(root_, "data", small);
  uint64_t id = 0;
  ASSERT_TRUE(RootMap(store->heap()).Get("results", [&](std::string_view v) {
    id = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).ref_id;
  }));
  PersistentList list(store->heap(), id);
  ASSERT_EQ(200000u, list.size());
  for (uint64_t i : {0ull, 12313ull, 199999ull}) {
    list.Get(i, [&](std::string_view v) { EXPECT_EQ("value-" + std::to_string(i), DecodeStr(v)); });
  }
}

TEST_F(StoreTest, UnreferencedListIsFreedAtClose) {
  uint64_t pages_before;
  {
    auto store = Store::Open(root_, "data", {});
    store->Commit();
    pages_before = store->stats().pages;
    {
      PersistentList list(store->heap(), PersistentList::Create(store->heap()));
      std::string run;
      for (int i = 0; i < 10000; ++i) EncodeStr(run, std::to_string(1000000 + i));
      list.Append(run, 10000);
    }
    store->Close();
  }
  auto store = Store::Open(root_, "data", {});
  EXPECT_EQ(pages_before, store->stats().pages);
}

TEST_F(StoreTest, SecondWriterIsRefusedWithTheHoldersPid) {
  auto first = Store::Open(root_, "data", {});
  // flock is per open file description: another process must be refused.
  EXPECT_EQ(0, InForkedChild([&] {
              try {
                Store::Open(root_, "data", {});
                return 1;
              } catch (const Error& e) {
                std::string what = e.what();
                bool ok = e.code() == ErrorCode::kBusy &&
                          what.find(std::to_string(::getppid())) != std::string::npos;
                return ok ? 0 : 2;
              }
            }));
  StoreOptions ro;
  ro.read_only = true;
  EXPECT_NO_THROW(Store::Open(root_, "data", ro));  // readers take no lock
}

TEST_F(StoreTest, BadPrefixesAreInvalidArguments) {
  for (const char* prefix : {"", "a/b", "..", ".", ".hidden"}) {
    EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { Store::Open(root_, prefix, {}); }))
        << prefix;
  }
  const char with_nul[] = {'a', '\0', 'b'};
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            CodeOf([&] { Store::Open(root_, std::string(with_nul, 3), {}); }));
}

TEST_F(StoreTest, UnwritableRootIsAnIoError) {
  fs::create_directories(root_);
  std::ofstream(root_ / "file") << "x";
  EXPECT_EQ(ErrorCode::kIo,
            CodeOf([&] { Store::Open((root_ / "file" / "sub").string(), "data", {}); }));
  EXPECT_NE(last_message_.find("file"), std::string::npos) << last_message_;
}

TEST_F(StoreTest, ReadOnlyOpenOfAMissingPrefixIsNotFound) {
  StoreOptions ro;
  ro.read_only = true;
  EXPECT_EQ(ErrorCode::kNotFound, CodeOf([&] { Store::Open(root_, "nothing", ro); }));
  EXPECT_FALSE(fs::exists(root_ / "nothing"));
}

TEST_F(StoreTest, ClosedStoreRefusesEveryOperation) {
  auto store = Store::Open(root_, "data", {});
  PersistentList list(store->heap(), PersistentList::Create(store->heap()));
  store->Close();
  EXPECT_TRUE(store->closed());
  // One message, whether the store or a list that outlived it is used.
  const std::string closed = "prefix 'data' of " + root_.string() + " is closed";
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { list.size(); }));
  EXPECT_EQ(last_message_, closed);
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { PersistentList::Create(store->heap()); }));
  EXPECT_EQ(last_message_, closed);
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { store->Commit(); }));
  EXPECT_EQ(last_message_, closed);
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { store->stats(); }));
  EXPECT_EQ(last_message_, closed);
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { store->CheckOpen(); }));
  EXPECT_EQ(last_message_, closed);
  EXPECT_NO_THROW(store->Close());
}

TEST_F(StoreTest, PageSizeOfAnExistingStoreIsFoundOnOpen) {
  StoreOptions big;
  big.page_size = 16384;
  { Store::Open(root_, "data", big)->Close(); }
  auto store = Store::Open(root_, "data", {});  // asks for 4096 by default
  EXPECT_EQ(16384u, store->stats().page_size);
}

TEST_F(StoreTest, DamagedSuperblocksMakeOpenFailWithCorruption) {
  { Store::Open(root_, "data", {})->Close(); }
  {
    std::fstream seg(root_ / "data" / "segment-00000.pfs",
                     std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff off : {0, 2048, 4096, 4096 + 2048}) {
      seg.seekp(off + 20);
      seg.put('\x5a');
    }
  }
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Store::Open(root_, "data", {}); }));
  EXPECT_NE(last_message_.find("prefix 'data'"), std::string::npos) << last_message_;
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

// What the mount daemon asks before rolling back a writer that went away.
TEST_F(StoreTest, HasUncommittedChangesCoversCacheVolumeAndAnchors) {
  StoreOptions small;
  small.cache_size = 1 << 16;  // 16 frames: most pages are written back before the commit
  auto store = Store::Open(root_, "data", small);
  EXPECT_FALSE(store->has_uncommitted_changes());
  PageId first;
  { first = store->space().Allocate().id(); }  // dirty in the cache only
  EXPECT_TRUE(store->has_uncommitted_changes());
  store->Commit();
  EXPECT_FALSE(store->has_uncommitted_changes());
  for (int i = 0; i < 64; ++i) store->space().Allocate();
  store->Flush();  // nothing dirty in the cache, all in the volume
  EXPECT_EQ(store->stats().dirty_pages, 0u);
  EXPECT_TRUE(store->has_uncommitted_changes());
  store->Commit();
  EXPECT_FALSE(store->has_uncommitted_changes());
  store->space().Free(first);
  EXPECT_TRUE(store->has_uncommitted_changes());
  store->Rollback();
  EXPECT_FALSE(store->has_uncommitted_changes());
  store->space().set_anchors({first, kNoPage});
  EXPECT_TRUE(store->has_uncommitted_changes());
  store->Commit();
  EXPECT_FALSE(store->has_uncommitted_changes());
  store->volume().ExtendTo(store->volume().page_count() + 5);
  EXPECT_TRUE(store->has_uncommitted_changes());
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

// Named *Concurrency so scripts/test.sh runs it under ThreadSanitizer too.
TEST_F(StoreTest, ConcurrencyOfBudgetChangesFromManyThreads) {
  auto store = Store::Open(root_, "data", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        store->set_cache_size((uint64_t{2} + (i + t) % 6) << 20);
        EXPECT_GE(store->cache_size(), uint64_t{2} << 20);
        (void)store->stats();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  store->set_cache_size(uint64_t{3} << 20);
  EXPECT_EQ(store->cache_size(), uint64_t{3} << 20);
  EXPECT_EQ(store->stats().cache_budget, uint64_t{3} << 20);
}

}  // namespace
}  // namespace pagefs

namespace pagefs {
namespace {

// Every file under root with its bytes: what an open left behind.
std::map<std::string, std::string> Contents(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string bytes;
    if (e.is_regular_file()) {
      std::ifstream in(e.path(), std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    out[fs::relative(e.path(), root).string()] = bytes;
  }
  return out;
}

// The errno of the Error fn throws (0 for none).
int ErrnoOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.sys_errno();
  }
  return 0;
}

class StoreEnvTest : public StoreTest {
 protected:
  StoreOptions WithEnv() {
    StoreOptions o;
    o.env = &env_;
    return o;
  }
  // Whether the writer lock of the prefix is free: another open takes it.
  bool LockIsFree() {
    try {
      Store::Open(root_, "data", {})->Close();
      return true;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kBusy) throw;
      return false;
    }
  }
  FaultEnv env_;
};

TEST_F(StoreEnvTest, AWriterOpensThroughItsEnvInOrder) {
  { Store::Open(root_, "data", WithEnv())->Close(); }
  EXPECT_EQ(
      (std::vector<std::string>{"CreateFolders", "CreateFolder", "ProbePageSize", "LockWriter",
                                "ProbePageSize", "OpenTier", "OpenCommitRoot", "OpenReaderTable"}),
      env_.calls());
  StoreOptions ro = WithEnv();
  ro.read_only = true;
  FaultEnv reader_env;
  ro.env = &reader_env;
  { Store::Open(root_, "data", ro)->Close(); }
  // A reader makes no folder and takes no lock.
  EXPECT_EQ(
      (std::vector<std::string>{"ProbePageSize", "OpenTier", "OpenCommitRoot", "OpenReaderTable"}),
      reader_env.calls());
}

TEST_F(StoreEnvTest, APrefixFolderThatCannotBeMadeIsAnIoErrorAndNothingIsLeft) {
  env_.Fail("CreateFolder", EACCES);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_NE(last_message_.find("create store folder " + (root_ / "data").string()),
            std::string::npos)
      << last_message_;
  EXPECT_EQ(EACCES, ErrnoOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_FALSE(fs::exists(root_ / "data"));
  EXPECT_EQ(0, env_.count("LockWriter"));
}

TEST_F(StoreEnvTest, NoSpaceForTheTierIsNoSpaceAndReleasesTheLock) {
  env_.Fail("OpenTier", ENOSPC);
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_EQ(1, env_.count("LockWriter"));  // it was taken before the tier ...
  EXPECT_TRUE(LockIsFree());               // ... and released by the failed open
  env_.Fail("OpenTier", ENOSPC);
  Store::Open(root_, "data", {})->Close();  // now a store: a failed reopen leaves it as it was
  const auto before = Contents(root_);
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_EQ(before, Contents(root_));
  EXPECT_TRUE(LockIsFree());
}

TEST_F(StoreEnvTest, ANewStoreWhoseTierCannotBeMadeGetsNoFiles) {
  env_.Fail("OpenTier", ENOSPC);
  EXPECT_EQ(ErrorCode::kNoSpace, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_FALSE(fs::exists(root_ / "data" / "segment-00000.pfs"));
  EXPECT_FALSE(fs::exists(root_ / "data" / "readers"));
}

TEST_F(StoreEnvTest, AFailedLockIsAnIoErrorAndNothingIsFormatted) {
  env_.Fail("LockWriter", EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_EQ("LockWriter", env_.calls().back());  // nothing after it
  EXPECT_FALSE(fs::exists(root_ / "data" / "segment-00000.pfs"));
  EXPECT_FALSE(fs::exists(root_ / "data" / "readers"));
}

TEST_F(StoreEnvTest, ABusyPrefixIsRefusedBeforeItsTierIsOpened) {
  auto first = Store::Open(root_, "data", {});
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_NE(last_message_.find("process " + std::to_string(::getpid())), std::string::npos)
      << last_message_;
  EXPECT_EQ("LockWriter", env_.calls().back());
}

TEST_F(StoreEnvTest, AReaderTableThatCannotBeOpenedReleasesTheLock) {
  env_.Fail("OpenReaderTable", EACCES);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_TRUE(LockIsFree());
}

TEST_F(StoreEnvTest, ADamagedFolderIsRefusedBeforeAnythingIsWrittenInIt) {
  { Store::Open(root_, "data", {})->Close(); }
  {
    std::fstream seg(root_ / "data" / "segment-00000.pfs",
                     std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff off : {0, 2048, 4096, 4096 + 2048}) {
      seg.seekp(off + 20);
      seg.put('\x5a');
    }
  }
  fs::remove(root_ / "data" / "LOCK");
  fs::remove(root_ / "data" / "readers");
  // A stranger's folder, which a writer would format over.
  fs::create_directories(root_ / "notes");
  std::ofstream(root_ / "notes" / "todo.txt") << "milk";
  const auto before = Contents(root_);
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Store::Open(root_, "data", WithEnv()); }));
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { Store::Open(root_, "notes", WithEnv()); }));
  StoreOptions ro = WithEnv();
  ro.read_only = true;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { Store::Open(root_, "data", ro); }));
  EXPECT_EQ(before, Contents(root_));
  EXPECT_EQ(0, env_.count("LockWriter"));
  EXPECT_EQ(0, env_.count("OpenTier"));
  EXPECT_EQ(0, env_.count("OpenReaderTable"));
}

TEST_F(StoreEnvTest, ARollbackThatCannotReopenClosesTheStoreAndReleasesTheLock) {
  auto store = Store::Open(root_, "data", WithEnv());
  store->space().Allocate();
  env_.Fail("OpenTier", EIO);
  EXPECT_EQ(ErrorCode::kIo, CodeOf([&] { store->Rollback(); }));
  EXPECT_TRUE(store->closed());
  EXPECT_EQ(ErrorCode::kClosed, CodeOf([&] { store->stats(); }));
  EXPECT_TRUE(LockIsFree());
  EXPECT_NO_THROW(store->Close());
}

}  // namespace
}  // namespace pagefs
