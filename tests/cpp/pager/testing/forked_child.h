// InForkedChild: runs a piece of a test in a forked process and returns how
// it ended, so a test can check what another process sees (locks, reader
// slots, a fork's refusals) without writing fork, _exit and waitpid again.
//
// The child never returns into the test runner: it ends with _exit(the
// value child returns), 125 when child throws, and is killed by SIGALRM
// (status 128 + 14) when it runs past its time (a hang fails the test
// instead of stalling the suite). The result is the exit status, or 128 +
// the signal that ended it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace pagefs {

inline constexpr int kChildThrew = 125;

inline int InForkedChild(const std::function<int()>& child, unsigned seconds = 30) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(seconds);
    int code = kChildThrew;
    try {
      code = child();
    } catch (...) {
    }
    ::_exit(code);
  }
  EXPECT_GT(pid, 0) << "fork failed";
  if (pid < 0) return -1;
  int status = 0;
  EXPECT_EQ(pid, ::waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace pagefs
