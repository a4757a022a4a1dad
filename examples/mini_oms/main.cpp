// mini_oms: the example order-management server, its load generator and the demo. This file
// only dispatches: one cmd_* per subcommand (commands.hpp), each in cmd_<name>.cpp, and the
// exit status of an error that escapes one. May call: commands.hpp only.
//
//   mini_oms demo [--quick]              the README's main command: an in-process server on a
//                                        loopback port, every scenario, one report
//   mini_oms serve [options]             run the server until SIGINT/SIGTERM/SIGHUP
//   mini_oms loadgen --port P [options]  drive a running server (or --target echo)
//   mini_oms bench [--json FILE]         echo floor vs mini-OMS, closed and open loop
//   mini_oms --version                   version, commit and build type
//
// Run any of them with --help for the options. The command line is examples/common/cli.hpp
// (every binary's parser); bench records into the benchmark harness's Suite.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace mini_oms::commands;
  static const char* const kUsage =
      "usage: mini_oms [COMMAND] [options]     (COMMAND defaults to demo)\n"
      "The example order-management server of hft, its load generator and its benchmark.\n"
      "\n"
      "commands:\n"
      "  demo      an in-process server on a loopback port, every scenario, one report\n"
      "  serve     run the server until SIGINT/SIGTERM/SIGHUP (each drains, then exits 0)\n"
      "  loadgen   drive a running server (or --target echo) and verify every reply\n"
      "  bench     the echo floor against the mini-OMS, closed and open loop (--json FILE)\n"
      "  bench-fix the line protocol against FIX 4.4 on the same server (--json FILE)\n"
      "  replay    replay a --journal directory from scratch and print its book digest\n"
      "\n"
      "mini_oms COMMAND --help lists the options of each; mini_oms --version prints the version.\n";
  try {
    const std::string cmd = argc > 1 ? argv[1] : "demo";
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd == "--version") {
      std::printf("%s\n", version_text().c_str());
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
