// hft/queue/sequenced_ring.hpp: the internals the bounded-ring family shares (hft::detail):
// one slot type, one capacity rule, and one copy of Dmitry Vyukov's sequenced-slot protocol.
//
// What: not a public primitive. SpscQueue uses RingSlot and the capacity rule; MpscQueue,
//   MpmcQueue and WorkerPool are thin fronts over VyukovRing, which holds the claim loop
//   (producers and, for MPMC, consumers), the publish step (including the dead mark for a
//   constructor that throws) and the slot array's lifetime.
// When to use: only through those types. When not: anywhere else (hft::detail may change).
//
// The capacity rule (every queue of the family): any capacity >= 1 up to max_capacity();
//   the queue holds at least `capacity` items and capacity() says exactly how many.
//   SpscQueue holds exactly what was asked; the Vyukov rings round up to a power of two
//   >= 2 (a slot's sequence must tell "free for lap n" from "full from lap n - 1", and the
//   index is pos & mask). Errors: std::invalid_argument "hft::Type: capacity must be >= 1,
//   got 0", std::length_error "hft::Type: capacity N exceeds max_capacity() M".
//
// The protocol (VyukovRing): slot i starts with seq = i. A producer claiming position p
//   waits for seq == p ("free for p"), wins p by a CAS on tail, constructs the item and
//   stores seq = p + 1 ("holds p's item"). A consumer claiming p waits for seq == p + 1,
//   wins p (a CAS on head when there are several consumers, a plain store with one),
//   destroys the item and stores seq = p + capacity ("free for p's next lap"). A producer
//   whose constructor throws stores (p + 1) | kDead instead: consumers pass the slot
//   without an item, so a throwing constructor never wedges the ring.
// Thread-safety: as the front type documents (producers any thread; consumers one thread
//   for the single-consumer calls, any thread for the shared ones).
// Progress: claims are lock-free (a failed CAS means another thread won a position); a
//   full or empty ring fails at once. A thread preempted between its claim and its
//   publish/free holds back the positions behind it (FIFO is by claim order).
// Memory ordering: seq stores are release (or seq_cst where a front needs a Dekker pair:
//   WorkerPool); seq loads are acquire, each pairing with the other side's store of the
//   same slot (see the comments at each). tail and head are claimed relaxed: ownership of a
//   slot travels through its seq, not through the counters.
// Complexity: O(1) per item; a batch consume of k items makes one CAS.
// Compared with: rigtorp's MPMCQueue uses the same turn-per-slot idea with one slot type
//   per queue; here one ring serves three fronts, adds the dead mark and a batch take.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

namespace hft::detail {

/// One ring slot: a sequence number and room for one T, aligned to at least `Align`
/// (a cache line keeps neighbouring slots' writers apart: MpmcQueue, WorkerPool).
template <class T, std::size_t Align = 1>
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): raw bytes for a T built in place by push
struct alignas(Align) alignas(T) alignas(std::atomic<std::size_t>) RingSlot {
  std::atomic<std::size_t> seq;
  alignas(T) unsigned char storage[sizeof(T)];
  T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
};

/// The family's capacity rule (see the header). Returns `capacity` when it is valid.
inline std::size_t check_capacity(const char* type, std::size_t capacity, std::size_t max) {
  if (capacity == 0) throw std::invalid_argument(std::string(type) + ": capacity must be >= 1, got 0");
  if (capacity > max) {
    throw std::length_error(std::string(type) + ": capacity " + std::to_string(capacity) + " exceeds max_capacity() " +
                            std::to_string(max));
  }
  return capacity;
}

/// The largest capacity a ring of `Slot`s with `pad` extra slots accepts: bit_ceil of it
/// plus the padding must stay addressable, with room for the index arithmetic.
template <class Slot>
constexpr std::size_t max_ring_capacity(std::size_t pad = 0) noexcept {
  return std::numeric_limits<std::size_t>::max() / 4 / sizeof(Slot) - pad;
}

