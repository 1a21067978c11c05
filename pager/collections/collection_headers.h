// CollectionHeaders: the common header that begins every collection's header
// page, and the persistent bookkeeping kept in it: the kind, the count of
// stored references, and the orphan list (collections with no stored
// reference, a doubly linked list through the headers whose head is
// Anchors::orphan_head; docs/collections.md "Collection lifetime"). The rest
// of a header page belongs to the collection's kind.
//
// Thread safety: none of its own. Create, AddRef, Release and Unlink change
// several pages and the anchors together: the caller serializes them (the
// heap's mutex). Load and Check only read one page.
// Errors: Error(kCorruption) for a page that is not a collection header or
// bookkeeping that contradicts itself, plus whatever the PageSpace throws.
#pragma once

#include <cstdint>

#include "pager/space/page_space.h"
#include "pager/values/value_format.h"

namespace pagefs {

struct CollectionHeader {
  static constexpr uint32_t kMagic = 0x50464331;  // "PFC1"
  uint32_t magic;
  uint8_t kind;  // CollectionKind
  uint8_t reserved[3];
  uint64_t refcount;
  PageId orphan_prev;
  PageId orphan_next;
};
static_assert(sizeof(CollectionHeader) == 32);

class CollectionHeaders {
 public:
  explicit CollectionHeaders(PageSpace& space) : space_(space) {}
  CollectionHeaders(const CollectionHeaders&) = delete;
  CollectionHeaders& operator=(const CollectionHeaders&) = delete;

  // A new header page of kind, refcount 0, at the head of the orphan list.
  // The caller fills in the kind-specific part through the returned guard.
  PageGuard Create(CollectionKind kind);
  // The header of collection id; Error(kCorruption) "page N is not a
  // collection" when the page holds no header.
  CollectionHeader Load(PageId id);
  // Load, and Error(kCorruption) when id is a collection of another kind.
  void Check(PageId id, CollectionKind kind);

  // One more stored reference to id: a collection that had none leaves the
  // orphan list.
  void AddRef(PageId id);
  // One stored reference fewer; true when that was the last one, and id is
  // back on the orphan list. Error(kCorruption) below zero.
  bool Release(PageId id);
  // Takes orphan id off the orphan list, to free it.
  void Unlink(PageId id);
  // fn(id) for each id on the orphan list, head first. fn must not change
  // the list. Each step checks the link back, so a damaged list that loops
  // is Error(kCorruption), never an endless walk.
  template <typename Fn>
  void ForEachOrphan(Fn&& fn) {
    PageId prev = kNoPage;
    for (PageId id = space_.anchors().orphan_head; id != kNoPage;) {
      const CollectionHeader h = Load(id);
      CheckLinkBack(id, h, prev);
      fn(id);
      prev = id;
      id = h.orphan_next;
    }
  }

 private:
  // Error(kCorruption) unless orphan id (header h) links back to prev.
  static void CheckLinkBack(PageId id, const CollectionHeader& h, PageId prev);
  void Link(PageGuard& header);
  void Unlink(PageGuard& header);
  // Rewrites the header of id through fn(CollectionHeader&).
  template <typename Fn>
  void Update(PageId id, Fn&& fn);

  PageSpace& space_;
};

}  // namespace pagefs
