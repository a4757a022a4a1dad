// mini_oms/partition.hpp: the dispatch stage of one partition: number each request in its
// family (seq_in_family) and submit it to the partition's FamilyScheduler.
//
// It runs on one thread per partition: in Ring mode a dispatcher thread that drains the
// partition's multi-producer ring; in Inline mode the one I/O thread calls submit() itself
// (the scheduler needs a single submitting thread, so Inline needs io_threads == 1).
// The family-number table is bounded: when full it evicts the least recently active idle
// family (whose numbering then restarts at 1, as docs/protocol.md allows).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "hft/core/clock.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/core/thread.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/disruptor/ring_buffer.hpp"
#include "hft/disruptor/sequence_barrier.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "journaling.hpp"
#include "logging.hpp"
#include "records.hpp"

namespace mini_oms {

// The numbering of one partition's families (dispatcher-owned apart from in_flight).
class FamilyTable {
 public:
  static constexpr std::uint32_t npos = hft::FlatIndex::npos;
  explicit FamilyTable(std::size_t n) : index_(n), slots_(new Slot[n]), capacity_(n) {}

  /// The slot of `key` (made most recently active), a new or evicted one, or npos when
  /// every family in the table has work in flight. `evicted` counts evictions.
  std::uint32_t slot_of(std::uint64_t key, hft::CounterGroup& counters) {
    std::uint32_t s = index_.find(key);
    if (s != npos) {
      if (head_ != s) {
        unlink(s);
        push_front(s);
      }
      return s;
    }
    if (used_ < capacity_) {
      s = static_cast<std::uint32_t>(used_++);
    } else {
      // The least recently active idle family. Acquire pairs with the release decrement in
      // done(): the last task's use of the slot is over.
      s = tail_;
      while (s != npos && slots_[s].in_flight.load(std::memory_order_acquire) != 0) s = slots_[s].prev;
      if (s == npos) return s;  // every family busy: the caller rejects
      unlink(s);
      index_.erase(slots_[s].key);
      evicted_max_req_ = std::max(evicted_max_req_, slots_[s].max_req_id);
      bump(counters, Count::FamiliesEvicted);
    }
    slots_[s].key = key;
    slots_[s].next_seq = 0;
    // A family new to the table may have been in it before: its req_ids then were at most
    // the largest any evicted family had used.
    slots_[s].max_req_id = evicted_max_req_;
    (void)index_.try_insert(key, s);
    push_front(s);
    return s;
  }
  std::uint64_t next_seq(std::uint32_t s) const noexcept { return slots_[s].next_seq + 1; }
  void admitted(std::uint32_t s, std::uint64_t seq) noexcept { slots_[s].next_seq = seq; }
  /// --journal: whether `req_id` is above every req_id this family has put in the dedup
  /// window (then a lookup cannot find it: exact, and the common case for clients that
  /// count up). Conservative across evictions: a returning family starts at the largest
  /// req_id any evicted family had used.
  [[nodiscard]] bool is_new_req(std::uint32_t s, std::uint64_t req_id) const noexcept {
    return req_id > slots_[s].max_req_id;
  }
  /// --journal: `req_id` may be in the window from now on (dispatching thread, or restore).
  void used_req(std::uint32_t s, std::uint64_t req_id) noexcept {
    slots_[s].max_req_id = std::max(slots_[s].max_req_id, req_id);
  }
  // Relaxed: the slot is not evicted while in_flight > 0 (done()'s release decrement pairs
  // with slot_of()'s acquire load); the increment itself orders nothing.
  void begin(std::uint32_t s) noexcept { slots_[s].in_flight.fetch_add(1, std::memory_order_relaxed); }
  void cancel(std::uint32_t s) noexcept { slots_[s].in_flight.fetch_sub(1, std::memory_order_relaxed); }
  /// Any thread (the task's): its family's slot may be evicted from now on.
  void done(std::uint32_t s) noexcept { slots_[s].in_flight.fetch_sub(1, std::memory_order_release); }

 private:
  struct Slot {
    std::uint64_t key = 0, next_seq = 0;
    std::uint64_t max_req_id = 0;            // --journal: the largest req_id put in the dedup window
    std::uint32_t prev = npos, next = npos;  // LRU list, most recent at the head
    std::atomic<std::uint32_t> in_flight{0};
  };
  void unlink(std::uint32_t s) noexcept {
    Slot& x = slots_[s];
    if (x.prev != npos)
      slots_[x.prev].next = x.next;
    else
      head_ = x.next;
    if (x.next != npos)
      slots_[x.next].prev = x.prev;
    else
      tail_ = x.prev;
  }
  void push_front(std::uint32_t s) noexcept {
    Slot& x = slots_[s];
    x.prev = npos;
    x.next = head_;
    if (head_ != npos) slots_[head_].prev = s;
    head_ = s;
    if (tail_ == npos) tail_ = s;
  }
  hft::FlatIndex index_;
  std::unique_ptr<Slot[]> slots_;
  std::size_t capacity_, used_ = 0;
  std::uint32_t head_ = npos, tail_ = npos;
  std::uint64_t evicted_max_req_ = 0;  // the largest max_req_id of any evicted family
};

template <class Pipeline>
class Partition {
 public:
  using Sched = hft::FamilyScheduler<Task>;
  using Ring =
      hft::disruptor::RingBuffer<Inbound, hft::disruptor::ProducerType::Multi, hft::disruptor::BlockingWaitStrategy>;

