// Stress-test sizes: full counts in optimised builds, fewer under sanitizers and in
// unoptimised builds, where each operation is 5-50x slower. The checks are the same.
#pragma once
#include <cstddef>
#include <cstdlib>

#if defined(__SANITIZE_THREAD__)
#define HFT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HFT_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HFT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HFT_TEST_ASAN 1
#endif
#endif

namespace hft::test {
inline constexpr std::size_t stress_divisor =
#if defined(HFT_TEST_TSAN)
    50;
#elif defined(HFT_TEST_ASAN)
    10;
#elif !defined(__OPTIMIZE__)
    10;
#else
    1;
#endif
// HFT_TEST_DIVISOR in the environment divides further (the valgrind runs set it).
inline std::size_t scaled(std::size_t n) noexcept {
  static const std::size_t extra = [] {
    const char* e = std::getenv("HFT_TEST_DIVISOR");
    const long v = e ? std::strtol(e, nullptr, 10) : 1;
    return v > 0 ? static_cast<std::size_t>(v) : std::size_t{1};
  }();
  const std::size_t s = n / stress_divisor / extra;
  return s == 0 ? 1 : s;
}
}  // namespace hft::test
