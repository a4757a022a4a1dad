// hft/disruptor/sequencer_base.hpp: what both sequencers share.
// What: internal: buffer size checks, gating sequences, the wait strategies, halting. Use
//   SingleProducerSequencer or MultiProducerSequencer, whose headers give the contracts.
// Thread-safety: as the derived sequencer documents; halt() here is any-thread and
//   wait-free.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "hft/core/bits.hpp"
#include "hft/disruptor/sequence.hpp"
#include "hft/disruptor/wait_strategy.hpp"

namespace hft::disruptor {

/// Thrown by a blocking claim (next) when the sequencer is halted while it waits.
struct Halted : std::runtime_error {
  Halted() : std::runtime_error("hft::disruptor: sequencer halted while waiting for capacity") {}
};

namespace detail {

template <class W, class P>
class SequencerBase {
 public:
  using wait_strategy_type = W;

  SequencerBase(std::size_t buffer_size, W wait, P producer_wait)
      : buffer_size_(static_cast<std::int64_t>(buffer_size)),
        wait_(std::move(wait)),
        producer_wait_(std::move(producer_wait)) {
    if (buffer_size == 0 || !is_power_of_two(buffer_size) ||
        buffer_size > (std::size_t{1} << 40)) {
      throw std::invalid_argument("hft::disruptor: buffer size must be a power of two in [1, 2^40], got " +
                                  std::to_string(buffer_size));
    }
  }

  [[nodiscard]] std::int64_t buffer_size() const noexcept { return buffer_size_; }
  [[nodiscard]] const Sequence& cursor() const noexcept { return cursor_; }
  [[nodiscard]] W& wait_strategy() noexcept { return wait_; }

  /// Adds consumers the producer must not lap. Configure before publishing starts: not
  /// safe concurrently with claims.
  void add_gating_sequences(std::initializer_list<const Sequence*> seqs) {
    for (const Sequence* s : seqs) gating_.push_back(s);
  }
  void add_gating_sequences(const std::vector<const Sequence*>& seqs) {
    gating_.insert(gating_.end(), seqs.begin(), seqs.end());
  }
  /// Removes a gating sequence (a consumer that now has a downstream consumer gating in
  /// its place). Same contract as add_gating_sequences.
  void remove_gating_sequence(const Sequence* seq) {
    std::erase(gating_, seq);
  }
  [[nodiscard]] const std::vector<const Sequence*>& gating_sequences() const noexcept { return gating_; }

  /// Any thread. Makes producers blocked in next() throw Halted; later next() calls throw
  /// at once when the ring is full. Release pairs with the acquire in the claim loops.
  void halt() noexcept {
    halted_.store(true, std::memory_order_seq_cst);
    wait_.signal_all_when_blocking();
  }
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_acquire); }  // pairs with halt()
  /// Clears halt() so the sequencer can be used again (e.g. a restarted Disruptor).
  void clear_halt() noexcept { halted_.store(false, std::memory_order_release); }  // pairs with halted()

 protected:
  void check_claim(std::int64_t n) const {
    if (n < 1 || n > buffer_size_) {
      throw std::invalid_argument("hft::disruptor: cannot claim " + std::to_string(n) +
                                  " slots of a ring of " + std::to_string(buffer_size_) +
                                  " (need 1 <= n <= buffer size)");
    }
  }
  [[nodiscard]] std::int64_t min_gating(std::int64_t fallback) const noexcept {
    return min_sequence(gating_, fallback);
  }
  void publish_cursor(std::int64_t seq) noexcept {
    if constexpr (W::kNeedsSeqCstPublish) {
      cursor_.set_seq_cst(seq);
    } else {
      cursor_.set(seq);  // release: pairs with consumers' acquire get()
    }
  }

  std::int64_t buffer_size_;
  Sequence cursor_{kInitialSequence};
  std::vector<const Sequence*> gating_;
  W wait_;
  P producer_wait_;
  std::atomic<bool> halted_{false};
};

}  // namespace detail
}  // namespace hft::disruptor
