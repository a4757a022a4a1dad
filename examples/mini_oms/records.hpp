// mini_oms/records.hpp: what travels between the stages (a routed order, a task, a
// reply), the server's counters, and its configuration.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "hft/journal/journal.hpp"
#include "hft/metrics/counters.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "logging.hpp"
#include "order.hpp"

namespace mini_oms {

// Where a stage runs. See docs/mini_oms.md ("Where each stage runs") for what each costs.
enum class DispatchMode : std::uint8_t {
  Auto,    // Inline with one I/O thread, else Ring
  Ring,    // I/O threads publish into a partition ring; a dispatcher thread per partition
  Inline,  // the I/O thread numbers and submits itself (needs io_threads == 1)
};
enum class ExecuteMode : std::uint8_t {
  Auto,    // Inline while tasks are short (mean <= inline_max_ns) and no job waits, else Pool
  Pool,    // every slice runs on a worker
  Inline,  // an idle family's slice runs on the submitting thread (re-queued slices: pool)
};

// Defaults sized to the machine: every stage thread beyond the cores only adds wake-ups and
// context switches. Flags override.
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
  DispatchMode dispatch = DispatchMode::Auto;
  ExecuteMode execute = ExecuteMode::Auto;
  std::uint32_t inline_max_ns = 5'000;  // ExecuteMode::Auto: the longest mean task run inline
  std::size_t ring_size = 4096;         // per partition, power of two (ring dispatch); also sizes the scheduler
  std::size_t family_table = 1u << 20;  // all partitions together
  std::uint32_t max_pending_per_family = 1024;
  std::uint32_t slice = 8;
  std::uint32_t work_us = 0;  // simulated work per request
  std::uint32_t stats_interval_ms = 0;
  // serve --hlog: one HdrHistogram interval (dispatch -> reply built, ns) per stats interval
  // goes here (hft/metrics/histogram_log.hpp). Null: off. Must outlive the server.
  std::ostream* hlog = nullptr;
  // Where the server logs (logging.hpp): main.cpp's, from the --log-* flags; null: the server
  // makes its own (stderr, INFO). Must outlive the server.
  ServerLog* log = nullptr;
  std::uint32_t log_sample = 0;                      // log every Nth request (0 = off)
  bool busy_spin = false;                            // dedicated machine: spin instead of sleeping
  std::vector<int> cpus;                             // pin threads: I/O, dispatchers, then workers
  std::size_t max_connections = 1024;                // open at once, all I/O threads; more get "- REJ:CONN_LIMIT"
  std::size_t out_buffer = std::size_t{256} * 1024;  // per connection; a reader this far behind is cut
  RiskLimits risk;
  std::string journal_dir;  // --journal: empty = off (nothing changes, nothing costs)
  hft::Durability durability = hft::Durability::none;
  std::size_t dedup_window = std::size_t{1} << 16;  // --journal: remembered (corr, req_id) per partition
  int metrics_port = -1;  // --metrics-port: -1 off, 0 ephemeral (metrics_port() tells which); Prometheus text
  int fix_port = -1;      // --fix-port: -1 off, 0 ephemeral (fix_port() tells which)
  std::string fix_comp_id = "HFTOMS";                      // --fix-comp-id: our SenderCompID; Logons must target it
  std::size_t fix_max_sessions = 64;                       // peer CompIDs remembered (store and numbers each)
  std::vector<std::string> fix_peers;                      // --fix-peers: SenderCompIDs that may log on (empty: any)
  std::size_t fix_journal_segment = std::size_t{4} << 20;  // --journal: segment size of each FIX session's store
  std::vector<std::pair<std::string, std::string>> refs;   // --ref SYM=PRICE
  std::function<void()> on_thread_start;                   // tests: runs first on every server thread
};

