// pagefs-mount: mounts a pagefs root folder (every prefix in it) with FUSE.
//
//   pagefs-mount ROOT MOUNTPOINT [-f] [-d] [-o cache_size=SIZE,ro,allow_other,...]
//
// Without -f it forks; the parent returns only when the child has opened the
// stores and mounted (exit 0), or prints the child's one-line reason and exits
// 1. So `pagefs mount` (and mount.fuse3 for an fstab line of type fuse.pagefs)
// returns with a usable mount or a clear error, and nothing is left behind on
// an error. On unmount (or SIGTERM/SIGINT) the daemon commits every prefix,
// releases the writer locks and exits.
#include <dirent.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "fs/connection_guard.h"
#include "fs/mount_state.h"
#include "fs/mountinfo.h"
#include "fs/ops.h"
#include "fs/options.h"
#include "pager/util/background_thread.h"
#include "pager/util/error.h"

namespace pagefs::fs {
namespace {

constexpr char kProgram[] = "pagefs-mount";

// Where startup reports go: the terminal (foreground) or the pipe to the
// waiting parent (background), which prints them.
class Startup {
 public:
  explicit Startup(int fd) : fd_(fd) {}
  void Fail(const std::string& message) {
    std::string line = "ERR " + message + "\n";
    if (fd_ >= 0) {
      (void)!::write(fd_, line.data(), line.size());
    } else {
      std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
    }
  }
  void Ready() {
    if (fd_ < 0) return;
    (void)!::write(fd_, "OK\n", 3);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

bool IsMountPoint(const std::string& path) { return !MountDevice(path).empty(); }

// Checks made before anything is created. Returns "" or the reason.
std::string CheckPaths(MountOptions& o) {
  struct stat st;
  if (::stat(o.root.c_str(), &st) != 0) {
    return "store root " + o.root + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "store root " + o.root + " is not a folder";
  char resolved[PATH_MAX];
  if (::realpath(o.root.c_str(), resolved) == nullptr) {
    return "store root " + o.root + ": " + std::strerror(errno);
  }
  o.root = resolved;
  if (::stat(o.mountpoint.c_str(), &st) != 0) {
    if (errno == ENOTCONN) {
      return "mountpoint " + o.mountpoint +
             " is a dead FUSE mount (its daemon is gone); run 'pagefs umount " + o.mountpoint +
             "' first";
    }
    return "mountpoint " + o.mountpoint + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "mountpoint " + o.mountpoint + " is not a folder";
  if (::realpath(o.mountpoint.c_str(), resolved) == nullptr) {
    return "mountpoint " + o.mountpoint + ": " + std::strerror(errno);
  }
  if (IsMountPoint(resolved)) {
    if (DIR* dir = ::opendir(resolved)) {
      ::closedir(dir);
    } else if (errno == ENOTCONN) {
      return "mountpoint " + o.mountpoint +
             " is a dead FUSE mount (its daemon is gone); run 'pagefs umount " + o.mountpoint +
             "' first";
    }
    return "mountpoint " + o.mountpoint + " is in use: something is already mounted there";
  }
  // One inside the other: the daemon would reach its stores through its own
  // mount (and wait on itself), or make the mountpoint a prefix.
  const std::string mp = resolved;
  auto within = [](const std::string& inner, const std::string& outer) {
    return inner == outer || outer == "/" ||
           (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
            inner[outer.size()] == '/');
  };
  if (within(mp, o.root) || within(o.root, mp)) {
    return "mountpoint " + o.mountpoint + " and store root " + o.root +
           " overlap: mount outside the store root";
  }
  if (DIR* dir = ::opendir(mp.c_str())) {
    bool empty = true;
    while (const dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    }
    ::closedir(dir);
    if (!empty) {
      return "mountpoint " + o.mountpoint + " is not empty: the mount would hide its files";
    }
  }
  o.mountpoint = mp;
  if (!o.log_file.empty() && !o.foreground) {
    // Opened here, where the error can still be told; the background daemon
    // opens it again (RedirectStdio) and would otherwise log to nowhere.
    const int fd = ::open(o.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return "log=" + o.log_file + ": " + std::strerror(errno);
    ::close(fd);
  }
  return "";
}

void RedirectStdio(const std::string& log_file) {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int err_fd = null_fd;
  if (!log_file.empty()) {
    int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) err_fd = fd;
  }
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
  }
  if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
  if (err_fd != null_fd && err_fd > STDERR_FILENO) ::close(err_fd);
  if (null_fd > STDERR_FILENO) ::close(null_fd);
}

// The kernel reads ahead of a cached sequential read in windows of the mount's
// read_ahead_kb, 128 KiB by default, and the FUSE_INIT reply can only lower
// it: each read request then carries 128 KiB although a request may carry
// 1 MiB, and sequential reads of data ran at half the speed. Raised through
// sysfs once the kernel has the INIT reply: the stat of the mountpoint, sent
// from a thread while the loop serves, returns only after it. Larger windows
// are slower, not faster: passes over a 102 MiB data under a 64 MiB budget ran
// at 1.7, 2.0-2.2, 2.7-3.1, 2.5 and 1.9-2.0 GB/s at 256, 512, 1024, 2048 and
// 4096 KiB (more in flight churns the kernel's share). Mapped readers are
// not read around (MADV_RANDOM, pager/space/mount_mapping.h).
constexpr int kReadaheadKiB = 1024;  // libfuse 3.14 negotiates 1 MiB requests

// device: this mount's, read when it was made; the stat must find it still
// there (not the folder under it, whose disk's readahead is not ours to set).
void RaiseReadahead(const std::string& mountpoint, const std::string& device) {
  struct stat st;
  if (device.empty() || ::stat(mountpoint.c_str(), &st) != 0) return;
  if (std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) != device) return;
  const std::string path = "/sys/class/bdi/" + device + "/read_ahead_kb";
  std::ofstream out(path);
  out << kReadaheadKiB << std::flush;
  if (!out) {
    std::fprintf(stderr, "%s: note: readahead stays at the kernel's default (cannot write %s)\n",
                 kProgram, path.c_str());
  }
}

// Opens the stores, mounts, serves until unmounted, then commits and closes.
int Serve(const MountOptions& options, fuse_args& args, Startup& startup) {
  // Stop signals must reach the main thread: libfuse's handler only marks the
  // session exited, and the main thread, waiting in the loop, is the one that
  // then ends it (its workers block these signals). Delivered to another
  // thread, a SIGTERM left the daemon serving until some request came: every
  // thread of the engine's and the daemon's own blocks them
  // (StartBackgroundThread). Until the handlers are in, one ends the process
  // at once, a slow open of a remote store included.
  // First, while this process has one thread (the store's come next); it
  // outlives the unmount below.
  ConnectionGuard guard(options.mountpoint, options.foreground ? "" : options.log_file);
  std::unique_ptr<Mount> mount;
  try {
    mount = std::make_unique<Mount>(options);
  } catch (const std::exception& e) {
    startup.Fail(std::string("cannot open the store: ") + e.what());
    return 1;
  }
  const fuse_lowlevel_ops ops = MakeOperations();
  fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), mount.get());
  if (se == nullptr) {
    startup.Fail("libfuse refused the options");
    mount->Close();
    return 1;
  }
  if (fuse_set_signal_handlers(se) != 0) {
    startup.Fail("cannot install signal handlers");
    fuse_session_destroy(se);
    mount->Close();
    return 1;
  }
  if (fuse_session_mount(se, options.mountpoint.c_str()) != 0) {
    startup.Fail("cannot mount on " + options.mountpoint + " (see the fuse: message above)");
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    mount->Close();
    return 1;
  }
  const std::string device = MountDevice(options.mountpoint);
  guard.Mounted(device);
  mount->notifier().Start(se);
  if (!options.foreground) {
    RedirectStdio(options.log_file);
    (void)!::chdir("/");
  }
  startup.Ready();

  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, options.threads);
  fuse_loop_cfg_set_idle_threads(config, options.threads);
  std::thread readahead =
      StartBackgroundThread([&options, device] { RaiseReadahead(options.mountpoint, device); });
  int rc = fuse_session_loop_mt(se, config);
  fuse_loop_cfg_destroy(config);

