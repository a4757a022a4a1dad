// hft/metrics/latency_histogram.hpp: LatencyHistogram, an HdrHistogram-style log-linear
// histogram for latency percentiles.
//
// What: counts of recorded values in buckets whose width grows with the value, so that
//   every value is reported within a fixed relative error set by `significant_digits`
//   (d = 3: within 0.1%), over a range from `lowest_discernible` to `highest_trackable`.
//   Bucket layout, percentile semantics, coordinated-omission correction and the .hgrm
//   text output follow HdrHistogram (Java), so numbers and files agree with the tools
//   people already use.
// When to use: per-stage latency of a pipeline, RTTs in a load generator: anywhere you
//   want p99/p99.9/max without keeping every sample. When not: values that must be exact
//   (use a sorted vector); several writer threads on one histogram (give each its own,
//   or use IntervalRecorder, which does exactly that).
//
// Thread-safety: not synchronised. One thread at a time may call anything;
//   concurrent const queries are fine while nobody writes. Hand a histogram to another
//   thread through something that synchronises (join, a queue, IntervalRecorder).
// Progress: record() is wait-free (no loops, no atomics, no allocation).
// Memory ordering: none (not synchronised; see Thread-safety).
// Complexity: record O(1): a bit-scan, two shifts, one increment, two cmov for min/max.
//   percentile/percentiles/mean/stddev/merge/reset are O(k) in the number of counters
//   between the smallest and largest recorded value (not the whole array).
//   percentiles(list) answers an ascending list in one pass.
// Memory: one array of (buckets + 1) * 2^(ceil(log2(2 * 10^d)) - 1) uint64 counters,
//   allocated by the constructor (1 ns .. 1 h at d = 3: 32,768 counters, 256 KiB) and
//   never again. Queries allocate nothing. Reports (summary, .hgrm text, SVG) live in
//   hft/metrics/histogram_report.hpp, as HdrHistogram_c keeps hdr_histogram_log apart
//   from recording: they allocate strings and are not for hot paths.
//
// Out-of-range values: a value above highest_trackable is recorded as highest_trackable
//   and counted in overflow_count(); a value below lowest_discernible is recorded in the
//   lowest bucket and counted in underflow_count(). Nothing is dropped, nothing is UB,
//   and both counts are printed by histogram_summary(). Counts are uint64 and wrap past
//   2^64 - 1 in total (584 years at one record per ns; only record(v, count) with counts
//   summing past 2^64 gets there). Percentile ranks are computed in double, as HdrHistogram
//   does: exact up to 2^53 samples, within total x 2^-52 ranks beyond; p100 is always max.
//
// Compared with: HdrHistogram_c: min/max are tracked with branchless min/max so
//   queries, merge and reset touch only the occupied span of counters; the range check
//   is one unsigned compare covering both directions; out-of-range values are clamped
//   and counted instead of rejected (HdrHistogram_c returns false and drops them);
//   no auto-resize, no atomic variant (see IntervalRecorder for concurrency).
// Lifecycle: copyable (an independent histogram with the same counts) and movable; a
//   moved-from histogram may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "hft/core/assert.hpp"

namespace hft {

/// The value range and precision. The defaults are the common latency histogram: 1 ns to
/// 1 minute at 3 significant digits (0.1%). `LatencyHistogramConfig::up_to(1h)` names
/// another range in nanoseconds; designated initializers name anything else.
struct LatencyHistogramConfig {
  std::uint64_t lowest_discernible = 1;  ///< the smallest value told apart from 0, in the recorded unit (ns); >= 1
  std::uint64_t highest_trackable = 60'000'000'000ULL;  ///< 1 min in ns
  int significant_digits = 3;  ///< decimal digits of precision kept at every magnitude, 1..5 (3: 0.1%)

