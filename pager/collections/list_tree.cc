// ListTree reads, inserts, sets and appends; erase and friends live in
// list_tree_shrink.cc.
#include "pager/collections/list_tree.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include "pager/collections/list_leaf.h"
#include "pager/collections/list_node.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

// Insert and Set take exactly one well-formed inline value.
void CheckOneValue(std::string_view encoded) {
  if (encoded.empty() || FastEncodedSize(reinterpret_cast<const uint8_t*>(encoded.data()),
                                         encoded.size()) != encoded.size()) {
    throw Error(ErrorCode::kInvalidArgument, "not one encoded value");
  }
}

uint64_t HdrSize(const uint8_t* h) { return Field<uint64_t>(h, ListHeaderFields::kSize); }
uint32_t HdrHeight(const uint8_t* h) { return Field<uint32_t>(h, ListHeaderFields::kHeight); }
PageId HdrRoot(const uint8_t* h) { return Field<uint64_t>(h, ListHeaderFields::kRoot); }

// Scratch space for regrouping the values of two leaves.
struct LeafScratch {
  std::string bytes;
  std::vector<uint32_t> ends;
};

}  // namespace

ListTree::ListTree(Heap& heap, PageId header, ListRootMemo* memo, ReadHints* hints)
    : heap_(heap),
      space_(heap.space()),
      header_(header),
      memo_(memo),
      hints_(hints),
      page_size_(space_.page_size()) {}

ListTree::Root ListTree::CurrentRoot() {
  const uint64_t generation = space_.view_generation();
  if (memo_ != nullptr && memo_->valid && memo_->view_generation == generation) {
    return Root{memo_->size, memo_->height, memo_->page};
  }
  Root root;
  {
    const PageGuard hdr = space_.Read(header_);
    root = RootOf(hdr.data());
  }
  if (memo_ != nullptr) *memo_ = {true, generation, root.size, root.height, root.page};
  return root;
}

void ListTree::Corrupt(const std::string& what) const {
  throw Error(ErrorCode::kCorruption, "list " + std::to_string(header_) + ": " + what);
}

uint64_t ListTree::size() { return CurrentRoot().size; }

uint64_t ListTree::Total(const PageGuard& g, uint32_t h) const {
  return h == 1 ? ListLeaf(g.data(), page_size_).count() : ListNode(g.data(), page_size_).total();
}

bool ListTree::Underfull(const PageGuard& g, uint32_t h) const {
  if (h == 1) {
    ListLeaf leaf(g.data(), page_size_);
    return leaf.used_bytes() < leaf.capacity() / 4;
  }
  ListNode node(g.data(), page_size_);
  return node.count() < node.capacity() / 4;
}

// ---- reads ----------------------------------------------------------------

PageGuard ListTree::DescendRead(PageId id, uint32_t height, uint64_t* k, ScanAhead* ahead) {
  for (uint32_t h = height; h > 1; --h) {
    PageGuard g = space_.Read(id);
    ListNode node(g.data(), page_size_);
    if (!node.is_node() || node.count() == 0) Corrupt("bad internal page " + std::to_string(id));
    uint32_t slot = node.Find(*k);
    if (ahead != nullptr && h == 2) AdviseLeaves(node, id, slot, *k, *ahead);
    *k -= node.before(slot);
    id = node.child(slot);
  }
  PrefetchLeaf(id, *k);
  PageGuard g = space_.Read(id);
  ListLeaf leaf(g.data(), page_size_);
  if (!leaf.is_leaf() || *k >= leaf.count()) Corrupt("bad leaf page " + std::to_string(id));
  if (hints_ != nullptr) {
    const uint32_t start = leaf.start(static_cast<uint32_t>(*k));  // read next anyway
    if (start < page_size_) {
      hints_->value_bytes = (page_size_ - start) / static_cast<uint32_t>(*k + 1);
    }
  }
  return g;
}

