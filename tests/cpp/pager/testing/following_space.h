// FollowingSpace: a MemoryPageSpace that claims a newer commit whenever
// newer_ is set, as a read-only space through a mount does, and counts the
// FollowCommit calls (each consumes the newer commit).
#pragma once

#include <atomic>
#include <functional>

#include "pager/testing/memory_page_space.h"

namespace pagefs {

class FollowingSpace : public MemoryPageSpace {
 public:
  bool NewerCommit(bool force) override {
    forced_ += force ? 1 : 0;
    return newer_.load();
  }
  void FollowCommit() override {
    ++follows_;
    if (on_follow_) on_follow_();
    newer_ = false;
  }

  std::atomic<bool> newer_{false};
  std::atomic<int> follows_{0};
  std::atomic<int> forced_{0};
  std::function<void()> on_follow_;  // runs inside FollowCommit
};

}  // namespace pagefs
