#include "fs/notifier.h"

#include <algorithm>

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
  thread_ = std::thread([this] { Run(); });
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

void Notifier::WaitBacklog(uint64_t max_bytes, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  MutexLock lock(mu_);
  while (backlog_ > max_bytes && !stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    sent_.WaitFor(deadline - now);
  }
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
    // Outside the lock: the kernel may call back into the daemon.
    lock.Unlock();
    if (item.then) {
      item.then();
    } else {
      Send(session, item.what);
    }
    lock.Lock();
    const uint64_t sent = RangeBytes(item.what);
    if (sent != 0) {
      backlog_ -= std::min(backlog_, sent);  // Stop may have zeroed it
      sent_.SignalAll();
    }
  }
}

}  // namespace pagefs::fs
