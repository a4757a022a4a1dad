// hft/queue/mpsc_queue.hpp: MpscQueue<T>, a bounded multi-producer single-consumer queue.
//
// What: a fixed ring of slots, each carrying a sequence number (Dmitry Vyukov's bounded
//   queue design), shared by any number of producer threads and read by one consumer.
//   Nothing is allocated after construction.
// When to use: many threads hand work to one (several I/O threads -> one dispatcher)
//   and a full queue must be answered at once (the mini-OMS replies REJ:BUSY). When
//   not: one producer (SpscQueue is cheaper: no CAS); many consumers; when producers
//   should sleep while full (use a blocking queue).
//
// Thread-safety contract:
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
// Exceptions and failed pushes: a push that finds the queue full returns false before it
//   touches its arguments (an rvalue argument is not moved from). A producer claims its
//   slot first and constructs T in place; if that constructor throws, the slot is marked
//   dead before the exception propagates, and the consumer skips it, so a throwing
//   constructor never wedges the queue. A dead slot occupies its place (and counts in
//   size()) until the consumer passes it, exactly as an item would.
// Limits: positions are 64-bit and never wrap in practice; the top bit marks a dead slot,
//   so the queue supports 2^63 pushes (about 290 years at one per nanosecond).
//
// How it differs from the anchors:
//   - boost::lockfree::queue: an unbounded-by-design linked list of nodes from a
//     freelist, with a CAS on the tail and on the node for every push and a tagged-
//     pointer CAS for every pop; our consumer never executes an atomic RMW and a push is
//     one CAS on the tail plus a release store.
//   - moodycamel::ConcurrentQueue: per-producer sub-queues (explicit with tokens, or
//     implicit looked up through a thread-local hash) that grow by allocating blocks; it
//     gives no global FIFO across producers and allocates. Ours is bounded, never
//     allocates after construction, and keeps one global claim order.
// Lifecycle: neither copyable nor movable (every thread holds its address).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

namespace hft {

namespace detail {
template <class T>
struct MpscSlot {
  std::atomic<std::size_t> seq;
  alignas(T) unsigned char storage[sizeof(T)];
  T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
};
}  // namespace detail

template <class T, class Allocator = std::allocator<T>>
class MpscQueue {
  static_assert(std::is_nothrow_destructible_v<T>, "hft::MpscQueue<T> needs a nothrow destructor");

  using Slot = detail::MpscSlot<T>;
  using slot_traits = typename std::allocator_traits<Allocator>::template rebind_traits<Slot>;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using allocator_type = typename slot_traits::allocator_type;

  /// Creates a queue of `capacity` slots. Throws std::invalid_argument unless capacity is
  /// a power of two >= 2 (slot sequence numbers need both: with one slot a producer
  /// could not tell a full slot from a free one), or what the allocator throws.
  explicit MpscQueue(size_type capacity, const allocator_type& alloc = allocator_type())
      : alloc_(alloc) {
    if (capacity < 2 || !is_power_of_two(capacity)) {
      throw std::invalid_argument("hft::MpscQueue: capacity must be a power of two >= 2");
    }
    if (capacity > std::numeric_limits<size_type>::max() / 4 / sizeof(Slot)) {
      throw std::length_error("hft::MpscQueue: capacity too large");
    }
    capacity_ = capacity;
    mask_ = capacity - 1;
    storage_ = slot_traits::allocate(alloc_, capacity);
    slots_ = std::to_address(storage_);
    for (size_type i = 0; i < capacity; ++i) {
      // Slot i is free for the producer that claims position i.
      ::new (static_cast<void*>(&slots_[i].seq)) std::atomic<size_type>(i);
    }
  }

  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  /// Destroys the items still queued. Needs exclusive access (no producer mid-push).
  ~MpscQueue() {
    static_assert(alignof(MpscQueue) == cache_line_size);
    for (;;) {
      T* item = front();
      if (item == nullptr) break;
      pop();
    }
    for (size_type i = 0; i < capacity_; ++i) slots_[i].seq.~atomic();
    slot_traits::deallocate(alloc_, storage_, capacity_);
  }

  // ---- producers -----------------------------------------------------------------

