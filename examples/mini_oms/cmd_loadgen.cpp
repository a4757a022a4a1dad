// mini_oms/cmd_loadgen.cpp: `mini_oms loadgen`, the load generator's command line: drives a
// running server (or the built-in echo server), verifies every reply, prints the result
// (print_result, which the demo uses too) and writes --hgrm/--svg/--hlog. May call:
// loadgen.hpp (run_load, EchoServer), hft/metrics/histogram_report.hpp, cli.hpp.
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "loadgen.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LoadConfig;
using mini_oms::LoadResult;

void print_result(const LoadResult& r, const char* label) {
  std::printf(
      "  %-14s requests %8llu  replies %8llu  %9.0f req/s  rtt us p50 %7.1f p90 %7.1f p99 %7.1f p99.9 %7.1f max %8.1f  "
      "%s\n",
      label ? label : r.scenario.c_str(), static_cast<unsigned long long>(r.requests),
      static_cast<unsigned long long>(r.replies), r.throughput(), static_cast<double>(r.rtt.percentile(50)) / 1e3,
      static_cast<double>(r.rtt.percentile(90)) / 1e3, static_cast<double>(r.rtt.percentile(99)) / 1e3,
      static_cast<double>(r.rtt.percentile(99.9)) / 1e3, static_cast<double>(r.rtt.max()) / 1e3,
      r.violations == 0 ? "verified OK" : "VERIFICATION FAILED");
  std::string types;
  for (const auto& [t, n] : r.by_type) types += " " + t + "=" + std::to_string(n);
  std::printf("  %-14s replies by type:%s\n", "", types.c_str());
  if (r.rtt_cold.count() > 0) {
    std::printf("  %-14s the other families during the hot flood: rtt us p50 %.1f p99 %.1f (n=%llu)\n", "",
                static_cast<double>(r.rtt_cold.percentile(50)) / 1e3,
                static_cast<double>(r.rtt_cold.percentile(99)) / 1e3,
                static_cast<unsigned long long>(r.rtt_cold.count()));
  }
  if (r.reconnects > 0) {
    std::printf("  %-14s reconnects %llu, requests re-sent %llu\n", "", static_cast<unsigned long long>(r.reconnects),
                static_cast<unsigned long long>(r.resent));
  }
  for (const auto& s : r.samples) std::printf("  %-14s violation: %s\n", "", s.c_str());
}

int cmd_loadgen(int argc, char** argv, int first) {
  LoadConfig l;
  std::string target = "oms";
  hft::cli::OutputFile hgrm, svg, hlog;
  Parser p("mini_oms loadgen", "--port P [options]",
           "Drives a running `mini_oms serve` (or the built-in echo server: --target echo) and verifies\n"
           "every reply; exits 1 on any verification failure.");
  p.integer("--port", l.port, 0, 65535, "the server's port (required unless --target echo)")
      .text("--host", l.host, "ADDR", "the server's address")
      .choice("--scenario", l.scenario, {"mixed", "hot-family", "uncorrelated", "bad-input", "burst"},
              "the request mix")
      .integer("--connections", l.connections, 1, 4096, "TCP connections")
      .integer("--requests", l.requests, 1, std::uint64_t{1} << 40, "requests over all connections")
      .integer("--window", l.window, 1, 1u << 20, "closed loop: requests in flight per connection")
      .real("--rate", l.rate, 0, 1e9, "open loop: requests/s over all connections (0: closed loop)")
      .integer("--id-base", l.id_base, 1, std::uint64_t{1} << 60,
               "first request and correlation id (families the server has not numbered yet)")
      .flag("--reconnect", l.reconnect,
            "survive a server restart: reconnect, re-send what has no reply, verify exactly-once numbering")
      .integer("--seed", l.seed, 0, std::numeric_limits<std::uint64_t>::max(), "random seed")
      .choice("--target", target, {"oms", "echo"}, "echo: start the built-in echo server and drive it")
      .output("--hgrm", hgrm, "write the round-trip distribution here (HdrHistogram .hgrm, microseconds)")
      .output("--svg", svg, "write a percentile plot of the round trips here (SVG)")
      .output("--hlog", hlog,
              "write the round trips here as an HdrHistogram interval log (.hlog, ns), one interval per "
              "--hlog-interval-ms")
      .integer("--hlog-interval-ms", l.hlog_interval_ms, 1, 86'400'000, "--hlog: interval length (default 1000)");
  p.parse(argc, argv, first);
  if (hlog.is_set()) l.hlog = &hlog.stream();
  std::unique_ptr<mini_oms::EchoServer> echo;
  if (target == "echo") {
    echo = std::make_unique<mini_oms::EchoServer>();
    l.port = echo->port();
    l.echo = true;
  } else if (l.port == 0) {
    p.fail("--port is required (or --target echo)");
  }
  const LoadResult r = mini_oms::run_load(l);
  print_result(r);
  if (hgrm.is_set()) hgrm.write_and_close(hft::percentile_distribution(r.rtt, 1000.0));
  if (svg.is_set()) svg.write_and_close(hft::percentile_svg(r.rtt, "mini_oms RTT (" + l.scenario + ")", 1000.0, "us"));
  hlog.finish();
  return r.violations == 0 ? 0 : 1;
}

}  // namespace mini_oms::commands
