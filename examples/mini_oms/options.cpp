// mini_oms/options.cpp: owns the server options every server-running subcommand takes
// (add_server_options: serve, replay, demo, bench, bench-fix), --config FILE and --version on
// them, the log settings' crash handler, and the version text. Each option's value is
// checked by examples/common/cli.hpp, from a flag and from a config file alike, and each one
// can show its value (Parser::dump: serve's effective configuration). May call: cli.hpp,
// records.hpp (ServerConfig), logging.hpp (LogSettings), server.hpp (parse_peer_list, the modes).
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "commands.hpp"
#include "server.hpp"

#ifndef HFT_MINI_OMS_VERSION
#define HFT_MINI_OMS_VERSION "unknown"
#endif
#ifndef HFT_BENCH_COMMIT
#define HFT_BENCH_COMMIT "unknown"
#endif
#ifndef HFT_BENCH_BUILD_TYPE
#define HFT_BENCH_BUILD_TYPE "unknown"
#endif

namespace mini_oms::commands {

using hft::cli::BadValue;
using hft::cli::Parser;
using Shown = Parser::Shown;

std::string version_text() {
  std::string s = "mini_oms (hft) ";
  s += HFT_MINI_OMS_VERSION;
  s += "\ncommit: ";
  s += HFT_BENCH_COMMIT;
  s += "\nbuild: ";
  s += HFT_BENCH_BUILD_TYPE;
  return s;
}

namespace {

const char* dispatch_name(DispatchMode m) {
  return m == DispatchMode::Ring ? "ring" : m == DispatchMode::Inline ? "inline" : "auto";
}
const char* execute_name(ExecuteMode m) {
  return m == ExecuteMode::Pool ? "pool" : m == ExecuteMode::Inline ? "inline" : "auto";
}
const char* durability_name(hft::Durability d) {
  return d == hft::Durability::batch ? "batch" : d == hft::Durability::every ? "every" : "none";
}
std::string level_name(hft::LogLevel l) {
  std::string s(hft::log_level_name(l));
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');  // the flag's spelling
  }
  return s;
}

}  // namespace