  /// 1 ns .. `highest` (in nanoseconds) at `digits` significant digits.
  [[nodiscard]] static constexpr LatencyHistogramConfig up_to(std::chrono::nanoseconds highest,
                                                             int digits = 3) noexcept {
    return {1, static_cast<std::uint64_t>(highest.count()), digits};
  }
  friend constexpr bool operator==(const LatencyHistogramConfig&, const LatencyHistogramConfig&) = default;
};

/// An HdrHistogram-layout histogram of latencies: records in O(1), answers percentiles within
/// the configured precision, merges with histograms of the same layout. One writer;
/// IntervalRecorder for a concurrent one.
class LatencyHistogram {
 public:
  /// Throws std::invalid_argument unless 1 <= lowest_discernible, 2 * lowest_discernible
  /// <= highest_trackable <= 2^62, and 1 <= significant_digits <= 5.
  explicit LatencyHistogram(const LatencyHistogramConfig& cfg = {})
      : lowest_(cfg.lowest_discernible), highest_(cfg.highest_trackable), digits_(cfg.significant_digits) {
    const std::uint64_t lowest_discernible = lowest_, highest_trackable = highest_;
    const int significant_digits = digits_;
    if (lowest_discernible < 1)
      throw std::invalid_argument("hft::LatencyHistogram: lowest_discernible must be >= 1, got 0");
    if (significant_digits < 1 || significant_digits > 5) {
      throw std::invalid_argument("hft::LatencyHistogram: significant_digits must be 1..5, got " +
                                  std::to_string(significant_digits));
    }
    if (highest_trackable < 2 * lowest_discernible) {
      throw std::invalid_argument("hft::LatencyHistogram: highest_trackable must be >= 2 * lowest_discernible, got " +
                                  std::to_string(highest_trackable) + " and " + std::to_string(lowest_discernible));
    }
    if (highest_trackable > (std::uint64_t{1} << 62)) {
      throw std::invalid_argument("hft::LatencyHistogram: highest_trackable must be <= 2^62, got " +
                                  std::to_string(highest_trackable));
    }
    std::uint64_t single_unit = 2;
    for (int i = 0; i < significant_digits; ++i) single_unit *= 10;
    const int sub_bucket_count_magnitude = static_cast<int>(std::bit_width(single_unit - 1));  // ceil(log2)
    half_magnitude_ = (sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude : 1) - 1;
    unit_magnitude_ = static_cast<int>(std::bit_width(lowest_discernible)) - 1;  // floor(log2)
    sub_bucket_count_ = std::uint64_t{1} << (half_magnitude_ + 1);
    sub_bucket_half_count_ = sub_bucket_count_ / 2;
    sub_bucket_mask_ = (sub_bucket_count_ - 1) << unit_magnitude_;
    if (unit_magnitude_ + half_magnitude_ + 1 > 62) {
      throw std::invalid_argument("hft::LatencyHistogram: lowest_discernible too large for these digits");
    }
    // Buckets needed to cover highest_trackable (HdrHistogram's rule).
    std::uint64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
    int buckets = 1;
    while (smallest_untrackable <= highest_trackable) {
      if (smallest_untrackable > (std::uint64_t{1} << 62)) {
        ++buckets;
        break;
      }
      smallest_untrackable <<= 1;
      ++buckets;
    }
    bucket_count_ = buckets;
    counts_len_ = static_cast<std::size_t>(bucket_count_ + 1) * sub_bucket_half_count_;
    counts_ = std::make_unique<std::uint64_t[]>(counts_len_);  // value-initialised: zero
    HFT_ASSERT(index_of(highest_) < counts_len_, "LatencyHistogram: layout does not cover highest_trackable");
  }

  /// A histogram of the same layout and counts as `o` (allocates).
  LatencyHistogram(const LatencyHistogram& o)
      : LatencyHistogram(o.config()) {
    merge(o);
  }
  /// Takes `o`'s layout and counts (allocates; strong guarantee).
  LatencyHistogram& operator=(const LatencyHistogram& o) {
    if (this != &o) {
      LatencyHistogram tmp(o);
      swap(tmp);
    }
    return *this;
  }
  /// A moved-from histogram may only be assigned to or destroyed.
  LatencyHistogram(LatencyHistogram&&) noexcept = default;
  /// Takes the other's buckets; the other may then only be assigned to or destroyed.
  LatencyHistogram& operator=(LatencyHistogram&&) noexcept = default;

