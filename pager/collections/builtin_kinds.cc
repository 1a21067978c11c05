#include "pager/collections/builtin_kinds.h"

#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"

namespace pagefs {

const KindRegistry& BuiltinKinds() {
  static const KindRegistry kinds = [] {
    KindRegistry r;
    PersistentList::RegisterKind(r);
    RootMap::RegisterKind(r);
    PersistentHash::RegisterKinds(r);
    return r;
  }();
  return kinds;
}

}  // namespace pagefs
