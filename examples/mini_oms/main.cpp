// mini_oms: the example order-management server, its load generator and the demo.
//
//   mini_oms demo [--quick]              the README's main command: an in-process server on a
//                                        loopback port, every scenario, one report
//   mini_oms serve [options]             run the server until SIGINT/SIGTERM
//   mini_oms loadgen --port P [options]  drive a running server (or --target echo)
//   mini_oms bench [--json FILE]         echo floor vs mini-OMS, closed and open loop
//
// Run any of them with --help for the options.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "loadgen.hpp"
#include "server.hpp"

namespace {

using mini_oms::LoadConfig;
using mini_oms::LoadResult;
using mini_oms::ServerConfig;

struct Args {
  std::vector<std::string> v;
  std::size_t i = 0;
  bool next(std::string& flag) {
    if (i >= v.size()) return false;
    flag = v[i++];
    return true;
  }
  std::string value(const std::string& flag) {
    if (i >= v.size()) throw std::invalid_argument("missing value after " + flag);
    return v[i++];
  }
  std::uint64_t number(const std::string& flag) {
    const std::string s = value(flag);
    const auto n = mini_oms::parse_u64(s);
    if (!n) throw std::invalid_argument(flag + " needs a non-negative integer, got '" + s + "'");
    return *n;
  }
};

// Server options shared by serve/demo/bench. Returns false if `flag` is not one of them.
bool server_option(Args& a, const std::string& flag, ServerConfig& c) {
  if (flag == "--port") c.port = static_cast<std::uint16_t>(a.number(flag));
  else if (flag == "--host") c.host = a.value(flag);
  else if (flag == "--io-threads") c.io_threads = static_cast<unsigned>(a.number(flag));
  else if (flag == "--partitions") c.partitions = static_cast<unsigned>(a.number(flag));
  else if (flag == "--workers") c.workers = static_cast<unsigned>(a.number(flag));
  else if (flag == "--ring") c.ring_size = a.number(flag);
  else if (flag == "--family-table") c.family_table = a.number(flag);
  else if (flag == "--max-pending") c.max_pending_per_family = static_cast<std::uint32_t>(a.number(flag));
  else if (flag == "--slice") c.slice = static_cast<std::uint32_t>(a.number(flag));
  else if (flag == "--work-us") c.work_us = static_cast<std::uint32_t>(a.number(flag));
  else if (flag == "--stats-interval-ms") c.stats_interval_ms = static_cast<std::uint32_t>(a.number(flag));
  else if (flag == "--log-sample") c.log_sample = static_cast<std::uint32_t>(a.number(flag));
  else if (flag == "--busy-spin") c.busy_spin = true;
  else if (flag == "--dispatch") {
    const std::string v = a.value(flag);
    if (v == "auto") c.dispatch = mini_oms::DispatchMode::Auto;
    else if (v == "ring") c.dispatch = mini_oms::DispatchMode::Ring;
    else if (v == "inline") c.dispatch = mini_oms::DispatchMode::Inline;
    else throw std::invalid_argument("--dispatch needs auto, ring or inline, got '" + v + "'");
  } else if (flag == "--execute") {
    const std::string v = a.value(flag);
    if (v == "auto") c.execute = mini_oms::ExecuteMode::Auto;
    else if (v == "pool") c.execute = mini_oms::ExecuteMode::Pool;
    else if (v == "inline") c.execute = mini_oms::ExecuteMode::Inline;
    else throw std::invalid_argument("--execute needs auto, pool or inline, got '" + v + "'");
  } else if (flag == "--inline-max-us") c.inline_max_ns = static_cast<std::uint32_t>(a.number(flag) * 1000);
  else if (flag == "--cpus") {
    std::stringstream ss(a.value(flag));
    std::string item;
    while (std::getline(ss, item, ',')) c.cpus.push_back(std::stoi(item));
  } else if (flag == "--ref") {
    const std::string kv = a.value(flag);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("--ref needs SYM=PRICE");
    c.refs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  } else {
    return false;
  }
  return true;
}

const char* kServerHelp =
    "  --port N (0: ephemeral)  --host ADDR  --io-threads N (1)\n"
    "  --partitions N (power of two; default 1 below 4 cores, 2 below 8, else 4)\n"
    "  --workers N (default cores/2, 1..8)  --ring N (4096 per partition)  --family-table N (1048576)\n"
    "  --max-pending N (1024 per family)  --slice N (8)  --work-us N (0)  --stats-interval-ms N (0)\n"
    "  --log-sample N (0: off)  --busy-spin  --cpus A,B  --ref SYM=PRICE (repeatable)\n"
    "  --dispatch auto|ring|inline (auto: inline with one I/O thread)\n"
    "  --execute auto|pool|inline (auto: an idle family's task runs on the submitting thread while\n"
    "      tasks take <= --inline-max-us (5) on average and no job waits for a worker)\n";

void print_result(const LoadResult& r, const char* label = nullptr) {
  std::printf("  %-14s requests %8llu  replies %8llu  %9.0f req/s  rtt us p50 %7.1f p90 %7.1f p99 %7.1f p99.9 %7.1f max %8.1f  %s\n",
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
                static_cast<double>(r.rtt_cold.percentile(50)) / 1e3, static_cast<double>(r.rtt_cold.percentile(99)) / 1e3,
                static_cast<unsigned long long>(r.rtt_cold.count()));
  }
  for (const auto& s : r.samples) std::printf("  %-14s violation: %s\n", "", s.c_str());
}