void ListTree::PrefetchLeaf(PageId id, uint64_t k) {
  // A random read of an in-cache list waits on memory more than it computes:
  // the leaf's header, its offset of value k and the value's bytes are three
  // cache lines, each a miss. Fetching them together while the pin waits for
  // the frame's state turns three waits into about one. The value's place
  // is a guess (values of one list are often of one size), with the lines
  // on either side for sizes that vary a little; a wrong guess costs three
  // useless prefetches.
  const uint8_t* p = space_.WhereResident(id);
  if (p == nullptr) return;
  __builtin_prefetch(p);
  const uint64_t offset_at = ListLeaf::kHeaderSize + 2 * k;
  if (offset_at < page_size_) __builtin_prefetch(p + offset_at);
  if (hints_ != nullptr && hints_->value_bytes != 0) {
    const uint64_t from_end = (k + 1) * hints_->value_bytes;
    if (from_end < page_size_) {
      const uint8_t* guess = p + (page_size_ - from_end);
      __builtin_prefetch(guess);
      if (from_end + 64 < page_size_) __builtin_prefetch(guess - 64);
      if (from_end > 64) __builtin_prefetch(guess + 64);
    }
  }
}

void ListTree::AdviseLeaves(const ListNode& node, PageId id, uint32_t slot, uint64_t k,
                            ScanAhead& a) {
  static_assert(kScanAheadBytes / 4096 <= 32);
  const uint32_t window = std::max<uint32_t>(2, kScanAheadBytes / page_size_);
  const bool same = a.node == id;
  uint32_t from = 0;
  uint32_t to = 0;
  if (a.forward) {
    if (same && a.edge > slot + window / 2) return;
    from = same ? std::max(a.edge, slot + 1) : slot + 1;
    to = std::min(node.count(), slot + window);  // a window with the leaf read now
    // Only the leaves the scan reaches: child c's values start at before(c).
    while (to > from && node.before(to - 1) >= k + a.remaining) --to;
    a.edge = std::max(from, to);
  } else {
    if (same && slot > a.edge + window / 2) return;
    to = same ? std::min(a.edge, slot) : slot;
    from = slot + 1 > window ? slot + 1 - window : 0;
    // Backward the scan reaches child c while c ends (cum) past its last value.
    while (from < to && node.cum(from) + a.remaining <= k + 1) ++from;
    a.edge = std::min(from, to);
  }
  a.node = id;
  if (from >= to) return;
  std::array<PageId, 32> ids;
  for (uint32_t c = from; c < to; ++c) ids[c - from] = node.child(c);
  space_.WillRead(std::span<const PageId>(ids.data(), to - from));
}

void ListTree::Emit(std::string_view stored, const Visitor& fn) {
  if (NeedsInlining(static_cast<uint8_t>(stored[0]))) {
    std::string scratch;
    fn(heap_.ToInline(stored, scratch));
    return;
  }
  fn(stored);
}

PageGuard ListTree::PinLeaf(uint64_t i, uint32_t* at) {
  Root root;
  {
    const PageGuard hdr = space_.Read(header_);
    root = RootOf(hdr.data());
  }
  return PinLeaf(root, i, at);
}

ListTree::Root ListTree::RootOf(const uint8_t* header) {
  return Root{HdrSize(header), HdrHeight(header), HdrRoot(header)};
}

PageGuard ListTree::PinLeaf(const Root& root, uint64_t i, uint32_t* at) {
  if (i >= root.size) throw Error(ErrorCode::kOutOfRange, "list index out of range");
  PageGuard leaf = DescendRead(root.page, root.height, &i);
  *at = static_cast<uint32_t>(i);
  return leaf;
}

void ListTree::Get(uint64_t i, const Visitor& fn) {
  const Root root = CurrentRoot();
  if (i >= root.size) throw Error(ErrorCode::kOutOfRange, "list index out of range");
  PageGuard leaf_page = DescendRead(root.page, root.height, &i);
  Emit(ListLeaf(leaf_page.data(), page_size_).value(static_cast<uint32_t>(i)), fn);
}

void ListTree::GetSigned(int64_t i, const Visitor& fn) {
  const Root root = CurrentRoot();
  const auto n = static_cast<int64_t>(root.size);
  const int64_t at = i < 0 ? i + n : i;
  if (at < 0 || at >= n) throw Error(ErrorCode::kOutOfRange, "list index out of range");
  uint32_t slot = 0;
  const PageGuard leaf = PinLeaf(root, static_cast<uint64_t>(at), &slot);
  Emit(ListLeaf(leaf.data(), page_size_).value(slot), fn);
}

