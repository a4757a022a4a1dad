// mini_oms/server.hpp: the mini-OMS server.
//
//   clients --TCP--> I/O threads (epoll; each connection owned by one)
//     frame lines, extract req_id + correlation id, family key, partition = hash & (N-1)
//     --try_next--> partition ring (hft::disruptor::RingBuffer, multi-producer)
//        full: "REJ:BUSY" at once, from the I/O thread
//     --> partition dispatcher thread: copies the request out of the slot, numbers it in
//         its family (seq_in_family), submits it to the partition's FamilyScheduler
//        FAMILY_FULL: rejected at once
//     --> worker pool (hft::WorkerPool): parse -> risk -> execute -> build reply
//     --> reply queue of the owning I/O thread (hft::MpscQueue) + eventfd wake-up
//     --> the I/O thread writes it (partial writes and slow readers via EPOLLOUT)
//
// Where each guarantee lives: per-family FIFO and one-in-flight: FamilyScheduler (one per
// partition; a family always maps to one partition). Fairness: its slice. Backpressure: the
// ring (BUSY) and the per-family pending limit (FAMILY_FULL). Memory: every queue, table
// and buffer is sized at start; the family-number table evicts the least recently active
// idle family when full.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/disruptor/ring_buffer.hpp"
#include "hft/disruptor/sequence_barrier.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/sched/worker_pool.hpp"
#include "hft/trading/matching_engine.hpp"
#include "protocol.hpp"

namespace mini_oms {

// Defaults sized to the machine: every stage thread beyond the cores only adds wake-ups and
// context switches (measured on the 2-core CI VM: 2 partitions + 2 workers put the
// open-loop p99 at 18-31x the echo floor, 1 + 1 at 1.3-2.6x). Flags override.
inline unsigned default_workers() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp(cores / 2, 1u, 8u);
}
inline unsigned default_partitions() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return cores >= 8 ? 4u : cores >= 4 ? 2u : 1u;
}

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: ephemeral (port() tells which)
  unsigned io_threads = 1;
  unsigned partitions = default_partitions();  // power of two
  unsigned workers = default_workers();
  std::size_t ring_size = 4096;     // per partition, power of two
  std::size_t family_table = 1u << 20;  // all partitions together
  std::uint32_t max_pending_per_family = 1024;
  std::uint32_t slice = 8;
  std::uint32_t work_us = 0;        // simulated work per request
  std::uint32_t stats_interval_ms = 0;
  std::uint32_t log_sample = 0;     // log every Nth request (0 = off)
  bool busy_spin = false;           // dedicated machine: spin instead of sleeping
  std::vector<int> cpus;            // pin threads (busy_spin mode)
  std::size_t max_connections = 1024;  // per I/O thread
  std::size_t out_buffer = 256 * 1024;  // per connection; a reader this far behind is cut
  RiskLimits risk;
  std::vector<std::pair<std::string, std::string>> refs;  // --ref SYM=PRICE
  std::function<void()> on_thread_start;  // tests: mark server threads
};

// Counters kept by the gateway and the dispatchers. Accepted, dispatched, enqueued-because-
// busy, completed and the maximum pending depth are not here: the partition's
// FamilyScheduler counts them already (report() reads its stats()).
struct Counters {
  std::atomic<std::uint64_t> published{0}, rejected_busy{0}, rejected_family_full{0}, rejected_bad_msg{0},
      rejected_risk_qty{0}, rejected_risk_price{0}, rejected_risk_notional{0}, rejected_risk_rate{0},
      rejected_shutdown{0}, families_evicted{0}, replies_written{0}, replies_dropped{0}, slow_disconnects{0},
      connections{0};
};

