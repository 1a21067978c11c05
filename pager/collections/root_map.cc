#include "pager/collections/root_map.h"

#include <optional>
#include <utility>

#include "pager/collections/list_tree.h"
#include "pager/collections/list_tree_check.h"
#include "pager/collections/op_scope.h"

namespace pagefs {
namespace {

std::string KeyOf(std::string_view encoded) {
  return std::string(Decode(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()).data);
}

}  // namespace

std::pair<uint64_t, bool> RootMap::Find(ListTree& tree, std::string_view name) {
  uint64_t lo = 0, hi = tree.size() / 2;
  std::string key;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    tree.Get(2 * mid, [&](std::string_view enc) { key = KeyOf(enc); });
    if (key < name) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  bool found = false;
  if (lo < tree.size() / 2)
    tree.Get(2 * lo, [&](std::string_view enc) { found = KeyOf(enc) == name; });
  return {lo, found};
}

template <typename Fn>
auto RootMap::Locked(bool create, Fn&& fn) {
  OpScope scope(heap_, heap_.root_map_mu());
  return fn(heap_.RootMapId(create));
}

bool RootMap::Get(std::string_view name, const PersistentList::Visitor& fn) {
  return Locked(false, [&](PageId id) {
    if (id == kNoPage) return false;
    ListTree tree(heap_, id);
    auto [pos, found] = Find(tree, name);
    if (found) tree.Get(2 * pos + 1, fn);
    return found;
  });
}

void RootMap::Set(std::string_view name, std::string_view encoded) {
  Locked(true, [&](PageId id) {
    ListTree tree(heap_, id);
    auto [pos, found] = Find(tree, name);
    if (found) {
      tree.Set(2 * pos + 1, encoded);
      return;
    }
    std::string key;
    EncodeStr(key, name);
    // Value first: if it is rejected, no key is left without a value.
    tree.Insert(2 * pos, encoded);
    tree.Insert(2 * pos, key);
  });
}

bool RootMap::Erase(std::string_view name) {
  return Locked(false, [&](PageId id) {
    if (id == kNoPage) return false;
    ListTree tree(heap_, id);
    auto [pos, found] = Find(tree, name);
    if (found) tree.Erase(2 * pos, 2 * pos + 2);
    return found;
  });
}

std::vector<std::string> RootMap::Keys() {
  return Locked(false, [&](PageId id) {
    std::vector<std::string> keys;
    if (id == kNoPage) return keys;
    bool is_key = true;  // keys and values alternate
    ListTree(heap_, id).Scan(0, UINT64_MAX, [&](std::string_view enc) {
      if (is_key) keys.push_back(KeyOf(enc));
      is_key = !is_key;
    });
    return keys;
  });
}

uint64_t RootMap::size() {
  return Locked(false, [&](PageId id) -> uint64_t {
    return id == kNoPage ? 0 : ListTree(heap_, id).size() / 2;
  });
}

namespace {

// The root map's verifier: the list tree's walk, and its keys (the values at
// even positions) strs, each after the one before.
std::optional<uint64_t> VerifyRootMap(CollectionCheck& check, PageGuard header) {
  std::optional<std::string> previous;  // the key before, when known
  const auto on_value = [&](const ListValue& v) {
    if (!v.position || *v.position % 2 != 0) return;
    const std::string key =
        "key " + std::to_string(*v.position / 2) + " of the root map (" + v.where + ")";
    if (v.view.kind != ValueView::Kind::kStr && v.view.kind != ValueView::Kind::kBlobStr) {
      check.Problem("root_map", v.page, key + " is not a str");
      previous.reset();
      return;
    }
    if (!v.text) {
      previous.reset();
      return;
    }
    if (previous && !(*previous < *v.text))
      check.Problem("root_map", v.page, key + " is not after the key before it");
    previous = *v.text;
  };
  const PageId id = check.collection();
  std::optional<uint64_t> entries = CheckListTree(check, std::move(header), on_value);
  if (!entries) return std::nullopt;
  if (*entries % 2 != 0) {
    check.Problem("root_map", id,
                  "the root map holds an odd number of entries (" + std::to_string(*entries) + ")");
  }
  return *entries / 2;
}

}  // namespace

void RootMap::RegisterKind(KindRegistry& kinds) {
  KindHooks hooks;
  hooks.name = "root map";
  hooks.referenceable = false;
  hooks.destroy = &PersistentList::Destroy;
  hooks.verify = &VerifyRootMap;
  kinds.Add(CollectionKind::kRootMap, std::move(hooks));
}

}  // namespace pagefs
