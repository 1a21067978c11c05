// RecordingCheck: a CollectionCheck (collection_check.h) over a PageSpace
// that records what a kind's verifier does, for the verifiers' unit tests:
// the pages it takes (a page taken twice, or listed in refuse, comes back
// empty), the problems it reports, the values it decodes and the references
// it follows.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pager/collections/collection_check.h"
#include "pager/space/page_space.h"
#include "pager/util/error.h"

namespace pagefs {

class RecordingCheck : public CollectionCheck {
 public:
  RecordingCheck(PageSpace& space, PageId collection) : space_(space), collection_(collection) {}

  uint32_t page_size() const override { return space_.page_size(); }
  PageId collection() const override { return collection_; }
  Heap& heap() override {
    if (heap_ptr == nullptr)
      throw Error(ErrorCode::kInvalidArgument, "RecordingCheck: no heap given");
    return *heap_ptr;
  }
  PageGuard Take(PageId id, const std::string& /*what*/) override {
    if (refuse.count(id) || !taken.insert(id).second) return {};
    return space_.Read(id);
  }
  void Problem(const char* kind, PageId page, std::string message) override {
    problems.push_back(std::string(kind) + " @" + std::to_string(page) + ": " + message);
  }
  std::optional<ValueView> Decode(std::string_view stored, PageId, const std::string&) override {
    ++values;
    try {
      return pagefs::Decode(reinterpret_cast<const uint8_t*>(stored.data()), stored.size());
    } catch (const Error&) {
      return std::nullopt;
    }
  }
  std::optional<std::string> Follow(const ValueView& v, PageId, const std::string&) override {
    if (v.kind == ValueView::Kind::kRef) refs.push_back(v.ref_id);
    if (v.kind == ValueView::Kind::kStr) return std::string(v.data);
    return std::nullopt;
  }

  Heap* heap_ptr = nullptr;  // what heap() returns, for verifiers that need it
  std::set<PageId> refuse;   // pages Take returns empty, as if unreadable
  std::set<PageId> taken;
  std::vector<std::string> problems;
  uint64_t values = 0;
  std::vector<PageId> refs;

 private:
  PageSpace& space_;
  const PageId collection_;
};

}  // namespace pagefs
