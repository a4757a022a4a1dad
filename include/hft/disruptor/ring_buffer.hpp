// hft/disruptor/ring_buffer.hpp: RingBuffer<E>, preallocated events plus a sequencer.
//
// What: a power-of-two array of events, created once (default-constructed or from a
//   factory) and reused forever: producers claim a sequence, fill the event in place and
//   publish; consumers read it through a SequenceBarrier. Nothing is allocated after
//   construction.
// When to use: a multi-stage pipeline or fan-out where consumers depend on each other
//   (with Disruptor or BatchEventProcessor). When not: a plain 1:1 hand-off of small
//   values, where SpscQueue is simpler and as fast.
// Thread-safety: operator[](seq) gives the event at seq: the producer that
//   claimed seq may write it until it publishes; consumers may read it after their
//   barrier reports it available and until they advance their sequence past it.
//   Claim/publish calls follow the sequencer's contract (one producer thread for
//   ProducerType::Single, any number for Multi).
// Progress: that of the sequencer (single_/multi_producer_sequencer.hpp).
// Memory ordering: that of the sequencer: publish is a release store the barrier's
//   acquire load pairs with, so a consumer sees every write to the event before publish.
// Complexity: O(1) per event; publish_events(n) claims and publishes n with one
//   sequencer round trip.
// Compared with: LMAX's RingBuffer: the same preallocated events and claim/publish;
//   events may come from a factory, publish_events(n) claims a batch as LMAX's
//   publishEvents does, and next() on a full ring can be interrupted by halt().
// Lifecycle: neither copyable nor movable (barriers and processors hold its address).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "hft/disruptor/multi_producer_sequencer.hpp"
#include "hft/disruptor/single_producer_sequencer.hpp"

namespace hft::disruptor {

/// Single: one thread claims slots (a plain store); Multi: several threads claim concurrently
/// (a CAS on the cursor and a per-slot published flag).
enum class ProducerType { Single, Multi };

template <class E, ProducerType PT = ProducerType::Single, class W = BlockingWaitStrategy,
          class P = YieldingProducerWait>
/// The Disruptor's preallocated ring of events and its sequencer: producers claim, fill and
/// publish slots; consumers read them through a SequenceBarrier.
class RingBuffer {
 public:
  /// The event type stored in each slot.
  using event_type = E;
  /// SingleProducerSequencer or MultiProducerSequencer, by PT.
  using sequencer_type =
      std::conditional_t<PT == ProducerType::Single, SingleProducerSequencer<W, P>, MultiProducerSequencer<W, P>>;
  /// The consumers' wait strategy.
  using wait_strategy_type = W;

  /// Default-constructed events.
  explicit RingBuffer(std::size_t size, W wait = W{}, P producer_wait = P{})
    requires std::default_initializable<E>
      : sequencer_(size, std::move(wait), std::move(producer_wait)), mask_(static_cast<std::int64_t>(size) - 1),
        events_(size) {}

  /// Events made by factory() (called `size` times, here, once).
  template <std::invocable F>
  RingBuffer(std::size_t size, F factory, W wait = W{}, P producer_wait = P{})
      : sequencer_(size, std::move(wait), std::move(producer_wait)), mask_(static_cast<std::int64_t>(size) - 1) {
    events_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) events_.push_back(factory());
  }

  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  /// The slot of sequence `seq` (seq modulo the size). Write only to a slot you claimed and
  /// have not published; read only what is published.
  [[nodiscard]] E& operator[](std::int64_t seq) noexcept { return events_[static_cast<std::size_t>(seq & mask_)]; }
  /// The slot of sequence `seq` (seq modulo the size), read-only.
  [[nodiscard]] const E& operator[](std::int64_t seq) const noexcept {
    return events_[static_cast<std::size_t>(seq & mask_)];
  }

