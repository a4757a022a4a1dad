// mini_oms/bench_common.hpp: what `mini_oms bench` (cmd_bench.cpp) and `mini_oms bench-fix`
// (cmd_bench_fix.cpp) record alike: the metric layouts of a closed-loop and an open-loop
// case, and the progress line on stderr. May call: benchmarks/harness.hpp, loadgen.hpp.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "harness.hpp"
#include "loadgen.hpp"

namespace mini_oms::commands {

// Functions, not globals: a static std::vector's constructor may throw before main (cert-err58-cpp).
inline std::vector<hft::bench::MetricSpec> closed_specs() {
  return {{"", "req/s", true}, {"cpu", "server cpu ns/req", false}};
}
inline std::vector<hft::bench::MetricSpec> open_specs() {
  return {{"p50", "us", false}, {"p99", "us", false}, {"cpu", "server cpu ns/req", false}};
}

inline hft::bench::Metrics closed_metrics(const LoadResult& r, double cpu) {
  return {{"", r.throughput()}, {"cpu", cpu}};
}
inline hft::bench::Metrics open_metrics(const LoadResult& r, double cpu) {
  return {{"p50", static_cast<double>(r.rtt.percentile(50)) / 1e3},
          {"p99", static_cast<double>(r.rtt.percentile(99)) / 1e3},
          {"cpu", cpu}};
}

inline void progress(int round, int rounds, const std::string& what) {
  if (round == 0)
    std::fprintf(stderr, "\rwarm-up: %-40s", what.c_str());
  else
    std::fprintf(stderr, "\rround %d/%d: %-40s", round, rounds, what.c_str());
  (void)std::fflush(stderr);  // progress only
}

}  // namespace mini_oms::commands
