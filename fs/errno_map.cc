#include "fs/errno_map.h"

#include <cerrno>
#include <cstdio>
#include <new>
#include <system_error>

#include "pager/util/error.h"

namespace pagefs::fs {

namespace {

int ErrnoFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kIo: return e.sys_errno() != 0 ? e.sys_errno() : EIO;
    case ErrorCode::kNoSpace: return ENOSPC;
    case ErrorCode::kCorruption: return EIO;
    case ErrorCode::kInvalidArgument: return EINVAL;
    case ErrorCode::kNotFound: return ENOENT;
    case ErrorCode::kReadOnly: return EROFS;
    case ErrorCode::kClosed: return ESHUTDOWN;
    case ErrorCode::kBusy: return EBUSY;
    case ErrorCode::kBudget: return ENOMEM;
    case ErrorCode::kIndex: return EINVAL;
    case ErrorCode::kType: return EINVAL;
    case ErrorCode::kValue: return EINVAL;
    case ErrorCode::kFailed: return EIO;
    case ErrorCode::kStale: return ESTALE;
  }
  return EIO;
}

bool WorthLogging(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kIo:
      // A caller's mistake carried as an errno (EFBIG: past what the view
      // addresses; EEXIST: creating a page that exists; EBADF: a writer's
      // request from a handle without the role) is not trouble.
      return e.sys_errno() != EFBIG && e.sys_errno() != EEXIST && e.sys_errno() != EBADF;
    case ErrorCode::kNoSpace:
    case ErrorCode::kCorruption:
    case ErrorCode::kFailed:
    case ErrorCode::kBudget:
      return true;
    default:
      return false;
  }
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
