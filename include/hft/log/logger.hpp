// hft/log/logger.hpp: Logger and the HFT_LOG_* macros, the front end of the asynchronous
// logger: a call copies its arguments into the calling thread's ring and returns; a
// LogBackend thread formats and writes the line later.
//
// What: HFT_LOG_INFO(logger, "filled {} @ {:.2f} for {}", qty, px, account) and its siblings
//   (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL). A call:
//     1. tests the logger's run-time level (one relaxed load) and skips everything below it;
//        levels below HFT_LOG_ACTIVE_LEVEL (a macro, 0 = TRACE ... 5 = CRITICAL, 6 = none) are
//        compiled out (the arguments are not evaluated, the format string is still checked);
//     2. checks the format string against the argument types at compile time
//        (LogFormatString: a mistake is a compile error, as with std::format_string);
//     3. registers its call site once per process (format string, level, file, line, and the
//        decoder for its argument types) on its first execution, under a mutex;
//     4. reads the TSC, reserves one record in the calling thread's ring (created and
//        registered with the backend at the thread's first call), writes a 24-byte header
//        and copies the arguments (hft/log/log_codec.hpp says which types and how), and
//        publishes it with one release store.
//   Formatting (hft::detail::format_to, which implements std::format's format-spec: libstdc++
//   12 has no <format>) happens in the backend thread.
// When to use: every log line of a latency-sensitive process, including on I/O and trading
//   threads. When not: a line that must be on disk before the call returns (call flush(), or
//   write synchronously); logging from a signal handler.
// Overflow (LoggerConfig::overflow, per logger): when the thread's ring has no room,
//   - OverflowPolicy::Block spins (cpu_relax, then sched_yield) until the backend frees
//     space: no line is ever lost, the caller waits;
//   - OverflowPolicy::Drop returns at once and counts the line; the backend writes, through
//     the same logger, "hft::Logger: N lines dropped ..." at its next pass, so the loss is in
//     the log itself; Logger::dropped() and LogBackendStats::lines_dropped count them;
//   - OverflowPolicy::Grow allocates a ring twice as large (up to LogBackendConfig::
//     max_ring_bytes, then blocks as Block does): the one allocation a call can make, and
//     the caller pays for it.
//   A line larger than half the ring has its strings truncated to fit (marked " [truncated]")
//   under Block and Drop; Grow grows the ring for it when max_ring_bytes allows.
//
// Thread-safety: the macros, should_log, level, set_level, dropped, flush: any thread.
//   Construction and destruction: while the backend runs, from any thread, provided no
//   other thread uses this Logger during its destruction (as for any object).
// Progress: a call under Drop is wait-free; under Block it waits for the backend when the
//   ring is full; a thread's first call, and a site's first call, take a mutex and allocate.
// Memory ordering: the record is published with a release store that the backend's acquire
//   load pairs with (hft/log/log_ring.hpp); everything the caller did before the call
//   happens-before the backend's formatting of it. set_level is a relaxed store: a call
//   racing with it may use either level.
// Complexity: O(argument bytes) per call. Allocation: none on the calling thread after its
//   ring exists and each of its sites has run once, for the built-in argument types and
//   codecs that do not allocate; the exceptions are a thread's first call (its ring), a
//   site's first call (its table chunk, one per 1,024 sites) and OverflowPolicy::Grow.
// Lifecycle: a Logger is neither copyable nor movable (its id is in every record in flight).
//   Its destructor flushes (everything it logged is written) and then releases its sinks.
//   Threads that exit with lines still in their ring lose none: the backend drains the ring
//   before freeing it.
//
// Compared with:
//   - Quill: LOG_INFO(logger, "fmt {}", x) with the same front end (a per-thread SPSC queue,
//     the format string checked at compile time, a static per-site metadata object); Quill's
//     queue policies are the same three (blocking, dropping, unbounded), set for the whole
//     front end at compile time, where ours is a per-logger setting.
//   - fmtlog: logi("fmt {}", x), one static logger, per-thread queues, drop or block.
//   - NanoLog: NANO_LOG(NOTICE, "fmt %d", x), printf-style, per-thread staging buffers that
//     block when full.
//   - spdlog (async): logger->info("fmt {}", x) formats on the calling thread and pushes the
//     text into one shared queue (overrun_oldest or block); ours copies arguments only.
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/cpu.hpp"
#include "hft/log/log_backend.hpp"
#include "hft/log/log_codec.hpp"
#include "hft/log/log_pattern.hpp"
#include "hft/log/log_ring.hpp"
#include "hft/log/log_sink.hpp"

