#include "pager/collections/kind_registry.h"

#include <string>
#include <utility>

#include "pager/util/error.h"

namespace pagefs {

void KindRegistry::Add(CollectionKind kind, KindHooks hooks) {
  const auto id = static_cast<uint8_t>(kind);
  const std::string what = "collection kind " + std::to_string(id) + " (" + hooks.name + ")";
  if (!hooks.destroy || !hooks.verify) {
    throw Error(ErrorCode::kInvalidArgument, what + " needs both a destroy and a verify hook");
  }
  if (!kinds_.emplace(id, std::move(hooks)).second) {
    throw Error(ErrorCode::kInvalidArgument,
                what + " is registered already, as " + kinds_.at(id).name);
  }
}

const KindHooks* KindRegistry::Find(uint8_t kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

const KindHooks& KindRegistry::Get(uint8_t kind, PageId collection) const {
  const KindHooks* hooks = Find(kind);
  if (hooks == nullptr) {
    throw Error(ErrorCode::kCorruption, "collection " + std::to_string(collection) +
                                            " has unknown kind " + std::to_string(kind));
  }
  return *hooks;
}

std::vector<uint8_t> KindRegistry::referenceable() const {
  std::vector<uint8_t> out;
  for (const auto& [id, hooks] : kinds_) {
    if (hooks.referenceable) out.push_back(id);
  }
  return out;
}

}  // namespace pagefs
