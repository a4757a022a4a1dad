// bench_log: the asynchronous logger (hft::LogBackend + hft::Logger + hft::FileSink) next to
// what people use today: spdlog 1.10 async (a bounded queue, overflow_policy::block, one
// worker thread, basic_file_sink_mt), spdlog synchronous (basic_file_sink_mt on the calling
// thread) and fprintf to a FILE*. Every file is on tmpfs (/dev/shm), and every implementation
// writes the same line layout (see the notes the binary prints for what still differs).
//
// Cases:
//   lat_{fmt,lit}_{1t,2t}  calling-thread latency of one call, each call timed on its own
//                          (rdtscp before and after: TscClock::ticks_ordered), p50/p99/p99.9/max
//                          over every call of a round; "fmt" logs an int, a double and a short
//                          string, "lit" a string literal only; 1t: one calling thread, 2t: two
//                          at once. Pacing: bursts of calls, then (untimed) a wait until the
//                          backend has written everything, so no ring or queue ever fills and
//                          the figures are the call's, not its blocking. Each call is followed
//                          by an empty timed call (two rdtscp reads), whose p50 is subtracted in
//                          the "p50-empty" metric; "allocs/call" counts operator new on the
//                          calling threads during the timed calls (a replaced global operator
//                          new with a thread_local counter).
//   throughput             lines/s from one thread logging back to back until the file has
//                          every line (ours: flush(); spdlog async: the worker joined; sync:
//                          fflush): for the async loggers the pipeline, caller on one core and
//                          backend on the other.
#include <pthread.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/cpu.hpp"
#include "hft/core/thread.hpp"
#include "hft/log/file_sink.hpp"
#include "hft/log/log_backend.hpp"
#include "hft/log/logger.hpp"

// ---- allocation counting: every operator new of a thread bumps its own counter ------------------

