#include "hft/metrics/latency_histogram.hpp"

#include "hft/metrics/histogram_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

using hft::LatencyHistogram;

namespace {

constexpr std::uint64_t kHour = 3'600'000'000'000ULL;

// The same generator as scripts/hdr_oracle/GenGolden.java, so both record identical data.
struct Lcg {
  std::uint64_t state;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
};

std::string read_file(const std::string& name) {
  // Appended, not string(literal) + "/" + name: g++ 12 -O3 warns -Warray-bounds on that form
  // for some lengths of the literal (the checkout's path), a false positive.
  std::string path = HFT_TEST_GOLDEN_DIR;
  path += '/';
  path += name;
  std::ifstream f(path);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::map<std::string, std::uint64_t> read_pct(const std::string& name) {
  std::map<std::string, std::uint64_t> m;
  std::istringstream in(read_file(name));
  std::string key;
  std::uint64_t v;
  while (in >> key >> v) m[key] = v;
  return m;
}

struct Golden {
  const char* name;
  LatencyHistogram h;
  double scale;
};

std::vector<Golden> golden_datasets() {
  std::vector<Golden> g;
  {
    LatencyHistogram u({.highest_trackable = kHour});
    Lcg r{1};
    for (int i = 0; i < 100'000; ++i) u.record(r.next() % 1'000'000 + 1);
    g.push_back({"uniform", std::move(u), 1000.0});
  }
  {
    LatencyHistogram b({.highest_trackable = kHour});
    Lcg r{7};
    for (int i = 0; i < 200'000; ++i) {
      b.record(i % 997 == 0 ? 50'000'000 + r.next() % 10'000'000 : 1000 + r.next() % 1000);
    }
    g.push_back({"bimodal", std::move(b), 1.0});
  }
  {
    LatencyHistogram c({.highest_trackable = 1'000'000'000'000ULL, .significant_digits = 2});
    for (int i = 0; i < 10'000; ++i) c.record_corrected(1'000, 10'000);
    c.record_corrected(100'000'000, 10'000);
    g.push_back({"corrected", std::move(c), 1000.0});
  }
  {
    LatencyHistogram t({.highest_trackable = 100, .significant_digits = 1});
    for (std::uint64_t v = 1; v <= 10; ++v) t.record(v);
    g.push_back({"tiny", std::move(t), 1.0});
  }
  return g;
}

}  // namespace

TEST_CASE("LatencyHistogram rejects bad configurations with a clear error", "[histogram]") {
  REQUIRE_THROWS_AS(LatencyHistogram({.lowest_discernible = 0, .highest_trackable = 100}), std::invalid_argument);
  REQUIRE_THROWS_AS(LatencyHistogram({.lowest_discernible = 10, .highest_trackable = 15}), std::invalid_argument);
  REQUIRE_THROWS_AS(LatencyHistogram({.highest_trackable = 100, .significant_digits = 0}), std::invalid_argument);
  REQUIRE_THROWS_AS(LatencyHistogram({.highest_trackable = 100, .significant_digits = 6}), std::invalid_argument);
  REQUIRE_THROWS_AS(LatencyHistogram({.highest_trackable = (std::uint64_t{1} << 62) + 1}), std::invalid_argument);
  LatencyHistogram h({.highest_trackable = kHour});
  REQUIRE(h.sub_bucket_count() == 2048);
  REQUIRE(h.empty());
  REQUIRE(h.percentile(99) == 0);
  REQUIRE(h.min() == 0);
  REQUIRE(h.max() == 0);
}

TEST_CASE("LatencyHistogramConfig: the default is 1 ns .. 1 min at 3 digits, up_to names a range", "[histogram]") {
  const LatencyHistogram by_default;
  CHECK(by_default.lowest_discernible() == 1);
  CHECK(by_default.highest_trackable() == 60'000'000'000ULL);
  CHECK(by_default.significant_digits() == 3);
  const auto hour = hft::LatencyHistogramConfig::up_to(std::chrono::hours(1), 2);
  CHECK(hour == hft::LatencyHistogramConfig{1, kHour, 2});
  const LatencyHistogram h(hour);
  CHECK(h.config() == hour);
  CHECK(LatencyHistogram(h).config() == hour);  // a copy keeps the configuration
  // The same error shape as every hft type: prefix, field, offending value.
  CHECK_THROWS_WITH(LatencyHistogram({.significant_digits = 7}), Catch::StartsWith("hft::LatencyHistogram: "));
}

TEST_CASE("LatencyHistogram .hgrm output is byte-identical to HdrHistogram's", "[histogram][golden]") {
  for (auto& g : golden_datasets()) {
    INFO(g.name);
    REQUIRE(hft::percentile_distribution(g.h, g.scale, 5) == read_file(std::string(g.name) + ".hgrm"));
  }
}

TEST_CASE("LatencyHistogram percentiles, count, min and max agree with HdrHistogram", "[histogram][golden]") {
  const double ps[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};
  const char* names[] = {"p0.0", "p1.0", "p10.0", "p25.0", "p50.0", "p75.0", "p90.0",
                         "p95.0", "p99.0", "p99.5", "p99.9", "p99.99", "p99.999", "p100.0"};
  for (auto& g : golden_datasets()) {
    INFO(g.name);
    auto expect = read_pct(std::string(g.name) + ".pct");
    REQUIRE(g.h.count() == expect["count"]);
    REQUIRE(g.h.highest_equivalent_value(g.h.max()) == expect["max"]);
    REQUIRE(g.h.lowest_equivalent_value(g.h.min()) == expect["min"]);
    std::uint64_t got[14];
    g.h.percentiles(ps, got);
    for (int i = 0; i < 14; ++i) {
      INFO(names[i]);
      REQUIRE(got[i] == expect[names[i]]);
      REQUIRE(g.h.percentile(ps[i]) == expect[names[i]]);
    }
  }
}

TEST_CASE("LatencyHistogram is within its precision of the exact quantiles", "[histogram]") {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<std::uint64_t> uniform(1, 10'000'000);
  std::lognormal_distribution<double> lognormal(8.0, 1.5);  // median ~3 us, long tail
  for (int digits : {2, 3, 4}) {
    for (int dist = 0; dist < 3; ++dist) {
      LatencyHistogram h({.highest_trackable = kHour, .significant_digits = digits});
      std::vector<std::uint64_t> samples;
      for (int i = 0; i < 200'000; ++i) {
        std::uint64_t v;
        if (dist == 0) {
          v = uniform(rng);
        } else if (dist == 1) {
          v = static_cast<std::uint64_t>(lognormal(rng)) + 1;
        } else {  // bimodal with rare huge outliers
          v = (rng() % 10'000 == 0) ? 1'000'000'000 + rng() % 1'000'000'000 : 500 + rng() % 200;
        }
        samples.push_back(v);
        h.record(v);
      }
      std::sort(samples.begin(), samples.end());
      double tolerance = 1.0;
      for (int i = 0; i < digits; ++i) tolerance /= 10.0;
      // Percentiles in thousandths of a percent, so the exact rank is integer arithmetic.
      for (std::uint64_t p_milli : {1'000u, 25'000u, 50'000u, 90'000u, 99'000u, 99'900u, 99'990u, 99'999u, 100'000u}) {
        const double p = static_cast<double>(p_milli) / 1000.0;
        const std::uint64_t n = samples.size();
        const std::size_t rank = static_cast<std::size_t>((p_milli * n + 99'999) / 100'000);  // ceil
        const std::uint64_t exact = samples[std::max<std::size_t>(rank, 1) - 1];
        const std::uint64_t got = h.percentile(p);
        INFO("digits " << digits << " dist " << dist << " p" << p << " exact " << exact << " got " << got);
        REQUIRE(got >= exact);
        REQUIRE(static_cast<double>(got - exact) <= static_cast<double>(exact) * tolerance);
      }
      REQUIRE(h.min() == samples.front());
      REQUIRE(h.max() == samples.back());
      double exact_mean = 0;
      for (auto v : samples) exact_mean += static_cast<double>(v);
      exact_mean /= static_cast<double>(samples.size());
      REQUIRE(std::abs(h.mean() - exact_mean) <= exact_mean * tolerance);
    }
  }
}

TEST_CASE("LatencyHistogram merge equals recording everything into one", "[histogram]") {
  std::mt19937_64 rng(5);
  LatencyHistogram a({.highest_trackable = kHour}), b({.highest_trackable = kHour}), all({.highest_trackable = kHour});
  for (int i = 0; i < 50'000; ++i) {
    const std::uint64_t v = rng() % 1'000'000'000 + 1;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  b.record(kHour * 10);  // overflow travels with the merge
  all.record(kHour * 10);
  a.merge(b);
  REQUIRE(a.count() == all.count());
  REQUIRE(a.min() == all.min());
  REQUIRE(a.max() == all.max());
  REQUIRE(a.overflow_count() == 1);
  REQUIRE(a.mean() == all.mean());
  REQUIRE(hft::percentile_distribution(a) == hft::percentile_distribution(all));
  std::vector<std::uint64_t> ca, cb;
  a.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t c) { ca.push_back(lo), ca.push_back(c); });
  all.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t c) { cb.push_back(lo), cb.push_back(c); });
  REQUIRE(ca == cb);

  LatencyHistogram other_config({.highest_trackable = kHour, .significant_digits = 2});
  REQUIRE_THROWS_AS(a.merge(other_config), std::invalid_argument);
}

TEST_CASE("LatencyHistogram reset forgets everything and can be reused", "[histogram]") {
  LatencyHistogram h({.highest_trackable = kHour});
  for (std::uint64_t v = 1; v < 100'000; v += 7) h.record(v);
  h.record(kHour * 2);
  h.reset();
  REQUIRE(h.count() == 0);
  REQUIRE(h.overflow_count() == 0);
  REQUIRE(h.percentile(50) == 0);
  std::uint64_t nonzero = 0;
  h.for_each_bucket([&](std::uint64_t, std::uint64_t, std::uint64_t) { ++nonzero; });
  REQUIRE(nonzero == 0);
  h.record(42);
  REQUIRE(h.count() == 1);
  REQUIRE(h.min() == 42);
  REQUIRE(h.percentile(100) == 42);
}

TEST_CASE("LatencyHistogram coordinated-omission correction follows HdrHistogram", "[histogram]") {
  // HdrHistogram's own unit test: value 4 with expected interval 1 back-fills 3, 2, 1.
  LatencyHistogram h({.highest_trackable = 1000});
  h.record_corrected(4, 1);
  REQUIRE(h.count() == 4);
  for (std::uint64_t v = 1; v <= 4; ++v) REQUIRE(h.count_at(v) == 1);
  // Interval 0 or a value within the interval records just the value.
  LatencyHistogram z({.highest_trackable = 1000});
  z.record_corrected(500, 0);
  z.record_corrected(5, 10);
  REQUIRE(z.count() == 2);

  // The README example: 10,000 x 1 ms every 10 ms, then a 100 s stall (values in us).
  LatencyHistogram c({.highest_trackable = kHour});
  for (int i = 0; i < 10'000; ++i) c.record_corrected(1'000, 10'000);
  c.record_corrected(100'000'000, 10'000);
  REQUIRE(c.count() == 20'000);
  REQUIRE(c.percentile(50) == c.highest_equivalent_value(1'000));  // half the samples are 1 ms
  // Uncorrected, p75 would be 1 ms; corrected, the stall's missing samples put it near 50 s.
  REQUIRE(std::abs(static_cast<double>(c.percentile(75)) - 50e6) < 50e6 * 0.001 + 10'000);
  REQUIRE(std::abs(static_cast<double>(c.percentile(99)) - 98e6) < 98e6 * 0.001 + 10'000);
}

TEST_CASE("LatencyHistogram clamps and counts out-of-range values", "[histogram]") {
  LatencyHistogram h({.lowest_discernible = 10, .highest_trackable = 1000, .significant_digits = 2});
  h.record(5);            // below lowest: recorded in the lowest bucket, counted
  h.record(5000);         // above highest: recorded as highest, counted
  h.record(~0ULL, 3);     // far above: no UB
  h.record(0);
  h.record(500);
  REQUIRE(h.count() == 7);
  REQUIRE(h.underflow_count() == 2);
  REQUIRE(h.overflow_count() == 4);
  REQUIRE(h.max() == 1000);
  REQUIRE(h.min() == 0);
  REQUIRE(h.percentile(100) == h.highest_equivalent_value(1000));
  const std::string s = hft::histogram_summary(h);
  REQUIRE(s.find("4 above highest_trackable") != std::string::npos);
  REQUIRE(s.find("2 below lowest_discernible") != std::string::npos);
}

TEST_CASE("LatencyHistogram record(v, n), copies and bucket iteration", "[histogram]") {
  LatencyHistogram h({.highest_trackable = kHour});
  h.record(1000, 99);
  h.record(1'000'000);
  REQUIRE(h.count() == 100);
  REQUIRE(h.percentile(99) == h.highest_equivalent_value(1000));
  REQUIRE(h.percentile(99.5) == h.highest_equivalent_value(1'000'000));
  std::uint64_t sum = 0, prev = 0;
  h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t c) {
    REQUIRE(lo >= prev);
    REQUIRE(hi >= lo);
    prev = hi;
    sum += c;
  });
  REQUIRE(sum == h.count());

  LatencyHistogram copy(h);
  REQUIRE(hft::percentile_distribution(copy) == hft::percentile_distribution(h));
  LatencyHistogram assigned({.highest_trackable = 10, .significant_digits = 1});
  assigned = h;
  REQUIRE(assigned.count() == 100);
  REQUIRE(assigned.significant_digits() == 3);
}

TEST_CASE("LatencyHistogram lifecycle contract: copies are independent, moved-from may be assigned", "[histogram][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<LatencyHistogram, Copy::Yes, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<LatencyHistogram>([] { return LatencyHistogram({.highest_trackable = 1'000'000}); },
                                                 [](LatencyHistogram& h) {
                                                   h.record(100);
                                                   REQUIRE(h.count() >= 1);
                                                   REQUIRE(h.max() == 100);
                                                 });
  LatencyHistogram a({.highest_trackable = 1'000, .significant_digits = 2});
  a.record(5);
  LatencyHistogram b = a;
  b.record(7);
  CHECK(a.count() == 1);
  CHECK(b.count() == 2);
  // Limits: values outside [lowest, highest] are clamped and counted, never UB.
  a.record(0);
  a.record(std::numeric_limits<std::uint64_t>::max());
  CHECK(a.underflow_count() == 1);
  CHECK(a.overflow_count() == 1);
}

// Issue 34, limit sweep: percentile() converted ceil(p% x total) to uint64 from a double,
// and a total near 2^64 rounds to 2^64 as a double, whose conversion is undefined
// behaviour: on x86-64 it came out 0, so percentile(100) answered the lowest bucket.
TEST_CASE("LatencyHistogram: percentiles of a total near 2^64", "[histogram][regression][limits]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  LatencyHistogram h;
  h.record(1'000, kMax);
  REQUIRE(h.count() == kMax);
  CHECK(h.percentile(100) == h.highest_equivalent_value(1'000));
  CHECK(h.percentile(50) == h.highest_equivalent_value(1'000));
  CHECK(h.percentile(0) == h.lowest_equivalent_value(1'000));
  LatencyHistogram two;
  two.record(1'000, kMax - 1);
  two.record(2'000'000);
  CHECK(two.percentile(100) == two.highest_equivalent_value(2'000'000));
  CHECK(two.percentile(99.9) == two.highest_equivalent_value(1'000));
}

// Issue 34, limit sweep: record_corrected looped once per expected_interval from v down, so
// v = UINT64_MAX (a negative clock difference cast to uint64) at a 1 s interval took 1.8e10
// records, all clamped to highest_trackable: minutes on the recording thread. The clamped
// ones are now one record(highest, k): the same counts, at most highest / interval records.
TEST_CASE("LatencyHistogram::record_corrected of an out-of-range value records the same counts in bounded time",
          "[histogram][regression][limits]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  // Against a one-record-per-sample loop where that loop is short: 2^20 back-filled samples.
  const auto brute = [](LatencyHistogram& h, std::uint64_t v, std::uint64_t interval) {
    h.record(v);
    if (interval == 0 || v <= interval) return;
    for (std::uint64_t m = v - interval; m >= interval; m -= interval) h.record(m);
  };
  const hft::LatencyHistogramConfig small{.lowest_discernible = 1, .highest_trackable = 1'000'000, .significant_digits = 2};
  for (const std::uint64_t v : {kMax, kMax - 1, std::uint64_t{1} << 63, (std::uint64_t{1} << 44) * 3 + 5}) {
    for (const std::uint64_t interval : {std::uint64_t{1} << 44, (std::uint64_t{1} << 44) + 12'345}) {
      LatencyHistogram fast(small), ref(small);
      fast.record_corrected(v, interval);
      brute(ref, v, interval);
      CHECK(fast.count() == ref.count());
      CHECK(fast.overflow_count() == ref.overflow_count());
      CHECK(fast.percentile(50) == ref.percentile(50));
      CHECK(hft::percentile_distribution(fast) == hft::percentile_distribution(ref));
    }
  }
  LatencyHistogram one_sided(small);  // interval above highest: every back-filled sample clamps
  one_sided.record_corrected(5'000'000, 2'000'000);
  CHECK(one_sided.count() == 2);  // 5e6 and 3e6; 1e6 < interval is not back-filled
  CHECK(one_sided.overflow_count() == 2);
  // The case that took minutes: counts from arithmetic, not from a loop.
  LatencyHistogram h;  // 1 ns .. 60 s
  const std::uint64_t interval = 1'000'000'000;
  h.record_corrected(kMax, interval);
  const std::uint64_t back_filled = kMax / interval - 1;                    // kMax - j * interval >= interval
  const std::uint64_t above = (kMax - h.highest_trackable() - 1) / interval;  // ... and > highest_trackable
  CHECK(h.count() == 1 + back_filled);
  CHECK(h.overflow_count() == 1 + above);
  CHECK(h.count_at(h.highest_trackable()) >= 1 + above);
}
