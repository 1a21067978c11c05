// StartBackgroundThread: the engine's threads take none of the process's
// asynchronous signals, still take the faults they raise themselves, and
// leave the mask of the thread that started them as it was.
#include "pager/util/background_thread.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <csignal>

namespace pagefs {
namespace {

sigset_t MaskNow() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return mask;
}

TEST(BackgroundThreadTest, TheThreadBlocksStopSignalsButNotFaults) {
  sigset_t seen;
  StartBackgroundThread([&] { seen = MaskNow(); }).join();
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGALRM, SIGCHLD}) {
    EXPECT_EQ(1, sigismember(&seen, sig)) << "signal " << sig;
  }
  for (int sig : {SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
    EXPECT_EQ(0, sigismember(&seen, sig)) << "signal " << sig;
  }
}

TEST(BackgroundThreadTest, TheCallersMaskIsLeftAsItWas) {
  sigset_t usr2, before;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, &before);  // one blocked, the rest not
  StartBackgroundThread([] {}).join();
  const sigset_t after = MaskNow();
  EXPECT_EQ(1, sigismember(&after, SIGUSR2));
  EXPECT_EQ(0, sigismember(&after, SIGTERM));
  EXPECT_EQ(0, sigismember(&after, SIGINT));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

}  // namespace
}  // namespace pagefs
