// hft/core/clock.hpp: clocks for latency measurement: TscClock, SteadyClock, SimClock,
// and the NanoClock concept that lets primitives and tests take any of them.
//
// What:
//   - NanoClock: anything with `std::uint64_t now_ns() const` (nanoseconds, monotonic).
//   - TscClock: reads the CPU's time-stamp counter (rdtsc on x86-64) and converts ticks
//     to nanoseconds with a 128-bit fixed-point multiply calibrated against
//     std::chrono::steady_clock. Elsewhere it falls back to steady_clock (is_tsc() says
//     which), so code using it stays portable.
//   - SteadyClock: std::chrono::steady_clock behind the same interface.
//   - SimClock: a clock that moves only when told (advance/set), for deterministic tests
//     of rate limiters, timeouts, circuit breakers.
// When to use: TscClock for timestamps on a hot path (a few ns instead of ~20-50 ns for
//   clock_gettime through the vDSO, more on VMs without a stable TSC clocksource).
//   When not: wall-clock time (TscClock is steady, not UTC); machines without an
//   invariant TSC (invariant_tsc() == false: the rate may change with power states).
// Calibration: the constructor measures ticks against steady_clock over `window`
//   (default 10 ms; it blocks that long). The rate error is about the steady_clock read
//   jitter divided by the window: on this VM ~50 ns / 10 ms = ~5 ppm, i.e. ~5 us drift per
//   second of elapsed time. Use a longer window for long-running conversions, or
//   construct a fresh clock (recalibrate) periodically.
// Instruction ordering: ticks() is rdtsc, which the CPU may execute before earlier instructions have
//   finished; ticks_ordered() (rdtscp) waits for them. Neither is a memory fence.
// Thread-safety: TscClock and SteadyClock are immutable after construction: any thread.
//   SimClock: any thread; now_ns() acquire-loads what advance/set release-stored.
// Progress: all wait-free. Complexity: O(1).
// Lifecycle: TscClock and SteadyClock are copyable values (a copy keeps the calibration);
//   SimClock is neither copyable nor movable (readers hold its address).
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <thread>

#include "hft/core/assert.hpp"

#if defined(__x86_64__)
#include <cpuid.h>  // small; the TSC reads below are builtins, not <x86intrin.h> (~0.35 s per TU)
#endif

namespace hft {

namespace detail {
__extension__ typedef unsigned __int128 u128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet
}  // namespace detail

template <class C>
concept NanoClock = requires(const C& c) {
  { c.now_ns() } -> std::convertible_to<std::uint64_t>;
};

/// std::chrono::steady_clock as a NanoClock.
struct SteadyClock {
  /// Nanoseconds of std::chrono::steady_clock (monotonic; epoch unspecified).
  [[nodiscard]] std::uint64_t now_ns() const noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }
};

/// The CPU's time-stamp counter as a NanoClock: calibrated once against steady_clock, then read
/// without a system call (rdtsc; steady_clock elsewhere).
class TscClock {
 public:
  /// Calibrates against steady_clock for `window` (blocks that long).
  explicit TscClock(std::chrono::nanoseconds window = std::chrono::milliseconds(10)) {
    const SteadyClock steady;
    const std::uint64_t t0 = steady.now_ns();
    const std::uint64_t c0 = ticks();
    const auto window_ns = static_cast<std::uint64_t>(window.count() > 0 ? window.count() : 1);
    std::uint64_t t1 = t0;
    // Spin rather than sleep: a sleeping thread may wake on another CPU, and the
    // steady_clock reads around the interval must be as tight as possible.
    while (t1 - t0 < window_ns) t1 = steady.now_ns();
    const std::uint64_t c1 = ticks();
    const std::uint64_t dt = t1 - t0;
    const std::uint64_t dc = c1 > c0 ? c1 - c0 : 1;
    ticks_per_ns_ = static_cast<double>(dc) / static_cast<double>(dt);
    // ns = base_ns + ((ticks - base_ticks) * mult) >> 32
    mult_ = static_cast<std::uint64_t>(static_cast<double>(dt) / static_cast<double>(dc) * 4294967296.0);
    base_ticks_ = c1;
    base_ns_ = t1;
  }

