#include "pager/collections/collection_headers.h"

#include <cstring>
#include <string>

#include "pager/util/error.h"

namespace pagefs {
namespace {

CollectionHeader LoadHeader(const PageGuard& g) {
  CollectionHeader h;
  std::memcpy(&h, g.data(), sizeof h);
  return h;
}
void StoreHeader(PageGuard& g, const CollectionHeader& h) {
  std::memcpy(g.mutable_data(), &h, sizeof h);
}

void CheckMagic(const CollectionHeader& h, PageId id) {
  if (h.magic != CollectionHeader::kMagic) {
    throw Error(ErrorCode::kCorruption, "page " + std::to_string(id) + " is not a collection");
  }
}

}  // namespace

template <typename Fn>
void CollectionHeaders::Update(PageId id, Fn&& fn) {
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  fn(h);
  StoreHeader(g, h);
}

PageGuard CollectionHeaders::Create(CollectionKind kind) {
  PageGuard g = space_.Allocate();
  CollectionHeader h{};
  h.magic = CollectionHeader::kMagic;
  h.kind = static_cast<uint8_t>(kind);
  StoreHeader(g, h);
  Link(g);
  return g;
}

CollectionHeader CollectionHeaders::Load(PageId id) {
  PageGuard g = space_.Read(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  return h;
}

void CollectionHeaders::Check(PageId id, CollectionKind kind) {
  if (Load(id).kind != static_cast<uint8_t>(kind)) {
    throw Error(ErrorCode::kCorruption, "collection " + std::to_string(id) + " is of another kind");
  }
}

// ---- the orphan list ----------------------------------------------------------

void CollectionHeaders::Link(PageGuard& g) {
  Anchors a = space_.anchors();
  CollectionHeader h = LoadHeader(g);
  h.orphan_prev = kNoPage;
  h.orphan_next = a.orphan_head;
  StoreHeader(g, h);
  if (a.orphan_head != kNoPage)
    Update(a.orphan_head, [&](CollectionHeader& next) { next.orphan_prev = g.id(); });
  a.orphan_head = g.id();
  space_.set_anchors(a);
}

void CollectionHeaders::Unlink(PageGuard& g) {
  CollectionHeader h = LoadHeader(g);
  if (h.orphan_prev != kNoPage) {
    Update(h.orphan_prev, [&](CollectionHeader& prev) { prev.orphan_next = h.orphan_next; });
  } else {
    Anchors a = space_.anchors();
    if (a.orphan_head != g.id()) {
      throw Error(ErrorCode::kCorruption,
                  "collection " + std::to_string(g.id()) + " is not on the orphan list");
    }
    a.orphan_head = h.orphan_next;
    space_.set_anchors(a);
  }
  if (h.orphan_next != kNoPage)
    Update(h.orphan_next, [&](CollectionHeader& next) { next.orphan_prev = h.orphan_prev; });
  h.orphan_prev = h.orphan_next = kNoPage;
  StoreHeader(g, h);
}

void CollectionHeaders::CheckLinkBack(PageId id, const CollectionHeader& h, PageId prev) {
  if (h.orphan_prev == prev) return;
  const std::string where = prev == kNoPage ? std::string("the head of the orphan list")
                                            : "the orphan after collection " + std::to_string(prev);
  throw Error(ErrorCode::kCorruption,
              "the orphan list is damaged: " + where + " is collection " + std::to_string(id) +
                  ", which links back to " +
                  (h.orphan_prev == kNoPage ? std::string("none")
                                            : "collection " + std::to_string(h.orphan_prev)) +
                  " (pagefs check describes the damage)");
}

void CollectionHeaders::Unlink(PageId id) {
  PageGuard g = space_.Write(id);
  CheckMagic(LoadHeader(g), id);
  Unlink(g);
}

// ---- stored references ----------------------------------------------------------

void CollectionHeaders::AddRef(PageId id) {
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.refcount == 0) {
    Unlink(g);
    h = LoadHeader(g);
  }
  ++h.refcount;
  StoreHeader(g, h);
}

bool CollectionHeaders::Release(PageId id) {
  PageGuard g = space_.Write(id);
  CollectionHeader h = LoadHeader(g);
  CheckMagic(h, id);
  if (h.refcount == 0) {
    throw Error(ErrorCode::kCorruption,
                "collection " + std::to_string(id) + " released below zero");
  }
  --h.refcount;
  StoreHeader(g, h);
  if (h.refcount != 0) return false;
  Link(g);
  return true;
}

}  // namespace pagefs
