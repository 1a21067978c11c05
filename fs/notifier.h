// Notifier: tells the kernel that attributes or names it cached are stale
// (data grew, a page file appeared or vanished), from its own thread. libfuse
// (doc/README.notifications) warns against notifying from inside a handler,
// which may hold what the kernel will wait on; handlers only queue here.
//
// Thread safety: Queue* from any thread; Start/Stop from the main thread.
#pragma once

#include <fuse_lowlevel.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

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

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  fuse_session* session_ = nullptr;
  std::thread thread_;
};

}  // namespace pagefs::fs