namespace {
constinit thread_local std::uint64_t t_allocs = 0;

void* counted_alloc(std::size_t n) noexcept {
  ++t_allocs;
  return std::malloc(n == 0 ? 1 : n);
}
void* counted_aligned_alloc(std::size_t n, std::align_val_t a) noexcept {
  ++t_allocs;
  const auto al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al + (n == 0 ? al : 0));
}
// Not inlined: g++ 12 would see free() of a pointer from operator new (-Wmismatched-new-delete).
[[gnu::noinline]] void counted_free(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned_alloc(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned_alloc(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(n, a);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

using hft::bench::Metrics;

// ---- the line every implementation writes -----------------------------------------------------

// ours: {tid} rather than the default {thread} (a name spdlog cannot print) so the layout is the
// same byte for byte; {file} is __FILE__ as given, as spdlog's %g.
constexpr const char* kOurPattern = "{time} {level} [{tid}] {file}:{line} {logger}: {message}";
// spdlog: %* is a custom flag printing the level in capitals (spdlog's %l prints "info").
constexpr const char* kSpdlogPattern = "%Y-%m-%dT%H:%M:%S.%FZ %* [%t] %g:%# %n: %v";
constexpr std::string_view kShort = "short";
constexpr const char* kLoggerName = "bench";

enum class Line { Fmt, Lit };

struct Config {
  int bursts = 0;           // per round and thread
  int burst = 0;            // calls per burst
  std::uint64_t lines = 0;  // throughput: lines per round
  std::vector<int> cpus;
  int spdlog_queue = 8192;  // messages
};

const hft::TscClock& tsc() {
  static const hft::TscClock clock(std::chrono::milliseconds(100));
  return clock;
}

std::string shm_path(const char* what) {
  static std::atomic<int> serial{0};
  return "/dev/shm/hft_bench_log_" + std::to_string(::getpid()) + "_" + what + "_" +
         std::to_string(serial.fetch_add(1)) + ".log";
}

// The first line of a file (to show each implementation's layout once).
std::string first_line(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "(cannot open " + path + ")";
  char buf[512] = {};
  const char* got = std::fgets(buf, sizeof buf, f);
  std::fclose(f);
  std::string s = got ? buf : "";
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void pin_or_ignore(int cpu) noexcept {
  try {
    hft::pin_current_thread(cpu);
  } catch (...) {
  }
}

// ---- the calling-thread latency driver ------------------------------------------------------------

struct ThreadSamples {
  std::vector<std::uint64_t> call, empty;
  std::uint64_t allocs = 0;
};

// One calling thread's bursts. `call(i)` logs one line; `drain()` (untimed, thread 0, after
// every thread finished its burst) waits until the backend has written everything.
template <class Call, class Drain, class Sync>
void bursts_on_this_thread(const Config& cfg, int index, Call& call, Drain& drain, Sync& sync, ThreadSamples& out) {
  const auto n = static_cast<std::size_t>(cfg.bursts) * static_cast<std::size_t>(cfg.burst);
  out.call.assign(n, 0);
  out.empty.assign(n, 0);
  // Warm-up burst, untimed: the thread's ring / the file's pages / the caches.
  for (int i = 0; i < cfg.burst; ++i) call(i);
  sync();
  if (index == 0) drain();
  sync();
  std::size_t k = 0;
  for (int b = 0; b < cfg.bursts; ++b) {
    const std::uint64_t a0 = t_allocs;
    for (int i = 0; i < cfg.burst; ++i, ++k) {
      const std::uint64_t t0 = hft::TscClock::ticks_ordered();
      call(b * cfg.burst + i);
      const std::uint64_t t1 = hft::TscClock::ticks_ordered();
      const std::uint64_t e0 = hft::TscClock::ticks_ordered();
      const std::uint64_t e1 = hft::TscClock::ticks_ordered();
      out.call[k] = t1 - t0;
      out.empty[k] = e1 - e0;
    }
    out.allocs += t_allocs - a0;
    sync();
    if (index == 0) drain();
    sync();
  }
}

// threads == 1: on the calling thread, pinned to cpus[0]; threads == 2: two new threads pinned to
// cpus[0] and cpus[1] (a backend thread, if any, is then unpinned: three busy threads on two cores).
template <class Call, class Drain>
Metrics latency_run(const Config& cfg, int threads, Call call, Drain drain) {
  std::vector<ThreadSamples> samples(static_cast<std::size_t>(threads));
  if (threads == 1) {
    pin_or_ignore(cfg.cpus[0]);
    auto none = [] {};
    bursts_on_this_thread(cfg, 0, call, drain, none, samples[0]);
  } else {
    std::barrier<> gate(threads);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        pin_or_ignore(cfg.cpus[static_cast<std::size_t>(t) % cfg.cpus.size()]);
        hft::set_current_thread_name("bench-caller");
        auto sync = [&gate] { gate.arrive_and_wait(); };
        bursts_on_this_thread(cfg, t, call, drain, sync, samples[static_cast<std::size_t>(t)]);
      });
    }
    for (auto& t : ts) t.join();
  }
  std::vector<double> call_ns, empty_ns;
  std::uint64_t allocs = 0;
  const double scale = 1.0 / tsc().ticks_per_ns();
  for (const auto& s : samples) {
    for (const std::uint64_t v : s.call) call_ns.push_back(static_cast<double>(v) * scale);
    for (const std::uint64_t v : s.empty) empty_ns.push_back(static_cast<double>(v) * scale);
    allocs += s.allocs;
  }
  const double calls = static_cast<double>(call_ns.size());
  const double p50 = hft::bench::percentile(call_ns, 50);
  const double p99 = hft::bench::percentile(call_ns, 99);
  const double p999 = hft::bench::percentile(call_ns, 99.9);
  const double max = call_ns.empty() ? 0 : call_ns.back();  // sorted by percentile()
  const double empty50 = hft::bench::percentile(empty_ns, 50);
  return {{"p50", p50},
          {"p99", p99},
          {"p99.9", p999},
          {"max", max},
          {"p50-empty", p50 - empty50},
          {"allocs/call", static_cast<double>(allocs) / calls}};
}

// ---- ours -------------------------------------------------------------------------------------------

struct Ours {
  hft::LogBackend backend;
  std::shared_ptr<hft::FileSink> sink;
  std::unique_ptr<hft::Logger> log;
  std::string path;

  static hft::LogBackendConfig backend_config(int cpu) {
    hft::LogBackendConfig c;
    c.cpu = cpu;
    return c;
  }
  Ours(int backend_cpu, const char* what) : backend(backend_config(backend_cpu)), path(shm_path(what)) {
    sink = std::make_shared<hft::FileSink>(path);
    hft::LoggerConfig lc;
    lc.pattern = kOurPattern;
    log = std::make_unique<hft::Logger>(backend, kLoggerName, std::vector<std::shared_ptr<hft::LogSink>>{sink}, lc);
  }
  Ours(const Ours&) = delete;
  Ours& operator=(const Ours&) = delete;
  ~Ours() {
    log.reset();
    ::unlink(path.c_str());
  }
};

template <Line L>
inline void ours_call(hft::Logger& log, int i) {
  if constexpr (L == Line::Fmt) {
    HFT_LOG_INFO(log, "int {} double {} str {}", i, 3.25 * i, kShort);
  } else {
    HFT_LOG_INFO(log, "order gateway heartbeat sent");
  }
}

template <Line L>
Metrics ours_latency(const Config& cfg, int threads) {
  Ours o(threads == 1 ? cfg.cpus[1] : -1, "ours");
  hft::Logger& log = *o.log;
  return latency_run(
      cfg, threads, [&log](int i) { ours_call<L>(log, i); }, [&log] { log.flush(); });
}

// ---- spdlog -----------------------------------------------------------------------------------------

// %*: the level in capitals, as ours ("INFO" where spdlog's %l prints "info").
class UpperLevelFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kNames[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "OFF"};
    const std::string_view n = kNames[static_cast<int>(msg.level)];
    dest.append(n.data(), n.data() + n.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<UpperLevelFlag>();
  }
};

