// hft/disruptor/multi_producer_sequencer.hpp: MultiProducerSequencer, the claim/publish
// protocol of a ring buffer written by several threads.
//
// What: producers claim slots with a CAS on the shared cursor (so try_next can fail at
//   once without claiming), write their events, and publish each slot by storing its
//   lap number in a per-slot availability array. Consumers see the highest contiguous
//   published sequence (highest_published), so a slow producer holds back only the
//   slots after its own.
// When to use: several I/O threads feeding one ring (the mini-OMS partitions). When not:
//   one producer (SingleProducerSequencer avoids the CAS).
// Thread-safety: next/try_next/publish: any number of producer threads.
//   cursor(), is_available(), highest_published(), remaining_capacity(), halt(): any thread.
// Progress: try_next lock-free (the CAS fails only when another producer claimed);
//   next(n) waits while full (producer wait strategy P), throws Halted on halt();
//   publish wait-free.
// Memory ordering: the claim CAS is seq_cst. publish stores the slot's availability
//   flag with release (seq_cst under the blocking strategy); is_available's acquire load
//   pairs with it, so a consumer that sees the flag sees the event. Gating sequences are
//   read with acquire, pairing with the consumers' release stores.
// Compared with: LMAX 4: LMAX claims with getAndAdd and then waits (it cannot offer a
//   try_next that leaves nothing claimed on failure without its separate CAS path); we
//   use one CAS loop for both, and next() is interruptible by halt().
// Complexity: O(1) per claim (a CAS, retried only under contention) and per publish;
//   highest_published(lo, hi) scans the availability flags from lo, O(hi - lo).
// Lifecycle: neither copyable nor movable (barriers hold its address).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "hft/disruptor/sequencer_base.hpp"

namespace hft::disruptor {

/// The claim protocol for several producer threads: claims by CAS on the cursor, publication by
/// a per-slot flag, so consumers see only published slots.
template <class W = BlockingWaitStrategy, class P = YieldingProducerWait>
class MultiProducerSequencer : public detail::SequencerBase<W, P> {
  using Base = detail::SequencerBase<W, P>;

 public:
  /// A sequencer for a ring of `buffer_size` slots (a power of two in [1, 2^40]); throws
  /// std::invalid_argument otherwise.
  explicit MultiProducerSequencer(std::size_t buffer_size, W wait = W{}, P producer_wait = P{})
      : Base(buffer_size, std::move(wait), std::move(producer_wait)),
        mask_(static_cast<std::int64_t>(buffer_size) - 1),
        index_shift_(static_cast<int>(log2_floor(buffer_size))),
        available_(std::make_unique<std::atomic<std::int32_t>[]>(buffer_size)) {
    for (std::size_t i = 0; i < buffer_size; ++i) available_[i].store(-1, std::memory_order_relaxed);
  }

  /// Any producer. Claims n slots (returns the highest); waits while full.
  [[nodiscard]] std::int64_t next(std::int64_t n = 1) {
    this->check_claim(n);
    for (std::uint32_t attempt = 0;; ++attempt) {
      const std::int64_t current = this->cursor_.get();
      if (try_claim(current, n)) return current + n;
      if (has_room(current, n)) continue;  // lost a race with another producer: retry now
      if (this->halted()) throw Halted();
      this->producer_wait_.idle(attempt);
    }
  }

  /// Any producer. Claims n slots, or nullopt at once when the ring lacks room.
  [[nodiscard]] std::optional<std::int64_t> try_next(std::int64_t n = 1) {
    this->check_claim(n);
    for (;;) {
      const std::int64_t current = this->cursor_.get();
      if (!has_room(current, n)) return std::nullopt;
      if (this->cursor_.compare_and_set(current, current + n)) return current + n;
    }
  }

  /// Any producer. Publishes one slot it claimed.
  void publish(std::int64_t seq) {
    set_available(seq);
    this->wait_.signal_all_when_blocking();
  }
  /// Any producer. Publishes the slots [lo, hi] it claimed, with one wake-up.
  void publish(std::int64_t lo, std::int64_t hi) {
    for (std::int64_t s = lo; s <= hi; ++s) set_available(s);
    this->wait_.signal_all_when_blocking();
  }

  /// Slots free for claiming right now (a snapshot while producers run).
  [[nodiscard]] std::int64_t remaining_capacity() const noexcept {
    const std::int64_t produced = this->cursor_.get();
    return this->buffer_size_ - (produced - this->min_gating(produced));
  }

  /// Any thread. Acquire pairs with set_available()'s release.
  [[nodiscard]] bool is_available(std::int64_t seq) const noexcept {
    return available_[static_cast<std::size_t>(seq & mask_)].load(std::memory_order_acquire) == flag(seq);
  }
  /// Any thread. The highest s in [lo - 1, available] such that every slot in [lo, s]
  /// is published.
  [[nodiscard]] std::int64_t highest_published(std::int64_t lo, std::int64_t available) const noexcept {
    for (std::int64_t s = lo; s <= available; ++s) {
      if (!is_available(s)) return s - 1;
    }
    return available;
  }
  /// Any thread. The highest s >= lo - 1 such that every slot in [lo, s] is published
  /// (claims not yet published stop it). Acquire loads.
  [[nodiscard]] std::int64_t published(std::int64_t lo) const noexcept {
    return highest_published(lo, this->cursor_.get());
  }
  /// As published(), with seq_cst loads (the blocking wait strategy's handshake: pairs with
  /// set_available()'s seq_cst store).
  [[nodiscard]] std::int64_t published_seq_cst(std::int64_t lo) const noexcept {
    const std::int64_t claimed = this->cursor_.get_seq_cst();
    for (std::int64_t s = lo; s <= claimed; ++s) {
      if (available_[static_cast<std::size_t>(s & mask_)].load(std::memory_order_seq_cst) != flag(s)) return s - 1;
    }
    return claimed;
  }

 private:
  [[nodiscard]] bool has_room(std::int64_t current, std::int64_t n) {
    const std::int64_t wrap_point = current + n - this->buffer_size_;
    std::int64_t cached = gating_cache_.get();
    if (wrap_point > cached || cached > current) {
      cached = this->min_gating(current);
      gating_cache_.set(cached);  // shared hint only; any producer may refresh it
      if (wrap_point > cached) return false;
    }
    return true;
  }
  [[nodiscard]] bool try_claim(std::int64_t current, std::int64_t n) {
    return has_room(current, n) && this->cursor_.compare_and_set(current, current + n);
  }
  [[nodiscard]] std::int32_t flag(std::int64_t seq) const noexcept {
    return static_cast<std::int32_t>(seq >> index_shift_);
  }
  void set_available(std::int64_t seq) noexcept {
    auto& slot = available_[static_cast<std::size_t>(seq & mask_)];
    if constexpr (W::kNeedsSeqCstPublish) {
      slot.store(flag(seq), std::memory_order_seq_cst);  // Dekker pair with BlockingWaitStrategy's waiter count
    } else {
      slot.store(flag(seq), std::memory_order_release);  // pairs with is_available()'s acquire
    }
  }

  std::int64_t mask_;
  int index_shift_;
  std::unique_ptr<std::atomic<std::int32_t>[]> available_;
  Sequence gating_cache_{kInitialSequence};
};

}  // namespace hft::disruptor
