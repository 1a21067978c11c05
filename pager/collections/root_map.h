// RootMap: the store's named roots, a persistent mapping of names (UTF-8
// strings) to values, anchored at Anchors::root_map. Anything reachable from
// it is never freed: every value stored here holds a reference (OnStored),
// and the map itself holds one from the anchor, so it is never an orphan.
//
// It is a list tree (list_tree.h) of alternating key, value in key order
// (bytewise, which is code point order for UTF-8), searched by bisection. It
// is created on the first Set and never freed.
//
// Thread safety: safe from any thread; every operation runs under an OpScope
// (op_scope.h) on the heap's root-map mutex (Error(kClosed) on a closed
// store). Visitors must not call back into the root map.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"
#include "pager/collections/list_tree.h"
#include "pager/collections/persistent_list.h"

namespace pagefs {

class RootMap {
 public:
  explicit RootMap(Heap& heap) : heap_(heap) {}
  RootMap(const RootMap&) = delete;
  RootMap& operator=(const RootMap&) = delete;

  // fn(inline encoding of the value) and true, or false when name is absent.
  bool Get(std::string_view name, const PersistentList::Visitor& fn);
  // Binds name to one encoded inline value, replacing (and dropping) any
  // previous one. Error(kInvalidArgument) if encoded is not one value.
  void Set(std::string_view name, std::string_view encoded);
  // Removes name; false when it was absent.
  bool Erase(std::string_view name);
  // All names, sorted.
  std::vector<std::string> Keys();
  uint64_t size();

  // Registers CollectionKind::kRootMap: a list tree (destroyed as a list,
  // though the anchor's reference means it never is), verified by
  // CheckListTree plus its keys: strs, strictly ascending.
  static void RegisterKind(KindRegistry& kinds);

 private:
  // Position (in keys) of the first key >= name, and whether it is name.
  std::pair<uint64_t, bool> Find(ListTree& tree, std::string_view name);
  // Runs fn(root map id) under the root map's OpScope. The id is kNoPage
  // while there is no root map (create: make one first).
  template <typename Fn>
  auto Locked(bool create, Fn&& fn);

  Heap& heap_;
};

}  // namespace pagefs
