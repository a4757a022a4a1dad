// hft/sched/family_scheduler.hpp: FamilyScheduler<Task>, per-family FIFO with at most one
// task of a family in flight, round-robin fairness across families, a bounded backlog per
// family, and memory bounded by live work.
//
// What: one scheduler per partition. A single dispatcher thread calls submit(family, task);
//   tasks run on an executor (any type with `execute(Job)`, e.g. hft::WorkerPool) through
//   the handler given at construction, called as `handler(const TaskInfo&, Task&)`.
//   Invariants and where they are enforced:
//   - FIFO within a family: each family is a linked queue; the dispatcher appends at the
//     tail, and only the thread holding the family's token takes from the head.
//   - At most one task of a family in flight: a family has one token, the transition of
//     its count from 0 to 1 in submit() (the only place a Job for an idle family is
//     created). The worker holding it keeps it until its count drops to 0 or it passes
//     the Job on at the end of a slice. So there is never more than one Job per family.
//   - Every submitted task runs exactly once or is rejected at submit time with a reason
//     (SubmitStatus). No lost wake-up: the count is a single atomic that the dispatcher
//     increments after appending and the worker decrements after running, so "queue
//     empty" and "family idle" are one event; there is no window between them (folly
//     SerialExecutor's scheduled-counter, not Netty's flag + re-check + CAS). The worker
//     reads the count, runs that many tasks (up to its slice) and then subtracts them all
//     at once: one RMW per batch instead of per task, and still no window (the
//     subtraction returns what arrived meanwhile).
//   - Fairness: a worker runs at most `max_tasks_per_slice` consecutive tasks of a family,
//     then re-queues the family's Job at the back of the executor: round-robin over ready
//     families. A hot family cannot starve others even with one worker.
//   - Bounded backlog: past `max_pending_per_family` tasks (queued + running) of one
//     family, submit() rejects that family's task with FamilyFull; others are unaffected.
//     Past `max_pending_tasks` tasks accepted and not completed (all families), it rejects
//     with NoTaskCapacity. A task counts as completed when the slice that ran it ends (a
//     worker publishes its completions once per slice), so up to max_tasks_per_slice - 1
//     finished tasks per running slice still count; never fewer than max_pending_tasks
//     are admitted, never more. The node pool is sized so that an admitted task always
//     finds a node.
//   - Memory bounded by live work: family records and task nodes come from pools sized at
//     construction. A family whose count is 0 is reclaimed lazily by the dispatcher (a
//     clock hand checks two records per new family, and a full sweep runs only when the
//     pool is empty), so a stream of 10M distinct keys runs in the same memory as 10.
//   - Debug builds (HFT_ENABLE_ASSERTS) assert that each family's tasks complete with
//     strictly increasing sequence numbers.
//   The protocol is model-checked with spin: docs/scheduling/family_scheduler.pml.
// When to use: keyed serial execution (orders of one client or one correlation id) across
//   many keys on a few threads. When not: keys needing no ordering (use a plain pool), or
//   several dispatcher threads (use one scheduler per partition, as the mini-OMS does).
// Compared with: folly SerialExecutor has the counter but one executor
//   per key and no bound; StrandExecutor caps a run at 32 tasks but allocates per task;
//   Netty re-checks after going idle; Akka bounds a mailbox. Here all four, with a key
//   table and pools so that no task or family allocates.
// Thread-safety: submit()/emplace()/stats()/families_live(): the dispatcher
//   thread only (one thread at a time). Job::operator(): the executor's worker thread, once
//   per Job. counters (stats()) are readable by any thread as approximate values.
// Progress: submit() is wait-free (bounded probing, bounded sweep, no waiting on workers)
//   apart from the executor's execute(). A Job runs its slice without waiting.
// Memory ordering: see submit() and run_slice(): the dispatcher's link store (release)
//   pairs with the worker's acquire load of the link; the count's acq_rel RMWs pair with
//   each other; freed nodes return through a stack whose release CAS pairs with the
//   dispatcher's acquire exchange; reclaim's acquire load pairs with the worker's final
//   release decrement.
// Complexity: O(1) expected per submit (open-addressing key table, load <= 0.5) and per
//   task run. Memory: (max_families x 128 B) + (max_families + max_pending_tasks) task
//   nodes + a 2 x max_families key table, all allocated in the constructor.
// Executor contract: `execute(Job)` must be noexcept (checked at compile time: the
//   constructor does not accept another executor). A Job is the family's only token; an
//   execute() that threw after the family went busy would lose it and wedge the family.
//   hft::WorkerPool::execute is noexcept.
// Handler contract: an exception from the handler is caught: the task counts as completed
//   (it is destroyed), the family goes on with its next task, the exception is counted in
//   FamilySchedulerStats::handler_exceptions and reported to stderr. Handlers that need
//   another policy catch inside.
// Exceptions from the task's constructor (emplace): nothing is queued, the exception
//   propagates, and the family's state is unchanged.
// Lifecycle: not copyable or movable (Jobs point at the scheduler).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/flat_index.hpp"