void ListTree::Scan(uint64_t start, uint64_t stop, const Visitor& fn) {
  PageGuard hdr = space_.Read(header_);
  stop = std::min(stop, HdrSize(hdr.data()));
  PageId root = HdrRoot(hdr.data());
  uint32_t height = HdrHeight(hdr.data());
  hdr.Release();
  ScanAhead ahead;
  while (start < stop) {
    uint64_t k = start;
    ahead.remaining = stop - start;
    PageGuard g = DescendRead(root, height, &k, &ahead);
    ListLeaf leaf(g.data(), page_size_);
    uint64_t n = std::min<uint64_t>(leaf.count() - k, stop - start);
    for (uint64_t j = k; j < k + n; ++j) Emit(leaf.value(static_cast<uint32_t>(j)), fn);
    start += n;
  }
}

void ListTree::ScanReverse(uint64_t start, uint64_t stop, const Visitor& fn) {
  PageGuard hdr = space_.Read(header_);
  stop = std::min(stop, HdrSize(hdr.data()));
  PageId root = HdrRoot(hdr.data());
  uint32_t height = HdrHeight(hdr.data());
  hdr.Release();
  ScanAhead ahead{.forward = false};
  while (stop > start) {
    uint64_t k = stop - 1;
    ahead.remaining = stop - start;
    PageGuard g = DescendRead(root, height, &k, &ahead);
    ListLeaf leaf(g.data(), page_size_);
    uint64_t n = std::min<uint64_t>(k + 1, stop - start);
    for (uint64_t j = k + 1; j-- > k + 1 - n;) Emit(leaf.value(static_cast<uint32_t>(j)), fn);
    stop -= n;
  }
}

// ---- insert and set ---------------------------------------------------------

ListTree::Split ListTree::ModifyLeaf(PageGuard& g, uint64_t k, std::string_view v, Mode mode,
                                     std::string* dropped) {
  ListLeaf leaf(g.mutable_data(), page_size_);
  if (!leaf.is_leaf()) Corrupt("bad leaf page " + std::to_string(g.id()));
  if (OwnsHeapObject(static_cast<uint8_t>(v[0]))) leaf.mark_owns_heap();
  auto apply = [&](ListLeaf& target, uint32_t at) {
    if (mode == Mode::kInsert) {
      target.Insert(at, v);
      return;
    }
    std::string_view old = target.value(at);
    if (OwnsHeapObject(static_cast<uint8_t>(old[0]))) {
      dropped->assign(old);  // a copy: a tuple's view would point into the rewritten leaf
    }
    target.Replace(at, v);
  };
  uint32_t at = static_cast<uint32_t>(k);
  bool fits = mode == Mode::kInsert ? leaf.fits(v.size())
                                    : leaf.free_bytes() + leaf.value(at).size() >= v.size();
  if (fits) {
    apply(leaf, at);
    return {};
  }
  // Split in two by bytes; values are at most a quarter page (blobs take the
  // rest), so either half then has room for the new one.
  PageGuard ng = space_.Allocate();
  ListLeaf right(ng.mutable_data(), page_size_);
  right.Init();
  RedistributeLeaves(g, ng, false);
  bool left_side = mode == Mode::kInsert ? at <= leaf.count() : at < leaf.count();
  if (left_side) {
    apply(leaf, at);
  } else {
    apply(right, at - leaf.count());
  }
  return {ng.id(), right.count()};
}

ListTree::Split ListTree::Modify(PageId id, uint32_t h, uint64_t k, std::string_view v, Mode mode,
                                 std::string* dropped) {
  PageGuard g = space_.Write(id);
  if (h == 1) return ModifyLeaf(g, k, v, mode, dropped);
  ListNode node(g.mutable_data(), page_size_);
  if (!node.is_node() || node.count() == 0) Corrupt("bad internal page " + std::to_string(id));
  uint32_t slot = node.Find(k);
  Split s = Modify(node.child(slot), h - 1, k - node.before(slot), v, mode, dropped);
  if (mode == Mode::kInsert) node.AddCount(slot, 1);
  if (s.id == kNoPage) return {};
  node.AddCount(slot, -static_cast<int64_t>(s.count));
  if (!node.full()) {
    node.Insert(slot + 1, s.id, s.count);
    return {};
  }
  PageGuard ng = space_.Allocate();
  ListNode right(ng.mutable_data(), page_size_);
  right.Init();
  RedistributeNodes(g, ng, false);
  if (slot + 1 <= node.count()) {
    node.Insert(slot + 1, s.id, s.count);
  } else {
    right.Insert(slot + 1 - node.count(), s.id, s.count);
  }
  return {ng.id(), right.total()};
}

