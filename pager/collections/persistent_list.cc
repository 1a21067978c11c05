#include "pager/collections/persistent_list.h"

#include <algorithm>
#include <vector>

#include "pager/collections/list_slice.h"
#include "pager/collections/list_tree.h"
#include "pager/collections/list_tree_check.h"
#include "pager/collections/op_scope.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"
#include "pager/util/read_only_op.h"

namespace pagefs {

namespace {

// The values of a run of count inline values. Error(kInvalidArgument) when
// it is not that (blob forms included), Error(kCorruption) for bytes that
// are no value at all, as ListTree::Append reports them.
std::vector<std::string_view> SplitRun(std::string_view run, uint64_t count) {
  std::vector<std::string_view> values;
  values.reserve(std::min<uint64_t>(count, run.size()));
  const auto* p = reinterpret_cast<const uint8_t*>(run.data());
  for (size_t pos = 0; pos < run.size();) {
    if (IsStoredOnlyForm(p[pos])) {
      throw Error(ErrorCode::kInvalidArgument, "blob forms cannot be stored directly");
    }
    const size_t len = FastEncodedSize(p + pos, run.size() - pos);
    values.push_back(run.substr(pos, len));
    pos += len;
  }
  if (values.size() != count)
    throw Error(ErrorCode::kInvalidArgument, "run does not hold count values");
  return values;
}

}  // namespace

template <typename Fn>
auto PersistentList::Reading(Fn&& fn) {
  OpScope scope = handle_.Lock();
  ReadOnlyOpScope reading;  // pages may come in place (util/read_only_op.h)
  ListTree tree(handle_.heap(), handle_.id(), &handle_.state().list_root, &handle_.state().hints);
  return fn(tree);
}

template <typename Fn>
void PersistentList::Changing(Fn&& fn) {
  OpScope scope = handle_.Lock();
  handle_.state().list_root.valid = false;  // before: a change failing part way forgets it too
  ListTree tree(handle_.heap(), handle_.id());
  fn(tree);
  handle_.NoteChange();
}

uint64_t PersistentList::Create(Heap& heap) {
  return CollectionHandle::Create(heap, CollectionKind::kList);
}

PersistentList::PersistentList(Heap& heap, uint64_t id)
    : handle_(heap, id, CollectionKind::kList) {}

uint64_t PersistentList::size() {
  return Reading([](ListTree& t) { return t.size(); });
}
void PersistentList::Get(uint64_t i, const Visitor& fn) {
  Reading([&](ListTree& t) { t.Get(i, fn); });
}
void PersistentList::Scan(uint64_t start, uint64_t stop, const Visitor& fn) {
  Reading([&](ListTree& t) { t.Scan(start, stop, fn); });
}
void PersistentList::ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn) {
  Reading([&](ListTree& t) { t.ScanReverse(start, stop, fn); });
}
void PersistentList::Set(uint64_t i, std::string_view encoded) {
  Changing([&](ListTree& t) { t.Set(i, encoded); });
}
void PersistentList::Insert(uint64_t i, std::string_view encoded) {
  Changing([&](ListTree& t) { t.Insert(i, encoded); });
}
namespace {

// Python's index rule for element assignment and deletion; Error(kOutOfRange) when
// i is out of range of a list of n values.
uint64_t ResolveAssignment(int64_t i, uint64_t n) {
  const int64_t size = static_cast<int64_t>(n);
  const int64_t at = i < 0 ? i + size : i;
  if (at < 0 || at >= size)
    throw Error(ErrorCode::kOutOfRange, "list assignment index out of range");
  return static_cast<uint64_t>(at);
}

}  // namespace

