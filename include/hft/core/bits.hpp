// hft/core/bits.hpp: power-of-two helpers used to size rings and masks.
//
// What: is_power_of_two(x), round_up_pow2(x) (throws std::length_error when the
//   result does not fit), log2_floor(x). All constexpr.
// When to use: sizing rings and masks (power-of-two capacities). When not: arbitrary
//   integer maths (use <bit> directly).
// Thread-safety: pure functions. Progress: wait-free. Complexity: O(1) (a bit-scan
//   instruction).
#pragma once

#include <bit>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace hft {

/// True when the unsigned `x` is 1, 2, 4, ... (false for 0).
template <class U>
[[nodiscard]] constexpr bool is_power_of_two(U x) noexcept {
  static_assert(std::is_unsigned_v<U>, "is_power_of_two takes an unsigned integer");
  return std::has_single_bit(x);
}

/// Smallest power of two >= x; round_up_pow2(0) == 1. Throws std::length_error when
/// that power of two is not representable in U (a clear error instead of wrapping to 0).
template <class U>
[[nodiscard]] constexpr U round_up_pow2(U x) {
  static_assert(std::is_unsigned_v<U>, "round_up_pow2 takes an unsigned integer");
  if (x > (U{1} << (std::numeric_limits<U>::digits - 1))) {
    throw std::length_error("hft::round_up_pow2: no power of two >= the value fits the type");
  }
  return std::bit_ceil(x);
}

/// floor(log2(x)) for x > 0.
template <class U>
[[nodiscard]] constexpr unsigned log2_floor(U x) noexcept {
  static_assert(std::is_unsigned_v<U>, "log2_floor takes an unsigned integer");
  return static_cast<unsigned>(std::bit_width(x) - 1);
}

static_assert(round_up_pow2(5u) == 8u && round_up_pow2(8u) == 8u && round_up_pow2(0u) == 1u);
static_assert(log2_floor(1u) == 0 && log2_floor(1024u) == 10);

}  // namespace hft