  /// Exchanges layouts and counts with `o`.
  void swap(LatencyHistogram& o) noexcept {
    std::swap(*this, o);
  }

  // ---- recording -------------------------------------------------------------------

  /// Records one value. Out-of-range values are clamped and counted (see the header).
  void record(std::uint64_t v) noexcept { record(v, 1); }

  /// Records `count` occurrences of v.
  void record(std::uint64_t v, std::uint64_t count) noexcept {
    // One compare covers both directions: v < lowest wraps to a huge difference.
    if (v - lowest_ > highest_ - lowest_) [[unlikely]] {
      v = clamp_out_of_range(v, count);
    }
    counts_[index_of(v)] += count;
    total_ += count;
    min_ = v < min_ ? v : min_;
    max_ = v > max_ ? v : max_;
  }

  /// Records v and, when v exceeds expected_interval, the samples a stalled closed-loop
  /// measurement failed to take: v - k * expected_interval for every k >= 1 while that
  /// stays >= expected_interval (HdrHistogram's recordValueWithExpectedInterval).
  /// expected_interval == 0 records v only. O(min(v, highest_trackable) / expected_interval)
  /// records: the back-filled samples above highest_trackable are clamped and counted in
  /// one record, so an absurd v (a negative clock difference cast to uint64) costs no more
  /// than the largest trackable one.
  void record_corrected(std::uint64_t v, std::uint64_t expected_interval) noexcept {
    record(v);
    if (expected_interval == 0 || v <= expected_interval) return;
    std::uint64_t missing = v - expected_interval;
    // The samples missing - k * interval that are > highest_ (and >= interval) all clamp to
    // highest_: count them at once instead of looping up to 2^64 / interval times.
    const std::uint64_t above = std::max(highest_ + 1, expected_interval);
    if (missing >= above) {
      const std::uint64_t k = (missing - above) / expected_interval + 1;
      record(missing, k);
      missing -= k * expected_interval;  // k * interval <= missing - above + interval <= missing
    }
    for (; missing >= expected_interval; missing -= expected_interval) record(missing);
  }

  // ---- queries -----------------------------------------------------------------------

  /// Values recorded, out-of-range ones included.
  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  /// Values above highest_trackable, recorded as highest_trackable.
  [[nodiscard]] std::uint64_t overflow_count() const noexcept { return overflow_; }
  /// Values below lowest_discernible, recorded in the lowest bucket.
  [[nodiscard]] std::uint64_t underflow_count() const noexcept { return underflow_; }
  /// True when nothing was recorded since construction or reset().
  [[nodiscard]] bool empty() const noexcept { return total_ == 0; }

  /// Exact smallest / largest value recorded (after clamping); 0 when empty.
  [[nodiscard]] std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  /// Exact largest value recorded (after clamping); 0 when empty.
  [[nodiscard]] std::uint64_t max() const noexcept { return total_ ? max_ : 0; }

  /// The value at percentile p (0..100, clamped), with HdrHistogram's semantics: the
  /// highest value equivalent to the bucket holding the ceil(p% * count)-th smallest
  /// sample (p == 0: the lowest value of the first bucket). 0 when empty.
  [[nodiscard]] std::uint64_t percentile(double p) const noexcept {
    std::uint64_t out = 0;
    percentiles(std::span<const double>(&p, 1), std::span<std::uint64_t>(&out, 1));
    return out;
  }

