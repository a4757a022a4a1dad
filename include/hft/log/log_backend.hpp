// hft/log/log_backend.hpp: LogBackend, the thread that drains every logging thread's ring,
// puts the lines in timestamp order, formats them and hands them to the sinks.
//
// What: one background thread per LogBackend. Each thread that logs through one of its
//   Loggers gets, at its first call, its own LogRing (hft/log/log_ring.hpp) of
//   LogBackendConfig::ring_bytes, registered here. The backend thread repeatedly takes the
//   record with the smallest TSC timestamp among the rings' oldest records, and emits it once
//   it is older than reorder_window: the call site's registered decoder turns the bytes back
//   into arguments, hft::detail::format_to formats the message, the logger's LogPattern lays
//   out the line, and every sink of the logger gets it. When nothing is ready it flushes the
//   sinks that were written and sleeps idle_sleep (1 ms), or until flush() wakes it, or until
//   the oldest held-back record leaves its window.
//   Call sites (file, line, level, format string, decoder) are registered once per process in
//   a call-site table, on a site's first call; a record carries only the site's 32-bit id.
// When to use: one per process (or per group of loggers that should share a thread and an
//   order), constructed before the Loggers that use it and destroyed after them. When not:
//   logging from a signal handler (a log call is not async-signal-safe: it may allocate the
//   thread's ring); a process that must never run a second thread.
// Order: lines of one thread appear in the order they were logged. Lines of different threads
//   appear in timestamp order, provided no call took longer than reorder_window between
//   reading its timestamp and publishing its record (a thread preempted in between for longer
//   may see its line appear after later ones; the line keeps its own timestamp). This relies
//   on the TSC being synchronised across cores (invariant TSC, which hft::TscClock checks).
// Flush: flush() returns once every line logged before the call (happens-before) has been
//   written to its sinks and each sink's flush() has returned; it waits at least
//   reorder_window. Destroying the backend drains every ring (the window no longer matters:
//   no thread may log then) and flushes the sinks.
// Crash handler (LogBackendConfig::crash_handler, opt-in, one backend per process): on SIGSEGV,
//   SIGABRT, SIGBUS, SIGFPE, SIGILL and SIGTERM (crash_signals) the handler, using only atomic
//   loads and stores, gettid and nanosleep, asks the backend thread to write out everything
//   already in the rings, waits for it (at most crash_drain_timeout), restores the previous
//   action and raises the signal again, so the process dies as it would have. The backend
//   thread does the formatting, outside the handler. What cannot be saved: a crash in the
//   backend thread itself, or one that leaves a lock held that the backend then needs (a
//   crash inside malloc, inside Logger construction): the handler gives up after the timeout.
//   A line whose call had not returned when the signal came may be missing.
//
// Thread-safety: flush(), stats(), config() from any thread except the backend thread (a sink
//   calling flush() would wait for itself). Construction and destruction: one thread, with
//   no Logger of this backend left.
// Progress: the backend thread is blocking (mutexes for registration, a timed wait when
//   idle); the logging side is wait-free except where its OverflowPolicy says otherwise
//   (hft/log/logger.hpp). flush() blocks.
// Memory ordering:
//   - a record: the producer's commit (release) pairs with the backend's peek (acquire);
//     the backend's release of the space (release) pairs with the producer's next reserve
//     (acquire) (hft/log/log_ring.hpp);
//   - a call site: its registration stores the site's id with release after filling its
//     format string and decoder; a logging thread's acquire load of the id pairs with it, and
//     the backend reads the table entry with acquire, pairing with the release store of the
//     entry;
//   - a grown ring: the producer's release store of `next`, after its last commit to the old
//     ring, pairs with the backend's acquire load, which then sees the old ring's final tail;
//   - a thread's exit: its release store of `retired`, after its last commit, pairs with the
//     backend's acquire load, after which an empty ring is final and is freed;
//   - the crash handler's fetch_add (acq_rel) of the request generation pairs with the
//     backend's acquire load; the backend's release store of the generation it drained, after
//     the sinks' flush, pairs with the handler's acquire load.
//   - flush(), registration and the lists of threads and loggers: mutexes.
// Complexity: per line, O(T) to find the oldest head among T thread rings, plus decoding and
//   formatting; per thread, one ring allocated at its first call (and more under
//   OverflowPolicy::Grow). The backend thread reuses its buffers: after warm-up it allocates
//   only what a sink or a codec allocates.
//
// Compared with:
//   - Quill's backend worker: the same structure (per-thread SPSC queues, decode, format,
//     timestamp-ordered across threads); Quill orders by taking, per pass, only events older
//     than the time the pass started and can bound it with a "strict" mode; ours waits a fixed
//     reorder_window (100 us by default), which is what bounds the disorder a preempted caller
//     can cause. Quill's signal handler also drains from the backend thread.
//   - fmtlog: one poll() call (from a thread of yours or its own) drains all queues without
//     ordering across threads.
//   - NanoLog: a background thread writes the compressed binary log; lines are decoded and
//     ordered offline by its decompressor.
//   - spdlog async: a worker thread takes formatted messages from one shared MPMC queue (a
//     mutex and two condition variables), so lines are in queue order, not timestamp order,
//     and every caller contends on the queue.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/thread.hpp"
#include "hft/log/log_codec.hpp"
#include "hft/log/log_pattern.hpp"
#include "hft/log/log_ring.hpp"
#include "hft/log/log_sink.hpp"

