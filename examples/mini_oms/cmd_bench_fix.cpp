// mini_oms/cmd_bench_fix.cpp: `mini_oms bench-fix`: the same pipeline over its two front
// doors, the line protocol (loadgen.hpp, "mixed") and FIX 4.4 (fix_loadgen.hpp: a
// fix::Session initiator per connection), against one server, interleaved within each round.
// May call: bench_common.hpp, benchmarks/harness.hpp, loadgen.hpp, fix_loadgen.hpp,
// server.hpp, options.cpp.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "commands.hpp"
#include "fix_loadgen.hpp"
#include "server.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LoadConfig;
using mini_oms::LoadResult;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

// The same pipeline over its two front doors: the line protocol (loadgen.hpp, "mixed") and
// FIX 4.4 (fix_loadgen.hpp: a fix::Session initiator per connection), against one server,
// interleaved within each round. Closed loop for throughput; one order in flight for the
// round-trip latency.
int cmd_bench_fix(int argc, char** argv, int first) {
  ServerConfig base;
  LogSettings ls;
  std::uint64_t n = 100'000, n_rtt = 10'000;
  hft::bench::Options defaults;
  defaults.runs = 5;
  defaults.min_runs = 1;
  const hft::bench::Options opts = hft::bench::parse_options(
      argc, argv,
      "The line protocol against FIX on the same server (defaults + --fix-port): closed loop\n"
      "(4 connections x window 64) and one order in flight (round trip), in interleaved rounds.",
      [&](Parser& p) {
        p.integer("--requests", n, 1000, std::uint64_t{1} << 32, "closed-loop requests per case and round")
            .integer("--rtt-requests", n_rtt, 100, std::uint64_t{1} << 32, "round-trip requests per case and round");
        add_server_options(p, base, ls, /*with_cpus=*/false);
      },
      defaults, "mini_oms bench-fix", first);
  ServerLog log(with_crash_handler(ls));
  base.log = &log;
  if (opts.cpus_given) base.cpus = opts.cpus;
  if (opts.quick) {
    n = std::max<std::uint64_t>(1000, n / 10);
    n_rtt = std::max<std::uint64_t>(100, n_rtt / 10);
  }
  base.fix_port = 0;
  mini_oms::Server server(base);
  server.start();
  const std::vector<std::string> names = {"line", "fix"};
  hft::bench::Suite suite("mini_oms bench-fix", opts);
  char cfg_note[256];  // the text and five numbers
  (void)std::snprintf(cfg_note, sizeof cfg_note,
                      "closed loop %llu orders (4 connections x window 64), round trip %llu orders (1 connection, "
                      "window 1); %u partition(s), %u worker(s), %u I/O thread(s)",
                      static_cast<unsigned long long>(n), static_cast<unsigned long long>(n_rtt), base.partitions,
                      base.workers, base.io_threads);
  suite.note(cfg_note);
  suite.note("cpu: user + system time of the server's own threads per order");
  suite.add_recorded_case("closed", closed_specs(), names);
  suite.add_recorded_case("rtt", open_specs(), names);  // the same latency metrics
  suite.add_ratio("closed", "fix", "line", hft::bench::Target::at_least(0.7), "closed-loop orders/s: FIX / line");
  suite.add_ratio("closed/cpu", "fix", "line", hft::bench::Target::at_most(2.0), "server cpu per order: FIX / line");
  suite.add_ratio("rtt/p50", "fix", "line", hft::bench::Target::at_most(1.5), "round-trip p50: FIX / line");
  std::printf("mini_oms bench-fix: %s\n", cfg_note);
  std::uint64_t ids = 1, violations = 0;
  auto run = [&](const std::string& who, std::uint64_t count, unsigned conns, unsigned window, double& cpu) {
    LoadResult r;
    const std::uint64_t c0 = server.cpu_ns();
    if (who == "line") {
      LoadConfig l;
      l.port = server.port();
      l.scenario = "mixed";
      l.connections = conns;
      l.window = window;
      l.requests = count;
      l.id_base = ids;
      r = mini_oms::run_load(l);
    } else {
      mini_oms::FixLoadConfig f;
      f.port = server.fix_port();
      f.target_comp_id = base.fix_comp_id;
      f.connections = conns;
      f.window = window;
      f.orders = count;
      f.id_base = ids;
      r = mini_oms::run_fix_load(f);
    }
    ids += 2 * count + 100'000;
    cpu = static_cast<double>(server.cpu_ns() - c0) / static_cast<double>(std::max<std::uint64_t>(1, r.replies));
    violations += r.violations;
    for (const auto& v : r.samples) std::fprintf(stderr, "  %s: violation: %s\n", who.c_str(), v.c_str());
    return r;
  };
  for (int round = 0; round <= opts.runs; ++round) {  // round 0: a short warm-up, not recorded
    const std::uint64_t scale = round == 0 ? 10 : 1;
    for (const auto& who : names) {
      double cpu = 0;
      progress(round, opts.runs, who + " closed");
      const LoadResult r = run(who, std::max<std::uint64_t>(1000, n / scale), 4, 64, cpu);
      if (round > 0) suite.record("closed", who, closed_metrics(r, cpu));
    }
    for (const auto& who : names) {
      double cpu = 0;
      progress(round, opts.runs, who + " round trip");
      const LoadResult r = run(who, std::max<std::uint64_t>(100, n_rtt / scale), 1, 1, cpu);
      if (round > 0) suite.record("rtt", who, open_metrics(r, cpu));
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");
  server.stop();
  suite.finish();
  std::printf("\n%-6s %12s %11s %10s %10s %11s   (medians of %d rounds)\n", "front", "closed req/s", "cpu ns/req",
              "rtt p50", "rtt p99", "rtt cpu", opts.runs);
  for (const auto& who : names)
    std::printf("%-6s %12.0f %11.0f %8.1fus %8.1fus %11.0f\n", who.c_str(), suite.stats("closed", who).median,
                suite.stats("closed/cpu", who).median, suite.stats("rtt/p50", who).median,
                suite.stats("rtt/p99", who).median, suite.stats("rtt/cpu", who).median);
  suite.print_targets();
  std::printf("  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  suite.write_json();
  return violations == 0 ? 0 : 1;
}

}  // namespace mini_oms::commands
