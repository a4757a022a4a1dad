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
//   failure opens it again.
// When to use: a venue session, a pricing service, anything whose failure should be
//   answered fast instead of waited on. When not: rate control (RateLimiter) or queue
//   depth control (BackpressureGuard).
// How it differs from resilience4j's: the same states and windows, but time is passed in,
//   the window is a fixed array (no allocation after construction), and a call is a pair
//   try_acquire(now) / record(success, now) rather than a decorated function.
// Thread-safety contract: CircuitBreaker: one thread at a time. ThreadSafeCircuitBreaker:
//   any thread (a std::mutex around each call). The state-change callback runs on the
//   calling thread, inside the call (in the thread-safe variant: under the lock: keep it
//   short and do not call back into the breaker).
// Progress: CircuitBreaker wait-free, O(1) per call (a time window advances over at most
//   `buckets` buckets). ThreadSafeCircuitBreaker blocking.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace hft {

enum class BreakerState : std::uint8_t { Closed, Open, HalfOpen };

[[nodiscard]] constexpr const char* to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::Closed: return "CLOSED";
    case BreakerState::Open: return "OPEN";
    case BreakerState::HalfOpen: return "HALF_OPEN";
  }
  return "?";
}

struct CircuitBreakerConfig {
  enum class Window : std::uint8_t { Count, Time };
  Window window = Window::Count;
  std::uint32_t window_calls = 100;             // Count: the last N outcomes
  std::uint64_t window_ns = 10'000'000'000ULL;  // Time: outcomes of the last T ns ...
  std::uint32_t buckets = 10;                   // ... kept in this many buckets
  std::uint32_t min_calls = 20;                 // no rate decision with fewer in the window
  std::uint32_t failure_rate_pct = 50;          // open at >= this failure rate (1..100; 0 = off)
  std::uint32_t consecutive_failures = 0;       // open after this many in a row (0 = off)
  std::uint64_t open_cooldown_ns = 1'000'000'000ULL;
  std::uint32_t half_open_trials = 3;
};

struct CircuitBreakerCounters {
  std::uint64_t permitted = 0, rejected = 0, successes = 0, failures = 0;
  std::uint64_t opened = 0, half_opened = 0, closed = 0;
};

class CircuitBreaker {
 public:
  using OnChange = std::function<void(BreakerState from, BreakerState to, std::uint64_t now_ns)>;

  /// Throws std::invalid_argument on an inconsistent config.
  explicit CircuitBreaker(const CircuitBreakerConfig& cfg, OnChange on_change = {})
      : cfg_(validate(cfg)), on_change_(std::move(on_change)),
        count_ring_(cfg.window == CircuitBreakerConfig::Window::Count ? cfg.window_calls : 0),
        buckets_(cfg.window == CircuitBreakerConfig::Window::Time ? cfg.buckets : 0) {}

  /// May a call go ahead at now_ns? Open: no (until the cool-down ends, when the breaker
  /// turns half-open). Half-open: yes for up to half_open_trials calls in flight.
  [[nodiscard]] bool try_acquire(std::uint64_t now_ns) {
    if (state_ == BreakerState::Open) {
      if (now_ns - opened_at_ < cfg_.open_cooldown_ns) {
        ++counters_.rejected;
        return false;
      }
      transition(BreakerState::HalfOpen, now_ns);
    }
    if (state_ == BreakerState::HalfOpen) {
      if (trials_started_ >= cfg_.half_open_trials) {
        ++counters_.rejected;
        return false;
      }
      ++trials_started_;
    }
    ++counters_.permitted;
    return true;
  }

  /// The outcome of a call that try_acquire permitted.
  void record(bool success, std::uint64_t now_ns) {
    success ? ++counters_.successes : ++counters_.failures;
    switch (state_) {
      case BreakerState::Closed:
        add_outcome(success, now_ns);
        consecutive_ = success ? 0 : consecutive_ + 1;
        if (should_open(now_ns)) open(now_ns);
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
        break;  // a call admitted before the breaker opened: its outcome no longer matters
    }
  }
  void record_success(std::uint64_t now_ns) { record(true, now_ns); }
  void record_failure(std::uint64_t now_ns) { record(false, now_ns); }

  /// The state as a caller would see it at now_ns (Open turns HalfOpen after the cool-down
  /// on the next try_acquire; this reports HalfOpen already).
  [[nodiscard]] BreakerState state(std::uint64_t now_ns) const noexcept {
    if (state_ == BreakerState::Open && now_ns - opened_at_ >= cfg_.open_cooldown_ns) return BreakerState::HalfOpen;
    return state_;
  }
  [[nodiscard]] const CircuitBreakerCounters& counters() const noexcept { return counters_; }
  /// Failure rate of the current window in percent (0 when empty).
  [[nodiscard]] double failure_rate_pct(std::uint64_t now_ns) {
    advance(now_ns);
    return window_calls_ == 0 ? 0.0 : 100.0 * static_cast<double>(window_failures_) / static_cast<double>(window_calls_);
  }

 private:
  struct Bucket {
    std::uint64_t start = 0;  // bucket index (now / bucket width) it holds
    std::uint32_t calls = 0, failures = 0;
  };

