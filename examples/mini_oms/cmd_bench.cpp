// mini_oms/cmd_bench.cpp: `mini_oms bench`: every scenario against the echo floor and
// against the mini-OMS in several configurations, closed and open loop, in interleaved rounds
// recorded into the benchmark harness; and --policy-table, where each --execute mode wins.
// May call: bench_common.hpp, benchmarks/harness.hpp, loadgen.hpp, server.hpp, options.cpp.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "commands.hpp"
#include "server.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LoadConfig;
using mini_oms::LoadResult;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

namespace {

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

}  // namespace

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

}  // namespace mini_oms::commands