int cmd_serve(Args& a) {
  ServerConfig c;
  c.port = 7001;
  c.stats_interval_ms = 1000;
  std::string flag;
  while (a.next(flag)) {
    if (flag == "--help") {
      std::printf("usage: mini_oms serve [options]\n%s", kServerHelp);
      return 0;
    }
    if (!server_option(a, flag, c)) throw std::invalid_argument("unknown option " + flag);
  }
  // Signals go to this thread only (sigwait below): every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  mini_oms::Server server(c);
  server.start();
  std::fprintf(stderr, "mini_oms: listening on %s:%u (io %u, partitions %u, workers %u); Ctrl-C to stop\n",
               c.host.c_str(), server.port(), c.io_threads, c.partitions, c.workers);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "mini_oms: signal %d: stop accepting, answer what was admitted, flush\n", sig);
  server.stop();
  std::printf("%s", server.report().c_str());
  return 0;
}

bool load_option(Args& a, const std::string& flag, LoadConfig& l) {
  if (flag == "--scenario") l.scenario = a.value(flag);
  else if (flag == "--connections") l.connections = static_cast<unsigned>(a.number(flag));
  else if (flag == "--requests") l.requests = a.number(flag);
  else if (flag == "--window") l.window = static_cast<unsigned>(a.number(flag));
  else if (flag == "--rate") l.rate = static_cast<double>(a.number(flag));
  else if (flag == "--id-base") l.id_base = a.number(flag);
  else if (flag == "--seed") l.seed = a.number(flag);
  else return false;
  return true;
}

int cmd_loadgen(Args& a) {
  LoadConfig l;
  std::string flag, target = "oms", hgrm, svg;
  while (a.next(flag)) {
    if (flag == "--help") {
      std::printf(
          "usage: mini_oms loadgen --port P [--host H] [--scenario mixed|hot-family|uncorrelated|bad-input|burst]\n"
          "  [--connections N] [--requests N] [--window N | --rate R] [--id-base N] [--seed N]\n"
          "  [--target oms|echo] [--hgrm FILE] [--svg FILE]\n"
          "  exits 1 on any verification failure\n");
      return 0;
    }
    if (load_option(a, flag, l)) continue;
    if (flag == "--port") l.port = static_cast<std::uint16_t>(a.number(flag));
    else if (flag == "--host") l.host = a.value(flag);
    else if (flag == "--target") target = a.value(flag);
    else if (flag == "--hgrm") hgrm = a.value(flag);
    else if (flag == "--svg") svg = a.value(flag);
    else throw std::invalid_argument("unknown option " + flag);
  }
  std::unique_ptr<mini_oms::EchoServer> echo;
  if (target == "echo") {
    echo = std::make_unique<mini_oms::EchoServer>();
    l.port = echo->port();
    l.echo = true;
  } else if (l.port == 0) {
    throw std::invalid_argument("--port is required (or --target echo)");
  }
  const LoadResult r = mini_oms::run_load(l);
  print_result(r);
  if (!hgrm.empty()) {
    std::ofstream(hgrm) << r.rtt.percentile_distribution(1000.0);
  }
  if (!svg.empty()) {
    std::ofstream(svg) << r.rtt.percentile_svg("mini_oms RTT (" + l.scenario + ")", 1000.0, "us");
  }
  return r.violations == 0 ? 0 : 1;
}

