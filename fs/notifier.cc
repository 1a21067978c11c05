#include "fs/notifier.h"

namespace pagefs::fs {

void Notifier::Start(fuse_session* session) {
  std::lock_guard<std::mutex> lock(mu_);
  session_ = session;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Notifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void Notifier::QueueInvalidateAttributes(fuse_ino_t ino) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_ == nullptr || stopping_) return;
    queue_.push_back({ino, {}});
  }
  cv_.notify_one();
}

void Notifier::QueueInvalidateEntry(fuse_ino_t parent, std::string name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_ == nullptr || stopping_) return;
    queue_.push_back({parent, std::move(name)});
  }
  cv_.notify_one();
}

void Notifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    // Errors (ENOENT: the kernel never looked it up) mean nothing is cached.
    if (item.name.empty()) {
      fuse_lowlevel_notify_inval_inode(session_, item.ino, -1, 0);
    } else {
      fuse_lowlevel_notify_inval_entry(session_, item.ino, item.name.data(), item.name.size());
    }
    lock.lock();
  }
}

}  // namespace pagefs::fs
