// StartBackgroundThread: a thread of the engine's own (a prefetch, a lease
// renewer, a notifier) that takes none of the process's asynchronous signals.
//
// A signal sent to the process goes to any thread that does not block it.
// A program that acts on one in a thread of its choosing (the FUSE daemon's
// main thread ends its loop on SIGTERM; CPython runs its handlers in the main
// thread) loses it when a library thread takes it instead. So these threads
// start with every signal blocked but those a fault raises in the thread
// itself (SIGBUS from a mapped file, SIGSEGV, SIGFPE, SIGILL, SIGTRAP,
// SIGSYS, SIGABRT), which blocking would turn into a kill. The caller's own
// mask is as it was once this returns.
#pragma once

#include <pthread.h>

#include <csignal>
#include <thread>
#include <utility>

namespace pagefs {

template <typename F>
std::thread StartBackgroundThread(F&& fn) {
  sigset_t all, before;
  sigfillset(&all);
  for (int sig : {SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  // The new thread inherits the blocked mask; a signal sent meanwhile waits
  // for the caller's restored mask below.
  struct Restore {
    sigset_t* mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
  } restore{&before};
  return std::thread(std::forward<F>(fn));
}

}  // namespace pagefs