/// `count` slots plus `pad` unused ones on each side (so neighbouring heap objects never
/// share a line with the first or last slot), allocated once through the allocator; each
/// slot's seq starts at init(i).
template <class Slot, class Allocator>
class SlotArray {
  using traits = typename std::allocator_traits<Allocator>::template rebind_traits<Slot>;

 public:
  using allocator_type = typename traits::allocator_type;

  template <class Init>
  SlotArray(std::size_t count, std::size_t pad, const allocator_type& alloc, Init init)
      : alloc_(alloc), count_(count), pad_(pad) {
    storage_ = traits::allocate(alloc_, count_ + 2 * pad_);
    slots_ = std::to_address(storage_) + pad_;
    for (std::size_t i = 0; i < count_; ++i) {
      ::new (static_cast<void*>(&slots_[i].seq)) std::atomic<std::size_t>(init(i));
    }
  }
  SlotArray(const SlotArray&) = delete;
  SlotArray& operator=(const SlotArray&) = delete;
  ~SlotArray() {
    for (std::size_t i = 0; i < count_; ++i) slots_[i].seq.~atomic();
    traits::deallocate(alloc_, storage_, count_ + 2 * pad_);
  }

  Slot& operator[](std::size_t i) noexcept { return slots_[i]; }
  const Slot& operator[](std::size_t i) const noexcept { return slots_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }

 private:
  [[no_unique_address]] allocator_type alloc_;
  typename traits::pointer storage_{};
  Slot* slots_ = nullptr;
  std::size_t count_, pad_;
};

/// Vyukov's bounded ring over RingSlot<T, SlotAlign>. The fronts (MpscQueue, MpmcQueue,
/// WorkerPool) choose the consumer calls and the memory orders they need.
template <class T, std::size_t SlotAlign, class Allocator>
class VyukovRing {
  static_assert(std::is_nothrow_destructible_v<T>, "ring items need a nothrow destructor");

 public:
  using Slot = RingSlot<T, SlotAlign>;
  using size_type = std::size_t;
  using allocator_type = typename SlotArray<Slot, Allocator>::allocator_type;

  /// The rounded capacity for a requested one (the rule above), or the rule's exception.
  static size_type slots_for(const char* type, size_type capacity) {
    check_capacity(type, capacity, max_capacity());
    return std::max<size_type>(2, round_up_pow2(capacity));
  }
  [[nodiscard]] static constexpr size_type max_capacity() noexcept { return max_ring_capacity<Slot>(); }

  VyukovRing(const char* type, size_type capacity, const allocator_type& alloc)
      : slots_(slots_for(type, capacity), 0, alloc, [](size_type i) { return i; }),  // slot i: free for position i
        mask_(slots_.size() - 1) {}
  VyukovRing(const VyukovRing&) = delete;
  VyukovRing& operator=(const VyukovRing&) = delete;

  /// Destroys the items still queued. Needs exclusive access (nobody mid-claim).
  ~VyukovRing() {
    const size_type tail = tail_.value.load(std::memory_order_relaxed);
    for (size_type pos = head_.value.load(std::memory_order_relaxed); pos != tail; ++pos) {
      Slot& s = slots_[pos & mask_];
      if (s.seq.load(std::memory_order_relaxed) == pos + 1) std::destroy_at(s.ptr());  // dead slots hold nothing
    }
  }

  // ---- producers (any number of threads) -------------------------------------------

