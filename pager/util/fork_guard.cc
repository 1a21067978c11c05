#include "pager/util/fork_guard.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace pagefs {

namespace fork_guard_detail {
std::atomic<uint64_t> generation{0};
}  // namespace fork_guard_detail

namespace {

// The descriptors to close in a child. The mutex is held across fork() (taken
// by the prepare handler), so the child never inherits it locked by a thread
// that does not exist there.
std::mutex& FdsMutex() {
  static std::mutex* mu = new std::mutex;  // never destroyed: atfork may run at exit
  return *mu;
}
std::vector<int>& Fds() {
  static std::vector<int>* fds = new std::vector<int>;
  return *fds;
}

void Prepare() { FdsMutex().lock(); }
void InParent() { FdsMutex().unlock(); }
void InChild() {
  fork_guard_detail::generation.fetch_add(1, std::memory_order_relaxed);
  for (int fd : Fds()) ::close(fd);
  Fds().clear();
  FdsMutex().unlock();
}

void RegisterOnce() {
  static const int registered = ::pthread_atfork(&Prepare, &InParent, &InChild);
  (void)registered;
}

// Registered when the engine is loaded, so even a fork before the first
// Store is counted (a store opened afterwards is the child's own anyway).
[[maybe_unused]] const bool kRegistered = (RegisterOnce(), true);

}  // namespace

void CloseInChildren(int fd) {
  RegisterOnce();
  std::lock_guard<std::mutex> lock(FdsMutex());
  Fds().push_back(fd);
}

void ForgetInChildren(int fd) {
  std::lock_guard<std::mutex> lock(FdsMutex());
  auto& fds = Fds();
  fds.erase(std::remove(fds.begin(), fds.end(), fd), fds.end());
}

}  // namespace pagefs
