// FakeKind: a collection kind for the tests of what dispatches through the
// kind registry (the heap's Destroy, the checker's walk). A fake collection
// is a header page whose kind-specific part (at kDataField) names one data
// page; destroying it frees both, verifying it takes the data page. Every
// call is recorded. `kinds` holds the built-in kinds and the fake one.
#pragma once

#include <optional>
#include <vector>

#include "pager/collections/collection_check.h"
#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"
#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"
#include "pager/util/coding.h"

namespace pagefs {

inline constexpr CollectionKind kFakeKind = static_cast<CollectionKind>(200);

struct FakeKind {
  static constexpr uint32_t kDataField = 32;  // u64: the data page, after the common header

  FakeKind() {
    PersistentList::RegisterKind(kinds);
    RootMap::RegisterKind(kinds);
    KindHooks hooks;
    hooks.name = "fake";
    hooks.destroy = [this](Heap& heap, PageId id) {
      destroyed.push_back(id);
      PageId data;
      {
        PageGuard header = heap.space().Read(id);
        data = Field<uint64_t>(header.data(), kDataField);
      }
      heap.space().Free(data);
      heap.space().Free(id);
    };
    hooks.verify = [this](CollectionCheck& check, PageGuard header) -> std::optional<uint64_t> {
      verified.push_back(check.collection());
      const PageId data = Field<uint64_t>(header.data(), kDataField);
      header.Release();
      if (!check.Take(data, "the fake's data page")) return std::nullopt;
      return 1;
    };
    kinds.Add(kFakeKind, std::move(hooks));
  }

  // A new fake collection (an orphan): its header and data page.
  static PageId Create(Heap& heap) {
    PageGuard header = heap.CreateHeader(kFakeKind);
    PageGuard data = heap.space().Allocate();
    SetField<uint64_t>(header.mutable_data(), kDataField, data.id());
    return header.id();
  }

  KindRegistry kinds;
  std::vector<PageId> destroyed;  // ids, in the order the hooks ran
  std::vector<PageId> verified;
};

}  // namespace pagefs
