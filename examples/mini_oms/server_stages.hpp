// mini_oms/server_stages.hpp: what Server does between the stages (server.hpp includes it
// at its end): admit (the transport's decoded Order -> its partition's ring or scheduler),
// the admission rejects a dispatcher answers, the inline-execution policy, and run_task
// (the scheduler's handler: the venue, the counters, the reply back to the transport);
// and, before any of it, the replay of --journal into the venue and the partitions.
// May call: the partitions, the venue, the gateways' deliver(). Runs on every stage's thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "server.hpp"  // NOLINT(misc-header-include-cycle): included from server.hpp's end

namespace mini_oms {

// Recovery first (the writer cuts a torn tail), then every record in order: the books
// re-run each execution, the partitions restore numbering and the dedup window. Only then
// does the venue journal new executions.
inline void Server::open_journal() {
  journal_ = std::make_unique<OmsJournal>(cfg_.journal_dir, cfg_.durability, *log_);
  replayed_.recovery = journal_->recovery();
  hft::JournalReader reader(cfg_.journal_dir, {});
  std::uint64_t bad = 0;
  while (reader.poll([&](const hft::JournalRecord& r) {
    const auto v = decode_exec(r.payload);
    if (!v) {
      ++bad;
      return;
    }
    ++replayed_.records;
    replayed_.executions += v->h.executed;
    if (!venue_->replay(*v)) ++replayed_.mismatches;
    parts_[partition_of(v->h.family, cfg_.partitions)]->restore(*v, r.sequence);
  }) > 0) {
  }
  if (bad != 0) {
    throw std::runtime_error("--journal " + cfg_.journal_dir + ": " + std::to_string(bad) +
                             " records are not mini-OMS execution records");
  }
  venue_->set_journal(journal_.get());
}

// ---- between the stages --------------------------------------------------------------------
inline Reason Server::admit(ConnRef conn, FamilyKey fk, const Order& order, std::uint64_t t_recv) {
  Partition<Server>& p = *parts_[partition_of(fk.key, cfg_.partitions)];
  bump(p.counters(), Count::Published);
  if (p.has_ring()) {
    std::int64_t seq = 0;
    Inbound* slot = p.try_claim(seq);
    if (slot == nullptr) {
      bump(p.counters(), Count::RejectedBusy);
      return Reason::Busy;
    }
    *slot = Inbound{conn, fk.key, fk.correlated, order, t_recv, hft::TscClock::ticks()};
    p.publish(seq);
    return Reason::None;
  }
  const Routed in{conn, fk.key, fk.correlated, order, t_recv, t_recv};
  const Reason why = p.submit(in);
  if (why != Reason::None)
    bump(p.counters(), why == Reason::FamilyFull ? Count::RejectedFamilyFull : Count::RejectedBusy);
  return why;
}

inline void Server::reject(const Routed& in, Reason why, hft::CounterGroup& counters) {
  bump(counters, why == Reason::FamilyFull ? Count::RejectedFamilyFull : Count::RejectedBusy);
  gateways_[in.conn.io]->deliver(Reply{in.conn, Execution{in.order.req_id, 0, 0, 0, why}, hft::TscClock::ticks(), 0});
}

// Inline execution pays off when a hand-off costs more than the task: on the submitting
// thread (not on a worker re-queueing a slice), not inside a slice that already runs
// inline (its re-queue goes to the pool: a hot family cannot pin the I/O thread), and in
// Auto mode only while tasks are short and no job is waiting for a worker.
inline bool Server::may_run_inline() const noexcept {
  if (inline_depth() != 0) return false;
  switch (cfg_.execute) {
    case ExecuteMode::Pool:
      return false;
    case ExecuteMode::Inline:
      return true;
    case ExecuteMode::Auto:
      return mean_task_ns_.load(std::memory_order_relaxed) <= cfg_.inline_max_ns && !pool_->has_queued_jobs();
  }
  return false;
}

inline void Server::execute(Sched::Job j) noexcept {
  hft::CounterGroup* part = in_submit();
  if (part == nullptr || !may_run_inline()) {
    pool_->execute(j);
    return;
  }
  ++inline_depth();
  j();
  --inline_depth();
  bump(*part, Count::RanInline);
}

inline void Server::run_inline(Partition<Server>& p, Task& t) {
  ++inline_depth();
  run_task(p, t);
  --inline_depth();
  bump(p.counters(), Count::RanInline);
}

inline void Server::answer_duplicate(const Routed& in, const DedupWindow::Entry& e) {
  gateways_[in.conn.io]->deliver(Reply{in.conn, e.exec, hft::TscClock::ticks(), e.journal_seq});
}

inline void Server::run_task(Partition<Server>& p, Task& t) {
  const std::uint64_t start = hft::TscClock::ticks();
  Reply rep;
  const Reason why = venue_->execute(t, rep);
  if (why != Reason::None) {
    bump(p.counters(), why == Reason::BadMsg         ? Count::RejectedBadMsg
                       : why == Reason::RiskQty      ? Count::RejectedRiskQty
                       : why == Reason::RiskPrice    ? Count::RejectedRiskPrice
                       : why == Reason::RiskNotional ? Count::RejectedRiskNotional
                                                     : Count::RejectedRiskRate);
  }
  bump(p.counters(), Count::Completed);
  if (t.dedup_slot != DedupWindow::npos) p.dedup()->complete(t.dedup_slot, rep.exec, rep.durable_after);
  if (t.fam_slot != FamilyTable::npos) p.families().done(t.fam_slot);
  gateways_[rep.conn.io]->deliver(rep);
  // The Auto policy's estimate: each thread's first task, then one in 64 (a shared store per
  // task would cost more than it measures). Relaxed: a racing update loses a sample.
  static thread_local std::uint32_t sample = 0;
  if (cfg_.execute == ExecuteMode::Auto && (sample++ & 63u) == 0) {
    const auto ns =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(clock_.delta_to_ns(rep.t_built - start), 1u << 30));
    const std::uint32_t old = mean_task_ns_.load(std::memory_order_relaxed);
    mean_task_ns_.store(old == 0 ? ns : old - old / 8 + ns / 8, std::memory_order_relaxed);
  }
}

}  // namespace mini_oms
