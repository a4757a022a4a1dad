// hft/disruptor/wait_strategy.hpp: how Disruptor consumers wait for events, and how a
// producer waits for room in a full ring.
//
// Consumer wait strategies (template parameter W of sequencers and barriers). Each has
//   WaitResult wait_for(seq, cursor, dependents, alerted)   consumer threads
//   void signal_all_when_blocking()                         the publishing thread
//   static constexpr bool kNeedsSeqCstPublish               sequencer publishes seq_cst
//
// | strategy              | consumer CPU while idle | wake-up latency       | publish cost           |
// |-----------------------|-------------------------|-----------------------|------------------------|
// | BusySpinWaitStrategy  | 100% of a core          | lowest (~cache miss)  | nothing                |
// | YieldingWaitStrategy  | 100%, but yields        | low; shares a core    | nothing                |
// | BackoffWaitStrategy   | spins, yields, sleeps   | up to max_sleep       | nothing                |
// | BlockingWaitStrategy  | ~none (spins/yields a   | a futex wake (~5-50us)| a seq_cst load; a lock |
// |                       | few us, then sleeps)    | once asleep           |                        |
// |                       |                         |                       | + notify only if       |
// |                       |                         |                       | someone is asleep      |
// Choose busy-spin only with a dedicated core per consumer; yielding when threads <=
//   cores but latency matters; backoff or blocking when threads outnumber cores (this
//   2-core machine with a 3-stage pipeline) or consumers are mostly idle.
// Timeouts: BackoffWaitStrategy and BlockingWaitStrategy take an optional timeout; a
//   wait that exceeds it returns WaitStatus::Timeout (the processor calls on_timeout).
// Alerts: every strategy returns WaitStatus::Alerted promptly once `alerted` is set and
//   signal_all_when_blocking() has been called (halt() does both).
//
// Progress: busy-spin, yielding and backoff waits are polling loops (blocking in the
//   sense that they return only when the sequence is available, alerted or timed out);
//   the blocking strategy sleeps on a condition variable. signal_all_when_blocking() is
//   wait-free unless a consumer sleeps (then a lock and a notify).
//
// Producer wait strategies (for next() on a full ring): a type with
//   void idle(std::uint32_t attempt) noexcept
//   BusySpinProducerWait, YieldingProducerWait (default), SleepingProducerWait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>

#include "hft/core/cpu.hpp"
#include "hft/disruptor/sequence.hpp"

namespace hft::disruptor {

enum class WaitStatus { Ok, Alerted, Timeout };

struct WaitResult {
  std::int64_t available;  // highest sequence known to be available (>= requested when Ok)
  WaitStatus status;
};

namespace detail {
// Cursor if there are no dependents, else the minimum of the dependents.
inline std::int64_t gate(const Sequence& cursor, std::span<const Sequence* const> deps) noexcept {
  return deps.empty() ? cursor.get() : min_sequence(deps);
}
}  // namespace detail

struct BusySpinWaitStrategy {
  static constexpr bool kNeedsSeqCstPublish = false;
  WaitResult wait_for(std::int64_t seq, const Sequence& cursor, std::span<const Sequence* const> deps,
                      const std::atomic<bool>& alerted) noexcept {
    std::int64_t avail;
    while ((avail = detail::gate(cursor, deps)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with halt()'s release
      cpu_relax();
    }
    return {avail, WaitStatus::Ok};
  }
  void signal_all_when_blocking() noexcept {}
};

struct YieldingWaitStrategy {
  static constexpr bool kNeedsSeqCstPublish = false;
  std::uint32_t spin_tries = 100;
  WaitResult wait_for(std::int64_t seq, const Sequence& cursor, std::span<const Sequence* const> deps,
                      const std::atomic<bool>& alerted) noexcept {
    std::int64_t avail;
    std::uint32_t n = 0;
    while ((avail = detail::gate(cursor, deps)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with halt()'s release
      if (++n < spin_tries) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    return {avail, WaitStatus::Ok};
  }
  void signal_all_when_blocking() noexcept {}
};

/// Spin `spin_tries`, then yield `yield_tries`, then sleep doubling from min_sleep up to
/// max_sleep. Optional timeout (zero: none).
struct BackoffWaitStrategy {
  static constexpr bool kNeedsSeqCstPublish = false;
  std::uint32_t spin_tries = 200;
  std::uint32_t yield_tries = 100;
  std::chrono::microseconds min_sleep{1};
  std::chrono::microseconds max_sleep{1000};
  std::chrono::nanoseconds timeout{0};

  WaitResult wait_for(std::int64_t seq, const Sequence& cursor, std::span<const Sequence* const> deps,
                      const std::atomic<bool>& alerted) noexcept {
    std::int64_t avail;
    std::uint32_t n = 0;
    auto sleep = min_sleep;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while ((avail = detail::gate(cursor, deps)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with halt()'s release
      ++n;
      if (n < spin_tries) {
        cpu_relax();
        continue;
      }
      if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) return {avail, WaitStatus::Timeout};
      if (n < spin_tries + yield_tries) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(sleep);
        sleep = std::min(sleep * 2, max_sleep);
      }
    }
    return {avail, WaitStatus::Ok};
  }
  void signal_all_when_blocking() noexcept {}
};

/// Consumers sleep on a condition variable while the cursor is behind; the publisher
/// touches the mutex only when a waiter is registered. Optional timeout (zero: none).
/// Dependents (other consumers) are then awaited with yield, as in LMAX.
class BlockingWaitStrategy {
 public:
  // The sequencer stores the cursor seq_cst so that "cursor store; waiters load" on the
  // publisher and "waiters increment; cursor load" on the waiter cannot both miss.
  static constexpr bool kNeedsSeqCstPublish = true;

