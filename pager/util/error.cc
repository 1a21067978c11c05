#include "pager/util/error.h"

#include <cerrno>
#include <cstring>

namespace pagefs {

Error Error::FromErrno(int err, const std::string& what) {
  ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::kNoSpace
                   : err == ESTALE                  ? ErrorCode::kStale
                                                    : ErrorCode::kIo;
  return Error(code, what + ": " + std::strerror(err), err);
}

Error Error::Closed(const std::string& store) {
  return Error(ErrorCode::kClosed, store + " is closed");
}

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kIo: return "io";
    case ErrorCode::kNoSpace: return "no-space";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kOutOfRange: return "out-of-range";
    case ErrorCode::kTooLarge: return "too-large";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kExists: return "exists";
    case ErrorCode::kReadOnly: return "read-only";
    case ErrorCode::kNotAllowed: return "not-allowed";
    case ErrorCode::kClosed: return "closed";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kBudget: return "budget";
    case ErrorCode::kFailed: return "failed";
    case ErrorCode::kStale: return "stale";
  }
  return "unknown";
}

}  // namespace pagefs
