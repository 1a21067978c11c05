#include "fs/options.h"

#include <cctype>
#include <cstring>
#include <limits>

namespace pagefs::fs {

namespace {

enum Key {
  kKeyCacheSize,
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
        state->error = std::string("unexpected argument '") + arg + "' (usage: pagefs-mount ROOT MOUNTPOINT [options])";
        return -1;
      }
      return 0;
    case kKeyCacheSize: {
      std::optional<uint64_t> size = ParseSize(ValueOf(arg));
      if (!size || *size == 0) {
        state->error = std::string("invalid cache_size '") + std::string(ValueOf(arg)) +
                       "': expected a size such as 64M, 1G or 262144";
        return -1;
      }
      o.cache_size = *size;
      return 0;
    }
    case kKeyThreads: {
      std::optional<uint64_t> n = ParseSize(ValueOf(arg));
      if (!n || *n == 0 || *n > 256) {
        state->error = std::string("invalid threads '") + std::string(ValueOf(arg)) +
                       "': expected a number from 1 to 256";
        return -1;
      }
      o.threads = static_cast<unsigned>(*n);
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
    case kKeyForeground:
      o.foreground = true;
      return 0;
    case kKeyDebug:
      o.debug = true;
      o.foreground = true;
      return 1;  // libfuse prints every request
    case kKeyHelp:
      o.show_help = true;
      return 0;
    case kKeyVersion:
      o.show_version = true;
      return 0;
    default:
      return 1;  // FUSE_OPT_KEY_OPT: libfuse's or the kernel's
  }
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view suffix = text.substr(i);
  unsigned shift = 0;
  if (!suffix.empty()) {
    switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      case 'B': shift = 0; break;
      default: return std::nullopt;
    }
    std::string_view rest = suffix.substr(1);
    if (suffix[0] == 'B' || suffix[0] == 'b') {
      if (!rest.empty()) return std::nullopt;
    } else if (!(rest.empty() || rest == "B" || rest == "b" || rest == "iB" || rest == "ib")) {
      return std::nullopt;
    }
  }
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) return std::nullopt;
  return value << shift;
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
    return "missing ROOT or MOUNTPOINT (usage: pagefs-mount ROOT MOUNTPOINT [-f] [-d] [-o options])";
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
         "                      prefixes (K/M/G suffixes; default 64M)\n"
         "  -o ro               read-only: writes fail with EROFS, no writer lock taken\n"
         "  -o threads=N        most FUSE worker threads (default 8)\n"
         "  -o log=FILE         where the background daemon writes its messages\n"
         "  -o allow_other, fsname=..., ... are passed to libfuse and the kernel\n";
}

}  // namespace pagefs::fs
