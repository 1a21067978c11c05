// Fork detection. A child forked while a Store is open shares the parent's
// files and lock but none of its threads (the buffer pool's prefetch thread,
// a thread that held a lock at the fork): it must never write, commit or
// free anything of the parent's store, nor wait on its locks. The child has
// to open the store again itself.
//
// ForkGeneration() counts the forks between the first process and this one
// (a pthread_atfork handler increments it in every child), so an object that
// remembers the generation it was made in knows, with one atomic load and no
// syscall, that it now lives in a fork of the process that made it.
#pragma once

#include <atomic>
#include <cstdint>

namespace pagefs {

namespace fork_guard_detail {
extern std::atomic<uint64_t> generation;
}  // namespace fork_guard_detail

inline uint64_t ForkGeneration() {
  return fork_guard_detail::generation.load(std::memory_order_relaxed);
}

// fd is closed in every child forked from now on, before the child runs any
// code, until ForgetInChildren(fd): for the writer lock, whose flock the
// child's copy of the descriptor would otherwise keep held after the parent
// has closed it. The owner must not close fd itself in such a child (the
// number may be reused there).
void CloseInChildren(int fd);
void ForgetInChildren(int fd);

}  // namespace pagefs
