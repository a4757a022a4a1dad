// hft/metrics/sliding_median.hpp: SlidingMedian, the exact median of the last W samples.
//
// What: the window is kept sorted in one array. An update is a binary search to remove
//   the leaving sample and another to place the new one, then one overlapping move
//   between the two positions (memmove of at most W doubles, usually much less). For
//   W = 1,024 the whole window is 8 KB and stays in L1.
// When to use: a rolling median of recent prices, spreads or latencies, exact. When not:
//   an all-time median (StreamingMedian); approximate is enough (P2Quantile); means and
//   variances (RollingStats).
// Thread-safety: one thread at a time.
// Progress: wait-free; no allocation after construction.
// Memory ordering: none (not shared).
// Complexity: O(log W) search plus an O(W) worst-case move per add; median O(1).
// Compared with: bench_analytics measures it against std::nth_element over a copy of the
//   window (the naive exact answer); an order-statistic tree would make the move
//   O(log W) at the price of pointer-chasing nodes (docs/analytics.md).
// Lifecycle: movable, not copyable; a moved-from one may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

namespace hft {

class SlidingMedian {
 public:
  explicit SlidingMedian(std::size_t window)
      : w_(window), sorted_(new double[window ? window : 1]), ring_(new double[window ? window : 1]) {
    if (window == 0) throw std::invalid_argument("hft::SlidingMedian: window must be >= 1");
  }
  /// Adds x (the oldest sample leaves when the window is full); returns the median.
  double add(double x) noexcept {
    double* s = sorted_.get();
    if (n_ < w_) {
      const std::size_t at = static_cast<std::size_t>(std::upper_bound(s, s + n_, x) - s);
      std::memmove(s + at + 1, s + at, (n_ - at) * sizeof(double));
      s[at] = x;
      ring_[n_] = x;
      ++n_;
    } else {
      const double y = ring_[pos_];
      ring_[pos_] = x;
      pos_ = pos_ + 1 == w_ ? 0 : pos_ + 1;
      // Replace y by x and keep the array sorted: shift the elements between the two
      // positions by one (towards y's old place), then drop x in.
      std::size_t out = static_cast<std::size_t>(std::lower_bound(s, s + n_, y) - s);  // y's position
      if (x >= y) {
        const std::size_t in = static_cast<std::size_t>(std::upper_bound(s + out, s + n_, x) - s);  // first > x
        std::memmove(s + out, s + out + 1, (in - out - 1) * sizeof(double));
        s[in - 1] = x;
      } else {
        const std::size_t in = static_cast<std::size_t>(std::upper_bound(s, s + out, x) - s);
        std::memmove(s + in + 1, s + in, (out - in) * sizeof(double));
        s[in] = x;
      }
    }
    return median();
  }
  [[nodiscard]] double median() const noexcept {
    if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return (n_ & 1) ? sorted_[n_ / 2] : (sorted_[n_ / 2 - 1] + sorted_[n_ / 2]) / 2.0;
  }
  [[nodiscard]] std::size_t count() const noexcept { return n_; }

 private:
  std::size_t w_;
  std::unique_ptr<double[]> sorted_, ring_;
  std::size_t n_ = 0, pos_ = 0;
};

}  // namespace hft
