// hft/sched/circuit_breaker.hpp: CircuitBreaker (closed / open / half-open) and its
// thread-safe variant.
//
// What: guards calls to a dependency that may fail. Closed: calls pass; outcomes go into a
//   sliding window (the last N calls, or the calls of the last T nanoseconds in time
//   buckets). The breaker opens when, with at least min_calls in the window, the failure
//   rate reaches failure_rate_pct, or when consecutive_failures failures arrive in a row.
//   Open: calls are rejected until open_cooldown_ns has passed (time comes from the caller,
//   e.g. a SimClock or TscClock reading); then half-open: at most half_open_trials trial
//   calls are let through; if all succeed the breaker closes (window cleared), the first
//   failure opens it again, and so does a trial that has not reported within
//   half_open_timeout_ns (a trial that never reports cannot wedge the breaker half-open).
// A call is try_acquire(now) -> Permit, then record(permit, success, now). The permit
//   carries the breaker's generation (it changes at every transition), so only outcomes of
//   calls admitted in the current state count: a slow call admitted while closed that
//   reports after the breaker opened and half-opened does not close it; its outcome is
//   counted in Stats::stale and otherwise ignored.
// Time: the caller's timestamps may be slightly out of order (several threads reading one
//   clock). A timestamp earlier than the opening still counts as inside the cool-down; in a
//   time window, an outcome older than the window is dropped (counted stale), and never
//   clears a newer bucket. Times and durations may be anything up to UINT64_MAX: the
//   breaker compares elapsed times, never a time plus a duration, so nothing wraps
//   (open_cooldown_ns = UINT64_MAX keeps it open for as long as a uint64 clock runs).
// When to use: a venue session, a pricing service, anything whose failure should be
//   answered fast instead of waited on. When not: rate control (RateLimiter) or queue
//   depth control (BackpressureGuard).
// Compared with: resilience4j's CircuitBreaker: the same states, windows and maximum wait in
//   half-open, but time is passed in, the window is a fixed array (no allocation after
//   construction), and a call is a permit-carrying try_acquire / record pair rather than a
//   decorated function.
// Thread-safety: CircuitBreaker: one thread at a time. ThreadSafeCircuitBreaker:
//   any thread (a std::mutex around each call). The state-change callback runs on the
//   calling thread, inside the call (in the thread-safe variant: under the lock: keep it
//   short and do not call back into the breaker). If the callback throws, the transition
//   has already happened and the exception propagates.
// Progress: CircuitBreaker wait-free; ThreadSafeCircuitBreaker blocking (mutex).
// Memory ordering: none in CircuitBreaker (not shared); the thread-safe variant's mutex
//   orders every call after the previous one.
// Complexity: O(1) per call (a time window advances over at most `buckets` buckets).
// Lifecycle: CircuitBreaker is copyable (an independent breaker in the same state) and
//   movable (the moved-from one may only be assigned to or destroyed);
//   ThreadSafeCircuitBreaker is neither.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "hft/core/assert.hpp"

namespace hft {

/// Closed: calls pass; Open: calls are refused until the cool-down ends; HalfOpen: a few trial
/// calls decide.
enum class BreakerState : std::uint8_t { Closed, Open, HalfOpen };

/// "CLOSED", "OPEN" or "HALF_OPEN", for logs and metrics labels.
[[nodiscard]] constexpr const char* to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::Closed: return "CLOSED";
    case BreakerState::Open: return "OPEN";
    case BreakerState::HalfOpen: return "HALF_OPEN";
  }
  return "?";
}

/// When a CircuitBreaker opens, how long it stays open, and how it closes again.
struct CircuitBreakerConfig {
  /// How failures are counted: over the last window_calls outcomes (Count) or the last
  /// window_ns nanoseconds (Time).
  enum class Window : std::uint8_t { Count, Time };
  Window window = Window::Count;                ///< which of the two windows the failure rate is measured over
  std::uint32_t window_calls = 100;             ///< Count: the last N outcomes
  std::uint64_t window_ns = 10'000'000'000ULL;  ///< Time: outcomes of the last T ns ...
  std::uint32_t buckets = 10;                   ///< ... kept in this many buckets
  std::uint32_t min_calls = 20;                 ///< no rate decision with fewer in the window
  std::uint32_t failure_rate_pct = 50;          ///< open at >= this failure rate (1..100; 0 = off)
  std::uint32_t consecutive_failures = 0;       ///< open after this many in a row (0 = off)
  /// Time Open refuses every call before it lets trials through (HalfOpen)
  std::uint64_t open_cooldown_ns = 1'000'000'000ULL;
  std::uint32_t half_open_trials = 3;      ///< trial calls admitted in HalfOpen; all succeed: Closed, one fails: Open
  std::uint64_t half_open_timeout_ns = 0;  ///< trials unanswered this long re-open (0: open_cooldown_ns)
};