namespace hft {

/// Settings of a LogBackend (docs/style.md: a Config aggregate).
struct LogBackendConfig {
  /// Bytes of each logging thread's ring (rounded up to a power of two; a line may take up to
  /// half of it).
  std::size_t ring_bytes = std::size_t{1} << 20;
  /// OverflowPolicy::Grow doubles a full ring up to this many bytes per thread, then blocks.
  std::size_t max_ring_bytes = std::size_t{64} << 20;
  /// How long a record waits before it is emitted, so that an older record of another thread
  /// still being written can overtake it (see Order in the header comment). 0: emit at once.
  std::chrono::nanoseconds reorder_window = std::chrono::microseconds(100);
  /// How long the backend thread sleeps when no record is ready (flush() wakes it early; a
  /// record waiting out its reorder window wakes it when the window ends). Lines reach the
  /// sinks within about this long. 1 ms costs ~0.1% of a core when idle; 100 us ~10%.
  std::chrono::nanoseconds idle_sleep = std::chrono::milliseconds(1);
  /// The CPU the backend thread is pinned to; -1: not pinned.
  int cpu = -1;
  /// The backend thread's name (at most 15 bytes).
  std::string thread_name = "hft-log";
  /// Installs the crash handler (see the header comment); at most one backend at a time.
  bool crash_handler = false;
  /// The signals the crash handler catches.
  std::vector<int> crash_signals = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM};
  /// How long the crash handler waits for the backend to write what the rings hold.
  std::chrono::milliseconds crash_drain_timeout = std::chrono::milliseconds(2000);
};

/// Counters of a LogBackend (relaxed loads: statistics, not synchronisation).
struct LogBackendStats {
  std::uint64_t lines_written = 0;    ///< lines handed to the sinks (drop notices included)
  std::uint64_t lines_dropped = 0;    ///< lines refused by a full ring under OverflowPolicy::Drop, or oversize
  std::uint64_t lines_truncated = 0;  ///< lines whose strings were cut to fit the ring's record limit
  std::uint64_t corrupt_records = 0;  ///< records that did not decode (a bug or a stray write)
  std::uint64_t sink_errors = 0;      ///< exceptions thrown by a sink's write or flush (caught)
  std::uint64_t rings_created = 0;    ///< threads that logged through this backend
  std::uint64_t rings_grown = 0;      ///< rings replaced by a bigger one (OverflowPolicy::Grow)
  std::uint64_t rings_retired = 0;    ///< rings freed after their thread exited and they were drained
  std::uint64_t flushes = 0;          ///< flush() calls completed
};

namespace detail {

/// The 24 bytes in front of every record's arguments.
struct LogRecordHeader {
  std::uint32_t size = 0;    ///< the whole record, a multiple of 8 (LogRing's size word)
  std::uint32_t site = 0;    ///< the call site's id in the process's call-site table
  std::uint64_t tsc = 0;     ///< TscClock::ticks() at the call
  std::uint32_t logger = 0;  ///< the logger's id in its backend
  std::uint32_t flags = 0;   ///< kLogRecordTruncated
};
static_assert(sizeof(LogRecordHeader) == 24);
inline constexpr std::uint32_t kLogRecordTruncated = 1;

/// A call site's static data: constant-initialised by the HFT_LOG_* macro (a function-local
/// `static constinit`, the format string included), completed by its registration at the
/// first call.
struct LogSite {
  /// A site at `lv`, `file`:`ln` with format string `format`, not yet registered.
  constexpr LogSite(LogLevel lv, const char* f, std::uint32_t ln, std::string_view format) noexcept
      : level(lv), file(f), line(ln), fmt(format) {}
  LogSite(const LogSite&) = delete;
  LogSite& operator=(const LogSite&) = delete;
  LogLevel level;                     ///< the macro's level
  const char* file;                   ///< __FILE__
  std::uint32_t line;                 ///< __LINE__
  std::string_view fmt;               ///< the format string: the literal at the macro
  std::string_view file_name{};       ///< `file` as a view, its length measured once (set at registration)
  LogFormatFn format_fn = nullptr;    ///< the decoder for the site's argument types (set at registration)
  std::atomic<std::uint32_t> id{0};   ///< 0 until registered; then the table index
};

/// The process's call-site table: ids 1..kMaxSites-1, entries never removed (sites are static).
class LogSiteTable {
 public:
  static constexpr std::uint32_t kChunkSize = 1024;
  static constexpr std::uint32_t kChunks = 256;
  static constexpr std::uint32_t kMaxSites = kChunkSize * kChunks;

  /// The table (a function-local static: constructed at the first registration).
  static LogSiteTable& instance() {
    static LogSiteTable table;
    return table;
  }

  /// Registers `site` (once, whichever thread comes first) and returns its id; 0 when the
  /// table is full or out of memory (the call is then dropped and counted).
  std::uint32_t add(LogSite& site, LogFormatFn fn) noexcept {
    const std::lock_guard lock(mutex_);
    if (const std::uint32_t id = site.id.load(std::memory_order_relaxed); id != 0) return id;
    if (next_ >= kMaxSites) return 0;
    const std::uint32_t id = next_;
    auto& chunk = chunks_[id / kChunkSize];
    Chunk* c = chunk.load(std::memory_order_relaxed);
    if (c == nullptr) {
      c = new (std::nothrow) Chunk();
      if (c == nullptr) return 0;
      chunk.store(c, std::memory_order_release);  // pairs with find()'s acquire load
    }
    site.file_name = site.file != nullptr ? std::string_view(site.file) : std::string_view();
    site.format_fn = fn;
    (*c)[id % kChunkSize].store(&site, std::memory_order_release);  // pairs with find()'s acquire load
    ++next_;
    site.id.store(id, std::memory_order_release);  // pairs with the logging thread's acquire load
    return id;
  }