  /// Answers every percentile in `ps` into `out` (same length). Ascending `ps` take one
  /// pass over the counters; a smaller p than its predecessor restarts the scan.
  void percentiles(std::span<const double> ps, std::span<std::uint64_t> out) const noexcept {
    HFT_ASSERT(out.size() >= ps.size(), "LatencyHistogram::percentiles: output span too small");
    if (total_ == 0) {
      std::fill(out.begin(), out.end(), 0);
      return;
    }
    const std::size_t first = index_of(min_), last = index_of(max_);
    std::size_t i = first;
    std::uint64_t running = counts_[first];
    std::uint64_t prev_target = 0;
    for (std::size_t k = 0; k < ps.size(); ++k) {
      const std::uint64_t target = count_at_percentile(ps[k]);
      if (target < prev_target) {
        i = first;
        running = counts_[first];
      }
      prev_target = target;
      // Skip whole blocks of 8 counters whose sum cannot reach the target: the 8 adds
      // are independent, so the serial dependency chain is 8x shorter than one add per
      // counter (this is what keeps a full-range scan within a few microseconds).
      const std::uint64_t* c = counts_.get();
      while (i + 8 <= last) {
        const std::uint64_t block = (c[i + 1] + c[i + 2]) + (c[i + 3] + c[i + 4]) +
                                    ((c[i + 5] + c[i + 6]) + (c[i + 7] + c[i + 8]));
        if (running + block >= target) break;
        running += block;
        i += 8;
      }
      while (running < target && i < last) running += c[++i];
      const std::uint64_t v = value_at_index(i);
      out[k] = ps[k] == 0.0 ? lowest_equivalent_value(v) : highest_equivalent_value(v);
    }
  }

  /// Mean over bucket midpoints (HdrHistogram's definition); 0 when empty.
  [[nodiscard]] double mean() const noexcept {
    if (total_ == 0) return 0;
    double sum = 0;
    for_each_index([&](std::size_t i, std::uint64_t c) {
      sum += static_cast<double>(median_equivalent_value(value_at_index(i))) * static_cast<double>(c);
    });
    return sum / static_cast<double>(total_);
  }

  /// Population standard deviation over bucket midpoints; 0 when empty.
  [[nodiscard]] double stddev() const noexcept {
    if (total_ == 0) return 0;
    const double m = mean();
    double acc = 0;
    for_each_index([&](std::size_t i, std::uint64_t c) {
      const double d = static_cast<double>(median_equivalent_value(value_at_index(i))) - m;
      acc += d * d * static_cast<double>(c);
    });
    return std::sqrt(acc / static_cast<double>(total_));
  }

  /// Calls fn(lowest_equivalent, highest_equivalent, count) for every non-empty bucket,
  /// in increasing value order.
  template <class F>
  void for_each_bucket(F&& fn) const {
    for_each_index([&](std::size_t i, std::uint64_t c) {
      const std::uint64_t v = value_at_index(i);
      fn(v, highest_equivalent_value(v), c);
    });
  }

  /// Count recorded in the bucket that holds v.
  [[nodiscard]] std::uint64_t count_at(std::uint64_t v) const noexcept {
    return counts_[index_of(std::min(v, highest_))];
  }

  // ---- combining -------------------------------------------------------------------------

