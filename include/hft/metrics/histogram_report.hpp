// hft/metrics/histogram_report.hpp: text and SVG reports of a LatencyHistogram.
//
// What: three renderings of a histogram's percentile distribution:
//   histogram_summary(h)         one header line and one row: count, min, p50 .. p99.99, max
//   percentile_distribution(h)   HdrHistogram's .hgrm text (Java's
//                                outputPercentileDistribution format, which HdrHistogram's
//                                plotters read)
//   percentile_svg(h, title)     a self-contained SVG of that distribution, drawn as
//                                HdrHistogram's plotter draws it
// When to use: end-of-run reports, files for the HdrHistogram tools, docs. When not: the
//   hot path (every function here builds std::strings); machine-readable output (use the
//   histogram's queries: percentiles(), for_each_bucket(), for_each_percentile_point()).
// Thread-safety: the histogram is only read; the same rule as its const queries (no
//   concurrent writer).
// Progress: blocking in the sense that it allocates; no locks.
// Memory ordering: none of its own.
// Complexity: O(k) in the occupied counters, plus the output's length.
// Compared with: HdrHistogram_c keeps recording in hdr_histogram.h and output in
//   hdr_histogram_log.h; the same split here. The .hgrm text matches Java's byte for byte
//   (tests/metrics/latency_histogram_test.cpp compares it with a reference file).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "hft/metrics/latency_histogram.hpp"

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

