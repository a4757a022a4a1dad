// mini_oms/server_stats.hpp: the observability half of Server (server.hpp includes it at
// its end): the periodic stats line, the --hlog intervals, the Prometheus exposition the
// metrics endpoint serves, and the final report.
//
// Owns nothing of its own; reads the counters (lock-free, any time), the schedulers'
// stats, and the stage latencies, which it collects under Server::stats_mutex_ (the stats
// thread, the metrics endpoint's thread and report() each collect; IntervalRecorder hands
// each interval out once, so the totals count every record exactly once).
// May call: records.hpp, prom_text.hpp, hft/metrics. Never runs on an I/O, dispatcher or
// worker thread.
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "prom_text.hpp"
#include "server.hpp"  // NOLINT(misc-header-include-cycle): included from server.hpp's end

namespace mini_oms {

inline std::uint64_t Server::cpu_ns() const {
  std::lock_guard lock(threads_mutex_);
  std::uint64_t total = 0;
  for (const clockid_t id : thread_clocks_) {
    timespec ts{};
    if (::clock_gettime(id, &ts) == 0) {
      total += static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
    }
  }
  return total;
}

inline std::size_t Server::threads() const {
  std::lock_guard lock(threads_mutex_);
  return thread_clocks_.size();
}

inline void Server::collect_stages() {
  admit_lat_.collect();
  write_lat_.collect();
  fix_report_lat_.collect();
  execute_last_ = venue_->collect_built_interval();
  execute_total_.merge(execute_last_);
}

inline std::uint64_t Server::counter(Count c) const {
  std::uint64_t n = 0;
  for (const auto& p : parts_) n += get(p->counters(), c);
  return n;
}

inline std::string Server::stats_line() {
  std::lock_guard lock(stats_mutex_);
  collect_stages();
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::max(1e-3, std::chrono::duration<double>(now - stats_prev_.at).count());
  const std::uint64_t requests = gateway_counter(GwCount::Requests), completed = counter(Count::Completed);
  std::string pending;
  for (const auto& p : parts_) {
    if (!pending.empty()) pending += ',';
    const std::uint64_t adm = get(p->counters(), Count::Admitted), done = get(p->counters(), Count::Completed);
    pending += std::to_string(adm > done ? adm - done : 0);  // an inline task completes before it counts admitted
  }
  const std::uint64_t risk = counter(Count::RejectedRiskQty) + counter(Count::RejectedRiskPrice) +
                             counter(Count::RejectedRiskNotional) + counter(Count::RejectedRiskRate);
  std::string out;
  const auto rate = [&](const char* k, std::uint64_t now_total, std::uint64_t before) {
    char b[64];
    (void)std::snprintf(b, sizeof b, "%s/s=%.0f ", k, static_cast<double>(now_total - before) / secs);
    out += b;
  };
  const auto us = [&](const char* k, const hft::LatencyHistogram& h, double pct) {
    char b[64];
    (void)std::snprintf(b, sizeof b, "%s=%.1fus ", k, static_cast<double>(h.percentile(pct)) / 1e3);
    out += b;
  };
  const auto total = [&](const char* k, std::uint64_t v) {
    out += k;
    out += '=';
    out += std::to_string(v);
    out += ' ';
  };
  char head[48];
  (void)std::snprintf(head, sizeof head, "interval %.1fs: ", secs);
  out += head;
  rate("requests", requests, stats_prev_.requests);
  rate("completed", completed, stats_prev_.completed);
  us("execute_p50", execute_last_, 50);
  us("execute_p99", execute_last_, 99);
  us("admit_p99", admit_lat_.last, 99);
  us("write_p99", write_lat_.last, 99);
  out += "| totals: ";
  total("requests", requests);
  total("published", counter(Count::Published));
  total("admitted", counter(Count::Admitted));
  total("completed", completed);
  total("busy", counter(Count::RejectedBusy) + gateway_counter(GwCount::RejectedBusy));
  total("family_full", counter(Count::RejectedFamilyFull));
  total("bad_msg", counter(Count::RejectedBadMsg) + gateway_counter(GwCount::RejectedBadMsg));
  total("risk", risk);
  total("shutdown", gateway_counter(GwCount::RejectedShutdown));
  total("duplicates", counter(Count::Duplicates) + gateway_counter(GwCount::Duplicates));
  total("inline", counter(Count::RanInline));
  total("connections", open_connections());
  out += "pending_per_partition=[";
  out += pending;
  out += ']';
  stats_prev_ = Totals{requests, completed, now};
  return out;
}

inline void Server::write_hlog_interval() {
  if (!hlog_) return;
  const auto now = std::chrono::steady_clock::now();
  try {
    hlog_->write_interval(std::chrono::duration<double>(hlog_last_ - hlog_start_).count(),
                          std::chrono::duration<double>(now - hlog_last_).count(), execute_last_);
    hlog_->flush();
  } catch (const std::exception& e) {
    HFT_LOG_ERROR(log_->main(), "--hlog: {}; no more intervals are written", e.what());
    hlog_.reset();
  }
  hlog_last_ = now;
}

inline void Server::stats_main() {
  hft::set_current_thread_name("oms-stats");  // the log's [thread] field
  while (!io_stopping()) {
    for (std::uint32_t waited = 0; waited < cfg_.stats_interval_ms; waited += 10) {
      if (io_stopping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    HFT_LOG_INFO(log_->main(), "{}", stats_line());  // collects the interval the hlog writes
    std::lock_guard lock(stats_mutex_);
    write_hlog_interval();
  }
}

// Each counter family's HELP: what it counts and where (docs/operations.md has what to
// alert on). A partition's are labelled {stage="partition", partition}, the gateways'
// {stage="gateway", port}; a name both keep (rejected_bad_msg, rejected_busy, duplicates)
// is one family with both kinds of series.
inline std::string counter_help(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kHelp[] = {
      {"published", "Requests routed to a partition (admitted or rejected there)."},
      {"admitted", "Requests a partition numbered and scheduled."},
      {"completed", "Admitted requests that executed (an ACK, or a bad-message or risk reject)."},
      {"rejected_busy", "Requests answered BUSY (a full ring or scheduler; a FIX session's in-flight table)."},
      {"rejected_family_full", "Requests answered FAMILY_FULL (--max-pending per family)."},
      {"duplicates", "Re-sent requests answered with their original reply; nothing executed."},
      {"rejected_bad_msg", "Requests answered BAD_MSG (malformed)."},
      {"rejected_risk_qty", "Orders rejected by the quantity limit."},
      {"rejected_risk_price", "Orders rejected by the price band."},
      {"rejected_risk_notional", "Orders rejected by the notional limit."},
      {"rejected_risk_rate", "Orders rejected by the per-symbol rate limit."},
      {"families_evicted", "Idle families evicted from the family-number table (numbering restarts at 1)."},
      {"ran_inline", "Admitted requests that ran on the submitting thread, not a worker."},
      {"requests", "Requests the gateways decoded (lines, FIX NewOrderSingles), per port."},
      {"rejected_shutdown", "Requests answered SHUTDOWN (arrived after shutdown began)."},
      {"replies_written", "Replies and reports queued to a connection's output."},
      {"replies_dropped", "Replies whose connection was gone."},
      {"replies_stored", "FIX executions whose connection was gone: reports stored for the peer's resend."},
      {"slow_disconnects", "Connections cut for not reading their replies (--out-buffer)."},
      {"connections_accepted", "Connections accepted."},
      {"refused_conn_limit", "Connections refused at --max-connections or out of descriptors."},
      {"accept_fd_exhausted", "accept() failures for want of a file descriptor (EMFILE/ENFILE)."},
      {"fix_other_rejected", "FIX application messages other than orders refused for a bad field."},
  };
  for (const auto& [n, h] : kHelp) {
    if (n == name) return std::string(h);
  }
  return "mini_oms counter " + std::string(name) + ".";
}

inline void Server::write_metrics(std::string& out) {
  std::lock_guard lock(stats_mutex_);
  collect_stages();
  PromText t(out);
  std::vector<std::string> names;
  names.reserve(parts_.size());
  for (const auto& p : parts_) names.push_back(std::to_string(p->index()));
  std::vector<Label> labels;  // two per group: stage, then partition or port
  labels.reserve(2 * (parts_.size() + kPorts));
  std::vector<LabeledCounters> groups;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    labels.push_back({"stage", "partition"});
    labels.push_back({"partition", names[i]});
    groups.push_back({&parts_[i]->counters(), std::span<const Label>(&labels[labels.size() - 2], 2)});
  }
  for (std::size_t port = 0; port < kPorts; ++port) {
    labels.push_back({"stage", "gateway"});
    labels.push_back({"port", kPortNames[port]});
    groups.push_back({&gateway_[port], std::span<const Label>(&labels[labels.size() - 2], 2)});
  }
  write_counters(t, groups, "mini_oms_", counter_help);

  t.begin("mini_oms_connections", MetricType::gauge, "Client connections open now (both ports).");
  t.sample({}, open_connections());
  t.begin("mini_oms_pending", MetricType::gauge, "Requests admitted and not yet completed, per partition.");
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const hft::CounterGroup& c = parts_[i]->counters();
    const std::uint64_t adm = get(c, Count::Admitted), done = get(c, Count::Completed);
    t.sample({{"partition", names[i]}}, adm > done ? adm - done : 0);
  }
  t.begin("mini_oms_families", MetricType::gauge, "Families with work queued or running, per partition.");
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    t.sample({{"partition", names[i]}}, parts_[i]->scheduler().stats().families_live);
  }
  t.begin("mini_oms_admit_seconds", MetricType::histogram, "Receive to admitted into a partition, per request.");
  t.histogram({}, admit_lat_.total);
  t.begin("mini_oms_execute_seconds", MetricType::histogram, "Dispatch to reply built (risk, venue), per request.");
  t.histogram({}, execute_total_);
  t.begin("mini_oms_write_seconds", MetricType::histogram, "Reply built to written to the socket buffer.");
  t.histogram({}, write_lat_.total);
  t.begin("mini_oms_fix_first_report_seconds", MetricType::histogram,
          "FIX NewOrderSingle read to its first ExecutionReport written.");
  t.histogram({}, fix_report_lat_.total);
}