  /// Producer: claims the next n slots (1 <= n <= size), waiting with P while the ring is full;
  /// returns the highest claimed sequence. Throws Halted if halted meanwhile.
  [[nodiscard]] std::int64_t next(std::int64_t n = 1) { return sequencer_.next(n); }
  /// Producer: claims n slots, or returns nullopt at once (nothing claimed) when they are not
  /// free.
  [[nodiscard]] std::optional<std::int64_t> try_next(std::int64_t n = 1) { return sequencer_.try_next(n); }
  /// Producer: makes the claimed slot `seq` visible to consumers (release; pairs with the
  /// barrier's acquire).
  void publish(std::int64_t seq) { sequencer_.publish(seq); }
  /// Producer: publishes the claimed slots lo..hi, as from one next(n).
  void publish(std::int64_t lo, std::int64_t hi) { sequencer_.publish(lo, hi); }

  /// Translator style: claims (waiting while full), calls fn(event, seq, args...), publishes.
  /// If fn throws, the slot is still published (a claimed slot must be, or consumers
  /// stall) and the exception propagates; write events so a half-filled one is harmless.
  template <class F, class... A>
  void publish_event(F&& fn, A&&... args) {
    const std::int64_t seq = next();
    PublishGuard g{*this, seq, seq};
    fn((*this)[seq], seq, std::forward<A>(args)...);
  }
  /// As publish_event, but returns false at once (nothing claimed) when the ring is full.
  template <class F, class... A>
  [[nodiscard]] bool try_publish_event(F&& fn, A&&... args) {
    const auto seq = try_next();
    if (!seq) return false;
    PublishGuard g{*this, *seq, *seq};
    fn((*this)[*seq], *seq, std::forward<A>(args)...);
    return true;
  }
  /// Claims n slots at once, calls fn(event, seq, i) for i in [0, n), publishes all.
  template <class F>
  void publish_events(std::int64_t n, F&& fn) {
    const std::int64_t hi = next(n);
    const std::int64_t lo = hi - n + 1;
    PublishGuard g{*this, lo, hi};
    for (std::int64_t s = lo; s <= hi; ++s) fn((*this)[s], s, s - lo);
  }
  /// As publish_events, but returns false at once (nothing claimed) when n slots are not free.
  template <class F>
  [[nodiscard]] bool try_publish_events(std::int64_t n, F&& fn) {
    const auto hi = try_next(n);
    if (!hi) return false;
    const std::int64_t lo = *hi - n + 1;
    PublishGuard g{*this, lo, *hi};
    for (std::int64_t s = lo; s <= *hi; ++s) fn((*this)[s], s, s - lo);
    return true;
  }

  /// The sequencer, to make barriers and add gating sequences.
  [[nodiscard]] sequencer_type& sequencer() noexcept { return sequencer_; }
  /// The sequencer, read-only.
  [[nodiscard]] const sequencer_type& sequencer() const noexcept { return sequencer_; }
  /// The number of slots (a power of two).
  [[nodiscard]] std::int64_t buffer_size() const noexcept { return sequencer_.buffer_size(); }
  /// The highest claimed sequence (single producer: published too); -1 before the first claim.
  [[nodiscard]] std::int64_t cursor() const noexcept { return sequencer_.cursor().get(); }
  /// Slots free for claiming right now (producer side; a snapshot for others).
  [[nodiscard]] std::int64_t remaining_capacity() const noexcept { return sequencer_.remaining_capacity(); }
  /// Adds consumers' sequences the producers must not lap. Configure before publishing starts.
  void add_gating_sequences(std::initializer_list<const Sequence*> s) { sequencer_.add_gating_sequences(s); }

 private:
  struct PublishGuard {
    RingBuffer& rb;
    std::int64_t lo, hi;
    ~PublishGuard() { rb.publish(lo, hi); }
  };

  sequencer_type sequencer_;
  std::int64_t mask_;
  std::vector<E> events_;
};

}  // namespace hft::disruptor
