// mini_oms/server.hpp: the mini-OMS server: wiring, start, stop and report.
//
//   clients --TCP--> Gateway (transport.hpp; an I/O thread each, epoll); the listener's
//     codec (line_protocol.hpp, fix_protocol.hpp) decodes each request into an Order;
//     family key, partition = hash & (N-1)
//     --> Partition (partition.hpp): number the request in its family, submit it to the
//         partition's FamilyScheduler. Ring dispatch: through a multi-producer ring to a
//         dispatcher thread per partition (a full ring is REJ:BUSY at once). Inline
//         dispatch (one I/O thread): the I/O thread submits itself (BUSY when the
//         scheduler is full).
//     --> Venue (venue.hpp): risk -> execute -> Execution, on a worker (hft::WorkerPool)
//         or, for an idle family while tasks are short, inline on the submitting thread
//     --> back to the connection's Gateway (MpscQueue + eventfd, or at once when the task
//         ran on that gateway's thread), whose codec encodes the Execution; one send() per
//         connection per loop iteration.
//
// Where each guarantee lives: per-family FIFO and one-in-flight: FamilyScheduler (one per
// partition; a family always maps to one partition), whichever thread runs a slice.
// Fairness: its slice (a slice re-queued after running inline goes to the pool). Back-
// pressure: the ring or the scheduler's capacity (BUSY), the per-family limit (FAMILY_FULL).
// Memory: every queue, table and buffer is sized at start; the family-number table evicts
// the least recently active idle family when full. docs/mini_oms.md has the stage -> file
// -> function table and what each mode costs.
#pragma once

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fix_protocol.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/thread.hpp"
#include "hft/journal/journal_reader.hpp"
#include "hft/metrics/counters.hpp"
#include "hft/metrics/histogram_log.hpp"
#include "hft/sched/worker_pool.hpp"
#include "journaling.hpp"
#include "line_protocol.hpp"
#include "logging.hpp"
#include "metrics_endpoint.hpp"
#include "net.hpp"
#include "partition.hpp"
#include "records.hpp"
#include "transport.hpp"
#include "venue.hpp"

namespace mini_oms {

class Server {
 public:
  using Sched = hft::FamilyScheduler<Task>;

