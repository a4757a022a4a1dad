// hft/disruptor/sequence_barrier.hpp: SequenceBarrier, where a consumer waits for the
// events it may process.
//
// What: waits, by the ring's wait strategy, until sequence `seq` has been published and
//   processed by every dependency (the consumers this one runs after), and returns the
//   highest sequence available, so the consumer can process a whole batch. Supports an
//   alert (halt) that wakes the waiter, and the wait strategy's timeout.
// When to use: writing a consumer loop by hand (BatchEventProcessor and Disruptor
//   create barriers for you). When not: a consumer that must never block (EventPoller).
// Thread-safety: wait_for(): the one consumer thread that owns the barrier.
//   alert()/clear_alert()/is_alerted(): any thread.
// Progress: wait_for blocks per the wait strategy; alert() is wait-free (plus a wake-up).
// Memory ordering: the acquire loads inside (cursor, availability flags, dependency
//   sequences) pair with the producers' and dependencies' release stores: everything
//   written to events up to the returned sequence is visible. alert() stores seq_cst and
//   wakes sleepers; the strategies check it on every wait iteration.
// Complexity: each check is O(dependencies) (the minimum of their sequences).
// Compared with: LMAX's ProcessingSequenceBarrier: the same role; with several producers
//   ours waits for what is published, not for the claim cursor, and a timeout comes from
//   the wait strategy.
// Lifecycle: movable (so a processor can take one by value), not copyable; a moved-from
//   barrier may only be destroyed. Not movable while its owner waits in it.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "hft/disruptor/sequence.hpp"
#include "hft/disruptor/wait_strategy.hpp"

namespace hft::disruptor {

/// What a consumer waits on: the sequencer's published cursor and the sequences of the
/// consumers it depends on, through the ring's wait strategy. One consumer per barrier.
template <class Sequencer>
class SequenceBarrier {
 public:
  /// A barrier on `sequencer` and `dependencies` (the consumers this one must not overtake;
  /// empty: only the producers). Both must outlive it.
  SequenceBarrier(Sequencer& sequencer, std::vector<const Sequence*> dependencies)
      : sequencer_(&sequencer), deps_(std::move(dependencies)) {}

  /// Takes `o`'s sequencer, dependencies and alert flag; not while a consumer waits on `o`.
  SequenceBarrier(SequenceBarrier&& o) noexcept
      : sequencer_(o.sequencer_), deps_(std::move(o.deps_)), alerted_(o.alerted_.load()) {}

  /// Owner consumer only. Ok: result.available >= seq, every event up to it published
  /// and finished by every dependency. Alerted / Timeout: result.available is what was
  /// known (may be < seq).
  WaitResult wait_for(std::int64_t seq) {
    return sequencer_->wait_strategy().wait_for(seq, Gate{sequencer_, deps_}, alerted_);
  }

  /// What this consumer may process, as the wait strategies see it (wait_strategy.hpp).
  struct Gate {
    const Sequencer* sequencer;             ///< the ring's sequencer
    std::span<const Sequence* const> deps;  ///< the sequences this consumer must not overtake
    /// The highest sequence published contiguously from `seq` (acquire).
    [[nodiscard]] std::int64_t published(std::int64_t seq) const noexcept { return sequencer->published(seq); }
    /// As published(), with seq_cst loads (the blocking strategy's handshake).
    [[nodiscard]] std::int64_t published_seq_cst(std::int64_t seq) const noexcept {
      return sequencer->published_seq_cst(seq);
    }
    // Dependencies only ever pass published events, so their minimum needs no further cap.
    /// What the consumer may process: published, capped by the slowest dependency.
    [[nodiscard]] std::int64_t available(std::int64_t seq) const noexcept {
      return deps.empty() ? sequencer->published(seq) : min_sequence(deps);
    }
  };

  /// Any thread. Wakes the owner; its wait_for returns Alerted until clear_alert().
  void alert() {
    alerted_.store(true, std::memory_order_seq_cst);  // seq_cst: pairs with BlockingWaitStrategy's check
    sequencer_->wait_strategy().signal_all_when_blocking();
  }
  /// Clears alert() so wait_for waits again (before a restart).
  void clear_alert() noexcept { alerted_.store(false, std::memory_order_release); }
  /// True after alert() until clear_alert() (acquire).
  [[nodiscard]] bool is_alerted() const noexcept { return alerted_.load(std::memory_order_acquire); }
  /// The sequencer's cursor: the highest claimed sequence.
  [[nodiscard]] std::int64_t cursor() const noexcept { return sequencer_->cursor().get(); }
  /// The dependencies given at construction.
  [[nodiscard]] const std::vector<const Sequence*>& dependencies() const noexcept { return deps_; }

 private:
  Sequencer* sequencer_;
  std::vector<const Sequence*> deps_;
  std::atomic<bool> alerted_{false};
};

}  // namespace hft::disruptor
