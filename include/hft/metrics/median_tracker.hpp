// hft/metrics/median_tracker.hpp: exact streaming medians (all-time and sliding window) and
// P2Quantile, an O(1)-memory approximate quantile estimator.
//
// What:
//   - StreamingMedian: the exact median of everything added so far, with two heaps (a max
//     heap of the lower half, a min heap of the upper half). O(log n) per add, O(1) query.
//     Memory grows with the number of samples (reserve() up front to keep allocation off
//     the hot path).
//   - SlidingMedian: the exact median of the last W samples. The window is kept sorted in
//     one array: an update is a binary search to remove the leaving sample and another to
//     place the new one, then one overlapping move between the two positions (memmove of
//     at most W doubles, usually much less). For W = 1,024 the whole window is 8 KB and
//     stays in L1. O(W) worst case, O(log W) search.
//   - P2Quantile: Jain & Chlamtac's P-square algorithm: five markers whose heights follow
//     the p-quantile by piecewise-parabolic interpolation; O(1) time and memory, no
//     samples kept. Its error depends on the distribution: on smooth unimodal data the
//     estimate is typically within a fraction of a percent of the exact quantile's rank
//     neighbourhood; on multimodal or heavy-tailed data it can be further off. The tests
//     bound it on uniform, normal and exponential data (see docs/analytics.md).
// When to use: medians of latencies, spreads, trade sizes per tick. When not: many
//   quantiles of a latency distribution (LatencyHistogram), means (RollingStats).
// Thread-safety contract: one thread at a time. Progress: wait-free.
// Lifecycle: StreamingMedian and P2Quantile are copyable values; SlidingMedian is movable,
//   not copyable. Every moved-from one may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

namespace hft {

class StreamingMedian {
 public:
  void reserve(std::size_t n) {
    lo_.reserve(n / 2 + 1);
    hi_.reserve(n / 2 + 1);
  }
  void add(double x) {
    if (lo_.empty() || x <= lo_.front()) {
      lo_.push_back(x);
      std::push_heap(lo_.begin(), lo_.end());  // max heap
    } else {
      hi_.push_back(x);
      std::push_heap(hi_.begin(), hi_.end(), std::greater<>{});  // min heap
    }
    // Rebalance: lo_ holds the extra element when the count is odd.
    if (lo_.size() > hi_.size() + 1) {
      std::pop_heap(lo_.begin(), lo_.end());
      hi_.push_back(lo_.back());
      lo_.pop_back();
      std::push_heap(hi_.begin(), hi_.end(), std::greater<>{});
    } else if (hi_.size() > lo_.size()) {
      std::pop_heap(hi_.begin(), hi_.end(), std::greater<>{});
      lo_.push_back(hi_.back());
      hi_.pop_back();
      std::push_heap(lo_.begin(), lo_.end());
    }
  }
  /// The median (mean of the two middle values for an even count); NaN when empty.
  [[nodiscard]] double median() const noexcept {
    if (lo_.empty()) return std::numeric_limits<double>::quiet_NaN();
    if (lo_.size() > hi_.size()) return lo_.front();
    return (lo_.front() + hi_.front()) / 2.0;
  }
  [[nodiscard]] std::size_t count() const noexcept { return lo_.size() + hi_.size(); }

 private:
  std::vector<double> lo_, hi_;
};

class SlidingMedian {
 public:
  explicit SlidingMedian(std::size_t window)
      : w_(window), sorted_(new double[window ? window : 1]), ring_(new double[window ? window : 1]) {
    if (window == 0) throw std::invalid_argument("SlidingMedian: window must be >= 1");
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

class P2Quantile {
 public:
  /// The p-quantile, 0 < p < 1 (0.5: the median).
  explicit P2Quantile(double p) : p_(p) {
    if (!(p > 0 && p < 1)) throw std::invalid_argument("P2Quantile: p must be in (0, 1)");
    const double dn[5] = {0, p / 2, p, (1 + p) / 2, 1};
    std::copy(dn, dn + 5, dn_);
  }
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
