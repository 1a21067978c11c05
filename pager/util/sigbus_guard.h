// Copies out of a file mapping that survive a failed fault. A read fault on a
// mapping of a FUSE file that the daemon answers with an error (a damaged
// page, a daemon that died, a read past the end of the file) is delivered as
// SIGBUS to the thread that touched the page, which by default kills the
// process. CopyFromMapping makes such a copy fail instead: it returns false,
// and the caller reads the page another way (pread) to learn the real error.
//
// How: a process-wide SIGBUS handler (installed on first use, SA_SIGINFO |
// SA_NODEFER) jumps back into the copy of the thread that faulted, through a
// thread-local jump buffer set only for the copy's duration (sigsetjmp
// without the signal mask: no syscall per copy; SA_NODEFER keeps SIGBUS
// unblocked after the jump). A SIGBUS outside a copy goes to the handler
// that was installed before (Python's faulthandler, say), or kills the
// process as it would have without pagefs. InstallSigbusHandler() reinstalls
// the handler if someone replaced it since, chaining to the newcomer.
//
// Thread safety: any thread. Async-signal safety: the handler touches only
// the thread's jump buffer (initial-exec TLS) and sigaction.
#pragma once

#include <cstddef>

namespace pagefs {

// Makes sure the pagefs SIGBUS handler is the one installed. Cheap; call it
// when a mapping is made.
void InstallSigbusHandler();

// memcpy(dst, src, n), except that a SIGBUS raised while reading src makes it
// return false (dst then holds unspecified bytes). REQUIRES:
// InstallSigbusHandler() ran in this process; dst is ordinary memory.
bool CopyFromMapping(void* dst, const void* src, size_t n) noexcept;

// Reads one byte of every `stride` bytes of [src, src + n), so that the
// kernel faults those pages in; false when a fault failed (SIGBUS). Same
// REQUIRES as CopyFromMapping.
bool ProbeMapping(const void* src, size_t n, size_t stride) noexcept;

// Address ranges whose pages are read in place, outside any guarded copy
// (MountMapping::PageAt). A page probed in and then dropped by the kernel is
// faulted in again on the next touch; should that fault fail (the daemon
// stopped), there is no copy to fail instead, so the handler writes what
// happened to stderr before passing the SIGBUS on (which, by default, ends
// the process as it would have without pagefs). At most kInPlaceRanges at
// once; past that a range is not registered (only the message is lost).
inline constexpr size_t kInPlaceRanges = 64;
void RegisterInPlaceRange(const void* begin, size_t n) noexcept;
void UnregisterInPlaceRange(const void* begin) noexcept;

}  // namespace pagefs