  /// The site with this id, or nullptr (an id never registered: a corrupt record).
  [[nodiscard]] const LogSite* find(std::uint32_t id) const noexcept {
    if (id == 0 || id >= kMaxSites) return nullptr;
    const Chunk* c = chunks_[id / kChunkSize].load(std::memory_order_acquire);  // pairs with add()
    if (c == nullptr) return nullptr;
    return (*c)[id % kChunkSize].load(std::memory_order_acquire);  // pairs with add()'s release store
  }

 private:
  using Chunk = std::array<std::atomic<LogSite*>, kChunkSize>;
  LogSiteTable() = default;
  // Chunks live as long as the process: sites are static, and a thread may log during exit.
  std::mutex mutex_;
  std::uint32_t next_ = 1;
  std::array<std::atomic<Chunk*>, kChunks> chunks_{};
};

/// A ring and the ring that replaced it when it was grown.
struct LogRingLink {
  explicit LogRingLink(std::size_t bytes) : ring(bytes) {}
  LogRing ring;                             ///< the records
  std::atomic<LogRingLink*> next{nullptr};  ///< the bigger ring the producer moved to, or nullptr
};

/// One logging thread's state in one backend, shared by the thread (until it exits) and the
/// backend (until the ring is drained after that).
class LogThread {
 public:
  /// A thread state with a ring of `bytes`, named `name`, Linux thread id `tid`.
  LogThread(std::size_t bytes, std::string name, std::uint32_t tid)
      : first_(std::make_unique<LogRingLink>(bytes)), producer_(first_.get()), name_(std::move(name)), tid_(tid) {}
  LogThread(const LogThread&) = delete;
  LogThread& operator=(const LogThread&) = delete;
  ~LogThread() {
    LogRingLink* l = first_.release();
    while (l != nullptr) {
      LogRingLink* next = l->next.load(std::memory_order_acquire);  // pairs with grow()'s release store
      delete l;
      l = next;
    }
  }

  /// Producer: the ring to write to.
  [[nodiscard]] LogRing& producer_ring() noexcept { return producer_->ring; }
  /// Producer: moves to a new ring of `bytes`; false when it cannot be allocated.
  [[nodiscard]] bool grow(std::size_t bytes) noexcept {
    LogRingLink* l = nullptr;
    try {
      l = new LogRingLink(bytes);
    } catch (...) {
      return false;
    }
    producer_->next.store(l, std::memory_order_release);  // pairs with the backend's acquire load in peek()
    producer_ = l;
    return true;
  }
  /// Backend: the oldest record, following grown rings; empty when none.
  [[nodiscard]] std::span<const std::byte> peek() noexcept {
    for (;;) {
      auto rec = first_->ring.peek();
      if (!rec.empty() || first_->ring.corrupt()) return rec;
      LogRingLink* next = first_->next.load(std::memory_order_acquire);  // pairs with grow()'s release store
      if (next == nullptr) return {};
      if (!first_->ring.empty()) continue;  // records committed before the move
      first_.reset(next);
    }
  }
  /// Backend: frees the record peek() returned.
  void release(std::size_t n) noexcept { first_->ring.release(n); }
  /// Backend: true when the current ring failed validation.
  [[nodiscard]] bool corrupt() const noexcept { return first_->ring.corrupt(); }
  /// Backend: true when nothing is left (the ring and any grown ones).
  [[nodiscard]] bool drained() noexcept { return peek().empty(); }

  /// The thread's name at its first log call.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The thread's Linux thread id.
  [[nodiscard]] std::uint32_t tid() const noexcept { return tid_; }

  /// Set by the thread's exit (release, after its last commit); read by the backend (acquire).
  std::atomic<bool> retired{false};
  /// Set when the backend is destroyed: the thread forgets this state at its next attach.
  std::atomic<bool> orphaned{false};
  /// Backend only: the timestamp of the record peek() last returned (valid while it is held).
  std::uint64_t head_tsc = 0;

 private:
  std::unique_ptr<LogRingLink> first_;  // backend side: the oldest ring still holding records
  LogRingLink* producer_;               // producer side: the ring being written
  std::string name_;
  std::uint32_t tid_;
};

/// The calling thread's cached state for the backend it logged through last. constinit and
/// trivially destructible: the hot path's check is one TLS load and a compare.
struct LogThreadCache {
  std::uint64_t backend_id = 0;  ///< 0: none
  LogThread* thread = nullptr;   ///< its state in that backend
};
inline constinit thread_local LogThreadCache log_thread_cache{};
/// Set when the thread's holder was destroyed (thread exit): later calls are dropped.
inline constinit thread_local bool log_thread_exited = false;

/// Owns the calling thread's states (one per backend); its destructor, at thread exit,
/// marks them retired so the backends drain and free them.
struct LogThreadHolder {
  LogThreadHolder() = default;
  LogThreadHolder(const LogThreadHolder&) = delete;
  LogThreadHolder& operator=(const LogThreadHolder&) = delete;
  ~LogThreadHolder() {
    for (auto& [id, t] : threads) t->retired.store(true, std::memory_order_release);  // pairs with the backend
    log_thread_cache = {};
    log_thread_exited = true;
  }
  std::vector<std::pair<std::uint64_t, std::shared_ptr<LogThread>>> threads;  ///< (backend id, state)
};
inline LogThreadHolder& log_thread_holder() {
  thread_local LogThreadHolder holder;
  return holder;
}

/// What a backend keeps of each Logger.
struct LoggerState {
  std::string name;                             ///< Logger::name()
  LogPattern pattern;                           ///< the line layout
  bool has_message = true;                      ///< pattern.has_message()
  std::vector<std::shared_ptr<LogSink>> sinks;  ///< where its lines go
  std::atomic<std::uint64_t> dropped{0};        ///< lines refused by a full ring (logging threads, relaxed)
  std::uint64_t dropped_reported = 0;           ///< backend: dropped as of the last drop notice
};

inline std::uint32_t current_tid() noexcept { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }

inline std::atomic<std::uint64_t>& log_backend_ids() {
  static std::atomic<std::uint64_t> next{1};
  return next;
}

class LogCrashState;

}  // namespace detail

