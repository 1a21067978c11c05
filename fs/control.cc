#include "fs/control.h"

#include <cctype>
#include <string>
#include <vector>

#include "fs/options.h"
#include "pager/util/error.h"

namespace pagefs::fs {

namespace {

struct Command {
  enum Kind { kCacheSize, kCommit, kFlush } kind;
  uint64_t bytes = 0;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Command Parse(std::string_view line) {
  if (line == "commit") return {Command::kCommit};
  if (line == "flush") return {Command::kFlush};
  constexpr std::string_view kCache = "cache_size=";
  if (line.substr(0, kCache.size()) == kCache) {
    return {Command::kCacheSize, ParseCacheSize(line.substr(kCache.size()))};
  }
  throw Error(ErrorCode::kInvalidArgument, "unknown .control command '" + std::string(line) + "'");
}

}  // namespace

void RunControl(Mount& mount, std::string_view text, Invalidations& after) {
  std::vector<Command> commands;
  while (!text.empty()) {
    size_t cut = text.find_first_of("\n;");
    std::string_view line = Trim(text.substr(0, cut));
    text = cut == std::string_view::npos ? std::string_view() : text.substr(cut + 1);
    if (line.empty() || line[0] == '#') continue;
    commands.push_back(Parse(line));
  }
  if (commands.empty()) throw Error(ErrorCode::kInvalidArgument, "empty .control command");
  for (const Command& c : commands) {
    if (c.kind != Command::kCacheSize && mount.read_only()) {
      throw Error(ErrorCode::kReadOnly, "the mount is read-only");
    }
  }
  for (const Command& c : commands) {
    switch (c.kind) {
      case Command::kCacheSize: mount.SetCacheSize(c.bytes); break;
      case Command::kCommit: mount.CommitAll(after); break;
      case Command::kFlush: mount.FlushAll(); break;
    }
  }
}

}  // namespace pagefs::fs