std::unique_ptr<spdlog::formatter> spdlog_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  f->add_flag<UpperLevelFlag>('*').set_pattern(kSpdlogPattern);
  return f;
}

struct SpdlogAsync {
  std::string path;
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> log;

  SpdlogAsync(int worker_cpu, std::size_t queue, const char* what) : path(shm_path(what)) {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    pool = std::make_shared<spdlog::details::thread_pool>(queue, 1, [worker_cpu] {
      if (worker_cpu >= 0) pin_or_ignore(worker_cpu);
    });
    log = std::make_shared<spdlog::async_logger>(kLoggerName, sink, pool, spdlog::async_overflow_policy::block);
    log->set_formatter(spdlog_formatter());
    log->set_level(spdlog::level::info);
  }
  SpdlogAsync(const SpdlogAsync&) = delete;
  SpdlogAsync& operator=(const SpdlogAsync&) = delete;
  // Waits until the worker has taken every message, then for it to finish the last one (the
  // sink's mutex), and flushes the file.
  void drain() const {
    hft::bench::SpinThenYield w;
    while (pool->queue_size() != 0) w.pause();
    sink->flush();
  }
  // Joins the worker after it processed every queued message.
  void finish() {
    log.reset();
    pool.reset();
    sink->flush();
  }
  ~SpdlogAsync() {
    log.reset();
    pool.reset();
    sink.reset();
    ::unlink(path.c_str());
  }
};

struct SpdlogSync {
  std::string path;
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  std::shared_ptr<spdlog::logger> log;
  explicit SpdlogSync(const char* what) : path(shm_path(what)) {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    log = std::make_shared<spdlog::logger>(kLoggerName, sink);
    log->set_formatter(spdlog_formatter());
    log->set_level(spdlog::level::info);
  }
  SpdlogSync(const SpdlogSync&) = delete;
  SpdlogSync& operator=(const SpdlogSync&) = delete;
  ~SpdlogSync() {
    log.reset();
    sink.reset();
    ::unlink(path.c_str());
  }
};

template <Line L>
inline void spdlog_call(spdlog::logger& log, int i) {
  if constexpr (L == Line::Fmt) {
    SPDLOG_LOGGER_INFO(&log, "int {} double {} str {}", i, 3.25 * i, kShort);
  } else {
    SPDLOG_LOGGER_INFO(&log, "order gateway heartbeat sent");
  }
}

template <Line L>
Metrics spdlog_async_latency(const Config& cfg, int threads) {
  SpdlogAsync s(threads == 1 ? cfg.cpus[1] : -1, static_cast<std::size_t>(cfg.spdlog_queue), "spdlog_async");
  spdlog::logger& log = *s.log;
  return latency_run(
      cfg, threads, [&log](int i) { spdlog_call<L>(log, i); }, [&s] { s.drain(); });
}