namespace hft {

/// What FamilyScheduler::submit() did with a task: accepted (Dispatched, Queued) or rejected,
/// and why.
enum class SubmitStatus : std::uint8_t {
  Dispatched,       // family was idle: its Job went to the executor
  Queued,           // family busy: queued behind its earlier tasks
  FamilyFull,       // rejected: the family already has max_pending_per_family tasks
  NoTaskCapacity,   // rejected: max_pending_tasks tasks are accepted and not completed
  NoFamilyCapacity  // rejected: max_families families are live (none idle to reclaim)
};

/// The status in upper case ("FAMILY_FULL"), for logs and metrics labels.
[[nodiscard]] constexpr const char* to_string(SubmitStatus s) noexcept {
  switch (s) {
    case SubmitStatus::Dispatched: return "DISPATCHED";
    case SubmitStatus::Queued: return "QUEUED";
    case SubmitStatus::FamilyFull: return "FAMILY_FULL";
    case SubmitStatus::NoTaskCapacity: return "NO_TASK_CAPACITY";
    case SubmitStatus::NoFamilyCapacity: return "NO_FAMILY_CAPACITY";
  }
  return "?";
}
/// True for Dispatched and Queued: the task will run.
[[nodiscard]] constexpr bool accepted(SubmitStatus s) noexcept {
  return s == SubmitStatus::Dispatched || s == SubmitStatus::Queued;
}

/// Capacity bounds and the fairness slice of a FamilyScheduler.
struct FamilySchedulerConfig {
  std::uint32_t max_families = 1u << 16;        ///< live families (queued or running work)
  std::uint32_t max_pending_tasks = 1u << 16;   ///< accepted, not completed, all families
  std::uint32_t max_pending_per_family = 1024;  ///< FamilyFull past this
  std::uint32_t max_tasks_per_slice = 8;        ///< fairness: consecutive tasks per turn
};

/// Counter snapshot. tasks_in == dispatched + enqueued_busy + rejected_*; completed counts
/// tasks whose handler returned (added once per slice).
struct FamilySchedulerStats {
  std::uint64_t tasks_in = 0;              ///< submit() and emplace() calls, accepted or not
  std::uint64_t dispatched = 0;            ///< found the family idle: sent to the executor at once
  std::uint64_t enqueued_busy = 0;         ///< found the family busy: waited behind it
  std::uint64_t completed = 0;             ///< tasks whose handler returned or threw
  std::uint64_t rejected_family_full = 0;  ///< submits refused with FamilyFull
  std::uint64_t rejected_no_capacity = 0;  ///< NoTaskCapacity + NoFamilyCapacity
  std::uint64_t slices_requeued = 0;       ///< a family sent to the back after a full slice
  std::uint64_t max_pending_depth = 0;     ///< deepest family seen (queued + running)
  std::uint64_t max_pending_family = 0;    ///< the family key that reached max_pending_depth
  std::uint64_t families_live = 0;         ///< families with queued or running work, or not yet reclaimed
  std::uint64_t families_reclaimed = 0;    ///< idle family records freed for reuse
  std::uint64_t handler_exceptions = 0;    ///< tasks whose handler threw (counted as completed)
};

template <class Task>
class FamilyScheduler;

/// An executor FamilyScheduler accepts: execute(job) from any thread, never throwing.
template <class E, class Job>
concept NoexceptExecutor = requires(E& e, Job j) {
  { e.execute(j) } noexcept;
};

/// Runs tasks in order within a family (a key) and families in parallel on an executor, with
/// bounded memory and a fairness slice.
template <class Task>
class FamilyScheduler {
  static_assert(std::is_nothrow_destructible_v<Task>, "tasks must be nothrow destructible");

