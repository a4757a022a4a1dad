// hft/disruptor/wait_strategy.hpp: how Disruptor consumers wait for events, and how a
// producer waits for room in a full ring.
//
// What: the consumer wait strategies (template parameter W of sequencers and barriers)
//   and the producer waits (template parameter P). Each consumer strategy has
//   template <class Gate> WaitResult wait_for(seq, const Gate& gate, alerted)   consumer threads
//   void signal_all_when_blocking()                                            publishing threads
//   static constexpr bool kNeedsSeqCstPublish       the sequencer publishes seq_cst
//   A Gate (SequenceBarrier makes it) answers, for the waiting consumer:
//     published(seq)         highest sequence published by the producers, contiguously from
//                            seq (a multi-producer cursor counts claims, not publications)
//     published_seq_cst(seq) the same with seq_cst loads (the blocking strategy's handshake)
//     available(seq)         published, further capped by the consumer's dependencies
//   So every strategy waits for what is really published: a claimed, unpublished slot of a
//   multi-producer ring makes the blocking strategy sleep (the producer's publish wakes it)
//   and its timeout fire, instead of spinning.
// When to use: by this table:
// | strategy              | consumer CPU while idle | wake-up latency       | publish cost           |
// |-----------------------|-------------------------|-----------------------|------------------------|
// | BusySpinWaitStrategy  | 100% of a core          | lowest (~cache miss)  | nothing                |
// | YieldingWaitStrategy  | 100%, but yields        | low; shares a core    | nothing                |
// | BackoffWaitStrategy   | spins, yields, sleeps   | up to max_sleep       | nothing                |
// | BlockingWaitStrategy  | ~none (spins/yields a   | a futex wake (~5-50us)| a seq_cst load; a lock |
// |                       | few us, then sleeps)    | once asleep           |                        |
// |                       |                         |                       | + notify only if       |
// |                       |                         |                       | someone is asleep      |
//   Choose busy-spin only with a dedicated core per consumer; yielding when threads <=
//   cores but latency matters; backoff or blocking when threads outnumber cores (this
//   2-core machine with a 3-stage pipeline) or consumers are mostly idle. When not: a
//   consumer that must never wait at all (EventPoller).
// Timeouts: BackoffWaitStrategy and BlockingWaitStrategy take an optional timeout; a
//   wait_for call that exceeds it returns WaitStatus::Timeout (the processor calls
//   on_timeout). The deadline is taken once per call and saturates (hft::deadline_after):
//   nanoseconds::max() waits forever.
// Alerts: every strategy returns WaitStatus::Alerted promptly once `alerted` is set and
//   signal_all_when_blocking() has been called (halt() does both).
// Thread-safety: wait_for: the consumer that owns the barrier (one thread per
//   barrier; several consumers may share a strategy). signal_all_when_blocking: any thread.
// Progress: busy-spin, yielding and backoff waits are polling loops (they return only when
//   the sequence is available, alerted or timed out); the blocking strategy sleeps on a
//   condition variable for what producers publish, and yields for dependencies (as LMAX
//   does: consumers do not signal). signal_all_when_blocking() is wait-free unless a
//   consumer sleeps (then a lock and a notify).
// Memory ordering: the Gate's loads are acquire (pairing with the sequencer's and the
//   dependencies' release stores); the blocking strategy's sleep check uses seq_cst loads
//   against the waiter count (see BlockingWaitStrategy).
// Complexity: O(1) per check; a wait loops until the sequence is available, bounded in
//   spinning by the configured tries before it yields or sleeps.
// Compared with: LMAX: LMAX's strategies wait on the cursor, so with several producers its
//   consumers busy-spin in the barrier while a claimed slot is unpublished, whatever the
//   strategy; ours wait on publication.
//
// Producer wait strategies (for next() on a full ring): a type with
//   void idle(std::uint32_t attempt) noexcept
//   BusySpinProducerWait, YieldingProducerWait (default), SleepingProducerWait.
// Configuration: every strategy with knobs takes a `<Strategy>Config` aggregate
//   (`BlockingWaitStrategy({.timeout = 2ms})`); config() returns it. No tuning constant
//   is hidden in a strategy's body.
// Lifecycle: strategies are copied into a sequencer at construction; a copied
//   BlockingWaitStrategy keeps its configuration and starts with no waiters.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "hft/core/cpu.hpp"
#include "hft/core/deadline.hpp"
#include "hft/disruptor/sequence.hpp"

