// mini_oms/cmd_demo.cpp: `mini_oms demo`, the README's main command: an in-process server
// on a loopback port, every scenario with verification, then a small ring that triggers
// REJ:BUSY. May call: server.hpp, loadgen.hpp (run_load), cmd_loadgen.cpp (print_result),
// options.cpp.
#include <cstdio>

#include "commands.hpp"
#include "loadgen.hpp"
#include "server.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LoadConfig;
using mini_oms::LoadResult;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

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

}  // namespace mini_oms::commands
