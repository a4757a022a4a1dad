// hft/sched/rate_limiter.hpp: RateLimiter (token bucket) and its thread-safe variant.
//
// What: a bucket of `burst` tokens refilled at `rate_per_sec`; try_acquire(n, now) takes n
//   tokens if present. Time is passed in (nanoseconds from a TscClock, SteadyClock or
//   SimClock reading), so the limiter never reads a clock itself and tests are exact.
//   The mini-OMS risk stage uses one per symbol (RISK_RATE).
// When to use: per-symbol or per-client order-rate limits, throttling retries.
// When not: bandwidth shaping that must smooth rather than admit bursts (a leaky bucket).
// Arithmetic: exact integers. Tokens are kept in nano-tokens (1 token = 10^9); each
//   elapsed nanosecond adds `rate_per_sec` nano-tokens, in 128-bit arithmetic capped at
//   the bucket size, so a long idle period (even 2^64 ns) cannot overflow, and the bucket
//   refills to exactly `burst`. The bucket starts full. A `now` earlier than the last one
//   seen (a clock that stepped back) adds nothing and is otherwise harmless.
// Thread-safety: RateLimiter: one thread at a time. ThreadSafeRateLimiter: any
//   thread (a short critical section under a std::mutex).
// Progress: RateLimiter wait-free; ThreadSafeRateLimiter blocking (mutex).
// Memory ordering: none in RateLimiter (not shared); the thread-safe variant's mutex.
// Complexity: O(1) per call (a few 128-bit multiply-adds).
// Compared with: Guava's RateLimiter reads its own clock and sleeps in acquire(); ours
//   takes time as an argument, never sleeps, and refills per nanosecond exactly in 128-bit
//   integers.
// Lifecycle: RateLimiter is a copyable value (a copy has the same tokens); the thread-safe
//   variant is neither copyable nor movable.
#pragma once

#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace hft {

/// Both fields are required (0 is rejected): 10 tokens/s with a burst of 5 is
/// `RateLimiter({.rate_per_sec = 10, .burst = 5}, now_ns)`.
struct RateLimiterConfig {
  std::uint64_t rate_per_sec = 0;  ///< tokens added per second, >= 1
  std::uint64_t burst = 0;         ///< bucket size: tokens available at once, >= 1
};

/// A token bucket: rate_per_sec tokens a second, up to burst at once, exact integer arithmetic
/// on the caller's clock. One thread; ThreadSafeRateLimiter for several.
class RateLimiter {
  __extension__ typedef unsigned __int128 u128;  // -Wpedantic-clean via __extension__
  static constexpr std::uint64_t kNano = 1'000'000'000ULL;

 public:
  /// Throws std::invalid_argument unless rate_per_sec >= 1 and burst >= 1.
  /// The bucket starts full at now_ns.
  RateLimiter(const RateLimiterConfig& cfg, std::uint64_t now_ns)
      : rate_(cfg.rate_per_sec), burst_(cfg.burst), capacity_(static_cast<u128>(cfg.burst) * kNano),
        tokens_(static_cast<u128>(cfg.burst) * kNano), last_(now_ns) {
    if (cfg.rate_per_sec == 0) throw std::invalid_argument("hft::RateLimiter: rate_per_sec must be >= 1, got 0");
    if (cfg.burst == 0) throw std::invalid_argument("hft::RateLimiter: burst must be >= 1, got 0");
  }

  /// Takes n tokens if available at `now_ns`; false (nothing taken) otherwise.
  [[nodiscard]] bool try_acquire(std::uint64_t n, std::uint64_t now_ns) noexcept {
    refill(now_ns);
    const u128 need = static_cast<u128>(n) * kNano;
    if (need > tokens_) return false;
    tokens_ -= need;
    return true;
  }

  /// Nanoseconds from now_ns until n tokens will be available (0: now). For n > burst,
  /// which can never succeed, returns UINT64_MAX; a wait longer than UINT64_MAX ns (a burst
  /// above 18 billion tokens at a rate of 1/s) saturates to UINT64_MAX too.
  [[nodiscard]] std::uint64_t time_until_available(std::uint64_t n, std::uint64_t now_ns) const noexcept {
    if (n > burst_) return std::numeric_limits<std::uint64_t>::max();
    const u128 have = tokens_at(now_ns);
    const u128 need = static_cast<u128>(n) * kNano;
    if (have >= need) return 0;
    const u128 missing = need - have;
    const u128 wait = (missing + rate_ - 1) / rate_;  // ceil: first ns with enough
    // Up to burst x 10^9 ns: a plain cast to 64 bits would wrap it into a short wait.
    return wait > std::numeric_limits<std::uint64_t>::max() ? std::numeric_limits<std::uint64_t>::max()
                                                            : static_cast<std::uint64_t>(wait);
  }

  /// Whole tokens available at now_ns.
  [[nodiscard]] std::uint64_t available(std::uint64_t now_ns) const noexcept {
    return static_cast<std::uint64_t>(tokens_at(now_ns) / kNano);
  }
  /// The configured refill rate, tokens per second.
  [[nodiscard]] std::uint64_t rate_per_sec() const noexcept { return rate_; }
  /// The configured bucket size, in tokens.
  [[nodiscard]] std::uint64_t burst() const noexcept { return burst_; }

 private:
  [[nodiscard]] u128 tokens_at(std::uint64_t now_ns) const noexcept {
    if (now_ns <= last_) return tokens_;
    const u128 add = static_cast<u128>(now_ns - last_) * rate_;  // < 2^128: no overflow
    const u128 room = capacity_ - tokens_;
    return add >= room ? capacity_ : tokens_ + add;
  }
  void refill(std::uint64_t now_ns) noexcept {
    tokens_ = tokens_at(now_ns);
    if (now_ns > last_) last_ = now_ns;
  }

  std::uint64_t rate_, burst_;
  u128 capacity_, tokens_;
  std::uint64_t last_;
};

/// RateLimiter shared by several threads (one mutex; the critical section is a few
/// integer operations).
class ThreadSafeRateLimiter {
 public:
  /// A limiter with `cfg`, full at now_ns. Throws as RateLimiter's constructor.
  ThreadSafeRateLimiter(const RateLimiterConfig& cfg, std::uint64_t now_ns) : inner_(cfg, now_ns) {}
  /// RateLimiter::try_acquire under the lock: any thread.
  [[nodiscard]] bool try_acquire(std::uint64_t n, std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    return inner_.try_acquire(n, now_ns);
  }
  /// RateLimiter::time_until_available under the lock: any thread.
  [[nodiscard]] std::uint64_t time_until_available(std::uint64_t n, std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    return inner_.time_until_available(n, now_ns);
  }
  /// RateLimiter::available under the lock: any thread.
  [[nodiscard]] std::uint64_t available(std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    return inner_.available(now_ns);
  }

 private:
  std::mutex mutex_;
  RateLimiter inner_;
};

}  // namespace hft
