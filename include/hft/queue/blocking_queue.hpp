// hft/queue/blocking_queue.hpp: BlockingQueue<T>, a bounded many-producer many-consumer
// queue whose push and pop sleep instead of spinning, with close().
//
// What: a fixed ring of `capacity` slots under one std::mutex, with two condition
//   variables (not full, not empty). push/pop block; try_ variants return at once; _for
//   variants wait at most a timeout. close(): every blocked thread wakes; later pushes
//   fail (push throws QueueClosed, try_push returns false); pops drain what is left and
//   then report closed (nullopt).
// When to use: hand-offs where threads must sleep rather than spin (more threads than
//   cores, background work, shutdown paths), and where an orderly close matters.
// When not: latency-critical hops between pinned threads (SpscQueue / MpscQueue / the
//   Disruptor are lock-free and never enter the kernel).
// Compared with: TBB's concurrent_bounded_queue has abort() (blocked
//   threads get an exception, the contents stay) and Boost.Fiber's channels close();
//   here close() keeps the contents poppable, so a consumer drains everything accepted. The
//   notifying side signals a condition variable only when a thread is actually waiting on
//   it (counted under the mutex), so an uncontended push/pop makes no futex system call.
// No lost wake-ups: every wait re-checks its predicate under the mutex, and every state
//   change that can satisfy a predicate happens under the same mutex before the notify.
// Thread-safety: every member may be called from any thread, concurrently.
// Destruction: needs exclusive access, except that a thread still returning from close()
//   (or from a push that woke a consumer) does not count: every notify happens while the
//   mutex is held, so once a consumer sees the change, that thread's only remaining step is
//   the unlock. So the last consumer may destroy the queue as soon as its pop() reports
//   closed (nullopt), provided no other thread is still blocked in or will call a member.
// Progress: blocking (mutex; push/pop sleep while full/empty).
// Memory ordering: the mutex: everything a producer wrote before a push happens-before
//   the pop that takes the item.
// Timeouts: *_for(timeout) waits at most `timeout`; duration::max() (any duration type)
//   means forever (hft::deadline_after saturates), zero or negative means "try once".
// Complexity: O(1) per operation plus the mutex. Memory: capacity slots, aligned for T
//   (over-aligned types included), allocated in the constructor; nothing afterwards.
// The family's conventions (docs/style.md): push waits until the item is stored and
//   returns nothing, throwing QueueClosed if the queue is or becomes closed; try_push /
//   try_push_for return [[nodiscard]] bool (false: full, timed out or closed). Pops come in
//   both forms: bool try_pop(T&) and std::optional<T> try_pop(); pop() waits and returns
//   nullopt once the queue is closed and drained.
// Exceptions and failed pushes: push/try_push/try_push_for take the value by reference and
//   move (or copy) from it only when it is stored: a push that fails (full, closed, timed
//   out) leaves the caller's object untouched, and if T's constructor throws inside a push
//   the queue is unchanged and the exception propagates.
// Lifecycle: neither copyable nor movable (blocked threads hold its address).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "hft/core/deadline.hpp"
#include "hft/queue/sequenced_ring.hpp"

namespace hft {

/// Thrown by BlockingQueue::push on a closed queue (the value was not stored).
struct QueueClosed : std::runtime_error {
  QueueClosed() : std::runtime_error("hft::BlockingQueue: push on a closed queue") {}
};

/// A bounded MPMC queue under one mutex with two condition variables: push and pop sleep
/// instead of spinning, and close() wakes everyone.
template <class T>
class BlockingQueue {
  static_assert(std::is_nothrow_destructible_v<T>, "hft::BlockingQueue<T> needs a nothrow destructor");

 public:
  /// Throws std::invalid_argument for capacity 0, std::length_error when capacity slots of
  /// T do not fit in the address space, or std::bad_alloc.
  explicit BlockingQueue(std::size_t capacity)
      : capacity_(checked_capacity(capacity)), slots_(allocate_slots(capacity_)) {}
  BlockingQueue(const BlockingQueue&) = delete;
  BlockingQueue& operator=(const BlockingQueue&) = delete;
  /// Destroys the items still queued. See the header for when destruction is allowed.
  ~BlockingQueue() {
    while (size_ > 0) destroy_front();
    ::operator delete(slots_, std::align_val_t{alignof(Slot)});
  }

  /// Any thread. Blocks while full. Throws QueueClosed if the queue is or becomes closed
  /// (`v` untouched); `v` is moved from only when it is stored.
  void push(T&& v) {
    if (!push_until(std::move(v), nullptr)) throw QueueClosed();
  }
  /// Any thread. As push(T&&), copying `v` when it is stored.
  void push(const T& v) {
    if (!push_until(v, nullptr)) throw QueueClosed();
  }
  /// Any thread. Never blocks: false if full or closed (`v` untouched).
  [[nodiscard]] bool try_push(T&& v) { return try_push_now(std::move(v)); }
  /// Any thread. As try_push(T&&), copying `v` when it is stored.
  [[nodiscard]] bool try_push(const T& v) { return try_push_now(v); }
  /// Any thread. Waits at most `timeout` for room: false on timeout or close (`v` untouched).
  template <class Rep, class Period>
  [[nodiscard]] bool try_push_for(T&& v, std::chrono::duration<Rep, Period> timeout) {
    const Deadline deadline = deadline_after(timeout);
    return push_until(std::move(v), &deadline);
  }
  /// Any thread. As try_push_for(T&&, timeout), copying `v` when it is stored.
  template <class Rep, class Period>
  [[nodiscard]] bool try_push_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    const Deadline deadline = deadline_after(timeout);
    return push_until(v, &deadline);
  }

