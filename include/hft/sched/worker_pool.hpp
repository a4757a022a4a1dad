// hft/sched/worker_pool.hpp: WorkerPool<Job>, a fixed set of threads running small,
// trivially copyable jobs from one bounded multi-producer/multi-consumer ring.
//
// What: the executor FamilyScheduler provides when the user brings none. `execute(job)`
//   from any thread puts a job in the ring; each worker takes jobs and calls `job()`.
//   A job may execute() further jobs (FamilyScheduler re-queues a family at the end of
//   its slice that way).
// When to use: running FamilyScheduler jobs, or any fixed-size job stream whose number
//   of outstanding jobs has a known bound (the ring's capacity). When not: jobs that
//   allocate captured state (std::function-style), unbounded job counts, or work that
//   must run on a particular thread.
// Waiting: a worker with nothing to do spins `spin_iterations` times (cpu_relax), then
//   sleeps on a futex (std::atomic::wait). The default spin is short, so on a machine with
//   fewer cores than busy threads (this project's 2-core CI VM) idle workers give their
//   core back; set spin_iterations high and pin the threads on a dedicated machine.
// How it differs from a mutex + condition_variable pool: no lock on either side; a
//   producer pays one uncontended RMW to learn whether anyone sleeps and makes the
//   futex system call only then. The ring is Dmitry Vyukov's bounded MPMC design (a
//   sequence number per cell; producers and consumers each claim positions by CAS).
// Thread-safety contract: execute(): any thread, including workers. stop(): any thread
//   but a worker, any number of times (the first call does the work; the destructor calls
//   it). The job's operator() runs on a worker thread.
// Lifecycle: not copyable or movable (workers point at the pool). A constructor that
//   fails to start a thread stops the ones it started before it throws. Jobs must not
//   throw (operator() runs inside the worker loop, and a throw there terminates).
// Progress: execute() is lock-free while the ring has room; when full it waits (yields)
//   for room: size the ring for the bound on outstanding jobs so that never happens
//   (FamilyScheduler needs capacity >= its max_families). Workers block when idle.
// Complexity: O(1) per execute and per job taken. Allocates only in the constructor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"
#include "hft/core/thread.hpp"

namespace hft {

namespace detail {

// Vyukov's bounded MPMC ring: cell.seq == pos means "free for the producer claiming pos",
// pos + 1 means "holds the item for the consumer claiming pos".
template <class T>
class MpmcRing {
  static_assert(std::is_trivially_copyable_v<T>, "MpmcRing holds trivially copyable jobs");

 public:
  explicit MpmcRing(std::size_t capacity) : mask_(capacity - 1), cells_(new Cell[capacity]) {
    if (capacity < 2 || !is_power_of_two(capacity)) {
      throw std::invalid_argument("hft::WorkerPool: queue capacity must be a power of two >= 2, got " +
                                  std::to_string(capacity));
    }
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  [[nodiscard]] bool try_push(const T& v) noexcept {
    std::size_t pos = tail_.value.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      // Acquire pairs with the consumer's release store of pos + capacity in try_pop: the
      // consumer's read of the previous item is finished before we overwrite the cell.
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
      if (diff == 0) {
        if (tail_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = v;
          // Release pairs with the consumer's acquire load of seq: publishes c.value.
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the cell still holds the item from one lap ago: full
      } else {
        pos = tail_.value.load(std::memory_order_relaxed);
      }
    }
  }

  [[nodiscard]] bool try_pop(T& out) noexcept {
    std::size_t pos = head_.value.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      // Acquire pairs with the producer's release store of pos + 1 in try_push.
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - (pos + 1));
      if (diff == 0) {
        if (head_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = c.value;
          // Release pairs with the producer's acquire load in try_push (the cell is free).
          c.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty
      } else {
        pos = head_.value.load(std::memory_order_relaxed);
      }
    }
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  CachePadded<std::atomic<std::size_t>> tail_{};  // producers claim here
  CachePadded<std::atomic<std::size_t>> head_{};  // consumers claim here
};

}  // namespace detail

struct WorkerPoolConfig {
  unsigned threads = 2;
  std::size_t queue_capacity = 1u << 16;  // power of two; bound on outstanding jobs
  unsigned spin_iterations = 256;         // cpu_relax rounds before a worker sleeps
  std::vector<int> cpus;                  // optional: worker i pinned to cpus[i % size]
  std::string name = "hft-worker";        // thread name prefix (visible in top/perf)
};

template <class Job>
class WorkerPool {
  static_assert(std::is_trivially_copyable_v<Job>, "WorkerPool jobs are small trivially copyable handles");
  static_assert(std::is_invocable_v<Job&>, "a job is called as job()");
  static_assert(std::is_nothrow_invocable_v<Job&>, "hft::WorkerPool jobs must be noexcept (a throw would end the worker)");

