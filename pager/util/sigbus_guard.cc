#include "pager/util/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace pagefs {

namespace {

// The jump buffer of the copy this thread is running, or null. Initial-exec
// TLS: reading it in the handler never allocates (the general-dynamic model
// of a dlopen'd library may call malloc on a thread's first access).
thread_local sigjmp_buf* t_jump __attribute__((tls_model("initial-exec"))) = nullptr;

// What was installed before ours; written once, before ours is installed.
struct sigaction g_previous;

void PassOn(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = g_previous;
  if ((prev.sa_flags & SA_SIGINFO) != 0) {
    if (prev.sa_sigaction != nullptr) prev.sa_sigaction(sig, info, context);
    return;
  }
  if (prev.sa_handler == SIG_IGN && info != nullptr && info->si_code <= 0)
    return;  // sent, not a fault
  if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN) {
    // What would have happened without pagefs: the default action (a fault
    // cannot be ignored). SA_NODEFER leaves SIGBUS unblocked, so raise
    // delivers it now.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGBUS, &dfl, nullptr);
    ::raise(SIGBUS);
    return;
  }
  prev.sa_handler(sig);
}

void OnSigbus(int sig, siginfo_t* info, void* context) {
  sigjmp_buf* jump = t_jump;
  if (jump != nullptr) {
    t_jump = nullptr;
    siglongjmp(*jump, 1);
  }
  PassOn(sig, info, context);
}

}  // namespace

void InstallSigbusHandler() {
  // Once per process: reinstalling over a handler that chains back to ours
  // (Python's faulthandler does) would make the two call each other forever.
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction ours;
    std::memset(&ours, 0, sizeof(ours));
    ours.sa_sigaction = &OnSigbus;
    ours.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&ours.sa_mask);
    ::sigaction(SIGBUS, nullptr, &g_previous);
    ::sigaction(SIGBUS, &ours, nullptr);
  });
}

#if defined(__SANITIZE_THREAD__)
#define PAGEFS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PAGEFS_TSAN 1
#endif
#endif

// ThreadSanitizer keeps its own record of being in a signal handler, which a
// jump out of one resets only with the signal mask saved (a syscall per copy,
// in that build only).
#ifdef PAGEFS_TSAN
constexpr int kSaveMask = 1;
#else
constexpr int kSaveMask = 0;
#endif

bool CopyFromMapping(void* dst, const void* src, size_t n) noexcept {
  sigjmp_buf jump;
  // Without the signal mask (no syscall; but see kSaveMask): SA_NODEFER keeps
  // SIGBUS unblocked after the jump.
  if (sigsetjmp(jump, kSaveMask) != 0) return false;  // the handler cleared t_jump
  t_jump = &jump;
  // The compiler must not move the copy out of the guarded stretch.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dst, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_jump = nullptr;
  return true;
}

}  // namespace pagefs