  /// Any thread. Blocks while empty and open. nullopt once the queue is closed and drained.
  std::optional<T> pop() { return pop_until(nullptr); }
  /// Any thread. Never blocks: nullopt if empty (closed or not: see closed()).
  [[nodiscard]] std::optional<T> try_pop() {
    std::lock_guard lock(mutex_);
    if (size_ == 0) return std::nullopt;
    return take_locked();
  }
  /// Any thread. Never blocks: moves the oldest item into `out`; false if empty. If the
  /// move assignment throws, the item stays queued.
  [[nodiscard]] bool try_pop(T& out) {
    std::lock_guard lock(mutex_);
    if (size_ == 0) return false;
    T* p = front_locked();
    out = std::move(*p);  // may throw: the item stays queued
    destroy_front();
    if (waiting_push_ > 0) not_full_.notify_one();
    return true;
  }
  /// Any thread. Waits at most `timeout`; nullopt on timeout or when closed and drained.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_pop_for(std::chrono::duration<Rep, Period> timeout) {
    const Deadline deadline = deadline_after(timeout);
    return pop_until(&deadline);
  }

  /// Any thread. Closes the queue: wakes every waiter; pushes fail from now on; pops drain
  /// the rest. Idempotent.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    // Under the lock: a consumer that sees closed_ may destroy the queue right after
    // (see the header), so nothing of ours may touch it once we unlock.
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  /// Any thread. True after close().
  [[nodiscard]] bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  /// Any thread. Items queued now (a snapshot).
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return size_;
  }
  /// The most items the queue holds.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The largest capacity the constructor accepts.
  [[nodiscard]] static constexpr std::size_t max_capacity() noexcept {
    return std::numeric_limits<std::size_t>::max() / sizeof(Slot);
  }

 private:
  struct alignas(T) Slot {
    unsigned char bytes[sizeof(T)];
  };
  using Deadline = std::chrono::steady_clock::time_point;

  static std::size_t checked_capacity(std::size_t capacity) {
    // The family's rule and message shape (sequenced_ring.hpp); exact capacity.
    return detail::check_capacity("hft::BlockingQueue", capacity, max_capacity());
  }
  // Aligned operator new: plain operator new only guarantees __STDCPP_DEFAULT_NEW_ALIGNMENT__.
  static Slot* allocate_slots(std::size_t capacity) {
    return static_cast<Slot*>(::operator new(capacity * sizeof(Slot), std::align_val_t{alignof(Slot)}));
  }

  // One wait on cv, counted in `waiters` so the notifying side knows to signal. Returns
  // true if the deadline passed (never without one). The caller re-checks its predicate.
  static bool wait(std::condition_variable& cv, std::size_t& waiters, std::unique_lock<std::mutex>& lock,
                   const Deadline* deadline) {
    ++waiters;
    bool timed_out = false;
    if (deadline) {
      timed_out = cv.wait_until(lock, *deadline) == std::cv_status::timeout;
    } else {
      cv.wait(lock);
    }
    --waiters;
    return timed_out;
  }

  template <class U>
  bool try_push_now(U&& v) {
    std::lock_guard lock(mutex_);
    if (closed_ || size_ == capacity_) return false;
    push_locked(std::forward<U>(v));
    return true;
  }

  template <class U>
  bool push_until(U&& v, const Deadline* deadline) {
    std::unique_lock lock(mutex_);
    while (!closed_ && size_ == capacity_) {
      if (wait(not_full_, waiting_push_, lock, deadline) && !closed_ && size_ == capacity_) return false;
    }
    if (closed_) return false;
    push_locked(std::forward<U>(v));
    return true;
  }

  std::optional<T> pop_until(const Deadline* deadline) {
    std::unique_lock lock(mutex_);
    while (size_ == 0 && !closed_) {
      if (wait(not_empty_, waiting_pop_, lock, deadline) && size_ == 0) return std::nullopt;
    }
    if (size_ == 0) return std::nullopt;  // closed and drained
    return take_locked();
  }

  // Mutex held. Notifies while still holding it: see close().
  template <class U>
  void push_locked(U&& v) {
    std::size_t tail = head_ + size_;
    if (tail >= capacity_) tail -= capacity_;
    ::new (static_cast<void*>(slots_[tail].bytes)) T(std::forward<U>(v));  // may throw: nothing changed yet
    ++size_;
    if (waiting_pop_ > 0) not_empty_.notify_one();
  }

  // Mutex held, size_ > 0.
  T* front_locked() noexcept { return std::launder(reinterpret_cast<T*>(slots_[head_].bytes)); }
  // Mutex held.
  std::optional<T> take_locked() {
    T* p = front_locked();
    std::optional<T> out(std::move(*p));  // may throw: the item stays queued
    destroy_front();
    if (waiting_push_ > 0) not_full_.notify_one();
    return out;
  }

  void destroy_front() noexcept {
    std::launder(reinterpret_cast<T*>(slots_[head_].bytes))->~T();
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --size_;
  }

  const std::size_t capacity_;
  Slot* slots_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::size_t head_ = 0, size_ = 0;
  std::size_t waiting_push_ = 0, waiting_pop_ = 0;
  bool closed_ = false;
};

}  // namespace hft
