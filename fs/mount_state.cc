#include "fs/mount_state.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "pager/error.h"

namespace pagefs::fs {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

bool IsEmptyFolder(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return false;
  bool empty = true;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

// Prefix folders of root: subfolders whose names the engine accepts.
std::vector<std::string> ListPrefixes(const std::string& root) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) throw Error::FromErrno(errno, "open root folder " + root);
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string path = root + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    // A store's folder, or an empty one (a new prefix, made with mkdir);
    // other folders are left alone rather than turned into stores.
    if (::stat((path + "/segment-00000.pfs").c_str(), &st) != 0 && !IsEmptyFolder(path)) continue;
    try {
      ValidatePrefix(name);
    } catch (const Error&) {
      continue;
    }
    names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Mount::Mount(const MountOptions& options)
    : options_(options), budget_(options.cache_size), started_ns_(NowNs()) {
  std::vector<std::string> names = ListPrefixes(options.root);
  if (names.size() > kMaxPrefixes) {
    throw Error(ErrorCode::kInvalidArgument,
                options.root + " has more prefixes than one mount can show");
  }
  const uint64_t share = names.empty() ? options.cache_size : options.cache_size / names.size();
  for (const std::string& name : names) {
    StoreOptions so;
    so.cache_size = share;
    so.read_only = options.read_only;
    auto view = std::make_unique<PrefixView>();
    view->name = name;
    view->store = Store::Open(options.root, name, so);
    view->page_size = view->store->stats().page_size;
    view->modified_ns = started_ns_;
    view->committed_ns = started_ns_;
    prefixes_.push_back(std::move(view));
  }
}

PrefixView* Mount::prefix(uint32_t index) const {
  return index < prefixes_.size() ? prefixes_[index].get() : nullptr;
}

int64_t Mount::FindPrefix(std::string_view name) const {
  for (size_t i = 0; i < prefixes_.size(); ++i) {
    if (prefixes_[i]->name == name) return static_cast<int64_t>(i);
  }
  return -1;
}

void Mount::SetCacheSize(uint64_t bytes) {
  budget_.store(bytes);
  if (prefixes_.empty()) return;
  const uint64_t share = bytes / prefixes_.size();
  for (auto& p : prefixes_) p->store->set_cache_size(share);
}

void Mount::Commit(PrefixView& prefix) {
  if (read_only()) return;
  prefix.store->Commit();
  prefix.committed_ns = NowNs();
}

void Mount::CommitAll() {
  for (auto& p : prefixes_) Commit(*p);
}

void Mount::FlushAll() {
  if (read_only()) return;
  for (auto& p : prefixes_) p->store->Flush();
}

bool Mount::Close() {
  bool ok = true;
  for (auto& p : prefixes_) {
    try {
      p->store->Close();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pagefs-mount: error: closing prefix '%s': %s\n", p->name.c_str(),
                   e.what());
      ok = false;
    }
  }
  return ok;
}

}  // namespace pagefs::fs
