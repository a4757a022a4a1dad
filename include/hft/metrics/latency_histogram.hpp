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
// Thread-safety contract: not synchronised. One thread at a time may call anything;
//   concurrent const queries are fine while nobody writes. Hand a histogram to another
//   thread through something that synchronises (join, a queue, IntervalRecorder).
// Progress: record() is wait-free (no loops, no atomics, no allocation).
// Complexity: record O(1): a bit-scan, two shifts, one increment, two cmov for min/max.
//   percentile/percentiles/mean/stddev/merge/reset are O(k) in the number of counters
//   between the smallest and largest recorded value (not the whole array).
//   percentiles(list) answers an ascending list in one pass.
// Memory: one array of (buckets + 1) * 2^(ceil(log2(2 * 10^d)) - 1) uint64 counters,
//   allocated by the constructor (1 ns .. 1 h at d = 3: 32,768 counters, 256 KiB) and
//   never again. Queries allocate nothing; the text/SVG outputs build std::strings
//   (they are for reports, not hot paths).
//
// Out-of-range values: a value above highest_trackable is recorded as highest_trackable
//   and counted in overflow_count(); a value below lowest_discernible is recorded in the
//   lowest bucket and counted in underflow_count(). Nothing is dropped, nothing is UB,
//   and both counts are printed by summary().
//
// How it differs from HdrHistogram_c: min/max are tracked with branchless min/max so
//   queries, merge and reset touch only the occupied span of counters; the range check
//   is one unsigned compare covering both directions; out-of-range values are clamped
//   and counted instead of rejected (HdrHistogram_c returns false and drops them);
//   no auto-resize, no atomic variant (see IntervalRecorder for concurrency).
// Lifecycle: copyable (an independent histogram with the same counts) and movable; a
//   moved-from histogram may only be assigned to or destroyed.
#pragma once

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hft/core/assert.hpp"

namespace hft {

namespace detail {

/// Formats v like Java's String.format("%<width>.<decimals>f"): Java rounds the shortest
/// round-trip decimal digits of the double half-up, where printf rounds the exact binary
/// value; the two differ at ties such as 0.9997802734375 -> ...438 (Java) / ...437 (C).
/// .hgrm files are Java's format, so we follow Java to stay byte-compatible.
inline void append_java_fixed(std::string& out, double v, int decimals, int width) {
  char digits[64];
  std::string s;
  if (std::isnan(v)) {
    s = "NaN";
  } else if (std::isinf(v)) {
    s = v > 0 ? "Infinity" : "-Infinity";
  } else {
    const bool negative = std::signbit(v) && v != 0.0;
    const auto r = std::to_chars(digits, digits + sizeof digits, std::fabs(v), std::chars_format::fixed);
    std::string_view text(digits, static_cast<std::size_t>(r.ptr - digits));
    const std::size_t dot = text.find('.');
    std::string int_part(text.substr(0, dot));
    std::string frac(dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1));
    const auto keep = static_cast<std::size_t>(decimals);
    if (frac.size() > keep) {
      const bool round_up = frac[keep] >= '5';
      frac.resize(keep);
      if (round_up) {
        std::string all = int_part + frac;  // carry through both parts
        std::size_t i = all.size();
        while (i > 0) {
          --i;
          if (all[i] == '9') {
            all[i] = '0';
          } else {
            ++all[i];
            break;
          }
          if (i == 0) all.insert(all.begin(), '1');
        }
        int_part = all.substr(0, all.size() - keep);
        frac = all.substr(all.size() - keep);
      }
    } else {
      frac.append(keep - frac.size(), '0');
    }
    s = (negative ? "-" : "") + int_part + (keep ? "." + frac : "");
  }
  if (static_cast<int>(s.size()) < width) out.append(static_cast<std::size_t>(width) - s.size(), ' ');
  out += s;
}

}  // namespace detail