/// Counters of a CircuitBreaker since construction, returned by value from stats().
struct CircuitBreakerStats {
  std::uint64_t permitted = 0;       ///< permits try_acquire() handed out
  std::uint64_t rejected = 0;        ///< calls try_acquire() refused
  std::uint64_t successes = 0;       ///< outcomes recorded as success
  std::uint64_t failures = 0;        ///< outcomes recorded as failure
  std::uint64_t opened = 0;          ///< transitions into Open
  std::uint64_t half_opened = 0;     ///< transitions into HalfOpen
  std::uint64_t closed = 0;          ///< transitions into Closed
  std::uint64_t stale = 0;           ///< outcomes of calls admitted in an earlier state, ignored
  std::uint64_t trial_timeouts = 0;  ///< half-open trials that did not report in time
};

/// A circuit breaker for calls to a failing dependency: refuses calls while the failure rate
/// (or a run of failures) is too high, then lets a few trials through. One thread;
/// ThreadSafeCircuitBreaker for several.
class CircuitBreaker {
 public:
  /// Called on every state change with the old and new state and the time, on the thread that
  /// caused it.
  using OnChange = std::function<void(BreakerState from, BreakerState to, std::uint64_t now_ns)>;

  /// What try_acquire() hands out: true when the call may go ahead. Pass it back to
  /// record() with the call's outcome. Trivially copyable.
  class Permit {
   public:
    Permit() = default;  // a refusal
    /// True when the call may go ahead.
    explicit operator bool() const noexcept { return permitted_; }

   private:
    friend class CircuitBreaker;
    Permit(std::uint64_t generation, bool permitted) noexcept : generation_(generation), permitted_(permitted) {}
    std::uint64_t generation_ = 0;
    bool permitted_ = false;
  };

  /// Throws std::invalid_argument on an inconsistent config.
  explicit CircuitBreaker(const CircuitBreakerConfig& cfg, OnChange on_change = {})
      : cfg_(validate(cfg)), on_change_(std::move(on_change)),
        count_ring_(cfg.window == CircuitBreakerConfig::Window::Count ? cfg.window_calls : 0),
        buckets_(cfg.window == CircuitBreakerConfig::Window::Time ? cfg.buckets : 0) {}

  /// May a call go ahead at now_ns? Open: no (until the cool-down ends, when the breaker
  /// turns half-open). Half-open: yes for up to half_open_trials calls; once all have been
  /// handed out and half_open_timeout_ns passes without an answer, the breaker opens again.
  [[nodiscard]] Permit try_acquire(std::uint64_t now_ns) {
    if (state_ == BreakerState::Open) {
      if (cooling(now_ns)) {
        ++stats_.rejected;
        return {};
      }
      transition(BreakerState::HalfOpen, now_ns);
    }
    if (state_ == BreakerState::HalfOpen) {
      if (trials_started_ >= cfg_.half_open_trials) {
        if (now_ns >= half_opened_at_ && now_ns - half_opened_at_ >= trial_timeout()) {
          ++stats_.trial_timeouts;
          open(now_ns);  // the unanswered trials count as failed
        }
        ++stats_.rejected;
        return {};
      }
      ++trials_started_;
    }
    ++stats_.permitted;
    return Permit(generation_, true);
  }

  /// The outcome of a call that try_acquire permitted. Outcomes of calls admitted in an
  /// earlier state (another generation) are counted as stale and change nothing. A refused
  /// permit is a precondition violation (asserted; ignored in release builds).
  void record(const Permit& permit, bool success, std::uint64_t now_ns) {
    HFT_ASSERT(static_cast<bool>(permit), "CircuitBreaker::record with a permit try_acquire refused");
    if (!permit) return;
    success ? ++stats_.successes : ++stats_.failures;
    if (permit.generation_ != generation_) {
      ++stats_.stale;
      return;
    }
    switch (state_) {
      case BreakerState::Closed:
        if (!add_outcome(success, now_ns)) return;
        consecutive_ = success ? 0 : consecutive_ + 1;
        if (should_open()) open(now_ns);
        break;
      case BreakerState::HalfOpen:
        if (!success) {
          open(now_ns);
        } else if (++trials_ok_ >= cfg_.half_open_trials) {
          transition(BreakerState::Closed, now_ns);
          reset_window();
        }
        break;
      case BreakerState::Open:
        break;  // unreachable: a permit is never handed out in the Open generation
    }
  }
  /// Records that the call `p` admitted succeeded (record(p, true, now_ns)).
  void record_success(const Permit& p, std::uint64_t now_ns) { record(p, true, now_ns); }
  /// Records that the call `p` admitted failed (record(p, false, now_ns)).
  void record_failure(const Permit& p, std::uint64_t now_ns) { record(p, false, now_ns); }

