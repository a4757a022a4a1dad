// mini_oms/prom_text.hpp: Prometheus's text exposition format (version 0.0.4), written
// into a caller's string: the body metrics_endpoint.hpp serves.
//
// Owns: PromText (families of counters, gauges and cumulative-bucket histograms: HELP and
// TYPE once per family, its series contiguous, names checked against Prometheus's rules,
// label values and HELP escaped) and write_counters (an hft::CounterGroup as one counter
// family per counter, `mini_oms_<name>_total`).
// May call: hft::LatencyHistogram and hft::CounterGroup, read only. Nothing else: what to
// write and when is the caller's (Server::write_metrics, on the metrics thread).
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/ ; checked in CI by
// `promtool check metrics` (scripts/prometheus_e2e.sh).
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hft/metrics/counters.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace mini_oms {

enum class MetricType { counter, gauge, histogram };

/// One label: both views must outlive the PromText call they are passed to.
struct Label {
  std::string_view name;
  std::string_view value;
};

/// A short list of labels, from a braced list (`{{"partition", "0"}}`) or a span. A view:
/// pass it to a call, do not keep it (a braced list lives until the call returns).
class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<Label> l) : data_(l.begin(), l.size()) {}
  Labels(std::span<const Label> s) : data_(s) {}
  [[nodiscard]] std::span<const Label> span() const noexcept { return data_; }

 private:
  std::span<const Label> data_;
};

/// Latency bucket bounds in seconds, 1 us .. 1 s: where a low-latency server's stages fall.
inline constexpr std::array<double, 19> kLatencyBucketsSeconds = {1e-6,   2.5e-6, 5e-6, 1e-5,   2.5e-5, 5e-5, 1e-4,
                                                                  2.5e-4, 5e-4,   1e-3, 2.5e-3, 5e-3,   1e-2, 2.5e-2,
                                                                  5e-2,   0.1,    0.25, 0.5,    1};

/// Appends exposition text to a string. One family at a time: begin() writes its HELP and
/// TYPE lines once, then sample() or histogram() its series, contiguous as the format wants.
/// Names are program constants: a bad one throws std::invalid_argument; misuse (a sample
/// before begin, a family twice, a sample in a histogram family) throws std::logic_error.
/// Thread-safety: one thread (the endpoint's, in render). Allocates only as `out` grows.
class PromText {
 public:
  explicit PromText(std::string& out) : out_(out) {}

