#include "pager/tier/remote/readahead.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "pager/util/background_thread.h"

namespace pagefs {

namespace {

// The position after p, crossing into the next segment when p was its last.
FramePos After(const FrameIndex& frames, FramePos p) {
  std::optional<FramePos> n = frames.Next(p);
  return n ? *n : FramePos{p.segment, p.index + 1};
}

}  // namespace

std::optional<ReadaheadPolicy::Window> ReadaheadPolicy::OnRead(const FrameIndex& frames,
                                                               FramePos first, FramePos last) {
  ++clock_;
  Stream* s = nullptr;
  for (Stream& st : streams_) {
    const std::optional<uint64_t> steps = frames.Steps(st.next, first);
    if (!steps) continue;
    bool sequential = *steps <= kMaxSkip;
    if (!sequential && st.window > 0) {
      // Inside what the stream fetched ahead: the reader skipped frames it
      // had (pages still in memory), it did not jump away.
      const std::optional<uint64_t> ahead = st.ahead ? frames.Steps(st.next, *st.ahead) : steps;
      sequential = ahead && *steps < *ahead + (st.ahead ? 0 : 1);
    }
    if (sequential) {
      s = &st;
      break;
    }
  }
  if (s == nullptr) {
    // Not a continuation: a stream of its own, which fetches nothing yet.
    Stream fresh;
    fresh.next = After(frames, last);
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
  s->next = After(frames, last);
  if (s->done) return std::nullopt;
  FramePos from;
  if (s->window == 0) {
    if (++s->continued < kStartAfter) return std::nullopt;
    s->window = std::min(kInitialWindow, max_window_);
    from = s->next;
  } else {
    // Only once the reader is inside the newest window is the next one due.
    if (!frames.Steps(s->trigger, last)) return std::nullopt;
    if (!s->ahead) {
      s->done = true;
      return std::nullopt;
    }
    s->window = std::min(s->window * 2, max_window_);
    from = *s->ahead;
    // The reader overtook what was fetched (it skipped far): go on from it.
    if (std::optional<uint64_t> k = frames.Steps(from, s->next); k && *k > 0) from = s->next;
  }
  std::optional<FramePos> after;
  Window w{frames.Take(from, s->window, &after)};
  s->trigger = from;
  s->ahead = after;
  if (w.frames.empty()) {
    s->done = true;
    return std::nullopt;
  }
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
