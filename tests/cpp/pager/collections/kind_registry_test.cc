// KindRegistry: registering kinds and finding them by their kind byte.
#include "pager/collections/kind_registry.h"

#include <gtest/gtest.h>

#include <string>

#include "pager/testing/error_code.h"

namespace pagefs {
namespace {

constexpr auto kTen = static_cast<CollectionKind>(10);
constexpr auto kEleven = static_cast<CollectionKind>(11);

KindHooks Hooks(const std::string& name, bool referenceable = true) {
  KindHooks h;
  h.name = name;
  h.referenceable = referenceable;
  h.destroy = [](Heap&, PageId) {};
  h.verify = [](CollectionCheck&, PageGuard) -> std::optional<uint64_t> { return 0; };
  return h;
}

TEST(KindRegistryTest, KindsAreFoundByTheirByteAndOthersAreNot) {
  KindRegistry r;
  r.Add(kEleven, Hooks("eleven"));
  r.Add(kTen, Hooks("ten"));
  ASSERT_NE(nullptr, r.Find(10));
  EXPECT_EQ("ten", r.Find(10)->name);
  EXPECT_EQ("eleven", r.Get(11, 5).name);
  EXPECT_EQ(nullptr, r.Find(12));
  EXPECT_EQ(nullptr, KindRegistry().Find(10));
}

TEST(KindRegistryTest, AnUnknownKindIsCorruptionNamingTheCollectionAndTheKind) {
  KindRegistry r;
  r.Add(kTen, Hooks("ten"));
  std::string msg;
  EXPECT_EQ(ErrorCode::kCorruption, CodeOf([&] { r.Get(77, 1234); }, &msg));
  EXPECT_EQ("collection 1234 has unknown kind 77", msg);
}

TEST(KindRegistryTest, AKindIsRegisteredOnce) {
  KindRegistry r;
  r.Add(kTen, Hooks("ten"));
  std::string msg;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { r.Add(kTen, Hooks("dix")); }, &msg));
  EXPECT_EQ("collection kind 10 (dix) is registered already, as ten", msg);
  EXPECT_EQ("ten", r.Find(10)->name);
}

TEST(KindRegistryTest, AKindNeedsBothHooks) {
  KindRegistry r;
  KindHooks no_verify = Hooks("ten");
  no_verify.verify = nullptr;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { r.Add(kTen, no_verify); }));
  KindHooks no_destroy = Hooks("ten");
  no_destroy.destroy = nullptr;
  EXPECT_EQ(ErrorCode::kInvalidArgument, CodeOf([&] { r.Add(kTen, no_destroy); }));
  EXPECT_EQ(nullptr, r.Find(10));
}

TEST(KindRegistryTest, ReferenceableKindsInKindOrder) {
  KindRegistry r;
  r.Add(kEleven, Hooks("eleven"));
  r.Add(static_cast<CollectionKind>(3), Hooks("root", /*referenceable=*/false));
  r.Add(kTen, Hooks("ten"));
  EXPECT_EQ((std::vector<uint8_t>{10, 11}), r.referenceable());
}

}  // namespace
}  // namespace pagefs
