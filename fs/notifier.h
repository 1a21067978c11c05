// Notifier: tells the kernel what it cached is stale (attributes, names, and
// ranges of file contents: kernel_cache.h), from its own thread. libfuse
// (doc/README.notifications) warns against notifying from inside a handler,
// which may hold what the kernel will wait on (an invalidation waits for the
// reads in flight on its pages); handlers only queue here. A change whose
// reply must not overtake its invalidations queues the reply with them
// (QueueThen): it is sent from this thread once the kernel has dropped what
// they name, and the handler returns at once, so no worker thread waits.
//
// Thread safety: Queue* from any thread; Start/Stop from the main thread.
#pragma once

#include <fuse_lowlevel.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "fs/kernel_cache.h"
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
  // Runs what is still queued to be run (replies), drops the invalidations,
  // and joins the thread. Idempotent.
  void Stop();

  void QueueInvalidateAttributes(fuse_ino_t ino);
  void QueueInvalidateEntry(fuse_ino_t parent, std::string name);
  void Queue(Invalidations items);
  // Sends items, then runs then (on this thread). With nothing to send, or
  // when not running, then runs at once on the caller's thread.
  void QueueThen(Invalidations items, std::function<void()> then);
  // Sends items and returns once the kernel has dropped what they name.
  // REQUIRES: not on this thread, and the caller holds nothing a read
  // handler needs (the kernel waits for reads in flight on those pages).
  void SendAndWait(Invalidations items);
  // Runs task on this thread (work that must not slow a handler down).
  void QueueTask(std::function<void()> task);

  // Bytes of the ranges queued for invalidation or being sent: what the
  // kernel may still hold beyond what the daemon counts.
  uint64_t backlog_bytes();
  // A read handler's brake, so that the kernel's part cannot outrun its limit
  // by more than max_bytes while the notifier lags (a reader faulting pages in
  // at random makes an eviction per page it brings): waits while more than
  // max_bytes of ranges are queued. The read of [off, off+len) of ino is in
  // flight meanwhile, and the kernel runs an invalidation of its pages only
  // once it is answered: so it does not wait while a queued or sending range
  // overlaps it, and stops waiting once the notifier has made no progress
  // for patience (a range queued later may overlap it).
  void WaitBacklog(fuse_ino_t ino, uint64_t off, uint64_t len, uint64_t max_bytes,
                   std::chrono::milliseconds patience);

 private:
  struct Item {
    Invalidation what;
    std::function<void()> then;  // set: run this instead of sending what
  };
  void Run();
  void Send(fuse_session* session, const Invalidation& what);
  // Whether a queued or sending range invalidation overlaps [off, off+len) of ino.
  bool BlocksLocked(fuse_ino_t ino, uint64_t off, uint64_t len) REQUIRES(mu_);

  Mutex mu_;
  CondVar work_{mu_};  // signalled when queue_ grows or stopping_ is set
  CondVar sent_{mu_};  // signalled when backlog_ shrinks, a range is queued, or stopping_ is set
  uint64_t backlog_ GUARDED_BY(mu_) = 0;  // range bytes in queue_
  std::deque<Item> queue_ GUARDED_BY(mu_);
  Invalidation sending_ GUARDED_BY(mu_);  // what Run is sending (ino 0: nothing)
  bool stopping_ GUARDED_BY(mu_) = false;
  fuse_session* session_ GUARDED_BY(mu_) = nullptr;
  std::thread thread_ GUARDED_BY(mu_);
};

}  // namespace pagefs::fs
