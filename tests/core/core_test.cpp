#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

TEST_CASE("power-of-two helpers", "[core][bits]") {
  REQUIRE(hft::is_power_of_two(1u));
  REQUIRE(hft::is_power_of_two(std::uint64_t{1} << 63));
  REQUIRE_FALSE(hft::is_power_of_two(0u));
  REQUIRE_FALSE(hft::is_power_of_two(6u));
  REQUIRE(hft::round_up_pow2(std::size_t{0}) == 1);
  REQUIRE(hft::round_up_pow2(std::size_t{1000}) == 1024);
  REQUIRE(hft::round_up_pow2(std::size_t{1} << 63) == std::size_t{1} << 63);
  REQUIRE_THROWS_AS(hft::round_up_pow2((std::size_t{1} << 63) + 1), std::length_error);
  REQUIRE_THROWS_AS(hft::round_up_pow2(std::uint8_t{200}), std::length_error);
  REQUIRE(hft::log2_floor(1023u) == 9);
}

TEST_CASE("CachePadded keeps its value alone on a padded block", "[core][cache]") {
#if defined(__x86_64__)
  STATIC_REQUIRE(hft::cache_line_size == 128);
#endif
  struct Two {
    hft::CachePadded<std::atomic<int>> a;
    hft::CachePadded<std::atomic<int>> b;
  } two;
  const auto distance = reinterpret_cast<std::uintptr_t>(&*two.b) - reinterpret_cast<std::uintptr_t>(&*two.a);
  REQUIRE(distance >= hft::cache_line_size);
  REQUIRE(reinterpret_cast<std::uintptr_t>(&two.a) % hft::cache_line_size == 0);
  hft::CachePadded<int> p(std::in_place, 42);
  REQUIRE(*p == 42);
}

TEST_CASE("cpu_relax returns", "[core][cpu]") {
  for (int i = 0; i < 100; ++i) hft::cpu_relax();
  SUCCEED();
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("HFT_ASSERT prints file, line and message, then aborts", "[core][assert]") {
  auto r = hft::test::run_expecting_abort([] {
    const int x = 1;
    HFT_ASSERT(x == 2, "x must be two");
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("core_test.cpp:") != std::string::npos);
  REQUIRE(r.stderr_text.find("'x == 2'") != std::string::npos);
  REQUIRE(r.stderr_text.find("x must be two") != std::string::npos);
  auto ok = hft::test::run_expecting_abort([] { HFT_ASSERT(1 == 1, "never"); });
  REQUIRE_FALSE(ok.aborted);
}
#endif