// ---- bench ------------------------------------------------------------------------------
// Every scenario against the echo floor and against the mini-OMS in two configurations, in
// interleaved rounds (drift hits all of them alike), reporting medians.
struct BenchStats {
  std::vector<double> thr, p50, p99, cpu;  // per round
  void add(const LoadResult& r, double cpu_ns_per_req) {
    thr.push_back(r.throughput());
    p50.push_back(static_cast<double>(r.rtt.percentile(50)) / 1e3);
    p99.push_back(static_cast<double>(r.rtt.percentile(99)) / 1e3);
    cpu.push_back(cpu_ns_per_req);
  }
};
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

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
  for (const auto& v : r.samples) std::fprintf(stderr, "  %s %s: violation: %s\n", t.name.c_str(), scenario.c_str(), v.c_str());
  return r;
}

// Where each execution mode wins: the same server (2 partitions, 2 workers) with every task
// inline, every task on a worker, and Auto, at three amounts of simulated work.
int bench_policy(const ServerConfig& base, std::uint64_t n, std::uint64_t n_open, int rounds, const std::string& json) {
  struct Cell {
    std::uint32_t work_us;
    mini_oms::ExecuteMode mode;
    const char* name;
    BenchStats closed, open;
    double rate;
  };
  std::vector<Cell> cells;
  for (const std::uint32_t w : {0u, 20u, 200u}) {
    for (const auto& [m, name] : {std::pair{mini_oms::ExecuteMode::Inline, "inline"},
                                  std::pair{mini_oms::ExecuteMode::Pool, "pool"},
                                  std::pair{mini_oms::ExecuteMode::Auto, "auto"}}) {
      // Open loop at a rate every mode carries: the simulated work sleeps, and a sleep of
      // 20 us takes ~70 us here (timer slack and the wake-up), so 1,000/s once there is work.
      const double rate = w == 0 ? 20'000.0 : 1'000.0;
      cells.push_back({w, m, name, {}, {}, rate});
    }
  }
  std::uint64_t ids = 1, violations = 0;
  for (int round = 0; round < rounds; ++round) {
    for (Cell& c : cells) {
      ServerConfig cfg = base;
      cfg.partitions = 2;
      cfg.workers = 2;
      cfg.work_us = c.work_us;
      cfg.execute = c.mode;
      mini_oms::Server s(cfg);
      s.start();
      const Target t{c.name, s.port(), false, [&] { return s.cpu_ns(); }};
      const std::uint64_t scale = c.work_us == 0 ? 1 : std::max<std::uint64_t>(1, c.work_us / 4);
      double cpu = 0;
      std::fprintf(stderr, "\rround %d/%d: work %3u us, %-6s      ", round + 1, rounds, c.work_us, c.name);
      const LoadResult closed = bench_run(t, "mixed", std::max<std::uint64_t>(2000, n / scale), 0, ids, cpu, violations);
      c.closed.add(closed, cpu);
      const LoadResult open = bench_run(t, "mixed", std::max<std::uint64_t>(1000, n_open / scale), c.rate, ids, cpu, violations);
      c.open.add(open, cpu);
      s.stop();
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");
  std::printf("\nwhere each --execute mode wins (mixed scenario, 2 partitions, 2 workers, %d rounds)\n", rounds);
  std::printf("%8s %-7s %12s %11s %10s %10s %9s\n", "work", "execute", "closed req/s", "cpu ns/req", "open rate",
              "open p50", "open p99");
  for (const Cell& c : cells) {
    std::printf("%6uus %-7s %12.0f %11.0f %10.0f %8.1fus %7.1fus\n", c.work_us, c.name, median(c.closed.thr),
                median(c.closed.cpu), c.rate, median(c.open.p50), median(c.open.p99));
  }
  std::printf("  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  if (!json.empty()) {
    std::ofstream o(json);
    o << "{\"bench\": \"mini_oms policy\", \"rows\": [";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const Cell& c = cells[i];
      o << (i ? ", " : "") << "{\"work_us\": " << c.work_us << ", \"execute\": \"" << c.name
        << "\", \"closed_req_per_s\": " << median(c.closed.thr) << ", \"closed_cpu_ns_per_req\": " << median(c.closed.cpu)
        << ", \"open_rate\": " << c.rate << ", \"open_p50_us\": " << median(c.open.p50)
        << ", \"open_p99_us\": " << median(c.open.p99) << "}";
    }
    o << "]}\n";
  }
  return violations == 0 ? 0 : 1;
}

int cmd_bench(Args& a) {
  ServerConfig base;
  std::string flag, json;
  std::uint64_t n = 200'000, n_open = 20'000;
  int rounds = 3;
  bool policy_table = false;
  while (a.next(flag)) {
    if (flag == "--help") {
      std::printf("usage: mini_oms bench [--requests N (200000)] [--open-requests N (20000)] [--rounds N (3)]\n"
                  "  [--json FILE] [--policy-table] [server options, applied to every configuration]\n"
                  "  --policy-table: where each --execute mode wins, by --work-us (0, 20, 200), 2p+2w\n%s",
                  kServerHelp);
      return 0;
    }
    if (flag == "--json") json = a.value(flag);
    else if (flag == "--policy-table") policy_table = true;
    else if (flag == "--requests") n = a.number(flag);
    else if (flag == "--open-requests") n_open = a.number(flag);
    else if (flag == "--rounds") rounds = static_cast<int>(std::max<std::uint64_t>(1, a.number(flag)));
    else if (!server_option(a, flag, base)) throw std::invalid_argument("unknown option " + flag);
  }
  if (policy_table) return bench_policy(base, n, n_open, rounds, json);
  ServerConfig two = base;
  two.partitions = 2;
  two.workers = 2;
  ServerConfig pool = two;  // every task handed to a worker: what the hand-offs cost
  pool.execute = mini_oms::ExecuteMode::Pool;
  mini_oms::EchoServer echo;
  mini_oms::Server s_def(base), s_two(two), s_pool(pool);
  s_def.start();
  s_two.start();
  s_pool.start();
  const std::vector<Target> targets = {
      {"echo", echo.port(), true, [&] { return echo.cpu_ns(); }},
      {"defaults", s_def.port(), false, [&] { return s_def.cpu_ns(); }},
      {"2p+2w", s_two.port(), false, [&] { return s_two.cpu_ns(); }},
      {"2p+2w pool", s_pool.port(), false, [&] { return s_pool.cpu_ns(); }},
  };
  const std::vector<std::string> scenarios = {"mixed", "hot-family", "uncorrelated", "bad-input"};
  std::printf("mini_oms bench: %d interleaved rounds; closed loop %llu requests (4 connections x window 64), "
              "open loop %llu requests at 20,000/s\n  defaults: %u partition(s), %u worker(s); 2p+2w: 2 partitions, "
              "2 workers; both %u I/O thread(s)\n",
              rounds, static_cast<unsigned long long>(n), static_cast<unsigned long long>(n_open), base.partitions,
              base.workers, base.io_threads);
  std::map<std::string, BenchStats> closed, open;  // key: target + "/" + scenario
  std::uint64_t ids = 1, violations = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& sc : scenarios) {
      for (const auto& t : targets) {
        double cpu = 0;
        std::fprintf(stderr, "\rround %d/%d: %-12s %-9s closed   ", round + 1, rounds, sc.c_str(), t.name.c_str());
        const LoadResult r = bench_run(t, sc, n, 0, ids, cpu, violations);
        closed[t.name + "/" + sc].add(r, cpu);
      }
      for (const auto& t : targets) {
        double cpu = 0;
        std::fprintf(stderr, "\rround %d/%d: %-12s %-9s open     ", round + 1, rounds, sc.c_str(), t.name.c_str());
        const LoadResult r = bench_run(t, sc, n_open, 20'000, ids, cpu, violations);
        open[t.name + "/" + sc].add(r, cpu);
      }
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");
  std::printf("\n%-13s %-11s %12s %7s %11s %9s %9s %8s %8s %10s %10s\n", "scenario", "server", "closed req/s", "x echo",
              "cpu ns/req", "open p50", "x echo", "open p99", "x echo", "open cpu", "");
  struct Row {
    std::string scenario, server;
    double thr, thr_ratio, cpu, p50, p50_ratio, p99, p99_ratio, open_cpu;
  };
  std::vector<Row> table;
  for (const auto& sc : scenarios) {
    const BenchStats& e = closed["echo/" + sc];
    const BenchStats& echo_open = open["echo/" + sc];
    table.push_back({sc, "echo", median(e.thr), 1.0, median(e.cpu), median(echo_open.p50), 1.0, median(echo_open.p99), 1.0,
                     median(echo_open.cpu)});
    for (const char* who : {"defaults", "2p+2w", "2p+2w pool"}) {
      const BenchStats& c = closed[std::string(who) + "/" + sc];
      const BenchStats& o = open[std::string(who) + "/" + sc];
      table.push_back({sc, who, median(c.thr), median(c.thr) / median(e.thr), median(c.cpu), median(o.p50),
                       median(o.p50) / median(echo_open.p50), median(o.p99), median(o.p99) / median(echo_open.p99),
                       median(o.cpu)});
    }
  }
  for (const Row& r : table) {
    std::printf("%-13s %-11s %12.0f %6.2fx %11.0f %8.1fus %8.2fx %7.1fus %7.2fx %9.0f\n", r.scenario.c_str(),
                r.server.c_str(), r.thr, r.thr_ratio, r.cpu, r.p50, r.p50_ratio, r.p99, r.p99_ratio, r.open_cpu);
  }
  std::printf("  (cpu ns/req: user + system time of the server's own threads per reply, closed loop; open cpu: "
              "the same at 20,000/s)\n  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  s_def.stop();
  s_two.stop();
  s_pool.stop();
  if (!json.empty()) {
    std::ofstream o(json);
    o << "{\"bench\": \"mini_oms\", \"rounds\": " << rounds << ", \"closed_requests\": " << n
      << ", \"open_requests\": " << n_open << ", \"open_rate\": 20000, \"verification_failures\": " << violations
      << ", \"rows\": [";
    bool first = true;
    for (const Row& r : table) {
      o << (first ? "" : ", ") << "{\"scenario\": \"" << r.scenario << "\", \"server\": \"" << r.server
        << "\", \"closed_req_per_s\": " << r.thr << ", \"closed_vs_echo\": " << r.thr_ratio
        << ", \"closed_cpu_ns_per_req\": " << r.cpu << ", \"open_p50_us\": " << r.p50
        << ", \"open_p50_vs_echo\": " << r.p50_ratio << ", \"open_p99_us\": " << r.p99
        << ", \"open_p99_vs_echo\": " << r.p99_ratio << ", \"open_cpu_ns_per_req\": " << r.open_cpu << "}";
      first = false;
    }
    o << "]}\n";
  }
  return violations == 0 ? 0 : 1;
}

int cmd_demo(Args& a) {
  bool quick = false, explicit_partitions = false, explicit_workers = false;
  std::string flag;
  ServerConfig c;
  while (a.next(flag)) {
    if (flag == "--help") {
      std::printf("usage: mini_oms demo [--quick] [server options]\n%s", kServerHelp);
      return 0;
    }
    if (flag == "--quick") quick = true;
    else if (!server_option(a, flag, c)) throw std::invalid_argument("unknown option " + flag);
    explicit_partitions |= flag == "--partitions";
    explicit_workers |= flag == "--workers";
  }
  const std::uint64_t scale = quick ? 5 : 1;
  if (!explicit_partitions) c.partitions = 2;  // the demo shows uncorrelated requests spreading
  if (!explicit_workers) c.workers = 2;
  std::printf("mini_oms demo: server on 127.0.0.1 (ephemeral port), %u I/O thread(s), %u partitions, %u workers, ring %zu\n",
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
    const Step steps[] = {{"mixed", 40'000 / scale, 32}, {"hot-family", 12'000 / scale, 16},
                          {"uncorrelated", 20'000 / scale, 32}, {"bad-input", 10'000 / scale, 16}};
    std::printf("\nscenario results (verification: one reply per request, grammar, per-family order and "
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
    std::printf("\nbackpressure: --ring 16 (a partition holds 64 tasks), 1 worker, 200 us of work per request, "
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
  try {
    Args a;
    for (int i = 2; i < argc; ++i) a.v.emplace_back(argv[i]);
    const std::string cmd = argc > 1 ? argv[1] : "demo";
    if (cmd == "demo") return cmd_demo(a);
    if (cmd == "serve") return cmd_serve(a);
    if (cmd == "loadgen") return cmd_loadgen(a);
    if (cmd == "bench") return cmd_bench(a);
    std::fprintf(stderr, "usage: mini_oms demo|serve|loadgen|bench [--help]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mini_oms: %s\n", e.what());
    return 2;
  }
}