 public:
  /// The family key: tasks with the same key run one at a time, in submission order.
  using Key = std::uint64_t;

  /// What a task's handler is told about the task it runs.
  struct TaskInfo {
    Key family;         ///< the task's family key
    std::uint64_t seq;  ///< 1, 2, 3, ... per family since the family record was created
  };

  /// The unit the executor runs: "run the next slice of this family". Trivially copyable,
  /// two words. Call exactly once, on a worker thread.
  class Job {
   public:
    Job() = default;
    /// Runs the family's next slice (at most max_tasks_per_slice tasks). Call exactly once, on
    /// a worker thread.
    void operator()() const noexcept { sched_->slice_fn_(sched_, slot_); }
    /// The family record's slot index (for tracing).
    [[nodiscard]] std::uint32_t slot() const noexcept { return slot_; }

   private:
    friend class FamilyScheduler;
    Job(FamilyScheduler* s, std::uint32_t slot) noexcept : sched_(s), slot_(slot) {}
    FamilyScheduler* sched_ = nullptr;
    std::uint32_t slot_ = 0;
  };

  /// `handler` and `executor` are referenced, not copied: both must outlive the scheduler
  /// and every Job it created. Throws std::invalid_argument on a zero limit.
  template <class Handler, NoexceptExecutor<Job> Executor>
  FamilyScheduler(const FamilySchedulerConfig& cfg, Handler& handler, Executor& executor)
      : cfg_(validate(cfg)),
        handler_obj_(&handler),
        slice_fn_(&run_slice_for<Handler>),
        executor_obj_(&executor),
        executor_fn_([](void* e, Job j) noexcept { static_cast<Executor*>(e)->execute(j); }),
        families_(new Family[cfg_.max_families]),
        node_count_(static_cast<std::size_t>(cfg_.max_families) + cfg_.max_pending_tasks),
        nodes_(new Node[node_count_]),
        index_(cfg_.max_families) {
    static_assert(requires(Handler& h, const TaskInfo& i, Task& t) { h(i, t); },
                  "Handler is called as handler(const TaskInfo&, Task&)");
    for (std::size_t i = 0; i + 1 < node_count_; ++i) nodes_[i].free_next = &nodes_[i + 1];
    local_free_ = &nodes_[0];
    for (std::uint32_t i = 0; i + 1 < cfg_.max_families; ++i) families_[i].free_next = i + 1;
    free_family_ = 0;
  }

  FamilyScheduler(const FamilyScheduler&) = delete;
  FamilyScheduler& operator=(const FamilyScheduler&) = delete;

  /// Destroy only when no Job is queued or running (stop the executor first). Tasks still
  /// queued are destroyed without running.
  ~FamilyScheduler() {
    for (std::uint32_t i = 0; i < cfg_.max_families; ++i) {
      Family& f = families_[i];
      if (!f.live) continue;
      // Acquire pairs with emplace()'s release link store (the destructor may run on a
      // thread other than the dispatcher's).
      for (Node* n = f.head->next.load(std::memory_order_acquire); n != nullptr;
           n = n->next.load(std::memory_order_acquire)) {
        n->task()->~Task();
      }
    }
  }

  /// Dispatcher thread only. Moves `task` in (or rejects it, leaving it untouched... moved
  /// from only when accepted). See SubmitStatus.
  SubmitStatus submit(Key family, Task&& task) { return emplace(family, std::move(task)); }

