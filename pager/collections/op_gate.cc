#include "pager/collections/op_gate.h"

#include <unistd.h>

#include <mutex>
#include <string>

#include "pager/util/error.h"
#include "pager/util/no_wait.h"

namespace pagefs {

OpGate::OpGate(PageSpace& space, std::string name)
    : space_(space),
      name_(std::move(name)),
      fork_generation_(ForkGeneration()),
      opener_pid_(::getpid()) {}

void OpGate::CheckOpen() const {
  if (forked()) {
    throw Error(ErrorCode::kClosed,
                "pagefs: this store was opened by process " + std::to_string(opener_pid_) +
                    " and process " + std::to_string(::getpid()) +
                    " is a fork of it: a child cannot use its parent's store; open the "
                    "store again in the child");
  }
  if (closed()) throw Error::Closed(name_);
}

void OpGate::FollowCommits(bool force) {
  // Before any lock: a forked child must not wait on a lock that a thread of
  // its parent held at the fork.
  if (forked()) CheckOpen();
  if (closed() || !space_.NewerCommit(force)) return;
  NoWaitScope::Refuse();  // the move waits for every operation and reads
  std::unique_lock op(lock_);
  if (closed()) return;
  space_.FollowCommit();
}

}  // namespace pagefs
