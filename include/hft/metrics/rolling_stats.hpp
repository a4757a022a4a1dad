// hft/metrics/rolling_stats.hpp: RollingStats, count, sum, mean, variance/stddev, min and
// max over a sliding window: the last N samples, or the samples of the last T nanoseconds.
//
// What: add(x) (count window) or add(x, now) (time window) in O(1) amortized; every
//   statistic is O(1). Mean and variance use Welford's update with removal (a sample
//   leaving the window is subtracted exactly as it was added), and every `capacity`
//   removals the window is re-summed from scratch (two-pass, exact), so rounding error
//   cannot accumulate over a long stream, and values with a large common offset (prices
//   around 1e9) keep their variance digits. Min and max come from monotonic queues
//   (each sample pushed and popped at most once: amortized O(1)); Extremes::No skips them.
// When to use: per-tick statistics in a strategy or a risk check (rolling volatility,
//   spread, queue depth). When not: all-time statistics (a plain Welford accumulator is
//   cheaper), quantiles (SlidingMedian / P2Quantile).
// Time windows: samples with t <= now - window_ns leave the window (at add or at
//   expire(now)). A time window also has a capacity (max_samples): past it the oldest
//   sample leaves early; evicted_early() counts those. Any window_ns and any time are
//   exact: the age now - t is compared with the window, never t + window_ns (which wraps),
//   so time_window(UINT64_MAX, n) keeps every sample until capacity evicts it, and a time
//   earlier than a sample's (a clock that stepped back) expires nothing.
// Thread-safety: one thread at a time.
// Progress: wait-free; nothing allocated after construction.
// Memory ordering: none (not shared).
// Complexity: O(1) amortized per add (each sample enters and leaves each monotonic queue
//   once; one O(capacity) re-sum every `capacity` removals); O(1) per statistic.
// Compared with: Boost.Accumulators' rolling_mean and rolling_variance do the same O(1)
//   add/remove update (bench_analytics measures both) but have no exact re-sum, no time
//   window and no min/max; TA-Lib works on whole arrays.
// Memory: capacity x 32 bytes, allocated in the constructor.
// Lifecycle: movable, not copyable; a moved-from RollingStats may only be assigned to or
//   destroyed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>

namespace hft {

/// Mean, variance, min and max over a sliding window of samples (the last N, or the last T ns),
/// O(1) amortised per add. One thread.
class RollingStats {
 public:
  /// Whether min()/max() are tracked: the two monotonic queues cost about as much as the
  /// mean and variance together (their pops branch on the data), so callers that do not
  /// need extremes can turn them off.
  enum class Extremes : bool { No = false, Yes = true };

  /// The last `window` samples.
  [[nodiscard]] static RollingStats count_window(std::size_t window, Extremes e = Extremes::Yes) {
    return RollingStats(window, 0, false, e == Extremes::Yes);
  }
  /// The samples of the last `window_ns`, at most `max_samples` of them.
  [[nodiscard]] static RollingStats time_window(std::uint64_t window_ns, std::size_t max_samples,
                                                Extremes e = Extremes::Yes) {
    if (window_ns == 0) throw std::invalid_argument("hft::RollingStats: window_ns must be >= 1");
    return RollingStats(max_samples, window_ns, true, e == Extremes::Yes);
  }

  /// Count window: adds x (the oldest sample leaves when the window is full).
  void add(double x) { add(x, seq_ + 1); }
  /// Time window: expires samples older than now - window, then adds x at now (now must
  /// not go backwards). On a count window `now` is only a sequence number.
  void add(double x, std::uint64_t now) {
    if (timed_) expire(now);
    seq_ = now;
    if (!timed_ && n_ == capacity_) {
      ++pushed_;
      // Steady state of a count window: one sample leaves, one arrives, n unchanged. The
      // combined Welford step (no division: 1/n is fixed) replaces remove + add.
      const double y = vals_[head_].x;
      vals_[head_] = Sample{now, x};
      head_ = next(head_);
      const double old_mean = mean_;
      mean_ += (x - y) * inv_capacity_;
      m2_ += (x - y) * (x - mean_ + y - old_mean);
      expire_front(pushed_ - capacity_);
      if (++removals_ >= capacity_) recompute();
    } else {
      if (n_ == capacity_) {  // time window at capacity: the oldest leaves early
        ++evicted_early_;
        remove_oldest();
      }
      ++pushed_;
      vals_[wrap(head_ + n_)] = Sample{now, x};
      ++n_;
      const double d = x - mean_;
      mean_ += d / static_cast<double>(n_);
      m2_ += d * (x - mean_);
    }
    if (extremes_) {
      push_monotonic(min_q_, min_head_, min_n_, Sample{pushed_, x}, [](double a, double b) { return a <= b; });
      push_monotonic(max_q_, max_head_, max_n_, Sample{pushed_, x}, [](double a, double b) { return a >= b; });
    }
  }

  /// Time window: drops samples with t <= now - window_ns.
  void expire(std::uint64_t now) {
    if (!timed_) return;
    // The age, not t + window_ns: that sum wraps for a window or a time near 2^64.
    while (n_ > 0 && now >= vals_[head_].t && now - vals_[head_].t >= window_ns_) remove_oldest();
  }

