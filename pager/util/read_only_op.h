// ReadOnlyOpScope: marks the calling thread, for its lifetime, as running an
// operation that changes no page (a lookup, a scan, a length). A space may
// then hand out pages it does not own in place: through a mount, the writer
// reads the pages it has not changed straight from its mapping of data, with
// no copy into its own cache (space/mounted_space.h). Such a page does not
// show a write made to it later in the same operation, so every space
// refuses a write inside a scope (RefuseChange): that is a bug in the engine,
// not the caller's, and the embedded store's tests find it as the mount's do.
//
// Collections open a scope in their reading prologue (PersistentList::Reading,
// PersistentHash::Reading), after the op lock and the collection's mutex,
// which keep every other thread from changing the pages read. Thread safety:
// the mark is per thread.
#pragma once

#include <string>

#include "pager/util/error.h"

namespace pagefs {

class ReadOnlyOpScope {
 public:
  ReadOnlyOpScope() noexcept : outer_(active_) { active_ = true; }
  ~ReadOnlyOpScope() { active_ = outer_; }
  ReadOnlyOpScope(const ReadOnlyOpScope&) = delete;
  ReadOnlyOpScope& operator=(const ReadOnlyOpScope&) = delete;

  // True inside a scope on this thread.
  static bool active() noexcept { return active_; }
  // Throws Error(kNotAllowed) inside a scope: every space calls it before a
  // page changes (what names the space).
  static void RefuseChange(const std::string& what) {
    if (active_) [[unlikely]]
      throw Error(ErrorCode::kNotAllowed,
                  "pagefs bug: a page of " + what + " changed inside a read-only operation");
  }

 private:
  // initial-exec, as NoWaitScope's mark (no_wait.h): one load, no call.
  [[gnu::tls_model("initial-exec")]] static inline thread_local bool active_ = false;
  const bool outer_;
};

}  // namespace pagefs
