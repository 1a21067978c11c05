// The one place where failures become errno values for FUSE replies.
#pragma once

#include <fuse_lowlevel.h>

namespace pagefs::fs {

// The errno for the exception being handled. Call only inside a catch block.
// Failures that mean stored data or the device is in trouble (corruption, I/O,
// a store that refuses writes) are also logged to stderr; a caller's mistake
// (EINVAL, EROFS, ENOENT) is not.
int ErrnoForCurrentException() noexcept;

// Runs a handler body, which must reply to req as its last step; if it throws
// instead, replies with the mapped errno. Every handler goes through this.
template <class Fn>
void Handle(fuse_req_t req, Fn&& body) noexcept {
  try {
    body();
  } catch (...) {
    fuse_reply_err(req, ErrnoForCurrentException());
  }
}

}  // namespace pagefs::fs