template <Line L>
Metrics spdlog_sync_latency(const Config& cfg, int threads) {
  SpdlogSync s("spdlog_sync");
  spdlog::logger& log = *s.log;
  return latency_run(
      cfg, threads, [&log](int i) { spdlog_call<L>(log, i); }, [&s] { s.sink->flush(); });
}

// ---- fprintf ------------------------------------------------------------------------------------------

// What a hand-written synchronous logger does: clock_gettime, gmtime_r, one fprintf (the FILE*
// lock inside). %.15g prints the benchmark's doubles (multiples of 0.25 below 10^7) exactly as
// the shortest round-trip form the others use.
struct FprintfLog {
  std::string path;
  std::FILE* f = nullptr;
  explicit FprintfLog(const char* what) : path(shm_path(what)) {
    f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("fopen " + path);
  }
  FprintfLog(const FprintfLog&) = delete;
  FprintfLog& operator=(const FprintfLog&) = delete;
  ~FprintfLog() {
    std::fclose(f);
    ::unlink(path.c_str());
  }
};

inline int cached_tid() noexcept {
  static constinit thread_local int tid = 0;
  if (tid == 0) tid = static_cast<int>(::syscall(SYS_gettid));
  return tid;
}

struct Stamp {
  std::tm tm{};
  long ns = 0;
};
inline Stamp stamp_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  Stamp s;
  ::gmtime_r(&ts.tv_sec, &s.tm);
  s.ns = ts.tv_nsec;
  return s;
}

