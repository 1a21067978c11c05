// NoWaitScope: inside one, whatever would wait for another thread or load a
// page throws WouldWait before it changes anything, and outside one the same
// calls wait and load as ever (what the Python binding's reads holding the
// GIL rely on, pybind/binding.h ReadHoldingGil).
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "pager/cache/buffer_pool.h"
#include "pager/collections/builtin_kinds.h"
#include "pager/collections/op_scope.h"
#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"
#include "pager/space/embedded_space.h"
#include "pager/testing/following_space.h"
#include "pager/testing/list_test_util.h"
#include "pager/testing/test_page_size.h"
#include "pager/tier/memory_tier.h"
#include "pager/util/no_wait.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

bool RefusedInScope(const std::function<void()>& fn) {
  NoWaitScope scope;
  try {
    fn();
  } catch (const WouldWait&) {
    return true;
  }
  return false;
}

// Holds lock (by lock_fn) on another thread until the object goes.
class HeldElsewhere {
 public:
  HeldElsewhere(const std::function<void()>& lock_fn, const std::function<void()>& unlock_fn)
      : thread_([this, lock_fn, unlock_fn] {
          lock_fn();
          std::unique_lock l(mu_);
          held_ = true;
          cv_.notify_all();
          cv_.wait(l, [this] { return release_; });
          unlock_fn();
        }) {
    std::unique_lock l(mu_);
    cv_.wait(l, [this] { return held_; });
  }
  ~HeldElsewhere() {
    {
      std::lock_guard l(mu_);
      release_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  HeldElsewhere(const HeldElsewhere&) = delete;
  HeldElsewhere& operator=(const HeldElsewhere&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, release_ = false;
  std::thread thread_;
};

TEST(NoWaitScopeTest, MarksOnlyItsThreadForItsLifetime) {
  EXPECT_FALSE(NoWaitScope::active());
  EXPECT_NO_THROW(NoWaitScope::Refuse());
  {
    NoWaitScope outer;
    {
      NoWaitScope inner;
      EXPECT_TRUE(NoWaitScope::active());
    }
    EXPECT_TRUE(NoWaitScope::active());
    EXPECT_THROW(NoWaitScope::Refuse(), WouldWait);
    bool other = true;
    std::thread([&] { other = NoWaitScope::active(); }).join();
    EXPECT_FALSE(other);
  }
  EXPECT_FALSE(NoWaitScope::active());
}

TEST(NoWaitScopeTest, APageNotResidentIsRefusedAndLoadsOutside) {
  MemoryTier tier{kPage};
  Volume volume(tier, "prefix 'nowait'", {});
  BufferPool pool(kPage, 1 << 20, volume);
  EmbeddedSpace space(volume, pool);
  PageId id;
  {
    PageGuard g = space.Allocate();
    g.mutable_data()[0] = 7;
    id = g.id();
  }
  space.Commit();
  pool.Discard(id);  // written back by the commit: only the volume holds it now
  const uint64_t misses = pool.stats().misses;
  EXPECT_TRUE(RefusedInScope([&] { space.Read(id); }));
  EXPECT_EQ(misses, pool.stats().misses) << "refused before the load";
  EXPECT_EQ(7, space.Read(id).data()[0]);
  EXPECT_FALSE(RefusedInScope([&] { EXPECT_EQ(7, space.Read(id).data()[0]); }))
      << "a resident page pins as ever";
  EXPECT_EQ(0u, pool.stats().pinned);
}

class NoWaitScopeOpTest : public ::testing::Test {
 protected:
  FollowingSpace space_;
  Heap heap_{space_, BuiltinKinds()};
  std::mutex collection_mu_;
};

TEST_F(NoWaitScopeOpTest, LocksHeldElsewhereAreRefusedNotWaitedFor) {
  EXPECT_FALSE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }));
  {
    std::shared_mutex& op = heap_.op_lock();
    HeldElsewhere commit([&] { op.lock(); }, [&] { op.unlock(); });
    EXPECT_TRUE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }));
    EXPECT_TRUE(RefusedInScope([&] { OpScope scope(heap_); }));
  }
  {
    HeldElsewhere other_op([&] { collection_mu_.lock(); }, [&] { collection_mu_.unlock(); });
    EXPECT_TRUE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }));
    // The op lock it took first is not left held.
    EXPECT_TRUE(heap_.op_lock().try_lock());
    heap_.op_lock().unlock();
  }
  {
    std::shared_mutex& op = heap_.op_lock();
    HeldElsewhere reader([&] { op.lock_shared(); }, [&] { op.unlock_shared(); });
    EXPECT_FALSE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }))
        << "other operations share the op lock";
  }
}

TEST_F(NoWaitScopeOpTest, ADueMoveToANewerCommitIsRefusedAndHappensOutside) {
  space_.newer_ = true;
  EXPECT_TRUE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }));
  EXPECT_EQ(0, space_.follows_.load());
  { OpScope scope(heap_, collection_mu_); }
  EXPECT_EQ(1, space_.follows_.load());
  EXPECT_FALSE(RefusedInScope([&] { OpScope scope(heap_, collection_mu_); }));
}

TEST_F(NoWaitScopeOpTest, AReferenceIsRefusedBeforeAnyHandleOpens) {
  PersistentList inner(heap_, PersistentList::Create(heap_));
  PersistentHash d(heap_, PersistentHash::Create(heap_, CollectionKind::kDict),
                   CollectionKind::kDict);
  std::string ref, tuple;
  EncodeRef(ref, CollectionKind::kList, inner.id());
  EncodeTuple(tuple, 1, Int(5));
  d.Set(Str("ref"), ref);
  d.Set(Str("tuple"), tuple);
  d.Set(Str("int"), Int(3));
  ReferencedLists refs(heap_);
  auto open = [&](std::string_view v) { refs.Open(v); };
  EXPECT_TRUE(RefusedInScope([&] { d.Get(Str("ref"), open); }));
  EXPECT_TRUE(RefusedInScope([&] { d.Get(Str("tuple"), open); }));
  EXPECT_TRUE(refs.empty());
  std::string got;
  EXPECT_FALSE(RefusedInScope([&] {
    EXPECT_TRUE(d.Get(Str("int"), [&](std::string_view v) { got = v; }));
    EXPECT_FALSE(d.Contains(Str("absent")));
  }));
  EXPECT_EQ(Int(3), got);
  EXPECT_TRUE(d.Get(Str("ref"), open));  // outside: opened as ever
  EXPECT_FALSE(refs.empty());
  refs.CloseAll();
  EXPECT_EQ(0u, space_.live_pins());
}

}  // namespace
}  // namespace pagefs
