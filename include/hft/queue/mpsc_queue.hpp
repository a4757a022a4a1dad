// hft/queue/mpsc_queue.hpp: MpscQueue<T>, a bounded multi-producer single-consumer queue.
//
// What: a fixed ring of slots, each carrying a sequence number (Dmitry Vyukov's bounded
//   queue design), shared by any number of producer threads and read by one consumer.
//   Nothing is allocated after construction.
// When to use: many threads hand work to one (several I/O threads -> one dispatcher)
//   and a full queue must be answered at once (the mini-OMS replies REJ:BUSY).
// When not: one producer (SpscQueue is cheaper: no CAS); many consumers; when producers
//   should sleep while full (use a blocking queue).
//
// Thread-safety:
//   any number of threads at once: try_push, try_emplace, push, emplace
//   one consumer thread only:      front, pop, try_pop, consume
//   any thread:                    size, empty (snapshots), capacity
// Progress: producers are lock-free: a failed CAS means another producer claimed a slot,
//   so the system progressed; a full queue returns false at once without retrying.
//   The consumer is wait-free per call but not independent of producers: a producer
//   preempted between claiming a slot and publishing it holds back every item claimed
//   after it (FIFO is by claim order) until it resumes. push/emplace spin while full.
// Ordering: items of one producer are consumed in that producer's order; items of
//   different producers in the order their slots were claimed.
// Memory ordering: a producer publishes a slot by storing its sequence with release; the
//   consumer loads it with acquire, so the item and everything its producer wrote before
//   pushing is visible. The consumer frees a slot by storing its sequence with release
//   after destroying the item; a producer loads it with acquire before constructing in it.
// Complexity: O(1) per push and per pop; consume(fn, k) handles k items in one call.
// Capacity: any capacity >= 1, rounded up to a power of two >= 2; capacity() is the real
//   one (the family's rule: sequenced_ring.hpp). Slots are packed (item + 8-byte
//   sequence): with one consumer right behind the producers, MpmcQueue's line-per-slot
//   layout measured no better here and costs up to 8x the memory for small items.
// Exceptions and failed pushes: a push that finds the queue full returns false before it
//   touches its arguments (an rvalue argument is not moved from). A producer claims its
//   slot first and constructs T in place; if that constructor throws, the slot is marked
//   dead before the exception propagates, and the consumer skips it, so a throwing
//   constructor never wedges the queue. A dead slot occupies its place (and counts in
//   size()) until the consumer passes it, exactly as an item would.
// Limits: positions are 64-bit and never wrap in practice; the top bit marks a dead slot,
//   so the queue supports 2^63 pushes (about 290 years at one per nanosecond).
//
// Compared with:
//   - boost::lockfree::queue: an unbounded-by-design linked list of nodes from a
//     freelist, with a CAS on the tail and on the node for every push and a tagged-
//     pointer CAS for every pop; our consumer never executes an atomic RMW and a push is
//     one CAS on the tail plus a release store.
//   - moodycamel::ConcurrentQueue: per-producer sub-queues (explicit with tokens, or
//     implicit looked up through a thread-local hash) that grow by allocating blocks; it
//     gives no global FIFO across producers and allocates. Ours is bounded, never
//     allocates after construction, and keeps one global claim order.
// Built on: detail::VyukovRing (sequenced_ring.hpp), the producers' claim and publish
//   shared with MpmcQueue and WorkerPool; the consumer side is the single-consumer one
//   (no CAS: a plain store of head).
// Lifecycle: neither copyable nor movable (every thread holds its address).
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/queue/sequenced_ring.hpp"

namespace hft {

/// A bounded lock-free multi-producer single-consumer queue (Vyukov's per-slot sequence ring)
/// with the in-place front() and pop() of the single consumer.
template <class T, class Allocator = std::allocator<T>>
class MpscQueue : public detail::VyukovQueue<T, 1, Allocator>,
                  public detail::FrontPopForms<MpscQueue<T, Allocator>, T> {
  static_assert(std::is_nothrow_destructible_v<T>, "hft::MpscQueue<T> needs a nothrow destructor");
  using Base = detail::VyukovQueue<T, 1, Allocator>;

 public:
  using typename Base::allocator_type;
  using typename Base::size_type;
  using typename Base::value_type;

  /// A queue that holds capacity() >= `capacity` items (rounded up to a power of two).
  /// Throws std::invalid_argument for 0, std::length_error above max_capacity(), or
  /// what the allocator throws.
  explicit MpscQueue(size_type capacity, const allocator_type& alloc = allocator_type())
      : Base("hft::MpscQueue", capacity, alloc) {}

  // Producers (any thread) and observers: detail::VyukovQueue (try_emplace, try_push,
  // emplace, push, size, empty, capacity, get_allocator, max_capacity).

  // ---- consumer ------------------------------------------------------------------

  /// Consumer only. The oldest published item, or nullptr when none is ready. Passes
  /// (and frees) the dead slots of constructors that threw. Acquire, paired with the
  /// producer's release.
  [[nodiscard]] T* front() noexcept { return this->ring_.front(); }

  /// Consumer only. Destroys the oldest item. Precondition: front() is non-null.
  void pop() noexcept {
    HFT_ASSERT(this->ring_.head_ready(), "MpscQueue::pop with no ready item (call front() first)");
    this->ring_.pop();
  }

  // try_pop(T&) and std::optional<T> try_pop(): detail::FrontPopForms, over front() and
  // pop() above.

  /// Consumer only. Calls fn(T&) on up to max_items ready items, oldest first, destroying
  /// each after fn returns or throws (a throwing item counts as consumed; later items
  /// stay queued). Returns the count.
  template <class F>
  size_type consume(F&& fn, size_type max_items = std::numeric_limits<size_type>::max()) {
    size_type n = 0;
    while (n != max_items) {
      T* item = front();
      if (item == nullptr) break;
      struct PopGuard {
        MpscQueue& q;
        ~PopGuard() { q.pop(); }
      } guard{*this};
      ++n;
      fn(*item);
    }
    return n;
  }
};

}  // namespace hft
