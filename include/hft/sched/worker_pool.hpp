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
// Waiting: a worker with nothing to do spins, then sleeps on a futex (std::atomic::wait).
//   - At most `max_spinners` workers (default 1) spin at a time; the others go straight to
//     sleep. So idle workers never take more than that many cores from the threads that
//     feed them (on this project's 2-core VM, a dispatcher and two workers share 2 cores).
//   - The spin lasts `spin_iterations` cpu_relax() calls; the default (kAutoSpin) is the
//     machine's measured wake-up cost (hft::wake_cost(): ~70 us on this VM, a few us on
//     bare metal), which bounds an idle worker's waste at twice the optimum.
//   - execute() wakes a sleeper only when no worker is spinning (a spinner will take the
//     job), and the waker takes that sleeper off the count before the system call, so the
//     next job does not wake it again while it is still getting a CPU (on a VM that takes
//     ~70 us: a producer at 20 M jobs/s used to make a thousand futex calls per wake-up).
//     A worker that finds work while jobs are still queued wakes the next sleeper itself (a
//     wake-up chain), so a burst still reaches every worker.
// Compared with: a mutex + condition_variable pool (bench_sched's baseline): no lock on either side; when no
//   one sleeps, a producer pays one store (seq_cst) and two loads, and it makes the futex
//   system call only for a sleeper nobody else is waking. The ring is Dmitry Vyukov's
//   bounded MPMC design (a sequence number per cell; producers and consumers each claim
//   positions by CAS): MpmcQueue's ring (hft/queue/sequenced_ring.hpp).
// Thread-safety: execute(): any thread, including workers. stop(): any thread
//   but a worker, any number of times (the first call does the work; the destructor calls
//   it). The job's operator() runs on a worker thread.
// Lifecycle: not copyable or movable (workers point at the pool). A constructor that
//   fails to start a thread stops the ones it started before it throws. Jobs must not
//   throw (operator() runs inside the worker loop, and a throw there terminates).
// Memory ordering: execute() publishes the job with a seq_cst store of its slot's
//   sequence (seq_cst so that the sleeper check after it pairs with a worker's sleep
//   registration, a Dekker pair); the worker that claims the slot loads it with acquire,
//   so everything written before execute() happens-before the job runs.
// Progress: execute() is lock-free while the ring has room; when full it waits (yields)
//   for room: size the ring for the bound on outstanding jobs so that never happens
//   (FamilyScheduler needs capacity >= its max_families). Workers block when idle.
// Complexity: O(1) per execute and per job taken. Allocates only in the constructor.
// Capacity: the ring family's rule (sequenced_ring.hpp): any queue_capacity >= 1 up to
//   max_queue_capacity(), rounded up to a power of two >= 2; queue_capacity() is the real
//   one. 0 throws std::invalid_argument, above the maximum std::length_error.
// Statistics: stats().jobs_run moves while the workers are saturated. Each worker counts
//   its jobs privately and adds them to the shared counter after every kStatsBatch (64)
//   jobs and whenever it runs out of work: one relaxed RMW per 64 jobs, none per job. So
//   it trails the jobs finished by at most threads() * (kStatsBatch - 1) (as soon as the
//   adds are visible: relaxed), and is exact once stop() has returned.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
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
#include "hft/core/wake_cost.hpp"
#include "hft/queue/sequenced_ring.hpp"

namespace hft {

namespace detail {

// The job ring: MpmcQueue's ring (sequenced_ring.hpp, one 64-byte line per job) with the
// orders the sleep protocol needs. A push publishes seq_cst, which also orders it before
// execute()'s loads of the waiter counts; a worker's last re-check before it sleeps loads
// seq_cst. Together with the workers' seq_cst RMWs on the counts, that is the Dekker pair
// that keeps a job from being pushed unseen by a worker going to sleep (see WorkerPool).
template <class Job>
class JobRing {
  static_assert(std::is_trivially_copyable_v<Job>, "WorkerPool runs trivially copyable jobs");

