// OpScope: the prologue of every collection operation, written once. For its
// lifetime it holds, in this order (and releases in reverse):
//
// 1. the newest commit followed (OpGate::FollowCommits: a read-only space
//    through a mount moves to it before the operation reads anything);
// 2. the store's op lock, shared (commit and close wait for the operation);
// 3. the check that the store is open and not a forked child's
//    (Error(kClosed) otherwise, before any page is touched);
// 4. the collection's mutex, when the operation works on one (a list's
//    CollectionState, the root map's heap-wide mutex).
//
// Opening and creating a collection take 1-3 only: there is no collection
// to lock yet. Creating follows no commit (Follow::kNo), as a writer's
// space has none to follow; a forked child is still refused before the lock.
//
// In a NoWaitScope (util/no_wait.h) it waits for neither lock: when another
// thread holds one, or a look for a newer commit is due, it throws WouldWait.
#pragma once

#include <mutex>
#include <shared_mutex>

#include "pager/collections/heap.h"
#include "pager/util/no_wait.h"

namespace pagefs {

class OpScope {
 public:
  enum class Follow { kCommits, kNo };

  // An operation on the collection whose mutex is mu.
  OpScope(Heap& heap, std::mutex& mu)
      : op_(Enter(heap, Follow::kCommits)), collection_(mu, std::defer_lock) {
    Take(collection_);
  }
  // An operation that locks no collection.
  explicit OpScope(Heap& heap, Follow follow = Follow::kCommits) : op_(Enter(heap, follow)) {}
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  static std::shared_lock<std::shared_mutex> Enter(Heap& heap, Follow follow) {
    if (follow == Follow::kCommits) {
      heap.FollowCommits();
    } else if (heap.forked()) {
      heap.CheckOpen();  // before the lock, as FollowCommits
    }
    std::shared_lock op(heap.op_lock(), std::defer_lock);
    Take(op);
    heap.CheckOpen();
    return op;
  }
  // Locks l, or in a NoWaitScope throws WouldWait if that would wait.
  template <typename L>
  static void Take(L& l) {
    if (!NoWaitScope::active()) {
      l.lock();
    } else if (!l.try_lock()) {
      throw WouldWait();
    }
  }

  std::shared_lock<std::shared_mutex> op_;
  std::unique_lock<std::mutex> collection_;
};

}  // namespace pagefs
