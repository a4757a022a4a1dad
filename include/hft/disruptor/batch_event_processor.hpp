// hft/disruptor/batch_event_processor.hpp: BatchEventProcessor, the consumer loop that
// runs one event handler over a ring buffer, a batch at a time.
//
// What: run() waits on its barrier for the next sequence, gets the highest available
//   one, and calls handler.on_event(event, seq, end_of_batch) for each event up to it
//   (at most max_batch_size per batch), then advances its own Sequence once per batch,
//   which releases the slots to producers and downstream consumers.
// When to use: a consumer that owns a thread and processes every event (the Disruptor
//   builder makes these). When not: a thread with its own loop (EventPoller).
// Handler: a type with on_event(E&, std::int64_t seq, bool end_of_batch); optionally
//   on_batch_start(std::int64_t batch_size), on_start(), on_shutdown(),
//   on_timeout(std::int64_t last_available) (detected at compile time, no virtual calls).
// Exceptions from the handler (ExceptionPolicy):
//   SkipAndReport (default): report (on_exception callback; default prints seq and
//     what() to stderr) and go on with the next event: one bad event never wedges the
//     pipeline.
//   Halt: report, count the event as processed, and stop run(); failed() turns true so
//     the owner (Disruptor) halts everything instead of leaving producers blocked.
//   Rethrow: like Halt, then rethrow from run().
// Work sharing: with stripe_count = N and stripe_index = k, the handler sees only the
//   sequences with seq % N == k, while the processor's Sequence still advances over all
//   of them; N processors with k = 0..N-1 together see every event exactly once.
// Halting: halt() sets a flag that run() checks between batches, and alerts the barrier
//   (which wakes a waiting run()). A batch in progress is finished first: it is at most
//   max_batch_size events (by default everything available, up to the whole ring), so set
//   max_batch_size to bound how long halt() can take under load. A handler that blocks
//   never sees the flag: handlers must return in bounded time.
// Restart: after run() returned, rearm() clears the halt request and the failure flag, and
//   run() may be called again; it continues after the last sequence it finished.
// Thread-safety: run() on one thread at a time; halt(), sequence(), running(),
//   failed() from any thread; rearm() only while run() is not running.
// Progress: as the wait strategy; halt() is wait-free.
// Memory ordering: the Sequence is advanced with a release store after the handler ran,
//   pairing with the acquire loads of producers (slot reuse) and dependent consumers.
// Complexity: O(1) per event plus the handler; one release store per batch.
// Compared with: LMAX's BatchEventProcessor runs the same loop. Handler hooks are found at
//   compile time instead of through interfaces (no virtual call per event), the exception
//   policy is a config field instead of an ExceptionHandler object, and striping takes
//   the place of LMAX's WorkProcessor pool for work sharing.
// Lifecycle: neither copyable nor movable (its Sequence's address is a gating sequence).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/disruptor/sequence.hpp"
#include "hft/disruptor/sequence_barrier.hpp"

namespace hft::disruptor {

/// What a BatchEventProcessor does when the handler throws: SkipAndReport (report, go on), Halt
/// (report, stop run()) or Rethrow (stop, then rethrow from run()).
enum class ExceptionPolicy { SkipAndReport, Halt, Rethrow };

/// Settings of a BatchEventProcessor: batch bound, exception policy and work striping.
struct BatchEventProcessorConfig {
  /// Events handed to the handler per wait at most (>= 1)
  std::int64_t max_batch_size = std::numeric_limits<std::int64_t>::max();
  ExceptionPolicy exception_policy = ExceptionPolicy::SkipAndReport;  ///< what a handler exception does
  /// Called with the exception and the sequence of the event that threw. Default: stderr.
  std::function<void(std::exception_ptr, std::int64_t)> on_exception{};
  std::int64_t stripe_count = 1;  ///< N processors share the events: each sees every N-th (>= 1)
  std::int64_t stripe_index = 0;  ///< this one's share: the sequences s with s % N == k (0 <= k < N)
};

/// The default on_exception: prints the sequence and the exception's what() to stderr.
inline void report_to_stderr(const std::exception_ptr& e, std::int64_t seq) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "hft::disruptor: handler threw at sequence %lld: %s\n", static_cast<long long>(seq),
                 ex.what());
  } catch (...) {
    std::fprintf(stderr, "hft::disruptor: handler threw a non-standard exception at sequence %lld\n",
                 static_cast<long long>(seq));
  }
}

/// A consumer thread's loop: waits on its barrier, hands each available batch to
/// handler.on_event(event, seq, end_of_batch), then advances its sequence.
template <class RingBufferT, class Handler>
class BatchEventProcessor {
  using E = typename RingBufferT::event_type;
  using Barrier = SequenceBarrier<typename RingBufferT::sequencer_type>;

