#include "pager/util/fork_guard.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "pager/testing/forked_child.h"

namespace pagefs {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(ForkGuardTest, EveryForkCountsOneGenerationInTheChildOnly) {
  const uint64_t parent = ForkGeneration();
  EXPECT_EQ(0, InForkedChild([&] { return ForkGeneration() == parent + 1 ? 0 : 1; }));
  // A fork of the fork is two generations away from the parent.
  EXPECT_EQ(0, InForkedChild([&] {
              return InForkedChild([&] { return ForkGeneration() == parent + 2 ? 0 : 1; });
            }));
  EXPECT_EQ(parent, ForkGeneration());
}

TEST(ForkGuardTest, ARegisteredDescriptorIsClosedInAChildAndStaysOpenInTheParent) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  CloseInChildren(fd);
  EXPECT_EQ(0, InForkedChild([&] { return IsOpen(fd) ? 1 : 0; }));
  EXPECT_TRUE(IsOpen(fd));
  // Still registered for the next fork too.
  EXPECT_EQ(0, InForkedChild([&] { return IsOpen(fd) ? 1 : 0; }));
  ForgetInChildren(fd);
  ::close(fd);
}

TEST(ForkGuardTest, AForgottenDescriptorIsLeftOpenInAChild) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  CloseInChildren(fd);
  ForgetInChildren(fd);
  EXPECT_EQ(0, InForkedChild([&] { return IsOpen(fd) ? 0 : 1; }));
  ::close(fd);
}

TEST(ForkGuardTest, AGrandchildDoesNotCloseWhatItsParentReusedTheNumberFor) {
  // The child closed fd and forgot it: a descriptor the child opens under
  // the same number is its own and survives the child's forks.
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  CloseInChildren(fd);
  EXPECT_EQ(0, InForkedChild([&] {
              if (IsOpen(fd)) return 1;
              const int again = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
              if (again < 0 || ::dup2(again, fd) != fd) return 2;
              return InForkedChild([&] { return IsOpen(fd) ? 0 : 3; });
            }));
  ForgetInChildren(fd);
  ::close(fd);
}

}  // namespace
}  // namespace pagefs
