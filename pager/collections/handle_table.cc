#include "pager/collections/handle_table.h"

namespace pagefs {

std::shared_ptr<CollectionState> HandleTable::Open(PageId id) {
  ++counts_[id];
  std::shared_ptr<CollectionState> state = states_[id].lock();
  if (!state) {
    state = std::make_shared<CollectionState>();
    states_[id] = state;
  }
  return state;
}

bool HandleTable::Close(PageId id) {
  auto it = counts_.find(id);
  if (it == counts_.end() || --it->second != 0) return false;
  counts_.erase(it);
  states_.erase(id);
  return true;
}

}  // namespace pagefs
