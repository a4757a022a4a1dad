// hft/metrics/sliding_median.hpp: the exact median of the last W samples, two ways.
//   SlidingMedian        two indexed heaps: O(log W) per update, for any window.
//   SortedWindowMedian   one sorted array: O(W) move per update, for tiny trending windows.
//
// What: SlidingMedian keeps the lower half of the window in a max-heap and the upper half
//   in a min-heap (the lower one holds the extra sample of an odd count), and remembers
//   where each sample of the ring sits in its heap. An update overwrites the oldest
//   sample's node in place with the new one and sifts it; if the new sample belongs to the
//   other half, the other heap's top takes the node instead and the sample enters at the
//   other heap's root. The halves' sizes never change once the window is full, so no
//   rebalancing is needed. SortedWindowMedian keeps the window sorted in one array: two
//   binary searches and one overlapping move between the leaving and the arriving
//   sample's positions per update.
// When to use: a rolling median of recent prices, spreads or latencies, exact.
//   SlidingMedian for any window: 45 ns per update at W = 1,024 and 70 ns at 65,536 on
//   this machine (bench_analytics, docs/analytics.md). SortedWindowMedian only for windows
//   of about 8 samples or fewer over a trending series (a price walk), where its short
//   moves are ~10% faster; on independent samples the heaps win at every size measured.
// When not: an all-time median (StreamingMedian); approximate is enough (P2Quantile);
//   means and variances (RollingStats).
// Thread-safety: one thread at a time.
// Progress: wait-free; no allocation after construction.
// Memory ordering: none (not shared).
// Complexity: SlidingMedian O(log W) per add (at most one sift in each heap), 20 bytes per
//   sample; SortedWindowMedian O(log W) search plus an O(W) worst-case move, 16 bytes per
//   sample. median() O(1) for both.
// Preconditions: samples are not NaN (a NaN has no place in an order; debug builds assert).
// Compared with: the naive exact answer, std::nth_element over a copy of the window, is
//   O(W) per query; an order-statistic tree or skip list is O(log W) but chases a pointer
//   per level, where the heaps are two arrays.
// Lifecycle: movable, not copyable; a moved-from one may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "hft/core/assert.hpp"

namespace hft {

/// The exact median of the last W samples, two indexed heaps: O(log W) per add, any window
/// size.
class SlidingMedian {
 public:
  /// Throws std::invalid_argument for a window of 0 or above 2^31.
  explicit SlidingMedian(std::size_t window)
      : w_(check(window)),
        // One node past each heap's capacity: the branch-free sift-down reads the right
        // child of the last parent before it knows whether there is one.
        lo_(new Node[(window + 1) / 2 + 1]),
        hi_(new Node[window / 2 + 1]),
        where_(new std::uint32_t[window]) {}

  /// Adds x (the oldest sample leaves when the window is full); returns the median.
  double add(double x) noexcept {
    HFT_ASSERT(!std::isnan(x), "SlidingMedian::add: NaN sample");
    if (n_ < w_) {
      insert(x, static_cast<std::uint32_t>(n_));
      ++n_;
    } else {
      const auto slot = static_cast<std::uint32_t>(pos_);
      pos_ = pos_ + 1 == w_ ? 0 : pos_ + 1;
      const std::uint32_t at = where_[slot];
      if ((at & kHi) == 0) {
        if (nhi_ > 0 && x > hi_[0].v) {
          // x belongs to the upper half: the upper half's least takes the leaving
          // sample's node (it is >= every lower sample, so it rises), x enters up there.
          place<kLower>(at, hi_[0], true);
          place<kUpper>(0, Node{x, slot}, false);
        } else {
          place<kLower>(at, Node{x, slot}, x > lo_[at].v);
        }
      } else {
        const std::uint32_t i = at & ~kHi;
        if (x < lo_[0].v) {
          place<kUpper>(i, lo_[0], true);
          place<kLower>(0, Node{x, slot}, false);
        } else {
          place<kUpper>(i, Node{x, slot}, x < hi_[i].v);
        }
      }
    }
    return median();
  }
  /// The median of the window (mean of the middle two for an even count); NaN when empty.
  [[nodiscard]] double median() const noexcept {
    if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return nlo_ > nhi_ ? lo_[0].v : (lo_[0].v + hi_[0].v) / 2.0;
  }
  /// Samples in the window (at most window()).
  [[nodiscard]] std::size_t count() const noexcept { return n_; }
  /// The window size W.
  [[nodiscard]] std::size_t window() const noexcept { return w_; }