/// One header line and one row: count, min, p50, p90, p99, p99.9, p99.99, max, each
/// divided by `unit_divisor` and labelled with `unit`; plus overflow/underflow counts when
/// non-zero.
[[nodiscard]] inline std::string histogram_summary(const LatencyHistogram& h, double unit_divisor = 1.0,
                                                   std::string_view unit = "ns") {
  static constexpr double ps[] = {50, 90, 99, 99.9, 99.99};
  std::uint64_t v[5];
  h.percentiles(ps, v);
  char buf[512];
  const auto d = [&](std::uint64_t x) { return static_cast<double>(x) / unit_divisor; };
  int n = std::snprintf(buf, sizeof buf,
                        "%12s %10s %10s %10s %10s %10s %10s %10s  (%.*s)\n"
                        "%12llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n",
                        "count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max", static_cast<int>(unit.size()),
                        unit.data(), static_cast<unsigned long long>(h.count()), d(h.min()), d(v[0]), d(v[1]),
                        d(v[2]), d(v[3]), d(v[4]), d(h.max()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (h.overflow_count() || h.underflow_count()) {
    n = std::snprintf(buf, sizeof buf, "%12s %llu above highest_trackable (clamped), %llu below lowest_discernible\n",
                      "out of range:", static_cast<unsigned long long>(h.overflow_count()),
                      static_cast<unsigned long long>(h.underflow_count()));
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/// HdrHistogram's percentile distribution text. Values are divided by `value_scale`
/// (1000 for ns recorded, us printed).
[[nodiscard]] inline std::string percentile_distribution(const LatencyHistogram& h, double value_scale = 1.0,
                                                         int ticks_per_half_distance = 5) {
  using detail::append_java_fixed;
  const int digits = h.significant_digits();
  std::string out;
  char buf[128];
  auto add = [&](int n) { out.append(buf, static_cast<std::size_t>(n)); };
  add(std::snprintf(buf, sizeof buf, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
                    "1/(1-Percentile)"));
  h.for_each_percentile_point(ticks_per_half_distance, [&](const LatencyHistogram::PercentilePoint& p) {
    const double fraction = p.percentile / 100.0;
    append_java_fixed(out, static_cast<double>(p.value) / value_scale, digits, 12);
    out += ' ';
    append_java_fixed(out, fraction, 12, 2);
    add(std::snprintf(buf, sizeof buf, " %10llu", static_cast<unsigned long long>(p.count_to)));
    if (p.percentile != 100.0) {
      out += ' ';
      append_java_fixed(out, 1.0 / (1.0 - fraction), 2, 14);
    }
    out += '\n';
  });
  const double max_v = h.empty() ? 0.0 : static_cast<double>(h.highest_equivalent_value(h.max()));
  out += "#[Mean    = ";
  append_java_fixed(out, h.mean() / value_scale, digits, 12);
  out += ", StdDeviation   = ";
  append_java_fixed(out, h.stddev() / value_scale, digits, 12);
  out += "]\n#[Max     = ";
  append_java_fixed(out, max_v / value_scale, digits, 12);
  add(std::snprintf(buf, sizeof buf, ", Total count    = %12llu]\n", static_cast<unsigned long long>(h.count())));
  add(std::snprintf(buf, sizeof buf, "#[Buckets = %12d, SubBuckets     = %12llu]\n", h.bucket_count(),
                    static_cast<unsigned long long>(h.sub_bucket_count())));
  return out;
}

/// The value axis of percentile_svg(): Linear, Log, or Auto (log when max / p50 > 100).
enum class YScale { Auto, Linear, Log };

namespace detail {

struct PlotPoint {
  double x, y;  // x: log10(1 / (1 - p)); y: value / value_scale
};

// The distribution's finite percentile points, in the plot's coordinates.
inline std::vector<PlotPoint> percentile_curve(const LatencyHistogram& h, double value_scale) {
  std::vector<PlotPoint> points;
  h.for_each_percentile_point(5, [&](const LatencyHistogram::PercentilePoint& p) {
    if (p.percentile >= 100.0) return;
    points.push_back({std::log10(1.0 / (1.0 - p.percentile / 100.0)), static_cast<double>(p.value) / value_scale});
  });
  return points;
}

// The plot's frame: the data ranges, rounded to what the ticks show, and the mapping
// from data to SVG coordinates.
class PlotAxes {
 public:
  static constexpr double kWidth = 800, kHeight = 480, kLeft = 80, kRight = 50, kTop = 50, kBottom = 60;

  PlotAxes(const std::vector<PlotPoint>& points, double y_max, double p50, YScale y_scale) {
    if (!points.empty()) x_decades_ = std::max(1.0, std::ceil(points.back().x));
    for (const PlotPoint& p : points) y_max = std::max(y_max, p.y);
    if (y_max <= 0) y_max = 1;
    log_y_ = y_scale == YScale::Log || (y_scale == YScale::Auto && p50 > 0 && y_max / p50 > 100);
    if (log_y_) {
      const double smallest = std::max(points.empty() ? 1.0 : points.front().y, 1e-9);
      y_lo_ = std::pow(10.0, std::floor(std::log10(smallest)));
      y_max = std::pow(10.0, std::ceil(std::log10(y_max)));
      if (y_max <= y_lo_) y_max = y_lo_ * 10;
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
    y_max_ = y_max;
  }

  [[nodiscard]] bool log_y() const noexcept { return log_y_; }
  [[nodiscard]] static constexpr double plot_width() noexcept { return kWidth - kLeft - kRight; }
  [[nodiscard]] static constexpr double plot_height() noexcept { return kHeight - kTop - kBottom; }
  [[nodiscard]] double sx(double x) const noexcept { return kLeft + plot_width() * x / x_decades_; }
  [[nodiscard]] double sy(double y) const noexcept {
    if (!log_y_) return kTop + plot_height() - plot_height() * y / y_max_;
    const double ly = std::log10(std::max(y, y_lo_));
    return kTop + plot_height() - plot_height() * (ly - std::log10(y_lo_)) / (std::log10(y_max_) - std::log10(y_lo_));
  }

  // Grid lines, tick labels (0%, 90%, 99%, 99.9%, ...; values), the frame, axis titles.
  void append_to(std::string& out, std::string_view unit) const {
    char buf[512];
    auto add = [&](int n) { out.append(buf, static_cast<std::size_t>(n)); };
    const double pw = plot_width(), ph = plot_height();
    for (int d = 0; d <= static_cast<int>(x_decades_); ++d) {
      std::string label = "0%";
      if (d == 1) label = "90%";
      if (d >= 2) label = d == 2 ? "99%" : "99." + std::string(static_cast<std::size_t>(d - 2), '9') + "%";
      add(std::snprintf(buf, sizeof buf,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                        sx(d), kTop, sx(d), kTop + ph, sx(d), kTop + ph + 18, label.c_str()));
    }
    const int y_ticks = log_y_ ? static_cast<int>(std::lround(std::log10(y_max_ / y_lo_))) : 5;
    for (int k = 0; k <= y_ticks; ++k) {
      const double y = log_y_ ? y_lo_ * std::pow(10.0, k) : y_max_ * k / 5;
      add(std::snprintf(buf, sizeof buf,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                        kLeft, sy(y), kLeft + pw, sy(y), kLeft - 6, sy(y) + 4, y));
    }
    add(std::snprintf(
        buf, sizeof buf,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">Percentile</text>\n"
        "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">Latency (%.*s%s)</text>\n",
        kLeft, kTop, pw, ph, kLeft + pw / 2, kHeight - 16, kTop + ph / 2, kTop + ph / 2, static_cast<int>(unit.size()),
        unit.data(), log_y_ ? ", log scale" : ""));
  }

 private:
  double x_decades_ = 5.0;  // up to the last finite point, or 99.999% when empty
  double y_lo_ = 0;         // linear: 0 .. y_max_; log: decades log10(y_lo_) .. log10(y_max_)
  double y_max_ = 1;
  bool log_y_ = false;
};

// The curve as steps: each bucket's value holds until the next percentile point.
inline void append_curve(std::string& out, const PlotAxes& axes, const std::vector<PlotPoint>& points) {
  char buf[64];  // two coordinates inside the plot (or inf/nan): far below 64 characters
  std::string poly;
  double prev_y = -1;
  for (const PlotPoint& p : points) {
    if (prev_y >= 0) {
      (void)std::snprintf(buf, sizeof buf, "%.1f,%.1f ", axes.sx(p.x), axes.sy(prev_y));
      poly += buf;
    }
    (void)std::snprintf(buf, sizeof buf, "%.1f,%.1f ", axes.sx(p.x), axes.sy(p.y));
    poly += buf;
    prev_y = p.y;
  }
  out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"" + poly + "\"/>\n";
}

inline std::string xml_escape(std::string_view s) {
  std::string esc;
  for (char c : s) {
    if (c == '<') {
      esc += "&lt;";
    } else if (c == '>') {
      esc += "&gt;";
    } else if (c == '&') {
      esc += "&amp;";
    } else {
      esc += c;
    }
  }
  return esc;
}

}  // namespace detail

/// A self-contained SVG of the percentile distribution: x is the percentile on a log scale
/// of 1/(1-p) (ticks at 0%, 90%, 99%, 99.9%, ...), y the value (divided by value_scale,
/// labelled `unit`). YScale::Auto draws y logarithmically when max / p50 > 100, so a
/// millisecond outlier does not flatten a nanosecond body into the axis.
[[nodiscard]] inline std::string percentile_svg(const LatencyHistogram& h, std::string_view title,
                                                double value_scale = 1.0, std::string_view unit = "ns",
                                                YScale y_scale = YScale::Auto) {
  using detail::PlotAxes;
  const std::vector<detail::PlotPoint> points = detail::percentile_curve(h, value_scale);
  const double y_max = h.empty() ? 0.0 : static_cast<double>(h.highest_equivalent_value(h.max())) / value_scale;
  const PlotAxes axes(points, y_max, static_cast<double>(h.percentile(50)) / value_scale, y_scale);
  std::string out;
  char buf[512];
  auto add = [&](int n) { out.append(buf, static_cast<std::size_t>(n)); };
  add(std::snprintf(
      buf, sizeof buf,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      PlotAxes::kWidth, PlotAxes::kHeight, PlotAxes::kWidth, PlotAxes::kHeight));
  add(std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
                    PlotAxes::kWidth / 2, detail::xml_escape(title).c_str()));
  axes.append_to(out, unit);
  detail::append_curve(out, axes, points);
  add(std::snprintf(
      buf, sizeof buf,
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" fill=\"#555\">count %llu, max %.3f %.*s</text>\n",
      PlotAxes::kLeft + 8, PlotAxes::kTop + 16, static_cast<unsigned long long>(h.count()),
      static_cast<double>(h.max()) / value_scale, static_cast<int>(unit.size()), unit.data()));
  out += "</svg>\n";
  return out;
}

}  // namespace hft