#ifndef HFT_LOG_ACTIVE_LEVEL
/// Levels below this are compiled out: 0 TRACE, 1 DEBUG, 2 INFO, 3 WARN, 4 ERROR, 5 CRITICAL, 6 none.
#define HFT_LOG_ACTIVE_LEVEL 0
#endif

namespace hft {

namespace detail {
/// True when lines of level `lv` are compiled in (HFT_LOG_ACTIVE_LEVEL).
constexpr bool log_compiled_in(int lv) noexcept { return lv >= HFT_LOG_ACTIVE_LEVEL; }
}  // namespace detail

/// What a log call does when its thread's ring is full (see Overflow in the header comment).
enum class OverflowPolicy : std::uint8_t {
  Block,  ///< wait for space: nothing is lost
  Drop,   ///< drop the line, count it, and report the count in the log
  Grow,   ///< allocate a larger ring (up to LogBackendConfig::max_ring_bytes, then Block)
};

/// Settings of a Logger (docs/style.md: a Config aggregate).
struct LoggerConfig {
  /// Lines below this level are skipped at run time (set_level changes it).
  LogLevel level = LogLevel::Info;
  /// What a call does when its thread's ring is full.
  OverflowPolicy overflow = OverflowPolicy::Block;
  /// The line layout (hft/log/log_pattern.hpp).
  std::string pattern = std::string(kDefaultLogPattern);
};

/// A named logger: a level, an overflow policy, a pattern and sinks, in a LogBackend.
class Logger {
 public:
  /// A logger named `name` writing to `sinks` through `backend`. Throws
  /// std::invalid_argument for a bad pattern or a null sink, std::length_error past 65,535
  /// live loggers in the backend.
  Logger(LogBackend& backend, std::string name, std::vector<std::shared_ptr<LogSink>> sinks,
         const LoggerConfig& cfg = {})
      : backend_(&backend), backend_id_(backend.id()), level_(cfg.level), overflow_(cfg.overflow), name_(name) {
    for (const auto& s : sinks)
      if (!s) throw std::invalid_argument("hft::Logger: sinks holds a null sink (logger '" + name_ + "')");
    auto state = std::make_unique<detail::LoggerState>();
    state->name = std::move(name);
    state->pattern = LogPattern(cfg.pattern);
    state->has_message = state->pattern.has_message();
    state->sinks = std::move(sinks);
    state_ = state.get();
    id_ = backend.add_logger(std::move(state));
  }
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  /// Flushes (every line logged before is written), then leaves the backend.
  ~Logger() { backend_->remove_logger(id_); }

  /// True when a line at `lv` would be logged now (one relaxed load).
  [[nodiscard]] bool should_log(LogLevel lv) const noexcept {
    return lv >= level_.load(std::memory_order_relaxed) && lv != LogLevel::Off;
  }
  /// The run-time level.
  [[nodiscard]] LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  /// Changes the run-time level (relaxed: calls racing with it may use either).
  void set_level(LogLevel lv) noexcept { level_.store(lv, std::memory_order_relaxed); }
  /// The overflow policy.
  [[nodiscard]] OverflowPolicy overflow() const noexcept { return overflow_; }
  /// The name given at construction.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Lines this logger dropped so far (OverflowPolicy::Drop, oversize lines, a thread's ring
  /// that could not be created).
  [[nodiscard]] std::uint64_t dropped() const noexcept { return state_->dropped.load(std::memory_order_relaxed); }
  /// The backend it logs through.
  [[nodiscard]] LogBackend& backend() const noexcept { return *backend_; }
  /// backend().flush(): returns when every line logged before is written.
  void flush() { backend_->flush(); }

