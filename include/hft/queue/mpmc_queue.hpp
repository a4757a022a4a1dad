// hft/queue/mpmc_queue.hpp: MpmcQueue<T>, a bounded multi-producer multi-consumer queue.
//
// What: a fixed ring of slots, each carrying a sequence number (Dmitry Vyukov's bounded
//   MPMC design), shared by any number of producer and consumer threads. Nothing is
//   allocated after construction.
// When to use: a pool of threads taking work from a pool of threads, fail-fast when full
//   (WorkerPool's job ring is this ring). When not: one consumer (MpscQueue: the consumer
//   makes no RMW) or one producer and one consumer (SpscQueue: no RMW at all); threads
//   that should sleep while empty or full (BlockingQueue, or WorkerPool's waiting).
//
// Thread-safety:
//   any number of threads at once: try_push, try_emplace, push, emplace,
//                                  try_pop (both forms), consume
//   any thread:                    size, empty (snapshots), capacity
//   Construction and destruction need exclusive access.
// Progress: lock-free on both sides: a failed CAS means another thread claimed a
//   position. A full (try_push) or empty (try_pop) queue returns at once. A thread
//   preempted between claiming a position and publishing (or freeing) it holds back the
//   positions behind it until it resumes: FIFO is by claim order. push/emplace spin while
//   full.
// Ordering: items are consumed in the order their positions were claimed, so each
//   producer's items come out in its order; with several consumers, "consumed" means
//   claimed: two consumers may finish their items in either order.
// Memory ordering: a producer publishes its slot with a release store of the slot's
//   sequence, and the consumer that claims the position loads it with acquire: the item
//   and everything its producer wrote before pushing are visible to that consumer. The
//   consumer frees the slot with a release store after destroying the item; the producer
//   of the next lap loads it with acquire before constructing there.
// Complexity: O(1) per push and per pop (one CAS each, retried only under contention);
//   consume(fn, k) with a noexcept fn claims each run of ready items with one CAS.
// consume's count: dead slots (below) are passed and not counted, and consume returns
//   fewer than k only if at some instant during the call no item was ready (as when
//   try_pop returns false), so `while (q.consume(fn, 1) != 0)` drains the queue.
// Capacity: any capacity >= 1, rounded up to a power of two >= 2; capacity() is the real
//   one (the family's rule: sequenced_ring.hpp). Each slot fills a 64-byte line (item +
//   8-byte sequence, rounded up), so a producer filling one slot and a consumer freeing
//   the one before it never write the same line; memory is capacity() * that size.
// Exceptions and failed pushes: a push that finds the queue full returns false before it
//   touches its arguments. If T's constructor throws, the claimed slot is marked dead and
//   skipped by consumers (it never wedges the queue) and the exception propagates. If
//   moving an item out in try_pop throws, that item is destroyed (its position is claimed
//   and cannot be handed back) and the exception propagates; consume with a throwing fn
//   claims one item at a time, so the items after the throwing one stay queued.
//
// Compared with:
//   - rigtorp::MPMCQueue (the design reference): the same per-slot turn/sequence scheme
//     with cache-line slots; rigtorp's try_push/try_pop retry by re-reading the counter,
//     ours too, and we add a batch consume (one CAS per run), a dead mark for throwing
//     constructors (rigtorp requires nothrow construction), and allocator support.
//   - boost::lockfree::queue: a linked list of freelist nodes with a tagged-pointer CAS
//     per operation and T restricted to trivially copyable types; ours is an array, takes
//     any nothrow-destructible T and never allocates after construction.
//   - moodycamel::ConcurrentQueue: per-producer sub-queues that grow by allocating and no
//     global FIFO; ours is bounded with one claim order.
//   - tbb::concurrent_bounded_queue: blocks (sleeps) when full or empty; ours never sleeps.
// Lifecycle: neither copyable nor movable (every thread holds its address).
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "hft/queue/sequenced_ring.hpp"

namespace hft {

/// A bounded lock-free multi-producer multi-consumer queue (Vyukov's per-slot sequence ring),
/// with cache-line-spread slots.
template <class T, class Allocator = std::allocator<T>>
class MpmcQueue : public detail::VyukovQueue<T, 64, Allocator> {
  static_assert(std::is_nothrow_destructible_v<T>, "hft::MpmcQueue<T> needs a nothrow destructor");
  using Base = detail::VyukovQueue<T, 64, Allocator>;

 public:
  using typename Base::allocator_type;
  using typename Base::size_type;
  using typename Base::value_type;

  /// A queue that holds capacity() >= `capacity` items (rounded up to a power of two).
  /// Throws std::invalid_argument for 0, std::length_error above max_capacity(), or
  /// what the allocator throws.
  explicit MpmcQueue(size_type capacity, const allocator_type& alloc = allocator_type())
      : Base("hft::MpmcQueue", capacity, alloc) {}

  // Producers and observers: detail::VyukovQueue (try_emplace, try_push, emplace, push,
  // size, empty, capacity, get_allocator, max_capacity).

  // ---- consumers (any thread) ------------------------------------------------------

  /// Moves the oldest item into `out`; false at once when none is ready. Acquire,
  /// paired with the producer's release. If the move throws, the item is destroyed (its
  /// position is claimed) and the exception propagates.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    return this->ring_.try_take([&](T& v) { out = std::move(v); });
  }
  /// The oldest item, or nullopt when none is ready.
  [[nodiscard]] std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>) {
    std::optional<T> out;
    (void)this->ring_.try_take([&](T& v) { out.emplace(std::move(v)); });
    return out;
  }
  /// Calls fn(T&) on up to max_items ready items, oldest first; returns how many. Dead
  /// slots are passed and do not count. A return below max_items (0 included) means that
  /// at some instant during the call no item was ready: the queue was empty or its oldest
  /// claimed position was still being constructed, exactly when try_pop returns false; so
  /// `while (q.consume(fn, k) != 0)` drains the queue. Acquire, as try_pop. See the header
  /// for batching (noexcept fn) and for a fn that throws.
  template <class F>
  size_type consume(F&& fn, size_type max_items = std::numeric_limits<size_type>::max()) {
    size_type done = this->ring_.take_many(fn, max_items);
    // take_many stops after a claimed run that held only dead slots just as it stops at an
    // empty ring; try_take passes dead slots, so only its false means nothing was ready.
    // Checked only when short of max_items: a full batch pays nothing.
    while (done < max_items && this->ring_.try_take([&](T& v) { fn(v); })) {
      ++done;
      done += this->ring_.take_many(fn, max_items - done);
    }
    return done;
  }
};

}  // namespace hft
