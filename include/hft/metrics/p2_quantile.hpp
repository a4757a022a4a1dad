// hft/metrics/p2_quantile.hpp: P2Quantile, an O(1)-memory approximate quantile estimator.
//
// What: Jain & Chlamtac's P-square algorithm: five markers whose heights follow the
//   p-quantile by piecewise-parabolic interpolation; no samples kept. Its error depends
//   on the distribution: on smooth unimodal data the estimate is typically within a
//   fraction of a percent of the exact quantile's rank neighbourhood; on multimodal or
//   heavy-tailed data it can be further off. The tests bound it on uniform, normal and
//   exponential data (see docs/analytics.md).
// When to use: one quantile of an endless stream in constant memory. When not: exact
//   answers (StreamingMedian, SlidingMedian); many quantiles (LatencyHistogram).
// Thread-safety: one thread at a time.
// Progress: wait-free; no allocation.
// Memory ordering: none (not shared).
// Complexity: O(1) time and memory per add and per query.
// Compared with: boost::accumulators' p_square_quantile implements the same algorithm.
// Lifecycle: a copyable value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

namespace hft {

/// One quantile of a stream in O(1) memory and time (Jain and Chlamtac's P-square algorithm):
/// an estimate, exact for the first five samples.
class P2Quantile {
 public:
  /// The p-quantile, 0 < p < 1 (0.5: the median).
  explicit P2Quantile(double p) : p_(p) {
    if (!(p > 0 && p < 1)) throw std::invalid_argument("hft::P2Quantile: p must be in (0, 1)");
    const double dn[5] = {0, p / 2, p, (1 + p) / 2, 1};
    std::copy(dn, dn + 5, dn_);
  }
  /// Adds a sample.
  void add(double x) noexcept {
    if (count_ < 5) {
      q_[count_++] = x;
      if (count_ == 5) {
        std::sort(q_, q_ + 5);
        for (int i = 0; i < 5; ++i) n_[i] = i;
        const double np[5] = {0, 2 * p_, 4 * p_, 2 + 2 * p_, 4};
        std::copy(np, np + 5, np_);
      }
      return;
    }
    int k;
    if (x < q_[0]) {
      q_[0] = x;
      k = 0;
    } else if (x >= q_[4]) {
      q_[4] = x;
      k = 3;
    } else {
      k = 0;
      while (k < 3 && x >= q_[k + 1]) ++k;
    }
    for (int i = k + 1; i < 5; ++i) n_[i] += 1;
    for (int i = 0; i < 5; ++i) np_[i] += dn_[i];
    ++count_;
    for (int i = 1; i <= 3; ++i) {
      const double d = np_[i] - n_[i];
      if ((d >= 1 && n_[i + 1] - n_[i] > 1) || (d <= -1 && n_[i - 1] - n_[i] < -1)) {
        const double s = d >= 0 ? 1.0 : -1.0;
        const double qp = parabolic(i, s);
        q_[i] = (q_[i - 1] < qp && qp < q_[i + 1]) ? qp : linear(i, s);
        n_[i] += s;
      }
    }
  }
  /// The estimate (exact while fewer than 5 samples: the nearest-rank value).
  [[nodiscard]] double value() const noexcept {
    if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
    if (count_ < 5) {
      double t[5];
      std::copy(q_, q_ + 5, t);
      std::sort(t, t + count_);
      const auto r = static_cast<std::size_t>(std::ceil(p_ * static_cast<double>(count_)));
      return t[r == 0 ? 0 : r - 1];
    }
    return q_[2];
  }
  /// Samples added.
  [[nodiscard]] std::size_t count() const noexcept { return count_; }

 private:
  double parabolic(int i, double s) const noexcept {
    return q_[i] + s / (n_[i + 1] - n_[i - 1]) *
                       ((n_[i] - n_[i - 1] + s) * (q_[i + 1] - q_[i]) / (n_[i + 1] - n_[i]) +
                        (n_[i + 1] - n_[i] - s) * (q_[i] - q_[i - 1]) / (n_[i] - n_[i - 1]));
  }
  double linear(int i, double s) const noexcept {
    const int j = i + static_cast<int>(s);
    return q_[i] + s * (q_[j] - q_[i]) / (n_[j] - n_[i]);
  }
  double p_;
  double q_[5] = {}, n_[5] = {}, np_[5] = {}, dn_[5] = {};  // heights, positions, desired, increments
  std::size_t count_ = 0;
};

}  // namespace hft