  /// Dispatcher thread only. Constructs the task in its node.
  template <class... Args>
  SubmitStatus emplace(Key family, Args&&... args) {
    bump(tasks_in_);
    if (!has_task_capacity()) {
      bump(rejected_no_capacity_);
      return SubmitStatus::NoTaskCapacity;
    }
    std::uint32_t slot = find(family);
    if (slot == kNone) {
      slot = create(family);
      if (slot == kNone) {
        bump(rejected_no_capacity_);
        return SubmitStatus::NoFamilyCapacity;
      }
    }
    Family& f = families_[slot];
    // We are about to write this line (tail, count): ask for it exclusive now, so that the
    // load below does not fetch it shared only for the write to fetch it again (the line
    // was last written by the worker that ran the family: one transfer instead of two).
    prefetch_for_write(&f);
    // Only this thread increments count, so a stale value can only be too high: the check
    // is conservative, never lets the limit be exceeded.
    const std::uint32_t pending = f.count.load(std::memory_order_relaxed);
    prefetch_for_write(f.tail);  // its link is written below; the worker has read it
    if (pending >= cfg_.max_pending_per_family) {
      bump(rejected_family_full_);
      return SubmitStatus::FamilyFull;
    }
    Node* n = alloc_node();
    HFT_ASSERT(n != nullptr, "FamilyScheduler: node pool exhausted below max_pending_tasks (accounting bug)");
    if (n == nullptr) {
      bump(rejected_no_capacity_);
      return SubmitStatus::NoTaskCapacity;
    }
    try {
      ::new (static_cast<void*>(n->storage)) Task(std::forward<Args>(args)...);
    } catch (...) {
      n->free_next = local_free_;
      local_free_ = n;
      throw;
    }
    n->seq = ++f.next_seq;
    n->next.store(nullptr, std::memory_order_relaxed);
    // Release pairs with the worker's acquire load of `next` in run_slice(): the task's
    // construction is visible before the worker can reach the node.
    f.tail->next.store(n, std::memory_order_release);
    f.tail = n;
    // acq_rel: release publishes the link to a worker already running this family (its
    // fetch_sub reads this value); acquire pairs with that worker's last fetch_sub, so when
    // prev == 0 everything it did to the family (head, nodes) happened before our Job.
    const std::uint32_t prev = f.count.fetch_add(1, std::memory_order_acq_rel);
    if (prev + 1u > max_depth_.load(std::memory_order_relaxed)) {
      max_depth_.store(prev + 1u, std::memory_order_relaxed);
      max_depth_family_.store(family, std::memory_order_relaxed);
    }
    if (prev == 0) {
      bump(dispatched_);
      executor_fn_(executor_obj_, Job(this, slot));
      return SubmitStatus::Dispatched;
    }
    bump(enqueued_busy_);
    return SubmitStatus::Queued;
  }

  /// Dispatcher thread (exact); other threads get approximate values.
  [[nodiscard]] FamilySchedulerStats stats() const noexcept {
    FamilySchedulerStats s;
    s.tasks_in = tasks_in_.load(std::memory_order_relaxed);
    s.dispatched = dispatched_.load(std::memory_order_relaxed);
    s.enqueued_busy = enqueued_busy_.load(std::memory_order_relaxed);
    s.completed = worker_.value.completed.load(std::memory_order_relaxed);
    s.slices_requeued = worker_.value.requeued.load(std::memory_order_relaxed);
    s.rejected_family_full = rejected_family_full_.load(std::memory_order_relaxed);
    s.rejected_no_capacity = rejected_no_capacity_.load(std::memory_order_relaxed);
    s.max_pending_depth = max_depth_.load(std::memory_order_relaxed);
    s.max_pending_family = max_depth_family_.load(std::memory_order_relaxed);
    s.families_live = families_live_.load(std::memory_order_relaxed);
    s.families_reclaimed = families_reclaimed_.load(std::memory_order_relaxed);
    s.handler_exceptions = worker_.value.handler_exceptions.load(std::memory_order_relaxed);
    return s;
  }

  /// Any thread. Tasks completed so far. Acquire pairs with the release add in run_slice():
  /// the completed tasks' effects are visible to a caller that sees the count.
  [[nodiscard]] std::uint64_t completed() const noexcept {
    return worker_.value.completed.load(std::memory_order_acquire);
  }

  /// Dispatcher thread only. Reclaims every idle family now (normally done lazily).
  std::size_t reclaim_idle() noexcept {
    std::size_t n = 0;
    for (std::uint32_t i = 0; i < cfg_.max_families; ++i) if (try_reclaim(i)) ++n;
    return n;
  }

