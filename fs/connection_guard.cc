#include "fs/connection_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fs/mountinfo.h"

namespace pagefs::fs {

namespace {

constexpr const char* kConnections = "/sys/fs/fuse/connections";

volatile sig_atomic_t g_daemon_died = 0;
void OnDaemonDeath(int) { g_daemon_died = 1; }

// Writes to the connection's abort file, mounting fusectl first when its
// folder is empty. Returns 0 or the errno of what failed.
int Abort(const std::string& device) {
  const std::string path =
      std::string(kConnections) + "/" + device.substr(device.find(':') + 1) + "/abort";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT &&
      ::mount("fusectl", kConnections, "fusectl", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) return errno;
  const int rc = ::write(fd, "1", 1) == 1 ? 0 : errno;
  ::close(fd);
  return rc;
}

void Note(const std::string& log, const std::string& line) {
  if (log.empty()) return;
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

// Reads the lines the daemon sent into device and bye.
void Take(std::string& buf, std::string& device, bool& bye) {
  size_t nl;
  while ((nl = buf.find('\n')) != std::string::npos) {
    const std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    if (line.rfind("dev ", 0) == 0) device = line.substr(4);
    if (line == "bye") bye = true;
  }
}

[[noreturn]] void GuardMain(int fd, pid_t daemon, const std::string& mountpoint,
                            const std::string& log) {
  // Hold nothing of the daemon's: not its stdio (a caller waiting for the
  // end of its output), not the startup pipe, not /dev/fuse.
  const int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int std_fd = 0; std_fd < 3; ++std_fd) ::dup2(null, std_fd);
  }
  if (fd != 3) {
    ::dup2(fd, 3);
    fd = 3;
  }
  for (int other = 4; other < 1024; ++other) ::close(other);
  struct sigaction sa {};
  sa.sa_handler = OnDaemonDeath;  // no SA_RESTART: the read below returns
  ::sigaction(SIGHUP, &sa, nullptr);
  sigset_t all;
  ::sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGHUP);
  if (::getppid() != daemon) g_daemon_died = 1;  // before the prctl
  std::string buf, device;
  bool bye = false;
  char chunk[256];
  // Until a goodbye, the end of the pipe (the daemon is gone whole: its
  // connection ended with it, and an abort is harmless) or the signal (its
  // main thread died; the rest of it may never finish exiting).
  while (!g_daemon_died) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      Take(buf, device, bye);
      if (bye) std::_Exit(0);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof chunk)) > 0) buf.append(chunk, static_cast<size_t>(n));
  Take(buf, device, bye);
  if (bye || device.empty() || MountDevice(mountpoint) != device) std::_Exit(0);
  const std::string what = "pagefs-mount: the daemon (pid " + std::to_string(daemon) +
                           ") died without unmounting " + mountpoint;
  if (const int err = Abort(device); err == 0) {
    Note(log, what + ": its FUSE connection (" + device +
                  ") was aborted, so nothing waits on it; `pagefs umount` removes the mount");
  } else {
    Note(log, what + ": cannot abort its FUSE connection (" + device + "): " + std::strerror(err) +
                  "; readers of the mount may wait until it is aborted");
  }
  std::_Exit(0);
}

}  // namespace

ConnectionGuard::ConnectionGuard(const std::string& mountpoint, const std::string& log) {
  char resolved[PATH_MAX];
  const std::string point = ::realpath(mountpoint.c_str(), resolved) ? resolved : mountpoint;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  const pid_t daemon = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[1]);
    GuardMain(fds[0], daemon, point, log);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return;
  }
  pid_ = pid;
  fd_ = fds[1];
}

ConnectionGuard::~ConnectionGuard() {
  if (pid_ < 0) return;
  Send("bye");
  ::close(fd_);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void ConnectionGuard::Mounted(const std::string& device) {
  if (!device.empty()) Send("dev " + device);
}

void ConnectionGuard::Send(const std::string& line) {
  if (fd_ < 0) return;
  const std::string text = line + "\n";
  (void)!::write(fd_, text.data(), text.size());
}

}  // namespace pagefs::fs
