#include "pager/tier/remote/readahead.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "pager/util/background_thread.h"

namespace pagefs {

std::optional<ReadaheadPolicy::Window> ReadaheadPolicy::OnRead(SlotId first, SlotId last,
                                                               uint64_t frame_bytes,
                                                               SlotId end_slot) {
  ++clock_;
  Stream* s = nullptr;
  for (Stream& st : streams_) {
    if (first < st.next) continue;
    // At most kMaxSkip past the last read, or inside what the stream fetched
    // ahead: the reader skipped slots it had (pages still in memory), it did
    // not jump away.
    if (first - st.next <= kMaxSkip || (st.window > 0 && first < st.ahead)) {
      s = &st;
      break;
    }
  }
  if (s == nullptr) {
    // Not a continuation: a stream of its own, which fetches nothing yet.
    Stream fresh;
    fresh.next = last + 1;
    fresh.used = clock_;
    if (streams_.size() < kStreams) {
      streams_.push_back(fresh);
    } else {
      *std::min_element(streams_.begin(), streams_.end(),
                        [](const Stream& a, const Stream& b) { return a.used < b.used; }) = fresh;
    }
    return std::nullopt;
  }
  s->used = clock_;
  s->next = last + 1;
  if (s->done) return std::nullopt;
  SlotId from;
  if (s->window == 0) {
    if (++s->continued < kStartAfter) return std::nullopt;
    s->window = std::min(kInitialWindow, max_window_);
    from = s->next;
  } else {
    // Only once the reader is inside the newest window is the next one due.
    if (last < s->trigger) return std::nullopt;
    s->window = std::min(s->window * 2, max_window_);
    // The reader overtook what was fetched (it skipped far): go on from it.
    from = std::max(s->ahead, s->next);
  }
  if (from >= end_slot) {
    s->done = true;
    return std::nullopt;
  }
  const SlotId n =
      std::clamp<uint64_t>(s->window / std::max<uint64_t>(1, frame_bytes), 1, max_slots_);
  Window w{from, std::min<SlotId>(from + n, end_slot)};
  s->trigger = w.first;
  s->ahead = w.end;
  return w;
}

FetchQueue::FetchQueue(std::function<void(const Job&)> run, size_t max_jobs, size_t threads)
    : run_(std::move(run)), max_jobs_(max_jobs), max_threads_(std::max<size_t>(1, threads)) {}

FetchQueue::~FetchQueue() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    stop_ = true;
    for (const Job& j : queue_) {
      for (const FrameRef& f : j.frames) held_.erase({f.segment, f.offset});
    }
    queue_.clear();
    threads.swap(threads_);
  }
  cv_.SignalAll();
  for (std::thread& t : threads) t.join();
}

bool FetchQueue::Push(Job job) {
  {
    MutexLock lock(mu_);
    if (stop_ || queue_.size() + running_.size() >= max_jobs_) return false;
    std::erase_if(job.frames, [&](const FrameRef& f) {
      return !held_.insert({f.segment, f.offset}).second;
    });
    if (job.frames.empty()) return true;
    queue_.push_back(std::move(job));
    if (threads_.size() < max_threads_ && queue_.size() + running_.size() > threads_.size()) {
      threads_.push_back(StartBackgroundThread([this] { Loop(); }));
    }
  }
  cv_.SignalAll();
  return true;
}

bool FetchQueue::WaitFor(uint64_t segment, uint32_t offset) {
  MutexLock lock(mu_);
  bool waited = false;
  while (held_.count({segment, offset}) != 0) {
    waited = true;
    cv_.Wait();
  }
  return waited;
}

void FetchQueue::Loop() {
  MutexLock lock(mu_);
  for (;;) {
    while (!stop_ && queue_.empty()) cv_.Wait();
    if (stop_) break;
    running_.push_back(std::move(queue_.front()));
    queue_.erase(queue_.begin());
    const auto mine = std::prev(running_.end());
    lock.Unlock();
    try {
      run_(*mine);
    } catch (...) {
      // Advisory: a reader that misses the cache fetches the frame itself.
    }
    lock.Lock();
    for (const FrameRef& f : mine->frames) held_.erase({f.segment, f.offset});
    running_.erase(mine);
    cv_.SignalAll();
  }
  cv_.SignalAll();
}

}  // namespace pagefs
