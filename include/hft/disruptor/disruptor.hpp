// hft/disruptor/disruptor.hpp: Disruptor<E>, the builder that wires handlers into a
// dependency graph over one RingBuffer and runs each on its own thread.
//
// What:
//   Disruptor<Event> d(1024);
//   d.handle_events_with(a, b).then(c);        // a, b in parallel; c after both
//   d.after(a).handle_events_with(d2);          // d2 after a only
//   d.handle_events_with_workers(w0, w1);       // w0 and w1 share the events (stripes)
//   d.start();                                  // one thread per processor
//   d.ring_buffer().publish_event(fill);        // produce
//   d.shutdown();                               // drain everything published, then stop
//   Handlers are taken by reference and must outlive the Disruptor. The producer is
//   gated on the last consumers of every chain (wired automatically as the graph grows).
// When to use: a pipeline, fan-out or diamond of consumers over one ring, each on its
//   own thread. When not: a 1:1 hand-off (SpscQueue); consumers that run inside another
//   loop (RingBuffer + EventPoller).
// Thread-safety: build the graph and call start()/shutdown()/halt() from one
//   controlling thread, before producers start publishing (the gating set is not
//   synchronised with claims). Publishing follows the ring's producer type. From inside a
//   handler (a processor thread), halt() is allowed and only requests the stop (it cannot
//   join its own thread: the controlling thread's shutdown()/halt()/destructor joins);
//   shutdown() and start() there throw std::logic_error.
// Guarantees:
//   - shutdown() waits until every published event has been processed by every
//     consumer, then stops all processors: nothing published before shutdown is lost.
//     Its wait is bounded: if a processor fails (Halt/Rethrow policy), something halts the
//     Disruptor (a handler's halt()), or `timeout` passes, it halts everything and throws
//     (std::runtime_error; the processor's exception for Rethrow). nanoseconds::max()
//     waits forever.
//   - Producers blocked in next() on a full ring get hft::disruptor::Halted once halt() or
//     shutdown() has stopped the processors. The sequencer stays halted until start(), so
//     no blocked producer can miss it.
//   - What no timeout can bound: a handler that never returns. Threads cannot be
//     interrupted, so shutdown()/halt() wait in join() for it. Handlers must return in
//     bounded time (long work checks a stop flag of its own).
//   - halt() stops at once: processors finish the batch in progress (bounded by
//     BatchEventProcessorConfig::max_batch_size) and events published but unprocessed stay in the
//     ring.
//   - Restart: start() after shutdown() or halt() runs the same processors again; they
//     continue after the last event each one finished, so events published while stopped
//     are processed then.
//   - The destructor halts and joins if still running: no std::terminate on exit.
// Progress: as the chosen wait strategies. Processors are type-erased behind one
//   virtual call per run(), never per event.
// Memory ordering: that of the ring's sequencer and barriers (a release publish, an
//   acquire wait; ring_buffer.hpp). start() happens-before every handler call (thread
//   creation), and every handler call happens-before shutdown() returns (join).
// Complexity: building the graph is O(handlers); per event, as BatchEventProcessor.
// Compared with: LMAX's DSL (handleEventsWith / then / after) builds the same graph; LMAX
//   runs handlers on an Executor and its shutdown(timeout) throws TimeoutException with
//   the processors still running, ours halts them and throws; handlers are taken by
//   reference, one std::thread per processor.
// Lifecycle: neither copyable nor movable (processor threads hold its address).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hft/core/assert.hpp"
#include "hft/core/deadline.hpp"
#include "hft/core/thread.hpp"
#include "hft/disruptor/batch_event_processor.hpp"
#include "hft/disruptor/ring_buffer.hpp"
#include "hft/disruptor/sequence_barrier.hpp"

namespace hft::disruptor {

template <class E, ProducerType PT = ProducerType::Single, class W = BlockingWaitStrategy,
          class P = YieldingProducerWait>
/// The Disruptor DSL: owns a RingBuffer and the processors of a consumer graph (stages in
/// parallel or in sequence), starts one thread per processor and halts them.
class Disruptor {
 public:
  /// The ring buffer type it owns.
  using ring_type = RingBuffer<E, PT, W, P>;

 private:
  struct ProcessorBase {
    virtual ~ProcessorBase() = default;
    virtual void run() = 0;
    virtual void halt() = 0;
    virtual void rearm() noexcept = 0;
    [[nodiscard]] virtual const Sequence& sequence() const = 0;
    [[nodiscard]] virtual bool failed() const = 0;
    const void* handler = nullptr;
  };
  template <class H>
  struct Processor final : ProcessorBase {
    BatchEventProcessor<ring_type, H> impl;
    Processor(ring_type& rb, SequenceBarrier<typename ring_type::sequencer_type> b, H& h, BatchEventProcessorConfig o)
        : impl(rb, std::move(b), h, std::move(o)) {
      this->handler = &h;
    }
    void run() override { impl.run(); }
    void halt() override { impl.halt(); }
    void rearm() noexcept override { impl.rearm(); }
    [[nodiscard]] const Sequence& sequence() const override { return impl.sequence(); }
    [[nodiscard]] bool failed() const override { return impl.failed(); }
  };