inline std::string Server::report() {
  {
    std::lock_guard lock(stats_mutex_);
    collect_stages();
  }
  std::ostringstream o;
  o << "server: " << cfg_.io_threads << " I/O thread(s), " << cfg_.partitions << " partition(s), " << cfg_.workers
    << " worker(s); dispatch " << (inline_dispatch_ ? "inline (on the I/O thread)" : "through the partition rings")
    << "; tasks run inline: " << counter(Count::RanInline) << "\n";
  o << "  part  published   rej_busy   admitted  completed  dup  fam_full   bad_msg  risk_qty  risk_px  risk_not  "
       "risk_rate  max_pending  evicted\n";
  for (const auto& p : parts_) {
    const hft::CounterGroup& c = p->counters();
    const auto st = p->scheduler().stats();
    char line[400];  // fourteen numbers of at most 20 digits
    (void)std::snprintf(line, sizeof line,
                        "  %4u %10llu %10llu %10llu %10llu %4llu %9llu %9llu %9llu %8llu %9llu %10llu %12llu %8llu\n",
                        p->index(), static_cast<unsigned long long>(get(c, Count::Published)),
                        static_cast<unsigned long long>(get(c, Count::RejectedBusy)),
                        static_cast<unsigned long long>(get(c, Count::Admitted)),
                        static_cast<unsigned long long>(get(c, Count::Completed)),
                        static_cast<unsigned long long>(get(c, Count::Duplicates)),
                        static_cast<unsigned long long>(get(c, Count::RejectedFamilyFull)),
                        static_cast<unsigned long long>(get(c, Count::RejectedBadMsg)),
                        static_cast<unsigned long long>(get(c, Count::RejectedRiskQty)),
                        static_cast<unsigned long long>(get(c, Count::RejectedRiskPrice)),
                        static_cast<unsigned long long>(get(c, Count::RejectedRiskNotional)),
                        static_cast<unsigned long long>(get(c, Count::RejectedRiskRate)),
                        static_cast<unsigned long long>(st.max_pending_depth),
                        static_cast<unsigned long long>(get(c, Count::FamiliesEvicted)));
    o << line;
  }
  for (std::size_t port = 0; port < kPorts; ++port) {
    o << "  gateway (" << kPortNames[port] << "): " << gateway_[port].line() << "\n";
  }
  if (journal_) {
    o << "  journal " << cfg_.journal_dir << ": replayed " << replayed_.records << " records at start, "
      << journal_->last_sequence() - replayed_.records
      << " appended since; re-sends answered from the window: " << counter(Count::Duplicates) << "\n";
  }
  hft::LatencyHistogram ring = stage_histogram();
  for (const auto& p : parts_) ring.merge(p->ring_to_dispatch());
  o << "server stage latency (us): p50 / p99 / p99.9 / max\n";
  auto row = [&](const char* name, const hft::LatencyHistogram& h) {
    char line[200];  // a short name and five numbers
    (void)std::snprintf(line, sizeof line, "  %-22s %8.1f %8.1f %8.1f %8.1f  (n=%llu)\n", name,
                        static_cast<double>(h.percentile(50)) / 1e3, static_cast<double>(h.percentile(99)) / 1e3,
                        static_cast<double>(h.percentile(99.9)) / 1e3, static_cast<double>(h.max()) / 1e3,
                        static_cast<unsigned long long>(h.count()));
    o << line;
  };
  row(inline_dispatch_ ? "receive -> admitted" : "receive -> ring", admit_lat_.total);
  if (!inline_dispatch_) row("ring -> dispatch", ring);
  row("dispatch -> reply built", execute_total_);
  row("reply built -> written", write_lat_.total);
  if (fix_report_lat_.total.count() != 0) row("FIX order -> 1st report", fix_report_lat_.total);
  return o.str();
}

}  // namespace mini_oms
