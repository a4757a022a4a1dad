// hft/sched/backpressure_guard.hpp: BackpressureGuard, high/low watermark hysteresis over a
// fill level: tells upstream to pause and to resume.
//
// What: update(level, now) with the current fill (queue depth, bytes buffered, ...). At
//   level >= high the guard pauses; it resumes only once level <= low (low < high), so a
//   level hovering around one threshold does not flap. Each transition calls an optional
//   callback; the guard counts pauses and resumes and the total time spent paused (time
//   comes from the caller: a TscClock, SteadyClock or SimClock reading).
// When to use: a producer feeding a bounded stage (a gateway reading sockets into a ring,
//   a feed handler filling a queue) that should stop reading rather than reject. When not:
//   immediate rejection (answer BUSY on a full ring instead), or failing dependencies
//   (CircuitBreaker).
// Thread-safety: update(): one thread at a time (the thread that watches the
//   level). paused(): any thread (an atomic load, acquire, pairing with update()'s
//   release store). The counters: the updating thread.
// Progress: wait-free.
// Memory ordering: paused() is an acquire load pairing with update()'s release store of
//   the flag; the counters are not shared.
// Complexity: O(1) per update.
// Compared with: a bounded queue that rejects when full (no hysteresis: it flaps at the
//   threshold); Netty's Channel high/low write-buffer watermarks are the same idea for
//   one channel's outbound bytes; this one watches any level you report.
// Lifecycle: neither copyable nor movable (readers of paused() hold its address). If the
//   callback throws, the transition (state, counters) has happened and the exception propagates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace hft {

/// Hysteresis thresholds: pause at level >= high, resume at level <= low (low < high).
struct BackpressureGuardConfig {
  std::uint64_t high = 0;  ///< pause when the level reaches this
  std::uint64_t low = 0;   ///< resume when the level falls to this (< high)
};

/// Pause/resume with hysteresis on a level (a queue depth, bytes in flight): pauses at high,
/// resumes at low, and counts and times the pauses. update() from one thread.
class BackpressureGuard {
 public:
  /// Called on each pause and resume with the new state, the level and the time, on the
  /// updating thread.
  using OnChange = std::function<void(bool paused, std::uint64_t level, std::uint64_t now_ns)>;

  /// Throws std::invalid_argument unless low < high.
  explicit BackpressureGuard(const BackpressureGuardConfig& cfg, OnChange on_change = {})
      : high_(cfg.high), low_(cfg.low), on_change_(std::move(on_change)) {
    if (!(cfg.low < cfg.high)) {
      throw std::invalid_argument("hft::BackpressureGuard: low (" + std::to_string(cfg.low) +
                                  ") must be below high (" + std::to_string(cfg.high) + ")");
    }
  }

  /// Reports the level at now_ns; returns whether upstream should be paused.
  bool update(std::uint64_t level, std::uint64_t now_ns) {
    const bool was = paused_.load(std::memory_order_relaxed);
    bool now_paused = was;
    if (!was && level >= high_) now_paused = true;
    if (was && level <= low_) now_paused = false;
    if (now_paused != was) {
      // Release pairs with paused()'s acquire: a reader that sees the flag also sees
      // whatever the updating thread wrote before it.
      paused_.store(now_paused, std::memory_order_release);
      if (now_paused) {
        ++pauses_;
        paused_since_ = now_ns;
      } else {
        ++resumes_;
        paused_ns_ = saturating_add(paused_ns_, elapsed(now_ns));
      }
      if (on_change_) on_change_(now_paused, level, now_ns);
    }
    return now_paused;
  }

  /// Any thread. Acquire pairs with update()'s release store of the flag.
  [[nodiscard]] bool paused() const noexcept { return paused_.load(std::memory_order_acquire); }
  /// Pauses so far (the updating thread's count).
  [[nodiscard]] std::uint64_t pauses() const noexcept { return pauses_; }
  /// Resumes so far (the updating thread's count).
  [[nodiscard]] std::uint64_t resumes() const noexcept { return resumes_; }
  /// Total time spent paused up to now_ns (including a pause still in progress);
  /// saturates at UINT64_MAX.
  [[nodiscard]] std::uint64_t paused_ns(std::uint64_t now_ns) const noexcept {
    return saturating_add(paused_ns_, paused_.load(std::memory_order_relaxed) ? elapsed(now_ns) : 0);
  }
  /// The configured high threshold.
  [[nodiscard]] std::uint64_t high() const noexcept { return high_; }
  /// The configured low threshold.
  [[nodiscard]] std::uint64_t low() const noexcept { return low_; }

 private:
  // Time paused so far; a timestamp older than the pause (another thread's clock read)
  // counts as 0, never as 2^64 - d.
  [[nodiscard]] std::uint64_t elapsed(std::uint64_t now_ns) const noexcept {
    return now_ns > paused_since_ ? now_ns - paused_since_ : 0;
  }
  // Pauses measured on a clock that stepped back between them can sum past 2^64 ns: the
  // total stops at UINT64_MAX rather than wrapping to a small number.
  static std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    return b > kMax - a ? kMax : a + b;
  }

  const std::uint64_t high_, low_;
  OnChange on_change_;
  std::atomic<bool> paused_{false};
  std::uint64_t pauses_ = 0, resumes_ = 0, paused_ns_ = 0, paused_since_ = 0;
};

}  // namespace hft