  mount->notifier().Stop();
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  // Its stat was answered, or fails now: a stop before the loop answered
  // INIT leaves it waiting until the connection is gone.
  readahead.join();
  bool closed = mount->Close();
  return rc == 0 && closed ? 0 : 1;
}

// Background: fork; the parent waits for the child's first line.
int Daemonize(const MountOptions& options, fuse_args& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "%s: pipe: %s\n", kProgram, std::strerror(errno));
    return 1;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "%s: fork: %s\n", kProgram, std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    Startup startup(fds[1]);
    std::_Exit(Serve(options, args, startup));
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  if (line == "OK") return 0;
  if (line.rfind("ERR ", 0) == 0) {
    std::fprintf(stderr, "%s: %s\n", kProgram, line.c_str() + 4);
  } else {
    std::fprintf(stderr, "%s: the daemon exited during startup\n", kProgram);
  }
  return 1;
}

}  // namespace
}  // namespace pagefs::fs

int main(int argc, char** argv) {
  using namespace pagefs::fs;
  MountOptions options;
  fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  struct FreeArgs {
    fuse_args& a;
    ~FreeArgs() { fuse_opt_free_args(&a); }
  } free_args{args};
  std::string error = ParseMountOptions(argc, argv, options, args);
  if (!error.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    return 2;
  }
  if (options.show_help) {
    std::fputs(UsageText(), stdout);
    return 0;
  }
  if (options.show_version) {
    std::printf("pagefs-mount 0.1.0 (libfuse %s)\n", fuse_pkgversion());
    return 0;
  }
  error = CheckPaths(options);
  if (!error.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    return 1;
  }
  // libfuse's own options are checked now, before anything is opened or
  // forked; it prints its one-line reason ("fuse: unknown option(s): ...").
  {
    // fuse_session_new consumes what it parses, so it checks a copy.
    fuse_args copy = FUSE_ARGS_INIT(0, nullptr);
    for (int i = 0; i < args.argc; ++i) fuse_opt_add_arg(&copy, args.argv[i]);
    const fuse_lowlevel_ops ops = MakeOperations();
    fuse_session* probe = fuse_session_new(&copy, &ops, sizeof(ops), nullptr);
    fuse_opt_free_args(&copy);
    if (probe == nullptr) return 2;
    fuse_session_destroy(probe);
  }
  int rc;
  if (options.foreground) {
    Startup startup(-1);
    rc = Serve(options, args, startup);
  } else {
    rc = Daemonize(options, args);
  }
  return rc;
}