 public:
  /// Starts cfg.threads workers. Throws std::invalid_argument for 0 threads, a ring
  /// capacity that is not a power of two >= 2, or a name whose thread names would exceed
  /// Linux's 15 bytes; std::system_error if a thread cannot be started, after stopping and
  /// joining the ones already running (so a failed constructor never std::terminates).
  explicit WorkerPool(const WorkerPoolConfig& cfg) : cfg_(validate(cfg)), ring_(cfg.queue_capacity) {
    threads_.reserve(cfg.threads);
    try {
      for (unsigned i = 0; i < cfg.threads; ++i) {
        threads_.emplace_back([this, i] { worker_main(i); });
      }
    } catch (...) {
      stop();  // joins the workers that did start: they reference *this
      throw;
    }
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() { stop(); }

  /// Any thread. Queues `job` for a worker. The ring's release store pairs with the
  /// worker's acquire load, so everything the caller wrote before execute() is visible to
  /// the job. Must not be called after stop() has returned (asserts in debug builds).
  void execute(const Job& job) noexcept {
    HFT_ASSERT(!joined_.load(std::memory_order_relaxed), "WorkerPool::execute after stop() returned");
    while (!ring_.try_push(job)) std::this_thread::yield();  // only when mis-sized: see header
    // The RMW (not a load) is what makes sleeping safe without a fence: it and the
    // sleeper's fetch_add on sleepers_ are ordered in one modification order, so either the
    // sleeper's later re-check of the ring sees this job (it acquired our release) or this
    // RMW sees the sleeper counted and we wake it.
    // Pairs with the sleeper's acq_rel fetch_add(1) in worker_main().
    if (sleepers_.value.fetch_add(0, std::memory_order_acq_rel) != 0) wake_one();
  }

  /// Stops the workers after they have run every job already queued (including jobs those
  /// jobs queue). Idempotent; called by the destructor.
  void stop() noexcept {
    // acq_rel pairs with a concurrent stop()'s exchange: exactly one caller does the work.
    if (stopped_.exchange(true, std::memory_order_acq_rel)) return;
    // Release pairs with the workers' acquire load of stopping_ after they wake.
    stopping_.store(true, std::memory_order_release);
    epoch_.value.fetch_add(1, std::memory_order_release);  // pairs with the waiters' acquire load
    epoch_.value.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    joined_.store(true, std::memory_order_relaxed);  // only read by execute()'s debug assert
  }

  [[nodiscard]] unsigned threads() const noexcept { return cfg_.threads; }
  /// Jobs run so far (relaxed; for statistics).
  [[nodiscard]] std::uint64_t jobs_run() const noexcept { return jobs_run_.value.load(std::memory_order_relaxed); }

 private:
  void wake_one() noexcept {
    // Release pairs with the sleeper's acquire load of epoch_ before it waits.
    epoch_.value.fetch_add(1, std::memory_order_release);
    epoch_.value.notify_one();
  }

  void worker_main(unsigned index) {
    if (!cfg_.cpus.empty()) {
      try {
        pin_current_thread(cfg_.cpus[index % cfg_.cpus.size()]);
      } catch (...) {
        // An unavailable CPU is not a reason to lose a worker: it runs unpinned.
      }
    }
    set_current_thread_name(cfg_.name + "-" + std::to_string(index));
    Job job{};
    std::uint64_t ran = 0;
    for (;;) {
      if (ring_.try_pop(job)) {
        job();
        ++ran;
        continue;
      }
      bool got = false;
      for (unsigned i = 0; i < cfg_.spin_iterations; ++i) {
        cpu_relax();
        if (ring_.try_pop(job)) {
          got = true;
          break;
        }
        // A long (busy-poll) spin must still notice stop(). Relaxed: the acquire load
        // below decides; this only cuts the spin short.
        if ((i & 1023u) == 1023u && stopping_.load(std::memory_order_relaxed)) break;
      }
      if (got) {
        job();
        ++ran;
        continue;
      }
      jobs_run_.value.fetch_add(ran, std::memory_order_relaxed);
      ran = 0;
      // Acquire pairs with stop()'s release store: seeing it, the queue is final.
      if (stopping_.load(std::memory_order_acquire)) {
        if (ring_.try_pop(job)) {
          job();
          ++ran;
          continue;
        }
        return;
      }
      // Acquire pairs with wake_one()/stop()'s release increment.
      const std::uint32_t seen = epoch_.value.load(std::memory_order_acquire);
      // acq_rel: see execute(). After this, a producer either sees us or we see its job.
      sleepers_.value.fetch_add(1, std::memory_order_acq_rel);
      const bool popped = ring_.try_pop(job);
      // Acquire pairs with stop()'s release store.
      if (popped || stopping_.load(std::memory_order_acquire)) {
        sleepers_.value.fetch_sub(1, std::memory_order_relaxed);
        if (popped) {
          job();
          ++ran;
        }
        continue;
      }
      // Returns once epoch_ != seen; acquire pairs with wake_one()/stop()'s release increment.
      epoch_.value.wait(seen, std::memory_order_acquire);
      sleepers_.value.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  static const WorkerPoolConfig& validate(const WorkerPoolConfig& c) {
    if (c.threads == 0) throw std::invalid_argument("hft::WorkerPool: threads must be >= 1");
    // Checked here rather than failing inside a worker, where the throw would terminate.
    const std::size_t longest = c.name.size() + 1 + std::to_string(c.threads - 1).size();
    if (longest > 15) {
      throw std::invalid_argument("hft::WorkerPool: name '" + c.name + "' makes thread names of " +
                                  std::to_string(longest) + " bytes (Linux allows 15)");
    }
    return c;
  }

  WorkerPoolConfig cfg_;
  detail::MpmcRing<Job> ring_;
  CachePadded<std::atomic<std::uint32_t>> sleepers_{};
  CachePadded<std::atomic<std::uint32_t>> epoch_{};
  CachePadded<std::atomic<std::uint64_t>> jobs_run_{};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> joined_{false};
  std::vector<std::thread> threads_;
};

}  // namespace hft