  /// Starts family `name`: writes `# HELP` (escaped) and `# TYPE`.
  void begin(std::string_view name, MetricType type, std::string_view help) {
    check_name(name, true);
    for (const auto& f : families_) {
      if (f == name) throw std::logic_error("mini_oms::PromText: family '" + std::string(name) + "' written twice");
    }
    families_.emplace_back(name);
    name_ = families_.back();
    type_ = type;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    escape(help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == MetricType::counter ? " counter\n" : type == MetricType::gauge ? " gauge\n" : " histogram\n";
  }

  /// One series of the current counter or gauge family: `name{labels} value`.
  template <class T>
  requires(std::is_arithmetic_v<T> && !std::same_as<T, bool>) void sample(Labels labels, T value) {
    if (name_.empty() || type_ == MetricType::histogram) {
      throw std::logic_error("mini_oms::PromText: sample() needs a counter or gauge family (begin it first)");
    }
    series(name_, {}, labels, {});
    number(value);
    out_ += '\n';
  }

  /// One series of the current histogram family from a histogram of nanoseconds: cumulative
  /// `_bucket{le="b"}` for every bound (seconds, ascending, finite) and `le="+Inf"`, then
  /// `_sum` and `_count` in seconds. A value counts under le=b when its bucket's lowest
  /// equivalent value is <= b (HdrHistogram's getCountBetweenValues): every value <= b is
  /// counted, a value above b only within the histogram's precision. The sum is over bucket
  /// midpoints, as LatencyHistogram::mean(). O(occupied counters + bounds).
  void histogram(Labels labels, const hft::LatencyHistogram& h_ns,
                 std::span<const double> bounds_s = kLatencyBucketsSeconds) {
    if (name_.empty() || type_ != MetricType::histogram) {
      throw std::logic_error("mini_oms::PromText: histogram() needs a histogram family (begin it first)");
    }
    for (std::size_t i = 0; i < bounds_s.size(); ++i) {
      if (!std::isfinite(bounds_s[i]) || (i > 0 && !(bounds_s[i] > bounds_s[i - 1]))) {
        throw std::invalid_argument("mini_oms::PromText: histogram bounds must be finite and ascending");
      }
    }
    cumulative_.assign(bounds_s.size(), 0);
    std::size_t k = 0;
    std::uint64_t running = 0;
    double sum_ns = 0;
    h_ns.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t c) {
      const auto lo_ns = static_cast<double>(lo);
      for (; k < bounds_s.size() && lo_ns > bounds_s[k] * 1e9; ++k) cumulative_[k] = running;
      running += c;
      sum_ns += static_cast<double>(h_ns.median_equivalent_value(lo)) * static_cast<double>(c);
    });
    for (; k < bounds_s.size(); ++k) cumulative_[k] = running;
    std::array<char, 32> le{};
    for (std::size_t i = 0; i < bounds_s.size(); ++i) {
      const auto r = std::to_chars(le.data(), le.data() + le.size(), bounds_s[i]);
      series(name_, "_bucket", labels, std::string_view(le.data(), static_cast<std::size_t>(r.ptr - le.data())));
      number(cumulative_[i]);
      out_ += '\n';
    }
    series(name_, "_bucket", labels, "+Inf");
    number(h_ns.count());
    out_ += '\n';
    series(name_, "_sum", labels, {});
    number(sum_ns / 1e9);
    out_ += '\n';
    series(name_, "_count", labels, {});
    number(h_ns.count());
    out_ += '\n';
  }

  /// Throws std::invalid_argument unless `name` matches [a-zA-Z_:][a-zA-Z0-9_:]* (a metric)
  /// or [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__" (a label).
  static void check_name(std::string_view name, bool metric) {
    const auto ok_first = [&](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    };
    bool ok = !name.empty() && ok_first(name[0]) && (metric || name.substr(0, 2) != "__");
    for (std::size_t i = 1; ok && i < name.size(); ++i) ok = ok_first(name[i]) || (name[i] >= '0' && name[i] <= '9');
    if (!ok) {
      std::string m = "mini_oms::PromText: bad ";
      m += metric ? "metric name '" : "label name '";
      m += name;
      m += metric ? "' (must match [a-zA-Z_:][a-zA-Z0-9_:]*)" : "' (must match [a-zA-Z_][a-zA-Z0-9_]*, not __*)";
      throw std::invalid_argument(m);
    }
  }

 private:
  // `name suffix{labels,le="..."} ` (no braces without labels).
  void series(std::string_view name, std::string_view suffix, Labels labels, std::string_view le) {
    out_ += name;
    out_ += suffix;
    bool first = true;
    const auto label = [&](std::string_view k, std::string_view v) {
      out_ += first ? '{' : ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      escape(v, true);
      out_ += '"';
    };
    for (const Label& l : labels.span()) {
      check_name(l.name, false);
      if (type_ == MetricType::histogram && l.name == "le") {
        throw std::invalid_argument("mini_oms::PromText: label 'le' is the histogram's own");
      }
      label(l.name, l.value);
    }
    if (!le.empty()) label("le", le);
    if (!first) out_ += '}';
    out_ += ' ';
  }

  // HELP text escapes \\ and newline; a label value also the double quote.
  void escape(std::string_view v, bool quote) {
    for (const char c : v) {
      if (c == '\\' || c == '\n' || (quote && c == '"')) {
        out_ += '\\';
        out_ += c == '\n' ? 'n' : c;
      } else {
        out_ += c;
      }
    }
  }

  template <class T>
  void number(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) {
        out_ += "NaN";
        return;
      }
      if (std::isinf(v)) {
        out_ += v > 0 ? "+Inf" : "-Inf";
        return;
      }
    }
    std::array<char, 32> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out_.append(buf.data(), r.ptr);
  }

  std::string& out_;
  std::vector<std::string> families_;
  std::string_view name_;  // the current family (a view of families_.back())
  MetricType type_ = MetricType::counter;
  std::vector<std::uint64_t> cumulative_;
};

/// A counter group and the labels of its series (both must outlive the call).
struct LabeledCounters {
  const hft::CounterGroup* group = nullptr;
  std::span<const Label> labels;
};

/// One counter family per counter name, `prefix + name + "_total"` (no second `_total`), with
/// one series per group that has the name, in first-seen order; each group is read with one
/// snapshot(). `help(name)` gives a family's HELP (default: "mini_oms counter <name>.").
inline void write_counters(PromText& t, std::span<const LabeledCounters> groups, std::string_view prefix = "mini_oms_",
                           const std::function<std::string(std::string_view)>& help = {}) {
  std::vector<std::vector<std::uint64_t>> values;
  values.reserve(groups.size());
  std::vector<std::string_view> names;
  for (const auto& g : groups) {
    values.push_back(g.group->snapshot());
    for (std::size_t i = 0; i < g.group->size(); ++i) {
      const std::string_view n = g.group->name(i);
      bool seen = false;
      for (const auto& s : names) seen = seen || s == n;
      if (!seen) names.push_back(n);
    }
  }
  std::string family;
  for (const std::string_view n : names) {
    family.assign(prefix);
    family += n;
    if (!family.ends_with("_total")) family += "_total";
    std::string text;
    if (help) {
      text = help(n);
    } else {
      text = "mini_oms counter ";
      text += n;
      text += '.';
    }
    t.begin(family, MetricType::counter, text);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t i = 0; i < groups[g].group->size(); ++i) {
        if (groups[g].group->name(i) == n) t.sample(groups[g].labels, values[g][i]);
      }
    }
  }
}

/// One group: write_counters with a single LabeledCounters.
inline void write_counters(PromText& t, const hft::CounterGroup& g, Labels labels = {},
                           std::string_view prefix = "mini_oms_") {
  const LabeledCounters one{&g, labels.span()};
  write_counters(t, std::span<const LabeledCounters>(&one, 1), prefix);
}

}  // namespace mini_oms