  /// Adds every count of `other`. Throws std::invalid_argument unless both were built
  /// with the same (lowest, highest, digits). O(occupied span of other).
  void merge(const LatencyHistogram& other) {
    if (!same_layout(other)) throw std::invalid_argument("hft::LatencyHistogram::merge: different configurations");
    if (other.total_ == 0) return;
    const std::size_t first = other.index_of(other.min_), last = other.index_of(other.max_);
    const std::uint64_t* src = other.counts_.get();
    std::uint64_t* dst = counts_.get();
    for (std::size_t i = first; i <= last; ++i) dst[i] += src[i];
    total_ += other.total_;
    overflow_ += other.overflow_;
    underflow_ += other.underflow_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  /// Forgets everything recorded. O(occupied span).
  void reset() noexcept {
    if (total_ != 0) {
      const std::size_t first = index_of(min_), last = index_of(max_);
      std::memset(counts_.get() + first, 0, (last - first + 1) * sizeof(std::uint64_t));
    }
    total_ = overflow_ = underflow_ = 0;
    min_ = std::numeric_limits<std::uint64_t>::max();
    max_ = 0;
  }

  /// True when `o` has the same range and digits, so its buckets line up with ours.
  [[nodiscard]] bool same_layout(const LatencyHistogram& o) const noexcept {
    return lowest_ == o.lowest_ && highest_ == o.highest_ && digits_ == o.digits_;
  }

  // ---- configuration and value equivalence -------------------------------------------------

  /// The configured lowest_discernible.
  [[nodiscard]] std::uint64_t lowest_discernible() const noexcept { return lowest_; }
  /// The configured highest_trackable.
  [[nodiscard]] std::uint64_t highest_trackable() const noexcept { return highest_; }
  /// The configured significant_digits.
  [[nodiscard]] int significant_digits() const noexcept { return digits_; }
  /// The configuration, to build a histogram of the same layout.
  [[nodiscard]] LatencyHistogramConfig config() const noexcept { return {lowest_, highest_, digits_}; }
  /// HdrHistogram's bucket count: power-of-two magnitudes the layout spans.
  [[nodiscard]] int bucket_count() const noexcept { return bucket_count_; }
  /// HdrHistogram's sub-bucket count: linear slots per bucket (2^ceil(log2(2 x 10^digits))).
  [[nodiscard]] std::uint64_t sub_bucket_count() const noexcept { return sub_bucket_count_; }
  /// Length of the counts array (HdrHistogram's countsArrayLength).
  [[nodiscard]] std::size_t counts_length() const noexcept { return counts_len_; }

  /// Smallest value that shares v's bucket.
  [[nodiscard]] std::uint64_t lowest_equivalent_value(std::uint64_t v) const noexcept {
    const int b = bucket_index(v);
    return sub_bucket_index(v, b) << (b + unit_magnitude_);
  }
  /// Largest value that shares v's bucket.
  [[nodiscard]] std::uint64_t highest_equivalent_value(std::uint64_t v) const noexcept {
    return lowest_equivalent_value(v) + equivalent_range(v) - 1;
  }
  /// Midpoint of v's bucket (what mean/stddev use).
  [[nodiscard]] std::uint64_t median_equivalent_value(std::uint64_t v) const noexcept {
    return lowest_equivalent_value(v) + (equivalent_range(v) >> 1);
  }
  /// Width of v's bucket.
  [[nodiscard]] std::uint64_t equivalent_range(std::uint64_t v) const noexcept {
    const int b = bucket_index(v);
    const std::uint64_t s = sub_bucket_index(v, b);
    const int adjusted = (s >= sub_bucket_count_) ? b + 1 : b;
    return std::uint64_t{1} << (unit_magnitude_ + adjusted);
  }

  // ---- iteration (reports: hft/metrics/histogram_report.hpp) ------------------------------

  /// One point of HdrHistogram's percentile distribution.
  struct PercentilePoint {
    std::uint64_t value;      ///< highest equivalent value of the bucket reached
    double percentile;        ///< 0..100
    std::uint64_t count_to;   ///< samples <= value
  };

  /// HdrHistogram's percentile iteration: steps that halve the remaining distance to
  /// 100% every `ticks_per_half_distance` points, then a final 100% point. Calls fn(point).
  template <class F>
  void for_each_percentile_point(int ticks_per_half_distance, F&& fn) const {
    if (total_ == 0) return;
    const double total = static_cast<double>(total_);
    double level = 0.0;
    std::uint64_t count_to = 0;
    const std::size_t first = index_of(min_), last = index_of(max_);
    for (std::size_t i = first; i <= last; ++i) {
      const std::uint64_t c = counts_[i];
      count_to += c;
      if (c == 0) continue;
      // A bucket may satisfy several levels: report each before moving on. Once every
      // sample is counted, one report here and the final 100% point end the iteration.
      while ((100.0 * static_cast<double>(count_to)) / total >= level) {
        fn(PercentilePoint{highest_equivalent_value(value_at_index(i)), level, count_to});
        const auto halvings = static_cast<std::int64_t>(std::log(100.0 / (100.0 - level)) / std::log(2.0));
        const auto ticks = static_cast<std::int64_t>(ticks_per_half_distance) *
                           static_cast<std::int64_t>(std::pow(2.0, static_cast<double>(halvings + 1)));
        level += 100.0 / static_cast<double>(ticks);
        if (count_to >= total_) break;
      }
      if (count_to >= total_) break;
    }
    fn(PercentilePoint{highest_equivalent_value(value_at_index(last)), 100.0, total_});
  }

 private:
  template <class F>
  void for_each_index(F&& fn) const {
    if (total_ == 0) return;
    const std::size_t first = index_of(min_), last = index_of(max_);
    for (std::size_t i = first; i <= last; ++i) {
      if (counts_[i] != 0) fn(i, counts_[i]);
    }
  }

  std::uint64_t clamp_out_of_range(std::uint64_t v, std::uint64_t count) noexcept {
    if (v > highest_) {
      overflow_ += count;
      return highest_;
    }
    underflow_ += count;  // recorded where it falls: the lowest bucket
    return v;
  }

  [[nodiscard]] std::uint64_t count_at_percentile(double p) const noexcept {
    // Exactly HdrHistogram's arithmetic (nudged down one ulp, then rounded up), so both
    // libraries pick the same sample for the same p. The rank is a double: exact up to
    // 2^53 samples, within total x 2^-52 beyond; p >= 100 is the last sample at any total.
    if (p >= 100.0) return total_;
    p = std::clamp(std::nextafter(p, -std::numeric_limits<double>::infinity()), 0.0, 100.0);
    const double c = std::ceil((p * static_cast<double>(total_)) / 100.0);
    // A total near 2^64 rounds up to 2^64 as a double, and converting that back to
    // uint64 is undefined: the target is at most the total.
    if (c >= static_cast<double>(total_)) return total_;
    return c < 1 ? 1 : static_cast<std::uint64_t>(c);
  }

  [[nodiscard]] int bucket_index(std::uint64_t v) const noexcept {
    const int pow2ceiling = 64 - std::countl_zero(v | sub_bucket_mask_);
    return pow2ceiling - unit_magnitude_ - (half_magnitude_ + 1);
  }
  [[nodiscard]] std::uint64_t sub_bucket_index(std::uint64_t v, int bucket) const noexcept {
    return v >> (bucket + unit_magnitude_);
  }
  [[nodiscard]] std::size_t index_of(std::uint64_t v) const noexcept {
    const int b = bucket_index(v);
    // ((b + 1) << half) + (sub - half_count) == (b << half) + sub
    return (static_cast<std::size_t>(b) << half_magnitude_) + sub_bucket_index(v, b);
  }
  [[nodiscard]] std::uint64_t value_at_index(std::size_t i) const noexcept {
    int b = static_cast<int>(i >> half_magnitude_) - 1;
    std::uint64_t s = (i & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
    if (b < 0) {
      s -= sub_bucket_half_count_;
      b = 0;
    }
    return s << (b + unit_magnitude_);
  }

  std::uint64_t lowest_, highest_;
  int digits_;
  int unit_magnitude_ = 0, half_magnitude_ = 0, bucket_count_ = 0;
  std::uint64_t sub_bucket_count_ = 0, sub_bucket_half_count_ = 0, sub_bucket_mask_ = 0;
  std::size_t counts_len_ = 0;
  std::unique_ptr<std::uint64_t[]> counts_;
  std::uint64_t total_ = 0, overflow_ = 0, underflow_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max(), max_ = 0;
};

}  // namespace hft
