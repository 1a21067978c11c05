#include "fs/errno_map.h"

#include <cerrno>
#include <cstdio>
#include <new>
#include <system_error>

#include "pager/util/error.h"

namespace pagefs::fs {

namespace {

// One errno per condition. kIo carries the errno of the call that failed.
int ErrnoFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kIo: return e.sys_errno() != 0 ? e.sys_errno() : EIO;
    case ErrorCode::kNoSpace: return ENOSPC;
    case ErrorCode::kCorruption: return EIO;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange: return EINVAL;
    case ErrorCode::kTooLarge: return EFBIG;
    case ErrorCode::kNotFound: return ENOENT;
    case ErrorCode::kExists: return EEXIST;
    case ErrorCode::kReadOnly: return EROFS;
    case ErrorCode::kNotAllowed: return EBADF;  // as a write on a descriptor not open for writing
    case ErrorCode::kClosed: return ESHUTDOWN;
    case ErrorCode::kBusy: return EBUSY;
    case ErrorCode::kBudget: return ENOMEM;
    case ErrorCode::kFailed: return EIO;
    case ErrorCode::kStale: return ESTALE;
  }
  return EIO;
}

// Trouble with the stored data or the device is logged; a caller's mistake
// or a refusal the caller can act on is only answered.
bool WorthLogging(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kIo:
    case ErrorCode::kNoSpace:
    case ErrorCode::kCorruption:
    case ErrorCode::kFailed:
    case ErrorCode::kBudget: return true;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kTooLarge:
    case ErrorCode::kNotFound:
    case ErrorCode::kExists:
    case ErrorCode::kReadOnly:
    case ErrorCode::kNotAllowed:
    case ErrorCode::kClosed:
    case ErrorCode::kBusy:
    case ErrorCode::kStale: return false;
  }
  return true;
}

}  // namespace

int ErrnoForCurrentException() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    if (WorthLogging(e)) {
      std::fprintf(stderr, "pagefs-mount: error: %s: %s\n", ErrorCodeName(e.code()), e.what());
    }
    return ErrnoFor(e);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "pagefs-mount: error: %s\n", e.what());
    return e.code().value() != 0 ? e.code().value() : EIO;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagefs-mount: error: %s\n", e.what());
    return EIO;
  } catch (...) {
    std::fprintf(stderr, "pagefs-mount: error: unknown exception\n");
    return EIO;
  }
}

}  // namespace pagefs::fs