void ListTree::GrowRoot(uint8_t* hdr, Split s, uint64_t total) {
  PageGuard rg = space_.Allocate();
  ListNode root(rg.mutable_data(), page_size_);
  root.Init();
  root.Append(HdrRoot(hdr), total - s.count);
  root.Append(s.id, s.count);
  SetField<uint64_t>(hdr, ListHeaderFields::kRoot, rg.id());
  SetField<uint32_t>(hdr, ListHeaderFields::kHeight, HdrHeight(hdr) + 1);
}

void ListTree::Insert(uint64_t i, std::string_view encoded) {
  CheckOneValue(encoded);
  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  uint64_t size = HdrSize(h);
  i = std::min(i, size);
  std::string scratch;
  std::string_view v = heap_.ToStored(encoded, scratch);
  if (HdrHeight(h) == 0) {
    PageGuard lg = space_.Allocate();
    ListLeaf(lg.mutable_data(), page_size_).Init();
    SetField<uint64_t>(h, ListHeaderFields::kRoot, lg.id());
    SetField<uint32_t>(h, ListHeaderFields::kHeight, 1);
  }
  Split s = Modify(HdrRoot(h), HdrHeight(h), i, v, Mode::kInsert, nullptr);
  if (s.id != kNoPage) GrowRoot(h, s, size + 1);
  SetField<uint64_t>(h, ListHeaderFields::kSize, size + 1);
}

void ListTree::Set(uint64_t i, std::string_view encoded) {
  CheckOneValue(encoded);
  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  uint64_t size = HdrSize(h);
  if (i >= size) throw Error(ErrorCode::kOutOfRange, "list assignment index out of range");
  std::string scratch;
  // Store the new value before dropping the old: x[0] = x[0] must not free x[0].
  std::string_view v = heap_.ToStored(encoded, scratch);
  std::string dropped;
  Split s = Modify(HdrRoot(h), HdrHeight(h), i, v, Mode::kSet, &dropped);
  if (s.id != kNoPage) GrowRoot(h, s, size);
  if (!dropped.empty()) {
    heap_.OnDropped(Decode(reinterpret_cast<const uint8_t*>(dropped.data()), dropped.size()));
  }
}

// ---- append -----------------------------------------------------------------

// Makes node (a new, empty page of the level `level` of path) the rightmost
// page of that level, growing parents (and the root) as needed.
void ListTree::AttachRightmost(uint8_t* hdr, std::vector<PageGuard>& path, size_t level,
                               PageGuard node) {
  if (level == 0) {
    uint32_t height = HdrHeight(hdr);
    GrowRoot(hdr, {node.id(), 0}, Total(path[0], height));
    PageGuard root = space_.Write(HdrRoot(hdr));
    path[0] = std::move(node);
    path.insert(path.begin(), std::move(root));
    return;
  }
  ListNode parent(path[level - 1].mutable_data(), page_size_);
  if (!parent.full()) {
    parent.Append(node.id(), 0);
    path[level] = std::move(node);
    return;
  }
  PageGuard up = space_.Allocate();
  ListNode fresh(up.mutable_data(), page_size_);
  fresh.Init();
  fresh.Append(node.id(), 0);
  path[level] = std::move(node);
  AttachRightmost(hdr, path, level - 1, std::move(up));
}