void add_server_options(Parser& p, ServerConfig& c, LogSettings& log, bool with_cpus) {
  p.config_file().version(version_text());
  p.integer("--port", c.port, 0, 65535, "TCP port to listen on (0: ephemeral)")
      .text("--host", c.host, "ADDR", "address or host name to listen on (IPv4 or IPv6)")
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
      .custom(
          "--dispatch", "auto|ring|inline", "auto: inline with one I/O thread (default auto)",
          [&c](std::string_view v) {
            if (v == "auto")
              c.dispatch = DispatchMode::Auto;
            else if (v == "ring")
              c.dispatch = DispatchMode::Ring;
            else if (v == "inline")
              c.dispatch = DispatchMode::Inline;
            else
              throw BadValue("'" + std::string(v) + "' is not one of auto, ring, inline");
          },
          [&c] { return Shown{dispatch_name(c.dispatch)}; })
      .custom(
          "--execute", "auto|pool|inline",
          "auto: an idle family's task runs on the submitting thread while tasks take <= "
          "--inline-max-us on average and no job waits for a worker (default auto)",
          [&c](std::string_view v) {
            if (v == "auto")
              c.execute = ExecuteMode::Auto;
            else if (v == "pool")
              c.execute = ExecuteMode::Pool;
            else if (v == "inline")
              c.execute = ExecuteMode::Inline;
            else
              throw BadValue("'" + std::string(v) + "' is not one of auto, pool, inline");
          },
          [&c] { return Shown{execute_name(c.execute)}; })
      .custom(
          "--inline-max-us", "N", "--execute auto's limit, 0..1000000 (default 5)",
          [&c](std::string_view v) {
            c.inline_max_ns = hft::cli::parse_integer<std::uint32_t>(v, 0, 1'000'000) * 1000;
          },
          [&c] { return Shown{std::to_string(c.inline_max_ns / 1000)}; })
      .custom(
          "--ref", "SYM=PRICE", "reference price for the risk check (repeatable)",
          [&c](std::string_view kv) {
            const auto eq = kv.find('=');
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
              throw BadValue("'" + std::string(kv) + "' is not SYM=PRICE");
            }
            c.refs.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
          },
          [&c] {
            Shown out;
            for (const auto& [sym, px] : c.refs) {
              std::string kv = sym;
              kv += '=';
              kv += px;
              out.push_back(std::move(kv));
            }
            return out;
          });
  p.integer("--fix-port", c.fix_port, -1, 65535, "also accept FIX 4.4 on this port (0: ephemeral, -1: off)")
      .text("--fix-comp-id", c.fix_comp_id, "ID", "our SenderCompID on the FIX port (default HFTOMS)")
      .integer("--fix-max-sessions", c.fix_max_sessions, 1, 1u << 16, "FIX peer CompIDs the server keeps state for")
      .custom(
          "--fix-peers", "A,B,...",
          "the SenderCompIDs that may log on to the FIX port; a Logon from another is closed without a "
          "reply (default: any)",
          [&c](std::string_view v) {
            try {
              c.fix_peers = parse_peer_list(v);
            } catch (const std::invalid_argument& e) {
              throw BadValue(e.what());
            }
          },
          [&c] {
            std::string s;
            for (const auto& id : c.fix_peers) {
              if (!s.empty()) s += ',';
              s += id;
            }
            return s.empty() ? Shown{} : Shown{s};
          });
  p.integer("--metrics-port", c.metrics_port, -1, 65535,
            "serve Prometheus metrics (GET /metrics) on this port of --host (0: ephemeral, -1: off)");
  p.text("--journal", c.journal_dir, "DIR",
         "journal every execution here, replay it on start (docs/journal.md; default: off)")
      .custom(
          "--durability", "none|batch|every",
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
              throw BadValue("'" + std::string(v) + "' is not none, batch or every");
          },
          [&c] { return Shown{durability_name(c.durability)}; })
      .integer("--dedup-window", c.dedup_window, 1, std::size_t{1} << 26,
               "--journal: re-sent (correlation id, req_id) pairs remembered per partition");
  if (with_cpus) {
    p.custom(
        "--cpus", "A,B,...", "pin the server's threads to these CPUs (--busy-spin); each must be in the affinity mask",
        [&c](std::string_view v) {
          c.cpus = hft::cli::parse_integer_list(v, 0, 1023);
          hft::cli::check_cpus(c.cpus);
        },
        [&c] {
          std::string s;
          for (const int cpu : c.cpus) {
            if (!s.empty()) s += ',';
            s += std::to_string(cpu);
          }
          return s.empty() ? Shown{} : Shown{s};
        });
  }
  p.custom(
       "--log-level", "trace|debug|info|warn|error", "skip the server's log lines below this level (default info)",
       [&log](std::string_view v) {
         try {
           log.level = parse_log_level(v);
         } catch (const std::invalid_argument& e) {
           throw BadValue(e.what());
         }
       },
       [&log] { return Shown{level_name(log.level)}; })
      .text("--log-file", log.file, "PATH", "also write the server's log lines here, appending (default: stderr only)")
      .integer("--log-file-max-bytes", log.file_max_bytes, 0, std::numeric_limits<std::uint64_t>::max(),
               "--log-file: rotate PATH to PATH.1 .. PATH.5 past this size (0: never, the default)");
  p.note(
      "\n--config FILE: one `key = value` per line, the keys being the long options without `--`\n"
      "(port = 9000, busy-spin = true); `#` or `;` starts a comment line; a [section] header\n"
      "prefixes the keys under it ([fix] port = 9001 is fix-port). Flags override the file.");
}

// Each command that runs a server makes one ServerLog (logging.hpp) from these settings
// once its command line is parsed: before the servers whose threads log through it
// (ServerConfig::log), destroyed after them. Every log line of a running server goes there;
// the command's own output (usage, result tables, JSON, the report at stop) stays on
// stdout, and errors before anything runs on stderr. The crash handler is on, for
// SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL only: SIGTERM, SIGINT and SIGHUP are serve's graceful
// stop (cmd_serve), never the logger's. A --log-file that cannot be opened makes ServerLog
// throw std::invalid_argument (main: "mini_oms: error: ...", exit 2).
LogSettings with_crash_handler(LogSettings s) {
  s.crash_handler = true;
  return s;
}

}  // namespace mini_oms::commands
