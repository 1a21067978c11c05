#include "fs/notifier.h"

#include <algorithm>

#include "pager/util/background_thread.h"

namespace pagefs::fs {

namespace {

// What a range invalidation may drop from the kernel (0 for the rest).
uint64_t RangeBytes(const Invalidation& what) {
  return what.name.empty() && what.off >= 0 && what.len > 0 ? static_cast<uint64_t>(what.len) : 0;
}

}  // namespace

void Notifier::Start(fuse_session* session) {
  MutexLock lock(mu_);
  session_ = session;
  stopping_ = false;
  thread_ = StartBackgroundThread([this] { Run(); });
}

void Notifier::Stop() {
  std::thread thread;
  std::deque<Item> left;
  {
    MutexLock lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    left.swap(queue_);
    backlog_ = 0;
    thread = std::move(thread_);
  }
  work_.SignalAll();
  sent_.SignalAll();
  thread.join();
  // A reply queued behind invalidations is still owed to its request.
  for (Item& item : left) {
    if (item.then) item.then();
  }
}

void Notifier::QueueInvalidateAttributes(fuse_ino_t ino) { Queue({{ino, -1, 0, {}}}); }

void Notifier::QueueInvalidateEntry(fuse_ino_t parent, std::string name) {
  Queue({{parent, -1, 0, std::move(name)}});
}

void Notifier::Queue(Invalidations items) {
  if (items.empty()) return;
  {
    MutexLock lock(mu_);
    if (session_ == nullptr || stopping_) return;
    for (Invalidation& what : items) {
      backlog_ += RangeBytes(what);
      queue_.push_back({std::move(what), nullptr});
    }
  }
  work_.Signal();
  sent_.SignalAll();  // a brake waiting on a read these overlap lets it go (WaitBacklog)
}

void Notifier::QueueThen(Invalidations items, std::function<void()> then) {
  {
    MutexLock lock(mu_);
    if (!items.empty() && session_ != nullptr && !stopping_) {
      for (Invalidation& what : items) {
        backlog_ += RangeBytes(what);
        queue_.push_back({std::move(what), nullptr});
      }
      queue_.push_back({{}, std::move(then)});
      work_.Signal();
      sent_.SignalAll();  // as in Queue
      return;
    }
  }
  then();
}

void Notifier::SendAndWait(Invalidations items) {
  Mutex done_mu;
  CondVar done_cv(done_mu);
  bool done = false;
  QueueThen(std::move(items), [&] {
    MutexLock lock(done_mu);
    done = true;
    done_cv.SignalAll();
  });
  MutexLock lock(done_mu);
  while (!done) done_cv.Wait();
}

void Notifier::QueueTask(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    if (session_ != nullptr && !stopping_) {
      queue_.push_back({{}, std::move(task)});
      work_.Signal();
      return;
    }
  }
  task();
}

uint64_t Notifier::backlog_bytes() {
  MutexLock lock(mu_);
  return backlog_;
}

void Notifier::WaitBacklog(fuse_ino_t ino, uint64_t off, uint64_t len, uint64_t max_bytes,
                           std::chrono::milliseconds patience) {
  MutexLock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + patience;
  uint64_t last = backlog_;
  while (backlog_ > max_bytes && !stopping_ && !BlocksLocked(ino, off, len)) {
    const auto now = std::chrono::steady_clock::now();
    if (backlog_ < last) {
      last = backlog_;
      deadline = now + patience;  // it moves: a lag, not a stall
    } else if (now >= deadline) {
      return;
    }
    sent_.WaitFor(deadline - now);
  }
}

bool Notifier::BlocksLocked(fuse_ino_t ino, uint64_t off, uint64_t len) {
  const auto overlaps = [&](const Invalidation& what) {
    if (what.ino != ino || !what.name.empty() || what.off < 0) return false;
    const uint64_t from = static_cast<uint64_t>(what.off);
    return from < off + len && (what.len == 0 || off < from + static_cast<uint64_t>(what.len));
  };
  if (overlaps(sending_)) return true;
  return std::any_of(queue_.begin(), queue_.end(),
                     [&](const Item& item) { return !item.then && overlaps(item.what); });
}

void Notifier::Send(fuse_session* session, const Invalidation& what) {
  // Errors (ENOENT: the kernel never looked it up) mean nothing is cached.
  if (!what.name.empty()) {
    fuse_lowlevel_notify_inval_entry(session, what.ino, what.name.data(), what.name.size());
  } else {
    fuse_lowlevel_notify_inval_inode(session, what.ino, what.off, what.len);
  }
}

void Notifier::Run() {
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && queue_.empty()) work_.Wait();
    if (stopping_) return;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    fuse_session* session = session_;
    if (!item.then) sending_ = item.what;
    // Outside the lock: the kernel may call back into the daemon.
    lock.Unlock();
    if (item.then) {
      item.then();
    } else {
      Send(session, item.what);
    }
    lock.Lock();
    sending_ = {};
    const uint64_t sent = RangeBytes(item.what);
    if (sent != 0) {
      backlog_ -= std::min(backlog_, sent);  // Stop may have zeroed it
      sent_.SignalAll();
    }
  }
}

}  // namespace pagefs::fs