  /// The state as a caller would see it at now_ns (Open turns HalfOpen after the cool-down
  /// on the next try_acquire; this reports HalfOpen already).
  [[nodiscard]] BreakerState state(std::uint64_t now_ns) const noexcept {
    if (state_ == BreakerState::Open && !cooling(now_ns)) return BreakerState::HalfOpen;
    return state_;
  }
  /// A copy of the counters.
  [[nodiscard]] CircuitBreakerStats stats() const noexcept { return stats_; }
  /// Failure rate of the current window in percent (0 when empty).
  [[nodiscard]] double failure_rate_pct(std::uint64_t now_ns) {
    advance(now_ns);
    return window_calls_ == 0 ? 0.0
                              : 100.0 * static_cast<double>(window_failures_) / static_cast<double>(window_calls_);
  }

 private:
  struct Bucket {
    std::uint64_t start = 0;  // bucket index (now / bucket width) it holds
    std::uint32_t calls = 0, failures = 0;
  };

  static const CircuitBreakerConfig& validate(const CircuitBreakerConfig& c) {
    if (c.failure_rate_pct > 100) throw std::invalid_argument("hft::CircuitBreaker: failure_rate_pct must be 0..100");
    if (c.failure_rate_pct == 0 && c.consecutive_failures == 0) {
      throw std::invalid_argument("hft::CircuitBreaker: set failure_rate_pct and/or consecutive_failures");
    }
    if (c.half_open_trials == 0) throw std::invalid_argument("hft::CircuitBreaker: half_open_trials must be >= 1");
    if (c.window == CircuitBreakerConfig::Window::Count && c.window_calls == 0) {
      throw std::invalid_argument("hft::CircuitBreaker: window_calls must be >= 1");
    }
    if (c.window == CircuitBreakerConfig::Window::Time && (c.buckets == 0 || c.window_ns < c.buckets)) {
      throw std::invalid_argument("hft::CircuitBreaker: time window needs buckets >= 1 and window_ns >= buckets");
    }
    return c;
  }

  // Closed: puts an outcome in the window; false when it is too old for a time window.
  bool add_outcome(bool success, std::uint64_t now_ns) {
    if (cfg_.window == CircuitBreakerConfig::Window::Count) {
      if (count_filled_ == count_ring_.size()) {  // evict the oldest
        window_failures_ -= count_ring_[count_pos_] ? 1u : 0u;
        --window_calls_;
      } else {
        ++count_filled_;
      }
      count_ring_[count_pos_] = !success;
      count_pos_ = count_pos_ + 1 == count_ring_.size() ? 0 : count_pos_ + 1;
    } else {
      advance(now_ns);
      const std::uint64_t cur = bucket_of(now_ns);
      // advance() made cur <= newest_bucket_; the distance, not cur + buckets, which wraps
      // for a bucket index near 2^64 (a 1 ns bucket at a time near 2^64).
      if (newest_bucket_ - cur >= buckets_.size()) {  // older than the window
        ++stats_.stale;
        return false;
      }
      Bucket& b = buckets_[cur % buckets_.size()];
      if (b.start != cur) b = Bucket{cur, 0, 0};  // an expired bucket (already out of the sums)
      ++b.calls;
      b.failures += success ? 0u : 1u;
    }
    ++window_calls_;
    window_failures_ += success ? 0 : 1;
    return true;
  }

  [[nodiscard]] std::uint64_t bucket_of(std::uint64_t now_ns) const noexcept {
    return now_ns / (cfg_.window_ns / cfg_.buckets);
  }

  // Time window: moves the window's end to now_ns (never backwards) and drops the buckets
  // that left it (at most `buckets` of them per call).
  void advance(std::uint64_t now_ns) {
    if (cfg_.window != CircuitBreakerConfig::Window::Time) return;
    const std::uint64_t cur = bucket_of(now_ns);
    if (cur <= newest_bucket_ && window_started_) return;
    window_started_ = true;
    newest_bucket_ = cur;
    for (Bucket& b : buckets_) {
      if (b.calls != 0 && cur - b.start >= buckets_.size()) {  // out of the window (b.start <= cur)
        window_calls_ -= b.calls;
        window_failures_ -= b.failures;
        b.calls = b.failures = 0;
      }
    }
  }

