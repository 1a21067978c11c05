// MountOptions: everything the command line of pagefs-mount says, parsed once
// with fuse_opt. Options that belong to libfuse or the kernel (allow_other,
// ro, fsname=..., -d) are passed on in the fuse_args that ParseMountOptions
// fills; libfuse rejects the ones it does not know.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pagefs::fs {

struct MountOptions {
  std::string root;
  std::string mountpoint;
  uint64_t cache_size = 64ull << 20;  // the daemon's whole budget, split among prefixes
  bool read_only = false;
  bool foreground = false;
  bool debug = false;
  bool show_help = false;
  bool show_version = false;
  unsigned threads = 8;  // most FUSE worker threads
  std::string log_file;  // where the daemon's stderr goes once it runs in the background
  // s3://BUCKET[/PREFIX]: every prefix is a remote store in that bucket
  // (StoreOptions::remote); ROOT holds their local caches.
  std::string remote;
  uint64_t local_cache_size = 256ull << 20;  // the local caches' whole size, split among prefixes
};

// The daemon's budget from `-o cache_size=` or a .control line: a size in the
// engine's one grammar (pager/util/size.h: "64M", "1.5G", "262144"), at
// least the engine's floor (kMinCacheSize, 1 MiB). Throws Error(kInvalidArgument) or
// Error(kTooLarge) saying why not.
uint64_t ParseCacheSize(std::string_view text);

// Parses argv into out and fuse_out. Returns "" on success, else one line
// saying what is wrong (without a program-name prefix).
std::string ParseMountOptions(int argc, char** argv, MountOptions& out, fuse_args& fuse_out);

const char* UsageText();

}  // namespace pagefs::fs
