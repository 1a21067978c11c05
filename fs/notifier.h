// Notifier: tells the kernel that attributes or names it cached are stale
// (data grew, a page file appeared or vanished), from its own thread. libfuse
// (doc/README.notifications) warns against notifying from inside a handler,
// which may hold what the kernel will wait on; handlers only queue here.
//
// Thread safety: Queue* from any thread; Start/Stop from the main thread.
#pragma once

#include <fuse_lowlevel.h>

#include <deque>
#include <string>
#include <thread>

#include "pager/util/mutex.h"

namespace pagefs::fs {

class Notifier {
 public:
  Notifier() = default;
  ~Notifier() { Stop(); }
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // REQUIRES: session outlives the matching Stop().
  void Start(fuse_session* session);
  // Drops what is still queued and joins the thread. Idempotent.
  void Stop();

  void QueueInvalidateAttributes(fuse_ino_t ino);
  void QueueInvalidateEntry(fuse_ino_t parent, std::string name);

 private:
  struct Item {
    fuse_ino_t ino;
    std::string name;  // empty: attributes of ino; else entry name in folder ino
  };
  void Run();

  Mutex mu_;
  CondVar work_{mu_};  // signalled when queue_ grows or stopping_ is set
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  fuse_session* session_ GUARDED_BY(mu_) = nullptr;
  std::thread thread_ GUARDED_BY(mu_);
};

}  // namespace pagefs::fs