namespace hft::disruptor {

/// How a wait_for call ended: Ok (the sequence is available), Alerted (halt() was called) or Timeout (the strategy's
/// timeout passed).
enum class WaitStatus { Ok, Alerted, Timeout };

/// What wait_for returns: the highest available sequence and why the wait ended.
struct WaitResult {
  std::int64_t available = 0;  ///< highest sequence known to be available (>= requested when Ok)
  /// Why the wait ended; `available` may be below the requested sequence unless Ok
  WaitStatus status = WaitStatus::Ok;
};

/// Consumers spin with cpu_relax() until the sequence is available: the lowest wake-up latency, a whole core per
/// consumer while idle.
struct BusySpinWaitStrategy {
  /// False: no consumer sleeps, so the sequencer may publish with release stores.
  static constexpr bool kNeedsSeqCstPublish = false;
  /// Consumer: spins until `gate` reports `seq` available or `alerted` is set. Returns the highest available sequence
  /// (>= seq when Ok).
  template <class Gate>
  WaitResult wait_for(std::int64_t seq, const Gate& gate, const std::atomic<bool>& alerted) noexcept {
    std::int64_t avail;
    while ((avail = gate.available(seq)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with alert()'s store
      cpu_relax();
    }
    return {avail, WaitStatus::Ok};
  }
  /// Publisher: nothing to do, no consumer ever sleeps.
  void signal_all_when_blocking() noexcept {}
};

/// Settings of YieldingWaitStrategy.
struct YieldingWaitStrategyConfig {
  std::uint32_t spin_tries = 100;  ///< cpu_relax rounds before each wait starts yielding
};

/// Consumers spin spin_tries rounds, then yield the CPU between checks: low latency, and a core shared with other
/// threads stays usable.
class YieldingWaitStrategy {
 public:
  /// False: no consumer sleeps, so the sequencer may publish with release stores.
  static constexpr bool kNeedsSeqCstPublish = false;
  /// A strategy with the given spin count (copied into the sequencer).
  explicit YieldingWaitStrategy(const YieldingWaitStrategyConfig& cfg = {}) noexcept : cfg_(cfg) {}
  /// The configuration it was built with.
  [[nodiscard]] const YieldingWaitStrategyConfig& config() const noexcept { return cfg_; }