  /// The macros' entry point: logs one line from `site` (see the header comment).
  /// `fmt` is checked at compile time here; the site holds the same literal (the macro put it
  /// there), which is what the backend formats with.
  template <class... Args>
  void log(detail::LogSite& site, [[maybe_unused]] LogFormatString<Args...> fmt, const Args&... args) noexcept {
    write(site, detail::log_prepare(args)...);
  }

 private:
  static constexpr std::size_t kHeader = sizeof(detail::LogRecordHeader);

  template <class... Ps>
  void write(detail::LogSite& site, const Ps&... ps) noexcept {
    std::uint32_t site_id = site.id.load(std::memory_order_acquire);  // pairs with LogSiteTable::add
    if (site_id == 0) [[unlikely]] {
      site_id = detail::LogSiteTable::instance().add(site, &detail::log_format_record<Ps...>);
      if (site_id == 0) {
        LogBackend::count_drop(*state_);
        return;
      }
    }
    const detail::LogThreadCache cache = detail::log_thread_cache;
    detail::LogThread* t = cache.backend_id == backend_id_ ? cache.thread : backend_->attach_thread();
    if (t == nullptr) [[unlikely]] {
      LogBackend::count_drop(*state_);
      return;
    }
    const std::size_t raw = kHeader + (std::size_t{0} + ... + detail::log_encoded_size(ps));
    const std::size_t size = LogRing::record_bytes(raw);
    std::byte* p = t->producer_ring().try_reserve(size);
    if (p == nullptr) [[unlikely]] {
      write_slow(*t, site_id, raw, ps...);
      return;
    }
    [[maybe_unused]] std::byte* q = p + kHeader;
    ((q = detail::log_encode(ps, q)), ...);
    put_header(p, size, site_id, 0);
    t->producer_ring().commit(size);
  }

  // A full ring or a line larger than a record may be: the overflow policy, maybe truncation.
  template <class... Ps>
  [[gnu::noinline]] void write_slow(detail::LogThread& t, std::uint32_t site_id, std::size_t raw,
                                    const Ps&... ps) noexcept {
    const std::size_t fixed = kHeader + (std::size_t{0} + ... + detail::log_fixed_size(ps));
    std::size_t size = LogRing::record_bytes(raw);
    std::size_t budget = std::numeric_limits<std::size_t>::max();
    std::byte* p = reserve_slow(t, raw, fixed, size, budget);
    if (p == nullptr) return;
    bool truncated = false;
    [[maybe_unused]] std::byte* q = p + kHeader;
    ((q = detail::log_encode(ps, q, budget, truncated)), ...);
    put_header(p, size, site_id, truncated ? detail::kLogRecordTruncated : 0u);
    t.producer_ring().commit(size);
  }

  // Field by field into the ring: a header built on the stack and copied whole costs a 16-byte
  // load that cannot be forwarded from the smaller stores (measured: p99 269 -> 90 ns). The
  // timestamp is read last, right before the record is published.
  void put_header(std::byte* p, std::size_t size, std::uint32_t site_id, std::uint32_t flags) const noexcept {
    const auto size32 = static_cast<std::uint32_t>(size);
    const std::uint64_t tsc = TscClock::ticks();
    std::memcpy(p + offsetof(detail::LogRecordHeader, size), &size32, sizeof size32);
    std::memcpy(p + offsetof(detail::LogRecordHeader, site), &site_id, sizeof site_id);
    std::memcpy(p + offsetof(detail::LogRecordHeader, tsc), &tsc, sizeof tsc);
    std::memcpy(p + offsetof(detail::LogRecordHeader, logger), &id_, sizeof id_);
    std::memcpy(p + offsetof(detail::LogRecordHeader, flags), &flags, sizeof flags);
  }