#define BENCH_FPRINTF_LOG(f, fmt, ...)                                                                           \
  do {                                                                                                           \
    const Stamp st_ = stamp_now();                                                                               \
    std::fprintf(f, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ INFO [%d] %s:%d %s: " fmt "\n", st_.tm.tm_year + 1900, \
                 st_.tm.tm_mon + 1, st_.tm.tm_mday, st_.tm.tm_hour, st_.tm.tm_min, st_.tm.tm_sec, st_.ns,        \
                 cached_tid(), __FILE__, __LINE__, kLoggerName, __VA_ARGS__);                                    \
  } while (false)

template <Line L>
inline void fprintf_call(std::FILE* f, int i) {
  if constexpr (L == Line::Fmt) {
    BENCH_FPRINTF_LOG(f, "int %d double %.15g str %.*s", i, 3.25 * i, static_cast<int>(kShort.size()), kShort.data());
  } else {
    BENCH_FPRINTF_LOG(f, "%s", "order gateway heartbeat sent");
  }
}

template <Line L>
Metrics fprintf_latency(const Config& cfg, int threads) {
  FprintfLog s("fprintf");
  std::FILE* f = s.f;
  return latency_run(
      cfg, threads, [f](int i) { fprintf_call<L>(f, i); }, [f] { std::fflush(f); });
}

Metrics empty_latency(const Config& cfg, int threads) {
  return latency_run(
      cfg, threads, [](int i) { hft::bench::do_not_optimize(i); }, [] {});
}

// ---- throughput -----------------------------------------------------------------------------------------

// Lines per second from `n` back-to-back calls on this thread (pinned to cpus[0]) until
// `finish()` returns with every line in the file.
template <class Call, class Finish>
double lines_per_sec(const Config& cfg, Call call, Finish finish) {
  pin_or_ignore(cfg.cpus[0]);
  for (int i = 0; i < 1000; ++i) call(i);  // warm-up (the thread's ring, the site)
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < cfg.lines; ++i) call(static_cast<int>(i));
  finish();
  const auto t1 = std::chrono::steady_clock::now();
  return static_cast<double>(cfg.lines) / std::chrono::duration<double>(t1 - t0).count();
}

Metrics ours_throughput(const Config& cfg) {
  Ours o(cfg.cpus[1], "ours_tp");
  hft::Logger& log = *o.log;
  return {{"", lines_per_sec(
                   cfg, [&log](int i) { ours_call<Line::Fmt>(log, i); }, [&log] { log.flush(); })}};
}

Metrics spdlog_async_throughput(const Config& cfg) {
  SpdlogAsync s(cfg.cpus[1], static_cast<std::size_t>(cfg.spdlog_queue), "spdlog_async_tp");
  spdlog::logger& log = *s.log;
  return {{"", lines_per_sec(
                   cfg, [&log](int i) { spdlog_call<Line::Fmt>(log, i); }, [&s] { s.finish(); })}};
}

Metrics spdlog_sync_throughput(const Config& cfg) {
  SpdlogSync s("spdlog_sync_tp");
  spdlog::logger& log = *s.log;
  return {{"", lines_per_sec(
                   cfg, [&log](int i) { spdlog_call<Line::Fmt>(log, i); }, [&s] { s.sink->flush(); })}};
}

Metrics fprintf_throughput(const Config& cfg) {
  FprintfLog s("fprintf_tp");
  std::FILE* f = s.f;
  return {{"", lines_per_sec(
                   cfg, [f](int i) { fprintf_call<Line::Fmt>(f, i); }, [f] { std::fflush(f); })}};
}

// One 'fmt' line of each implementation (i = 199999), read back from its file: the notes show them.
std::vector<std::string> sample_lines() {
  constexpr int i = 199'999;
  std::vector<std::string> out;
  {
    Ours o(-1, "ours_sample");
    ours_call<Line::Fmt>(*o.log, i);
    o.log->flush();
    out.push_back("hft::Logger:  " + first_line(o.path));
  }
  {
    SpdlogAsync s(-1, 16, "spdlog_async_sample");
    spdlog_call<Line::Fmt>(*s.log, i);
    s.finish();
    out.push_back("spdlog async: " + first_line(s.path));
  }
  {
    SpdlogSync s("spdlog_sync_sample");
    spdlog_call<Line::Fmt>(*s.log, i);
    s.sink->flush();
    out.push_back("spdlog sync:  " + first_line(s.path));
  }
  {
    FprintfLog s("fprintf_sample");
    fprintf_call<Line::Fmt>(s.f, i);
    std::fflush(s.f);
    out.push_back("fprintf:      " + first_line(s.path));
  }
  return out;
}

constexpr const char* kOurs = "hft::Logger + FileSink";
constexpr const char* kAsync = "spdlog async (block, 1 worker)";
constexpr const char* kSync = "spdlog sync (basic_file_sink_mt)";
constexpr const char* kFprintf = "fprintf (FILE*, gmtime_r)";
constexpr const char* kEmpty = "empty timed call (rdtscp pair)";

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_log", [](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    Config cfg;
    cfg.cpus = opts.cpus;
    cfg.burst = 1000;
    cfg.bursts = opts.quick ? 10 : 100;
    cfg.lines = opts.quick ? 50'000 : 500'000;
    cfg.spdlog_queue = 8192;
    (void)tsc();  // calibrate before the first case

    suite.note(
        "files on /dev/shm (tmpfs); one line layout for all: '{time} {level} [{tid}] {file}:{line} {logger}: " +
        std::string("{message}' (ours; the default pattern has {thread}, a name spdlog cannot print), spdlog '") +
        kSpdlogPattern + "' with pattern_time_type::utc and %* a custom flag for the level in capitals, " +
        "SPDLOG_LOGGER_INFO (fills %g:%#); fprintf: clock_gettime + gmtime_r + one fprintf, %.15g for the double");
    suite.note(
        "lat_*: each call timed on its own (rdtscp before/after), then one empty timed call (its p50 is "
        "subtracted in p50-empty); pacing: bursts of " +
        std::to_string(cfg.burst) + " calls, then an untimed wait until everything is written (ours: flush(); " +
        "spdlog async: queue empty + sink flush; sync/fprintf: flush), " + std::to_string(cfg.bursts) +
        " bursts per round and thread; ring 1 MiB per thread, spdlog queue " + std::to_string(cfg.spdlog_queue) +
        " messages: a burst never fills them");
    suite.note("lat_*_1t: 1 caller pinned to CPU " + std::to_string(cfg.cpus[0]) +
               " + 1 backend/worker pinned to CPU " + std::to_string(cfg.cpus[1]) +
               " = 2 busy threads on 2 cores (sync anchors: 1); lat_*_2t: 2 callers pinned to CPUs " +
               std::to_string(cfg.cpus[0]) + "," + std::to_string(cfg.cpus[1]) +
               " + 1 unpinned backend/worker = 3 busy threads on 2 cores (sync anchors: 2); percentiles over both "
               "callers' calls");
    suite.note("throughput: 1 thread logs " + std::to_string(cfg.lines) +
               " 'fmt' lines back to back (OverflowPolicy::Block / async_overflow_policy::block, ring 1 MiB, spdlog "
               "queue " +
               std::to_string(cfg.spdlog_queue) + "), timed until every line is in the file; caller on CPU " +
               std::to_string(cfg.cpus[0]) + ", backend/worker on CPU " + std::to_string(cfg.cpus[1]) +
               "; for spdlog async the caller formats, so the figure is min(caller, worker)");
    for (const auto& l : sample_lines()) suite.note("line: " + l);
    suite.note("allocs/call: operator new calls on the calling thread(s) during the timed calls, per call");

    const std::vector<hft::bench::MetricSpec> lat_metrics = {
        {"p50", "ns", false}, {"p99", "ns", false},       {"p99.9", "ns", false},
        {"max", "ns", false}, {"p50-empty", "ns", false}, {"allocs/call", "allocations per call", false}};
    auto latency_case = [&]<Line L>(const std::string& name, int threads) {
      suite.add_case(name, lat_metrics,
                     {
                         {kOurs, [=] { return ours_latency<L>(cfg, threads); }},
                         {kAsync, [=] { return spdlog_async_latency<L>(cfg, threads); }},
                         {kSync, [=] { return spdlog_sync_latency<L>(cfg, threads); }},
                         {kFprintf, [=] { return fprintf_latency<L>(cfg, threads); }},
                         {kEmpty, [=] { return empty_latency(cfg, threads); }},
                     });
    };
    latency_case.operator()<Line::Fmt>("lat_fmt_1t", 1);
    latency_case.operator()<Line::Lit>("lat_lit_1t", 1);
    latency_case.operator()<Line::Fmt>("lat_fmt_2t", 2);
    latency_case.operator()<Line::Lit>("lat_lit_2t", 2);

    suite.add_case("throughput", {{"", "lines/s", true}},
                   {
                       {kOurs, [=] { return ours_throughput(cfg); }},
                       {kAsync, [=] { return spdlog_async_throughput(cfg); }},
                       {kSync, [=] { return spdlog_sync_throughput(cfg); }},
                       {kFprintf, [=] { return fprintf_throughput(cfg); }},
                   });

    using hft::bench::Target;
    suite.add_ratio("lat_fmt_1t/p50", kOurs, kAsync, Target::at_most(0.1),
                    "calling-thread p50, fmt line, 1t: ours / spdlog async");
    suite.add_ratio("lat_fmt_1t/p99.9", kOurs, kAsync, Target::at_most(0.01),
                    "calling-thread p99.9, fmt line, 1t: ours / spdlog async");
    suite.add_ratio("lat_fmt_2t/p50", kOurs, kAsync, Target::at_most(0.1),
                    "calling-thread p50, fmt line, 2t: ours / spdlog async");
    suite.add_ratio("lat_fmt_2t/p99.9", kOurs, kAsync, Target::at_most(0.01),
                    "calling-thread p99.9, fmt line, 2t: ours / spdlog async");
    suite.add_ratio("throughput", kOurs, kAsync, Target::at_least(1.5),
                    "throughput (same layout): ours / spdlog async");
    suite.add_absolute("lat_fmt_1t/p50-empty", kOurs, Target::at_most(15.0), "fmt line p50 minus empty timed call, 1t");
    suite.add_absolute("lat_lit_1t/p50-empty", kOurs, Target::at_most(15.0),
                       "literal line p50 minus empty timed call, 1t");
    for (const char* c : {"lat_fmt_1t", "lat_lit_1t", "lat_fmt_2t", "lat_lit_2t"}) {
      suite.add_absolute(std::string(c) + "/allocs/call", kOurs, Target::at_most(0.0),
                         std::string("allocations on the calling thread, ") + c);
    }
    suite.run_and_report();
  });
}