// The records that travel through the pipeline (namespace scope: a nested class with
// default member initialisers is not default-constructible, for clang, until its enclosing
// class is complete, and the ring needs that).
namespace server_detail {
struct ConnRef {
  std::uint32_t io = 0, slot = 0, gen = 0;
};
struct Event {  // one ring slot: copied out by the dispatcher (slots are reused)
  ConnRef conn;
  std::uint64_t req_id = 0;
  std::uint64_t family = 0;
  bool correlated = false;
  std::uint16_t len = 0;
  std::uint64_t t_recv = 0, t_pub = 0;
  char line[kMaxLine];
};
struct Task {  // what a worker runs; lives in the FamilyScheduler's node
  Task() = default;
  Task(const Event& ev, std::uint64_t seq_in_family, std::uint32_t family_slot, std::uint64_t dispatched_at) noexcept
      : conn(ev.conn), req_id(ev.req_id), family(ev.family), seq(seq_in_family), fam_slot(family_slot), len(ev.len),
        t_recv(ev.t_recv), t_pub(ev.t_pub), t_disp(dispatched_at) {
    std::memcpy(line, ev.line, ev.len);
  }
  ConnRef conn;
  std::uint64_t req_id = 0;
  std::uint64_t family = 0;
  std::uint64_t seq = 0;
  std::uint32_t fam_slot = 0;  // in the family-number table, or npos (uncorrelated)
  std::uint16_t len = 0;
  std::uint64_t t_recv = 0, t_pub = 0, t_disp = 0;
  char line[kMaxLine];
};
struct Reply {
  ConnRef conn;
  std::uint16_t len = 0;
  std::uint64_t t_built = 0;
  char text[kMaxReply];
};
}  // namespace server_detail

