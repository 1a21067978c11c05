// OpGate: the store-wide gate every collection operation passes. Operations
// hold the op lock shared and check that the gate is open; commit and close
// hold it exclusively, so they never see half an operation. MarkClosed shuts
// the gate for good, and in a process forked after the gate was made it is
// shut too (fork_guard.h): the child never touches its parent's pages or
// waits on its parent's locks.
//
// For a space that shows one commit at a time (a read-only store through a
// mount), FollowCommits moves the space to the newest commit between
// operations, under the op lock held exclusively.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>

#include "pager/space/page_space.h"
#include "pager/util/fork_guard.h"

namespace pagefs {

class OpGate {
 public:
  // name describes the store in the closed message ("<name> is closed").
  OpGate(PageSpace& space, std::string name);
  OpGate(const OpGate&) = delete;
  OpGate& operator=(const OpGate&) = delete;

  // Shared by every collection operation, exclusive for commit and close.
  std::shared_mutex& lock() { return lock_; }

  // After MarkClosed (by Store::Close, under the lock held exclusively),
  // CheckOpen throws Error(kClosed) instead of letting an operation touch pages.
  void MarkClosed() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire) || forked(); }
  bool forked() const { return fork_generation_ != ForkGeneration(); }
  // Throws Error(kClosed) if closed, saying so when this is a forked child.
  // Call with the lock held, or before taking it.
  void CheckOpen() const;

  // Moves the space to its newest commit when there is a newer one. Every
  // top-level operation calls it first, so each one reads exactly one commit
  // and a new commit is picked up by the operations that start after the
  // space notices it (PageSpace::NewerCommit). In a forked child it throws
  // Error(kClosed) before any lock. REQUIRES: the lock not held.
  void FollowCommits(bool force = false);

 private:
  PageSpace& space_;
  const std::string name_;
  const uint64_t fork_generation_;
  const int opener_pid_;  // for the message a forked child gets
  std::atomic<bool> closed_{false};
  std::shared_mutex lock_;
};

}  // namespace pagefs
