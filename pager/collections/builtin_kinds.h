// BuiltinKinds: the registry of every collection kind pagefs has, the one the
// Store gives its heap (unless StoreOptions::kinds names another) and
// `pagefs check` verifies with. A new kind adds one line to builtin_kinds.cc.
#pragma once

#include "pager/collections/kind_registry.h"

namespace pagefs {

// Built on first use (a function-local static: no static-initialization
// order to get wrong), then shared, read-only, by every store.
const KindRegistry& BuiltinKinds();

}  // namespace pagefs