  [[nodiscard]] bool should_open() const noexcept {
    if (cfg_.consecutive_failures != 0 && consecutive_ >= cfg_.consecutive_failures) return true;
    if (cfg_.failure_rate_pct != 0 && window_calls_ >= cfg_.min_calls && window_calls_ > 0 &&
        window_failures_ * 100 >= static_cast<std::uint64_t>(cfg_.failure_rate_pct) * window_calls_) {
      return true;
    }
    return false;
  }

  // Still in the cool-down at now_ns? A timestamp before the opening (another thread's
  // clock read, slightly older) is inside it, not 2^64 ns after it.
  [[nodiscard]] bool cooling(std::uint64_t now_ns) const noexcept {
    return now_ns < opened_at_ || now_ns - opened_at_ < cfg_.open_cooldown_ns;
  }
  [[nodiscard]] std::uint64_t trial_timeout() const noexcept {
    return cfg_.half_open_timeout_ns != 0 ? cfg_.half_open_timeout_ns : cfg_.open_cooldown_ns;
  }

  void open(std::uint64_t now_ns) {
    opened_at_ = now_ns;
    transition(BreakerState::Open, now_ns);
  }

  void transition(BreakerState to, std::uint64_t now_ns) {
    const BreakerState from = state_;
    state_ = to;
    ++generation_;  // every permit handed out before is stale from now on
    trials_started_ = trials_ok_ = 0;
    consecutive_ = 0;
    if (to == BreakerState::HalfOpen) half_opened_at_ = now_ns;
    if (to == BreakerState::Open) ++stats_.opened;
    if (to == BreakerState::HalfOpen) ++stats_.half_opened;
    if (to == BreakerState::Closed) ++stats_.closed;
    if (on_change_) on_change_(from, to, now_ns);
  }

  void reset_window() {
    for (std::size_t i = 0; i < count_ring_.size(); ++i) count_ring_[i] = false;
    count_pos_ = count_filled_ = 0;
    for (Bucket& b : buckets_) b = Bucket{};
    window_calls_ = window_failures_ = 0;
    window_started_ = false;
    newest_bucket_ = 0;
  }

  CircuitBreakerConfig cfg_;
  OnChange on_change_;
  BreakerState state_ = BreakerState::Closed;
  std::uint64_t generation_ = 0;
  std::uint64_t opened_at_ = 0, half_opened_at_ = 0;
  std::uint64_t newest_bucket_ = 0;  // time window: the bucket of the latest time seen
  bool window_started_ = false;
  std::uint32_t trials_started_ = 0, trials_ok_ = 0, consecutive_ = 0;
  std::vector<bool> count_ring_;  // true = failure
  std::size_t count_pos_ = 0, count_filled_ = 0;
  std::vector<Bucket> buckets_;
  std::uint64_t window_calls_ = 0, window_failures_ = 0;
  CircuitBreakerStats stats_;
};

/// CircuitBreaker for any thread: each call under a std::mutex.
class ThreadSafeCircuitBreaker {
 public:
  /// A breaker with `cfg`; `on_change` runs under the lock, so it must not call back into the
  /// breaker. Throws as CircuitBreaker's constructor.
  explicit ThreadSafeCircuitBreaker(const CircuitBreakerConfig& cfg, CircuitBreaker::OnChange on_change = {})
      : cb_(cfg, std::move(on_change)) {}
  /// CircuitBreaker::try_acquire under the lock: any thread.
  [[nodiscard]] CircuitBreaker::Permit try_acquire(std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    return cb_.try_acquire(now_ns);
  }
  /// CircuitBreaker::record under the lock: any thread.
  void record(const CircuitBreaker::Permit& permit, bool success, std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    cb_.record(permit, success, now_ns);
  }
  /// CircuitBreaker::state under the lock: any thread.
  [[nodiscard]] BreakerState state(std::uint64_t now_ns) const {
    std::lock_guard lock(mutex_);
    return cb_.state(now_ns);
  }
  /// A copy of the counters, taken under the lock.
  [[nodiscard]] CircuitBreakerStats stats() const {
    std::lock_guard lock(mutex_);
    return cb_.stats();
  }

 private:
  mutable std::mutex mutex_;
  CircuitBreaker cb_;
};

}  // namespace hft