void ListTree::Append(std::string_view run, uint64_t count) {
  // Check the whole run first so a bad value cannot leave half a batch behind.
  const uint8_t* p = reinterpret_cast<const uint8_t*>(run.data());
  uint64_t n = 0;
  for (size_t pos = 0; pos < run.size(); ++n) {
    if (IsStoredOnlyForm(p[pos])) {
      throw Error(ErrorCode::kInvalidArgument, "blob forms cannot be stored directly");
    }
    pos += FastEncodedSize(p + pos, run.size() - pos);
  }
  if (n != count) throw Error(ErrorCode::kInvalidArgument, "run does not hold count values");
  if (count == 0) return;

  PageGuard hdr = space_.Write(header_);
  uint8_t* h = hdr.mutable_data();
  if (HdrHeight(h) == 0) {
    PageGuard lg = space_.Allocate();
    ListLeaf(lg.mutable_data(), page_size_).Init();
    SetField<uint64_t>(h, ListHeaderFields::kRoot, lg.id());
    SetField<uint32_t>(h, ListHeaderFields::kHeight, 1);
  }
  // Pin the rightmost path once; counts go up it once per filled leaf.
  std::vector<PageGuard> path;
  PageId id = HdrRoot(h);
  for (uint32_t level = HdrHeight(h); level > 1; --level) {
    path.push_back(space_.Write(id));
    ListNode node(path.back().data(), page_size_);
    id = node.child(node.count() - 1);
  }
  path.push_back(space_.Write(id));
  auto flush = [&](uint64_t added) {
    for (size_t j = 0; j + 1 < path.size(); ++j) {
      ListNode node(path[j].mutable_data(), page_size_);
      node.AddCount(node.count() - 1, static_cast<int64_t>(added));
    }
  };

  std::string scratch;
  uint64_t pending = 0;
  ListLeaf leaf(path.back().mutable_data(), page_size_);
  for (size_t pos = 0; pos < run.size();) {
    size_t len = FastEncodedSize(p + pos, run.size() - pos);
    std::string_view v(run.data() + pos, len);
    pos += len;
    if (MayTouchHeap(static_cast<uint8_t>(v[0]))) v = heap_.ToStored(v, scratch);
    if (!leaf.fits(v.size())) {
      flush(pending);
      pending = 0;
      PageGuard fresh = space_.Allocate();
      ListLeaf(fresh.mutable_data(), page_size_).Init();
      AttachRightmost(h, path, path.size() - 1, std::move(fresh));
      leaf = ListLeaf(path.back().mutable_data(), page_size_);
    }
    if (OwnsHeapObject(static_cast<uint8_t>(v[0]))) leaf.mark_owns_heap();
    leaf.Append(v);
    ++pending;
  }
  flush(pending);
  SetField<uint64_t>(h, ListHeaderFields::kSize, HdrSize(h) + count);
}

// ---- regrouping siblings ------------------------------------------------------

bool ListTree::RedistributeLeaves(PageGuard& lg, PageGuard& rg, bool merge) {
  ListLeaf l(lg.mutable_data(), page_size_), r(rg.mutable_data(), page_size_);
  thread_local LeafScratch s;
  s.bytes.clear();
  s.ends.clear();
  for (ListLeaf* leaf : {&l, &r}) {
    for (uint32_t j = 0; j < leaf->count(); ++j) {
      s.bytes.append(leaf->value(j));
      s.ends.push_back(static_cast<uint32_t>(s.bytes.size()));
    }
  }
  bool owns = l.owns_heap() || r.owns_heap();
  uint32_t n = static_cast<uint32_t>(s.ends.size());
  uint64_t total = s.bytes.size() + 2ull * n;
  // Left keeps values while it holds at most half of the bytes (all when merging).
  uint32_t split = n;
  if (!merge || total > l.capacity()) {
    uint64_t acc = 0;
    split = 0;
    while (split + 1 < n) {
      uint64_t cost = ListLeaf::Cost(s.ends[split] - (split ? s.ends[split - 1] : 0));
      if (split > 0 && acc + cost > total / 2) break;
      acc += cost;
      ++split;
    }
  }
  l.Init();
  r.Init();
  if (owns) {
    l.mark_owns_heap();
    r.mark_owns_heap();
  }
  for (uint32_t j = 0; j < n; ++j) {
    uint32_t b = j ? s.ends[j - 1] : 0;
    (j < split ? l : r).Append(std::string_view(s.bytes).substr(b, s.ends[j] - b));
  }
  return split == n;
}

bool ListTree::RedistributeNodes(PageGuard& lg, PageGuard& rg, bool merge) {
  ListNode l(lg.mutable_data(), page_size_), r(rg.mutable_data(), page_size_);
  thread_local std::vector<PageId> ids;
  thread_local std::vector<uint64_t> counts;
  ids.clear();
  counts.clear();
  for (ListNode* node : {&l, &r}) {
    for (uint32_t j = 0; j < node->count(); ++j) {
      ids.push_back(node->child(j));
      counts.push_back(node->count_of(j));
    }
  }
  uint32_t n = static_cast<uint32_t>(ids.size());
  uint32_t split = merge && n <= l.capacity() ? n : n / 2;
  l.Assign(ids.data(), counts.data(), split);
  r.Assign(ids.data() + split, counts.data() + split, n - split);
  return split == n;
}

}  // namespace pagefs