class Server {
 public:
  explicit Server(ServerConfig cfg);
  ~Server() { stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  /// Graceful: stop accepting, answer every admitted request, flush, join. Idempotent.
  void stop();
  /// Begin shutdown from a signal handler context-free thread (sets the flag only).
  // The shutdown flag: release here and in stop() pairs with the I/O threads' acquire loads.
  void request_shutdown() noexcept { shutdown_.store(true, std::memory_order_release); }
  [[nodiscard]] bool shutdown_requested() const noexcept { return shutdown_.load(std::memory_order_acquire); }  // pairs with the stores above
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const ServerConfig& config() const noexcept { return cfg_; }
  /// One line: totals and per-partition pending.
  std::string stats_line() const;
  /// Multi-line: counters per partition and the stage latency percentiles.
  std::string report() const;
  const Counters& partition_counters(unsigned p) const { return parts_[p]->counters; }
  /// Gateway-level counters (I/O threads): connections, local BAD_MSG / SHUTDOWN rejects,
  /// slow-reader disconnects, replies written and dropped.
  const Counters& gateway_counters() const { return gateway_; }

 private:
  using ConnRef = server_detail::ConnRef;
  using Event = server_detail::Event;
  using Task = server_detail::Task;
  using Reply = server_detail::Reply;
  using Ring = hft::disruptor::RingBuffer<Event, hft::disruptor::ProducerType::Multi,
                                          hft::disruptor::BlockingWaitStrategy>;
  using Sched = hft::FamilyScheduler<Task>;

  // The family-number table of one partition (dispatcher-owned apart from in_flight).
  struct FamilyTable {
    explicit FamilyTable(std::size_t n) : index(n), slots(new Slot[n]), cap(n) {}
    struct Slot {
      std::uint64_t key = 0, next_seq = 0;
      std::uint32_t prev = hft::FlatIndex::npos, next = hft::FlatIndex::npos;  // LRU, MRU at head
      std::atomic<std::uint32_t> in_flight{0};
    };
    hft::FlatIndex index;
    std::unique_ptr<Slot[]> slots;
    std::size_t cap, used = 0;
    std::uint32_t head = hft::FlatIndex::npos, tail = hft::FlatIndex::npos;
  };

  struct Partition {
    Partition(Server& s, unsigned idx);
    Server& server;
    unsigned index;
    Ring ring;
    hft::disruptor::EventPoller<Ring> poller;
    hft::disruptor::SequenceBarrier<Ring::sequencer_type> barrier;
    FamilyTable families;
    std::function<void(const Sched::TaskInfo&, Task&)> handler;
    std::unique_ptr<Sched> sched;
    Counters counters;
    hft::LatencyHistogram ring_to_dispatch{1, 60'000'000'000ULL, 3};
    std::thread thread;
  };

  struct Conn {
    int fd = -1;
    std::uint32_t gen = 0;
    LineFramer framer;
    std::unique_ptr<char[]> out;
    std::size_t out_head = 0, out_tail = 0;
    bool want_out = false;
    bool read_closed = false;    // the client half-closed: answer what it sent, then close
    std::uint32_t in_flight = 0;  // requests published and not yet answered
  };
  struct IoThread {
    IoThread(unsigned idx, std::size_t reply_cap) : index(idx), replies(reply_cap) {}
    std::uint32_t index;
    int epfd = -1, evfd = -1;
    std::vector<Conn> conns;
    std::vector<std::uint32_t> free_slots;
    hft::MpscQueue<Reply> replies;
    std::atomic<bool> wake_pending{false};
    std::thread thread;
    hft::LatencyHistogram recv_to_ring{1, 60'000'000'000ULL, 3};
    hft::LatencyHistogram built_to_written{1, 60'000'000'000ULL, 3};
    std::uint64_t uncorrelated_seq = 0;
  };

  struct SymbolState {
    std::mutex mu;
    hft::Symbol symbol;
    hft::Price ref;
    hft::RateLimiter limiter;
    hft::MatchingEngine book;
    std::uint64_t next_quote_id = 1;
    SymbolState(hft::Symbol s, hft::Price r, const RiskLimits& lim, std::uint64_t now)
        : symbol(s), ref(r), limiter(lim.rate_per_sec, lim.rate_per_sec, now), book(64, 32) {
      for (int k = 1; k <= kVenueLevels; ++k) {
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
          level_price[static_cast<int>(side)][k - 1] = venue_level_price(ref, side, k);
        }
      }
      requote();
    }
    void requote() {  // every emptied venue level gets its original size back
      hft::Fill none[1];
      for (int k = 1; k <= kVenueLevels; ++k) {
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
          const hft::Price p = level_price[static_cast<int>(side)][k - 1];
          if (book.qty_at(side, p).zero()) {
            (void)book.submit(hft::NewOrder{hft::OrderId(next_quote_id++), side, hft::OrderType::Limit,
                                            hft::TimeInForce::GoodTillCancel, p, hft::Qty(100 * k)},
                              std::span<hft::Fill>(none, 0));
          }
        }
      }
    }
    hft::Price level_price[2][kVenueLevels];  // computed once: [side][k - 1]
  };

  void io_main(unsigned idx);
  void dispatcher_main(Partition& p);
  void handle_line(IoThread& io, std::uint32_t slot, std::string_view line, std::uint64_t t_recv);
  void send_local(IoThread& io, std::uint32_t slot, const char* text, std::size_t len);
  void deliver(const Reply& r);
  void flush(IoThread& io, std::uint32_t slot);
  void close_conn(IoThread& io, std::uint32_t slot);
  void update_events(IoThread& io, std::uint32_t slot);
  void close_if_done(IoThread& io, std::uint32_t slot);
  void run_task(Partition& p, Task& t);
  SymbolState& symbol_state(hft::Symbol s);
  std::uint32_t family_slot(FamilyTable& t, std::uint64_t key, Counters& c);
  void stats_main();
  std::uint64_t now_ns() const { return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()); }

  ServerConfig cfg_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  Counters gateway_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> stopping_io_{false};
  std::atomic<bool> stop_dispatch_{false};
  bool started_ = false, stopped_ = false;
  std::vector<std::unique_ptr<IoThread>> io_;
  std::vector<std::unique_ptr<Partition>> parts_;
  std::unique_ptr<hft::WorkerPool<Sched::Job>> pool_;
  std::atomic<unsigned> next_io_{0};
  std::thread stats_thread_;

  // Symbols: fixed open-addressing table of pointers, created on first sight under a mutex.
  static constexpr std::size_t kSymbols = 4096;
  std::unique_ptr<std::atomic<SymbolState*>[]> symbols_{new std::atomic<SymbolState*>[kSymbols]};
  std::vector<std::unique_ptr<SymbolState>> symbol_storage_;
  std::mutex symbols_mu_;
  std::map<std::uint64_t, hft::Price> ref_prices_;

  // Stage latency: dispatch -> reply built, per worker (thread-local slot, merged at report).
  mutable std::mutex hist_mu_;
  std::vector<std::unique_ptr<hft::LatencyHistogram>> dispatch_to_built_;
  double ns_per_tick_ = 1.0;
};

}  // namespace mini_oms

#include "server_impl.hpp"
