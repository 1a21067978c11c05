#include "pager/store_folders.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pager/store.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

TEST(StoreFoldersTest, StoresAreFoldersWithSegmentsEvenDamagedOnes) {
  const fs::path root =
      fs::temp_directory_path() / ("pagefs-folders-" + std::to_string(::getpid()));
  fs::remove_all(root);
  { Store::Open(root, "real", {})->Close(); }
  fs::create_directories(root / "damaged");
  std::ofstream(root / "damaged" / "segment-00001.pfs") << "x";  // no segment 0: still a store
  fs::create_directories(root / "empty");
  fs::create_directories(root / "notes");
  std::ofstream(root / "notes" / "todo.txt") << "not a store";
  fs::create_directories(root / ".hidden");
  std::ofstream(root / ".hidden" / "segment-00000.pfs") << "x";  // not a valid prefix name
  std::ofstream(root / "file.pfs") << "x";

  EXPECT_TRUE(IsStoreFolder(root / "real"));
  EXPECT_TRUE(IsStoreFolder(root / "damaged"));
  EXPECT_FALSE(IsStoreFolder(root / "empty"));
  EXPECT_FALSE(IsStoreFolder(root / "notes"));
  EXPECT_FALSE(IsStoreFolder(root / "missing"));
  EXPECT_EQ(ListStoreFolders(root), (std::vector<std::string>{"damaged", "real"}));
  EXPECT_EQ(ListStoreFolders(root, StoreFolders::kStoresAndEmpty),
            (std::vector<std::string>{"damaged", "empty", "real"}));
  try {
    ListStoreFolders(root / "missing");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace pagefs
