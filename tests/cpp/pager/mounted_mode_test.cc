// MountedMode: a Store whose root is a pagefs mount (here a FakeMount,
// testing/fake_mount.h) works through the mount's files; what only an
// embedded store has (its volume, rollback, uncommitted changes) is refused.
#include "pager/mounted_mode.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"
#include "pager/store.h"
#include "pager/testing/error_code.h"
#include "pager/testing/fake_mount.h"
#include "pager/testing/temp_folder.h"
#include "pager/values/value_format.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

class MountedModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = std::make_unique<FakeMount>(root_, 8192);
    options_.env = mount_.get();
  }

  TempFolder folder_{"mounted-mode"};
  const fs::path& root_ = folder_.path();
  std::unique_ptr<FakeMount> mount_;  // goes before its folder
  StoreOptions options_;
};

TEST_F(MountedModeTest, AStoreOnAMountMakesItsPrefixThereAndTakesTheDaemonsPageSize) {
  options_.page_size = 4096;  // the daemon's page size wins
  auto store = Store::Open(mount_->root(), "data", options_);
  EXPECT_TRUE(store->mounted());
  EXPECT_TRUE(fs::exists(root_ / "data" / "committed"));  // the "daemon" made it
  EXPECT_FALSE(fs::exists(root_ / "data" / "LOCK"));      // the role is the mount's
  EXPECT_EQ(8192u, store->space().page_size());
  EXPECT_EQ(8192u, store->stats().page_size);
  StoreOptions ro = options_;
  ro.read_only = true;
  EXPECT_EQ(ErrorCode::kNotFound, CodeOf([&] { Store::Open(mount_->root(), "none", ro); }));
  EXPECT_FALSE(fs::exists(root_ / "none"));
}

TEST_F(MountedModeTest, WhatTheDaemonHoldsIsRefusedHere) {
  auto store = Store::Open(mount_->root(), "data", options_);
  std::string message;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { store->volume(); }, &message));
  EXPECT_NE(message.find("prefix 'data'"), std::string::npos) << message;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { store->has_uncommitted_changes(); }));
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { store->Rollback(); }));
  EXPECT_FALSE(store->closed());  // a refused rollback changes nothing
  EXPECT_EQ(ErrorCode::kBusy, CodeOf([&] { Store::Open(mount_->root(), "data", options_); }));
}

TEST_F(MountedModeTest, TheBudgetAskedForIsKeptAndTheLocalCacheTakesItsShare) {
  options_.cache_size = 256ull << 20;
  auto store = Store::Open(mount_->root(), "data", options_);
  EXPECT_EQ(256ull << 20, store->cache_size());
  EXPECT_EQ(kMountedCacheMax, store->stats().cache_budget);
  store->set_cache_size(2ull << 20);
  EXPECT_EQ(2ull << 20, store->cache_size());
  EXPECT_EQ(2ull << 20, store->stats().cache_budget);
}

TEST_F(MountedModeTest, AListCommittedThroughTheMountIsReadBackByAReader) {
  {
    auto store = Store::Open(mount_->root(), "data", options_);
    const uint64_t id = PersistentList::Create(store->heap());
    PersistentList list(store->heap(), id);
    std::string run;
    for (int i = 0; i < 1000; ++i) EncodeStr(run, "value-" + std::to_string(i));
    list.Append(run, 1000);
    std::string ref;
    EncodeRef(ref, CollectionKind::kList, id);
    RootMap(store->heap()).Set("l", ref);
    store->Close();  // commits, and gives back the batch's unused ids
  }
  EXPECT_GE(mount_->epoch("data"), 1u);
  const uint64_t epoch = mount_->epoch("data");
  StoreOptions ro = options_;
  ro.read_only = true;
  auto reader = Store::Open(mount_->root(), "data", ro);
  EXPECT_EQ(epoch, reader->stats().epoch);
  uint64_t id = 0;
  ASSERT_TRUE(RootMap(reader->heap()).Get("l", [&](std::string_view v) {
    id = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).ref_id;
  }));
  PersistentList list(reader->heap(), id);
  ASSERT_EQ(1000u, list.size());
  list.Get(999, [&](std::string_view v) {
    EXPECT_EQ("value-999",
              std::string(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()).data));
  });
}

}  // namespace
}  // namespace pagefs
