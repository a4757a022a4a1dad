// hft/queue/spsc_queue.hpp: SpscQueue<T>, a bounded single-producer single-consumer queue.
//
// What: a fixed-capacity ring of T between exactly one producer thread and exactly one
//   consumer thread. Items are constructed in place in the ring and destroyed when
//   popped; nothing is allocated after construction.
// When to use: a hand-off between two fixed threads (I/O thread -> worker, market-data
//   decoder -> strategy). When not: more than one producer (use MpscQueue) or consumer;
//   an unbounded hand-off; a consumer that must sleep instead of poll (wrap it with a
//   wait strategy or use a blocking queue).
//
// Thread-safety:
//   producer thread only: try_push, try_emplace, push, emplace, try_push_n
//   consumer thread only: front, pop, try_pop (both forms), consume
//   any thread:           size, empty (a snapshot in [0, capacity], exact when both sides
//                         are idle), capacity
//   The producer and the consumer may be different threads over the queue's life as
//   long as the hand-over between two threads playing one role is synchronised by the
//   caller (join, mutex, ...). Construction and destruction need exclusive access.
// Progress: every try_* and the consumer operations are wait-free (a bounded number of
//   steps, no loops on the other side's progress); push/emplace spin (cpu_relax) while
//   the queue is full.
// Complexity: O(1) per item; try_push_n and consume move k items with one index update
//   and at most one read of the other side's index.
// Memory ordering: a push constructs the item and then stores the slot's sequence number
//   with release; the consumer loads it with acquire, so everything the producer wrote
//   before pushing (the item and whatever it points to) is visible to the consumer that
//   sees the item. pop/try_pop/consume store the head index with release after destroying
//   the item(s); the producer loads it with acquire before reusing a slot, so the
//   consumer's reads of the item and its destruction happen-before the slot is reused.
//
// Design: the producer keeps a private copy of the consumer's head and reads the real
//   one only when its copy says the queue is full. The consumer never reads the
//   producer's index at all: every slot carries its own sequence number, stored in the
//   same cache line as the item, so a pop touches one line (the slot's) instead of two
//   (tail index + slot). That is what brings a cross-core round trip close to the
//   one-line-per-direction floor of a raw atomic ping-pong (docs/queues.md has numbers:
//   with a cached tail index instead, p50 was 1.75x the floor here).
//
// Compared with:
//   - rigtorp::SPSCQueue: rigtorp caches the other side's index on both sides and
//     allocates capacity+1 slots, wrapping indices by compare. We cache only on the
//     producer side and signal readiness per slot (one line per message, see above),
//     keep free-running 64-bit indices over a power-of-two slot array (index & mask, no
//     wrap branch, size() is tail - head) while honouring the exact capacity asked for,
//     and add batch operations (try_push_n, consume) with one head update per batch.
//   - boost::lockfree::spsc_queue: Boost pads its two indices 64 bytes apart (the x86
//     adjacent-line prefetcher still couples them) and reads the other side's index with
//     acquire on every operation, so every push and pop touches the contended index line
//     as well as the slot. We pad 128 bytes and touch the other side's index only when
//     the producer's cached copy says full.
//   - moodycamel::ReaderWriterQueue: a linked list of blocks that can grow (allocating);
//     we never allocate after construction and never grow.
// Memory: bit_ceil(capacity) slots of (item + 8-byte sequence, aligned to the item), plus
//   one cache line of padding slots on each side (so neighbouring heap objects never share
//   a line with the first or last slot), allocated once through the allocator.
// Lifecycle: neither copyable nor movable (both threads hold its address).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"
#include "hft/queue/sequenced_ring.hpp"

namespace hft {

/// A bounded wait-free single-producer single-consumer queue: per-slot sequence numbers, cached
/// indices, any capacity.
template <class T, class Allocator = std::allocator<T>>
class SpscQueue : public detail::FrontPopForms<SpscQueue<T, Allocator>, T> {
  static_assert(std::is_nothrow_destructible_v<T>, "hft::SpscQueue<T> needs a nothrow destructor");
  // seq: position + 1 of the item the slot holds once published; stale values never match.
  using Slot = detail::RingSlot<T>;
  static constexpr std::size_t kPadSlots = (cache_line_size + sizeof(Slot) - 1) / sizeof(Slot);

 public:
  /// The element type.
  using value_type = T;
  /// The type of sizes and capacities.
  using size_type = std::size_t;
  /// The allocator of the slot array (Allocator rebound to the slot type).
  using allocator_type = typename detail::SlotArray<Slot, Allocator>::allocator_type;

