// mini_oms: the example order-management server, its load generator and the demo.
//
//   mini_oms demo [--quick]              the README's main command: an in-process server on a
//                                        loopback port, every scenario, one report
//   mini_oms serve [options]             run the server until SIGINT/SIGTERM
//   mini_oms loadgen --port P [options]  drive a running server (or --target echo)
//   mini_oms bench [--json FILE]         echo floor vs mini-OMS, closed and open loop
//
// Run any of them with --help for the options. The command line is examples/common/cli.hpp
// (every binary's parser); bench records into the benchmark harness's Suite.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fix_loadgen.hpp"
#include "harness.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "loadgen.hpp"
#include "logging.hpp"
#include "server.hpp"

namespace {

using hft::cli::Parser;
using mini_oms::LoadConfig;
using mini_oms::LoadResult;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

// Server options shared by serve/demo/bench. `with_cpus`: bench takes --cpus from the
// benchmark harness instead (the same meaning: the CPUs to pin threads to). `log`: the
// --log-* flags (with_crash_handler below).
void add_server_options(Parser& p, ServerConfig& c, LogSettings& log, bool with_cpus = true) {
  p.integer("--port", c.port, 0, 65535, "TCP port to listen on (0: ephemeral)")
      .text("--host", c.host, "ADDR", "address to listen on")
      .integer("--io-threads", c.io_threads, 1, 64, "I/O threads (epoll loops)")
      .integer("--partitions", c.partitions, 1, 64,
               "partitions, a power of two (default " + std::to_string(c.partitions) +
                   " here: 1 below 4 cores, 2 below 8, else 4)")
      .integer("--workers", c.workers, 1, 64,
               "worker threads (default " + std::to_string(c.workers) + " here: cores/2, 1..8)")
      .integer("--ring", c.ring_size, 2, std::size_t{1} << 26, "ring slots per partition, a power of two")
      .integer("--family-table", c.family_table, 1, std::size_t{1} << 28, "families tracked, all partitions")
      .integer("--max-pending", c.max_pending_per_family, 1, 1u << 24, "queued tasks per family")
      .integer("--slice", c.slice, 1, 1u << 16, "tasks a family runs before yielding its worker")
      .integer("--work-us", c.work_us, 0, 10'000'000, "simulated work per request, microseconds")
      .integer("--stats-interval-ms", c.stats_interval_ms, 0, 86'400'000, "print counters this often (0: off)")
      .integer("--log-sample", c.log_sample, 0, std::numeric_limits<std::uint32_t>::max(),
               "log every Nth request (0: off)")
      .integer("--max-connections", c.max_connections, 1, std::size_t{1} << 20,
               "connections open at once (all I/O threads); one more gets REJ:CONN_LIMIT and is closed")
      .flag("--busy-spin", c.busy_spin, "spin instead of sleeping (a dedicated machine)")
      .custom("--dispatch", "auto|ring|inline", "auto: inline with one I/O thread (default auto)",
              [&c](std::string_view v) {
                if (v == "auto")
                  c.dispatch = mini_oms::DispatchMode::Auto;
                else if (v == "ring")
                  c.dispatch = mini_oms::DispatchMode::Ring;
                else if (v == "inline")
                  c.dispatch = mini_oms::DispatchMode::Inline;
                else
                  throw hft::cli::BadValue("'" + std::string(v) + "' is not one of auto, ring, inline");
              })
      .custom("--execute", "auto|pool|inline",
              "auto: an idle family's task runs on the submitting thread while tasks take <= "
              "--inline-max-us on average and no job waits for a worker (default auto)",
              [&c](std::string_view v) {
                if (v == "auto")
                  c.execute = mini_oms::ExecuteMode::Auto;
                else if (v == "pool")
                  c.execute = mini_oms::ExecuteMode::Pool;
                else if (v == "inline")
                  c.execute = mini_oms::ExecuteMode::Inline;
                else
                  throw hft::cli::BadValue("'" + std::string(v) + "' is not one of auto, pool, inline");
              })
      .custom("--inline-max-us", "N", "--execute auto's limit, 0..1000000 (default 5)",
              [&c](std::string_view v) {
                c.inline_max_ns = hft::cli::parse_integer<std::uint32_t>(v, 0, 1'000'000) * 1000;
              })
      .custom("--ref", "SYM=PRICE", "reference price for the risk check (repeatable)", [&c](std::string_view kv) {
        const auto eq = kv.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
          throw hft::cli::BadValue("'" + std::string(kv) + "' is not SYM=PRICE");
        }
        c.refs.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
      });
  p.integer("--fix-port", c.fix_port, -1, 65535, "also accept FIX 4.4 on this port (0: ephemeral, -1: off)")
      .text("--fix-comp-id", c.fix_comp_id, "ID", "our SenderCompID on the FIX port (default HFTOMS)")
      .integer("--fix-max-sessions", c.fix_max_sessions, 1, 1u << 16, "FIX peer CompIDs the server keeps state for")
      .custom("--fix-peers", "A,B,...",
              "the SenderCompIDs that may log on to the FIX port; a Logon from another is closed without a "
              "reply (default: any)",
              [&c](std::string_view v) {
                try {
                  c.fix_peers = mini_oms::parse_peer_list(v);
                } catch (const std::invalid_argument& e) {
                  throw hft::cli::BadValue(e.what());
                }
              });
  p.text("--journal", c.journal_dir, "DIR",
         "journal every execution here, replay it on start (docs/journal.md; default: off)")
      .custom("--durability", "none|batch|every",
              "--journal: none survives kill -9, batch (1 ms group commit) and every also power loss; a reply "
              "leaves once its record is durable (default none)",
              [&c](std::string_view v) {
                if (v == "none")
                  c.durability = hft::Durability::none;
                else if (v == "batch")
                  c.durability = hft::Durability::batch;
                else if (v == "every")
                  c.durability = hft::Durability::every;
                else
                  throw hft::cli::BadValue("'" + std::string(v) + "' is not none, batch or every");
              })
      .integer("--dedup-window", c.dedup_window, 1, std::size_t{1} << 26,
               "--journal: re-sent (correlation id, req_id) pairs remembered per partition");
  if (with_cpus) p.integer_list("--cpus", c.cpus, 0, 1023, "pin the server's threads to these CPUs (--busy-spin)");
  p.custom("--log-level", "trace|debug|info|warn|error", "skip the server's log lines below this level (default info)",
           [&log](std::string_view v) {
             try {
               log.level = mini_oms::parse_log_level(v);
             } catch (const std::invalid_argument& e) {
               throw hft::cli::BadValue(e.what());
             }
           })
      .text("--log-file", log.file, "PATH", "also write the server's log lines here, appending (default: stderr only)")
      .integer("--log-file-max-bytes", log.file_max_bytes, 0, std::numeric_limits<std::uint64_t>::max(),
               "--log-file: rotate PATH to PATH.1 .. PATH.5 past this size (0: never, the default)");
}