  explicit Server(ServerConfig cfg);
  // The pool's threads start in the constructor and register with thread_clocks_, a
  // member destroyed before pool_: join them first, started or not.
  ~Server() {
    try {
      stop();
    } catch (const std::exception& e) {
      // Threads that did not stop still use our members: continuing would be use-after-free.
      HFT_LOG_CRITICAL(log_->main(), "stopping the server failed: {}", e.what());
      log_->flush_before_abort();
      std::abort();
    }
    pool_->stop();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Opens the ports and starts the threads. With a FIX port, first the OrderID base of
  /// this start (fix_id_base: with --journal a boot epoch made durable before the port
  /// opens); when it cannot be had, throws and starts nothing.
  void start();
  /// Graceful: stop accepting, answer every admitted request, flush, join. Idempotent.
  void stop();
  /// Begins shutdown (sets the flag only; safe from any thread).
  // Release here and in stop() pairs with the gateways' acquire loads.
  void request_shutdown() noexcept { shutdown_.store(true, std::memory_order_release); }
  [[nodiscard]] bool shutdown_requested() const noexcept {
    return shutdown_.load(std::memory_order_acquire);
  }  // pairs with the stores above
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// The metrics port (--metrics-port), 0 when there is none.
  [[nodiscard]] std::uint16_t metrics_port() const noexcept { return metrics_ ? metrics_->port() : 0; }
  /// The FIX port (--fix-port), 0 when there is none.
  [[nodiscard]] std::uint16_t fix_port() const noexcept { return fix_port_; }
  /// Every FIX peer's session state (the gateways look it up at Logon).
  [[nodiscard]] FixRegistry& fix_registry() noexcept { return *fix_registry_; }
  [[nodiscard]] const ServerConfig& config() const noexcept { return cfg_; }
  /// Where every thread of the server logs (logging.hpp: which logger on which thread).
  [[nodiscard]] ServerLog& log() const noexcept { return *log_; }
  [[nodiscard]] bool inline_dispatch() const noexcept { return inline_dispatch_; }
  /// One line: rates over the interval since the previous call, the interval's latency
  /// percentiles, totals, per-partition pending. The stats thread's (one caller at a time).
  std::string stats_line();
  /// Multi-line: counters per partition and the stage latency percentiles. After stop().
  std::string report();
  /// The Prometheus text exposition of every counter, gauge and stage histogram (the
  /// metrics endpoint's render; any one thread at a time with the stats thread).
  void write_metrics(std::string& out);
  [[nodiscard]] StageLatency& stage(Stage s) noexcept {
    return s == Stage::Admit ? admit_lat_ : s == Stage::Write ? write_lat_ : fix_report_lat_;
  }
  /// A partition counter summed over the partitions.
  [[nodiscard]] std::uint64_t counter(Count c) const;
  /// A gateway counter (all I/O threads).
  [[nodiscard]] std::uint64_t gateway_counter(GwCount c) const {
    std::uint64_t n = 0;
    for (const auto& g : gateway_) n += get(g, c);
    return n;
  }
  /// A gateway counter of one port (0: the line protocol's, 1: FIX's; kPortNames).
  [[nodiscard]] std::uint64_t gateway_counter(GwCount c, std::size_t port) const { return get(gateway_.at(port), c); }
  /// One partition's counter.
  [[nodiscard]] std::uint64_t partition_counter(unsigned p, Count c) const { return get(parts_.at(p)->counters(), c); }
  /// CPU time (user + system) the server's own threads have used so far, in ns. Read while
  /// the server runs (a thread's clock goes with it).
  [[nodiscard]] std::uint64_t cpu_ns() const;
  [[nodiscard]] std::size_t threads() const;

  // ---- what the stages call (transport.hpp, partition.hpp) ------------------------------
  [[nodiscard]] const hft::TscClock& clock() const noexcept { return clock_; }
  /// The gateways' counters of one port (the codec index of the listener: kPortNames).
  [[nodiscard]] hft::CounterGroup& gateway_counters(std::size_t port) noexcept { return gateway_[port]; }
  /// Gateways: takes one of max_connections; false at the limit. Relaxed: a count, not a
  /// hand-off (each connection is owned by the gateway that accepted it).
  [[nodiscard]] bool try_open_connection() noexcept {
    std::size_t n = open_connections_.load(std::memory_order_relaxed);
    do {
      if (n >= cfg_.max_connections) return false;
    } while (!open_connections_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
  }
  void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] std::size_t open_connections() const noexcept {
    return open_connections_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool io_stopping() const noexcept {
    return stopping_io_.load(std::memory_order_acquire);
  }  // pairs with stop()
  [[nodiscard]] bool dispatch_stopping() const noexcept {
    return stop_dispatch_.load(std::memory_order_acquire);
  }  // pairs with stop()
  void thread_started();
  /// A gateway's thread: routes one request. None when admitted; else the reject to answer.
  Reason admit(ConnRef conn, FamilyKey fk, const Order& order, std::uint64_t t_recv);
  /// A dispatcher thread: answers an admission reject through the connection's gateway.
  void reject(const Routed& in, Reason why, hft::CounterGroup& counters);
  /// The scheduler's executor: inline on the submitting thread, or the pool (see execute_inline()).
  void execute(Sched::Job j) noexcept;
  /// The scheduler's handler: the Venue's stages, then the reply.
  void run_task(Partition<Server>& p, Task& t);
  /// The submitting thread: whether a task may run here and now rather than on a worker.
  [[nodiscard]] bool may_run_inline() const noexcept;
  /// The submitting thread: runs a task that needs no scheduling (an uncorrelated one) here.
  void run_inline(Partition<Server>& p, Task& t);
  /// A dispatching thread (--journal): answers a re-sent request with the reply it got.
  void answer_duplicate(const Routed& in, const DedupWindow::Entry& e);
  /// --journal: the writer, or nullptr without one. Gateways hold each reply until
  /// durable_sequence() reaches its record.
  [[nodiscard]] OmsJournal* journal() noexcept { return journal_.get(); }

  /// What opening the journal found and replayed (--journal).
  struct ReplayStats {
    std::uint64_t records = 0, executions = 0, mismatches = 0;
    hft::JournalRecovery recovery;
  };
  [[nodiscard]] const ReplayStats& replayed() const noexcept { return replayed_; }
  /// Every book's state, hashed (Venue::book_digest): a replay of the journal from scratch
  /// must give the same value as the server that wrote it.
  [[nodiscard]] std::uint64_t book_digest() { return venue_->book_digest(); }

 private:
  void stats_main();
  void open_journal();
  void collect_stages();  // under stats_mutex_: every stage's latest interval, added to its total
  static unsigned& inline_depth() noexcept {
    static thread_local unsigned d = 0;
    return d;
  }

  ServerConfig cfg_;
  // Before every member that logs or runs a thread that does, so destroyed after them.
  std::unique_ptr<ServerLog> own_log_;  // when cfg_.log is null (tests)
  ServerLog* log_ = nullptr;            // cfg_.log or own_log_: never null
  hft::TscClock clock_{std::chrono::milliseconds(20)};
  bool inline_dispatch_ = false;
  std::uint16_t port_ = 0, fix_port_ = 0;
  int listen_fd_ = -1, fix_listen_fd_ = -1;
  std::unique_ptr<FixRegistry> fix_registry_;
  std::array<hft::CounterGroup, kPorts> gateway_{make_gateway_counters(), make_gateway_counters()};
  std::atomic<std::size_t> open_connections_{0};  // across all gateways, <= cfg_.max_connections
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> stopping_io_{false};
  std::atomic<bool> stop_dispatch_{false};
  bool started_ = false, stopped_ = false;
  std::unique_ptr<Venue> venue_;
  std::unique_ptr<OmsJournal> journal_;  // --journal only
  ReplayStats replayed_;
  std::unique_ptr<hft::WorkerPool<Sched::Job>> pool_;
  // The transport with its two codecs: listener 0 speaks the line protocol, listener 1 FIX.
  using Gw = Gateway<Server, LineCodec, FixCodec>;
  std::vector<std::unique_ptr<Gw>> gateways_;
  std::vector<std::unique_ptr<Partition<Server>>> parts_;
  std::thread stats_thread_;
  std::unique_ptr<MetricsEndpoint> metrics_;  // --metrics-port; stopped first in stop()
  // Stage latencies (StageLatency), collected under stats_mutex_ by the stats thread, the
  // metrics endpoint and report(); execute_total_ is the Venue's, merged the same way.
  std::mutex stats_mutex_;
  StageLatency admit_lat_{cfg_.io_threads}, write_lat_{cfg_.io_threads}, fix_report_lat_{cfg_.io_threads};
  hft::LatencyHistogram execute_last_ = stage_histogram(), execute_total_ = stage_histogram();
  struct Totals {  // the stats line's previous totals, for its rates
    std::uint64_t requests = 0, completed = 0;
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
  } stats_prev_;
  // --hlog: written by the stats thread while it runs, then by stop() (the last interval).
  std::optional<hft::HistogramLogWriter> hlog_;
  std::chrono::steady_clock::time_point hlog_start_, hlog_last_;
  void write_hlog_interval();
  // ExecuteMode::Auto: a running estimate of a task's cost (sampled, relaxed: a heuristic).
  std::atomic<std::uint32_t> mean_task_ns_{0};
  mutable std::mutex threads_mutex_;
  std::vector<clockid_t> thread_clocks_;  // every server thread's CPU clock
};

// ---- wiring ----------------------------------------------------------------------------
inline Server::Server(ServerConfig cfg)
    : cfg_(std::move(cfg)),
      own_log_(cfg_.log != nullptr ? nullptr : std::make_unique<ServerLog>()),
      log_(cfg_.log != nullptr ? cfg_.log : own_log_.get()) {
  if (cfg_.partitions == 0 || !hft::is_power_of_two(cfg_.partitions)) {
    throw std::invalid_argument("--partitions must be a power of two");
  }
  if (cfg_.io_threads == 0 || cfg_.workers == 0) throw std::invalid_argument("--io-threads and --workers must be >= 1");
  if (cfg_.family_table == 0) throw std::invalid_argument("--family-table must be >= 1");
  if (cfg_.dispatch == DispatchMode::Inline && cfg_.io_threads != 1) {
    throw std::invalid_argument("--dispatch inline needs --io-threads 1 (a scheduler has one submitting thread)");
  }
  if (cfg_.fix_comp_id.empty()) throw std::invalid_argument("--fix-comp-id must not be empty");
  // --cpus pins every server thread (I/O, dispatchers, workers), spinning or not; a CPU this
  // process may not run on refuses the start here rather than leave a thread unpinned.
  if (!cfg_.cpus.empty()) {
    const std::vector<int> ok = hft::available_cpus();
    for (const int c : cfg_.cpus) {
      if (std::find(ok.begin(), ok.end(), c) == ok.end()) {
        std::string msg = "--cpus: CPU ";
        msg += std::to_string(c);
        msg += " is not one this process may run on (it may use ";
        msg += hft::detail::cpu_list_text(ok);
        msg += ")";
        throw std::invalid_argument(msg);
      }
    }
  }
  fix_registry_ = std::make_unique<FixRegistry>(FixRegistry::Limits{.max_sessions = cfg_.fix_max_sessions,
                                                                    .journal_dir = cfg_.journal_dir,
                                                                    .durability = cfg_.durability,
                                                                    .journal_segment = cfg_.fix_journal_segment},
                                                *log_);
  inline_dispatch_ =
      cfg_.dispatch == DispatchMode::Inline || (cfg_.dispatch == DispatchMode::Auto && cfg_.io_threads == 1);
  const std::size_t executing = cfg_.workers + cfg_.io_threads + cfg_.partitions;
  venue_ = std::make_unique<Venue>(cfg_, executing, clock_);

  hft::WorkerPoolConfig pc;
  pc.threads = cfg_.workers;
  pc.queue_capacity = hft::round_up_pow2<std::size_t>(cfg_.partitions * cfg_.ring_size * 4 + 64);
  pc.name = "oms-worker";
  pc.on_start = [this] { thread_started(); };
  // Spinning only pays while every busy thread has a core: with more server threads than
  // cores a spinning worker takes the core the I/O thread needs (measured: open-loop p99
  // at milliseconds), so idle workers then sleep at once.
  const std::size_t busy = cfg_.io_threads + (inline_dispatch_ ? 0 : cfg_.partitions) + cfg_.workers;
  pc.cpus = cfg_.cpus;
  if (cfg_.busy_spin) {
    pc.spin_iterations = 1u << 30;
    pc.max_spinners = cfg_.workers;
  } else if (busy >= std::max(1u, std::thread::hardware_concurrency())) {
    pc.spin_iterations = 0;
  }
  pool_ = std::make_unique<hft::WorkerPool<Sched::Job>>(pc);
  const std::size_t reply_cap = hft::round_up_pow2<std::size_t>(cfg_.partitions * cfg_.ring_size * 4 + 64);
  for (unsigned i = 0; i < cfg_.io_threads; ++i) gateways_.push_back(std::make_unique<Gw>(*this, i, reply_cap));
  for (unsigned p = 0; p < cfg_.partitions; ++p)
    parts_.push_back(std::make_unique<Partition<Server>>(*this, p, !inline_dispatch_));
  if (!cfg_.journal_dir.empty()) {
    try {
      open_journal();
    } catch (...) {
      pool_->stop();  // no destructor runs for a constructor that throws: join before unwinding
      throw;
    }
  }
}

inline void Server::start() {
  if (started_) return;
  if (cfg_.fix_port >= 0) {
    const std::string base = fix_id_base(cfg_.journal_dir);
    for (auto& g : gateways_) g->template codec<1>().set_id_base(base);
  }
  started_ = true;
  const net::Listener l = net::listen_tcp(cfg_.host, cfg_.port, true);
  listen_fd_ = l.fd;
  port_ = l.port;
  if (cfg_.fix_port >= 0) {
    const net::Listener f = net::listen_tcp(cfg_.host, static_cast<std::uint16_t>(cfg_.fix_port), true);
    fix_listen_fd_ = f.fd;
    fix_port_ = f.port;
  }
  if (cfg_.metrics_port >=
      0) {  // bound before any stage starts; its own thread: a scrape never runs on a stage's thread
    metrics_ = std::make_unique<MetricsEndpoint>(cfg_.host, static_cast<std::uint16_t>(cfg_.metrics_port),
                                                 [this](std::string& out) { write_metrics(out); });
    metrics_->start();
    HFT_LOG_INFO(log_->main(), "metrics on {} (GET /metrics, Prometheus text format)",
                 net::host_port(cfg_.host, metrics_->port()));
  }
  const int listeners[] = {listen_fd_, fix_listen_fd_};
  for (auto& g : gateways_) g->open(listeners);
  if (!inline_dispatch_) {
    for (auto& p : parts_) p->start_thread();
  }
  for (auto& g : gateways_) g->start_thread();
  if (cfg_.hlog != nullptr) {
    hlog_.emplace(*cfg_.hlog);
    hlog_->write_comment("[mini_oms serve: dispatch -> reply built latency, ns; one interval per stats interval]");
    hlog_->write_header(static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count()) /
                        1e3);
    hlog_start_ = hlog_last_ = std::chrono::steady_clock::now();
  }
  if (cfg_.stats_interval_ms > 0) stats_thread_ = std::thread([this] { stats_main(); });
}

inline void Server::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  if (metrics_) metrics_->stop();
  // Gateways answer new lines SHUTDOWN; pairs with their acquire loads.
  shutdown_.store(true, std::memory_order_release);
  // 1. Every admitted request completes: rings drained, every accepted task completed.
  // A gateway may be admitting one last line it read before the flag; the loop re-reads
  // the counts until they stay equal for a while (the gateways sleep at most 50 ms).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int stable = 0;
  while (stable < 3 && std::chrono::steady_clock::now() < deadline) {
    bool done = true;
    for (auto& p : parts_) {
      const auto st = p->scheduler().stats();
      done &= p->ring_drained() && p->scheduler().completed() >= st.dispatched + st.enqueued_busy;
    }
    stable = done ? stable + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(done ? 20 : 1));
  }
  // The replies the gateways hold for durability can leave once this returns.
  if (journal_) journal_->flush();
  // 2. Gateways flush every reply, then close.
  stopping_io_.store(true, std::memory_order_release);  // pairs with io_stopping()'s acquire
  for (auto& g : gateways_) g->stop_thread();
  stop_dispatch_.store(true, std::memory_order_release);  // pairs with dispatch_stopping()'s acquire
  for (auto& p : parts_) p->stop_thread();
  pool_->stop();
  if (stats_thread_.joinable()) stats_thread_.join();
  write_hlog_interval();  // the rest of the last interval
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (fix_listen_fd_ >= 0) ::close(fix_listen_fd_);
}

inline void Server::thread_started() {
  if (cfg_.on_thread_start) cfg_.on_thread_start();
  clockid_t id;
  if (::pthread_getcpuclockid(::pthread_self(), &id) == 0) {
    std::lock_guard lock(threads_mutex_);
    thread_clocks_.push_back(id);
  }
}

}  // namespace mini_oms

#include "server_stages.hpp"  // NOLINT(misc-header-include-cycle): what Server does between the stages
#include "server_stats.hpp"   // NOLINT(misc-header-include-cycle): the observability half of Server
