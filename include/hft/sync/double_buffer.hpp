// hft/sync/double_buffer.hpp: DoubleBuffer<T>, lock-free reads of a whole, consistent T
// while one writer prepares the next state off to the side (the Left-Right technique).
//
// What: two copies of T. Readers run a callable on the active copy; the writer changes
//   the inactive copy, makes it active, waits until no reader is still on the old copy,
//   then applies the same change to it, so both copies stay identical between writes.
//   Unlike SeqLock, T may be any type (vectors, maps, strings) and readers never retry.
// When to use: read-mostly state that readers need whole and consistent (a symbol table,
//   a risk-limit map, a routing table) and that a single writer replaces now and then.
// When not: a T that is cheap and trivially copyable (SeqLock copies less); writes so
//   frequent that the writer's waits dominate; memory-tight T (two copies are kept).
// Thread-safety: read(): any thread, any number at once. modify()/store(): one
//   writer at a time (concurrent writers are serialised by an internal mutex).
// Progress: read() wait-free; modify()/store() blocking (see below).
// What each side may wait for:
//   readers: never. read() is wait-free: two atomic RMWs and two loads around the call.
//   writer: waits (spinning, then yielding) until every reader that started before its
//   switch has finished its read() call. A reader preempted inside read() delays the
//   writer, never other readers. Keep read callables short.
// Memory ordering: all protocol operations are seq_cst (the reader's arrive/check and
//   the writer's switch/wait form a Dekker-style handshake). A reader's departure is a
//   release RMW that the writer's wait reads, so the reader's accesses to a copy
//   happen-before the writer's next change to it; the writer's switch store is read by
//   readers' loads, so its change happens-before their reads. TSan checks all of it.
// Exceptions from the modify function: if fn throws on its first run (on the inactive
//   copy), nothing is published and the inactive copy is restored from the active one, so
//   readers and later writes never see the half-done change (strong guarantee). fn runs a
//   second time on the other copy after the switch; if that run throws (fn must be
//   deterministic, so only for reasons like bad_alloc), the change stays published and the
//   stale copy is re-synchronised from the published one. If a restore's copy itself
//   throws, the copy is marked stale and re-synchronised before the next write. In every
//   case the exception propagates. An exception from a read callable propagates; the
//   reader has left (its departure runs in a destructor).
// Lifecycle: not copyable or movable (readers hold the address).
// Complexity: read: O(1) + the callable. modify: the callable twice + the wait (plus a
//   copy of T after a throw).
// Compared with: textbook Left-Right (Ramalhete and Correia): one padded counter per read indicator (simple,
//   but readers on many cores contend on it; a per-thread distributed indicator scales
//   further at the cost of registration).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

namespace hft {

/// Left-Right: two copies of a T, readers wait-free on one while the writer updates the other
/// and then waits for the readers to leave.
template <class T>
class DoubleBuffer {
 public:
  /// Both copies start as copies of `initial`.
  explicit DoubleBuffer(const T& initial = T{}) : copies_{initial, initial} {}
  DoubleBuffer(const DoubleBuffer&) = delete;
  DoubleBuffer& operator=(const DoubleBuffer&) = delete;

  /// Any thread. Calls fn(const T&) on a whole, consistent state and returns its result.
  /// fn must not keep references to the state after it returns.
  template <class F>
  decltype(auto) read(F&& fn) const {
    const int vi = version_.load(std::memory_order_seq_cst);  // pairs with modify()'s version switch
    readers_[vi].value.fetch_add(1, std::memory_order_seq_cst);  // arrive (Dekker with the writer's wait)
    struct Depart {
      const DoubleBuffer& self;
      int vi;
      // Release: our reads of the copy happen-before the writer reuses it.
      ~Depart() { self.readers_[vi].value.fetch_sub(1, std::memory_order_release); }
    } depart{*this, vi};
    const int active = active_.load(std::memory_order_seq_cst);  // pairs with modify()'s switch
    return std::forward<F>(fn)(static_cast<const T&>(copies_[active]));
  }

  /// Writer. Applies fn(T&) to the inactive copy, publishes it, waits for readers of the
  /// old copy to leave, then applies fn to that copy too. fn must be deterministic (it runs
  /// twice and both copies must end equal). T must be copy-assignable (a throwing fn is
  /// undone by copying; see the header).
  template <class F>
  void modify(F&& fn) {
    std::lock_guard lock(writer_mutex_);
    const int active = active_.load(std::memory_order_relaxed);
    const int next = 1 - active;
    if (stale_) resync(next, active);  // a restore failed earlier: bring the copy back first
    try {
      fn(copies_[next]);  // no reader is on the inactive copy
    } catch (...) {
      stale_ = true;
      try_resync(next, active);  // nothing was published: undo the half-done change
      throw;
    }
    active_.store(next, std::memory_order_seq_cst);  // pairs with read()'s load: new readers see the new state
    const int vi = version_.load(std::memory_order_relaxed);
    wait_empty(1 - vi);  // readers who arrived on the other indicator earlier are done
    version_.store(1 - vi, std::memory_order_seq_cst);  // pairs with read()'s version load (Dekker with arrive)
    wait_empty(vi);      // every reader that could still see `active` has left
    try {
      fn(copies_[active]);
    } catch (...) {
      stale_ = true;
      try_resync(active, next);  // the change is published: make the other copy match it
      throw;
    }
  }

  /// Writer. Replaces the state with `v` (T must be copy-assignable).
  void store(const T& v) {
    modify([&v](T& t) { t = v; });
  }

 private:
  // Writer, under the mutex, with no reader on copies_[to]: copies_[to] = copies_[from].
  void resync(int to, int from) {
    copies_[to] = copies_[from];
    stale_ = false;
  }
  void try_resync(int to, int from) noexcept {
    try {
      resync(to, from);
    } catch (...) {
      // Stays stale: the next modify() resynchronises before it changes anything.
    }
  }

  void wait_empty(int i) const {
    // Seq_cst load, pairing with each reader's release departure: it orders that reader's
    // accesses before our next write to the copy it used.
    for (std::uint32_t spins = 0; readers_[i].value.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 256) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

  T copies_[2];
  alignas(cache_line_size) std::atomic<int> active_{0};
  alignas(cache_line_size) std::atomic<int> version_{0};
  mutable CachePadded<std::atomic<std::int64_t>> readers_[2]{};
  std::mutex writer_mutex_;
  bool stale_ = false;  // writer: the inactive copy differs from the active one
};

}  // namespace hft