 private:
  struct Node {
    double v = 0;
    std::uint32_t slot = 0;  // the sample's place in the ring (where_ maps it back)
  };
  static constexpr std::uint32_t kHi = 0x8000'0000u;  // where_: set for the upper heap
  static constexpr bool kLower = false, kUpper = true;  // place<>'s heap

  static std::size_t check(std::size_t w) {
    if (w == 0 || w > kHi) throw std::invalid_argument("hft::SlidingMedian: window must be in [1, 2^31]");
    return w;
  }

  // The window is filling: the new sample goes to the half that keeps the lower one equal
  // or one larger, through the other half's top when it belongs on the other side.
  void insert(double x, std::uint32_t slot) noexcept {
    if (nlo_ == nhi_) {
      if (nhi_ > 0 && x > hi_[0].v) {
        const Node h = hi_[0];
        place<kUpper>(0, Node{x, slot}, false);
        place<kLower>(static_cast<std::uint32_t>(nlo_++), h, true);
      } else {
        place<kLower>(static_cast<std::uint32_t>(nlo_++), Node{x, slot}, true);
      }
    } else if (x < lo_[0].v) {
      const Node l = lo_[0];
      place<kLower>(0, Node{x, slot}, false);
      place<kUpper>(static_cast<std::uint32_t>(nhi_++), l, true);
    } else {
      place<kUpper>(static_cast<std::uint32_t>(nhi_++), Node{x, slot}, true);
    }
  }

  // Puts `node` at index i of the lower (max-)heap or the upper (min-)heap and sifts it up
  // or down: a hole moves and the node is written once, with where_ updated for every node
  // that moves. `Upper` mirrors the order, so both heaps are this one loop.
  template <bool Upper>
  void place(std::uint32_t i, Node node, bool up) noexcept {
    Node* h = Upper ? hi_.get() : lo_.get();
    const std::uint32_t tag = Upper ? kHi : 0;
    // a must sit above b in this heap: larger in the lower one, smaller in the upper one.
    const auto above = [](double a, double b) { return Upper ? a < b : b < a; };
    if (up) {
      while (i > 0) {
        const std::uint32_t p = (i - 1) / 2;
        if (!above(node.v, h[p].v)) break;
        h[i] = h[p];
        where_[h[i].slot] = i | tag;
        i = p;
      }
    } else {
      const auto n = static_cast<std::uint32_t>(Upper ? nhi_ : nlo_);
      for (;;) {
        std::uint32_t c = 2 * i + 1;
        if (c >= n) break;
        // Which child is larger is a coin flip on random data: select it without a branch
        // (two mispredictions fewer per update at W = 1,024, measured with cachegrind).
        c += static_cast<std::uint32_t>((c + 1 < n) & above(h[c + 1].v, h[c].v));
        if (!above(h[c].v, node.v)) break;
        h[i] = h[c];
        where_[h[i].slot] = i | tag;
        i = c;
      }
    }
    h[i] = node;
    where_[node.slot] = i | tag;
  }

  std::size_t w_;
  std::unique_ptr<Node[]> lo_, hi_;
  std::unique_ptr<std::uint32_t[]> where_;
  std::size_t n_ = 0, pos_ = 0, nlo_ = 0, nhi_ = 0;
};

/// The exact median of the last W samples in one sorted array: O(W) per add, fastest for tiny
/// windows.
class SortedWindowMedian {
 public:
  /// Throws std::invalid_argument for a window of 0.
  explicit SortedWindowMedian(std::size_t window)
      : w_(window), sorted_(new double[window ? window : 1]), ring_(new double[window ? window : 1]) {
    if (window == 0) throw std::invalid_argument("hft::SortedWindowMedian: window must be >= 1");
  }
  /// Adds x (the oldest sample leaves when the window is full); returns the median.
  double add(double x) noexcept {
    HFT_ASSERT(!std::isnan(x), "SortedWindowMedian::add: NaN sample");
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
  /// The median of the window (mean of the middle two for an even count); NaN when empty.
  [[nodiscard]] double median() const noexcept {
    if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return (n_ & 1) ? sorted_[n_ / 2] : (sorted_[n_ / 2 - 1] + sorted_[n_ / 2]) / 2.0;
  }
  /// Samples in the window (at most window()).
  [[nodiscard]] std::size_t count() const noexcept { return n_; }
  /// The window size W.
  [[nodiscard]] std::size_t window() const noexcept { return w_; }

 private:
  std::size_t w_;
  std::unique_ptr<double[]> sorted_, ring_;
  std::size_t n_ = 0, pos_ = 0;
};

}  // namespace hft
