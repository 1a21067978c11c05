// ListTree erase, clear, reverse, freeing and verification.
#include <algorithm>
#include <cstring>

#include "pager/collections/list_leaf.h"
#include "pager/collections/list_node.h"
#include "pager/collections/list_tree.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

void ListTree::DropValues(const uint8_t* page, uint32_t a, uint32_t b) {
  ListLeaf leaf(page, page_size_);
  if (!leaf.owns_heap()) return;
  for (uint32_t j = a; j < b; ++j) {
    std::string_view v = leaf.value(j);
    if (OwnsHeapObject(static_cast<uint8_t>(v[0]))) {
      heap_.OnDropped(Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    }
  }
}

void ListTree::FreeSubtree(PageId id, uint32_t h) {
  if (h == 1) {
    PageGuard g = space_.Read(id);
    DropValues(g.data(), 0, ListLeaf(g.data(), page_size_).count());
  } else {
    std::vector<PageId> children;
    {
      PageGuard g = space_.Read(id);
      ListNode node(g.data(), page_size_);
      for (uint32_t j = 0; j < node.count(); ++j) children.push_back(node.child(j));
    }
    for (PageId c : children) FreeSubtree(c, h - 1);
  }
  space_.Free(id);
}

// Removes [a, b) from the subtree at id, which is not wholly covered.
// Children wholly inside the range are freed without being visited.
void ListTree::EraseRange(PageId id, uint32_t h, uint64_t a, uint64_t b) {
  PageGuard g = space_.Write(id);
  if (h == 1) {
    DropValues(g.data(), static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    ListLeaf(g.mutable_data(), page_size_)
        .Erase(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    return;
  }
  ListNode node(g.mutable_data(), page_size_);
  uint32_t s0 = node.Find(a), s1 = node.Find(b - 1);
  uint32_t kept = s0;  // where the next surviving child of s0..s1 goes
  std::vector<uint32_t> partial;
  std::vector<PageId> ids;
  std::vector<uint64_t> counts;
  for (uint32_t s = 0; s < node.count(); ++s) {
    uint64_t lo = node.before(s), hi = node.cum(s);
    if (s < s0 || s > s1) {
      ids.push_back(node.child(s));
      counts.push_back(hi - lo);
      continue;
    }
    uint64_t ca = std::max(a, lo) - lo, cb = std::min(b, hi) - lo;
    if (ca == 0 && cb == hi - lo) {
      FreeSubtree(node.child(s), h - 1);
      continue;
    }
    EraseRange(node.child(s), h - 1, ca, cb);
    ids.push_back(node.child(s));
    counts.push_back(hi - lo - (cb - ca));
    partial.push_back(kept++);
  }
  node.Assign(ids.data(), counts.data(), static_cast<uint32_t>(ids.size()));
  // The (at most two) cut children are now neighbours; mend the right one first
  // so the left one's slot stays valid.
  for (auto it = partial.rbegin(); it != partial.rend(); ++it) FixUnderflow(g, h, *it);
}

// Removes positions first, first + stride, ... (count of them, all inside
// the subtree at id, which they do not wholly cover; relative to it).
void ListTree::EraseEvery(PageId id, uint32_t h, uint64_t first, uint64_t stride, uint64_t count) {
  PageGuard g = space_.Write(id);
  if (h == 1) {
    for (uint64_t k = 0; k < count; ++k) {
      const auto at = static_cast<uint32_t>(first + k * stride);
      DropValues(g.data(), at, at + 1);
    }
    // Two positions in one leaf are less than a page apart; one alone may be
    // given any stride (up to 2**63 - 1), which does not fit a leaf's u32.
    const auto leaf_stride = static_cast<uint32_t>(count == 1 ? 1 : stride);
    ListLeaf(g.mutable_data(), page_size_)
        .EraseEvery(static_cast<uint32_t>(first), leaf_stride, static_cast<uint32_t>(count));
    return;
  }
  ListNode node(g.mutable_data(), page_size_);
  const uint64_t last = first + (count - 1) * stride;
  const uint32_t s0 = node.Find(first), s1 = node.Find(last);
  std::vector<uint32_t> partial;
  std::vector<PageId> ids;
  std::vector<uint64_t> counts;
  for (uint32_t s = 0; s < node.count(); ++s) {
    const uint64_t lo = node.before(s), hi = node.cum(s);
    // The positions k in [k0, k1) fall in this child.
    uint64_t k0 = 0, k1 = 0;
    if (s >= s0 && s <= s1) {
      k0 = lo <= first ? 0 : (lo - first + stride - 1) / stride;
      k1 = hi <= first ? 0 : std::min(count, (hi - first + stride - 1) / stride);
    }
    if (k1 <= k0) {
      ids.push_back(node.child(s));
      counts.push_back(hi - lo);
      continue;
    }
    if (k1 - k0 == hi - lo) {  // every value of the child goes
      FreeSubtree(node.child(s), h - 1);
      continue;
    }
    EraseEvery(node.child(s), h - 1, first + k0 * stride - lo, stride, k1 - k0);
    partial.push_back(static_cast<uint32_t>(ids.size()));
    ids.push_back(node.child(s));
    counts.push_back(hi - lo - (k1 - k0));
  }
  node.Assign(ids.data(), counts.data(), static_cast<uint32_t>(ids.size()));
  // Right to left: a merge removes the right one of two slots, so the slots
  // still to mend keep their places.
  for (auto it = partial.rbegin(); it != partial.rend(); ++it) FixUnderflow(g, h, *it);
}

void ListTree::EraseSlice(const ListSlice& s) {
  if (s.count == 0) return;
  const uint64_t stride =
      s.step > 0 ? static_cast<uint64_t>(s.step) : static_cast<uint64_t>(-s.step);
  if (stride == 1) return Erase(s.low(), s.high());
  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  const uint64_t size = Field<uint64_t>(h, ListHeaderFields::kSize);
  if (s.high() > size) throw Error(ErrorCode::kInvalidArgument, "slice past the end of the list");
  if (s.count == size) {
    hdr.Release();
    Clear();
    return;
  }
  EraseEvery(Field<uint64_t>(h, ListHeaderFields::kRoot),
             Field<uint32_t>(h, ListHeaderFields::kHeight), s.low(), stride, s.count);
  SetField<uint64_t>(h, ListHeaderFields::kSize, size - s.count);
  CollapseRoot(h);
}

// If child slot of parent (at height h) is underfull, merges it with a
// neighbour or evens the two out.
void ListTree::FixUnderflow(PageGuard& pg, uint32_t h, uint32_t slot) {
  ListNode parent(pg.mutable_data(), page_size_);
  if (parent.count() < 2 || slot >= parent.count()) return;
  PageGuard cg = space_.Write(parent.child(slot));
  if (!Underfull(cg, h - 1)) return;
  uint32_t l = slot > 0 ? slot - 1 : slot, r = l + 1;
  PageGuard other = space_.Write(parent.child(l == slot ? r : l));
  PageGuard& lg = l == slot ? cg : other;
  PageGuard& rg = l == slot ? other : cg;
  uint64_t cl = parent.count_of(l), cr = parent.count_of(r);
  uint32_t junction = h - 1 > 1 ? ListNode(lg.data(), page_size_).count() : 0;
  bool merged = h - 1 == 1 ? RedistributeLeaves(lg, rg, true) : RedistributeNodes(lg, rg, true);
  if (merged) {
    PageId gone = rg.id();
    rg.Release();
    space_.Free(gone);
    parent.Remove(r, r + 1);
    parent.AddCount(l, static_cast<int64_t>(cr));
    // Two internal pages met: their children at the seam may be small too.
    if (h - 1 > 1) {
      FixUnderflow(lg, h - 1, junction);
      FixUnderflow(lg, h - 1, junction - 1);
    }
    return;
  }
  int64_t delta = static_cast<int64_t>(Total(lg, h - 1)) - static_cast<int64_t>(cl);
  parent.AddCount(l, delta);
  parent.AddCount(r, -delta);
}

void ListTree::CollapseRoot(uint8_t* hdr) {
  uint32_t height = Field<uint32_t>(hdr, ListHeaderFields::kHeight);
  PageId root = Field<uint64_t>(hdr, ListHeaderFields::kRoot);
  while (height > 1) {
    PageId only;
    {
      PageGuard g = space_.Read(root);
      ListNode node(g.data(), page_size_);
      if (node.count() != 1) break;
      only = node.child(0);
    }
    space_.Free(root);
    root = only;
    --height;
  }
  SetField<uint64_t>(hdr, ListHeaderFields::kRoot, root);
  SetField<uint32_t>(hdr, ListHeaderFields::kHeight, height);
}

void ListTree::Erase(uint64_t start, uint64_t stop) {
  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  uint64_t size = Field<uint64_t>(h, ListHeaderFields::kSize);
  stop = std::min(stop, size);
  if (start >= stop) return;
  if (start == 0 && stop == size) {
    hdr.Release();
    Clear();
    return;
  }
  EraseRange(Field<uint64_t>(h, ListHeaderFields::kRoot),
             Field<uint32_t>(h, ListHeaderFields::kHeight), start, stop);
  SetField<uint64_t>(h, ListHeaderFields::kSize, size - (stop - start));
  CollapseRoot(h);
}

void ListTree::Clear() {
  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  uint32_t height = Field<uint32_t>(h, ListHeaderFields::kHeight);
  PageId root = Field<uint64_t>(h, ListHeaderFields::kRoot);
  // Detach first: the tree is unreachable even if freeing fails halfway.
  SetField<uint64_t>(h, ListHeaderFields::kSize, 0);
  SetField<uint32_t>(h, ListHeaderFields::kHeight, 0);
  SetField<uint64_t>(h, ListHeaderFields::kRoot, kNoPage);
  if (height != 0) FreeSubtree(root, height);
}

void ListTree::Mirror(PageId id, uint32_t h) {
  PageGuard g = space_.Write(id);
  if (h == 1) {
    // Copy the value area, then append the values back from last to first.
    ListLeaf leaf(g.mutable_data(), page_size_);
    thread_local std::vector<uint8_t> copy;
    copy.assign(g.data(), g.data() + page_size_);
    ListLeaf old(copy.data(), page_size_);
    leaf.Init();
    if (old.owns_heap()) leaf.mark_owns_heap();
    for (uint32_t j = old.count(); j-- > 0;) leaf.Append(old.value(j));
    return;
  }
  ListNode node(g.mutable_data(), page_size_);
  std::vector<PageId> ids;
  std::vector<uint64_t> counts;
  for (uint32_t j = node.count(); j-- > 0;) {
    ids.push_back(node.child(j));
    counts.push_back(node.count_of(j));
  }
  node.Assign(ids.data(), counts.data(), static_cast<uint32_t>(ids.size()));
  g.Release();
  for (PageId c : ids) Mirror(c, h - 1);
}

void ListTree::Reverse() {
  PageGuard hdr = space_.Write(header_);
  uint32_t height = Field<uint32_t>(hdr.data(), ListHeaderFields::kHeight);
  if (height != 0) Mirror(Field<uint64_t>(hdr.data(), ListHeaderFields::kRoot), height);
}

uint64_t ListTree::CheckSubtree(PageId id, uint32_t h, ListShape& shape) {
  PageGuard g = space_.Read(id);
  if (h == 1) {
    ListLeaf leaf(g.data(), page_size_);
    if (!leaf.is_leaf() || leaf.count() == 0)
      Corrupt("empty or mistyped leaf " + std::to_string(id));
    for (uint32_t j = 0; j < leaf.count(); ++j) {
      uint32_t s = leaf.start(j), e = leaf.end(j);
      if (s >= e || s < ListLeaf::kHeaderSize + 2 * leaf.count())
        Corrupt("bad offset in leaf " + std::to_string(id));
      std::string_view v = leaf.value(j);
      if (EncodedSize(reinterpret_cast<const uint8_t*>(v.data()), v.size()) != v.size()) {
        Corrupt("value does not fill its slot in leaf " + std::to_string(id));
      }
      if (OwnsHeapObject(static_cast<uint8_t>(v[0])) && !leaf.owns_heap()) {
        Corrupt("leaf " + std::to_string(id) + " holds a blob or reference unflagged");
      }
    }
    ++shape.leaves;
    shape.leaf_bytes_used += leaf.used_bytes();
    shape.leaf_capacity += leaf.capacity();
    return leaf.count();
  }
  ListNode node(g.data(), page_size_);
  if (!node.is_node() || node.count() == 0) Corrupt("empty or mistyped node " + std::to_string(id));
  ++shape.nodes;
  for (uint32_t j = 0; j < node.count(); ++j) {
    if (CheckSubtree(node.child(j), h - 1, shape) != node.count_of(j) || node.count_of(j) == 0) {
      Corrupt("count of child " + std::to_string(j) + " of node " + std::to_string(id) +
              " is wrong");
    }
  }
  return node.total();
}

ListShape ListTree::Verify() {
  PageGuard hdr = space_.Read(header_);
  ListShape shape;
  shape.size = Field<uint64_t>(hdr.data(), ListHeaderFields::kSize);
  shape.height = Field<uint32_t>(hdr.data(), ListHeaderFields::kHeight);
  PageId root = Field<uint64_t>(hdr.data(), ListHeaderFields::kRoot);
  uint64_t found = shape.height == 0 ? 0 : CheckSubtree(root, shape.height, shape);
  if (found != shape.size) Corrupt("header size disagrees with the tree");
  if ((shape.height == 0) != (root == kNoPage)) Corrupt("height disagrees with the root");
  return shape;
}

}  // namespace pagefs