/// The backend thread of the asynchronous logger (see the header comment).
class LogBackend {
 public:
  /// Starts the backend thread. Throws std::invalid_argument for a bad config field,
  /// std::logic_error when crash_handler is asked and another backend has it, std::system_error
  /// when the thread cannot start or be pinned. Blocks ~10 ms (TSC calibration).
  explicit LogBackend(const LogBackendConfig& cfg = {})
      : cfg_(cfg), id_(detail::log_backend_ids().fetch_add(1, std::memory_order_relaxed)) {
    validate(cfg_);
    window_ticks_ =
        static_cast<std::uint64_t>(static_cast<double>(cfg_.reorder_window.count()) * clock_.ticks_per_ns());
    anchor();
    if (cfg_.crash_handler) install_crash_handler();
    try {
      thread_ = std::thread([this] { run(); });
    } catch (...) {
      if (cfg_.crash_handler) uninstall_crash_handler();
      throw;
    }
    std::unique_lock lock(flush_mutex_);
    flush_cv_.wait(lock, [this] { return started_ || !start_error_.empty(); });
    if (!start_error_.empty()) {
      lock.unlock();
      thread_.join();
      if (cfg_.crash_handler) uninstall_crash_handler();
      throw std::system_error(EINVAL, std::generic_category(), "hft::LogBackend: " + start_error_);
    }
  }
  LogBackend(const LogBackend&) = delete;
  LogBackend& operator=(const LogBackend&) = delete;

  /// Drains every ring, flushes the sinks, stops the thread. A Logger of this backend still
  /// alive (a leaked or static one) must not be used afterwards: it holds the backend's address.
  ~LogBackend() {
    if (cfg_.crash_handler) uninstall_crash_handler();
    {
      const std::lock_guard lock(flush_mutex_);
      stop_ = true;
    }
    flush_cv_.notify_all();
    thread_.join();
    // The backend thread is gone: its list and the pending one are this thread's now.
    const std::lock_guard lock(threads_mutex_);
    for (auto& t : pending_) t->orphaned.store(true, std::memory_order_relaxed);
    for (auto& t : threads_) t->orphaned.store(true, std::memory_order_relaxed);
  }

  /// Returns when every line logged before the call has been written to its sinks and the
  /// sinks flushed (see Flush in the header comment). Any thread but the backend's.
  void flush() {
    const std::uint64_t t = TscClock::ticks_ordered();
    std::unique_lock lock(flush_mutex_);
    const std::uint64_t ticket = ++flush_requested_;
    if (t > flush_target_tsc_) flush_target_tsc_ = t;
    flush_cv_.notify_all();
    flush_cv_.wait(lock, [&] { return flush_done_ >= ticket || stopped_; });
  }

  /// Creates the calling thread's ring now rather than at its first log call, so that the
  /// first line of a hot path allocates nothing (and the thread's name is read now: name the
  /// thread first). Returns false when it cannot be created (out of memory). Any thread.
  bool preallocate() noexcept { return attach_thread() != nullptr; }

