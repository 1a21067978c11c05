#include "fs/notifier.h"

namespace pagefs::fs {

void Notifier::Start(fuse_session* session) {
  MutexLock lock(mu_);
  session_ = session;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Notifier::Stop() {
  std::thread thread;
  {
    MutexLock lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    queue_.clear();
    thread = std::move(thread_);
  }
  work_.SignalAll();
  thread.join();
}

void Notifier::QueueInvalidateAttributes(fuse_ino_t ino) {
  {
    MutexLock lock(mu_);
    if (session_ == nullptr || stopping_) return;
    queue_.push_back({ino, {}});
  }
  work_.Signal();
}

void Notifier::QueueInvalidateEntry(fuse_ino_t parent, std::string name) {
  {
    MutexLock lock(mu_);
    if (session_ == nullptr || stopping_) return;
    queue_.push_back({parent, std::move(name)});
  }
  work_.Signal();
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
    // Errors (ENOENT: the kernel never looked it up) mean nothing is cached.
    if (item.name.empty()) {
      fuse_lowlevel_notify_inval_inode(session, item.ino, -1, 0);
    } else {
      fuse_lowlevel_notify_inval_entry(session, item.ino, item.name.data(), item.name.size());
    }
    lock.Lock();
  }
}

}  // namespace pagefs::fs