  /// Raw ticks: rdtsc on x86-64, steady_clock nanoseconds elsewhere. ~7-25 cycles.
  [[nodiscard]] static std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return SteadyClock{}.now_ns();
#endif
  }

  /// Like ticks() but waits until earlier instructions have executed (rdtscp), so the
  /// timed code cannot leak past the read.
  [[nodiscard]] static std::uint64_t ticks_ordered() noexcept {
#if defined(__x86_64__)
    unsigned aux;
    return __builtin_ia32_rdtscp(&aux);
#else
    return SteadyClock{}.now_ns();
#endif
  }

  /// Ticks to nanoseconds on steady_clock's timeline (valid for ticks taken after
  /// construction; earlier ticks map to base_ns, never wrap).
  [[nodiscard]] std::uint64_t to_ns(std::uint64_t t) const noexcept {
    const std::uint64_t d = t > base_ticks_ ? t - base_ticks_ : 0;
    return base_ns_ + delta_to_ns(d);
  }
  /// A tick difference to nanoseconds.
  [[nodiscard]] std::uint64_t delta_to_ns(std::uint64_t dticks) const noexcept {
    return static_cast<std::uint64_t>((static_cast<detail::u128>(dticks) * mult_) >> 32);
  }

  /// Nanoseconds on steady_clock's scale, from one counter read.
  [[nodiscard]] std::uint64_t now_ns() const noexcept { return to_ns(ticks()); }
  /// The calibrated counter frequency, in ticks per nanosecond.
  [[nodiscard]] double ticks_per_ns() const noexcept { return ticks_per_ns_; }

  /// True when ticks() reads the TSC (x86-64), false on the steady_clock fallback.
  [[nodiscard]] static constexpr bool is_tsc() noexcept {
#if defined(__x86_64__)
    return true;
#else
    return false;
#endif
  }

  /// True when CPUID reports an invariant TSC (constant rate across P/C-states).
  [[nodiscard]] static bool invariant_tsc() noexcept {
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0x80000007u, &a, &b, &c, &d) == 0) return false;
    return (d & (1u << 8)) != 0;
#else
    return false;
#endif
  }

 private:
  double ticks_per_ns_ = 1.0;
  std::uint64_t mult_ = std::uint64_t{1} << 32;
  std::uint64_t base_ticks_ = 0;
  std::uint64_t base_ns_ = 0;
};

/// A manually driven clock for deterministic tests. Any thread may call anything.
class SimClock {
 public:
  /// A clock that reads `start_ns` until advanced.
  explicit SimClock(std::uint64_t start_ns = 0) noexcept : now_(start_ns) {}

  /// Acquire pairs with the release in advance()/set(): whatever the advancing thread
  /// wrote before moving time is visible to a reader that sees the new time.
  [[nodiscard]] std::uint64_t now_ns() const noexcept { return now_.load(std::memory_order_acquire); }

  /// Moves time forward by `ns` (release: pairs with now_ns()'s acquire).
  void advance(std::uint64_t ns) noexcept { now_.fetch_add(ns, std::memory_order_acq_rel); }

  /// Moves time to `ns`. Precondition: ns >= now_ns() (time never goes back; asserted).
  void set(std::uint64_t ns) noexcept {
    HFT_ASSERT(ns >= now_.load(std::memory_order_relaxed), "SimClock::set would move time backwards");
    now_.store(ns, std::memory_order_release);  // pairs with now_ns()'s acquire
  }

 private:
  std::atomic<std::uint64_t> now_;
};

static_assert(NanoClock<SteadyClock> && NanoClock<TscClock> && NanoClock<SimClock>);

}  // namespace hft
