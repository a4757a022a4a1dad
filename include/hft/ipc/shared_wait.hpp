// hft/ipc/shared_wait.hpp: SharedWaitWord and hft::ipc::shared_wait, a consumer in one
// process sleeping until a producer in another publishes, at one load per publish when
// nobody sleeps.
//
// What: an 8-byte word pair in shared memory, {seq, waiters}. A consumer that wants to
//   sleep announces itself (waiters + 1), reads seq, checks its condition once more, and
//   sleeps in FUTEX_WAIT on seq (a shared futex, not FUTEX_PRIVATE: the kernel keys it by
//   the page, so it works across processes). A producer, after publishing, loads waiters;
//   only when it is non-zero does it bump seq and FUTEX_WAKE.
//   The producer's store (publish) then load (waiters), and the consumer's store
//   (waiters) then load (the condition), form a Dekker pattern: without a full fence on
//   both sides each could miss the other, and the consumer would sleep through the
//   publish. The fence on the producer's side is what a hot path cannot pay, so the
//   consumer pays for both: membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) runs a full
//   barrier on every CPU running a registered process, and prepare_notifier() registers
//   the producer's process. The producer's side is then a compiler barrier and one
//   relaxed load. Where membarrier is not available, notify() uses a seq_cst fence.
// When to use: a channel's consumer that may idle for long (a risk process, a drop copy)
//   beside a producer that must not pay for it. When not: a consumer that must react in
//   under ~5 us (a futex wake-up costs that; busy-poll instead); threads of one process
//   (std::atomic::wait or the queue/ wait strategies).
// Thread-safety: any thread of any process mapping the word may wait(); notify() from the
//   producer side. Several waiters may sleep on one word (notify wakes all).
// Progress: notify() is wait-free (one load when nobody waits; a futex syscall when
//   someone does). wait() blocks, bounded by its timeout.
// Memory ordering: pairs, with notify()'s caller's release store of its data:
//   - a waiter's fetch_add on waiters (seq_cst) + membarrier, against notify()'s relaxed
//     load of waiters after the caller's release store: the membarrier orders the
//     producer's store before its load as a full fence would (the asymmetric-fence
//     argument of userspace RCU and folly::asymmetricThreadFence);
//   - notify()'s seq fetch_add (release) against the waiter's seq load (acquire) and the
//     kernel's compare in FUTEX_WAIT: a bump between the waiter's read and its sleep makes
//     FUTEX_WAIT return at once.
//   The waiter's condition itself must load the data with acquire (the channel's pair).
// Complexity: O(1). No allocation.
// Compared with: iceoryx's ConditionVariable in shared memory (a semaphore per listener,
//   posted on every notify); Boost.Interprocess's interprocess_condition (a mutex around
//   every notify); Linux eventfd (a syscall per notify). Here a producer pays a syscall
//   only when a consumer actually sleeps.
// Limits: a waiter in a process the producer's membarrier does not reach (another pid
//   namespace's CPU set is still covered: membarrier is machine-wide) is fine; what must
//   hold is that prepare_notifier() ran in the producer's process before it notifies. A
//   producer that never called it gets the seq_cst fence (correct, ~20 cycles more).
#pragma once

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

namespace hft::ipc {

/// Lives in a channel's shared area, 8-byte aligned; accessed only through std::atomic_ref.
struct SharedWaitWord {
  std::uint32_t seq = 0;      ///< bumped by a notify that found a waiter; the futex word
  std::uint32_t waiters = 0;  ///< waiters announced (they decrement when they leave)
};
static_assert(sizeof(SharedWaitWord) == 8, "stored in shared memory: its layout is part of the region format");
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "a shared word must be lock-free");

