// Whether another thread could take a lock right now: the tests of code that
// must hold a lock (or must have dropped it) ask from a second thread, since
// a thread probing a mutex it holds itself is undefined behaviour.
#pragma once

#include <future>

namespace pagefs {

// Exclusively (std::mutex, std::shared_mutex).
template <class M>
bool IsFree(M& mu) {
  return std::async(std::launch::async,
                    [&] {
                      if (!mu.try_lock()) return false;
                      mu.unlock();
                      return true;
                    })
      .get();
}

// Shared (std::shared_mutex).
template <class M>
bool SharedIsFree(M& mu) {
  return std::async(std::launch::async,
                    [&] {
                      if (!mu.try_lock_shared()) return false;
                      mu.unlock_shared();
                      return true;
                    })
      .get();
}

}  // namespace pagefs