  BlockingWaitStrategy() = default;
  explicit BlockingWaitStrategy(std::chrono::nanoseconds timeout) : timeout_(timeout) {}
  BlockingWaitStrategy(const BlockingWaitStrategy& o) : timeout_(o.timeout_) {}

  WaitResult wait_for(std::int64_t seq, const Sequence& cursor, std::span<const Sequence* const> deps,
                      const std::atomic<bool>& alerted) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    // Spin, then yield, briefly before sleeping: under load the next event is usually
    // microseconds away, and a consumer that sleeps after every batch makes each
    // publish pay a lock and a futex wake (measured: a diamond fell from ~100M to ~1.3M
    // events/s). Idle consumers still end up asleep within a few microseconds.
    for (std::uint32_t i = 0; i < kSpinTries + kYieldTries && cursor.get() < seq; ++i) {
      if (alerted.load(std::memory_order_acquire)) return {cursor.get(), WaitStatus::Alerted};  // pairs with alert()
      if (i < kSpinTries) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    if (cursor.get() < seq) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);  // Dekker pair with signal_all_when_blocking()
      std::unique_lock lock(mutex_);
      // seq_cst reads: with the seq_cst cursor store / alert store and the waiters_ load
      // on the other side, either the publisher sees us waiting or we see its store.
      while (cursor.get_seq_cst() < seq) {
        if (alerted.load(std::memory_order_seq_cst)) {  // pairs with SequenceBarrier::alert()'s seq_cst store
          waiters_.fetch_sub(1, std::memory_order_relaxed);
          return {cursor.get(), WaitStatus::Alerted};
        }
        if (timeout_.count() > 0) {
          if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && cursor.get_seq_cst() < seq) {
            waiters_.fetch_sub(1, std::memory_order_relaxed);
            return {cursor.get(), WaitStatus::Timeout};
          }
        } else {
          cv_.wait(lock);
        }
      }
      waiters_.fetch_sub(1, std::memory_order_relaxed);
    }
    std::int64_t avail;
    std::uint32_t n = 0;
    while ((avail = detail::gate(cursor, deps)) < seq) {
      if (alerted.load(std::memory_order_acquire)) return {avail, WaitStatus::Alerted};  // pairs with halt()'s release
      if (timeout_.count() > 0 && std::chrono::steady_clock::now() >= deadline) return {avail, WaitStatus::Timeout};
      if (++n < 100) {
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
  static constexpr std::uint32_t kSpinTries = 100;
  static constexpr std::uint32_t kYieldTries = 10;
  std::chrono::nanoseconds timeout_{0};
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

// ---- producer waits (next() on a full ring) ----------------------------------------------

struct BusySpinProducerWait {
  void idle(std::uint32_t) noexcept { cpu_relax(); }
};
struct YieldingProducerWait {
  void idle(std::uint32_t attempt) noexcept {
    if (attempt < 100) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
};
struct SleepingProducerWait {
  std::chrono::microseconds sleep{50};
  void idle(std::uint32_t attempt) noexcept {
    if (attempt < 100) {
      cpu_relax();
    } else {
      std::this_thread::sleep_for(sleep);
    }
  }
};

}  // namespace hft::disruptor