namespace shared_wait {

/// Counters of this process's calls (relaxed: statistics, not synchronisation).
/// (notify() calls that found nobody are not counted: that path is one load.)
struct SharedWaitStats {
  std::uint64_t wakes = 0;   ///< notify() calls that found a waiter and called FUTEX_WAKE
  std::uint64_t sleeps = 0;  ///< FUTEX_WAIT calls by wait()
};

namespace detail {
enum : int { kUnknown = 0, kRegistered = 1, kUnavailable = 2 };
inline std::atomic<int>& notifier_mode() noexcept {
  static std::atomic<int> m{kUnknown};
  return m;
}
inline std::atomic<std::uint64_t>* counters() noexcept {
  static std::atomic<std::uint64_t> c[2] = {};
  return c;
}
inline long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0u, 0); }
inline bool global_expedited_available() noexcept {
  static const bool ok = [] {
    const long q = membarrier(MEMBARRIER_CMD_QUERY);
    return q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0;
  }();
  return ok;
}
}  // namespace detail

/// Registers this process for membarrier(GLOBAL_EXPEDITED), so notify() needs no fence.
/// Call once in a producer's process before it notifies (channels do it when a producer
/// attaches). True when registered; false: notify() fences instead.
inline bool prepare_notifier() noexcept {
  int m = detail::notifier_mode().load(std::memory_order_relaxed);
  if (m == detail::kUnknown) {
    const bool ok = detail::global_expedited_available() &&
                    detail::membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
    m = ok ? detail::kRegistered : detail::kUnavailable;
    detail::notifier_mode().store(m, std::memory_order_relaxed);
  }
  return m == detail::kRegistered;
}

/// After the caller's release store of what it published: wakes the sleepers of `w`, if
/// any announced themselves. One relaxed load when nobody waits. True when it woke (called
/// FUTEX_WAKE), so a channel can count its own wake-ups.
inline bool notify(SharedWaitWord& w) noexcept {
  if (detail::notifier_mode().load(std::memory_order_relaxed) == detail::kRegistered)
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the waiter's membarrier is the fence
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the waiter's seq_cst fetch_add
  if (std::atomic_ref<std::uint32_t>(w.waiters).load(std::memory_order_relaxed) == 0) return false;
  // Release: pairs with the waiter's acquire load of seq.
  std::atomic_ref<std::uint32_t>(w.seq).fetch_add(1, std::memory_order_release);
  detail::counters()[0].fetch_add(1, std::memory_order_relaxed);
  ::syscall(SYS_futex, &w.seq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  return true;
}

/// Sleeps until `ready()` (which must load the published data with acquire) is true or
/// `timeout` passes; returns ready(). Spurious wake-ups are absorbed.
template <class Ready>
bool wait(SharedWaitWord& w, Ready&& ready, std::chrono::nanoseconds timeout) {
  if (ready()) return true;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto wait_for = std::max(timeout, std::chrono::nanoseconds::zero());
  // duration::max() and anything past the clock's range wait without a deadline overflow.
  const auto deadline = wait_for >= clock::time_point::max() - start
                            ? clock::time_point::max()
                            : start + std::chrono::duration_cast<clock::duration>(wait_for);
  std::atomic_ref<std::uint32_t> waiters(w.waiters);
  std::atomic_ref<std::uint32_t> seq(w.seq);
  waiters.fetch_add(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with notify()'s fence (no membarrier)
  // Every registered producer's publish before its load of `waiters` is now ordered: it
  // either saw us, or we see its data below.
  if (detail::global_expedited_available()) (void)detail::membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
  bool ok = false;
  for (;;) {
    const std::uint32_t s = seq.load(std::memory_order_acquire);  // pairs with notify()'s release bump
    if (ready()) {
      ok = true;
      break;
    }
    const auto now = clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
    timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    detail::counters()[1].fetch_add(1, std::memory_order_relaxed);
    ::syscall(SYS_futex, &w.seq, FUTEX_WAIT, s, &ts, nullptr, 0);  // returns at once if seq != s
  }
  waiters.fetch_sub(1, std::memory_order_relaxed);
  return ok;
}

/// This process's counters (relaxed loads).
[[nodiscard]] inline SharedWaitStats stats() noexcept {
  auto* c = detail::counters();
  return {c[0].load(std::memory_order_relaxed), c[1].load(std::memory_order_relaxed)};
}

}  // namespace shared_wait
}  // namespace hft::ipc