  /// Claims the next position and constructs an item there; false at once when full
  /// (args untouched). If T's constructor throws, the slot is marked dead and the
  /// exception propagates. `Publish`: release, or seq_cst for a front whose waiters
  /// need the store ordered before its later loads (WorkerPool).
  template <std::memory_order Publish = std::memory_order_release, class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    size_type pos;
    Slot* slot = claim<0>(tail_.value, pos);
    if (slot == nullptr) return false;
    publish<Publish>(*slot, pos, std::forward<Args>(args)...);
    return true;
  }

  /// As try_emplace, spinning with cpu_relax() while full.
  template <std::memory_order Publish = std::memory_order_release, class... Args>
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    size_type pos;
    Slot* slot;
    while ((slot = claim<0>(tail_.value, pos)) == nullptr) cpu_relax();
    publish<Publish>(*slot, pos, std::forward<Args>(args)...);
  }

  // ---- one consumer thread ---------------------------------------------------------

  /// The oldest published item, or nullptr when none is ready; passes (and frees) dead
  /// slots on the way.
  [[nodiscard]] T* front() noexcept {
    for (;;) {
      const size_type head = head_.value.load(std::memory_order_relaxed);
      Slot& slot = slots_[head & mask_];
      // Acquire pairs with publish()'s store: the item (or the dead mark) is complete.
      const size_type seq = slot.seq.load(std::memory_order_acquire);
      if (seq == head + 1) [[likely]] return slot.ptr();
      if (seq != ((head + 1) | kDead)) return nullptr;
      free_slot(slot, head);
      head_.value.store(head + 1, std::memory_order_relaxed);
    }
  }

  /// Whether the oldest position holds a published item (the front's pop() precondition).
  [[nodiscard]] bool head_ready() const noexcept {
    const size_type head = head_.value.load(std::memory_order_relaxed);
    return slots_[head & mask_].seq.load(std::memory_order_relaxed) == head + 1;
  }

  /// Destroys the oldest item. Precondition: front() returned it (the front asserts).
  void pop() noexcept {
    const size_type head = head_.value.load(std::memory_order_relaxed);
    Slot& slot = slots_[head & mask_];
    std::destroy_at(slot.ptr());
    free_slot(slot, head);
    // Relaxed: only this consumer claims positions; producers learn of the free slot
    // through its seq. Atomic only so that size() may read it.
    head_.value.store(head + 1, std::memory_order_relaxed);
  }

  // ---- any number of consumer threads ----------------------------------------------

  /// Claims the oldest ready position, calls take(T&) on its item, destroys it and frees
  /// the slot; false at once when none is ready. If take throws, the item is destroyed
  /// and its slot freed anyway (the position is ours and cannot be handed back), then the
  /// exception propagates. `Load`: acquire, or seq_cst for a waiter's re-check (WorkerPool).
  template <std::memory_order Load = std::memory_order_acquire, class Take>
  bool try_take(Take&& take) {
    for (;;) {
      size_type pos;
      Slot* slot = claim<1, Load>(head_.value, pos);
      if (slot == nullptr) return false;
      if (settle(*slot, pos, take)) return true;
      // A dead slot: freed; claim the next position.
    }
  }

  /// Calls fn(T&) on up to max_items ready items, oldest first, destroying each after fn
  /// returns. Returns how many. With a noexcept fn it claims each run of ready positions
  /// with one CAS; a fn that may throw gets one position per claim instead, so that when
  /// it throws (the item it was given counts as consumed) the items after it stay queued.
  template <class F>
  size_type take_many(F&& fn, size_type max_items) {
    if constexpr (std::is_nothrow_invocable_v<F&, T&>) {
      size_type done = 0;
      while (done < max_items) {
        const size_type n = take_run(fn, max_items - done);
        if (n == 0) break;
        done += n;
      }
      return done;
    } else {
      size_type done = 0;
      while (done < max_items && try_take([&](T& v) { fn(v); })) ++done;
      return done;
    }
  }

  // ---- any thread ------------------------------------------------------------------

  /// Claimed-but-unconsumed positions at some instant, in [0, capacity()] (includes
  /// items still being constructed and dead slots not yet passed); exact when idle.
  [[nodiscard]] size_type size() const noexcept {
    const size_type head = head_.value.load(std::memory_order_relaxed);
    const size_type tail = tail_.value.load(std::memory_order_relaxed);
    const auto n = static_cast<std::ptrdiff_t>(tail - head);
    if (n <= 0) return 0;
    return static_cast<size_type>(n) < capacity() ? static_cast<size_type>(n) : capacity();
  }
  /// A hint: whether an item seemed queued (two relaxed loads).
  [[nodiscard]] bool maybe_nonempty() const noexcept {
    return tail_.value.load(std::memory_order_relaxed) != head_.value.load(std::memory_order_relaxed);
  }
  [[nodiscard]] size_type capacity() const noexcept { return mask_ + 1; }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return slots_.get_allocator(); }

 private:
  // A published slot whose constructor threw: seq == (pos + 1) | kDead. Claims compare
  // without the bit, so a producer one lap later sees it as full until a consumer frees it.
  static constexpr size_type kDead = size_type{1} << (std::numeric_limits<size_type>::digits - 1);

  // Claims a position from `counter` (Lap 0: tail, a slot free for pos has seq == pos;
  // Lap 1: head, a slot holding pos's item has seq == pos + 1). nullptr when full/empty.
  template <size_type Lap, std::memory_order Load = std::memory_order_acquire>
  Slot* claim(std::atomic<size_type>& counter, size_type& pos) noexcept {
    pos = counter.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      // Producers: acquire pairs with free_slot()'s release store (the previous item is
      // destroyed before we construct over it). Consumers: with publish()'s store.
      const size_type seq = slot.seq.load(Load);
      const auto diff = static_cast<std::ptrdiff_t>((seq & ~kDead) - (pos + Lap));
      if (diff == 0) {
        // Relaxed: the CAS only decides who gets `pos`; the slot's seq carries the data.
        if (counter.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          return &slot;
        }
      } else if (diff < 0) {
        return nullptr;  // producers: the slot still holds lap n - 1 (full); consumers: nothing yet (empty)
      } else {
        pos = counter.load(std::memory_order_relaxed);  // another thread took pos
      }
    }
  }

  template <std::memory_order Publish, class... Args>
  void publish(Slot& slot, size_type pos, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      ::new (static_cast<void*>(slot.storage)) T(std::forward<Args>(args)...);
    } else {
      try {
        ::new (static_cast<void*>(slot.storage)) T(std::forward<Args>(args)...);
      } catch (...) {
        // The position is ours and cannot be handed back: mark it dead so consumers pass
        // it instead of waiting for it forever. Release pairs with the consumers' acquire.
        slot.seq.store((pos + 1) | kDead, std::memory_order_release);
        throw;
      }
    }
    // Release (or seq_cst) pairs with the consumers' acquire load of seq.
    slot.seq.store(pos + 1, Publish);
  }

  // Release pairs with the producers' acquire load in claim<0>(): the item's destruction
  // happens-before the next lap's construction in this slot.
  void free_slot(Slot& slot, size_type pos) noexcept { slot.seq.store(pos + capacity(), std::memory_order_release); }

  // Claims a run of up to max_items ready positions with one CAS and calls fn (noexcept)
  // on each live item. Returns the number of items (dead slots in the run are passed).
  template <class F>
  size_type take_run(F& fn, size_type max_items) noexcept {
    size_type pos = head_.value.load(std::memory_order_relaxed);
    size_type run;
    for (;;) {
      run = 0;
      // Acquire pairs with publish()'s store: every slot of the run holds a complete item
      // or a dead mark. Nobody can take them from under us once the CAS below wins: head
      // only grows, so a CAS that succeeds from `pos` means no consumer claimed pos.. yet.
      while (run < max_items) {
        const size_type seq = slots_[(pos + run) & mask_].seq.load(std::memory_order_acquire);
        if ((seq & ~kDead) != pos + run + 1) break;
        ++run;
      }
      if (run == 0) {
        const size_type seq = slots_[pos & mask_].seq.load(std::memory_order_acquire);
        if (static_cast<std::ptrdiff_t>((seq & ~kDead) - (pos + 1)) < 0) return 0;  // empty
        pos = head_.value.load(std::memory_order_relaxed);                          // another consumer took pos
        continue;
      }
      if (head_.value.compare_exchange_weak(pos, pos + run, std::memory_order_relaxed, std::memory_order_relaxed)) {
        break;
      }
    }
    size_type items = 0;
    for (size_type i = 0; i < run; ++i) {
      Slot& slot = slots_[(pos + i) & mask_];
      if (slot.seq.load(std::memory_order_relaxed) == pos + i + 1) {  // else dead
        fn(*slot.ptr());
        std::destroy_at(slot.ptr());
        ++items;
      }
      free_slot(slot, pos + i);
    }
    return items;
  }

  // A claimed consumer position: calls take on a live item (then destroys it) or passes a
  // dead one; frees the slot either way. True if there was an item.
  template <class Take>
  bool settle(Slot& slot, size_type pos, Take& take) {
    if (slot.seq.load(std::memory_order_relaxed) != pos + 1) {  // dead: (pos + 1) | kDead
      free_slot(slot, pos);
      return false;
    }
    struct Destroy {
      VyukovRing& r;
      Slot& s;
      size_type pos;
      ~Destroy() {
        std::destroy_at(s.ptr());
        r.free_slot(s, pos);
      }
    } destroy{*this, slot, pos};
    take(*slot.ptr());
    return true;
  }

  // Read-only after construction.
  SlotArray<Slot, Allocator> slots_;
  const size_type mask_;
  // Producers claim here (the line all producers contend on) ...
  CachePadded<std::atomic<size_type>> tail_{};
  // ... and consumers here (with one consumer it is that consumer's alone).
  CachePadded<std::atomic<size_type>> head_{};
};

