// Readahead for the remote tier, as the kernel does it for files: reads that
// walk forward through the slots (a scan) make the tier fetch the frames of
// the slots ahead in large ranged GETs, in the background, so the next reads
// find them in the local cache; other reads fetch only what they read.
//
// ReadaheadPolicy decides, in slot numbers: a volume hands out slots from the
// bottom up as it writes pages back, and a commit packs pages into segment
// objects in the order they were written, so ascending slots are frames lying
// forward through the segments, and pages written in order are read in that
// order. It needs nothing per frame: the tier turns a window of slots into
// frames and GETs. It follows up to kStreams streams (concurrent scans; a
// page-table leaf read in the middle of a scan starts a stream of its own
// instead of breaking the scan's). A read that continues a stream (its first
// slot at most kMaxSkip slots past the stream's last one, or inside what the
// stream fetched ahead) counts as sequential; any other read replaces the
// least recently used stream and fetches nothing extra. The third read in a
// row (kStartAfter continuations: one lookup touching two neighbouring pages,
// a tree node and its child, is not yet a scan) starts a window of
// kInitialWindow bytes after it; each time the reader enters the newest
// window, the next one is requested, twice as large, up to the policy's
// max_window. A window of B bytes is B / (the mean stored frame) slots, and
// never more than max_slots (frames that compress well are many pages). At
// most two windows per stream are ahead of the reader.
//
// FetchQueue runs the windows on background threads, one each at a time, and
// lets a reader whose frame is queued or in flight wait for it rather than
// fetch it a second time. It holds at most max_jobs windows; one more is
// dropped (readahead is advisory). Memory: what the running jobs' GETs hold
// (a window each), nothing per queued job but its frame list.
// Thread safety: FetchQueue's methods may be called from any thread;
// ReadaheadPolicy is not thread-safe (the tier calls it under its lock).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "pager/tier/remote/frame_key.h"
#include "pager/tier/tier.h"
#include "pager/util/mutex.h"

namespace pagefs {

// One frame of a slot the tier stores: where it lies, and whose it is.
struct FrameRef {
  uint64_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  SlotId slot = 0;
};

class ReadaheadPolicy {
 public:
  static constexpr uint32_t kStreams = 4;
  static constexpr uint32_t kMaxSkip = 8;
  static constexpr uint32_t kStartAfter = 2;
  static constexpr uint64_t kInitialWindow = 64 << 10;

  ReadaheadPolicy(uint64_t max_window, uint64_t max_slots)
      : max_window_(max_window), max_slots_(std::max<uint64_t>(1, max_slots)) {}

  // Slots [first, end) to fetch ahead.
  struct Window {
    SlotId first = 0;
    SlotId end = 0;
  };
  // The caller read the stored slots first .. last (ascending). frame_bytes:
  // the mean length of a stored frame; end_slot: one past the highest slot
  // stored. Returns a window to fetch ahead, if the read continues a stream
  // that is due for one.
  std::optional<Window> OnRead(SlotId first, SlotId last, uint64_t frame_bytes, SlotId end_slot);
  // Forgets every stream (a new slot map).
  void Reset() { streams_.clear(); }

 private:
  struct Stream {
    SlotId next = 0;         // the slot after the last one read
    SlotId ahead = 0;        // the slot after the last one requested
    SlotId trigger = 0;      // the first slot of the newest window
    uint64_t window = 0;     // bytes of the newest window; 0: not reading ahead yet
    uint32_t continued = 0;  // sequential reads after the first
    bool done = false;       // the window reached the highest slot stored
    uint64_t used = 0;       // for LRU
  };
  const uint64_t max_window_;
  const uint64_t max_slots_;
  std::vector<Stream> streams_;
  uint64_t clock_ = 0;
};

class FetchQueue {
 public:
  struct Job {
    std::vector<FrameRef> frames;
  };
  // run is called on a background thread for each job; what it throws is
  // dropped. The threads (at most `threads`, each running one job at a
  // time) start with the first Pushes.
  FetchQueue(std::function<void(const Job&)> run, size_t max_jobs, size_t threads = 1);
  // Waits for the running job; queued ones are dropped.
  ~FetchQueue();
  FetchQueue(const FetchQueue&) = delete;
  FetchQueue& operator=(const FetchQueue&) = delete;

  // Queues the job's frames that no queued or running job holds already
  // (two streams may ask for the same frames). False (and nothing queued)
  // when max_jobs are queued or running.
  bool Push(Job job);
  // Returns once no queued or running job holds the frame at (segment,
  // offset); true when it waited for one.
  bool WaitFor(uint64_t segment, uint32_t offset);

 private:
  void Loop();
  using Key = FrameKey;
  using KeyHash = FrameKeyHash;

  const std::function<void(const Job&)> run_;
  const size_t max_jobs_;
  Mutex mu_;
  CondVar cv_{mu_};
  std::vector<Job> queue_ GUARDED_BY(mu_);  // front runs first
  const size_t max_threads_;
  std::list<Job> running_ GUARDED_BY(mu_);
  std::unordered_set<Key, KeyHash> held_ GUARDED_BY(mu_);  // frames of queued and running jobs
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ GUARDED_BY(mu_);  // joined by the destructor
};

}  // namespace pagefs