 public:
  /// A set of processors the next stage can depend on.
  class Group {
   public:
    /// A new stage of handlers, each seeing every event after all of this group's processors.
    template <class... H>
    Group then(H&... handlers) {
      return d_->create(sequences(), false, handlers...);
    }
    /// Same as then(), in LMAX's spelling.
    template <class... H>
    Group handle_events_with(H&... handlers) {
      return then(handlers...);
    }
    /// A new stage whose handlers share the events (each to one of them), after this group.
    template <class... H>
    Group then_workers(H&... handlers) {
      return d_->create(sequences(), true, handlers...);
    }
    /// The sequences of this group's processors (to gate on or depend on).
    [[nodiscard]] std::vector<const Sequence*> sequences() const {
      std::vector<const Sequence*> s;
      for (std::size_t i : members_) s.push_back(&d_->processors_[i]->sequence());
      return s;
    }

   private:
    friend class Disruptor;
    Group(Disruptor* d, std::vector<std::size_t> m) : d_(d), members_(std::move(m)) {}
    Disruptor* d_;
    std::vector<std::size_t> members_;
  };

  /// A ring of `size` slots (a power of two) with default-constructed events. Throws
  /// std::invalid_argument for a bad size.
  explicit Disruptor(std::size_t size, W wait = W{}, P producer_wait = P{})
      : ring_(size, std::move(wait), std::move(producer_wait)) {}
  Disruptor(const Disruptor&) = delete;
  Disruptor& operator=(const Disruptor&) = delete;
  ~Disruptor() {
    HFT_ASSERT(tls_running_in() != this, "Disruptor destroyed from one of its own handlers");
    if (!threads_.empty()) {
      halt_all();
      join_all();
    }
  }

  /// Options (batch size, exception policy, reporter) for processors created from now on.
  void set_processor_config(BatchEventProcessorConfig o) { cfg_ = std::move(o); }

  /// Handlers that consume straight from the producer, in parallel.
  template <class... H>
  Group handle_events_with(H&... handlers) {
    return create({}, false, handlers...);
  }
  /// Handlers that share the events (each event to exactly one of them, by stripe).
  template <class... H>
  Group handle_events_with_workers(H&... handlers) {
    return create({}, true, handlers...);
  }
  /// The processors already created for these handlers, to hang a new stage after.
  template <class... H>
  Group after(H&... handlers) {
    std::vector<std::size_t> members;
    (members.push_back(index_of(&handlers)), ...);
    return Group(this, std::move(members));
  }

  /// The ring, for producers to publish to.
  [[nodiscard]] ring_type& ring_buffer() noexcept { return ring_; }

  /// Controlling thread. Starts one thread per processor; with `cpus`, processor i is
  /// pinned to cpus[i % n]. Also restarts after shutdown() or halt() (see the header).
  /// Throws std::logic_error if running (or not yet joined after a handler's halt()), if
  /// there are no handlers, or when called from a handler.
  void start(const std::vector<int>& cpus = {}) {
    refuse_from_handler("start");
    if (!threads_.empty())
      throw std::logic_error("hft::Disruptor::start: already started (shutdown() or halt() first)");
    if (processors_.empty()) throw std::logic_error("hft::Disruptor::start: no handlers");
    {
      std::lock_guard lock(error_mutex_);
      error_ = nullptr;
    }
    for (auto& p : processors_) p->rearm();
    halted_.store(false, std::memory_order_relaxed);  // the threads below are created after it
    ring_.sequencer().clear_halt();
    try {
      for (std::size_t i = 0; i < processors_.size(); ++i) {
        const int cpu = cpus.empty() ? -1 : cpus[i % cpus.size()];
        threads_.emplace_back([this, i, cpu] { processor_main(i, cpu); });
      }
    } catch (...) {
      halt_all();
      join_all();
      throw;
    }
  }