  static const CircuitBreakerConfig& validate(const CircuitBreakerConfig& c) {
    if (c.failure_rate_pct > 100) throw std::invalid_argument("CircuitBreaker: failure_rate_pct must be 0..100");
    if (c.failure_rate_pct == 0 && c.consecutive_failures == 0) {
      throw std::invalid_argument("CircuitBreaker: set failure_rate_pct and/or consecutive_failures");
    }
    if (c.half_open_trials == 0) throw std::invalid_argument("CircuitBreaker: half_open_trials must be >= 1");
    if (c.window == CircuitBreakerConfig::Window::Count && c.window_calls == 0) {
      throw std::invalid_argument("CircuitBreaker: window_calls must be >= 1");
    }
    if (c.window == CircuitBreakerConfig::Window::Time && (c.buckets == 0 || c.window_ns < c.buckets)) {
      throw std::invalid_argument("CircuitBreaker: time window needs buckets >= 1 and window_ns >= buckets");
    }
    return c;
  }

  void add_outcome(bool success, std::uint64_t now_ns) {
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
      Bucket& b = buckets_[bucket_of(now_ns) % buckets_.size()];
      ++b.calls;
      b.failures += success ? 0u : 1u;
    }
    ++window_calls_;
    window_failures_ += success ? 0 : 1;
  }

  [[nodiscard]] std::uint64_t bucket_of(std::uint64_t now_ns) const noexcept {
    return now_ns / (cfg_.window_ns / cfg_.buckets);
  }

  // Time window: drop buckets older than the window (at most `buckets` of them per call).
  void advance(std::uint64_t now_ns) {
    if (cfg_.window != CircuitBreakerConfig::Window::Time) return;
    const std::uint64_t cur = bucket_of(now_ns);
    for (Bucket& b : buckets_) {
      if (b.calls != 0 && b.start + buckets_.size() <= cur) {  // out of the window
        window_calls_ -= b.calls;
        window_failures_ -= b.failures;
        b.calls = b.failures = 0;
      }
    }
    Bucket& b = buckets_[cur % buckets_.size()];
    if (b.start != cur) {
      window_calls_ -= b.calls;
      window_failures_ -= b.failures;
      b = Bucket{cur, 0, 0};
    }
  }

  bool should_open(std::uint64_t) const noexcept {
    if (cfg_.consecutive_failures != 0 && consecutive_ >= cfg_.consecutive_failures) return true;
    if (cfg_.failure_rate_pct != 0 && window_calls_ >= cfg_.min_calls && window_calls_ > 0 &&
        window_failures_ * 100 >= static_cast<std::uint64_t>(cfg_.failure_rate_pct) * window_calls_) {
      return true;
    }
    return false;
  }

  void open(std::uint64_t now_ns) {
    opened_at_ = now_ns;
    transition(BreakerState::Open, now_ns);
  }

  void transition(BreakerState to, std::uint64_t now_ns) {
    const BreakerState from = state_;
    state_ = to;
    trials_started_ = trials_ok_ = 0;
    consecutive_ = 0;
    if (to == BreakerState::Open) ++counters_.opened;
    if (to == BreakerState::HalfOpen) ++counters_.half_opened;
    if (to == BreakerState::Closed) ++counters_.closed;
    if (on_change_) on_change_(from, to, now_ns);
  }

  void reset_window() {
    for (std::size_t i = 0; i < count_ring_.size(); ++i) count_ring_[i] = false;
    count_pos_ = count_filled_ = 0;
    for (Bucket& b : buckets_) b = Bucket{};
    window_calls_ = window_failures_ = 0;
  }

  CircuitBreakerConfig cfg_;
  OnChange on_change_;
  BreakerState state_ = BreakerState::Closed;
  std::uint64_t opened_at_ = 0;
  std::uint32_t trials_started_ = 0, trials_ok_ = 0, consecutive_ = 0;
  std::vector<bool> count_ring_;  // true = failure
  std::size_t count_pos_ = 0, count_filled_ = 0;
  std::vector<Bucket> buckets_;
  std::uint64_t window_calls_ = 0, window_failures_ = 0;
  CircuitBreakerCounters counters_;
};

/// CircuitBreaker for any thread: each call under a std::mutex.
class ThreadSafeCircuitBreaker {
 public:
  explicit ThreadSafeCircuitBreaker(const CircuitBreakerConfig& cfg, CircuitBreaker::OnChange on_change = {})
      : cb_(cfg, std::move(on_change)) {}
  [[nodiscard]] bool try_acquire(std::uint64_t now_ns) {
    std::lock_guard lock(m_);
    return cb_.try_acquire(now_ns);
  }
  void record(bool success, std::uint64_t now_ns) {
    std::lock_guard lock(m_);
    cb_.record(success, now_ns);
  }
  [[nodiscard]] BreakerState state(std::uint64_t now_ns) const {
    std::lock_guard lock(m_);
    return cb_.state(now_ns);
  }
  [[nodiscard]] CircuitBreakerCounters counters() const {
    std::lock_guard lock(m_);
    return cb_.counters();
  }

 private:
  mutable std::mutex m_;
  CircuitBreaker cb_;
};

}  // namespace hft
