// mini_oms/commands.hpp: the subcommands of the mini_oms binary and the few helpers they
// share. main.cpp dispatches to one cmd_* per subcommand (cmd_<name>.cpp, one file each);
// each parses its own command line (examples/common/cli.hpp) and returns the exit status.
// options.cpp owns the server options every server-running command takes, the log settings
// and the version text; cmd_loadgen.cpp owns print_result (the demo prints with it too);
// cmd_replay.cpp owns print_replay (serve calls it after a journal replay).
// Nothing here is part of the library: the example's front end only.
#pragma once

#include <string>

#include "cli.hpp"
#include "logging.hpp"
#include "records.hpp"

namespace mini_oms {
struct LoadResult;
class Server;
}  // namespace mini_oms

namespace mini_oms::commands {

int cmd_demo(int argc, char** argv, int first);
int cmd_serve(int argc, char** argv, int first);
int cmd_loadgen(int argc, char** argv, int first);
int cmd_bench(int argc, char** argv, int first);
int cmd_bench_fix(int argc, char** argv, int first);
int cmd_replay(int argc, char** argv, int first);

/// The server options shared by serve/replay/demo/bench/bench-fix, with --config FILE.
/// `with_cpus`: bench takes --cpus from the benchmark harness instead (the same meaning: the
/// CPUs to pin threads to). `log`: the --log-* flags (with_crash_handler below).
void add_server_options(hft::cli::Parser& p, ServerConfig& c, LogSettings& log, bool with_cpus = true);

/// The settings with the crash handler on (see options.cpp).
LogSettings with_crash_handler(LogSettings s);

/// `mini_oms --version`: the project's version, the commit and the build type.
std::string version_text();

/// One scenario's result: throughput, round-trip percentiles, replies by type, violations.
void print_result(const LoadResult& r, const char* label = nullptr);

/// The log lines about a journal replayed at construction (serve and replay).
void print_replay(Server& s);

}  // namespace mini_oms::commands