// ---- counters ----------------------------------------------------------------------------
// One CounterGroup per partition and one per server for the gateways (the I/O threads);
// each schema holds only what its stage counts, so the two add up (docs/mini_oms.md,
// "Counters"). A partition: published = admitted + rejected_busy + rejected_family_full +
// duplicates, and, once quiet, admitted = completed (inline or on a worker); completed
// counts every outcome, an ACK or rejected_bad_msg / rejected_risk_*. The gateways: every
// request they decoded (a line, a FIX NewOrderSingle) is published to a partition or
// answered by them: requests = sum of published + their rejected_* + duplicates.
enum class Count : std::size_t {
  Published,
  Admitted,
  Completed,
  RejectedBusy,
  RejectedFamilyFull,
  Duplicates,  // --journal: re-sent requests answered with their original reply
  RejectedBadMsg,
  RejectedRiskQty,
  RejectedRiskPrice,
  RejectedRiskNotional,
  RejectedRiskRate,
  FamiliesEvicted,
  RanInline,  // admitted tasks that ran on the submitting thread
  kCount
};
inline hft::CounterGroup make_counters() {
  return hft::CounterGroup{
      "published",          "admitted",         "completed",         "rejected_busy",       "rejected_family_full",
      "duplicates",         "rejected_bad_msg", "rejected_risk_qty", "rejected_risk_price", "rejected_risk_notional",
      "rejected_risk_rate", "families_evicted", "ran_inline"};
}
enum class GwCount : std::size_t {
  Requests,          // lines with a req_id or an overlong one, FIX NewOrderSingles
  RejectedBadMsg,    // answered here: no req_id, overlong, a FIX order refused before the pipeline
  RejectedShutdown,  // arrived after shutdown began
  RejectedBusy,      // a FIX session's in-flight table full
  Duplicates,        // FIX re-sends answered from the session's outcomes, or already in flight
  RepliesWritten,
  RepliesDropped,
  SlowDisconnects,
  Connections,
  RefusedConnLimit,   // connections answered "- REJ:CONN_LIMIT" (--max-connections, or no descriptor)
  AcceptFdExhausted,  // accept() failed with EMFILE/ENFILE
  FixOtherRejected,   // FIX application messages other than orders refused for a bad field
  RepliesStored,      // executions whose FIX connection had closed: reports stored for the peer's resend
  kCount
};
/// The gateways' counters are kept per port (the codec a listener speaks), in this order.
inline constexpr const char* kPortNames[] = {"line", "fix"};
inline constexpr std::size_t kPorts = std::size(kPortNames);
inline constexpr std::size_t kLinePort = 0, kFixPort = 1;
inline hft::CounterGroup make_gateway_counters() {
  return hft::CounterGroup{"requests",           "rejected_bad_msg",    "rejected_shutdown",
                           "rejected_busy",      "duplicates",          "replies_written",
                           "replies_dropped",    "slow_disconnects",    "connections_accepted",
                           "refused_conn_limit", "accept_fd_exhausted", "fix_other_rejected",
                           "replies_stored"};
}
inline void bump(hft::CounterGroup& g, Count c, std::uint64_t n = 1) noexcept { g.add(static_cast<std::size_t>(c), n); }
inline void bump(hft::CounterGroup& g, GwCount c, std::uint64_t n = 1) noexcept {
  g.add(static_cast<std::size_t>(c), n);
}
[[nodiscard]] inline std::uint64_t get(const hft::CounterGroup& g, Count c) noexcept {
  return g.load(static_cast<std::size_t>(c));
}
[[nodiscard]] inline std::uint64_t get(const hft::CounterGroup& g, GwCount c) noexcept {
  return g.load(static_cast<std::size_t>(c));
}

/// The counters of the partition whose submit() the calling thread is inside, or null (the
/// scheduler's executor may then run an idle family's slice inline, on this thread, and
/// counts it there).
inline hft::CounterGroup*& in_submit() noexcept {
  static thread_local hft::CounterGroup* part = nullptr;
  return part;
}

/// Every stage histogram: 1 ns to 1 minute at 3 significant digits.
inline hft::LatencyHistogram stage_histogram() { return hft::LatencyHistogram(); }

/// One stage's latency while the server runs: each thread of the stage records through its
/// own IntervalRecorder writer; one thread at a time (the server's stats mutex) collects the
/// latest interval and adds it to the total, which the stats line, the metrics endpoint and
/// the final report read.
/// The stages whose latency the gateways record (the venue records dispatch -> built itself).
enum class Stage : std::uint8_t { Admit, Write, FixReport };

struct StageLatency {
  explicit StageLatency(std::size_t writers) : rec(writers) {}
  hft::IntervalRecorder rec;
  hft::LatencyHistogram last = stage_histogram();   // the interval collected last
  hft::LatencyHistogram total = stage_histogram();  // every interval so far
  void collect() {
    last.reset();
    rec.collect_interval(last);
    total.merge(last);
  }
};

// ---- records ----------------------------------------------------------------------------
struct ConnRef {
  std::uint32_t io = 0, slot = 0, gen = 0;
};

// A routed order: where it came from, its family, and the order itself (by value: 48
// bytes, copied into a ring slot or a task node as it moves, never re-parsed).
struct Routed {
  ConnRef conn;
  std::uint64_t family = 0;
  bool correlated = false;
  Order order;
  std::uint64_t t_recv = 0, t_pub = 0;  // TSC ticks
};

// A ring slot (ring dispatch).
using Inbound = Routed;

// What a worker runs; lives in the FamilyScheduler's node.
struct Task {
  Task() = default;
  Task(const Routed& in, std::uint64_t seq_in_family, std::uint32_t family_slot, std::uint64_t dispatched_at,
       std::uint32_t dedup = 0xFFFFFFFF) noexcept
      : conn(in.conn),
        family(in.family),
        seq(seq_in_family),
        fam_slot(family_slot),
        dedup_slot(dedup),
        order(in.order),
        t_recv(in.t_recv),
        t_pub(in.t_pub),
        t_disp(dispatched_at) {}
  ConnRef conn;
  std::uint64_t family = 0;
  std::uint64_t seq = 0;
  std::uint32_t fam_slot = 0;             // in the family-number table, or npos (uncorrelated)
  std::uint32_t dedup_slot = 0xFFFFFFFF;  // --journal: in the partition's DedupWindow, or npos
  Order order;
  std::uint64_t t_recv = 0, t_pub = 0, t_disp = 0;
};

// The answer to one order, on its way back to the gateway that owns the connection, which
// encodes it in the connection's protocol.
struct Reply {
  ConnRef conn;
  Execution exec;
  std::uint64_t t_built = 0;        // TSC ticks
  std::uint64_t durable_after = 0;  // --journal: leaves once the journal is durable to here
};

}  // namespace mini_oms