  /// Creates a queue that holds exactly `capacity` items (the family's rule:
  /// sequenced_ring.hpp). Throws std::invalid_argument for 0, std::length_error above
  /// max_capacity(), or what the allocator throws.
  explicit SpscQueue(size_type capacity, const allocator_type& alloc = allocator_type())
      : capacity_(detail::check_capacity("hft::SpscQueue", capacity, max_capacity())),
        mask_(round_up_pow2(capacity) - 1),
        slots_(mask_ + 1, kPadSlots, alloc, [](size_type) { return size_type{0}; }) {}

  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  /// Destroys the items still queued, then frees the slots. Needs exclusive access.
  ~SpscQueue() {
    static_assert(alignof(SpscQueue) == cache_line_size);
    const size_type tail = producer_.tail.load(std::memory_order_relaxed);
    for (size_type i = consumer_.head.load(std::memory_order_relaxed); i != tail; ++i) {
      std::destroy_at(slots_[i & mask_].ptr());
    }
  }

  // ---- producer ------------------------------------------------------------------

  /// Producer only. Constructs an item from args at the back; false (args untouched)
  /// when full. Release on success (see the header). If T's constructor throws, nothing
  /// is published and the exception propagates.
  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    const size_type tail = producer_.tail.load(std::memory_order_relaxed);
    if (free_slots(tail, 1) == 0) return false;
    publish(tail, std::forward<Args>(args)...);
    return true;
  }