  /// Families with work or not yet reclaimed (relaxed load: a statistic).
  [[nodiscard]] std::uint64_t families_live() const noexcept {
    return families_live_.load(std::memory_order_relaxed);
  }
  /// The configuration it was built with.
  [[nodiscard]] const FamilySchedulerConfig& config() const noexcept { return cfg_; }

 private:
  static constexpr std::uint32_t kNone = FlatIndex::npos;

  // A hint (x86 PREFETCHW, a NOP on CPUs without it): no memory effect, so it changes
  // nothing TSan or the model see. Spelled in asm because compilers emit it for
  // __builtin_prefetch(p, 1) only with -mprfchw, which a header cannot assume.
  static void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__)
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p, 1, 3);
#endif
  }

  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): raw bytes for a Task built in place
  struct Node {
    alignas(Task) unsigned char storage[sizeof(Task)];
    std::atomic<Node*> next{nullptr};  // family queue link (dispatcher writes, worker reads)
    Node* free_next = nullptr;         // free-list link (owner of the free list only)
    std::uint32_t chain_len = 0;       // first node of a returned chain: its length
    std::uint64_t seq = 0;
    Task* task() noexcept { return std::launder(reinterpret_cast<Task*>(storage)); }
  };

  // One cache block per family: families run by different workers must not share a line.
  struct alignas(cache_line_size) Family {
    std::atomic<std::uint32_t> count{0};  // tasks queued + running; 0 == idle
    bool live = false;                    // dispatcher: record holds a key
    std::uint32_t free_next = kNone;      // dispatcher: family free list
    Key key = 0;                          // dispatcher
    Node* tail = nullptr;                 // dispatcher
    std::uint64_t next_seq = 0;           // dispatcher
    Node* head = nullptr;                 // token holder: the consumed (dummy) node
    std::uint64_t last_done = 0;          // token holder: debug order check
  };
  static_assert(sizeof(Family) == cache_line_size, "one family per cache block");

  struct WorkerCounters {
    std::atomic<std::uint64_t> completed{0};
    std::atomic<std::uint64_t> requeued{0};
    std::atomic<std::uint64_t> handler_exceptions{0};
  };

  static const FamilySchedulerConfig& validate(const FamilySchedulerConfig& c) {
    if (c.max_families == 0 || c.max_pending_tasks == 0 || c.max_pending_per_family == 0 ||
        c.max_tasks_per_slice == 0) {
      throw std::invalid_argument("hft::FamilyScheduler: every limit in FamilySchedulerConfig must be >= 1");
    }
    if (c.max_families > (1u << 30)) throw std::invalid_argument("hft::FamilyScheduler: max_families > 2^30");
    return c;
  }

  // Dispatcher-owned counters: one writer, so load+store instead of a locked RMW.
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::uint32_t find(Key k) const noexcept { return index_.find(k); }

  // Fewer than max_pending_tasks accepted and not completed? Reads the workers' counter (a
  // shared line) only when the cached value says the limit is reached. Acquire pairs with
  // run_slice()'s release add: the nodes those tasks freed are on the return stack.
  bool has_task_capacity() noexcept {
    const std::uint64_t accepted = dispatched_.load(std::memory_order_relaxed) +
                                   enqueued_busy_.load(std::memory_order_relaxed);
    if (accepted - completed_seen_ < cfg_.max_pending_tasks) return true;
    completed_seen_ = worker_.value.completed.load(std::memory_order_acquire);
    return accepted - completed_seen_ < cfg_.max_pending_tasks;
  }

  std::uint32_t create(Key k) noexcept {
    // Two clock steps per new family: reclaiming keeps pace with creation, amortised O(1).
    for (int step = 0; step < 2; ++step) {
      try_reclaim(clock_hand_);
      clock_hand_ = clock_hand_ + 1 == cfg_.max_families ? 0 : clock_hand_ + 1;
    }
    if (free_family_ == kNone) reclaim_idle();
    if (free_family_ == kNone) return kNone;
    Node* dummy = alloc_node();
    // has_task_capacity() passed and a family record is free, so a node is too.
    HFT_ASSERT(dummy != nullptr, "FamilyScheduler: no node for a new family (accounting bug)");
    if (dummy == nullptr) return kNone;
    const std::uint32_t slot = free_family_;
    Family& f = families_[slot];
    free_family_ = f.free_next;
    dummy->next.store(nullptr, std::memory_order_relaxed);
    f.live = true;
    f.key = k;
    f.head = f.tail = dummy;
    f.next_seq = 0;
    f.last_done = 0;
    const bool inserted = index_.try_insert(k, slot);
    HFT_ASSERT(inserted, "FamilyScheduler: key table out of step with the family pool");
    (void)inserted;
    families_live_.store(families_live_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return slot;
  }

  bool try_reclaim(std::uint32_t slot) noexcept {
    Family& f = families_[slot];
    // Acquire pairs with the worker's final fetch_sub (release) in run_slice(): its writes
    // to head and the freed nodes happened before, and it never touches f again.
    if (!f.live || f.count.load(std::memory_order_acquire) != 0) return false;
    HFT_ASSERT(f.head == f.tail, "FamilyScheduler: idle family with queued nodes");
    index_.erase(f.key);
    f.head->free_next = local_free_;
    local_free_ = f.head;
    f.head = f.tail = nullptr;
    f.live = false;
    f.free_next = free_family_;
    free_family_ = slot;
    families_live_.store(families_live_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    bump(families_reclaimed_);
    return true;
  }

  // Dispatcher only. Nodes come from its own list first (the initial pool, reclaimed
  // dummies), then from the chains workers returned: a chain is the `chain_len` nodes one
  // slice consumed, still linked through `next` (links the dispatcher itself wrote), so a
  // worker writes one node per slice to free them, not every node.
  Node* alloc_node() noexcept {
    if (local_free_ != nullptr) {
      Node* n = local_free_;
      local_free_ = n->free_next;
      prefetch_next_node();
      return n;
    }
    if (chain_left_ == 0) {
      if (chains_ == nullptr) {
        // Acquire pairs with the workers' release CAS in free_chain(): their last reads of
        // these nodes (and the chain headers they wrote) happened before.
        chains_ = returned_.value.exchange(nullptr, std::memory_order_acquire);
        if (chains_ == nullptr) return nullptr;
      }
      chain_node_ = chains_;
      chain_left_ = chains_->chain_len;
      chains_ = chains_->free_next;
    }
    Node* n = chain_node_;
    // Relaxed: this thread wrote the link when it queued the next task.
    if (--chain_left_ != 0) chain_node_ = n->next.load(std::memory_order_relaxed);
    prefetch_next_node();
    return n;
  }

  // The node the next alloc_node() returns was last touched by a worker: start fetching it,
  // exclusive, now, so the next submit does not wait for it.
  void prefetch_next_node() const noexcept {
    if (local_free_ != nullptr) {
      prefetch_for_write(local_free_);
    } else if (chain_left_ != 0) {
      prefetch_for_write(chain_node_);
    } else if (chains_ != nullptr) {
      prefetch_for_write(chains_);
    }
  }

  // Any worker: returns the `count` nodes first, first->next, ... in one CAS, writing only
  // `first` (so the dispatcher's next write to the others needs no dirty line from us).
  void free_chain(Node* first, std::uint32_t count) noexcept {
    first->chain_len = count;
    Node* top = returned_.value.load(std::memory_order_relaxed);
    do {
      first->free_next = top;
      // Release pairs with the dispatcher's acquire exchange in alloc_node(). No ABA: the
      // only consumer takes the whole stack at once.
    } while (!returned_.value.compare_exchange_weak(top, first, std::memory_order_release,
                                                    std::memory_order_relaxed));
  }

  template <class Handler>
  static void run_slice_for(FamilyScheduler* self, std::uint32_t slot) noexcept {
    self->run_slice(slot, *static_cast<Handler*>(self->handler_obj_));
  }

  // The token holder's slice. It reads the count once and runs that many tasks (up to the
  // slice) before it decrements by as many: one RMW on the family's line per batch, not
  // per task, so the dispatcher's increments mostly find the line in its own cache.
  template <class Handler>
  void run_slice(std::uint32_t slot, Handler& handler) noexcept {
    Family& f = families_[slot];
    prefetch_for_write(&f);  // we write head and count: one exclusive fetch (see emplace)
    const Key key = f.key;  // written by the dispatcher before the Job was created
    Node* const first_done = f.head;
    Node* head = first_done;
    std::uint32_t ran = 0;
    bool requeue = false;
    // >= 1: we hold the token. Acquire pairs with the dispatcher's acq_rel fetch_add: the
    // links of every task counted are visible.
    std::uint32_t pending = f.count.load(std::memory_order_acquire);
    HFT_ASSERT(pending >= 1, "FamilyScheduler: a slice ran for an idle family (a Job run twice)");
    for (;;) {
      const std::uint32_t room = cfg_.max_tasks_per_slice - ran;
      const std::uint32_t batch = pending < room ? pending : room;
      for (std::uint32_t i = 0; i < batch; ++i) {
        // Acquire pairs with the dispatcher's release store of the link in emplace().
        Node* n = head->next.load(std::memory_order_acquire);
        HFT_ASSERT(n != nullptr, "FamilyScheduler: count > 0 but the family queue is empty");
        HFT_ASSERT(n->seq > f.last_done, "FamilyScheduler: family tasks out of order");
#if HFT_ENABLE_ASSERTS
        f.last_done = n->seq;
#endif
        try {
          handler(TaskInfo{key, n->seq}, *n->task());
        } catch (...) {
          report_handler_exception(key, n->seq);
        }
        n->task()->~Task();
        head = n;  // n becomes the dummy
      }
      ran += batch;
      f.head = head;  // before the decrement that may hand f over to reclaim
      // acq_rel: release hands our writes (head, task state) to the next token holder or to
      // reclaim; acquire pairs with the dispatcher's fetch_adds so their links are visible.
      const std::uint32_t prev = f.count.fetch_sub(batch, std::memory_order_acq_rel);
      if (prev == batch) break;  // idle: f may be reclaimed from now on; do not touch it
      pending = prev - batch;
      if (ran == cfg_.max_tasks_per_slice) {
        requeue = true;
        break;
      }
    }
    // The `ran` consumed nodes first_done .. are still chained through `next`, and only
    // this thread can reach them now.
    free_chain(first_done, ran);
    // Release pairs with completed()'s acquire load.
    worker_.value.completed.fetch_add(ran, std::memory_order_release);
    if (requeue) {
      worker_.value.requeued.fetch_add(1, std::memory_order_relaxed);
      executor_fn_(executor_obj_, Job(this, slot));  // back of the line; the executor's
                                                      // hand-off carries our writes
    }
  }

  void report_handler_exception(Key key, std::uint64_t seq) noexcept {
    worker_.value.handler_exceptions.fetch_add(1, std::memory_order_relaxed);
    const char* what = "a non-standard exception";
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "hft::FamilyScheduler: handler threw for family %llu, task %llu: %s\n",
                 static_cast<unsigned long long>(key), static_cast<unsigned long long>(seq), what);
  }

  const FamilySchedulerConfig cfg_;
  void* handler_obj_;
  void (*slice_fn_)(FamilyScheduler*, std::uint32_t);  // run_slice<Handler>: the handler inlines
  void* executor_obj_;
  void (*executor_fn_)(void*, Job);

  std::unique_ptr<Family[]> families_;
  const std::size_t node_count_;
  std::unique_ptr<Node[]> nodes_;
  FlatIndex index_;  // key -> family slot

  // Dispatcher-only state.
  Node* local_free_ = nullptr;  // nodes the dispatcher owns outright, linked by free_next
  Node* chains_ = nullptr;      // returned chains not yet started
  Node* chain_node_ = nullptr;  // the next node of the chain being used ...
  std::uint32_t chain_left_ = 0;  // ... and how many it has left
  std::uint32_t free_family_ = kNone;
  std::uint32_t clock_hand_ = 0;
  std::uint64_t completed_seen_ = 0;  // a recent value of worker_.completed (has_task_capacity)
  std::atomic<std::uint64_t> tasks_in_{0}, dispatched_{0}, enqueued_busy_{0}, rejected_family_full_{0},
      rejected_no_capacity_{0}, max_depth_{0}, max_depth_family_{0}, families_live_{0}, families_reclaimed_{0};

  // Shared with workers, each on its own block.
  CachePadded<std::atomic<Node*>> returned_{};
  CachePadded<WorkerCounters> worker_{};
};

}  // namespace hft
