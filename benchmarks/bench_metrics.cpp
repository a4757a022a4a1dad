// bench_metrics: cost of LatencyHistogram (record, percentiles, merge, reset), of the
// IntervalRecorder write path, and of TscClock versus steady_clock. Single-threaded
// except where noted; pinned to the first --cpus CPU. See docs/metrics.md.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "harness.hpp"
#include "hft/core/clock.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace {

using hft::bench::do_not_optimize;
using hft::bench::Metrics;
using clk = std::chrono::steady_clock;
constexpr std::uint64_t kHour = 3'600'000'000'000ULL;

double ns_per_op(clk::time_point t0, clk::time_point t1, std::uint64_t ops) {
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(ops);
}

// Latency-shaped samples: log-normal, median ~2 us, a tail into milliseconds.
std::vector<std::uint64_t> latency_samples(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(7.6, 1.0);
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng)) + 1;
  return v;
}
// Worst case for span-bounded operations: log-uniform over the whole 1 ns .. 1 h range.
std::vector<std::uint64_t> full_range_samples(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(0.0, std::log(static_cast<double>(kHour)));
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::exp(d(rng)));
  v.push_back(1);
  v.push_back(kHour);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_metrics", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    const std::size_t n = opts.quick ? 100'000 : 2'000'000;
    const auto lat = latency_samples(n, 1);
    const auto full = full_range_samples(n, 2);
    const double seven[] = {50, 90, 99, 99.9, 99.99, 99.999, 100};
    suite.note("histograms: 1 ns .. 1 h, 3 significant digits (" +
               std::to_string(hft::LatencyHistogram({.highest_trackable = kHour}).counts_length()) + " counters)");
    suite.note("'latency' data: log-normal, median ~2 us; 'full range': log-uniform over 1 ns .. 1 h");
    suite.note(
        "HdrHistogram_c is not packaged by Debian, so it does not run here; the figures quoted when these targets were "
        "set: "
        "7-10 ns/record, 16-24 ns/atomic record, 55-90 us for 7 percentiles, 100-150 us merge");

    suite.add_case("record", {{"", "ns/op", false}},
                   {
                       {"hft::LatencyHistogram::record",
                        [&] {
                          hft::LatencyHistogram h({.highest_trackable = kHour});
                          const auto t0 = clk::now();
                          for (auto v : lat) h.record(v);
                          const auto t1 = clk::now();
                          do_not_optimize(h.count());
                          return Metrics{{"", ns_per_op(t0, t1, lat.size())}};
                        }},
                       {"IntervalRecorder::Writer::record",
                        [&] {
                          hft::IntervalRecorder rec(1, {.highest_trackable = kHour});
                          auto w = rec.register_writer();
                          const auto t0 = clk::now();
                          for (auto v : lat) w.record(v);
                          const auto t1 = clk::now();
                          do_not_optimize(rec.collect_interval().count());
                          return Metrics{{"", ns_per_op(t0, t1, lat.size())}};
                        }},
                       {"std::vector::push_back (reserved; floor)",
                        [&] {
                          std::vector<std::uint64_t> out;
                          out.reserve(lat.size());
                          const auto t0 = clk::now();
                          for (auto v : lat) out.push_back(v);
                          const auto t1 = clk::now();
                          do_not_optimize(out.back());
                          return Metrics{{"", ns_per_op(t0, t1, lat.size())}};
                        }},
                   });

    hft::LatencyHistogram h_lat({.highest_trackable = kHour}), h_full({.highest_trackable = kHour});
    for (auto v : lat) h_lat.record(v);
    for (auto v : full) h_full.record(v);
    auto percentiles_case = [&](const hft::LatencyHistogram& h) {
      return [&h, &seven] {
        std::uint64_t out[7];
        constexpr int reps = 200;
        const auto t0 = clk::now();
        for (int r = 0; r < reps; ++r) {
          h.percentiles(seven, out);
          do_not_optimize(out[0]);
        }
        const auto t1 = clk::now();
        return Metrics{{"", ns_per_op(t0, t1, reps) / 1000.0}};
      };
    };
    std::vector<std::uint64_t> scratch;
    suite.add_case(
        "percentiles_7", {{"", "us/call", false}},
        {
            {"hft (latency data)", percentiles_case(h_lat)},
            {"hft (full range)", percentiles_case(h_full)},
            {"exact: nth_element x7 on the samples",
             [&] {
               scratch = lat;
               const auto t0 = clk::now();
               std::uint64_t acc = 0;
               for (double p : seven) {
                 const auto k = std::min(scratch.size() - 1,
                                         static_cast<std::size_t>(p / 100.0 * static_cast<double>(scratch.size())));
                 std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k), scratch.end());
                 acc += scratch[k];
               }
               const auto t1 = clk::now();
               do_not_optimize(acc);
               return Metrics{{"", ns_per_op(t0, t1, 1) / 1000.0}};
             }},
        });

    auto merge_case = [&](const hft::LatencyHistogram& src) {
      return [&src] {
        hft::LatencyHistogram dst({.highest_trackable = kHour});
        constexpr int reps = 50;
        const auto t0 = clk::now();
        for (int r = 0; r < reps; ++r) dst.merge(src);
        const auto t1 = clk::now();
        do_not_optimize(dst.count());
        return Metrics{{"", ns_per_op(t0, t1, reps) / 1000.0}};
      };
    };
    suite.add_case("merge", {{"", "us/call", false}},
                   {{"hft (latency data)", merge_case(h_lat)}, {"hft (full range)", merge_case(h_full)}});

    auto reset_case = [&](const hft::LatencyHistogram& src) {
      return [&src] {
        hft::LatencyHistogram h(src);
        constexpr int reps = 50;
        double total_ns = 0;
        for (int r = 0; r < reps; ++r) {
          h.record(src.min());  // re-establish the occupied span
          h.record(src.max());
          const auto t0 = clk::now();
          h.reset();
          total_ns += std::chrono::duration<double, std::nano>(clk::now() - t0).count();
        }
        do_not_optimize(h.count());
        return Metrics{{"", total_ns / reps / 1000.0}};
      };
    };
    suite.add_case("reset", {{"", "us/call", false}},
                   {{"hft (latency data)", reset_case(h_lat)}, {"hft (full range)", reset_case(h_full)}});

    const hft::TscClock tsc;
    const std::uint64_t clock_n = opts.quick ? 200'000 : 5'000'000;
    auto clock_case = [&](auto now) {
      return [now, clock_n] {
        std::uint64_t acc = 0;
        const auto t0 = clk::now();
        for (std::uint64_t i = 0; i < clock_n; ++i) acc += now();
        const auto t1 = clk::now();
        do_not_optimize(acc);
        return Metrics{{"", ns_per_op(t0, t1, clock_n)}};
      };
    };
    suite.add_case("clock_now", {{"", "ns/call", false}},
                   {
                       {"hft::TscClock::now_ns", clock_case([&tsc] { return tsc.now_ns(); })},
                       {"hft::TscClock::ticks (raw rdtsc)", clock_case([] { return hft::TscClock::ticks(); })},
                       {"std::chrono::steady_clock::now",
                        clock_case([] { return static_cast<std::uint64_t>(clk::now().time_since_epoch().count()); })},
                   });

    suite.add_ratio("clock_now", "hft::TscClock::now_ns", "std::chrono::steady_clock::now",
                    hft::bench::Target::at_most(0.5), "TscClock::now_ns / steady_clock::now");
    suite.add_ratio("record", "hft::LatencyHistogram::record", "std::vector::push_back (reserved; floor)",
                    hft::bench::Target::at_most(99.0), "record / vector push_back floor (informational)");
    suite.add_absolute("record", "hft::LatencyHistogram::record", hft::bench::Target::at_most(3.0),
                       "LatencyHistogram::record");
    suite.add_absolute("percentiles_7", "hft (latency data)", hft::bench::Target::at_most(10.0),
                       "7 percentiles (latency data)");
    suite.add_absolute("merge", "hft (latency data)", hft::bench::Target::at_most(20.0), "merge (latency data)");
    suite.run_and_report();
  });
}