  Partition(Pipeline& pipeline, unsigned index, bool with_ring)
      : pipeline_(pipeline),
        index_(index),
        families_(std::max<std::size_t>(1, pipeline.config().family_table / pipeline.config().partitions)),
        handler_{&pipeline, this},
        executor_{&pipeline} {
    const ServerConfig& cfg = pipeline.config();
    if (with_ring) {
      ring_ = std::make_unique<Ring>(cfg.ring_size);
      poller_.emplace(*ring_);
      barrier_.emplace(ring_->sequencer(), std::vector<const hft::disruptor::Sequence*>{});
      ring_->add_gating_sequences({&poller_->sequence()});
    }
    hft::FamilySchedulerConfig sc;
    sc.max_families = static_cast<std::uint32_t>(cfg.ring_size * 4);
    sc.max_pending_tasks = static_cast<std::uint32_t>(cfg.ring_size * 4);
    sc.max_pending_per_family = cfg.max_pending_per_family;
    sc.max_tasks_per_slice = cfg.slice;
    sched_ = std::make_unique<Sched>(sc, handler_, executor_);
    if (!cfg.journal_dir.empty()) {
      // Larger than the requests that can be in flight in this partition, so an entry is
      // evicted only after its reply is known.
      dedup_ =
          std::make_unique<DedupWindow>(std::max<std::size_t>(cfg.dedup_window, std::size_t{sc.max_pending_tasks} * 2));
    }
  }

  /// The dispatching thread (this partition's, or the I/O thread in Inline mode). Numbers
  /// the request and submits it; None when admitted, else the admission reject to answer.
  Reason submit(const Routed& in) {
    const std::uint64_t t_disp = hft::TscClock::ticks();
    std::uint32_t fslot = FamilyTable::npos;
    std::uint64_t seq = 1;
    if (!in.correlated && pipeline_.may_run_inline()) {
      // An uncorrelated request is a family of its own: nothing to order it against, so
      // when it may run here it needs no family record, node or Job at all.
      Task t(in, 1, FamilyTable::npos, t_disp);
      bump(counters_, Count::Admitted);
      pipeline_.run_inline(*this, t);
      return Reason::None;
    }
    std::uint32_t dslot = DedupWindow::npos;
    if (in.correlated) fslot = families_.slot_of(in.family, counters_);
    if (in.correlated && dedup_) {
      // --journal: a (correlation id, req_id) this partition executed gets its original
      // reply again and executes nothing; one still executing is BUSY (retrying later gets
      // the reply). Neither takes a number. A req_id above every one its family has used
      // cannot be in the window: no lookup (it would miss the cache for nothing).
      if (fslot == FamilyTable::npos || !families_.is_new_req(fslot, in.order.req_id)) {
        const std::uint32_t d = dedup_->find(in.family, in.order.req_id);
        if (d != DedupWindow::npos) {
          if (dedup_->state(d) != DedupWindow::Done) return Reason::Busy;
          bump(counters_, Count::Duplicates);
          pipeline_.answer_duplicate(in, dedup_->entry(d));
          return Reason::None;
        }
      }
      if (!dedup_->can_insert()) return Reason::Busy;  // the whole window is in flight
    }
    if (in.correlated) {
      if (fslot == FamilyTable::npos) return Reason::FamilyFull;
      seq = families_.next_seq(fslot);
      families_.begin(fslot);  // before emplace: an inline task may finish inside it
      // Before emplace too: an inline task completes its entry inside it.
      if (dedup_) {
        families_.used_req(fslot, in.order.req_id);
        dslot = dedup_->insert_pending(in.family, in.order.req_id, seq);
      }
    }
    in_submit() = &counters_;  // the executor may run this task right here (Server::execute)
    const auto st = sched_->emplace(in.family, in, seq, fslot, t_disp, dslot);
    in_submit() = nullptr;
    if (!hft::accepted(st)) {
      if (fslot != FamilyTable::npos) families_.cancel(fslot);
      if (dslot != DedupWindow::npos) dedup_->cancel(dslot);
      return st == hft::SubmitStatus::FamilyFull ? Reason::FamilyFull : Reason::Busy;
    }
    // After emplace, which may have run the task inline already: completed can lead admitted
    // for a moment, never at quiescence (and a counter never goes down).
    bump(counters_, Count::Admitted);
    if (fslot != FamilyTable::npos) families_.admitted(fslot, seq);
    const std::uint32_t every = pipeline_.config().log_sample;
    if (every != 0 && ++admitted_count_ % every == 0) {
      HFT_LOG_INFO(pipeline_.log().io(), "partition={} correlation_id={} seq_in_family={}", index_,
                   in.correlated ? static_cast<std::int64_t>(in.family) : std::int64_t{-1}, seq);
    }
    return Reason::None;
  }

