// hft/queue/blocking_queue.hpp: BlockingQueue<T>, a bounded many-producer many-consumer
// queue whose push and pop sleep instead of spinning, with close().
//
// What: a fixed ring of `capacity` slots under one std::mutex, with two condition
//   variables (not full, not empty). push/pop block; try_ variants return at once; _for
//   variants wait at most a timeout. close(): every blocked thread wakes; later pushes
//   fail; pops drain what is left and then report closed (nullopt).
// When to use: hand-offs where threads must sleep rather than spin (more threads than
//   cores, background work, shutdown paths), and where an orderly close matters. When
//   not: latency-critical hops between pinned threads (SpscQueue / MpscQueue / the
//   Disruptor are lock-free and never enter the kernel).
// How it differs from its anchors: TBB's concurrent_bounded_queue has abort() (blocked
//   threads get an exception, the contents stay) and Boost.Fiber's channels close();
//   here close() keeps the contents poppable, so a consumer drains everything accepted. The
//   notifying side signals a condition variable only when a thread is actually waiting on
//   it (counted under the mutex), so an uncontended push/pop makes no futex system call.
// No lost wake-ups: every wait re-checks its predicate under the mutex, and every state
//   change that can satisfy a predicate happens under the same mutex before the notify.
// Thread-safety contract: every member may be called from any thread, concurrently.
// Progress: blocking (mutex; push/pop sleep while full/empty).
// Complexity: O(1) per operation plus the mutex. Memory: capacity slots allocated in the
//   constructor; nothing afterwards.
// Exceptions: if T's move constructor throws inside push, the queue is unchanged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace hft {

template <class T>
class BlockingQueue {
 public:
  /// Throws std::invalid_argument for capacity 0.
  explicit BlockingQueue(std::size_t capacity)
      : cap_(capacity), slots_(static_cast<Slot*>(::operator new(sizeof(Slot) * (capacity ? capacity : 1)))) {
    if (capacity == 0) {
      ::operator delete(slots_);
      throw std::invalid_argument("BlockingQueue: capacity must be >= 1");
    }
  }
  BlockingQueue(const BlockingQueue&) = delete;
  BlockingQueue& operator=(const BlockingQueue&) = delete;
  ~BlockingQueue() {
    while (size_ > 0) pop_locked();
    ::operator delete(slots_);
  }

  /// Blocks while full. False (v untouched) if the queue is or becomes closed.
  bool push(T v) { return push_until(std::move(v), nullptr); }
  /// Never blocks: false if full or closed.
  [[nodiscard]] bool try_push(T v) {
    std::unique_lock lock(m_);
    if (closed_ || size_ == cap_) return false;
    push_locked(std::move(v), lock);
    return true;
  }
  /// Waits at most `timeout` for room; false on timeout or close.
  template <class Rep, class Period>
  [[nodiscard]] bool try_push_for(T v, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    return push_until(std::move(v), &deadline);
  }

  /// Blocks while empty and open. nullopt once the queue is closed and drained.
  std::optional<T> pop() { return pop_until(nullptr); }
  /// Never blocks: nullopt if empty (closed or not: see closed()).
  [[nodiscard]] std::optional<T> try_pop() {
    std::unique_lock lock(m_);
    if (size_ == 0) return std::nullopt;
    return take_locked(lock);
  }
  /// Waits at most `timeout`; nullopt on timeout or when closed and drained.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_pop_for(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    return pop_until(&deadline);
  }

  /// Closes the queue: wakes every waiter; pushes fail from now on; pops drain the rest.
  /// Idempotent.
  void close() {
    {
      std::lock_guard lock(m_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  [[nodiscard]] bool closed() const {
    std::lock_guard lock(m_);
    return closed_;
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(m_);
    return size_;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }

 private:
  struct alignas(T) Slot {
    unsigned char bytes[sizeof(T)];
  };
  using Deadline = std::chrono::steady_clock::time_point;

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

  bool push_until(T&& v, const Deadline* deadline) {
    std::unique_lock lock(m_);
    while (!closed_ && size_ == cap_) {
      if (wait(not_full_, waiting_push_, lock, deadline) && !closed_ && size_ == cap_) return false;
    }
    if (closed_) return false;
    push_locked(std::move(v), lock);
    return true;
  }

  std::optional<T> pop_until(const Deadline* deadline) {
    std::unique_lock lock(m_);
    while (size_ == 0 && !closed_) {
      if (wait(not_empty_, waiting_pop_, lock, deadline) && size_ == 0) return std::nullopt;
    }
    if (size_ == 0) return std::nullopt;  // closed and drained
    return take_locked(lock);
  }

  void push_locked(T&& v, std::unique_lock<std::mutex>& lock) {
    std::size_t tail = head_ + size_;
    if (tail >= cap_) tail -= cap_;
    ::new (static_cast<void*>(slots_[tail].bytes)) T(std::move(v));  // may throw: nothing changed yet
    ++size_;
    const bool wake = waiting_pop_ > 0;
    lock.unlock();
    if (wake) not_empty_.notify_one();
  }

  std::optional<T> take_locked(std::unique_lock<std::mutex>& lock) {
    T* p = std::launder(reinterpret_cast<T*>(slots_[head_].bytes));
    std::optional<T> out(std::move(*p));
    p->~T();
    head_ = head_ + 1 == cap_ ? 0 : head_ + 1;
    --size_;
    const bool wake = waiting_push_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_one();
    return out;
  }

  void pop_locked() noexcept {
    T* p = std::launder(reinterpret_cast<T*>(slots_[head_].bytes));
    p->~T();
    head_ = head_ + 1 == cap_ ? 0 : head_ + 1;
    --size_;
  }

  const std::size_t cap_;
  Slot* slots_;
  mutable std::mutex m_;
  std::condition_variable not_full_, not_empty_;
  std::size_t head_ = 0, size_ = 0;
  std::size_t waiting_push_ = 0, waiting_pop_ = 0;
  bool closed_ = false;
};

}  // namespace hft
