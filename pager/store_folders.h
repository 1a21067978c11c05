// Which folders of a root folder are stores: the one answer the daemon
// (which prefixes to show) and `pagefs check` (which prefixes to check) use.
// A store folder holds segment files (segment-NNNNN.pfs, pager/segment_tier.h),
// intact or not: a damaged store is still a store, to be opened (and refused)
// or checked (and reported), never taken for a stranger's folder.
#pragma once

#include <string>
#include <vector>

namespace pagefs {

// Whether dir holds a store's segment files.
bool IsStoreFolder(const std::string& dir);

enum class StoreFolders {
  kStores,          // folders holding a store
  kStoresAndEmpty,  // and empty folders, where Store::Open makes a new store
};

// The folders of root that `which` names and whose names are valid prefixes
// (ValidatePrefix: none starting with '.'), sorted. Throws Error(kNotFound)
// when root is not a folder, Error(kIo) when it cannot be listed.
std::vector<std::string> ListStoreFolders(const std::string& root,
                                          StoreFolders which = StoreFolders::kStores);

// The prefixes that hold a store in the bucket of url (s3://BUCKET[/PREFIX]:
// every PREFIX/<name>/head, with name a valid prefix), sorted; the AWS
// settings of the environment. Throws as RemoteEnv's constructor does.
std::vector<std::string> RemoteStorePrefixes(const std::string& url);

}  // namespace pagefs
