// latency_report: measures SPSC round trips between two threads with TscClock, records
// them in a LatencyHistogram, and writes the three report forms:
//   - the summary table (stdout)
//   - HdrHistogram's percentile distribution (.hgrm, readable by HdrHistogram plotters)
//   - a self-contained SVG percentile plot
// Usage: latency_report [--quick] [--out PREFIX]   (writes PREFIX.hgrm and PREFIX.svg)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "cli.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/cpu.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/queue/spsc_queue.hpp"

int main(int argc, char** argv) try {
  bool quick = false;
  std::string prefix = "latency_report";
  hft::cli::OutputFile hgrm, svg;
  hft::cli::Parser cli("latency_report", "[options]",
                       "SPSC round trips between two threads, recorded in a LatencyHistogram: the summary\n"
                       "table on stdout, PREFIX.hgrm (HdrHistogram's percentile format) and PREFIX.svg.");
  cli.flag("--quick", quick, "20,000 round trips instead of 1,000,000")
      .text("--out", prefix, "PREFIX", "write PREFIX.hgrm and PREFIX.svg");
  cli.parse(argc, argv);
  // Both files are opened before the measurement, so a bad path fails at once.
  for (auto [file, ext] : {std::pair{&hgrm, ".hgrm"}, std::pair{&svg, ".svg"}}) {
    const std::string err = file->open(prefix + ext);
    if (!err.empty()) cli.fail("--out: " + err);
  }
  const std::size_t n = quick ? 20'000 : 1'000'000;
  const hft::TscClock clock;
  hft::LatencyHistogram rtt(hft::LatencyHistogramConfig::up_to(std::chrono::hours(1)));  // 1 ns .. 1 h, 0.1%
  hft::SpscQueue<std::uint64_t> there(64), back(64);

  std::thread echo([&] {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t* v;
      while ((v = there.front()) == nullptr) hft::cpu_relax();
      const std::uint64_t x = *v;
      there.pop();
      back.push(x);
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t t0 = hft::TscClock::ticks();
    there.push(i);
    std::uint64_t x;
    while (!back.try_pop(x)) hft::cpu_relax();
    rtt.record(clock.delta_to_ns(hft::TscClock::ticks() - t0));
  }
  echo.join();

  std::printf("SPSC round trip, %zu samples, TscClock (%.3f ticks/ns)\n", n, clock.ticks_per_ns());
  std::fputs(hft::histogram_summary(rtt, 1.0, "ns").c_str(), stdout);
  hgrm.write_and_close(hft::percentile_distribution(rtt, 1.0));
  svg.write_and_close(hft::percentile_svg(rtt, "hft::SpscQueue round trip (2 threads, 2 cores)", 1.0, "ns"));
  std::printf("wrote %s.hgrm and %s.svg\n", prefix.c_str(), prefix.c_str());
  return rtt.count() == n ? 0 : 1;
} catch (const std::exception& e) {
  return hft::cli::report_fatal("latency_report", e);
}
