// hft/metrics/moving_average.hpp: SimpleMovingAverage over N samples; ExponentialMovingAverage
// by smoothing factor, or by half-life for irregularly spaced ticks.
//
// What: SimpleMovingAverage keeps a ring of the last N values and their running sum
//   (re-summed exactly every N updates, so rounding error stays bounded on endless
//   streams). ExponentialMovingAverage::with_alpha(a): v += a (x - v), the first sample
//   initialises v. ExponentialMovingAverage::with_half_life(h): a = 1 - 2^(-dt/h), dt the
//   time since the previous sample, so a tick after a long gap weighs more than one after
//   a short gap (TA-Lib's EMA assumes equal spacing; market data rarely is).
// When to use: smoothing prices, spreads, rates per tick. When not: windowed variance or
//   extremes (RollingStats), medians (SlidingMedian, StreamingMedian).
// Thread-safety: one thread at a time.
// Progress: wait-free; nothing allocated after construction.
// Memory ordering: none (not shared).
// Complexity: O(1) per update (SMA: amortized, one O(N) re-sum every N updates).
// Compared with: TA-Lib computes moving averages over whole arrays and assumes equally
//   spaced samples; these update per tick, and the half-life EMA weights by elapsed time.
// Memory: SMA N doubles (constructor); EMA none.
// Lifecycle: ExponentialMovingAverage is a copyable value; SimpleMovingAverage is movable,
//   not copyable, and a moved-from one may only be assigned to or destroyed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace hft {

/// The mean of the last n samples, O(1) per add (re-summed every n adds against drift).
class SimpleMovingAverage {
 public:
  /// A window of `n` samples; throws std::invalid_argument for 0.
  explicit SimpleMovingAverage(std::size_t n) : n_(n), ring_(new double[n ? n : 1]) {
    if (n == 0) throw std::invalid_argument("hft::SimpleMovingAverage: n must be >= 1");
  }
  /// Adds x; returns the average of the last min(count, n) samples.
  double add(double x) noexcept {
    if (count_ == n_) {
      sum_ -= ring_[pos_];
    } else {
      ++count_;
    }
    ring_[pos_] = x;
    sum_ += x;
    pos_ = pos_ + 1 == n_ ? 0 : pos_ + 1;
    if (++since_resum_ == n_) resum();
    return value();
  }
  /// The mean of the last min(count, n) samples; 0 before the first.
  [[nodiscard]] double value() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  /// Samples in the window (at most n).
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  /// True once n samples have been added.
  [[nodiscard]] bool full() const noexcept { return count_ == n_; }

 private:
  void resum() noexcept {
    since_resum_ = 0;
    double s = 0;
    for (std::size_t i = 0; i < count_; ++i) s += ring_[i];
    sum_ = s;
  }
  std::size_t n_;
  std::unique_ptr<double[]> ring_;
  std::size_t pos_ = 0, count_ = 0, since_resum_ = 0;
  double sum_ = 0;
};

/// An exponential moving average, with a fixed alpha or time-aware with a half-life; O(1), no
/// allocation.
class ExponentialMovingAverage {
 public:
  /// v += alpha (x - v); alpha in (0, 1].
  [[nodiscard]] static ExponentialMovingAverage with_alpha(double alpha) {
    if (!(alpha > 0 && alpha <= 1))
      throw std::invalid_argument("hft::ExponentialMovingAverage: alpha must be in (0, 1]");
    return ExponentialMovingAverage(alpha, 0);
  }
  /// Time-aware: a sample's weight decays by half every half_life_ns.
  [[nodiscard]] static ExponentialMovingAverage with_half_life(std::uint64_t half_life_ns) {
    if (half_life_ns == 0) throw std::invalid_argument("hft::ExponentialMovingAverage: half_life_ns must be >= 1");
    return ExponentialMovingAverage(0, half_life_ns);
  }

  /// Fixed-alpha update (an EMA made with_alpha).
  double add(double x) noexcept {
    if (!init_) {
      v_ = x;
      init_ = true;
    } else {
      v_ += alpha_ * (x - v_);
    }
    return v_;
  }
  /// Time-aware update at now_ns (an EMA made with_half_life; now must not go backwards).
  double add(double x, std::uint64_t now_ns) noexcept {
    if (!init_) {
      v_ = x;
      init_ = true;
    } else {
      const double dt = static_cast<double>(now_ns - last_);
      const double a = 1.0 - std::exp2(-dt / static_cast<double>(half_life_));
      v_ += a * (x - v_);
    }
    last_ = now_ns;
    return v_;
  }
  /// The current average; 0 before the first sample.
  [[nodiscard]] double value() const noexcept { return v_; }
  /// True once a sample has been added (the first sample sets the average).
  [[nodiscard]] bool initialised() const noexcept { return init_; }

 private:
  ExponentialMovingAverage(double alpha, std::uint64_t half_life) : alpha_(alpha), half_life_(half_life) {}
  double alpha_;
  std::uint64_t half_life_;
  double v_ = 0;
  std::uint64_t last_ = 0;
  bool init_ = false;
};

}  // namespace hft