  /// Any thread. Constructs an item from args at the back; false at once when full
  /// (args untouched). Release on success (see the header). If T's constructor throws,
  /// its slot is skipped by the consumer and the exception propagates.
  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    Slot* slot = claim();
    if (slot == nullptr) return false;
    publish(slot, std::forward<Args>(args)...);
    return true;
  }
  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  /// Any thread. Spins with cpu_relax() while full. Blocks forever if nobody consumes.
  template <class... Args>
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    Slot* slot;
    while ((slot = claim()) == nullptr) cpu_relax();
    publish(slot, std::forward<Args>(args)...);
  }
  void push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) { emplace(v); }
  void push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) { emplace(std::move(v)); }

  // ---- consumer ------------------------------------------------------------------

  /// Consumer only. The oldest published item, or nullptr when none is ready. Passes
  /// (and frees) the dead slots of constructors that threw.
  [[nodiscard]] T* front() noexcept {
    for (;;) {
      const size_type head = head_.load(std::memory_order_relaxed);
      Slot& slot = slots_[head & mask_];
      // Acquire pairs with the producer's release store in publish(): the item (or the
      // dead mark) is complete.
      const size_type seq = slot.seq.load(std::memory_order_acquire);
      if (seq == head + 1) [[likely]] return slot.ptr();
      if (seq != ((head + 1) | kDead)) return nullptr;
      // Release pairs with the acquire load in claim(), as in pop().
      slot.seq.store(head + capacity_, std::memory_order_release);
      head_.store(head + 1, std::memory_order_relaxed);
    }
  }

  /// Consumer only. Destroys the oldest item. Precondition: front() is non-null.
  void pop() noexcept {
    const size_type head = head_.load(std::memory_order_relaxed);
    Slot& slot = slots_[head & mask_];
    HFT_ASSERT(slot.seq.load(std::memory_order_relaxed) == head + 1,
               "MpscQueue::pop with no ready item (call front() first)");
    std::destroy_at(slot.ptr());
    // Release pairs with the acquire load in claim(): the destruction happens-before the
    // next producer constructs in this slot, one lap later.
    slot.seq.store(head + capacity_, std::memory_order_release);
    head_.store(head + 1, std::memory_order_relaxed);
  }

  /// Consumer only. Moves the oldest item into `out`; false when none is ready.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* item = front();
    if (item == nullptr) return false;
    out = std::move(*item);
    pop();
    return true;
  }

  /// Consumer only. Calls fn(T&) on up to max_items ready items, oldest first, destroying
  /// each after fn returns or throws (a throwing item counts as consumed). Returns the count.
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

  // ---- any thread ----------------------------------------------------------------

  /// Any thread. Claimed-but-unconsumed slots at some instant (includes items still
  /// being constructed and dead slots not yet passed); exact when everyone is idle.
  [[nodiscard]] size_type size() const noexcept {
    const size_type head = head_.load(std::memory_order_relaxed);
    const size_type tail = tail_.load(std::memory_order_relaxed);
    const size_type n = tail - head;
    return static_cast<std::ptrdiff_t>(n) < 0 ? 0 : (n < capacity_ ? n : capacity_);
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] size_type capacity() const noexcept { return capacity_; }

 private:
  // Claims the slot for the next position, or returns nullptr when the queue is full.
  Slot* claim() noexcept {
    size_type pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      // Acquire pairs with the consumer's release store in pop(): the previous item in
      // this slot is destroyed.
      const size_type seq = slot.seq.load(std::memory_order_acquire);
      // Without the dead bit: a dead slot from one lap ago must read as full, like a live one.
      const auto diff = static_cast<std::ptrdiff_t>((seq & ~kDead) - pos);
      if (diff == 0) {
        // Relaxed: ownership of the slot is carried by its seq, not by tail_; the CAS
        // only decides which producer gets position `pos`.
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
          return &slot;
        }
      } else if (diff < 0) {
        return nullptr;  // the slot still holds the item (or dead mark) from one lap ago: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // another producer took pos
      }
    }
  }

  // Constructs the item in a claimed slot and publishes it.
  template <class... Args>
  void publish(Slot* slot, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    const size_type pos = slot->seq.load(std::memory_order_relaxed);
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      ::new (static_cast<void*>(slot->storage)) T(std::forward<Args>(args)...);
    } else {
      try {
        ::new (static_cast<void*>(slot->storage)) T(std::forward<Args>(args)...);
      } catch (...) {
        // The position is ours and cannot be handed back: mark it dead so the consumer
        // skips it instead of waiting for it forever. Release pairs with front()'s acquire.
        slot->seq.store((pos + 1) | kDead, std::memory_order_release);
        throw;
      }
    }
    // Release pairs with the consumer's acquire load in front().
    slot->seq.store(pos + 1, std::memory_order_release);
  }

  // A published slot whose constructor threw: seq == (pos + 1) | kDead. claim() masks the
  // bit off, so a producer one lap later sees it as full until the consumer frees it.
  static constexpr size_type kDead = size_type{1} << (std::numeric_limits<size_type>::digits - 1);

  // Read-only after construction.
  alignas(cache_line_size) Slot* slots_ = nullptr;
  size_type mask_ = 0;
  size_type capacity_ = 0;
  typename slot_traits::pointer storage_{};
  [[no_unique_address]] allocator_type alloc_;

  // Producers' claim counter: the one line all producers contend on.
  alignas(cache_line_size) std::atomic<size_type> tail_{0};
  // Consumer-owned; atomic only so size() may read it from other threads.
  // alignas also rounds sizeof(MpscQueue) up, so nothing after the queue shares head_'s block.
  alignas(cache_line_size) std::atomic<size_type> head_{0};
};

}  // namespace hft
