// mini_oms/cmd_loadgen.cpp: `mini_oms loadgen`, the load generator's command line: drives a
// running server (or the built-in echo server), verifies every reply, prints a progress line
// a second on stderr and the result (print_result, which the demo uses too), and writes
// --json/--hgrm/--svg/--hlog (each to PATH.tmp.<pid>, renamed at the end: cli.hpp). Ctrl-C
// (SIGINT) stops sending, waits at most 2 s for the replies owed, prints a report marked
// PARTIAL, writes the outputs from what was measured and exits 130; a second Ctrl-C kills.
// May call: loadgen.hpp (run_load, EchoServer), hft/metrics/histogram_report.hpp, cli.hpp.
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
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

namespace {

// Set by the SIGINT handler, read by run_load (LoadConfig::stop_sending). A lock-free
// atomic store is async-signal-safe.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// When the first SIGINT arrived (CLOCK_MONOTONIC ns; 0: none yet). Only the handler uses it.
std::atomic<std::int64_t> g_first_sigint_ns{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// The first SIGINT stops the run (a partial report follows). One Ctrl-C can arrive twice:
// timeout(1) forwards a signal to its child and to the child's process group, so copies
// within 500 ms of the first are the same Ctrl-C. A later one takes the default action at
// once. clock_gettime, signal and raise are async-signal-safe.
void on_sigint(int sig) {
  timespec ts{};
  (void)::clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::int64_t now = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  const std::int64_t first = g_first_sigint_ns.load(std::memory_order_relaxed);
  if (first == 0) {
    g_first_sigint_ns.store(now, std::memory_order_relaxed);
    g_interrupted.store(true, std::memory_order_release);  // pairs with run_load's acquire load
    return;
  }
  if (now - first < 500'000'000) return;
  (void)std::signal(sig, SIG_DFL);
  (void)std::raise(sig);
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      o += '\\';
      o += ch;
    } else if (u < 0x20 || u >= 0x7f) {  // control bytes, and raw bytes that may not be UTF-8
      char b[8];
      (void)std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(u));
      o += b;
    } else {
      o += ch;
    }
  }
  return o + "\"";
}

// --json: the result as one object (a partial run says so).
std::string result_json(const LoadResult& r) {
  char num[512];
  (void)std::snprintf(
      num, sizeof num,
      "\"partial\": %s, \"planned\": %llu, \"requests\": %llu, \"replies\": %llu, \"unanswered\": %llu, "
      "\"violations\": %llu, \"seconds\": %.6f, \"replies_per_s\": %.1f, \"rtt_us\": {\"p50\": %.3f, "
      "\"p90\": %.3f, \"p99\": %.3f, \"p99.9\": %.3f, \"max\": %.3f}",
      r.stopped ? "true" : "false", static_cast<unsigned long long>(r.planned),
      static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.replies),
      static_cast<unsigned long long>(r.unanswered), static_cast<unsigned long long>(r.violations), r.seconds,
      r.throughput(), static_cast<double>(r.rtt.percentile(50)) / 1e3, static_cast<double>(r.rtt.percentile(90)) / 1e3,
      static_cast<double>(r.rtt.percentile(99)) / 1e3, static_cast<double>(r.rtt.percentile(99.9)) / 1e3,
      static_cast<double>(r.rtt.max()) / 1e3);
  std::string o = "{\"scenario\": " + json_string(r.scenario) + ", ";
  o += num;
  o += ", \"by_type\": {";
  bool first = true;
  for (const auto& [t, n] : r.by_type) {
    if (!first) o += ", ";
    first = false;
    o += json_string(t);
    o += ": ";
    o += std::to_string(n);
  }
  o += "}, \"violation_samples\": [";
  first = true;
  for (const auto& v : r.samples) {
    if (!first) o += ", ";
    first = false;
    o += json_string(v);
  }
  o += "]}\n";
  return o;
}

}  // namespace

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
  hft::cli::OutputFile json, hgrm, svg, hlog;
  bool quiet = false;
  Parser p("mini_oms loadgen", "--port P [options]",
           "Drives a running `mini_oms serve` (or the built-in echo server: --target echo) and verifies\n"
           "every reply; exits 1 on any verification failure. A progress line a second goes to stderr.\n"
           "Ctrl-C stops sending, waits up to 2 s for the replies owed, prints a PARTIAL report, writes\n"
           "the outputs and exits 130. Outputs are written to PATH.tmp.<pid> and renamed at the end.");
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
      .flag("--no-progress", quiet, "no progress lines on stderr")
      .output("--json", json, "write the result here as JSON (partial: true after Ctrl-C)")
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
  l.progress = !quiet;
  l.stop_sending = &g_interrupted;
  l.stop_wait_s = 2;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = 0;  // a second Ctrl-C: the default action (on_sigint)
  sigemptyset(&sa.sa_mask);
  (void)::sigaction(SIGINT, &sa, nullptr);
  const LoadResult r = mini_oms::run_load(l);
  if (r.stopped) {
    std::printf(
        "loadgen: interrupted: PARTIAL report: %llu of %llu requests sent, %llu replies, %llu sent requests "
        "unanswered within 2 s\n",
        static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.planned),
        static_cast<unsigned long long>(r.replies), static_cast<unsigned long long>(r.unanswered));
  }
  print_result(r, r.stopped ? "partial" : nullptr);
  if (json.is_set()) json.write_and_close(result_json(r));
  if (hgrm.is_set()) hgrm.write_and_close(hft::percentile_distribution(r.rtt, 1000.0));
  if (svg.is_set()) svg.write_and_close(hft::percentile_svg(r.rtt, "mini_oms RTT (" + l.scenario + ")", 1000.0, "us"));
  hlog.finish();
  if (r.stopped) return 130;  // 128 + SIGINT, as a shell reports a job Ctrl-C ended
  return r.violations == 0 ? 0 : 1;
}

}  // namespace mini_oms::commands
