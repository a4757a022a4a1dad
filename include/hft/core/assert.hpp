// hft/core/assert.hpp: HFT_ASSERT, the library's precondition check.
//
// What: `HFT_ASSERT(cond, msg)` prints `file:line: hft assertion 'cond' failed: msg`
//   to stderr and aborts when `cond` is false.
// When to use: preconditions a caller can only violate by a bug (an index out of range,
//   a pop from an empty queue, a call from the wrong thread).
// When active: in debug builds (NDEBUG not defined), or whenever HFT_ENABLE_ASSERTS
//   is defined to 1; define HFT_ENABLE_ASSERTS to 0 to force it off. When inactive the
//   condition is not evaluated, so it costs nothing on a release hot path.
// When not: for errors a caller must handle in every build (bad constructor
//   arguments, I/O failures): those throw or return an error code instead.
// Thread-safety: callable from any thread; the failure path writes once to stderr.
// Progress: not applicable (the failure path never returns).
#pragma once

#include <cstdio>
#include <cstdlib>

#ifndef HFT_ENABLE_ASSERTS
#ifdef NDEBUG
#define HFT_ENABLE_ASSERTS 0
#else
#define HFT_ENABLE_ASSERTS 1
#endif
#endif

namespace hft::detail {

[[noreturn]] inline void assert_fail(const char* expr, const char* msg, const char* file,
                                     int line) noexcept {
  // One fprintf call so the message is not interleaved with other threads' output.
  std::fprintf(stderr, "%s:%d: hft assertion '%s' failed: %s\n", file, line, expr, msg);
  (void)std::fflush(stderr);  // about to abort: a failed flush has no recovery
  std::abort();
}

}  // namespace hft::detail

#if HFT_ENABLE_ASSERTS
#define HFT_ASSERT(cond, msg)                                                      \
  (static_cast<bool>(cond) ? static_cast<void>(0)                                  \
                           : ::hft::detail::assert_fail(#cond, msg, __FILE__, __LINE__))
#else
#define HFT_ASSERT(cond, msg) static_cast<void>(0)
#endif
