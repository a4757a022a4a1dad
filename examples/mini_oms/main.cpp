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
#include <fstream>
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
    "  --log-sample N (0: off)  --busy-spin  --cpus A,B  --ref SYM=PRICE (repeatable)\n";

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

// Runs closed-loop and open-loop load against a target; returns {closed, open}.
struct BenchRow {
  LoadResult closed, open;
};
BenchRow bench_target(std::uint16_t port, bool echo, std::uint64_t n, std::uint64_t& id_base) {
  LoadConfig l;
  l.port = port;
  l.echo = echo;
  l.scenario = "uncorrelated";
  l.connections = 4;
  l.window = 32;
  l.requests = n;
  l.id_base = id_base;
  id_base += n + 1000;
  BenchRow row{mini_oms::run_load(l), {}};
  l.rate = 20'000;
  l.requests = n / 2;
  l.id_base = id_base;
  id_base += n + 1000;
  row.open = mini_oms::run_load(l);
  return row;
}

int cmd_bench(Args& a) {
  ServerConfig c;
  std::string flag, json;
  std::uint64_t n = 100'000;
  while (a.next(flag)) {
    if (flag == "--help") {
      std::printf("usage: mini_oms bench [--requests N] [--json FILE] [server options]\n%s", kServerHelp);
      return 0;
    }
    if (flag == "--json") json = a.value(flag);
    else if (flag == "--requests") n = a.number(flag);
    else if (!server_option(a, flag, c)) throw std::invalid_argument("unknown option " + flag);
  }
  mini_oms::EchoServer echo;
  mini_oms::Server server(c);
  server.start();
  std::uint64_t ids = 1;
  std::printf("mini_oms bench: the echo floor and the mini-OMS at the same settings (4 connections, window 32; "
              "open loop 20,000 req/s)\n");
  std::vector<std::pair<std::string, BenchRow>> rows;
  for (int round = 0; round < 3; ++round) {  // interleaved: drift hits both alike
    rows.emplace_back("echo", bench_target(echo.port(), true, n, ids));
    rows.emplace_back("mini-oms", bench_target(server.port(), false, n, ids));
  }
  std::uint64_t violations = 0;
  for (const auto& [name, row] : rows) {
    print_result(row.closed, (name + " closed").c_str());
    print_result(row.open, (name + " open").c_str());
    violations += row.closed.violations + row.open.violations;
  }
  auto med = [&](const std::string& who, auto get) {
    std::vector<double> v;
    for (const auto& [name, row] : rows) {
      if (name == who) v.push_back(get(row));
    }
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double thr_ratio = med("mini-oms", [](const BenchRow& r) { return r.closed.throughput(); }) /
                           med("echo", [](const BenchRow& r) { return r.closed.throughput(); });
  const double p50_ratio = med("mini-oms", [](const BenchRow& r) { return static_cast<double>(r.open.rtt.percentile(50)); }) /
                           med("echo", [](const BenchRow& r) { return static_cast<double>(r.open.rtt.percentile(50)); });
  const double p99_ratio = med("mini-oms", [](const BenchRow& r) { return static_cast<double>(r.open.rtt.percentile(99)); }) /
                           med("echo", [](const BenchRow& r) { return static_cast<double>(r.open.rtt.percentile(99)); });
  std::printf("\nTargets (issue 8), medians of 3 interleaved rounds:\n");
  std::printf("  closed-loop throughput mini-oms / echo   %.2fx  (target >= 0.30x)  %s\n", thr_ratio, thr_ratio >= 0.3 ? "MET" : "NOT MET");
  std::printf("  open-loop 20k/s p50 mini-oms / echo      %.2fx  (target <= 3x)     %s\n", p50_ratio, p50_ratio <= 3 ? "MET" : "NOT MET");
  std::printf("  open-loop 20k/s p99 mini-oms / echo      %.2fx  (target <= 5x)     %s\n", p99_ratio, p99_ratio <= 5 ? "MET" : "NOT MET");
  std::printf("  verification failures: %llu\n", static_cast<unsigned long long>(violations));
  server.stop();
  std::printf("%s", server.report().c_str());
  if (!json.empty()) {
    std::ofstream o(json);
    o << "{\"closed_loop_throughput_ratio\": " << thr_ratio << ", \"open_loop_p50_ratio\": " << p50_ratio
      << ", \"open_loop_p99_ratio\": " << p99_ratio << ", \"verification_failures\": " << violations << ", \"rows\": [";
    bool first = true;
    for (const auto& [name, row] : rows) {
      for (const auto* r : {&row.closed, &row.open}) {
        o << (first ? "" : ", ") << "{\"target\": \"" << name << "\", \"mode\": \"" << (r == &row.closed ? "closed" : "open")
          << "\", \"requests\": " << r->requests << ", \"throughput\": " << r->throughput()
          << ", \"p50_us\": " << static_cast<double>(r->rtt.percentile(50)) / 1e3
          << ", \"p99_us\": " << static_cast<double>(r->rtt.percentile(99)) / 1e3 << "}";
        first = false;
      }
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
    std::printf("\nbackpressure: ring of 16 per partition, 1 worker, 200 us of work per request, window 256 per "
                "connection -> fast REJ:BUSY from the I/O thread\n");
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
