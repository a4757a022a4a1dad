// Replaces the global operator new/delete to count allocations, for the "no allocation
// after warm-up" tests, and to make a chosen allocation fail, for the "an allocation that
// throws leaves the object unchanged" tests. Include it from exactly ONE translation unit
// of a test binary (replacing the global operator is allowed once per program).
//
// g_news counts calls made on threads whose g_count_this_thread is true (the default for
// every thread): a test that only wants some threads counted clears the flag on the others.
// g_live_blocks is news minus deletes over all threads (a leak shows up as a difference).
// FailNthAllocation(n) makes the n-th allocation from now on, on this thread, throw
// std::bad_alloc. The aligned forms (operator new(size_t, align_val_t)) are replaced too.
// Sanitizer runtimes and valgrind own operator new, so under ASan/TSan nothing is
// replaced; HFT_TEST_COUNTS_NEW says whether counting and failure injection are live.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "scale.hpp"

namespace hft::test {
inline std::atomic<long> g_news{0};
inline std::atomic<long> g_live_blocks{0};
inline thread_local bool g_count_this_thread = true;
inline thread_local long g_fail_countdown = 0;  // 0: off; 1: the next allocation fails
inline thread_local bool g_fail_fired = false;

/// While alive: the n-th operator new call on this thread (n >= 1) throws std::bad_alloc.
class FailNthAllocation {
 public:
  explicit FailNthAllocation(long n) noexcept {
    g_fail_countdown = n;
    g_fail_fired = false;
  }
  FailNthAllocation(const FailNthAllocation&) = delete;
  FailNthAllocation& operator=(const FailNthAllocation&) = delete;
  ~FailNthAllocation() { g_fail_countdown = 0; }
  /// Whether the chosen allocation happened (and threw).
  [[nodiscard]] bool fired() const noexcept { return g_fail_fired; }
};

namespace detail {
inline void before_allocation() {
  if (g_count_this_thread) g_news.fetch_add(1, std::memory_order_relaxed);
  if (g_fail_countdown > 0 && --g_fail_countdown == 0) {
    g_fail_fired = true;
    throw std::bad_alloc();
  }
}
}  // namespace detail
}  // namespace hft::test

#if !defined(HFT_TEST_ASAN) && !defined(HFT_TEST_TSAN)
#define HFT_TEST_COUNTS_NEW 1
// noinline throughout: once inlined, GCC pairs the malloc/aligned_alloc inside with the
// operator delete of a delete-expression and warns (-Wmismatched-new-delete), although
// every operator delete here does call free().
__attribute__((noinline)) void* operator new(std::size_t n) {
  hft::test::detail::before_allocation();
  if (void* p = std::malloc(n ? n : 1)) {
    hft::test::g_live_blocks.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new(std::size_t n, std::align_val_t a) {
  hft::test::detail::before_allocation();
  const auto align = static_cast<std::size_t>(a);
  const std::size_t size = (n + align - 1) / align * align;  // aligned_alloc wants a multiple
  if (void* p = std::aligned_alloc(align, size ? size : align)) {
    hft::test::g_live_blocks.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  if (p) hft::test::g_live_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
__attribute__((noinline)) void operator delete(void* p, std::align_val_t) noexcept { operator delete(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  operator delete(p);
}
#endif

// HFT_CHECK_NO_NEW(before, after): CHECKs that no counted operator new ran between two reads
// of g_news, where counting is live; under a sanitizer (nothing counted) it only uses them.
// Expands to Catch2's CHECK, so the including test has Catch2 included.
#ifdef HFT_TEST_COUNTS_NEW
#define HFT_CHECK_NO_NEW(before, after) CHECK((after) - (before) == 0)
#else
#define HFT_CHECK_NO_NEW(before, after) ((void)(before), (void)(after))
#endif