// Each command that runs a server makes one ServerLog (logging.hpp) from these settings
// once its command line is parsed: before the servers whose threads log through it
// (ServerConfig::log), destroyed after them. Every log line of a running server goes there;
// the command's own output (usage, result tables, JSON, the report at stop) stays on
// stdout, and errors before anything runs on stderr. The crash handler is on, for
// SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL only: SIGTERM and SIGINT are serve's graceful stop
// (cmd_serve), never the logger's. A --log-file that cannot be opened makes ServerLog throw
// std::invalid_argument (main: "mini_oms: error: ...", exit 2).
LogSettings with_crash_handler(LogSettings s) {
  s.crash_handler = true;
  return s;
}

void print_result(const LoadResult& r, const char* label = nullptr) {
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

void print_replay(mini_oms::Server& s) {
  const auto& r = s.replayed();
  HFT_LOG_INFO(s.log().main(),
               "journal {}: replayed {} records ({} executions, {} mismatches); recovery dropped {} torn records ({} "
               "bytes)",
               s.config().journal_dir, r.records, r.executions, r.mismatches, r.recovery.dropped_records,
               r.recovery.dropped_bytes);
  if (r.mismatches != 0)
    HFT_LOG_WARN(s.log().main(), "{} replayed executions filled differently than journaled", r.mismatches);
}

int cmd_serve(int argc, char** argv, int first) {
  ServerConfig c;
  c.port = 7001;
  c.stats_interval_ms = 1000;
  Parser p("mini_oms serve", "[options]",
           "Runs the mini-OMS server until SIGINT or SIGTERM, then stops accepting, answers what it\n"
           "admitted, flushes and prints its counters.");
  LogSettings ls;
  add_server_options(p, c, ls);
  hft::cli::OutputFile hlog;
  p.output("--hlog", hlog,
           "write the dispatch -> reply built latency here as an HdrHistogram interval log (.hlog, ns), one "
           "interval per --stats-interval-ms");
  p.parse(argc, argv, first);
  if (hlog.is_set()) {
    if (c.stats_interval_ms == 0) p.fail("--hlog needs --stats-interval-ms > 0 (one interval per stats interval)");
    c.hlog = &hlog.stream();
  }
  // Signals go to this thread only (sigwait below): every other thread inherits the mask,
  // the log's backend thread included (made after this: a thread without the mask would
  // take SIGTERM's default action and end the process without the graceful stop).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ServerLog log(with_crash_handler(ls));
  c.log = &log;
  hft::Logger& out = log.main();
  mini_oms::Server server(c);
  if (!c.journal_dir.empty()) print_replay(server);
  server.start();
  HFT_LOG_INFO(out, "listening on {}:{} (io {}, partitions {}, workers {}); Ctrl-C to stop", c.host, server.port(),
               c.io_threads, c.partitions, c.workers);
  if (server.fix_port() != 0) {
    HFT_LOG_INFO(out, "FIX 4.4 on {}:{} as {}", c.host, server.fix_port(), c.fix_comp_id);
    if (c.fix_peers.empty()) {
      HFT_LOG_INFO(out, "FIX: no --fix-peers: a Logon from any SenderCompID is accepted");
    } else {
      std::string peers;
      for (const auto& id : c.fix_peers) peers += (peers.empty() ? "" : ",") + id;
      HFT_LOG_INFO(out, "FIX: only these SenderCompIDs may log on: {}", peers);
    }
  }
  int sig = 0;
  sigwait(&set, &sig);
  HFT_LOG_INFO(out, "signal {}: stop accepting, answer what was admitted, flush", sig);
  server.stop();
  std::printf("%s", server.report().c_str());
  if (!c.journal_dir.empty()) {
    std::printf("journal: %llu records, book_digest %016llx\n",
                static_cast<unsigned long long>(server.journal()->last_sequence()),
                static_cast<unsigned long long>(server.book_digest()));
  }
  hlog.finish();
  return 0;
}

// Replays a journal into a fresh server (not started) and prints what `serve` prints at
// its stop: a journal written by serve replays to the same book_digest.
int cmd_replay(int argc, char** argv, int first) {
  ServerConfig c;
  Parser p("mini_oms replay", "--journal DIR [options]",
           "Replays a mini-OMS journal from scratch (the books, every family's numbering) and prints the\n"
           "book digest; `serve --journal DIR` prints the same line when it stops.");
  LogSettings ls;
  add_server_options(p, c, ls);
  p.parse(argc, argv, first);
  if (c.journal_dir.empty()) p.fail("--journal is required");
  ServerLog log(with_crash_handler(ls));
  c.log = &log;
  mini_oms::Server server(c);
  print_replay(server);
  std::printf("journal: %llu records, book_digest %016llx\n",
              static_cast<unsigned long long>(server.journal()->last_sequence()),
              static_cast<unsigned long long>(server.book_digest()));
  return server.replayed().mismatches == 0 ? 0 : 1;
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

// ---- bench ------------------------------------------------------------------------------
// Every scenario against the echo floor and against the mini-OMS in three configurations,
// every case interleaved within each round (drift hits all of them alike). The benchmark
// harness (benchmarks/harness.hpp) keeps the samples, computes the paired ratios against
// the echo floor, prints the targets and writes its JSON schema (machine info included).
struct Target {
  std::string name;
  std::uint16_t port;
  bool echo;
  std::function<std::uint64_t()> cpu_ns;
};

LoadResult bench_run(const Target& t, const std::string& scenario, std::uint64_t n, double rate, std::uint64_t& ids,
                     double& cpu_per_req, std::uint64_t& violations) {
  LoadConfig l;
  l.port = t.port;
  l.echo = t.echo;
  l.scenario = scenario;  // the echo floor gets the same lines over the same connections
  l.connections = 4;
  l.window = 64;
  l.requests = n;
  l.rate = rate;
  l.id_base = ids;
  ids += 2 * n + 100'000;
  const std::uint64_t c0 = t.cpu_ns();
  LoadResult r = mini_oms::run_load(l);
  cpu_per_req = static_cast<double>(t.cpu_ns() - c0) / static_cast<double>(std::max<std::uint64_t>(1, r.replies));
  violations += r.violations;
  for (const auto& v : r.samples)
    std::fprintf(stderr, "  %s %s: violation: %s\n", t.name.c_str(), scenario.c_str(), v.c_str());
  return r;
}

// Functions, not globals: a static std::vector's constructor may throw before main (cert-err58-cpp).
std::vector<hft::bench::MetricSpec> closed_specs() {
  return {{"", "req/s", true}, {"cpu", "server cpu ns/req", false}};
}
std::vector<hft::bench::MetricSpec> open_specs() {
  return {{"p50", "us", false}, {"p99", "us", false}, {"cpu", "server cpu ns/req", false}};
}

hft::bench::Metrics closed_metrics(const LoadResult& r, double cpu) { return {{"", r.throughput()}, {"cpu", cpu}}; }
hft::bench::Metrics open_metrics(const LoadResult& r, double cpu) {
  return {{"p50", static_cast<double>(r.rtt.percentile(50)) / 1e3},
          {"p99", static_cast<double>(r.rtt.percentile(99)) / 1e3},
          {"cpu", cpu}};
}

void progress(int round, int rounds, const std::string& what) {
  if (round == 0)
    std::fprintf(stderr, "\rwarm-up: %-40s", what.c_str());
  else
    std::fprintf(stderr, "\rround %d/%d: %-40s", round, rounds, what.c_str());
  (void)std::fflush(stderr);  // progress only
}

// Where each execution mode wins: the same server (2 partitions, 2 workers) with every task
// inline, every task on a worker, and Auto, at three amounts of simulated work.
int bench_policy(const ServerConfig& base, std::uint64_t n, std::uint64_t n_open, const hft::bench::Options& opts) {
  struct Cell {
    std::uint32_t work_us;
    mini_oms::ExecuteMode mode;
    std::string name;
    double rate;
  };
  std::vector<Cell> cells;
  const std::vector<std::string> modes = {"inline", "pool", "auto"};
  hft::bench::Suite suite("mini_oms policy", opts);
  suite.note("mixed scenario, 2 partitions, 2 workers, 4 connections x window 64; server CPU from its threads' clocks");
  for (const std::uint32_t w : {0u, 20u, 200u}) {
    const std::string c = "work " + std::to_string(w) + "us";
    // Open loop at a rate every mode carries: the simulated work sleeps, and a sleep of
    // 20 us takes ~70 us here (timer slack and the wake-up), so 1,000/s once there is work.
    const double rate = w == 0 ? 20'000.0 : 1'000.0;
    for (const auto& [m, name] :
         {std::pair{mini_oms::ExecuteMode::Inline, "inline"}, std::pair{mini_oms::ExecuteMode::Pool, "pool"},
          std::pair{mini_oms::ExecuteMode::Auto, "auto"}}) {
      cells.push_back({w, m, name, rate});
    }
    suite.add_recorded_case(c + "/closed", closed_specs(), modes);
    suite.add_recorded_case(c + "/open", open_specs(), modes);
    const char* winner = w == 0 ? "inline" : "pool";
    suite.add_ratio(c + "/closed", "auto", winner, hft::bench::Target::at_least(0.8),
                    c + " closed req/s: auto / " + winner);
  }
  std::uint64_t ids = 1, violations = 0;
  for (int round = 0; round <= opts.runs; ++round) {  // round 0: warm-up, not recorded
    for (const Cell& c : cells) {
      ServerConfig cfg = base;
      cfg.partitions = 2;
      cfg.workers = 2;
      cfg.work_us = c.work_us;
      cfg.execute = c.mode;
      mini_oms::Server s(cfg);
      s.start();
      const Target t{c.name, s.port(), false, [&] { return s.cpu_ns(); }};
      const std::uint64_t scale =
          (c.work_us == 0 ? 1 : std::max<std::uint64_t>(1, c.work_us / 4)) * (round == 0 ? 10 : 1);
      const std::string key = "work " + std::to_string(c.work_us) + "us";
      progress(round, opts.runs, key + " " + c.name);
      double cpu = 0;
      const LoadResult closed =
          bench_run(t, "mixed", std::max<std::uint64_t>(2000, n / scale), 0, ids, cpu, violations);
      if (round > 0) suite.record(key + "/closed", c.name, closed_metrics(closed, cpu));
      const LoadResult open =
          bench_run(t, "mixed", std::max<std::uint64_t>(1000, n_open / scale), c.rate, ids, cpu, violations);
      if (round > 0) suite.record(key + "/open", c.name, open_metrics(open, cpu));
      s.stop();
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");
  suite.finish();
  std::printf("\nwhere each --execute mode wins (mixed scenario, 2 partitions, 2 workers, %d rounds, medians)\n",
              opts.runs);
  std::printf("%8s %-7s %12s %11s %10s %10s %9s\n", "work", "execute", "closed req/s", "cpu ns/req", "open rate",
              "open p50", "open p99");
  for (const Cell& c : cells) {
    const std::string key = "work " + std::to_string(c.work_us) + "us";
    std::printf("%6uus %-7s %12.0f %11.0f %10.0f %8.1fus %7.1fus\n", c.work_us, c.name.c_str(),
                suite.stats(key + "/closed", c.name).median, suite.stats(key + "/closed/cpu", c.name).median, c.rate,
                suite.stats(key + "/open/p50", c.name).median, suite.stats(key + "/open/p99", c.name).median);
  }
  suite.print_targets();
  std::printf("  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  suite.write_json();
  return violations == 0 ? 0 : 1;
}

int cmd_bench(int argc, char** argv, int first) {
  ServerConfig base;
  LogSettings ls;
  std::uint64_t n = 200'000, n_open = 20'000;
  bool policy_table = false;
  hft::bench::Options defaults;
  defaults.runs = 5;  // a round is ~25 s: 4 scenarios x 4 servers x (closed + 1 s of open loop)
  defaults.min_runs = 1;
  const hft::bench::Options opts = hft::bench::parse_options(
      argc, argv,
      "The echo floor against the mini-OMS (defaults; 2 partitions + 2 workers; the same with every\n"
      "task on a worker), every scenario, closed loop and open loop at 20,000 req/s, in interleaved\n"
      "rounds. Progress goes to stderr; the table and the targets to stdout.",
      [&](Parser& p) {
        p.integer("--requests", n, 1000, std::uint64_t{1} << 32, "closed-loop requests per case and round")
            .integer("--open-requests", n_open, 100, std::uint64_t{1} << 32,
                     "open-loop requests per case and round (at 20,000/s)")
            .flag("--policy-table", policy_table, "where each --execute mode wins, by --work-us 0, 20, 200 (2p+2w)");
        add_server_options(p, base, ls, /*with_cpus=*/false);
      },
      defaults, "mini_oms bench", first);
  ServerLog log(with_crash_handler(ls));  // every server of the run logs here
  base.log = &log;
  if (opts.cpus_given) base.cpus = opts.cpus;
  if (opts.quick) {
    n = std::max<std::uint64_t>(1000, n / 10);
    n_open = std::max<std::uint64_t>(100, n_open / 10);
  }
  if (policy_table) return bench_policy(base, n, n_open, opts);
  ServerConfig two = base;
  two.partitions = 2;
  two.workers = 2;
  ServerConfig pool = two;  // every task handed to a worker: what the hand-offs cost
  pool.execute = mini_oms::ExecuteMode::Pool;
  // The defaults again with --journal (none: survives kill -9; batch: 1 ms group commit,
  // each reply held until durable), in a scratch directory removed at the end.
  std::string scratch = (std::filesystem::temp_directory_path() / "mini_oms_bench_XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) throw std::runtime_error("mkdtemp " + scratch + " failed");
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_scratch{scratch};
  ServerConfig jrn = base, jrn_batch = base;
  jrn.journal_dir = scratch + "/none";
  jrn_batch.journal_dir = scratch + "/batch";
  jrn_batch.durability = hft::Durability::batch;
  mini_oms::EchoServer echo;
  mini_oms::Server s_def(base), s_two(two), s_pool(pool), s_jrn(jrn), s_jrn_batch(jrn_batch);
  for (mini_oms::Server* s : {&s_def, &s_two, &s_pool, &s_jrn, &s_jrn_batch}) s->start();
  const std::vector<Target> targets = {
      {"echo", echo.port(), true, [&] { return echo.cpu_ns(); }},
      {"defaults", s_def.port(), false, [&] { return s_def.cpu_ns(); }},
      {"2p+2w", s_two.port(), false, [&] { return s_two.cpu_ns(); }},
      {"2p+2w pool", s_pool.port(), false, [&] { return s_pool.cpu_ns(); }},
      {"journal none", s_jrn.port(), false, [&] { return s_jrn.cpu_ns(); }},
      {"journal batch", s_jrn_batch.port(), false, [&] { return s_jrn_batch.cpu_ns(); }},
  };
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.name);
  std::vector<std::string> scenarios;
  for (const char* sc : {"mixed", "hot-family", "uncorrelated", "bad-input"}) {
    if (opts.filter.empty() || std::string(sc).find(opts.filter) != std::string::npos) scenarios.emplace_back(sc);
  }
  if (scenarios.empty()) throw std::invalid_argument("--filter " + opts.filter + " matches no scenario");
  hft::bench::Suite suite("mini_oms", opts);
  char cfg_note[256];  // the text and five numbers
  (void)std::snprintf(cfg_note, sizeof cfg_note,
                      "closed loop %llu requests (4 connections x window 64), open loop %llu requests at 20,000/s; "
                      "defaults: %u partition(s), %u worker(s); 2p+2w: 2 partitions, 2 workers; %u I/O thread(s)",
                      static_cast<unsigned long long>(n), static_cast<unsigned long long>(n_open), base.partitions,
                      base.workers, base.io_threads);
  suite.note(cfg_note);
  suite.note("cpu: user + system time of the server's own threads per reply");
  for (const auto& sc : scenarios) {
    suite.add_recorded_case(sc + "/closed", closed_specs(), names);
    suite.add_recorded_case(sc + "/open", open_specs(), names);
    suite.add_ratio(sc + "/closed", "defaults", "echo", hft::bench::Target::at_least(0.40),
                    sc + " closed req/s: defaults / echo");
    suite.add_ratio(sc + "/closed", "2p+2w", "echo", hft::bench::Target::at_least(0.30),
                    sc + " closed req/s: 2p+2w / echo");
    suite.add_ratio(sc + "/closed", "journal none", "defaults", hft::bench::Target::at_least(0.8),
                    sc + " closed req/s: --journal --durability none / without");
    suite.add_ratio(sc + "/open/p50", "defaults", "echo", hft::bench::Target::at_most(2.0),
                    sc + " open p50: defaults / echo");
    suite.add_ratio(sc + "/open/p99", "defaults", "echo", hft::bench::Target::at_most(5.0),
                    sc + " open p99: defaults / echo");
  }
  std::printf("mini_oms bench: %s\n", cfg_note);
  std::uint64_t ids = 1, violations = 0;
  for (int round = 0; round <= opts.runs; ++round) {  // round 0: a short warm-up, not recorded
    const std::uint64_t scale = round == 0 ? 10 : 1;
    for (const auto& sc : scenarios) {
      for (const auto& t : targets) {
        double cpu = 0;
        progress(round, opts.runs, sc + " " + t.name + " closed");
        const LoadResult r = bench_run(t, sc, std::max<std::uint64_t>(1000, n / scale), 0, ids, cpu, violations);
        if (round > 0) suite.record(sc + "/closed", t.name, closed_metrics(r, cpu));
      }
      for (const auto& t : targets) {
        double cpu = 0;
        progress(round, opts.runs, sc + " " + t.name + " open");
        const LoadResult r =
            bench_run(t, sc, std::max<std::uint64_t>(100, n_open / scale), 20'000, ids, cpu, violations);
        if (round > 0) suite.record(sc + "/open", t.name, open_metrics(r, cpu));
      }
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");
  for (mini_oms::Server* s : {&s_def, &s_two, &s_pool, &s_jrn, &s_jrn_batch}) s->stop();
  suite.finish();
  std::printf("\n%-13s %-11s %12s %7s %11s %9s %9s %8s %8s %10s   (medians of %d rounds)\n", "scenario", "server",
              "closed req/s", "x echo", "cpu ns/req", "open p50", "x echo", "open p99", "x echo", "open cpu",
              opts.runs);
  for (const auto& sc : scenarios) {
    const double e_thr = suite.stats(sc + "/closed", "echo").median;
    const double e_p50 = suite.stats(sc + "/open/p50", "echo").median;
    const double e_p99 = suite.stats(sc + "/open/p99", "echo").median;
    for (const auto& who : names) {
      const double thr = suite.stats(sc + "/closed", who).median;
      const double p50 = suite.stats(sc + "/open/p50", who).median;
      const double p99 = suite.stats(sc + "/open/p99", who).median;
      std::printf("%-13s %-11s %12.0f %6.2fx %11.0f %8.1fus %8.2fx %7.1fus %7.2fx %9.0f\n", sc.c_str(), who.c_str(),
                  thr, e_thr > 0 ? thr / e_thr : 0, suite.stats(sc + "/closed/cpu", who).median, p50,
                  e_p50 > 0 ? p50 / e_p50 : 0, p99, e_p99 > 0 ? p99 / e_p99 : 0,
                  suite.stats(sc + "/open/cpu", who).median);
    }
  }
  suite.print_targets();
  std::printf("  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  suite.write_json();
  return violations == 0 ? 0 : 1;
}

// ---- bench-fix --------------------------------------------------------------------------
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

int cmd_demo(int argc, char** argv, int first) {
  bool quick = false;
  ServerConfig c;
  c.partitions = 2;  // the demo shows uncorrelated requests spreading
  c.workers = 2;
  Parser p("mini_oms demo", "[options]",
           "The README's main command: an in-process server on a loopback port, the mixed, hot-family,\n"
           "uncorrelated and bad-input scenarios with verification, then a small ring that triggers\n"
           "REJ:BUSY. Exits 1 on any verification failure.");
  p.flag("--quick", quick, "a fifth of the requests (CI's smoke run)");
  LogSettings ls;
  add_server_options(p, c, ls);
  p.parse(argc, argv, first);
  ServerLog log(with_crash_handler(ls));  // both servers of the demo log here
  c.log = &log;
  const std::uint64_t scale = quick ? 5 : 1;
  std::printf(
      "mini_oms demo: server on 127.0.0.1 (ephemeral port), %u I/O thread(s), %u partitions, %u workers, ring %zu\n",
      c.io_threads, c.partitions, c.workers, c.ring_size);
  std::uint64_t violations = 0;
  std::uint64_t ids = 1;
  {
    mini_oms::Server server(c);
    server.start();
    struct Step {
      const char* scenario;
      std::uint64_t requests;
      unsigned window;
    };
    const Step steps[] = {{"mixed", 40'000 / scale, 32},
                          {"hot-family", 12'000 / scale, 16},
                          {"uncorrelated", 20'000 / scale, 32},
                          {"bad-input", 10'000 / scale, 16}};
    std::printf(
        "\nscenario results (verification: one reply per request, grammar, per-family order and "
        "seq_in_family continuity)\n");
    for (const Step& s : steps) {
      LoadConfig l;
      l.port = server.port();
      l.scenario = s.scenario;
      l.requests = s.requests;
      l.window = s.window;
      l.id_base = ids;
      ids += 100'000'000;
      const LoadResult r = mini_oms::run_load(l);
      print_result(r);
      violations += r.violations;
    }
    server.stop();
    std::printf("\n%s", server.report().c_str());
  }
  {
    ServerConfig small = c;
    small.ring_size = 16;
    small.workers = 1;
    small.work_us = 200;
    mini_oms::Server server(small);
    server.start();
    std::printf(
        "\nbackpressure: --ring 16 (a partition holds 64 tasks), 1 worker, 200 us of work per request, "
        "window 256 per connection -> fast REJ:BUSY from the I/O thread\n");
    LoadConfig l;
    l.port = server.port();
    l.scenario = "burst";
    l.requests = 20'000 / scale;
    l.window = 256;
    l.id_base = ids;
    const LoadResult r = mini_oms::run_load(l);
    print_result(r);
    violations += r.violations;
    if (r.by_type.count("REJ:BUSY") == 0) {
      std::printf("  (no REJ:BUSY seen: the server kept up)\n");
    }
    server.stop();
  }
  std::printf("\ndemo %s: %llu verification failures\n", violations == 0 ? "PASSED" : "FAILED",
              static_cast<unsigned long long>(violations));
  return violations == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  static const char* const kUsage =
      "usage: mini_oms [COMMAND] [options]     (COMMAND defaults to demo)\n"
      "The example order-management server of hft, its load generator and its benchmark.\n"
      "\n"
      "commands:\n"
      "  demo      an in-process server on a loopback port, every scenario, one report\n"
      "  serve     run the server until SIGINT/SIGTERM\n"
      "  loadgen   drive a running server (or --target echo) and verify every reply\n"
      "  bench     the echo floor against the mini-OMS, closed and open loop (--json FILE)\n"
      "  bench-fix the line protocol against FIX 4.4 on the same server (--json FILE)\n"
      "  replay    replay a --journal directory from scratch and print its book digest\n"
      "\n"
      "mini_oms COMMAND --help lists the options of each.\n";
  try {
    const std::string cmd = argc > 1 ? argv[1] : "demo";
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd.starts_with('-')) return cmd_demo(argc, argv, 1);  // `mini_oms --quick`: the demo's options
    if (cmd == "demo") return cmd_demo(argc, argv, 2);
    if (cmd == "serve") return cmd_serve(argc, argv, 2);
    if (cmd == "loadgen") return cmd_loadgen(argc, argv, 2);
    if (cmd == "bench") return cmd_bench(argc, argv, 2);
    if (cmd == "bench-fix") return cmd_bench_fix(argc, argv, 2);
    if (cmd == "replay") return cmd_replay(argc, argv, 2);
    std::fprintf(stderr, "mini_oms: error: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const std::invalid_argument& e) {  // a configuration the server refuses
    std::fprintf(stderr, "mini_oms: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mini_oms: error: %s\n", e.what());
    return 1;
  }
}