 public:
  explicit JobRing(std::size_t capacity) : ring_("hft::WorkerPool", capacity, {}) {}
  [[nodiscard]] bool try_push(const Job& job) noexcept {
    return ring_.template try_emplace<std::memory_order_seq_cst>(job);
  }
  template <std::memory_order Load = std::memory_order_acquire>
  [[nodiscard]] bool try_pop(Job& out) noexcept {
    return ring_.template try_take<Load>([&](Job& j) noexcept { out = j; });
  }
  [[nodiscard]] bool maybe_nonempty() const noexcept { return ring_.maybe_nonempty(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.capacity(); }
  [[nodiscard]] static constexpr std::size_t max_capacity() noexcept {
    return VyukovRing<Job, 64, std::allocator<Job>>::max_capacity();
  }

 private:
  VyukovRing<Job, 64, std::allocator<Job>> ring_;
};

}  // namespace detail

/// Settings of a WorkerPool: threads, queue bound, spinning, CPU pinning, names and a start
/// hook.
struct WorkerPoolConfig {
  static constexpr unsigned kAutoSpin = ~0u;  ///< spin as long as this machine's wake-up costs
  unsigned threads = 2;                       ///< worker threads (>= 1)
  std::size_t queue_capacity = 1u << 16;      ///< bound on outstanding jobs (>= 1, rounded up to a power of two)
  unsigned spin_iterations = kAutoSpin;       ///< cpu_relax rounds before a worker sleeps
  std::vector<int> cpus{};                    ///< optional: worker i pinned to cpus[i % size]
  std::string name = "hft-worker";            ///< thread name prefix (visible in top/perf)
  unsigned max_spinners = 1;                  ///< idle workers spinning at once (0: never spin)
  std::function<void()> on_start{};           ///< optional: runs first on every worker thread (must not throw)
};

/// A snapshot of WorkerPool's counters (relaxed loads: for statistics, not for
/// synchronisation).
struct WorkerPoolStats {
  std::uint64_t jobs_run = 0;  ///< jobs finished, less up to kStatsBatch - 1 per worker not yet added
};

/// A fixed set of worker threads running small trivially copyable noexcept jobs from one
/// bounded queue; idle workers spin briefly, then sleep.
template <class Job>
class WorkerPool {
  static_assert(std::is_trivially_copyable_v<Job>, "WorkerPool jobs are small trivially copyable handles");
  static_assert(std::is_invocable_v<Job&>, "a job is called as job()");
  static_assert(std::is_nothrow_invocable_v<Job&>,
                "hft::WorkerPool jobs must be noexcept (a throw would end the worker)");

 public:
  /// A worker adds its private job count to stats().jobs_run after this many jobs (and
  /// whenever it goes idle).
  static constexpr std::uint64_t kStatsBatch = 64;

