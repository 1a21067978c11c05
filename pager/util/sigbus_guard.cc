#include "pager/util/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
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

// [begin, end) of each registered in-place range; begin 0: a free entry.
struct InPlaceRange {
  std::atomic<uintptr_t> begin{0}, end{0};
};
InPlaceRange g_in_place[kInPlaceRanges];
// Registrations take a lock; the handler only reads, end before begin is
// set and after begin is cleared, so it never pairs a begin with a stale end.
std::mutex g_in_place_mu;

bool InPlace(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  for (const InPlaceRange& r : g_in_place) {
    const uintptr_t b = r.begin.load(std::memory_order_acquire);
    if (b != 0 && a >= b && a < r.end.load(std::memory_order_acquire)) return true;
  }
  return false;
}

void OnSigbus(int sig, siginfo_t* info, void* context) {
  sigjmp_buf* jump = t_jump;
  if (jump != nullptr) {
    t_jump = nullptr;
    siglongjmp(*jump, 1);
  }
  if (info != nullptr && info->si_code > 0 && InPlace(info->si_addr)) {
    static const char kMessage[] =
        "pagefs: a page read in place from a mount's file could not be read again (has the "
        "mount's daemon stopped?); this process cannot go on\n";
    (void)!::write(2, kMessage, sizeof(kMessage) - 1);
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

void RegisterInPlaceRange(const void* begin, size_t n) noexcept {
  std::lock_guard<std::mutex> lock(g_in_place_mu);
  for (InPlaceRange& r : g_in_place) {
    if (r.begin.load(std::memory_order_relaxed) != 0) continue;
    r.end.store(reinterpret_cast<uintptr_t>(begin) + n, std::memory_order_release);
    r.begin.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_release);
    return;
  }
}

void UnregisterInPlaceRange(const void* begin) noexcept {
  std::lock_guard<std::mutex> lock(g_in_place_mu);
  for (InPlaceRange& r : g_in_place) {
    if (r.begin.load(std::memory_order_relaxed) == reinterpret_cast<uintptr_t>(begin)) {
      r.begin.store(0, std::memory_order_release);
      return;
    }
  }
}

bool ProbeMapping(const void* src, size_t n, size_t stride) noexcept {
  sigjmp_buf jump;
  if (sigsetjmp(jump, kSaveMask) != 0) return false;
  t_jump = &jump;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const volatile uint8_t* p = static_cast<const volatile uint8_t*>(src);
  for (size_t off = 0; off < n; off += stride) (void)p[off];
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_jump = nullptr;
  return true;
}

}  // namespace pagefs
