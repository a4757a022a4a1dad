// hft/metrics/streaming_median.hpp: StreamingMedian, the exact median of everything added so far.
//
// What: two heaps, a max heap of the lower half and a min heap of the upper half; the
//   median is read from their tops. Memory grows with the number of samples: reserve()
//   up front keeps allocation off the hot path.
// When to use: the exact all-time median of a run (a latency, a spread, a trade size).
// When not: a window of recent samples (SlidingMedian); bounded memory (P2Quantile, or
//   LatencyHistogram for many quantiles at once).
// Thread-safety: one thread at a time.
// Progress: wait-free apart from vector growth (none after a sufficient reserve()).
// Memory ordering: none (not shared).
// Complexity: add O(log n), median O(1).
// Compared with: boost::accumulators' median is the P-square estimate (our P2Quantile);
//   this one is exact.
// Lifecycle: a copyable value; a moved-from one may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

namespace hft {

/// The exact median of every sample so far, two heaps: O(log n) per add, O(n) memory.
class StreamingMedian {
 public:
  /// Reserves room for n samples, so adds up to n do not reallocate.
  void reserve(std::size_t n) {
    lo_.reserve(n / 2 + 1);
    hi_.reserve(n / 2 + 1);
  }
  /// Adds a sample (may allocate).
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
  /// Samples added.
  [[nodiscard]] std::size_t count() const noexcept { return lo_.size() + hi_.size(); }

 private:
  std::vector<double> lo_, hi_;
};

}  // namespace hft