  /// Before start(), one thread: a journaled execution of this partition's family, so that
  /// its numbering continues and a re-send of it gets its reply again.
  void restore(const ExecView& v, std::uint64_t journal_seq) {
    if (v.h.correlated == 0) return;
    const std::uint32_t fslot = families_.slot_of(v.h.family, counters_);
    if (fslot != FamilyTable::npos) {
      families_.admitted(fslot, v.h.seq);
      families_.used_req(fslot, v.h.req_id);
    }
    if (dedup_) {
      const std::uint32_t d = dedup_->insert_pending(v.h.family, v.h.req_id, v.h.seq);
      if (d != DedupWindow::npos) dedup_->complete(d, execution_of(v.h), journal_seq);
    }
  }

  /// Ring mode, any I/O thread: claims a slot, or nullptr when the ring is full.
  [[nodiscard]] Inbound* try_claim(std::int64_t& seq) {
    const auto s = ring_->try_next();
    if (!s) return nullptr;
    seq = *s;
    return &(*ring_)[*s];
  }
  void publish(std::int64_t seq) { ring_->publish(seq); }

  /// Ring mode: the dispatcher thread's loop, until stop_requested().
  void run() {
    const ServerConfig& cfg = pipeline_.config();
    pipeline_.thread_started();
    hft::set_current_thread_name("oms-disp-" + std::to_string(index_));
    (void)pipeline_.log().io().backend().preallocate();  // the thread's log ring now, not at its first line
    if (!cfg.cpus.empty()) {  // Server checked every CPU at construction: a failure here is loud
      try {
        hft::pin_current_thread(cfg.cpus[(cfg.io_threads + index_) % cfg.cpus.size()]);
      } catch (const std::exception& e) {
        HFT_LOG_ERROR(pipeline_.log().main(), "--cpus: {}; this thread runs unpinned", e.what());
      }
    }
    for (;;) {
      if (!cfg.busy_spin) {
        // Sleep in the ring's blocking wait strategy (it spins and yields briefly first)
        // until a publisher wakes it, instead of burning a core another thread needs.
        const std::int64_t next = poller_->sequence().get() + 1;
        const auto r = barrier_->wait_for(next);
        if (r.status == hft::disruptor::WaitStatus::Alerted && pipeline_.dispatch_stopping()) return;
      }
      const auto state = poller_->poll([&](Inbound& in, std::int64_t, bool) {
        in_ring_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - in.t_pub));
        const Reason why = submit(in);
        if (why != Reason::None) pipeline_.reject(in, why, counters_);
        return true;
      });
      if (state != hft::disruptor::PollState::Processing) {  // busy-spin mode, nothing yet
        hft::cpu_relax();
        if (pipeline_.dispatch_stopping()) return;
      }
    }
  }
  void start_thread() {
    thread_ = std::thread([this] { run(); });
  }
  void stop_thread() {
    if (barrier_) barrier_->alert();
    if (thread_.joinable()) thread_.join();
  }

  /// Ring mode: everything published has been submitted (the scheduler's counts are final).
  [[nodiscard]] bool ring_drained() const {
    return !ring_ || poller_->sequence().get() >= ring_->sequencer().cursor().get();
  }
  [[nodiscard]] bool has_ring() const noexcept { return ring_ != nullptr; }
  [[nodiscard]] Sched& scheduler() noexcept { return *sched_; }
  [[nodiscard]] const Sched& scheduler() const noexcept { return *sched_; }
  [[nodiscard]] FamilyTable& families() noexcept { return families_; }
  [[nodiscard]] DedupWindow* dedup() noexcept { return dedup_.get(); }
  [[nodiscard]] hft::CounterGroup& counters() noexcept { return counters_; }
  [[nodiscard]] const hft::CounterGroup& counters() const noexcept { return counters_; }
  [[nodiscard]] const hft::LatencyHistogram& ring_to_dispatch() const noexcept { return in_ring_; }
  [[nodiscard]] unsigned index() const noexcept { return index_; }

 private:
  // The scheduler calls these; both inline into its slice loop (no std::function).
  struct Handler {
    Pipeline* pipeline;
    Partition* part;
    void operator()(const typename Sched::TaskInfo&, Task& t) { pipeline->run_task(*part, t); }
  };
  struct Executor {
    Pipeline* pipeline;
    void execute(typename Sched::Job j) noexcept { pipeline->execute(j); }
  };

  Pipeline& pipeline_;
  unsigned index_;
  std::unique_ptr<Ring> ring_;
  std::optional<hft::disruptor::EventPoller<Ring>> poller_;
  std::optional<hft::disruptor::SequenceBarrier<typename Ring::sequencer_type>> barrier_;
  FamilyTable families_;
  std::unique_ptr<DedupWindow> dedup_;  // --journal only
  hft::CounterGroup counters_ = make_counters();
  Handler handler_;
  Executor executor_;
  std::unique_ptr<Sched> sched_;
  hft::LatencyHistogram in_ring_ = stage_histogram();
  std::uint64_t admitted_count_ = 0;  // --log-sample only
  std::thread thread_;
};

}  // namespace mini_oms