  /// The counters (relaxed loads).
  [[nodiscard]] LogBackendStats stats() const noexcept {
    LogBackendStats s;
    s.lines_written = lines_written_.load(std::memory_order_relaxed);
    s.lines_dropped = lines_dropped_.load(std::memory_order_relaxed);
    s.lines_truncated = lines_truncated_.load(std::memory_order_relaxed);
    s.corrupt_records = corrupt_records_.load(std::memory_order_relaxed);
    s.sink_errors = sink_errors_.load(std::memory_order_relaxed);
    s.rings_created = rings_created_.load(std::memory_order_relaxed);
    s.rings_grown = rings_grown_.load(std::memory_order_relaxed);
    s.rings_retired = rings_retired_.load(std::memory_order_relaxed);
    s.flushes = flushes_.load(std::memory_order_relaxed);
    return s;
  }
  /// The settings it was built with.
  [[nodiscard]] const LogBackendConfig& config() const noexcept { return cfg_; }
  /// A process-unique id (never reused, unlike the address).
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }

  // ---- for Logger (hft/log/logger.hpp); not for direct use --------------------------------

  /// Registers a logger's state; returns its id. Throws std::length_error past 65,535 loggers.
  std::uint32_t add_logger(std::unique_ptr<detail::LoggerState> state) {
    const std::lock_guard lock(registry_mutex_);
    for (std::size_t i = 0; i < loggers_.size(); ++i) {
      if (!loggers_[i]) {
        loggers_[i] = std::move(state);
        return static_cast<std::uint32_t>(i);
      }
    }
    if (loggers_.size() >= 65535) throw std::length_error("hft::LogBackend: more than 65535 live loggers");
    loggers_.push_back(std::move(state));
    return static_cast<std::uint32_t>(loggers_.size() - 1);
  }
  /// Flushes, then forgets logger `id` (its state and sinks are released here).
  void remove_logger(std::uint32_t id) {
    flush();
    std::unique_ptr<detail::LoggerState> gone;
    {
      const std::lock_guard lock(registry_mutex_);
      gone = std::move(loggers_.at(id));
    }
  }
  /// The calling thread's state in this backend, created at its first call; nullptr when it
  /// cannot be (out of memory, or the thread is exiting). Called by Logger's slow path.
  detail::LogThread* attach_thread() noexcept {
    if (detail::log_thread_exited) return nullptr;
    try {
      auto& holder = detail::log_thread_holder();
      auto& list = holder.threads;
      for (std::size_t i = 0; i < list.size();) {
        if (list[i].first == id_) {
          detail::log_thread_cache = {id_, list[i].second.get()};
          return list[i].second.get();
        }
        if (list[i].second->orphaned.load(std::memory_order_relaxed)) {
          list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      std::string name;
      try {
        name = current_thread_name();
      } catch (...) {
        name = "?";
      }
      auto t = std::make_shared<detail::LogThread>(cfg_.ring_bytes, std::move(name), detail::current_tid());
      list.emplace_back(id_, t);
      {
        const std::lock_guard lock(threads_mutex_);
        pending_.push_back(t);
      }
      threads_changed_.store(true, std::memory_order_release);  // pairs with the backend's acquire load
      rings_created_.fetch_add(1, std::memory_order_relaxed);
      detail::log_thread_cache = {id_, t.get()};
      return t.get();
    } catch (...) {
      return nullptr;
    }
  }
  /// Counts a line refused by logger `state` (OverflowPolicy::Drop or oversize).
  static void count_drop(detail::LoggerState& state) noexcept {
    state.dropped.fetch_add(1, std::memory_order_relaxed);
  }
  /// Counts a ring grown by a logging thread.
  void count_grown() noexcept { rings_grown_.fetch_add(1, std::memory_order_relaxed); }
  /// Counts a line truncated by a logging thread.
  void count_truncated() noexcept { lines_truncated_.fetch_add(1, std::memory_order_relaxed); }


 private:
  friend class detail::LogCrashState;

  // The UTC time in nanoseconds of TSC reading `tsc`, by the current anchor (backend thread).
  [[nodiscard]] std::int64_t utc_ns(std::uint64_t tsc) const noexcept {
    if (tsc >= anchor_tsc_) return anchor_utc_ns_ + static_cast<std::int64_t>(clock_.delta_to_ns(tsc - anchor_tsc_));
    return anchor_utc_ns_ - static_cast<std::int64_t>(clock_.delta_to_ns(anchor_tsc_ - tsc));
  }

  static void validate(const LogBackendConfig& c) {
    if (c.ring_bytes < LogRing::kMinCapacity || c.ring_bytes > LogRing::kMaxCapacity)
      throw std::invalid_argument("hft::LogBackend: ring_bytes must be in [64, 2^31], got " +
                                  std::to_string(c.ring_bytes));
    if (c.max_ring_bytes < c.ring_bytes || c.max_ring_bytes > LogRing::kMaxCapacity)
      throw std::invalid_argument("hft::LogBackend: max_ring_bytes must be in [ring_bytes, 2^31], got " +
                                  std::to_string(c.max_ring_bytes));
    if (c.reorder_window.count() < 0 || c.reorder_window > std::chrono::seconds(10))
      throw std::invalid_argument("hft::LogBackend: reorder_window must be in [0, 10 s], got " +
                                  std::to_string(c.reorder_window.count()) + " ns");
    if (c.idle_sleep.count() < 0 || c.idle_sleep > std::chrono::seconds(1))
      throw std::invalid_argument("hft::LogBackend: idle_sleep must be in [0, 1 s], got " +
                                  std::to_string(c.idle_sleep.count()) + " ns");
    if (c.thread_name.size() > 15)
      throw std::invalid_argument("hft::LogBackend: thread_name must be at most 15 bytes, got '" + c.thread_name +
                                  "'");
    if (c.crash_drain_timeout.count() < 0)
      throw std::invalid_argument("hft::LogBackend: crash_drain_timeout must be >= 0");
    for (std::size_t i = 0; i < c.crash_signals.size(); ++i) {
      const int s = c.crash_signals[i];
      if (s <= 0 || s >= NSIG || s == SIGKILL || s == SIGSTOP)
        throw std::invalid_argument("hft::LogBackend: crash_signals holds " + std::to_string(s) +
                                    ", which cannot be caught");
      // Twice would save our own handler as the "previous" action, never to be removed.
      for (std::size_t j = 0; j < i; ++j)
        if (c.crash_signals[j] == s)
          throw std::invalid_argument("hft::LogBackend: crash_signals holds " + std::to_string(s) + " twice");
    }
  }

  void anchor() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    anchor_tsc_ = TscClock::ticks();
    anchor_utc_ns_ = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }

  void run() {
    // Process-directed signals go to another thread: the crash handler cannot drain from
    // this one, and a sink's write to a closed pipe gets EPIPE here instead of SIGPIPE.
    sigset_t block;
    sigemptyset(&block);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE})
      sigaddset(&block, sig);
    if (cfg_.crash_handler)
      for (const int sig : cfg_.crash_signals)
        if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL) sigaddset(&block, sig);
    ::pthread_sigmask(SIG_BLOCK, &block, nullptr);
    try {
      if (!cfg_.thread_name.empty()) set_current_thread_name(cfg_.thread_name);
      if (cfg_.cpu >= 0) pin_current_thread(cfg_.cpu);
    } catch (const std::exception& e) {
      const std::lock_guard lock(flush_mutex_);
      start_error_ = e.what();
      flush_cv_.notify_all();
      return;
    }
    backend_tid_.store(detail::current_tid(), std::memory_order_relaxed);
    {
      const std::lock_guard lock(flush_mutex_);
      started_ = true;
    }
    flush_cv_.notify_all();
    std::uint64_t last_anchor = TscClock::ticks();
    const auto anchor_every = static_cast<std::uint64_t>(1e9 * clock_.ticks_per_ns());
    std::uint64_t crash_seen = 0;  // the crash generation crash_tsc belongs to
    std::uint64_t crash_tsc = 0;   // when the backend first saw that crash request
    for (;;) {
      // The requests first, the rings second: a thread that attached its ring and then asked
      // for a flush (or crashed) has its ring adopted in this same pass.
      const std::uint64_t crash = crash_request_.load(std::memory_order_acquire);  // pairs with the handler
      std::uint64_t requested = 0;
      std::uint64_t target = 0;
      bool stopping = false;
      {
        const std::lock_guard lock(flush_mutex_);
        requested = flush_requested_;
        target = flush_target_tsc_;
        stopping = stop_;
      }
      adopt_threads();
      const std::uint64_t now = TscClock::ticks();
      if (now - last_anchor > anchor_every) {
        anchor();
        last_anchor = now;
      }
      const bool crashing = crash > crash_done_local_;
      if (crashing && crash != crash_seen) {
        crash_seen = crash;
        crash_tsc = now;
      }
      const bool force = stopping || crashing;
      const Pass pass = drain(now, force);
      retire_threads();
      // Records leave oldest first: a pass stopped by its limit has written everything older
      // than the record it stopped at, so a flush or a crash drain whose target is older is done.
      if (requested > flush_done_local_ && (force || now >= target + window_ticks_) &&
          (!pass.limited || pass.next_tsc > target)) {
        flush_sinks();
        flushes_.fetch_add(requested - flush_done_local_, std::memory_order_relaxed);
        flush_done_local_ = requested;
        {
          const std::lock_guard lock(flush_mutex_);
          flush_done_ = requested;
        }
        flush_cv_.notify_all();
      }
      if (crashing && (!pass.limited || pass.next_tsc > crash_tsc)) {
        flush_sinks();
        crash_done_local_ = crash;
        crash_done_.store(crash, std::memory_order_release);  // pairs with the handler's acquire load
      }
      if (stopping && !pass.limited) {
        adopt_threads();
        if (all_drained()) break;
        continue;
      }
      if (pass.emitted == 0) {
        if (dirty_) flush_sinks();
        std::unique_lock lock(flush_mutex_);
        if (flush_requested_ == requested && !stop_)
          flush_cv_.wait_for(lock, requested > flush_done_local_ ? kFlushPoll : sleep_for(pass, now));
      }
    }
    flush_sinks();
    {
      const std::lock_guard lock(flush_mutex_);
      stopped_ = true;
      flush_done_ = flush_requested_;
    }
    flush_cv_.notify_all();
  }

  // While a flush waits for its reorder window to pass: a short sleep, not idle_sleep.
  static constexpr std::chrono::nanoseconds kFlushPoll = std::chrono::microseconds(20);

  struct Pass {
    std::uint64_t waiting_tsc = 0;  // a record held back by the window: its timestamp
    std::size_t emitted = 0;
    bool limited = false;      // stopped at the per-pass limit: more may be ready
    std::uint64_t next_tsc = 0;  // when limited: the timestamp of the record it stopped at
  };

  // idle_sleep, or less when a record held back by the window becomes ready sooner.
  [[nodiscard]] std::chrono::nanoseconds sleep_for(const Pass& pass, std::uint64_t now) const noexcept {
    if (pass.waiting_tsc == 0) return cfg_.idle_sleep;
    const std::uint64_t ready = pass.waiting_tsc + window_ticks_;
    const auto ns = static_cast<std::int64_t>(ready > now ? clock_.delta_to_ns(ready - now) : 0);
    return std::min(cfg_.idle_sleep, std::chrono::nanoseconds(ns));
  }

  // Emits, oldest first, every record older than now - window (all of them when forced), at
  // most kPassLimit, then the drop notices. Holds registry_mutex_ so loggers cannot go away.
  Pass drain(std::uint64_t now, bool force) {
    constexpr std::size_t kPassLimit = 4096;
    Pass pass;
    const std::lock_guard lock(registry_mutex_);
    const std::uint64_t horizon = now > window_ticks_ ? now - window_ticks_ : 0;
    for (;;) {
      detail::LogThread* best = nullptr;
      std::span<const std::byte> best_rec;
      for (auto& t : threads_) {
        const auto rec = t->peek();
        if (rec.empty()) {
          if (t->corrupt()) report_corrupt_ring(*t);
          continue;
        }
        std::uint64_t tsc = 0;
        if (rec.size() >= sizeof(detail::LogRecordHeader))
          std::memcpy(&tsc, rec.data() + offsetof(detail::LogRecordHeader, tsc), sizeof tsc);
        t->head_tsc = tsc;
        if (best == nullptr || tsc < best->head_tsc) {
          best = t.get();
          best_rec = rec;
        }
      }
      if (best == nullptr) break;
      if (!force && best->head_tsc > horizon) {
        pass.waiting_tsc = best->head_tsc;  // the oldest record, still inside its window
        break;
      }
      if (pass.emitted == kPassLimit) {
        pass.limited = true;
        pass.next_tsc = best->head_tsc;  // everything older has been written
        break;
      }
      emit(*best, best_rec);
      best->release(best_rec.size());
      ++pass.emitted;
    }
    report_drops();
    if (pass_lines_ != 0) {  // one atomic add per pass, not per line
      lines_written_.fetch_add(pass_lines_, std::memory_order_relaxed);
      pass_lines_ = 0;
    }
    return pass;
  }

  void emit(detail::LogThread& t, std::span<const std::byte> rec) {
    detail::LogRecordHeader h;
    if (rec.size() < sizeof h) {
      corrupt_records_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::memcpy(&h, rec.data(), sizeof h);
    const detail::LogSite* site = detail::LogSiteTable::instance().find(h.site);
    detail::LoggerState* lg = h.logger < loggers_.size() ? loggers_[h.logger].get() : nullptr;
    if (site == nullptr || lg == nullptr || site->format_fn == nullptr) {
      corrupt_records_.fetch_add(1, std::memory_order_relaxed);
      if (!warned_corrupt_) {
        warned_corrupt_ = true;
        std::fprintf(stderr, "hft::LogBackend: a record names an unknown call site (%u) or logger (%u); dropped\n",
                     h.site, h.logger);
      }
      return;
    }
    LogRecordView v;
    v.time_ns = utc_ns(h.tsc);
    v.level = site->level;
    v.logger = lg->name;
    v.thread = t.name();
    v.tid = t.tid();
    v.file = site->file_name;
    v.line = site->line;
    const auto payload = rec.subspan(sizeof h);
    bool ok = false;
    // The message is formatted straight into the line where the pattern puts it (no copy).
    auto write_message = [&](std::string& out) {
      try {
        ok = site->format_fn(payload, site->fmt, out);
      } catch (const std::exception& e) {
        out += " [format error: ";
        out += e.what();
        out += ']';
      } catch (...) {
        out += " [format error]";
      }
      if ((h.flags & detail::kLogRecordTruncated) != 0) out += " [truncated]";
    };
    line_.clear();
    if (lg->has_message) {
      const auto [offset, size] = lg->pattern.format_with(v, line_, write_message);
      v.message = std::string_view(line_).substr(offset, size);
    } else {
      message_.clear();
      write_message(message_);
      v.message = message_;
      lg->pattern.format(v, line_);
    }
    if (!ok) corrupt_records_.fetch_add(1, std::memory_order_relaxed);
    v.text = line_;
    write_sinks(*lg, v);
  }

  void write_line(detail::LoggerState& lg, LogRecordView& v) {
    line_.clear();
    lg.pattern.format(v, line_);
    v.text = line_;
    write_sinks(lg, v);
  }

  void write_sinks(detail::LoggerState& lg, const LogRecordView& v) {
    for (auto& s : lg.sinks) {
      try {
        s->write(v);
        dirty_ = true;
      } catch (...) {
        sink_errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    ++pass_lines_;
  }

  void report_drops() {
    for (auto& lg : loggers_) {
      if (!lg) continue;
      const std::uint64_t d = lg->dropped.load(std::memory_order_relaxed);
      if (d == lg->dropped_reported) continue;
      const std::uint64_t n = d - lg->dropped_reported;
      lg->dropped_reported = d;
      lines_dropped_.fetch_add(n, std::memory_order_relaxed);
      message_.clear();
      message_ += "hft::Logger: ";
      message_ += std::to_string(n);
      message_ += " lines dropped (ring full under OverflowPolicy::Drop, or larger than a ring can hold); ";
      message_ += std::to_string(d);
      message_ += " in total";
      LogRecordView v;
      v.time_ns = utc_ns(TscClock::ticks());
      v.level = LogLevel::Warn;
      v.logger = lg->name;
      v.thread = cfg_.thread_name;
      v.tid = backend_tid_.load(std::memory_order_relaxed);
      v.file = "hft/log/log_backend.hpp";
      v.line = 0;
      v.message = message_;
      write_line(*lg, v);
    }
  }

  void report_corrupt_ring(detail::LogThread& t) {
    if (t.head_tsc == ~std::uint64_t{0}) return;  // reported already
    t.head_tsc = ~std::uint64_t{0};
    corrupt_records_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "hft::LogBackend: the ring of thread %u (%s) is corrupt; its later lines are lost\n", t.tid(),
                 t.name().c_str());
  }

  void flush_sinks() {
    const std::lock_guard lock(registry_mutex_);
    for (auto& lg : loggers_) {
      if (!lg) continue;
      for (auto& s : lg->sinks) {
        try {
          s->flush();
        } catch (...) {
          sink_errors_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    dirty_ = false;
  }

  void adopt_threads() {
    if (!threads_changed_.load(std::memory_order_acquire)) return;  // pairs with attach_thread()'s release store
    const std::lock_guard lock(threads_mutex_);
    threads_changed_.store(false, std::memory_order_relaxed);
    for (auto& t : pending_) threads_.push_back(t);
    pending_.clear();
  }

  void retire_threads() {
    for (std::size_t i = 0; i < threads_.size();) {
      auto& t = threads_[i];
      // The acquire load pairs with the thread's release store at exit: after it, the ring's
      // final records are visible, so an empty ring stays empty.
      if (t->retired.load(std::memory_order_acquire) && (t->drained() || t->corrupt())) {
        threads_[i] = std::move(threads_.back());
        threads_.pop_back();
        rings_retired_.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++i;
      }
    }
  }

  bool all_drained() {
    for (auto& t : threads_)
      if (!t->drained() && !t->corrupt()) return false;
    return true;
  }

  void install_crash_handler();
  void uninstall_crash_handler() noexcept;

  // Called by the crash handler (async-signal-safe: atomics, syscall, nanosleep).
  void drain_for_crash() noexcept {
    if (detail::current_tid() == backend_tid_.load(std::memory_order_relaxed)) return;
    // A generation per request: a process that survives a caught signal (SIGTERM ignored or
    // handled) gets its next crash drained too.
    const std::uint64_t gen = crash_request_.fetch_add(1, std::memory_order_acq_rel) + 1;  // pairs with run()
    const auto limit = cfg_.crash_drain_timeout.count();
    for (std::int64_t waited = 0; waited <= limit; ++waited) {
      if (crash_done_.load(std::memory_order_acquire) >= gen) return;  // pairs with run()'s release store
      timespec ms{0, 1'000'000};
      ::nanosleep(&ms, nullptr);
    }
  }

  LogBackendConfig cfg_;
  std::uint64_t id_;
  TscClock clock_{};
  std::uint64_t window_ticks_ = 0;
  std::uint64_t anchor_tsc_ = 0;       // backend thread (and the constructor) only
  std::int64_t anchor_utc_ns_ = 0;

  // Loggers: registry_mutex_ guards loggers_ (the backend holds it for a whole pass).
  std::mutex registry_mutex_;
  std::vector<std::unique_ptr<detail::LoggerState>> loggers_;

  // Threads: attach_thread() appends to pending_; the backend moves them into threads_.
  std::mutex threads_mutex_;
  std::vector<std::shared_ptr<detail::LogThread>> pending_;  // all threads, for orphaning at destruction
  std::atomic<bool> threads_changed_{false};
  std::vector<std::shared_ptr<detail::LogThread>> threads_;  // backend thread only

  // flush() and stop: flush_mutex_ guards these and flush_cv_ signals both ways.
  std::mutex flush_mutex_;
  std::condition_variable flush_cv_;
  std::uint64_t flush_requested_ = 0;
  std::uint64_t flush_done_ = 0;
  std::uint64_t flush_target_tsc_ = 0;
  bool stop_ = false;
  bool stopped_ = false;
  bool started_ = false;
  std::string start_error_;
  std::uint64_t flush_done_local_ = 0;  // backend thread only

  std::atomic<std::uint64_t> crash_request_{0};  // crash requests made (the handler)
  std::atomic<std::uint64_t> crash_done_{0};     // crash requests drained (the backend)
  std::uint64_t crash_done_local_ = 0;           // backend thread only
  std::atomic<std::uint32_t> backend_tid_{0};

  // Backend thread only: reused buffers and state.
  std::string message_;
  std::string line_;
  std::uint64_t pass_lines_ = 0;
  bool dirty_ = false;
  bool warned_corrupt_ = false;

  std::atomic<std::uint64_t> lines_written_{0};
  std::atomic<std::uint64_t> lines_dropped_{0};
  std::atomic<std::uint64_t> lines_truncated_{0};
  std::atomic<std::uint64_t> corrupt_records_{0};
  std::atomic<std::uint64_t> sink_errors_{0};
  std::atomic<std::uint64_t> rings_created_{0};
  std::atomic<std::uint64_t> rings_grown_{0};
  std::atomic<std::uint64_t> rings_retired_{0};
  std::atomic<std::uint64_t> flushes_{0};

  std::thread thread_;
};

namespace detail {

/// The process's crash-handler state: the backend that drains, and the actions it replaced.
class LogCrashState {
 public:
  static LogCrashState& instance() noexcept {
    static LogCrashState s;
    return s;
  }
  static void handler(int sig, siginfo_t*, void*) noexcept {
    LogCrashState& st = instance();
    if (LogBackend* b = st.backend.load(std::memory_order_acquire); b != nullptr)  // pairs with install
      b->drain_for_crash();
    if (sig > 0 && sig < NSIG) ::sigaction(sig, &st.previous[static_cast<std::size_t>(sig)], nullptr);
    // Pending until the handler returns, then delivered with the restored action (a fault
    // re-executes its instruction and faults again: either way the process ends as it would have).
    (void)::raise(sig);  // nothing to do if it fails: returning re-executes a fault anyway
  }
  std::atomic<LogBackend*> backend{nullptr};
  std::array<struct sigaction, NSIG> previous{};
};

}  // namespace detail

inline void LogBackend::install_crash_handler() {
  auto& st = detail::LogCrashState::instance();
  LogBackend* expected = nullptr;
  if (!st.backend.compare_exchange_strong(expected, this, std::memory_order_acq_rel))  // pairs with handler()
    throw std::logic_error("hft::LogBackend: crash_handler: another LogBackend has the crash handler installed");
  for (const int sig : cfg_.crash_signals) {
    struct sigaction sa {};
    sa.sa_sigaction = &detail::LogCrashState::handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, &st.previous[static_cast<std::size_t>(sig)]);
  }
}

inline void LogBackend::uninstall_crash_handler() noexcept {
  auto& st = detail::LogCrashState::instance();
  for (const int sig : cfg_.crash_signals) ::sigaction(sig, &st.previous[static_cast<std::size_t>(sig)], nullptr);
  st.backend.store(nullptr, std::memory_order_release);  // pairs with handler()'s acquire load
}

}  // namespace hft