  /// Controlling thread. Waits until every published event is processed by every
  /// consumer, then stops. Throws (after halting) if a processor failed, the Disruptor was
  /// halted meanwhile, or the timeout passed; std::logic_error from a handler.
  void shutdown(std::chrono::nanoseconds timeout = std::chrono::seconds(60)) {
    refuse_from_handler("shutdown");
    const auto deadline = deadline_after(timeout);
    bool drained = false;
    bool failed = false;
    bool halted = false;
    while (!(drained = backlog_drained())) {
      if (any_failed() || has_error()) {
        failed = true;
        break;
      }
      // Acquire pairs with halt_all()'s release: a handler (or a failing processor) stopped us.
      if (halted_.load(std::memory_order_acquire)) {
        halted = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    halt_all();
    join_all();
    // The sequencer stays halted until start(): a producer asleep in its wait strategy
    // right now must still find the halt when it wakes.
    if (has_error()) {
      std::exception_ptr e;
      {
        std::lock_guard lock(error_mutex_);
        e = std::exchange(error_, nullptr);
      }
      std::rethrow_exception(e);
    }
    if (failed || any_failed())
      throw std::runtime_error("hft::Disruptor::shutdown: a processor failed (see its report)");
    if (drained) return;
    if (halted) throw std::runtime_error("hft::Disruptor::shutdown: halted with published events unprocessed");
    throw std::runtime_error("hft::Disruptor::shutdown: timed out with published events unprocessed");
  }

  /// Stops every processor now and wakes producers blocked in next() (they throw Halted).
  /// Controlling thread: returns once the processor threads have ended. From a handler:
  /// only requests the stop and returns (the controlling thread joins later).
  void halt() {
    halt_all();
    if (tls_running_in() == this) return;
    join_all();
  }

 private:
  template <class... H>
  Group create(const std::vector<const Sequence*>& deps, bool workers, H&... handlers) {
    if (!threads_.empty()) throw std::logic_error("hft::Disruptor: add handlers before start()");
    std::vector<std::size_t> members;
    const auto n = static_cast<std::int64_t>(sizeof...(H));
    std::int64_t stripe = 0;
    auto add = [&](auto& h) {
      using Handler = std::remove_reference_t<decltype(h)>;
      BatchEventProcessorConfig o = cfg_;
      if (workers) {
        o.stripe_count = n;
        o.stripe_index = stripe++;
      }
      processors_.push_back(std::make_unique<Processor<Handler>>(
          ring_, SequenceBarrier<typename ring_type::sequencer_type>(ring_.sequencer(), deps), h, std::move(o)));
      members.push_back(processors_.size() - 1);
    };
    (add(handlers), ...);
    // The new processors now gate the producer; their dependencies no longer need to.
    for (const Sequence* d : deps) ring_.sequencer().remove_gating_sequence(d);
    for (std::size_t i : members) ring_.sequencer().add_gating_sequences({&processors_[i]->sequence()});
    return Group(this, std::move(members));
  }

  std::size_t index_of(const void* handler) const {
    for (std::size_t i = 0; i < processors_.size(); ++i) {
      if (processors_[i]->handler == handler) return i;
    }
    throw std::invalid_argument("hft::Disruptor::after: handler was not added with handle_events_with");
  }

  // True when every processor has processed everything published so far.
  bool backlog_drained() const {
    std::int64_t min_seq = std::numeric_limits<std::int64_t>::max();
    for (const auto& p : processors_) min_seq = std::min(min_seq, p->sequence().get());
    const std::int64_t claimed = ring_.sequencer().cursor().get();
    const std::int64_t published = ring_.sequencer().highest_published(min_seq + 1, claimed);
    return min_seq >= published;
  }
  bool any_failed() const {
    return std::any_of(processors_.begin(), processors_.end(), [](const auto& p) { return p->failed(); });
  }
  bool has_error() {
    std::lock_guard lock(error_mutex_);
    return error_ != nullptr;
  }
  // Any thread (processors_ is fixed once started).
  void halt_all() {
    halted_.store(true, std::memory_order_release);  // pairs with shutdown()'s acquire
    ring_.sequencer().halt();
    for (auto& p : processors_) p->halt();
  }
  // Controlling thread only: never a processor thread (it would join itself).
  void join_all() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

  void processor_main(std::size_t i, int cpu) {
    tls_running_in() = this;
    try {
      if (cpu >= 0) pin_current_thread(cpu);
      processors_[i]->run();
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (processors_[i]->failed() || has_error()) halt_all();
    tls_running_in() = nullptr;
  }

  // The Disruptor whose processor runs on this thread, if any: tells a handler's call
  // apart from the controlling thread's without reading threads_ (which that thread writes).
  static const Disruptor*& tls_running_in() noexcept {
    static thread_local const Disruptor* d = nullptr;
    return d;
  }
  void refuse_from_handler(const char* what) const {
    if (tls_running_in() == this) {
      throw std::logic_error(std::string("hft::Disruptor::") + what +
                             " called from one of its handlers: it would wait for its own thread (use halt())");
    }
  }

  ring_type ring_;
  BatchEventProcessorConfig cfg_;
  std::vector<std::unique_ptr<ProcessorBase>> processors_;
  std::vector<std::thread> threads_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::atomic<bool> halted_{false};
};

}  // namespace hft::disruptor
