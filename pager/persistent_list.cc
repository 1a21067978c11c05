#include "pager/persistent_list.h"

#include <mutex>
#include <shared_mutex>

#include "pager/list_tree.h"

namespace pagefs {

// Runs fn on the tree under the locking discipline every operation follows:
// op lock shared (commit/close wait), open check, then the collection mutex.
template <typename Fn>
auto PersistentList::Locked(Fn&& fn) {
  std::shared_lock op(heap_.op_lock());
  heap_.CheckOpen();
  std::lock_guard l(state_->mu);
  ListTree tree(heap_, id_);
  return fn(tree);
}

uint64_t PersistentList::Create(Heap& heap) {
  std::shared_lock op(heap.op_lock());
  heap.CheckOpen();
  return heap.CreateHeader(CollectionKind::kList).id();
}

PersistentList::PersistentList(Heap& heap, uint64_t id) : heap_(heap), id_(id) {
  std::shared_lock op(heap.op_lock());
  heap.CheckOpen();
  heap.CheckHeader(id, CollectionKind::kList);
  state_ = heap.OpenHandle(id);
}

PersistentList::~PersistentList() {
  try {
    heap_.CloseHandle(id_);
  } catch (...) {
    // A failed free leaves an orphan, which the next CollectOrphans frees.
  }
}

uint64_t PersistentList::size() {
  return Locked([](ListTree& t) { return t.size(); });
}
void PersistentList::Get(uint64_t i, const Visitor& fn) {
  Locked([&](ListTree& t) { t.Get(i, fn); });
}
void PersistentList::Scan(uint64_t start, uint64_t stop, const Visitor& fn) {
  Locked([&](ListTree& t) { t.Scan(start, stop, fn); });
}
void PersistentList::ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn) {
  Locked([&](ListTree& t) { t.ScanReverse(start, stop, fn); });
}
void PersistentList::Set(uint64_t i, std::string_view encoded) {
  Locked([&](ListTree& t) { t.Set(i, encoded); });
}
void PersistentList::Insert(uint64_t i, std::string_view encoded) {
  Locked([&](ListTree& t) { t.Insert(i, encoded); });
}
void PersistentList::Append(std::string_view run, uint64_t count) {
  Locked([&](ListTree& t) { t.Append(run, count); });
}
void PersistentList::Erase(uint64_t start, uint64_t stop) {
  Locked([&](ListTree& t) { t.Erase(start, stop); });
}
void PersistentList::Clear() {
  Locked([](ListTree& t) { t.Clear(); });
}
void PersistentList::Reverse() {
  Locked([](ListTree& t) { t.Reverse(); });
}
ListShape PersistentList::Verify() {
  return Locked([](ListTree& t) { return t.Verify(); });
}

void PersistentList::Destroy(Heap& heap, uint64_t id) {
  ListTree(heap, id).Clear();
  heap.space().Free(id);
}

}  // namespace pagefs