  // The ring had no room for `size` bytes (`raw` before rounding, `fixed` of which are not
  // string characters), or the line is larger than a record may be. Applies the overflow
  // policy; may shrink `size` and set the strings' `budget`.
  std::byte* reserve_slow(detail::LogThread& t, std::size_t raw, std::size_t fixed, std::size_t& size,
                          std::size_t& budget) noexcept {
    if (size > t.producer_ring().max_record()) {
      const std::size_t max_ring = backend_->config().max_ring_bytes;
      if (overflow_ == OverflowPolicy::Grow && size <= max_ring / 2) {
        std::size_t bytes = t.producer_ring().capacity();
        while (bytes / 2 < size) bytes *= 2;
        if (t.grow(bytes)) backend_->count_grown();
      }
      if (size > t.producer_ring().max_record()) {
        const std::size_t limit = t.producer_ring().max_record();
        if (LogRing::record_bytes(fixed) > limit) {  // fixed-size arguments alone do not fit
          LogBackend::count_drop(*state_);
          return nullptr;
        }
        budget = limit - fixed;
        size = LogRing::record_bytes(fixed + std::min(raw - fixed, budget));
        backend_->count_truncated();
      }
    }
    for (unsigned spins = 0;; ++spins) {
      if (std::byte* p = t.producer_ring().try_reserve(size)) return p;
      switch (overflow_) {
        case OverflowPolicy::Drop:
          LogBackend::count_drop(*state_);
          return nullptr;
        case OverflowPolicy::Grow:
          if (t.producer_ring().capacity() * 2 <= backend_->config().max_ring_bytes &&
              t.grow(t.producer_ring().capacity() * 2)) {
            backend_->count_grown();
            continue;
          }
          break;
        case OverflowPolicy::Block:
          break;
      }
      // The backend needs a core to make room: on a machine with fewer cores than busy
      // threads, spinning alone would hold it off for a whole time slice.
      if (spins < 64) {
        cpu_relax();
      } else {
        ::sched_yield();
      }
    }
  }

  LogBackend* backend_;
  std::uint64_t backend_id_;
  std::atomic<LogLevel> level_;
  OverflowPolicy overflow_;
  std::string name_;
  detail::LoggerState* state_ = nullptr;  // owned by the backend until remove_logger
  std::uint32_t id_ = 0;
};

}  // namespace hft

// The call: a per-site static (constant-initialised, no guard), the level test, the call.
// The logger expression is evaluated once; arguments only when the level passes. The site
// holds the format string itself, so it must be a string literal at the macro: a wrapper
// function cannot pass one through (every caller of the wrapper would share one site and
// print the first format string it saw); write a wrapper as a macro. Passing anything but a
// literal fails to compile here, as with Quill's macros.
#define HFT_LOG_FORMAT_(hft_format_, ...) ::std::string_view(hft_format_)
#define HFT_LOG_AT_(hft_level_, hft_logger_, ...)                                                   \
  do {                                                                                              \
    if constexpr (::hft::detail::log_compiled_in(static_cast<int>(hft_level_))) {                 \
      ::hft::Logger& hft_log_logger_ = (hft_logger_);                                               \
      if (hft_log_logger_.should_log(hft_level_)) {                                                 \
        static constinit ::hft::detail::LogSite hft_log_site_{hft_level_, __FILE__, __LINE__,        \
                                                               HFT_LOG_FORMAT_(__VA_ARGS__)};        \
        hft_log_logger_.log(hft_log_site_, __VA_ARGS__);                                            \
      }                                                                                             \
    }                                                                                               \
  } while (false)

/// Logs at TRACE: HFT_LOG_TRACE(logger, "format {}", args...).
#define HFT_LOG_TRACE(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Trace, logger, __VA_ARGS__)
/// Logs at DEBUG.
#define HFT_LOG_DEBUG(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Debug, logger, __VA_ARGS__)
/// Logs at INFO.
#define HFT_LOG_INFO(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Info, logger, __VA_ARGS__)
/// Logs at WARN.
#define HFT_LOG_WARN(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Warn, logger, __VA_ARGS__)
/// Logs at ERROR.
#define HFT_LOG_ERROR(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Error, logger, __VA_ARGS__)
/// Logs at CRITICAL.
#define HFT_LOG_CRITICAL(logger, ...) HFT_LOG_AT_(::hft::LogLevel::Critical, logger, __VA_ARGS__)
