// ConnectionGuard: aborts this mount's FUSE connection when the daemon dies
// without unmounting, so that nothing waits on it forever.
//
// Why: a daemon killed (SIGKILL) while one of its threads tells the kernel
// to drop cached pages (fuse_lowlevel_notify_inval_inode) can be stuck for
// good: that thread waits, uninterruptibly, for the lock of a page a mapped
// reader is faulting in, and the fault waits for a read only the daemon
// would answer. The process never finishes exiting, so /dev/fuse is never
// closed and the kernel never ends the connection: the readers, the thread
// and any unmount hang (seen in tests/fs/test_mapped_clients.py). Writing
// to /sys/fs/fuse/connections/N/abort ends it: every waiting request fails
// (ENOTCONN), the page locks go, and the daemon's last thread exits.
//
// The guard is a small process forked before the store is opened (the
// daemon has one thread then, and the guard inherits neither /dev/fuse nor
// the store's lock). It is told the connection's device once the mount is
// made, and "bye" when the daemon unmounts. When the daemon's main thread
// dies (the kernel signals it: PR_SET_PDEATHSIG) or its end of the pipe
// closes without a "bye", it checks the mount is still there (that mount
// point, that device) and aborts the connection, mounting fusectl first if
// needed, and notes it in the log. (A daemon that exited whole has closed
// /dev/fuse, which ended the connection already: the abort is then harmless.)
#pragma once

#include <sys/types.h>

#include <string>

namespace pagefs::fs {

class ConnectionGuard {
 public:
  // Forks the guard (REQUIRES: one thread in this process). log: the file
  // it notes to (empty: none). When it cannot fork, there is no guard.
  ConnectionGuard(const std::string& mountpoint, const std::string& log);
  // A daemon that gets here unmounted: the guard leaves quietly.
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // The mount is made: its device ("0:N", /proc/self/mountinfo's form).
  void Mounted(const std::string& device);
  pid_t pid() const { return pid_; }

 private:
  void Send(const std::string& line);

  pid_t pid_ = -1;
  int fd_ = -1;  // the pipe to the guard
};

}  // namespace pagefs::fs