  /// Producer only. Copies `v` in; false when full.
  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  /// Producer only. Moves `v` in; false (and `v` untouched) when full.
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  /// Producer only. Spins with cpu_relax() until there is room, then constructs. Blocks
  /// forever if nobody consumes: use try_emplace where that can happen.
  template <class... Args>
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    const size_type tail = producer_.tail.load(std::memory_order_relaxed);
    while (free_slots(tail, 1) == 0) cpu_relax();
    publish(tail, std::forward<Args>(args)...);
  }
  /// Producer only. Copies `v` in, spinning while the queue is full.
  void push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) { emplace(v); }
  /// Producer only. Moves `v` in, spinning while the queue is full.
  void push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) { emplace(std::move(v)); }

  /// Producer only. Constructs as many items of [first, last) as fit (from *it: pass
  /// move iterators to move), checking for room once for the whole batch. Returns how
  /// many were pushed (0 when full); the caller retries with the rest. If a constructor
  /// throws, the items constructed before it are published and the exception propagates.
  /// The range must know its size up front (sized sentinel: pointers, vector and move
  /// iterators) because the free space is checked once for the whole batch.
  template <std::input_iterator It, std::sized_sentinel_for<It> S>
  [[nodiscard]] size_type try_push_n(It first, S last) {
    const size_type tail = producer_.tail.load(std::memory_order_relaxed);
    const auto wanted = static_cast<size_type>(last - first);
    const size_type room = free_slots(tail, wanted);
    const size_type n = wanted < room ? wanted : room;
    for (size_type i = 0; i != n; ++i, ++first) publish(tail + i, *first);
    return n;
  }

  // ---- consumer ------------------------------------------------------------------

  /// Consumer only. The oldest item, or nullptr when empty. The pointer stays valid
  /// until pop(). Acquire pairs with the producer's release store of the slot sequence.
  [[nodiscard]] T* front() noexcept {
    const size_type head = consumer_.head.load(std::memory_order_relaxed);
    Slot& slot = slots_[head & mask_];
    // Acquire pairs with the release store in publish(): the item is complete.
    if (slot.seq.load(std::memory_order_acquire) != head + 1) return nullptr;
    return slot.ptr();
  }

  /// Consumer only. Destroys the oldest item. Precondition: front() returned non-null
  /// since the last pop (checked by HFT_ASSERT). Release pairs with the producer's
  /// acquire load of head.
  void pop() noexcept {
    const size_type head = consumer_.head.load(std::memory_order_relaxed);
    Slot& slot = slots_[head & mask_];
    HFT_ASSERT(slot.seq.load(std::memory_order_relaxed) == head + 1,
               "SpscQueue::pop on an empty queue (call front() first)");
    std::destroy_at(slot.ptr());
    // Release pairs with the producer's acquire load of head: the slot is free.
    consumer_.head.store(head + 1, std::memory_order_release);
  }

  // try_pop(T&) and std::optional<T> try_pop(): detail::FrontPopForms, over front() and
  // pop() above.

  /// Consumer only. Calls fn(T&) on up to max_items queued items, oldest first, destroys
  /// each after fn returns, and frees all their slots with one release store. Returns
  /// how many were consumed. If fn throws, the item it was given counts as consumed (it
  /// is destroyed and its slot freed) and the exception propagates; later items stay.
  template <class F>
  size_type consume(F&& fn, size_type max_items = std::numeric_limits<size_type>::max()) {
    const size_type head = consumer_.head.load(std::memory_order_relaxed);
    size_type done = 0;
    struct Release {
      SpscQueue& q;
      size_type head;
      size_type& done;
      // Release pairs with the producer's acquire load of head: one store frees the batch.
      ~Release() { if (done != 0) q.consumer_.head.store(head + done, std::memory_order_release); }
    } release{*this, head, done};
    while (done != max_items) {
      Slot& slot = slots_[(head + done) & mask_];
      // Acquire pairs with the release store in publish().
      if (slot.seq.load(std::memory_order_acquire) != head + done + 1) break;
      struct Destroy {
        T* p;
        size_type& done;
        ~Destroy() { std::destroy_at(p); ++done; }
      } destroy{slot.ptr(), done};
      fn(*destroy.p);
    }
    return done;
  }

  // ---- any thread ----------------------------------------------------------------

  /// Any thread. A count in [0, capacity()] that was true at some instant during the call
  /// when only one side was moving, and exact when both sides are idle. Acquire loads:
  /// a thread that sees tail t also sees the construction of the items before t.
  [[nodiscard]] size_type size() const noexcept {
    const size_type head = consumer_.head.load(std::memory_order_acquire);  // pairs with pop's release
    const size_type tail = producer_.tail.load(std::memory_order_acquire);  // pairs with publish's release
    // tail may trail head by one: publish() stores the slot's seq (which is what lets the
    // consumer pop the item) before it stores tail, so a consumer can advance head past a
    // tail not stored yet. A difference that is not positive therefore means empty. It may
    // also exceed the capacity when both sides moved between the two loads: clamp.
    const auto n = static_cast<std::ptrdiff_t>(tail - head);
    if (n <= 0) return 0;
    return static_cast<size_type>(n) < capacity_ ? static_cast<size_type>(n) : capacity_;
  }
  /// Any thread. True when size() is 0 (a snapshot).
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// The number of items the queue holds when full.
  [[nodiscard]] size_type capacity() const noexcept { return capacity_; }
  /// A copy of the slot array's allocator.
  [[nodiscard]] allocator_type get_allocator() const noexcept { return slots_.get_allocator(); }

  /// The largest capacity a constructor accepts.
  [[nodiscard]] static constexpr size_type max_capacity() noexcept {
    return detail::max_ring_capacity<Slot>(2 * kPadSlots);
  }

 private:
  // Producer only. Free slots at `tail`; reads the consumer's head (a cross-core line)
  // only when the cached copy shows fewer than `wanted`.
  size_type free_slots(size_type tail, size_type wanted) noexcept {
    if (capacity_ - (tail - producer_.head_cache) >= wanted) return capacity_ - (tail - producer_.head_cache);
    // Acquire pairs with the consumer's release store of head: the slots' old items have
    // been read and destroyed before we construct over them.
    producer_.head_cache = consumer_.head.load(std::memory_order_acquire);
    return capacity_ - (tail - producer_.head_cache);
  }

  template <class... Args>
  void publish(size_type pos, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    Slot& slot = slots_[pos & mask_];
    ::new (static_cast<void*>(slot.storage)) T(std::forward<Args>(args)...);
    // Release pairs with the consumer's acquire load of seq in front()/consume().
    slot.seq.store(pos + 1, std::memory_order_release);
    // Only size() reads tail; release pairs with its acquire load.
    producer_.tail.store(pos + 1, std::memory_order_release);
  }

  // Written only by the producer; the consumer never reads it on its fast path.
  struct alignas(cache_line_size) ProducerSide {
    std::atomic<size_type> tail{0};
    size_type head_cache{0};  // producer-private copy of consumer_.head
  };
  // Written only by the consumer; read by the producer when its cached copy says full.
  struct alignas(cache_line_size) ConsumerSide {
    std::atomic<size_type> head{0};
  };
  static_assert(sizeof(ProducerSide) == cache_line_size && sizeof(ConsumerSide) == cache_line_size,
                "each side's hot fields must fill exactly one padded block");

  // Read-only after construction, shared by both sides: its own block so that no
  // index store invalidates it.
  alignas(cache_line_size) const size_type capacity_;
  const size_type mask_;
  detail::SlotArray<Slot, Allocator> slots_;

  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace hft
