// KindRegistry: what the heap and `pagefs check` know about each kind of
// collection (CollectionKind, the kind byte of every collection header), so
// that neither switches on kinds. Each kind registers, once, how a
// collection of it is destroyed and how it is verified; a new kind (dict,
// set, tuple) is one more Add, in the kind's own file, and one more line in
// BuiltinKinds (builtin_kinds.h).
//
// The registry is built explicitly, before the heap that uses it (the
// composition root passes it in: Store, through StoreOptions::kinds, or a
// test), never by static initializers; it is read-only once built.
//
// Thread safety: Add before sharing; Find and Get from any thread after.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pager/collections/collection_check.h"
#include "pager/util/page.h"
#include "pager/values/value_format.h"

namespace pagefs {

class Heap;

struct KindHooks {
  // For messages: "list", "root map".
  std::string name;
  // Whether a stored value may refer to a collection of this kind (the root
  // map is referred to only by its anchor).
  bool referenceable = true;
  // Frees every page of collection id, its header page last, and drops the
  // stored references and blobs its values hold (Heap::OnDropped). The heap
  // calls it under its mutex, once id is unreferenced, has no handle and is
  // off the orphan list.
  std::function<void(Heap& heap, PageId id)> destroy;
  // Walks collection check.collection() for `pagefs check` (collection_check.h),
  // header pinned (the verifier may release it). Returns the number of entries
  // it holds (values of a list, names of the root map) when its whole
  // structure could be read, nothing otherwise.
  std::function<std::optional<uint64_t>(CollectionCheck& check, PageGuard header)> verify;
};

class KindRegistry {
 public:
  // Registers kind. Error(kInvalidArgument) when it is registered already or
  // a hook is missing.
  void Add(CollectionKind kind, KindHooks hooks);
  // The hooks of kind, nullptr when it is not registered.
  const KindHooks* Find(uint8_t kind) const;
  // The hooks of the kind of collection id; Error(kCorruption) naming both
  // when that kind is not registered (the header's kind byte is damaged, or
  // the store was written by a version with kinds this one lacks).
  const KindHooks& Get(uint8_t kind, PageId collection) const;
  // The registered kinds a stored value may refer to, in kind order.
  std::vector<uint8_t> referenceable() const;

 private:
  std::map<uint8_t, KindHooks> kinds_;
};

}  // namespace pagefs
