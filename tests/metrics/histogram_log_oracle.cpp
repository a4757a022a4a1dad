// The C++ side of the .hlog oracle (scripts/hdr_oracle/hlog_oracle.sh): prints the dump
// format of scripts/hdr_oracle/HlogOracle.java, so that a diff compares our logs with Java's
// HdrHistogram value for value (and the uncompressed V2 encodings byte for byte).
//   histogram_log_oracle write LOG SEED   random intervals, written with HistogramLogWriter
//   histogram_log_oracle read LOG         a log (Java's), read with HistogramLogReader
//   histogram_log_oracle report LOG       the untagged intervals merged, as percentile_distribution()
//                                         prints them in ms (HistogramLogProcessor's .hgrm)
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hft/metrics/histogram_log.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace {

constexpr double kPercentiles[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};

// Java's Double.toString of the percentile, as the Java side prints it.
std::string java_double(double p) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, p);
  std::string s(buf, r.ptr);
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

std::string fixed3(double v) {
  std::string s;
  hft::detail::append_java_fixed(s, v, 3, 0);
  return s;
}

void dump(const std::string& tag, double start, double length, const hft::LatencyHistogram& h) {
  std::printf("interval tag=%s start=%s length=%s total=%llu max=%llu mean=%s", tag.empty() ? "-" : tag.c_str(),
              fixed3(start).c_str(), fixed3(length).c_str(), static_cast<unsigned long long>(h.count()),
              static_cast<unsigned long long>(h.empty() ? 0 : h.highest_equivalent_value(h.max())),
              fixed3(h.mean()).c_str());
  for (const double p : kPercentiles) {
    std::printf(" p%s=%llu", java_double(p).c_str(), static_cast<unsigned long long>(h.percentile(p)));
  }
  std::printf("\n");
  h.for_each_bucket([](std::uint64_t lo, std::uint64_t, std::uint64_t c) {
    std::printf("bucket %llu %llu\n", static_cast<unsigned long long>(lo), static_cast<unsigned long long>(c));
  });
  std::vector<std::uint8_t> v2;
  hft::encode_histogram(h, v2);
  std::printf("v2 ");
  for (const std::uint8_t b : v2) std::printf("%02x", b);
  std::printf("\n");
}

int write_log(const char* path, std::uint64_t seed) {
  std::ofstream file(path);
  if (!file) {
    std::fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  std::mt19937_64 rng(seed);
  hft::HistogramLogWriter w(file);
  w.write_header(1'700'000'000.0);
  const hft::LatencyHistogramConfig cfg{
      .lowest_discernible = 1, .highest_trackable = 3'600'000'000'000, .significant_digits = 3};
  hft::LatencyHistogram h(cfg);
  for (int i = 0; i < 40; ++i) {
    h.reset();
    const int kind = i % 5;
    const std::uint64_t n = kind == 4 ? 0 : 1 + rng() % 5000;
    for (std::uint64_t k = 0; k < n; ++k) {
      std::uint64_t v = 0;
      if (kind == 0) {
        v = 1 + rng() % 1'000'000;
      } else if (kind == 1) {
        v = static_cast<std::uint64_t>(std::exp(std::uniform_real_distribution<double>(0, 28)(rng)));
      } else if (kind == 2) {
        v = rng() % 2 ? 20'000 + rng() % 100 : 5'000'000;
      } else {
        v = rng() % 3'600'000'000'000;
      }
      h.record(v, 1 + (rng() % 10 == 0 ? rng() % 1'000'000 : 0));
    }
    const std::string tag = i % 3 == 1 ? "tag" + std::to_string(i % 2) : "";
    w.write_interval(i, 1.0, h, tag);
    dump(tag, i, 1.0, h);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc == 4) return write_log(argv[2], std::stoull(argv[3]));
    if ((mode == "read" || mode == "report") && argc == 3) {
      std::ifstream file(argv[2]);
      if (!file) {
        std::fprintf(stderr, "cannot open %s\n", argv[2]);
        return 1;
      }
      hft::HistogramLogReader r(file);
      std::optional<hft::LatencyHistogram> total;
      while (auto interval = r.next()) {
        if (mode == "read") {
          dump(interval->tag, interval->start_seconds, interval->length_seconds, interval->histogram);
        } else if (!interval->tag.empty()) {
          continue;  // HistogramLogProcessor without -tag reads only untagged intervals
        } else if (!total) {
          total.emplace(interval->histogram);
        } else {
          total->merge(interval->histogram);
        }
      }
      if (mode == "report")
        std::fputs(hft::percentile_distribution(total ? *total : hft::LatencyHistogram{}, 1e6).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "usage: histogram_log_oracle write LOG SEED | read LOG | report LOG\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "histogram_log_oracle: %s\n", e.what());
    return 1;
  }
}
