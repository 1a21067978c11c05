// pagefs::Error is the engine's one error type. Every failure the engine reports
// is an Error with a code that names the condition, not what a caller makes of
// it: pybind/ maps the codes to Python exceptions in one place
// (pybind/errors.cc) and fs/ maps them to errno in one place (fs/errno_map.cc).
// Hot paths do not throw unless something is actually wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace pagefs {

enum class ErrorCode {
  kIo,               // a system call failed; sys_errno says which errno
  kNoSpace,          // the device or the quota is full (ENOSPC/EDQUOT)
  kCorruption,       // stored bytes failed a checksum or format check
  kInvalidArgument,  // the caller passed something malformed: a name, an option, a size, a run
  kOutOfRange,       // an index past the end of a list
  kTooLarge,         // a number or position past what can be represented or addressed
  kNotFound,         // a named thing does not exist
  kExists,           // a thing to be created exists already
  kReadOnly,         // a write to a read-only store or mount
  kNotAllowed,       // the caller lacks the role a request needs (a writer's request from a reader)
  kClosed,           // the store was closed (or this process is a fork of its opener)
  kBusy,             // someone else holds what is needed (the writer lock, every reader slot)
  kBudget,           // the cache budget cannot hold what must stay pinned
  kFailed,           // a previous write failed; the store refuses writes until reopened
  kStale,            // a read of a commit that a newer commit has replaced
};

// Every code once, in declaration order: for tables and their tests.
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kIo,         ErrorCode::kNoSpace,
    ErrorCode::kCorruption, ErrorCode::kInvalidArgument,
    ErrorCode::kOutOfRange, ErrorCode::kTooLarge,
    ErrorCode::kNotFound,   ErrorCode::kExists,
    ErrorCode::kReadOnly,   ErrorCode::kNotAllowed,
    ErrorCode::kClosed,     ErrorCode::kBusy,
    ErrorCode::kBudget,     ErrorCode::kFailed,
    ErrorCode::kStale,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, int sys_errno = 0)
      : std::runtime_error(message), code_(code), sys_errno_(sys_errno) {}

  ErrorCode code() const noexcept { return code_; }
  // The errno of the failed system call behind a kIo/kNoSpace/kStale error
  // made by FromErrno, 0 otherwise.
  int sys_errno() const noexcept { return sys_errno_; }

  // An Error for a failed system call: kNoSpace for ENOSPC/EDQUOT, kStale
  // for ESTALE, kIo otherwise; the message is what + ": " + strerror(err).
  // Only for errors a system call returned: a condition the engine finds
  // itself (a page that exists, a position too large) gets its own code.
  static Error FromErrno(int err, const std::string& what);

  // The one error for using a closed store: "<store> is closed", where store
  // describes it as the engine does everywhere ("prefix 'data' of /srv/db").
  static Error Closed(const std::string& store);

 private:
  ErrorCode code_;
  int sys_errno_;
};

// A short stable name of the code ("out-of-range"), for logs.
const char* ErrorCodeName(ErrorCode code) noexcept;

}  // namespace pagefs
