// BuiltinKinds: the kinds every store knows.
#include "pager/collections/builtin_kinds.h"

#include <gtest/gtest.h>

namespace pagefs {
namespace {

TEST(BuiltinKindsTest, HoldsEveryKindBuiltOnce) {
  const KindRegistry& kinds = BuiltinKinds();
  EXPECT_EQ(&kinds, &BuiltinKinds());
  const KindHooks& list = kinds.Get(static_cast<uint8_t>(CollectionKind::kList), 1);
  EXPECT_EQ("list", list.name);
  EXPECT_TRUE(list.referenceable);
  const KindHooks& root = kinds.Get(static_cast<uint8_t>(CollectionKind::kRootMap), 1);
  EXPECT_EQ("root map", root.name);
  EXPECT_FALSE(root.referenceable) << "only the anchor refers to the root map";
  EXPECT_EQ("dict", kinds.Get(static_cast<uint8_t>(CollectionKind::kDict), 1).name);
  EXPECT_EQ("set", kinds.Get(static_cast<uint8_t>(CollectionKind::kSet), 1).name);
  EXPECT_EQ((std::vector<uint8_t>{static_cast<uint8_t>(CollectionKind::kList),
                                  static_cast<uint8_t>(CollectionKind::kDict),
                                  static_cast<uint8_t>(CollectionKind::kSet)}),
            kinds.referenceable());
}

}  // namespace
}  // namespace pagefs
