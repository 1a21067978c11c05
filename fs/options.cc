#include "fs/options.h"

#include <charconv>
#include <cstring>

#include "pager/store.h"
#include "pager/util/error.h"
#include "pager/util/size.h"

namespace pagefs::fs {

namespace {

enum Key {
  kKeyCacheSize,
  kKeyRemote,
  kKeyLocalCacheSize,
  kKeyThreads,
  kKeyLog,
  kKeyReadOnly,
  kKeyForeground,
  kKeyDebug,
  kKeyHelp,
  kKeyVersion,
};

const fuse_opt kSpec[] = {
    FUSE_OPT_KEY("cache_size=", kKeyCacheSize),
    FUSE_OPT_KEY("remote=", kKeyRemote),
    FUSE_OPT_KEY("local_cache_size=", kKeyLocalCacheSize),
    FUSE_OPT_KEY("threads=", kKeyThreads),
    FUSE_OPT_KEY("log=", kKeyLog),
    FUSE_OPT_KEY("ro", kKeyReadOnly),
    FUSE_OPT_KEY("-f", kKeyForeground),
    FUSE_OPT_KEY("-d", kKeyDebug),
    FUSE_OPT_KEY("debug", kKeyDebug),
    FUSE_OPT_KEY("-h", kKeyHelp),
    FUSE_OPT_KEY("--help", kKeyHelp),
    FUSE_OPT_KEY("-V", kKeyVersion),
    FUSE_OPT_KEY("--version", kKeyVersion),
    FUSE_OPT_END,
};

struct ParseState {
  MountOptions* out;
  std::string error;
};

std::string_view ValueOf(const char* arg) {
  const char* eq = std::strchr(arg, '=');
  return eq ? std::string_view(eq + 1) : std::string_view();
}

// fuse_opt callback: 0 drops the argument, 1 keeps it for libfuse, -1 stops.
int Process(void* data, const char* arg, int key, fuse_args* /*outargs*/) {
  auto* state = static_cast<ParseState*>(data);
  MountOptions& o = *state->out;
  switch (key) {
    case FUSE_OPT_KEY_NONOPT:
      if (o.root.empty()) {
        o.root = arg;
      } else if (o.mountpoint.empty()) {
        o.mountpoint = arg;
      } else {
        state->error = std::string("unexpected argument '") + arg +
                       "' (usage: pagefs-mount ROOT MOUNTPOINT [options])";
        return -1;
      }
      return 0;
    case kKeyCacheSize: try { o.cache_size = ParseCacheSize(ValueOf(arg));
      } catch (const Error& e) {
        state->error = e.what();
        return -1;
      }
      return 0;
    case kKeyRemote:
      o.remote = std::string(ValueOf(arg));
      if (o.remote.empty()) {
        state->error = "invalid remote=: expected s3://BUCKET[/PREFIX]";
        return -1;
      }
      return 0;
    case kKeyLocalCacheSize: try { o.local_cache_size = ParseSize(ValueOf(arg), "local_cache_size");
      } catch (const Error& e) {
        state->error = e.what();
        return -1;
      }
      return 0;
    case kKeyThreads: {
      const std::string_view text = ValueOf(arg);
      unsigned n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || n == 0 || n > 256) {
        state->error = std::string("invalid threads '") + std::string(ValueOf(arg)) +
                       "': expected a number from 1 to 256";
        return -1;
      }
      o.threads = n;
      return 0;
    }
    case kKeyLog:
      o.log_file = std::string(ValueOf(arg));
      if (o.log_file.empty()) {
        state->error = "invalid log=: expected a file name";
        return -1;
      }
      return 0;
    case kKeyReadOnly:
      o.read_only = true;
      return 0;  // enforced by the daemon (EROFS), so .control still works
    case kKeyForeground: o.foreground = true; return 0;
    case kKeyDebug:
      o.debug = true;
      o.foreground = true;
      return 1;  // libfuse prints every request
    case kKeyHelp: o.show_help = true; return 0;
    case kKeyVersion: o.show_version = true; return 0;
    default: return 1;  // FUSE_OPT_KEY_OPT: libfuse's or the kernel's
  }
}

}  // namespace

uint64_t ParseCacheSize(std::string_view text) {
  const uint64_t bytes = ParseSize(text, "cache_size");
  CheckCacheSize(bytes);  // the engine's floor, as init() and Store() check it
  return bytes;
}

std::string ParseMountOptions(int argc, char** argv, MountOptions& out, fuse_args& fuse_out) {
  fuse_args in = FUSE_ARGS_INIT(argc, argv);
  ParseState state{&out, ""};
  // fuse_opt_parse writes the kept arguments to `in`'s copy; move them out.
  if (fuse_opt_parse(&in, &state, kSpec, Process) != 0) {
    fuse_opt_free_args(&in);
    return state.error.empty() ? "invalid arguments (see pagefs-mount --help)" : state.error;
  }
  fuse_out = in;
  if (out.show_help || out.show_version) return "";
  if (out.root.empty() || out.mountpoint.empty()) {
    return "missing ROOT or MOUNTPOINT (usage: pagefs-mount ROOT MOUNTPOINT [-f] [-d] [-o "
           "options])";
  }
  if (out.remote.empty() && out.local_cache_size != MountOptions{}.local_cache_size) {
    return "local_cache_size= is the cache of a remote store: give remote= too";
  }
  return "";
}

const char* UsageText() {
  return "usage: pagefs-mount ROOT MOUNTPOINT [-f] [-d] [-o option[,option...]]\n"
         "\n"
         "Mounts every prefix folder of the pagefs store ROOT at MOUNTPOINT.\n"
         "\n"
         "  -f                  stay in the foreground\n"
         "  -d                  print every FUSE request (implies -f)\n"
         "  -o cache_size=SIZE  the daemon's cache budget, split evenly among the\n"
         "                      prefixes (bytes, or K/M/G/T: 64M, 1.5G; default 64M)\n"
         "  -o remote=URL       keep every prefix in the S3 bucket s3://BUCKET[/PREFIX]\n"
         "                      (endpoint and credentials from the AWS_* variables and\n"
         "                      ~/.aws); ROOT holds only their local caches\n"
         "  -o local_cache_size=SIZE  local disk for fetched pages, split among the\n"
         "                      prefixes (default 256M; with remote=)\n"
         "  -o ro               read-only: writes fail with EROFS, no writer lock taken\n"
         "  -o threads=N        most FUSE worker threads (default 8)\n"
         "  -o log=FILE         where the background daemon writes its messages\n"
         "  -o allow_other, fsname=..., ... are passed to libfuse and the kernel\n";
}

}  // namespace pagefs::fs