  /// Samples in the window.
  [[nodiscard]] std::size_t count() const noexcept { return n_; }
  /// Mean of the window; 0 when empty.
  [[nodiscard]] double mean() const noexcept { return n_ ? mean_ : 0.0; }
  /// Sum of the window (mean x count).
  [[nodiscard]] double sum() const noexcept { return mean_ * static_cast<double>(n_); }
  /// Sample variance (n - 1); 0 for fewer than two samples.
  [[nodiscard]] double variance() const noexcept { return n_ > 1 ? clamp0(m2_) / static_cast<double>(n_ - 1) : 0.0; }
  /// Population variance (divides by n); 0 when empty.
  [[nodiscard]] double population_variance() const noexcept { return n_ ? clamp0(m2_) / static_cast<double>(n_) : 0.0; }
  /// Sample standard deviation: sqrt(variance()).
  [[nodiscard]] double stddev() const noexcept { return std::sqrt(variance()); }
  /// Smallest / largest sample in the window (NaN when empty or when made with Extremes::No).
  [[nodiscard]] double min() const noexcept {
    return min_n_ ? min_q_[min_head_].x : std::numeric_limits<double>::quiet_NaN();
  }
  /// Largest sample in the window (NaN when empty or made with Extremes::No).
  [[nodiscard]] double max() const noexcept {
    return max_n_ ? max_q_[max_head_].x : std::numeric_limits<double>::quiet_NaN();
  }
  /// The most samples the window holds.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Time window: samples dropped before their time because the window was at capacity.
  [[nodiscard]] std::uint64_t evicted_early() const noexcept { return evicted_early_; }
  /// Empties the window.
  void clear() noexcept {
    n_ = head_ = min_head_ = min_n_ = max_head_ = max_n_ = 0;
    mean_ = m2_ = 0;
    removals_ = 0;
  }

 private:
  struct Sample {
    std::uint64_t t;  // time (time window), sequence (count window); the queues: push index
    double x;
  };

  RollingStats(std::size_t capacity, std::uint64_t window_ns, bool timed, bool extremes)
      : extremes_(extremes),
        capacity_(capacity),
        inv_capacity_(1.0 / static_cast<double>(capacity ? capacity : 1)),
        window_ns_(window_ns),
        timed_(timed),
        vals_(new Sample[capacity ? capacity : 1]),
        min_q_(new Sample[capacity ? capacity : 1]),
        max_q_(new Sample[capacity ? capacity : 1]) {
    if (capacity == 0) throw std::invalid_argument("hft::RollingStats: the window / max_samples must be >= 1");
  }

  static double clamp0(double v) noexcept { return v < 0 ? 0 : v; }

  std::size_t next(std::size_t i) const noexcept { return i + 1 == capacity_ ? 0 : i + 1; }
  std::size_t wrap(std::size_t i) const noexcept { return i >= capacity_ ? i - capacity_ : i; }  // i < 2 cap

  // The sample with push index `removed_index` left: drop it from the extreme queues.
  void expire_front(std::uint64_t removed_index) noexcept {
    if (min_n_ && min_q_[min_head_].t <= removed_index) pop_front(min_head_, min_n_);
    if (max_n_ && max_q_[max_head_].t <= removed_index) pop_front(max_head_, max_n_);
  }

  void remove_oldest() {
    const double y = vals_[head_].x;
    head_ = next(head_);
    --n_;
    expire_front(pushed_ - n_);  // the window held push indices pushed_ - n_ .. pushed_
    if (n_ == 0) {
      mean_ = m2_ = 0;
      return;
    }
    // Welford removal: exactly undoes the add of y.
    const double d = y - mean_;
    mean_ -= d / static_cast<double>(n_);
    m2_ -= d * (y - mean_);
    if (++removals_ >= capacity_) recompute();
  }

  // Exact two-pass recomputation over the window: bounds accumulated rounding error.
  // Once per `capacity` updates; four partial sums, because one serial chain of n adds
  // (4 cycles each) cost more than every other update step together, amortised.
  void recompute() {
    removals_ = 0;
    const std::size_t first = std::min(n_, capacity_ - head_);  // the window as two runs of the ring
    const auto over_window = [&](auto term) {
      return sum4(vals_.get() + head_, first, term) + sum4(vals_.get(), n_ - first, term);
    };
    mean_ = over_window([](double x) { return x; }) / static_cast<double>(n_);
    const double m = mean_;
    m2_ = over_window([m](double x) { return (x - m) * (x - m); });
  }
  template <class Term>
  static double sum4(const Sample* p, std::size_t k, Term term) noexcept {
    double a = 0, b = 0, c = 0, d = 0;
    std::size_t i = 0;
    for (; i + 4 <= k; i += 4) {
      a += term(p[i].x);
      b += term(p[i + 1].x);
      c += term(p[i + 2].x);
      d += term(p[i + 3].x);
    }
    for (; i < k; ++i) a += term(p[i].x);
    return (a + b) + (c + d);
  }

  void pop_front(std::size_t& head, std::size_t& n) noexcept {
    head = head + 1 == capacity_ ? 0 : head + 1;
    --n;
  }

  template <class Dominates>
  void push_monotonic(std::unique_ptr<Sample[]>& q, std::size_t& head, std::size_t& n, Sample s, Dominates dominates) {
    // Drop from the back every sample the new one dominates: it can never be the extreme.
    while (n > 0 && dominates(s.x, q[wrap(head + n - 1)].x)) --n;
    q[wrap(head + n)] = s;
    ++n;
  }

  bool extremes_;
  std::size_t capacity_;
  double inv_capacity_;
  std::uint64_t window_ns_;
  bool timed_;
  std::unique_ptr<Sample[]> vals_, min_q_, max_q_;
  std::size_t head_ = 0, n_ = 0;
  std::size_t min_head_ = 0, min_n_ = 0, max_head_ = 0, max_n_ = 0;
  std::uint64_t seq_ = 0, pushed_ = 0, evicted_early_ = 0;
  std::size_t removals_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace hft
