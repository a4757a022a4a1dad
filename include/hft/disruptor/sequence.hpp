// hft/disruptor/sequence.hpp: Sequence, the padded 64-bit counter the Disruptor is built on.
//
// What: a monotonically increasing position in a ring buffer (starts at -1: "nothing
//   yet"), alone in its own 128-byte block so that the producer's cursor and each
//   consumer's progress never share a cache line.
// When to use: building a sequencer, barrier or consumer of your own. When not: a
//   plain counter (hft::Counter).
// Thread-safety: one writer at a time per Sequence (a producer's cursor, a
//   consumer's progress); any number of readers. add_and_get/compare_and_set may be used
//   by several writers (the multi-producer claim counter).
// Memory ordering: set() is a release store and get() an acquire load: whatever a
//   thread wrote before set(s) (the event at s) is visible to a thread that get()s >= s.
//   set_seq_cst() exists for the blocking wait strategy's Dekker handshake.
// Progress: wait-free (compare_and_set: lock-free). Complexity: O(1).
// Compared with: LMAX's Sequence (a padded AtomicLong whose set() is a lazySet, our
//   release store): the same; padded to 128 bytes against adjacent-line prefetch.
// Lifecycle: neither copyable nor movable (barriers and sequencers hold its address).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <span>

#include "hft/core/cache.hpp"

namespace hft::disruptor {

/// The value of a Sequence before anything was claimed or processed.
inline constexpr std::int64_t kInitialSequence = -1;

/// A padded atomic 64-bit sequence number: a cursor, or how far a consumer has processed.
class alignas(cache_line_size) Sequence {
 public:
  /// A sequence starting at `initial`.
  explicit Sequence(std::int64_t initial = kInitialSequence) noexcept : value_(initial) {}
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  /// Acquire: pairs with set()/set_seq_cst()/RMWs by the writer.
  [[nodiscard]] std::int64_t get() const noexcept { return value_.load(std::memory_order_acquire); }
  /// Sequentially consistent read: the other half of set_seq_cst()'s handshake.
  [[nodiscard]] std::int64_t get_seq_cst() const noexcept { return value_.load(std::memory_order_seq_cst); }
  /// Relaxed read, for the writer's own value.
  [[nodiscard]] std::int64_t get_relaxed() const noexcept { return value_.load(std::memory_order_relaxed); }
  /// Release: pairs with get() in readers.
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_release); }
  /// Sequentially consistent store: orders this store before a later seq_cst load of
  /// another variable (the blocking wait strategy's "is anybody waiting?" check).
  void set_seq_cst(std::int64_t v) noexcept { value_.store(v, std::memory_order_seq_cst); }
  /// Seq_cst CAS (the multi-producer claim); pairs with get() and other RMWs.
  [[nodiscard]] bool compare_and_set(std::int64_t expected, std::int64_t desired) noexcept {
    return value_.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
  }
  /// Adds n (seq_cst RMW) and returns the new value.
  std::int64_t add_and_get(std::int64_t n) noexcept { return value_.fetch_add(n, std::memory_order_seq_cst) + n; }

 private:
  std::atomic<std::int64_t> value_;  // alignas(cache_line_size) rounds sizeof up: no neighbour shares the block
};
static_assert(sizeof(Sequence) == cache_line_size && alignof(Sequence) == cache_line_size);

/// The minimum of the sequences (acquire loads), or `fallback` when there are none.
[[nodiscard]] inline std::int64_t min_sequence(
    std::span<const Sequence* const> seqs, std::int64_t fallback = std::numeric_limits<std::int64_t>::max()) noexcept {
  std::int64_t m = fallback;
  for (const Sequence* s : seqs) {
    const std::int64_t v = s->get();
    m = v < m ? v : m;
  }
  return m;
}

}  // namespace hft::disruptor
