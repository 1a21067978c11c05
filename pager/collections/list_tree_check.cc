#include "pager/collections/list_tree_check.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "pager/collections/list_leaf.h"
#include "pager/collections/list_node.h"
#include "pager/collections/list_tree.h"
#include "pager/util/coding.h"

namespace pagefs {
namespace {

constexpr uint32_t kMaxListHeight =
    32;  // far above any real tree (a 4 KiB tree of height 9 holds 2^64)

std::string Num(uint64_t v) { return std::to_string(v); }

class TreeWalk {
 public:
  TreeWalk(CollectionCheck& check, const std::function<void(const ListValue&)>& on_value)
      : check_(check),
        on_value_(on_value),
        owner_(check.collection()),
        page_size_(check.page_size()) {}

  std::optional<uint64_t> Run(PageGuard header) {
    const std::string who = "collection " + Num(owner_);
    const uint64_t size = Field<uint64_t>(header.data(), ListHeaderFields::kSize);
    const uint32_t height = Field<uint32_t>(header.data(), ListHeaderFields::kHeight);
    const PageId root = Field<uint64_t>(header.data(), ListHeaderFields::kRoot);
    header.Release();
    if ((height == 0) != (root == kNoPage)) {
      Problem(owner_, who + " has height " + Num(height) + " but root page " + Num(root));
      return std::nullopt;
    }
    if (height > kMaxListHeight) {
      Problem(owner_, who + " has height " + Num(height) + ", more than any tree can have");
      return std::nullopt;
    }
    if (height == 0) {
      if (size != 0)
        Problem(owner_, who + " is empty but its header says " + Num(size) + " values");
      return 0;
    }
    std::optional<uint64_t> found = Subtree(root, height, who + "'s root");
    if (found && *found != size) {
      Problem(owner_,
              who + "'s header says " + Num(size) + " values, its tree holds " + Num(*found));
    }
    return found;
  }

 private:
  void Problem(PageId page, std::string message) {
    check_.Problem("list", page, std::move(message));
  }

  // The values under page id (a node of height h), or nothing when a page
  // under it could not be read or is not what it should be.
  std::optional<uint64_t> Subtree(PageId id, uint32_t h, const std::string& what) {
    PageGuard g = check_.Take(id, what + " (collection " + Num(owner_) + ")");
    if (!g) return Lost();
    const std::string where = " of collection " + Num(owner_);
    if (h == 1) {
      ListLeaf leaf(g.data(), page_size_);
      if (!leaf.is_leaf()) {
        Problem(id,
                "page " + Num(id) + where + " should be a leaf, its type is " + Num(g.data()[0]));
        return Lost();
      }
      const uint32_t n = leaf.count();
      if (n == 0 || ListLeaf::kHeaderSize + 2 * n > page_size_) {
        Problem(id, "leaf " + Num(id) + where + " has a bad count (" + Num(n) + ")");
        return Lost();
      }
      for (uint32_t j = 0; j < n; ++j) {
        const uint32_t s = leaf.start(j), e = leaf.end(j);
        if (s >= e || s < ListLeaf::kHeaderSize + 2 * n || e > page_size_) {
          Problem(id, "leaf " + Num(id) + where + ": value " + Num(j) + " has bad offsets (" +
                          Num(s) + ".." + Num(e) + ")");
          return Lost();
        }
      }
      for (uint32_t j = 0; j < n; ++j) Value(leaf, id, j);
      return n;
    }
    ListNode node(g.data(), page_size_);
    if (!node.is_node()) {
      Problem(id, "page " + Num(id) + where + " should be an internal node (height " + Num(h) +
                      "), its type is " + Num(g.data()[0]));
      return Lost();
    }
    const uint32_t n = node.count();
    if (n == 0 || n > node.capacity()) {
      Problem(id, "node " + Num(id) + where + " has a bad count (" + Num(n) + ")");
      return Lost();
    }
    // Copy the entries out and unpin: a deep walk is cheaper to reason about
    // without views into pinned pages.
    std::vector<std::pair<PageId, uint64_t>> children(n);
    for (uint32_t j = 0; j < n; ++j) children[j] = {node.child(j), node.cum(j)};
    g.Release();
    bool whole = true;
    uint64_t before = 0;
    for (uint32_t j = 0; j < n; ++j) {
      const auto [child, cum] = children[j];
      if (cum <= before) {
        Problem(id, "node " + Num(id) + where + ": child " + Num(j) + " has count " +
                        (cum < before ? "below zero" : "zero") + " (cumulative " + Num(cum) +
                        " after " + Num(before) + ")");
        whole = false;
      }
      std::optional<uint64_t> got =
          Subtree(child, h - 1, "child " + Num(j) + " of node " + Num(id));
      if (!got) {
        whole = false;
      } else if (cum > before && *got != cum - before) {
        Problem(id, "node " + Num(id) + where + ": child " + Num(j) + " (page " + Num(child) +
                        ") is counted " + Num(cum - before) + ", its subtree holds " + Num(*got));
        whole = false;
      }
      before = std::max(before, cum);
    }
    if (!whole) return std::nullopt;
    return before;
  }

  // A subtree that could not be walked: the positions of the values after
  // it are unknown.
  std::optional<uint64_t> Lost() {
    position_ = std::nullopt;
    return std::nullopt;
  }

  void Value(const ListLeaf& leaf, PageId page, uint32_t j) {
    const std::string where =
        "value " + Num(j) + " of leaf " + Num(page) + " of collection " + Num(owner_);
    const std::optional<uint64_t> position = position_;
    if (position_) ++*position_;
    const std::string_view stored = leaf.value(j);
    const std::optional<ValueView> view = check_.Decode(stored, page, where);
    if (!view) return;
    if (OwnsHeapObject(static_cast<uint8_t>(stored[0])) && !leaf.owns_heap()) {
      Problem(page, where + " is a blob or reference in a leaf not flagged as holding one");
    }
    const std::optional<std::string> text = check_.Follow(*view, page, where);
    if (on_value_) on_value_({*view, text, position, page, where});
  }

  CollectionCheck& check_;
  const std::function<void(const ListValue&)>& on_value_;
  const PageId owner_;
  const uint32_t page_size_;
  std::optional<uint64_t> position_ = 0;  // index of the next value, unknown after a lost page
};

}  // namespace

std::optional<uint64_t> CheckListTree(CollectionCheck& check, PageGuard header,
                                      const std::function<void(const ListValue&)>& on_value) {
  return TreeWalk(check, on_value).Run(std::move(header));
}

}  // namespace pagefs