void PersistentList::SetSigned(int64_t i, std::string_view encoded) {
  Changing([&](ListTree& t) { t.Set(ResolveAssignment(i, t.size()), encoded); });
}
void PersistentList::EraseSigned(int64_t i) {
  Changing([&](ListTree& t) {
    const uint64_t at = ResolveAssignment(i, t.size());
    t.Erase(at, at + 1);
  });
}
void PersistentList::InsertSigned(int64_t i, std::string_view encoded) {
  Changing([&](ListTree& t) {
    const int64_t n = static_cast<int64_t>(t.size());
    const int64_t at = i < 0 ? std::max<int64_t>(0, i + n) : std::min<int64_t>(i, n);
    t.Insert(static_cast<uint64_t>(at), encoded);
  });
}
void PersistentList::InsertRun(uint64_t i, std::string_view run, uint64_t count) {
  Changing([&](ListTree& t) {
    if (i >= t.size()) return t.Append(run, count);
    // Split (and so check) the whole run before the first insert.
    std::vector<std::string_view> values = SplitRun(run, count);
    for (uint64_t k = 0; k < count; ++k) t.Insert(i + k, values[k]);
  });
}
void PersistentList::Replace(uint64_t start, uint64_t stop, std::string_view run, uint64_t count) {
  Changing([&](ListTree& t) {
    std::vector<std::string_view> values = SplitRun(run, count);
    const uint64_t n = t.size();
    start = std::min(start, n);
    stop = std::clamp(stop, start, n);
    if (stop > start) t.Erase(start, stop);
    if (start == n - (stop - start)) return t.Append(run, count);
    for (uint64_t k = 0; k < count; ++k) t.Insert(start + k, values[k]);
  });
}
void PersistentList::EraseSlice(int64_t start, int64_t stop, int64_t step) {
  Changing([&](ListTree& t) { t.EraseSlice(ResolveSlice(start, stop, step, t.size())); });
}
void PersistentList::AssignSlice(int64_t start, int64_t stop, int64_t step, std::string_view run,
                                 uint64_t count) {
  if (step == 1)
    throw Error(ErrorCode::kInvalidArgument, "a slice with step 1 is assigned by Replace");
  Changing([&](ListTree& t) {
    std::vector<std::string_view> values = SplitRun(run, count);
    const ListSlice s = ResolveSlice(start, stop, step, t.size());
    if (count != s.count) {
      throw Error(ErrorCode::kInvalidArgument,
                  "attempt to assign sequence of size " + std::to_string(count) +
                      " to extended slice of size " + std::to_string(s.count));
    }
    for (uint64_t k = 0; k < count; ++k) t.Set(s.at(k), values[k]);
  });
}
void PersistentList::GetSigned(int64_t i, const Visitor& fn) {
  Reading([&](ListTree& t) { t.GetSigned(i, fn); });
}
void PersistentList::Pop(int64_t i, const Visitor& fn) {
  Changing([&](ListTree& t) {
    const int64_t n = static_cast<int64_t>(t.size());
    if (n == 0) throw Error(ErrorCode::kOutOfRange, "pop from empty list");
    const int64_t at = i < 0 ? i + n : i;
    if (at < 0 || at >= n) throw Error(ErrorCode::kOutOfRange, "pop index out of range");
    t.Get(static_cast<uint64_t>(at), fn);
    t.Erase(static_cast<uint64_t>(at), static_cast<uint64_t>(at) + 1);
  });
}
void PersistentList::Append(std::string_view run, uint64_t count) {
  Changing([&](ListTree& t) { t.Append(run, count); });
}
void PersistentList::Erase(uint64_t start, uint64_t stop) {
  Changing([&](ListTree& t) { t.Erase(start, stop); });
}
void PersistentList::Clear() {
  Changing([](ListTree& t) { t.Clear(); });
}
void PersistentList::Reverse() {
  Changing([](ListTree& t) { t.Reverse(); });
}
ListShape PersistentList::Verify() {
  return Reading([](ListTree& t) { return t.Verify(); });
}

ReferencedLists::~ReferencedLists() { CloseAll(); }

void ReferencedLists::Open(std::string_view encoded) {
  if (encoded.empty()) return;
  // Opening a handle takes the heap's mutex: refused before anything is
  // opened, so that the caller's retry starts from nothing.
  if (encoded[0] == static_cast<char>(ValueTag::kTuple) ||
      encoded[0] == static_cast<char>(ValueTag::kRef)) {
    NoWaitScope::Refuse();
  }
  if (encoded[0] == static_cast<char>(ValueTag::kTuple)) {
    // The references inside a tuple need their handles as much as any.
    const ValueView t = Decode(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
    const auto* p = reinterpret_cast<const uint8_t*>(t.data.data());
    for (size_t pos = 0; pos < t.data.size();) {
      const size_t len = EncodedSize(p + pos, t.data.size() - pos);
      Open(t.data.substr(pos, len));
      pos += len;
    }
    return;
  }
  if (encoded[0] != static_cast<char>(ValueTag::kRef)) return;
  const ValueView v = Decode(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
  if (v.ref_kind == CollectionKind::kRootMap)
    return;  // no handles on the root map; the reader reports it
  heap_.CheckHeader(v.ref_id, v.ref_kind);
  auto it = opened_.emplace(v.ref_id, nullptr);
  try {
    it->second = heap_.OpenHandle(v.ref_id);
  } catch (...) {
    opened_.erase(it);
    throw;
  }
}

std::unique_ptr<PersistentList> ReferencedLists::Adopt(uint64_t id) {
  auto it = opened_.find(id);
  if (it == opened_.end()) return nullptr;
  auto list = std::make_unique<PersistentList>(heap_, id, std::move(it->second));
  opened_.erase(it);
  return list;
}

std::shared_ptr<CollectionState> ReferencedLists::AdoptState(uint64_t id) {
  auto it = opened_.find(id);
  if (it == opened_.end()) return nullptr;
  std::shared_ptr<CollectionState> state = std::move(it->second);
  opened_.erase(it);
  return state;
}

void ReferencedLists::CloseAll() {
  while (!opened_.empty()) {
    const uint64_t id = opened_.begin()->first;
    opened_.erase(opened_.begin());
    try {
      heap_.CloseHandle(id);
    } catch (...) {
      // As ~PersistentList: a failed free leaves an orphan for CollectOrphans.
    }
  }
}

void PersistentList::Destroy(Heap& heap, uint64_t id) {
  ListTree(heap, id).Clear();
  heap.space().Free(id);
}

void PersistentList::RegisterKind(KindRegistry& kinds) {
  KindHooks hooks;
  hooks.name = "list";
  hooks.destroy = &PersistentList::Destroy;
  hooks.verify = [](CollectionCheck& check, PageGuard header) {
    return CheckListTree(check, std::move(header));
  };
  kinds.Add(CollectionKind::kList, std::move(hooks));
}

}  // namespace pagefs
