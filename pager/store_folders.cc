#include "pager/store_folders.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "pager/store.h"
#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/s3_config.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

// What dir holds: a segment file (true), nothing at all (empty set), or
// neither. A folder that cannot be read holds nothing we know of.
struct FolderContents {
  bool segments = false;
  bool empty = true;
};

FolderContents Look(const std::string& dir) {
  FolderContents c;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return {false, false};
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    c.empty = false;
    if (name.starts_with("segment-") && name.ends_with(".pfs")) {
      c.segments = true;
      break;
    }
  }
  ::closedir(d);
  return c;
}

}  // namespace

bool IsStoreFolder(const std::string& dir) { return Look(dir).segments; }

std::vector<std::string> ListStoreFolders(const std::string& root, StoreFolders which) {
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw Error(ErrorCode::kNotFound, "no store root folder " + root);
    }
    throw Error::FromErrno(err, "list store root " + root);
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    try {
      ValidatePrefix(name);
    } catch (const Error&) {
      continue;
    }
    const std::string path = root + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    const FolderContents c = Look(path);
    if (c.segments || (which == StoreFolders::kStoresAndEmpty && c.empty)) names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> RemoteStorePrefixes(const std::string& url) {
  std::unique_ptr<S3Client> client = S3Client::Connect(S3ConfigFor(url));
  std::vector<ObjectInfo> objects;
  try {
    objects = client->List("");
  } catch (const Error& e) {
    throw Error(e.code(), "cannot list the remote stores of " + url + ": " + e.what(),
                e.sys_errno());
  }
  std::vector<std::string> out;
  constexpr std::string_view kHead = "/head";
  for (const ObjectInfo& o : objects) {
    const std::string& n = o.name;
    if (n.size() <= kHead.size() || n.compare(n.size() - kHead.size(), kHead.size(), kHead) != 0) {
      continue;
    }
    std::string name = n.substr(0, n.size() - kHead.size());
    try {
      ValidatePrefix(name);
    } catch (const Error&) {
      continue;  // deeper keys, or a name no folder can have
    }
    out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace pagefs
