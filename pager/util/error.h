// pagefs::Error is the engine's one error type. Every failure the engine reports
// is an Error with a code; pybind/ maps the codes to Python exceptions in one
// place and fs/ maps them to errno in one place. Hot paths do not throw unless
// something is actually wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace pagefs {

enum class ErrorCode {
  kIo,               // an I/O call failed (sys_errno says which)
  kNoSpace,          // the device is full (ENOSPC/EDQUOT)
  kCorruption,       // a checksum or format check failed: stored bytes are wrong
  kInvalidArgument,  // bad input from the caller (names, sizes, options)
  kNotFound,         // a named thing does not exist
  kReadOnly,         // a write was attempted on a read-only store
  kClosed,           // the store was closed, or the object outlived it
  kBusy,             // another writer holds the store
  kBudget,           // the cache budget cannot hold what must stay pinned
  kIndex,            // index out of range (maps to IndexError)
  kType,             // a value of a type that cannot be stored (TypeError)
  kValue,            // a value that is not there (ValueError)
  kFailed,           // a previous write failed; the store refuses writes until reopened
  kStale,            // a read of a commit that a newer commit has replaced
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, int sys_errno = 0)
      : std::runtime_error(message), code_(code), sys_errno_(sys_errno) {}

  ErrorCode code() const noexcept { return code_; }
  // The errno behind a kIo/kNoSpace error, 0 otherwise.
  int sys_errno() const noexcept { return sys_errno_; }

  // An Error for a failed system call: kNoSpace for ENOSPC/EDQUOT, kIo otherwise.
  static Error FromErrno(int err, const std::string& what);

 private:
  ErrorCode code_;
  int sys_errno_;
};

const char* ErrorCodeName(ErrorCode code) noexcept;

}  // namespace pagefs