class LatencyHistogram {
 public:
  /// Throws std::invalid_argument unless 1 <= lowest_discernible, 2 * lowest_discernible
  /// <= highest_trackable <= 2^62, and 1 <= significant_digits <= 5.
  LatencyHistogram(std::uint64_t lowest_discernible, std::uint64_t highest_trackable, int significant_digits)
      : lowest_(lowest_discernible), highest_(highest_trackable), digits_(significant_digits) {
    if (lowest_discernible < 1) throw std::invalid_argument("LatencyHistogram: lowest_discernible must be >= 1");
    if (significant_digits < 1 || significant_digits > 5) {
      throw std::invalid_argument("LatencyHistogram: significant_digits must be 1..5");
    }
    if (highest_trackable < 2 * lowest_discernible) {
      throw std::invalid_argument("LatencyHistogram: highest_trackable must be >= 2 * lowest_discernible");
    }
    if (highest_trackable > (std::uint64_t{1} << 62)) {
      throw std::invalid_argument("LatencyHistogram: highest_trackable must be <= 2^62");
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
      throw std::invalid_argument("LatencyHistogram: lowest_discernible too large for these digits");
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

  LatencyHistogram(const LatencyHistogram& o)
      : LatencyHistogram(o.lowest_, o.highest_, o.digits_) {
    merge(o);
  }
  LatencyHistogram& operator=(const LatencyHistogram& o) {
    if (this != &o) {
      LatencyHistogram tmp(o);
      swap(tmp);
    }
    return *this;
  }
  /// A moved-from histogram may only be assigned to or destroyed.
  LatencyHistogram(LatencyHistogram&&) noexcept = default;
  LatencyHistogram& operator=(LatencyHistogram&&) noexcept = default;

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
  /// expected_interval == 0 records v only. O(v / expected_interval) records.
  void record_corrected(std::uint64_t v, std::uint64_t expected_interval) noexcept {
    record(v);
    if (expected_interval == 0 || v <= expected_interval) return;
    for (std::uint64_t missing = v - expected_interval; missing >= expected_interval; missing -= expected_interval) {
      record(missing);
    }
  }

  // ---- queries -----------------------------------------------------------------------

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t overflow_count() const noexcept { return overflow_; }
  [[nodiscard]] std::uint64_t underflow_count() const noexcept { return underflow_; }
  [[nodiscard]] bool empty() const noexcept { return total_ == 0; }

  /// Exact smallest / largest value recorded (after clamping); 0 when empty.
  [[nodiscard]] std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
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
    if (!same_layout(other)) throw std::invalid_argument("LatencyHistogram::merge: different configurations");
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

  [[nodiscard]] bool same_layout(const LatencyHistogram& o) const noexcept {
    return lowest_ == o.lowest_ && highest_ == o.highest_ && digits_ == o.digits_;
  }

  // ---- configuration and value equivalence -------------------------------------------------

  [[nodiscard]] std::uint64_t lowest_discernible() const noexcept { return lowest_; }
  [[nodiscard]] std::uint64_t highest_trackable() const noexcept { return highest_; }
  [[nodiscard]] int significant_digits() const noexcept { return digits_; }
  [[nodiscard]] int bucket_count() const noexcept { return bucket_count_; }
  [[nodiscard]] std::uint64_t sub_bucket_count() const noexcept { return sub_bucket_count_; }
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

  // ---- reports (allocate; not for hot paths) -------------------------------------------------

  /// One header line and one row: count, min, p50, p90, p99, p99.9, p99.99, max, each
  /// divided by `unit_divisor` and labelled with `unit`; plus overflow/underflow counts
  /// when non-zero.
  [[nodiscard]] std::string summary(double unit_divisor = 1.0, std::string_view unit = "ns") const {
    static constexpr double ps[] = {50, 90, 99, 99.9, 99.99};
    std::uint64_t v[5];
    percentiles(ps, v);
    char buf[512];
    const auto d = [&](std::uint64_t x) { return static_cast<double>(x) / unit_divisor; };
    int n = std::snprintf(buf, sizeof buf,
                          "%12s %10s %10s %10s %10s %10s %10s %10s  (%.*s)\n"
                          "%12llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n",
                          "count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max",
                          static_cast<int>(unit.size()), unit.data(), static_cast<unsigned long long>(total_),
                          d(min()), d(v[0]), d(v[1]), d(v[2]), d(v[3]), d(v[4]), d(max()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (overflow_ || underflow_) {
      n = std::snprintf(buf, sizeof buf, "%12s %llu above highest_trackable (clamped), %llu below lowest_discernible\n",
                        "out of range:", static_cast<unsigned long long>(overflow_),
                        static_cast<unsigned long long>(underflow_));
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  /// One point of HdrHistogram's percentile distribution.
  struct PercentilePoint {
    std::uint64_t value;        // highest equivalent value of the bucket reached
    double percentile;          // 0..100
    std::uint64_t count_to;     // samples <= value
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

  /// HdrHistogram's percentile distribution text (Java outputPercentileDistribution's
  /// format, the .hgrm files HdrHistogram's plotters read). Values are divided by
  /// `value_scale` (1000 for ns recorded, us printed).
  [[nodiscard]] std::string percentile_distribution(double value_scale = 1.0, int ticks_per_half_distance = 5) const {
    using detail::append_java_fixed;
    std::string out;
    char buf[128];
    auto add = [&](int n) { out.append(buf, static_cast<std::size_t>(n)); };
    add(std::snprintf(buf, sizeof buf, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
                      "1/(1-Percentile)"));
    for_each_percentile_point(ticks_per_half_distance, [&](const PercentilePoint& p) {
      const double fraction = p.percentile / 100.0;
      append_java_fixed(out, static_cast<double>(p.value) / value_scale, digits_, 12);
      out += ' ';
      append_java_fixed(out, fraction, 12, 2);
      add(std::snprintf(buf, sizeof buf, " %10llu", static_cast<unsigned long long>(p.count_to)));
      if (p.percentile != 100.0) {
        out += ' ';
        append_java_fixed(out, 1.0 / (1.0 - fraction), 2, 14);
      }
      out += '\n';
    });
    const double max_v = total_ ? static_cast<double>(highest_equivalent_value(max_)) : 0.0;
    out += "#[Mean    = ";
    append_java_fixed(out, mean() / value_scale, digits_, 12);
    out += ", StdDeviation   = ";
    append_java_fixed(out, stddev() / value_scale, digits_, 12);
    out += "]\n#[Max     = ";
    append_java_fixed(out, max_v / value_scale, digits_, 12);
    add(std::snprintf(buf, sizeof buf, ", Total count    = %12llu]\n", static_cast<unsigned long long>(total_)));
    add(std::snprintf(buf, sizeof buf, "#[Buckets = %12d, SubBuckets     = %12llu]\n", bucket_count_,
                      static_cast<unsigned long long>(sub_bucket_count_)));
    return out;
  }

  enum class YScale { Auto, Linear, Log };

  /// A self-contained SVG of the percentile distribution, drawn as HdrHistogram's
  /// plotter draws it: x is the percentile on a log scale of 1/(1-p) (ticks at 0%, 90%,
  /// 99%, 99.9%, ...), y the value (divided by value_scale, labelled `unit`). YScale::Auto
  /// draws y logarithmically when max / p50 > 100, so a millisecond outlier does not
  /// flatten a nanosecond body into the axis.
  [[nodiscard]] std::string percentile_svg(std::string_view title, double value_scale = 1.0,
                                           std::string_view unit = "ns", YScale y_scale = YScale::Auto) const;

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
    // libraries pick the same sample for the same p.
    p = std::clamp(std::nextafter(p, -std::numeric_limits<double>::infinity()), 0.0, 100.0);
    const auto c = static_cast<std::uint64_t>(std::ceil((p * static_cast<double>(total_)) / 100.0));
    return c < 1 ? 1 : c;
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

inline std::string LatencyHistogram::percentile_svg(std::string_view title, double value_scale,
                                                    std::string_view unit, YScale y_scale) const {
  constexpr double W = 800, H = 480, L = 80, R = 50, T = 50, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  // x axis: log10(1 / (1 - p)), p as a fraction, up to the last finite point or 99.999%.
  double x_max_decades = 5.0;
  double y_max = 0;
  struct Pt {
    double x, y;
  };
  std::string out;
  std::vector<Pt> points;
  for_each_percentile_point(5, [&](const PercentilePoint& p) {
    if (p.percentile >= 100.0) return;
    const double x = std::log10(1.0 / (1.0 - p.percentile / 100.0));
    const double y = static_cast<double>(p.value) / value_scale;
    points.push_back({x, y});
    y_max = std::max(y_max, y);
  });
  if (!points.empty()) x_max_decades = std::max(1.0, std::ceil(points.back().x));
  y_max = std::max(y_max, static_cast<double>(total_ ? highest_equivalent_value(max_) : 0) / value_scale);
  if (y_max <= 0) y_max = 1;
  const double p50 = static_cast<double>(percentile(50)) / value_scale;
  const bool log_y = y_scale == YScale::Log || (y_scale == YScale::Auto && p50 > 0 && y_max / p50 > 100);
  double y_lo = 0;  // linear: 0 .. nice(y_max); log: decades log10(y_lo) .. log10(y_max)
  if (log_y) {
    const double smallest = std::max(points.empty() ? 1.0 : points.front().y, 1e-9);
    y_lo = std::pow(10.0, std::floor(std::log10(smallest)));
    y_max = std::pow(10.0, std::ceil(std::log10(y_max)));
    if (y_max <= y_lo) y_max = y_lo * 10;
  } else {
    // A "nice" range: 1, 2 or 5 times a power of ten, >= y_max.
    const double mag = std::pow(10.0, std::floor(std::log10(y_max)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * mag >= y_max) {
        y_max = m * mag;
        break;
      }
    }
  }
  auto sx = [&](double x) { return L + pw * x / x_max_decades; };
  auto sy = [&](double y) {
    if (!log_y) return T + ph - ph * y / y_max;
    const double ly = std::log10(std::max(y, y_lo));
    return T + ph - ph * (ly - std::log10(y_lo)) / (std::log10(y_max) - std::log10(y_lo));
  };
  char buf[512];
  auto add = [&](int n) { out.append(buf, static_cast<std::size_t>(n)); };
  add(std::snprintf(buf, sizeof buf,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                    "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                    W, H, W, H));
  std::string esc;
  for (char c : title) {
    if (c == '<') esc += "&lt;";
    else if (c == '>') esc += "&gt;";
    else if (c == '&') esc += "&amp;";
    else esc += c;
  }
  add(std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
                    W / 2, esc.c_str()));
  // Grid and labels.
  for (int d = 0; d <= static_cast<int>(x_max_decades); ++d) {
    // 0%, 90%, 99%, 99.9%, 99.99%, ...
    std::string label = "0%";
    if (d == 1) label = "90%";
    if (d >= 2) label = d == 2 ? "99%" : "99." + std::string(static_cast<std::size_t>(d - 2), '9') + "%";
    add(std::snprintf(buf, sizeof buf,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                      sx(d), T, sx(d), T + ph, sx(d), T + ph + 18, label.c_str()));
  }
  const int y_ticks = log_y ? static_cast<int>(std::lround(std::log10(y_max / y_lo))) : 5;
  for (int k = 0; k <= y_ticks; ++k) {
    const double y = log_y ? y_lo * std::pow(10.0, k) : y_max * k / 5;
    add(std::snprintf(buf, sizeof buf,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                      L, sy(y), L + pw, sy(y), L - 6, sy(y) + 4, y));
  }
  add(std::snprintf(buf, sizeof buf,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">Percentile</text>\n"
                    "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">Latency (%.*s%s)</text>\n",
                    L, T, pw, ph, L + pw / 2, H - 16, T + ph / 2, T + ph / 2, static_cast<int>(unit.size()),
                    unit.data(), log_y ? ", log scale" : ""));
  // The curve, as steps: each bucket's value holds until the next percentile point.
  std::string poly;
  double prev_y = -1;
  for (const Pt& p : points) {
    if (prev_y >= 0) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", sx(p.x), sy(prev_y));
      poly += buf;
    }
    std::snprintf(buf, sizeof buf, "%.1f,%.1f ", sx(p.x), sy(p.y));
    poly += buf;
    prev_y = p.y;
  }
  out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"" + poly + "\"/>\n";
  add(std::snprintf(buf, sizeof buf,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" fill=\"#555\">count %llu, max %.3f %.*s</text>\n",
                    L + 8, T + 16, static_cast<unsigned long long>(total_),
                    static_cast<double>(max()) / value_scale, static_cast<int>(unit.size()), unit.data()));
  out += "</svg>\n";
  return out;
}

}  // namespace hft
