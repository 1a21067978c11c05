#include "pager/collections/collection_handle.h"

namespace pagefs {

PageId CollectionHandle::Create(Heap& heap, CollectionKind kind) {
  OpScope scope(heap, OpScope::Follow::kNo);
  return heap.CreateHeader(kind).id();
}

CollectionHandle::CollectionHandle(Heap& heap, PageId id, CollectionKind kind)
    : heap_(heap), id_(id) {
  OpScope scope(heap);
  heap.CheckHeader(id, kind);
  state_ = heap.OpenHandle(id);
}

CollectionHandle::~CollectionHandle() {
  try {
    heap_.CloseHandle(id_);
  } catch (...) {
    // A failed free leaves an orphan, which the next CollectOrphans frees.
  }
}

}  // namespace pagefs
