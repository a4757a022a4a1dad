// mini_oms/logging.hpp: the server's log lines, through the asynchronous logger (hft/log):
// one LogBackend and two Loggers, sharing the sinks. A log call copies its arguments into
// the calling thread's ring and returns; the backend thread ("hft-log") formats and writes.
//
// Who owns it: main.cpp makes one ServerLog per command from the --log-* flags, after the
// command line is parsed and (serve) after SIGINT/SIGTERM are blocked (the backend thread
// blocks them itself too, and never takes them); every Server of the command gets it
// through ServerConfig::log and it outlives them. A Server given none (the tests) makes its
// own, on stderr at INFO, without the crash handler.
//
// What goes through it: every line of a running server (start, replay, connections, slow
// readers, accept failures, FIX sessions and refusals, --log-sample lines, the
// --stats-interval-ms line, journal errors, fatal errors). What does not: a command's
// product (usage, loadgen/bench tables and JSON, replay's digest, the report at stop, on
// stdout), bench's progress and violation lines, and errors before anything runs (a bad
// flag: "mini_oms: error: ..."), which stay plain stdio in main.cpp.
//
// Overflow policy, by thread (a policy belongs to a Logger, so one Logger per policy):
//   - io(), "mini_oms.io", OverflowPolicy::Drop: the I/O threads (transport.hpp) and the
//     partitions' dispatcher threads (partition.hpp, --log-sample). These are the event
//     loops: a full ring drops the line instead of stalling every connection behind it,
//     and the backend writes "hft::Logger: N lines dropped" through this logger, so the
//     loss is in the log itself.
//   - main(), "mini_oms", OverflowPolicy::Block: the main thread, the stats thread, and a
//     FATAL line from any thread (the process aborts right after it: waiting for room
//     costs nothing there, losing the reason would).
// Allocation: a thread's first line allocates its ring and a call site's first line
// registers it; after that a line allocates nothing on the logging thread (string
// arguments are copied into the ring). nomalloc_test's FIX warm-up logs the same sites
// (the disconnect lines) on the same I/O thread as its measured runs.
// Crash handler (LogSettings::crash_handler, on in main.cpp): on SIGSEGV, SIGABRT, SIGBUS,
// SIGFPE and SIGILL the backend writes out what the rings hold before the process dies
// (the journal's FATAL lines call abort()). Not SIGTERM and SIGINT, which the library
// default also catches: serve takes them with sigwait for its graceful stop (stop
// accepting, answer what was admitted, flush), and the backend outlives that stop.
// Idle cost: the backend sleeps idle_sleep between passes when no line is ready (100 us
// cost ~10% of a core on this 2-core box, measured; the library's default is 1 ms); the
// server uses 10 ms (~0.05%), CPU the I/O thread needs: a line reaches the sink within
// ~10 ms, and flush() (FATAL lines, the logger's destructor) does not wait for it.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "hft/log/file_sink.hpp"
#include "hft/log/log_backend.hpp"
#include "hft/log/log_sink.hpp"
#include "hft/log/logger.hpp"

namespace mini_oms {

// What the --log-* flags set (main.cpp).
struct LogSettings {
  hft::LogLevel level = hft::LogLevel::Info;  // --log-level: lines below it are skipped
  std::string file;                           // --log-file: also write every line here (empty: stderr only)
  std::uint64_t file_max_bytes = 0;           // --log-file-max-bytes: rotate PATH -> PATH.1 .. PATH.5 (0: never)
  bool crash_handler = false;                 // see the header comment; at most one backend per process
};

// --log-level's values.
inline hft::LogLevel parse_log_level(std::string_view v) {
  if (v == "trace") return hft::LogLevel::Trace;
  if (v == "debug") return hft::LogLevel::Debug;
  if (v == "info") return hft::LogLevel::Info;
  if (v == "warn") return hft::LogLevel::Warn;
  if (v == "error") return hft::LogLevel::Error;
  throw std::invalid_argument("'" + std::string(v) + "' is not one of trace, debug, info, warn, error");
}

class ServerLog {
 public:
  // Throws std::invalid_argument for settings that cannot work (a --log-file that cannot be
  // opened, --log-file-max-bytes without --log-file): main.cpp refuses to start.
  explicit ServerLog(const LogSettings& s = {}) : ServerLog(s, make_sinks(s)) {}
  ServerLog(const ServerLog&) = delete;
  ServerLog& operator=(const ServerLog&) = delete;

  // The main, stats and FATAL lines: blocks when the thread's ring is full.
  [[nodiscard]] hft::Logger& main() noexcept { return main_; }
  // The I/O and dispatcher threads: drops (and counts) when the thread's ring is full.
  [[nodiscard]] hft::Logger& io() noexcept { return io_; }
  // After a FATAL line (HFT_LOG_CRITICAL through main(), any thread), before abort(): writes
  // it out (the crash handler may not be installed). Not a wrapper around the macro: a
  // macro's call site is one static per expansion, and it keeps its first format string.
  void flush_before_abort() noexcept {
    try {
      main_.flush();
    } catch (...) {  // a mutex or condition variable that failed: the line may be lost
    }
  }

 private:
  ServerLog(const LogSettings& s, const std::vector<std::shared_ptr<hft::LogSink>>& sinks)
      : backend_(backend_config(s)),
        main_(backend_, "mini_oms", sinks, logger_config(s, hft::OverflowPolicy::Block)),
        io_(backend_, "mini_oms.io", sinks, logger_config(s, hft::OverflowPolicy::Drop)) {}

  // Before the backend starts: a file that cannot be opened fails here, with no thread.
  static std::vector<std::shared_ptr<hft::LogSink>> make_sinks(const LogSettings& s) {
    std::vector<std::shared_ptr<hft::LogSink>> sinks{
        std::make_shared<hft::ConsoleSink>(hft::ConsoleSink::Stream::Stderr)};
    if (s.file.empty()) {
      if (s.file_max_bytes != 0) throw std::invalid_argument("--log-file-max-bytes needs --log-file");
      return sinks;
    }
    hft::FileSinkConfig fc;
    fc.max_bytes = s.file_max_bytes;
    try {
      sinks.push_back(std::make_shared<hft::FileSink>(s.file, fc));
    } catch (const std::system_error& e) {
      throw std::invalid_argument(std::string("--log-file: ") + e.what());
    }
    return sinks;
  }
  static hft::LogBackendConfig backend_config(const LogSettings& s) {
    hft::LogBackendConfig c;
    c.idle_sleep = std::chrono::milliseconds(10);  // see Idle cost in the header comment
    c.crash_handler = s.crash_handler;
    c.crash_signals = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};  // not SIGTERM/SIGINT: serve's graceful stop
    return c;
  }
  static hft::LoggerConfig logger_config(const LogSettings& s, hft::OverflowPolicy p) {
    hft::LoggerConfig c;
    c.level = s.level;
    c.overflow = p;
    c.pattern = "{time} {level} [{thread}] {logger}: {message}";  // no {file}:{line}: __FILE__ is the build's path
    return c;
  }

  hft::LogBackend backend_;  // destroyed last: drains every ring, then stops its thread
  hft::Logger main_;
  hft::Logger io_;
};

}  // namespace mini_oms
