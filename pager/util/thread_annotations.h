// Clang's thread-safety annotations (-Wthread-safety), as in LevelDB's
// port/thread_annotations.h: GUARDED_BY says which mutex guards a member,
// REQUIRES what a function expects its caller to hold. GCC ignores them;
// scripts/check_style.sh has Clang check them.
#pragma once

#if defined(__clang__)
#define PAGEFS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PAGEFS_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) PAGEFS_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY PAGEFS_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) PAGEFS_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) PAGEFS_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) PAGEFS_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) PAGEFS_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) PAGEFS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PAGEFS_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PAGEFS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PAGEFS_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PAGEFS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PAGEFS_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PAGEFS_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PAGEFS_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) PAGEFS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) PAGEFS_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) PAGEFS_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS PAGEFS_THREAD_ANNOTATION(no_thread_safety_analysis)