  /// Consumer: spins, then yields, until `seq` is available or `alerted` is set; never times out.
  template <class Gate>
  WaitResult wait_for(std::int64_t seq, const Gate& gate, const std::atomic<bool>& alerted) noexcept {
    std::int64_t avail;
    std::uint32_t n = 0;
    while ((avail = gate.available(seq)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with alert()'s store
      if (++n < cfg_.spin_tries) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    return {avail, WaitStatus::Ok};
  }
  /// Publisher: nothing to do, no consumer ever sleeps.
  void signal_all_when_blocking() noexcept {}

 private:
  YieldingWaitStrategyConfig cfg_;
};

/// Spin `spin_tries`, then yield `yield_tries`, then sleep doubling from min_sleep up to
/// max_sleep. Optional timeout (zero: none; nanoseconds::max(): none either).
struct BackoffWaitStrategyConfig {
  std::uint32_t spin_tries = 200;             ///< cpu_relax rounds before the wait starts yielding
  std::uint32_t yield_tries = 100;            ///< yield rounds after the spins, before it starts sleeping
  std::chrono::microseconds min_sleep{1};     ///< the first sleep; each further sleep doubles, up to max_sleep
  std::chrono::microseconds max_sleep{1000};  ///< the longest single sleep: bounds the wake-up latency once asleep
  std::chrono::nanoseconds timeout{0};        ///< a wait longer than this returns WaitStatus::Timeout (0: never)
};

/// Consumers spin, then yield, then sleep with exponential backoff (min_sleep doubling to max_sleep): little CPU while
/// idle, no publisher cost.
class BackoffWaitStrategy {
 public:
  /// False: the sleeper polls, it is never woken, so the sequencer may publish with release stores.
  static constexpr bool kNeedsSeqCstPublish = false;
  /// A strategy with the given tries, sleeps and timeout (copied into the sequencer).
  explicit BackoffWaitStrategy(const BackoffWaitStrategyConfig& cfg = {}) noexcept : cfg_(cfg) {}
  /// The configuration it was built with.
  [[nodiscard]] const BackoffWaitStrategyConfig& config() const noexcept { return cfg_; }

  /// Consumer: spins, yields, then sleeps until `seq` is available, `alerted` is set, or the timeout passes (checked
  /// once the spins are done).
  template <class Gate>
  WaitResult wait_for(std::int64_t seq, const Gate& gate, const std::atomic<bool>& alerted) noexcept {
    const std::uint32_t spin_tries = cfg_.spin_tries, yield_tries = cfg_.yield_tries;
    const auto max_sleep = cfg_.max_sleep;
    std::int64_t avail;
    std::uint32_t n = 0;
    auto sleep = cfg_.min_sleep;
    const bool timed = cfg_.timeout.count() > 0;
    const auto deadline = timed ? deadline_after(cfg_.timeout) : std::chrono::steady_clock::time_point::max();
    while ((avail = gate.available(seq)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with alert()'s store
      if (n < spin_tries) {
        ++n;
        cpu_relax();
        continue;
      }
      if (timed && std::chrono::steady_clock::now() >= deadline) return {avail, WaitStatus::Timeout};
      if (n < spin_tries + yield_tries) {
        ++n;
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(sleep);
        sleep = std::min(sleep * 2, max_sleep);
      }
    }
    return {avail, WaitStatus::Ok};
  }
  /// Publisher: nothing to do, a sleeping consumer wakes on its own.
  void signal_all_when_blocking() noexcept {}

 private:
  BackoffWaitStrategyConfig cfg_;
};

/// Before sleeping a consumer spins `spin_tries` and yields `yield_tries` times: under load
/// the next event is usually microseconds away, and a consumer that sleeps after every
/// batch makes each publish pay a lock and a futex wake (measured: a diamond fell from
/// ~100M to ~1.3M events/s). Optional timeout (zero: none; nanoseconds::max(): none either).
struct BlockingWaitStrategyConfig {
  std::uint32_t spin_tries = 100;  ///< cpu_relax rounds before the wait starts yielding
  /// Yield rounds after the spins, before the consumer sleeps on the condition variable
  std::uint32_t yield_tries = 10;
  std::chrono::nanoseconds timeout{0};  ///< a wait longer than this returns WaitStatus::Timeout (0: never)
};

/// Consumers sleep on a condition variable until the producers have published `seq`; the
/// publisher touches the mutex only when a waiter is registered. Dependencies (other
/// consumers) are then awaited with spin and yield, as in LMAX: consumers do not signal.
class BlockingWaitStrategy {
 public:
  // The sequencer publishes seq_cst so that "publish; load waiters" on the publisher and
  // "increment waiters; load what is published" on the waiter cannot both miss.
  /// True: the sequencer publishes seq_cst, so a publisher and a consumer going to sleep cannot both miss each other.
  static constexpr bool kNeedsSeqCstPublish = true;

  /// A strategy with the given tries and timeout and no waiters (copied into the sequencer).
  explicit BlockingWaitStrategy(const BlockingWaitStrategyConfig& cfg = {}) noexcept : cfg_(cfg) {}
  /// Copies the configuration only: a strategy is copied into a sequencer before use.
  BlockingWaitStrategy(const BlockingWaitStrategy& o) noexcept : cfg_(o.cfg_) {}
  /// The configuration it was built with.
  [[nodiscard]] const BlockingWaitStrategyConfig& config() const noexcept { return cfg_; }

  /// Consumer: spins and yields, then sleeps on the condition variable until the producers have published `seq`, then
  /// spins and yields for the dependencies. Returns early on `alerted` or the timeout. May throw std::system_error from
  /// the mutex.
  template <class Gate>
  WaitResult wait_for(std::int64_t seq, const Gate& gate, const std::atomic<bool>& alerted) {
    const std::uint32_t spin_tries = cfg_.spin_tries;
    const bool timed = cfg_.timeout.count() > 0;
    const auto deadline = timed ? deadline_after(cfg_.timeout) : std::chrono::steady_clock::time_point::max();
    for (std::uint32_t i = 0; i < spin_tries + cfg_.yield_tries && gate.published(seq) < seq; ++i) {
      if (alerted.load(std::memory_order_acquire))
        return {gate.available(seq), WaitStatus::Alerted};  // pairs with alert()
      if (i < spin_tries) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    if (gate.published(seq) < seq) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);  // Dekker pair with signal_all_when_blocking()
      struct Leave {
        std::atomic<int>& w;
        ~Leave() { w.fetch_sub(1, std::memory_order_relaxed); }
      } leave{waiters_};
      std::unique_lock lock(mutex_);
      // seq_cst reads: with the seq_cst publish / alert store and the waiters_ load on the
      // other side, either the publisher sees us waiting or we see its store.
      while (gate.published_seq_cst(seq) < seq) {
        if (alerted.load(std::memory_order_seq_cst)) {  // pairs with SequenceBarrier::alert()'s seq_cst store
          return {gate.available(seq), WaitStatus::Alerted};
        }
        if (timed) {
          if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && gate.published_seq_cst(seq) < seq) {
            return {gate.available(seq), WaitStatus::Timeout};
          }
        } else {
          cv_.wait(lock);
        }
      }
    }
    std::int64_t avail;
    std::uint32_t n = 0;
    while ((avail = gate.available(seq)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with alert()'s store
      if (timed && std::chrono::steady_clock::now() >= deadline) return {avail, WaitStatus::Timeout};
      if (++n < spin_tries) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    return {avail, WaitStatus::Ok};
  }

  /// Publisher: a seq_cst load when nobody waits; lock + notify_all otherwise.
  void signal_all_when_blocking() {
    if (waiters_.load(std::memory_order_seq_cst) != 0) {  // Dekker pair with wait_for()'s increment
      { std::lock_guard lock(mutex_); }  // a waiter between its check and its wait holds the lock
      cv_.notify_all();
    }
  }

 private:
  BlockingWaitStrategyConfig cfg_;
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

// ---- producer waits (next() on a full ring) ----------------------------------------------

/// Producer wait for next() on a full ring: spins with cpu_relax(); for a producer with a core of its own.
struct BusySpinProducerWait {
  /// Called by the producer for each failed attempt to claim room; one cpu_relax().
  void idle(std::uint32_t) noexcept { cpu_relax(); }
};
/// Settings of YieldingProducerWait.
struct YieldingProducerWaitConfig {
  std::uint32_t spin_tries = 100;  ///< cpu_relax rounds before the producer starts yielding
};
/// Producer wait for next() on a full ring (the default): spins spin_tries rounds, then yields the CPU between
/// attempts.
class YieldingProducerWait {
 public:
  /// A producer wait with the given spin count.
  explicit YieldingProducerWait(const YieldingProducerWaitConfig& cfg = {}) noexcept : cfg_(cfg) {}
  /// The configuration it was built with.
  [[nodiscard]] const YieldingProducerWaitConfig& config() const noexcept { return cfg_; }
  /// Called by the producer after failed attempt number `attempt` (from 0): cpu_relax() below spin_tries, else a yield.
  void idle(std::uint32_t attempt) noexcept {
    if (attempt < cfg_.spin_tries) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }

 private:
  YieldingProducerWaitConfig cfg_;
};
/// Settings of SleepingProducerWait.
struct SleepingProducerWaitConfig {
  std::uint32_t spin_tries = 100;       ///< cpu_relax rounds before the producer starts sleeping
  std::chrono::microseconds sleep{50};  ///< each sleep once the spins are done; bounds how late the producer sees room
};
/// Producer wait for next() on a full ring: spins spin_tries rounds, then sleeps `sleep` between attempts; for
/// producers that may be slow.
class SleepingProducerWait {
 public:
  /// A producer wait with the given spin count and sleep.
  explicit SleepingProducerWait(const SleepingProducerWaitConfig& cfg = {}) noexcept : cfg_(cfg) {}
  /// The configuration it was built with.
  [[nodiscard]] const SleepingProducerWaitConfig& config() const noexcept { return cfg_; }
  /// Called by the producer after failed attempt number `attempt` (from 0): cpu_relax() below spin_tries, else a sleep
  /// of `sleep`.
  void idle(std::uint32_t attempt) noexcept {
    if (attempt < cfg_.spin_tries) {
      cpu_relax();
    } else {
      std::this_thread::sleep_for(cfg_.sleep);
    }
  }

 private:
  SleepingProducerWaitConfig cfg_;
};

}  // namespace hft::disruptor
