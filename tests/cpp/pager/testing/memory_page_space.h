// MemoryPageSpace: a PageSpace that keeps every page in RAM, for tests only.
//
// It checks what a real space would only suffer from: freeing a pinned page
// or an unallocated one throws (so a collection bug fails the test rather
// than corrupting memory), freed pages are released at once (so ASan sees a
// use after free), and it counts live pins and pages in use so tests can
// assert that nothing leaks, and records reads and scan advice in order on
// request. Thread-safe; Commit is a no-op.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pager/space/page_space.h"
#include "pager/util/error.h"

namespace pagefs {

class MemoryPageSpace : public PageSpace, private PinHolder {
 public:
  explicit MemoryPageSpace(uint32_t page_size = 4096) : page_size_(page_size) {}

  uint32_t page_size() const override { return page_size_; }

  PageGuard Read(PageId id) override {
    {
      std::lock_guard l(mu_);
      ++reads_[id];
      if (recording_) accesses_.push_back({false, id});
    }
    return Pin(id);
  }
  void WillRead(std::span<const PageId> ids) override {
    std::lock_guard l(mu_);
    if (recording_) {
      for (PageId id : ids) accesses_.push_back({true, id});
    }
  }
  PageGuard Write(PageId id) override {
    if (read_only_) throw Error(ErrorCode::kReadOnly, "memory space is read-only");
    return Pin(id);
  }
  PageGuard Allocate() override {
    std::lock_guard l(mu_);
    PageId id;
    if (!free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
    } else {
      id = next_id_++;
    }
    Page& page = pages_[id];
    page.bytes = std::make_unique<uint8_t[]>(page_size_);  // zero-filled
    ++page.pins;
    ++pins_;
    ++allocations_;
    return PageGuard(this, id, id, page.bytes.get());
  }
  void Free(PageId id) override {
    std::lock_guard l(mu_);
    auto it = pages_.find(id);
    if (it == pages_.end())
      throw Error(ErrorCode::kInvalidArgument, "free of unallocated page " + std::to_string(id));
    if (it->second.pins != 0)
      throw Error(ErrorCode::kInvalidArgument, "free of pinned page " + std::to_string(id));
    pages_.erase(it);
    free_ids_.push_back(id);
  }
  void Commit() override {}
  Anchors anchors() const override {
    std::lock_guard l(mu_);
    return anchors_;
  }
  void set_anchors(const Anchors& anchors) override {
    std::lock_guard l(mu_);
    anchors_ = anchors;
  }
  bool read_only() const override { return read_only_; }

  void set_read_only(bool v) { read_only_ = v; }
  uint64_t pages_in_use() const {
    std::lock_guard l(mu_);
    return pages_.size();
  }
  uint64_t live_pins() const {
    std::lock_guard l(mu_);
    return pins_;
  }
  uint64_t allocations() const {
    std::lock_guard l(mu_);
    return allocations_;
  }
  // How often Read was asked for id.
  uint64_t reads_of(PageId id) const {
    std::lock_guard l(mu_);
    auto it = reads_.find(id);
    return it == reads_.end() ? 0 : it->second;
  }
  // Reads and scan advice (WillRead) in the order they came, recorded from
  // RecordAccesses() until TakeAccesses().
  struct Access {
    bool advice = false;
    PageId id = kNoPage;
  };
  void RecordAccesses() {
    std::lock_guard l(mu_);
    recording_ = true;
    accesses_.clear();
  }
  std::vector<Access> TakeAccesses() {
    std::lock_guard l(mu_);
    recording_ = false;
    return std::move(accesses_);
  }
  // As a reader's move to a newer commit: what was read before may be stale.
  void NewView() { view_generation_.fetch_add(1); }
  uint64_t view_generation() const override { return view_generation_.load(); }

 private:
  struct Page {
    std::unique_ptr<uint8_t[]> bytes;
    uint32_t pins = 0;
  };

  PageGuard Pin(PageId id) {
    std::lock_guard l(mu_);
    auto it = pages_.find(id);
    if (it == pages_.end())
      throw Error(ErrorCode::kInvalidArgument,
                  "page " + std::to_string(id) + " was never allocated");
    ++it->second.pins;
    ++pins_;
    return PageGuard(this, id, id, it->second.bytes.get());
  }
  void Unpin(uint64_t token) noexcept override {
    std::lock_guard l(mu_);
    --pages_.at(token).pins;
    --pins_;
  }

  const uint32_t page_size_;
  bool read_only_ = false;
  mutable std::mutex mu_;
  std::unordered_map<PageId, Page> pages_;
  std::vector<PageId> free_ids_;
  PageId next_id_ = 1;
  uint64_t pins_ = 0;
  uint64_t allocations_ = 0;
  std::unordered_map<PageId, uint64_t> reads_;
  bool recording_ = false;
  std::vector<Access> accesses_;
  std::atomic<uint64_t> view_generation_{0};
  Anchors anchors_;
};

}  // namespace pagefs