/// What MpscQueue and MpmcQueue share: construction, the producer side and the
/// observers (one copy). The fronts add their consumer side.
template <class T, std::size_t SlotAlign, class Allocator>
class VyukovQueue {
 protected:
  using Ring = VyukovRing<T, SlotAlign, Allocator>;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using allocator_type = typename Ring::allocator_type;

  VyukovQueue(const VyukovQueue&) = delete;
  VyukovQueue& operator=(const VyukovQueue&) = delete;

  // ---- producers (any number of threads) -------------------------------------------

  /// Any thread. Constructs an item from args at the back; false at once when full (args
  /// untouched). Release on success, paired with the consuming thread's acquire. If T's
  /// constructor throws, its slot is marked dead (consumers skip it) and the exception
  /// propagates.
  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    return ring_.try_emplace(std::forward<Args>(args)...);
  }
  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }
  /// Any thread. As try_emplace, spinning with cpu_relax() while full (forever if nobody
  /// consumes).
  template <class... Args>
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    ring_.emplace(std::forward<Args>(args)...);
  }
  void push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) { emplace(v); }
  void push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) { emplace(std::move(v)); }

  // ---- any thread ------------------------------------------------------------------

  /// Claimed-but-unconsumed positions at some instant, in [0, capacity()] (items still
  /// being constructed and dead slots not yet passed included); exact when every thread
  /// is idle.
  [[nodiscard]] size_type size() const noexcept { return ring_.size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] size_type capacity() const noexcept { return ring_.capacity(); }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return ring_.get_allocator(); }
  /// The largest capacity the constructor accepts.
  [[nodiscard]] static constexpr size_type max_capacity() noexcept { return Ring::max_capacity(); }

 protected:
  /// Throws std::invalid_argument for 0, std::length_error above max_capacity() (worded
  /// with `type`), or what the allocator throws.
  VyukovQueue(const char* type, size_type capacity, const allocator_type& alloc) : ring_(type, capacity, alloc) {}
  /// Destroys the items still queued. Needs exclusive access.
  ~VyukovQueue() = default;

  Ring ring_;
};

/// The two pop forms of a single-consumer queue, written once in terms of its front()
/// and pop() (SpscQueue, MpscQueue).
template <class Derived, class T>
class FrontPopForms {
 public:
  /// Consumer only. Moves the oldest item into `out` and destroys it; false when none is
  /// ready. Acquire through front(). If the move assignment throws, the item stays queued.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* item = self().front();
    if (item == nullptr) return false;
    out = std::move(*item);
    self().pop();
    return true;
  }
  /// Consumer only. The oldest item, or nullopt when none is ready. If the move
  /// constructor throws, the item stays queued.
  [[nodiscard]] std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>) {
    T* item = self().front();
    if (item == nullptr) return std::nullopt;
    std::optional<T> out(std::move(*item));
    self().pop();
    return out;
  }

 protected:
  FrontPopForms() = default;
  ~FrontPopForms() = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace hft::detail
