// hft/disruptor/single_producer_sequencer.hpp: SingleProducerSequencer, the claim/publish
// protocol of a ring buffer written by exactly one thread.
//
// What: hands out sequence numbers to the one producer and publishes them to consumers.
//   The claim path executes no atomic read-modify-write: the producer keeps its next
//   value and a cached copy of the slowest consumer's sequence in private fields and
//   reads the consumers' sequences only when the cache says the ring may be full.
// When to use: one producer thread (by far the fastest option). When not: several
//   threads publish (MultiProducerSequencer).
// Thread-safety: next/try_next/publish/remaining_capacity: the producer thread
//   only. cursor(), is_available(), highest_published(): any thread. halt(): any thread.
// Progress: try_next wait-free; next(n) waits while the ring is full (producer wait
//   strategy P) and throws Halted if halt() is called meanwhile; publish wait-free (plus
//   a wake-up when the blocking wait strategy has sleepers).
// Memory ordering: publish(seq) stores the cursor with release (seq_cst under the
//   blocking strategy); consumers' acquire loads of it make the event visible. The
//   producer's acquire loads of the gating sequences pair with the consumers' release
//   stores, so a slot is reused only after every consumer is done with it.
// Complexity: O(1) per claim and publish; the gating sequences (O(consumers)) are read
//   only when the cached minimum says the ring may be full.
// Compared with: LMAX: LMAX's next() parks unconditionally and cannot be interrupted;
//   ours waits by a chosen strategy and is interrupted by halt(). A claim larger than
//   the ring is an exception, never a deadlock.
// Lifecycle: neither copyable nor movable (barriers hold its address).
#pragma once

#include <cstdint>
#include <optional>

#include "hft/disruptor/sequencer_base.hpp"

namespace hft::disruptor {

/// The claim protocol for one producer thread: claims with plain arithmetic, publishes by a
/// release store of the cursor.
template <class W = BlockingWaitStrategy, class P = YieldingProducerWait>
class SingleProducerSequencer : public detail::SequencerBase<W, P> {
  using Base = detail::SequencerBase<W, P>;

 public:
  /// A sequencer for a ring of `buffer_size` slots (a power of two in [1, 2^40]); throws
  /// std::invalid_argument otherwise.
  explicit SingleProducerSequencer(std::size_t buffer_size, W wait = W{}, P producer_wait = P{})
      : Base(buffer_size, std::move(wait), std::move(producer_wait)) {}

  /// Producer only. Claims the next n slots (returns the highest); waits while full.
  [[nodiscard]] std::int64_t next(std::int64_t n = 1) {
    this->check_claim(n);
    for (std::uint32_t attempt = 0; !has_capacity(n); ++attempt) {
      if (this->halted()) throw Halted();
      this->producer_wait_.idle(attempt);
    }
    next_value_ += n;
    return next_value_;
  }

  /// Producer only. Claims n slots, or returns nullopt at once when the ring lacks room.
  [[nodiscard]] std::optional<std::int64_t> try_next(std::int64_t n = 1) {
    this->check_claim(n);
    if (!has_capacity(n)) return std::nullopt;
    next_value_ += n;
    return next_value_;
  }

  /// Producer only. Publishes seq (and everything claimed before it).
  void publish(std::int64_t seq) {
    this->publish_cursor(seq);
    this->wait_.signal_all_when_blocking();
  }
  /// Producer only. Publishes [lo, hi] (for one producer the same as publish(hi)).
  void publish(std::int64_t /*lo*/, std::int64_t hi) { publish(hi); }

  /// Producer only. Free slots right now.
  [[nodiscard]] std::int64_t remaining_capacity() const noexcept {
    const std::int64_t consumed = this->min_gating(next_value_);
    return this->buffer_size_ - (next_value_ - consumed);
  }

  /// Any thread. True when `seq` is published (acquire).
  [[nodiscard]] bool is_available(std::int64_t seq) const noexcept { return seq <= this->cursor_.get(); }
  /// Any thread. The cursor is the published position: `available` (a cursor read) as is.
  [[nodiscard]] std::int64_t highest_published(std::int64_t /*lo*/, std::int64_t available) const noexcept {
    return available;
  }
  /// Any thread. The highest published sequence (acquire; pairs with publish()'s store).
  [[nodiscard]] std::int64_t published(std::int64_t /*lo*/) const noexcept { return this->cursor_.get(); }
  /// As published(), with a seq_cst load (the blocking wait strategy's handshake).
  [[nodiscard]] std::int64_t published_seq_cst(std::int64_t /*lo*/) const noexcept {
    return this->cursor_.get_seq_cst();
  }

 private:
  // Room for n more? Reads the consumers' sequences only when the cached minimum says
  // the ring may be full (or the cache is stale from before a reset).
  [[nodiscard]] bool has_capacity(std::int64_t n) {
    const std::int64_t wrap_point = next_value_ + n - this->buffer_size_;
    if (wrap_point > cached_gating_ || cached_gating_ > next_value_) {
      const std::int64_t min = this->min_gating(next_value_);
      cached_gating_ = min;
      if (wrap_point > min) return false;
    }
    return true;
  }

  // Producer-private.
  std::int64_t next_value_ = kInitialSequence;
  std::int64_t cached_gating_ = kInitialSequence;
};

}  // namespace hft::disruptor
