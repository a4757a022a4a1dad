// Replaces the global operator new/delete to count allocations, for the "no allocation
// after warm-up" tests. Include it from exactly ONE translation unit of a test binary
// (replacing the global operator is allowed once per program).
//
// g_news counts calls made on threads whose g_count_this_thread is true (the default for
// every thread): a test that only wants some threads counted clears the flag on the others.
// Sanitizer runtimes and valgrind own operator new, so under ASan/TSan nothing is
// replaced; HFT_TEST_COUNTS_NEW says whether counting is live.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#include "scale.hpp"

namespace hft::test {
inline std::atomic<long> g_news{0};
inline thread_local bool g_count_this_thread = true;
}  // namespace hft::test

#if !defined(HFT_TEST_ASAN) && !defined(HFT_TEST_TSAN)
#define HFT_TEST_COUNTS_NEW 1
void* operator new(std::size_t n) {
  if (hft::test::g_count_this_thread) hft::test::g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// noinline: once inlined into a delete-expression, GCC pairs free() with operator new and
// warns (-Wmismatched-new-delete), although this operator new does call malloc.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
