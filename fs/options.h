// MountOptions: everything the command line of pagefs-mount says, parsed once
// with fuse_opt. Options that belong to libfuse or the kernel (allow_other,
// ro, fsname=..., -d) are passed on in the fuse_args that ParseMountOptions
// fills; libfuse rejects the ones it does not know.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <optional>
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
  unsigned threads = 8;     // most FUSE worker threads
  std::string log_file;     // where the daemon's stderr goes once it runs in the background
};

// "64M", "1G", "4096", "512k": bytes. K/M/G/T are powers of 1024, an optional
// trailing "B"/"iB" is accepted. nullopt for anything else or an overflow.
std::optional<uint64_t> ParseSize(std::string_view text);

// Parses argv into out and fuse_out. Returns "" on success, else one line
// saying what is wrong (without a program-name prefix).
std::string ParseMountOptions(int argc, char** argv, MountOptions& out, fuse_args& fuse_out);

const char* UsageText();

}  // namespace pagefs::fs
