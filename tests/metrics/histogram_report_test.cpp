#include "hft/metrics/histogram_report.hpp"

#include <cstdint>
#include <random>
#include <string>

#include "../support/catch.hpp"

// The .hgrm text is checked byte for byte against HdrHistogram's in
// latency_histogram_test.cpp, next to the golden datasets it shares with the percentile
// checks. These cases pin the summary and the SVG.

using hft::LatencyHistogram;

namespace {
constexpr std::uint64_t kHour = 3'600'000'000'000ULL;
}

TEST_CASE("histogram_summary and percentile_svg: units, escaping, the log axis", "[histogram][report]") {
  LatencyHistogram h({.highest_trackable = kHour});
  h.record(1000, 99);
  h.record(1'000'000);
  const std::string summary = hft::histogram_summary(h, 1000.0, "us");
  REQUIRE(summary.find("p99.9") != std::string::npos);
  REQUIRE(summary.find("(us)") != std::string::npos);
  REQUIRE(summary.find("out of range") == std::string::npos);

  const std::string svg = hft::percentile_svg(h, "test <plot>", 1000.0, "us");
  REQUIRE(svg.rfind("<svg", 0) == 0);
  REQUIRE(svg.find("</svg>") != std::string::npos);
  REQUIRE(svg.find("<polyline") != std::string::npos);
  REQUIRE(svg.find("test &lt;plot&gt;") != std::string::npos);
  REQUIRE(svg.find("99.9%") != std::string::npos);
  // max / p50 = 1000: Auto switches to a log axis; Linear can be forced.
  REQUIRE(svg.find("log scale") != std::string::npos);
  REQUIRE(hft::percentile_svg(h, "t", 1.0, "ns", hft::YScale::Linear).find("log scale") == std::string::npos);
  LatencyHistogram narrow({.highest_trackable = kHour});
  for (std::uint64_t v = 100; v < 200; ++v) narrow.record(v);
  REQUIRE(hft::percentile_svg(narrow, "t").find("log scale") == std::string::npos);
}

TEST_CASE("histogram reports of an empty histogram are well formed", "[histogram][report]") {
  const LatencyHistogram empty;
  const std::string summary = hft::histogram_summary(empty);
  CHECK(summary.find("count") != std::string::npos);
  CHECK(summary.find("out of range") == std::string::npos);
  const std::string svg = hft::percentile_svg(empty, "empty");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  const std::string hgrm = hft::percentile_distribution(empty);
  CHECK(hgrm.find("Total count    =            0") != std::string::npos);
}
