// NoWaitScope: marks the calling thread, for its lifetime, as one that must
// neither wait for a lock held by another thread nor load a page. The Python
// binding runs a read-only operation so while it holds the GIL: an operation
// on resident pages then costs no GIL release and reacquire. Whatever would
// wait or load throws WouldWait instead, before it has changed anything:
// - BufferPool::Pin, for a page that is not resident;
// - OpScope, for a look for a newer commit that is due, or for the op lock or
//   the collection's mutex when another thread holds them;
// - ReferencedLists::Open, for a value that references a collection (opening
//   a handle takes the heap's mutex) or may (a tuple).
// The caller then runs the operation again the ordinary way (GIL released).
// So the rule of the binding stays exact: a thread never waits for an engine
// lock while it holds the GIL.
//
// Only operations that change nothing run in a scope: the throw may come
// from anywhere inside them. Thread safety: the mark is per thread.
#pragma once

#include <exception>

namespace pagefs {

// Thrown inside a NoWaitScope where the operation would wait or load. Not an
// Error: it never reaches a user.
struct WouldWait final : std::exception {
  const char* what() const noexcept override { return "pagefs: the operation would wait"; }
};

class NoWaitScope {
 public:
  NoWaitScope() noexcept : outer_(active_) { active_ = true; }
  ~NoWaitScope() { active_ = outer_; }
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

  // True inside a scope on this thread.
  static bool active() noexcept { return active_; }
  // Throws WouldWait inside a scope.
  static void Refuse() {
    if (active_) throw WouldWait();
  }

 private:
  // initial-exec: read with one load from the thread pointer, not a call to
  // __tls_get_addr, though pagefs may live in a dlopened extension (one
  // byte of the static TLS surplus that glibc keeps for such libraries).
  [[gnu::tls_model("initial-exec")]] static inline thread_local bool active_ = false;
  const bool outer_;
};

}  // namespace pagefs