 public:
  /// A processor of `ring`'s events behind `barrier`. `ring` and `handler` must outlive it.
  /// Throws std::invalid_argument for a bad batch size or stripe.
  BatchEventProcessor(RingBufferT& ring, Barrier barrier, Handler& handler, BatchEventProcessorConfig cfg = {})
      : ring_(ring), barrier_(std::move(barrier)), handler_(handler), cfg_(std::move(cfg)) {
    if (cfg_.max_batch_size < 1) throw std::invalid_argument("hft::BatchEventProcessor: max_batch_size must be >= 1");
    if (cfg_.stripe_count < 1 || cfg_.stripe_index < 0 || cfg_.stripe_index >= cfg_.stripe_count) {
      throw std::invalid_argument("hft::BatchEventProcessor: need 0 <= stripe_index < stripe_count");
    }
    if (!cfg_.on_exception) cfg_.on_exception = report_to_stderr;
  }

  /// The consumer loop. Returns after halt(), or after a handler exception under the
  /// Halt policy; rethrows it under Rethrow. Throws std::logic_error if already running.
  void run() {
    // acq_rel: a second run() sees the first one's claim; pairs with Stop's release.
    if (running_.exchange(true, std::memory_order_acq_rel)) {
      throw std::logic_error("hft::BatchEventProcessor::run: already running");
    }
    struct Stop {
      BatchEventProcessor& p;
      ~Stop() { p.running_.store(false, std::memory_order_release); }  // pairs with running()'s acquire
    } stop{*this};
    barrier_.clear_alert();
    if constexpr (requires { handler_.on_start(); }) handler_.on_start();
    std::exception_ptr to_rethrow;
    std::int64_t next = sequence_.get_relaxed() + 1;
    while (!halt_requested_.load(std::memory_order_acquire)) {  // pairs with halt()'s release
      const WaitResult r = barrier_.wait_for(next);
      if (r.status == WaitStatus::Alerted) continue;  // halt(): the loop condition decides
      if (r.status == WaitStatus::Timeout) {
        if constexpr (requires { handler_.on_timeout(r.available); }) handler_.on_timeout(r.available);
        continue;
      }
      const std::int64_t end = r.available - next >= cfg_.max_batch_size ? next + cfg_.max_batch_size - 1
                                                                             : r.available;
      if constexpr (requires { handler_.on_batch_start(end - next + 1); }) handler_.on_batch_start(end - next + 1);
      std::int64_t s = next;
      try {
        for (; s <= end; ++s) {
          if (cfg_.stripe_count == 1) {
            handler_.on_event(ring_[s], s, s == end);
          } else if (s % cfg_.stripe_count == cfg_.stripe_index) {
            handler_.on_event(ring_[s], s, s + cfg_.stripe_count > end);
          }
        }
      } catch (...) {
        cfg_.on_exception(std::current_exception(), s);
        sequence_.set(s);  // the failed event counts as processed: nothing waits on it forever
        next = s + 1;
        if (cfg_.exception_policy == ExceptionPolicy::SkipAndReport) continue;
        failed_.store(true, std::memory_order_release);  // pairs with failed()'s acquire (the owner halts all)
        if (cfg_.exception_policy == ExceptionPolicy::Rethrow) to_rethrow = std::current_exception();
        break;
      }
      sequence_.set(end);  // release: pairs with producers' and dependents' acquire loads
      next = end + 1;
    }
    if constexpr (requires { handler_.on_shutdown(); }) handler_.on_shutdown();
    if (to_rethrow) std::rethrow_exception(to_rethrow);
  }

  /// Any thread. Makes run() return once the batch in progress is finished (see the
  /// header), or at once if it is waiting.
  void halt() {
    halt_requested_.store(true, std::memory_order_release);  // pairs with run()'s acquire
    barrier_.alert();
  }
  /// Not while run() runs. Clears halt() and failed() so run() may be called again.
  void rearm() noexcept {
    HFT_ASSERT(!running(), "BatchEventProcessor::rearm while run() is running");
    halt_requested_.store(false, std::memory_order_relaxed);  // run()'s start synchronises it
    failed_.store(false, std::memory_order_relaxed);
  }

  /// The sequence of the last event processed: a gating sequence for the producers and the
  /// consumers behind it.
  [[nodiscard]] const Sequence& sequence() const noexcept { return sequence_; }
  /// The sequence of the last event processed, to add as a gating or dependency sequence.
  [[nodiscard]] Sequence& sequence() noexcept { return sequence_; }
  /// Acquire pairs with run()'s release on exit: once false, run() has finished the handler.
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /// Acquire pairs with the release store when a handler failed under Halt/Rethrow.
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  /// The barrier it waits on (alert() it to stop a wait).
  [[nodiscard]] Barrier& barrier() noexcept { return barrier_; }

 private:
  RingBufferT& ring_;
  Barrier barrier_;
  Handler& handler_;
  BatchEventProcessorConfig cfg_;
  Sequence sequence_{kInitialSequence};
  std::atomic<bool> running_{false};
  std::atomic<bool> halt_requested_{false};
  std::atomic<bool> failed_{false};
};

}  // namespace hft::disruptor