  /// Starts cfg.threads workers. Throws std::invalid_argument for 0 threads, a
  /// queue_capacity of 0, or a name whose thread names would exceed Linux's 15 bytes;
  /// std::length_error for a queue_capacity above max_queue_capacity() (any other is
  /// rounded up to a power of two >= 2: queue_capacity()); std::system_error if a thread
  /// cannot be started, after stopping and joining the ones already running (so a failed
  /// constructor never std::terminates).
  explicit WorkerPool(const WorkerPoolConfig& cfg)
      : cfg_(validate(cfg)),
        spin_(cfg.spin_iterations == WorkerPoolConfig::kAutoSpin ? wake_cost().spin_iterations() : cfg.spin_iterations),
        ring_(cfg.queue_capacity) {
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
    wake_if_needed();
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

  /// The number of worker threads.
  [[nodiscard]] unsigned threads() const noexcept { return cfg_.threads; }
  /// How many jobs the ring holds: cfg.queue_capacity rounded up to a power of two >= 2.
  [[nodiscard]] std::size_t queue_capacity() const noexcept { return ring_.capacity(); }
  /// The largest queue_capacity the constructor accepts.
  [[nodiscard]] static constexpr std::size_t max_queue_capacity() noexcept {
    return detail::JobRing<Job>::max_capacity();
  }
  /// Any thread. A hint: whether a job seemed to be waiting for a worker just now.
  [[nodiscard]] bool has_queued_jobs() const noexcept { return ring_.maybe_nonempty(); }
  /// The spin budget in use (kAutoSpin resolved), in cpu_relax() calls.
  [[nodiscard]] unsigned spin_iterations() const noexcept { return spin_; }
  /// Any thread. Counters so far (relaxed loads; no ordering with the jobs themselves).
  /// jobs_run trails the jobs finished by at most threads() * (kStatsBatch - 1); exact
  /// once stop() has returned.
  [[nodiscard]] WorkerPoolStats stats() const noexcept {
    return WorkerPoolStats{jobs_run_.value.load(std::memory_order_relaxed)};
  }

 private:
  // After a push (seq_cst, in the ring): wakes a sleeper if no spinner will take the job.
  // Dekker pair with worker_main(): a worker going to sleep increments sleepers_, then
  // decrements spinners_, then re-checks the ring, all seq_cst. Either our loads see it
  // (counted as a spinner or a sleeper) or its re-check sees our job.
  void wake_if_needed() noexcept {
    if (spinners_.value.load(std::memory_order_seq_cst) != 0) return;  // a spinner takes it
    // Claim one sleeper: each registration is consumed once, by a waker here or by the
    // sleeper itself when it leaves without sleeping (unregister()).
    std::uint32_t n = sleepers_.value.load(std::memory_order_seq_cst);
    while (n != 0 && !sleepers_.value.compare_exchange_weak(n, n - 1, std::memory_order_seq_cst)) {
    }
    if (n == 0) return;  // everyone is busy
    // Release pairs with the sleeper's acquire load of epoch_ before it waits: a sleeper
    // that read the old value either is in the futex (woken here) or returns at once.
    epoch_.value.fetch_add(1, std::memory_order_release);
    epoch_.value.notify_one();
  }

  // A registered sleeper that leaves without sleeping (it found a job, or stop()): gives its
  // registration back unless a waker has taken it already.
  void unregister() noexcept {
    std::uint32_t n = sleepers_.value.load(std::memory_order_relaxed);
    while (n != 0 && !sleepers_.value.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
    }
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
    if (cfg_.on_start) cfg_.on_start();
    Job job{};
    std::uint64_t ran = 0;
    // The runner holds one of the max_spinners places: it spins when idle, and while it
    // holds the place producers count on it instead of waking sleepers. It keeps the place
    // across jobs while nobody sleeps (nobody to wake: no RMW per job), and gives it up as
    // soon as a job starts while someone sleeps, so a long job never hides work from them.
    bool runner = false;
    auto take = [&] {
      // Relaxed: a hint; the Dekker pairs below decide.
      if (runner && sleepers_.value.load(std::memory_order_relaxed) != 0) {
        spinners_.value.fetch_sub(1, std::memory_order_seq_cst);  // producers may wake sleepers now
        runner = false;
        if (ring_.maybe_nonempty()) wake_if_needed();  // more queued: pass the wake-up on
      }
      job();
      if (++ran == kStatsBatch) {
        // Relaxed: a statistic. Added every kStatsBatch jobs, not only on going idle, so a
        // saturated pool's count moves; one RMW per batch keeps the shared line off the
        // per-job path.
        jobs_run_.value.fetch_add(kStatsBatch, std::memory_order_relaxed);
        ran = 0;
      }
    };
    for (;;) {
      if (ring_.try_pop(job)) {
        take();
        continue;
      }
      // Idle. Become the runner if fewer than max_spinners are; seq_cst: see wake_if_needed().
      if (!runner) {
        if (spinners_.value.fetch_add(1, std::memory_order_seq_cst) < cfg_.max_spinners) {
          runner = true;
        } else {
          spinners_.value.fetch_sub(1, std::memory_order_seq_cst);  // enough spinners: sleep
        }
      }
      bool got = false;
      if (runner) {
        for (unsigned i = 0; i < spin_; ++i) {
          cpu_relax();
          if (ring_.try_pop(job)) {
            got = true;
            break;
          }
          // A long (busy-poll) spin must still notice stop(). Relaxed: the acquire load
          // below decides; this only cuts the spin short.
          if ((i & 1023u) == 1023u && stopping_.load(std::memory_order_relaxed)) break;
        }
      }
      if (got) {
        take();
        continue;
      }
      if (ran != 0) {
        jobs_run_.value.fetch_add(ran, std::memory_order_relaxed);  // relaxed: a statistic
        ran = 0;
      }
      // Acquire pairs with wake_if_needed()/stop()'s release increment.
      const std::uint32_t seen = epoch_.value.load(std::memory_order_acquire);
      // seq_cst, in this order: see wake_if_needed(). After the re-check, a producer either
      // saw us (as a spinner or a sleeper) or we see its job.
      sleepers_.value.fetch_add(1, std::memory_order_seq_cst);
      if (runner) {
        spinners_.value.fetch_sub(1, std::memory_order_seq_cst);
        runner = false;
      }
      const bool popped = ring_.template try_pop<std::memory_order_seq_cst>(job);
      // Acquire pairs with stop()'s release store: seeing it, the queue is final.
      if (popped || stopping_.load(std::memory_order_acquire)) {
        unregister();
        if (popped) {
          take();
          continue;
        }
        if (ring_.try_pop(job)) {  // stopping: run what is left, then leave
          take();
          continue;
        }
        return;
      }
      // Returns once epoch_ != seen; acquire pairs with wake_if_needed()/stop()'s release increment.
      // No unregister(): the waker consumed our registration (or stop() ended everything).
      epoch_.value.wait(seen, std::memory_order_acquire);
    }
  }

  static const WorkerPoolConfig& validate(const WorkerPoolConfig& c) {
    if (c.threads == 0) throw std::invalid_argument("hft::WorkerPool: threads must be >= 1");
    // The ring's own check would word these as "capacity" and "max_capacity()", names
    // WorkerPool does not have.
    if (c.queue_capacity == 0) throw std::invalid_argument("hft::WorkerPool: queue_capacity must be >= 1, got 0");
    if (c.queue_capacity > max_queue_capacity()) {
      throw std::length_error("hft::WorkerPool: queue_capacity " + std::to_string(c.queue_capacity) +
                              " exceeds max_queue_capacity() " + std::to_string(max_queue_capacity()));
    }
    // Checked here rather than failing inside a worker, where the throw would terminate.
    const std::size_t longest = c.name.size() + 1 + std::to_string(c.threads - 1).size();
    if (longest > 15) {
      throw std::invalid_argument("hft::WorkerPool: name '" + c.name + "' makes thread names of " +
                                  std::to_string(longest) + " bytes (Linux allows 15)");
    }
    return c;
  }

  WorkerPoolConfig cfg_;
  unsigned spin_;
  detail::JobRing<Job> ring_;
  CachePadded<std::atomic<std::uint32_t>> spinners_{};
  CachePadded<std::atomic<std::uint32_t>> sleepers_{};
  CachePadded<std::atomic<std::uint32_t>> epoch_{};
  CachePadded<std::atomic<std::uint64_t>> jobs_run_{};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> joined_{false};
  std::vector<std::thread> threads_;
};

}  // namespace hft
