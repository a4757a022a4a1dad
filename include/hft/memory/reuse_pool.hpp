// hft/memory/reuse_pool.hpp: ReusePool<T>, a fixed-capacity object pool with O(1)
// acquire and release in any order.
//
// What: slots for `capacity` objects of type T, allocated up front (optionally growing
//   by slabs of the same size when empty). Released slots go on an intrusive LIFO free
//   list (the link lives in the free slot itself), so acquire and release are a few
//   instructions whatever the release order, and the most recently freed (cache-warm)
//   slot is reused first.
//   - create(args...) / destroy(p): raw pointers.
//   - acquire(args...) -> PoolPtr<T>: a std::unique_ptr whose deleter returns the object
//     to the pool. acquire_shared(args...) -> std::shared_ptr<T> with the same deleter
//     (its control block comes from the allocator you pass, std::allocator by default).
//   - try_create / try_acquire return null when exhausted; create / acquire throw
//     std::bad_alloc.
// When to use: orders, messages, sessions: objects created and destroyed individually on
//   a hot path. When not: objects of many sizes (MemoryArena, ReusePoolAllocator), or
//   objects shared by many threads without the pattern below.
//
// Thread-safety: single-threaded by default: one owner thread calls everything
//   except release_from_any_thread(). Supported cross-thread pattern: any thread may
//   hand an object back with release_from_any_thread(p) (or a PoolPtr made by
//   acquire_remote_releasable()): it destroys the object and pushes the slot on a
//   lock-free return stack, which the owner drains into its free list (one exchange)
//   when its own free list runs empty. This pattern needs a non-growing pool (grow =
//   false): growing appends slabs on the owner thread while a remote release looks its
//   slot up (asserted in debug builds). Another cross-thread pattern that needs no
//   support: one pool per thread.
// Progress: create/destroy wait-free O(1); release_from_any_thread lock-free (a CAS loop
//   on the return stack head); draining the return stack is one exchange plus O(k) to
//   splice. Growth (when enabled) allocates a slab.
// Memory ordering: the return stack only: a remote release publishes the slot with a release
//   CAS after destroying the object; the owner's acquire exchange pairs with it, so the
//   destruction happens-before the slot is reused.
//
// Complexity: O(1) per create and destroy; the drain is O(returned slots); a grow
//   allocates one slab of `capacity` slots.
// Safety:
//   - Debug builds (HFT_ASSERT on): destroying a pointer the pool does not own, or one
//     already released, aborts with a message (debug builds keep a state byte per slot;
//     release builds keep none, so create/destroy are a pop and a push).
//   - Under AddressSanitizer, a released slot (destroy or release_from_any_thread) is
//     poisoned whole, so any use after release is reported as use-after-poison.
//   - Growth that fails (std::bad_alloc) leaves the pool unchanged (strong guarantee).
// Lifecycle: not copyable or movable (handles and remote releasers hold its address).
//   - When the pool is destroyed, every object still live is destroyed by the pool, then
//     the memory is freed. Pointers to those objects (and PoolPtrs, whose deleters would
//     return to a dead pool) must not be used afterwards: a PoolPtr must not outlive its
//     pool.
// Compared with: boost::object_pool (destroy is O(n): it keeps its free list ordered);
//   boost::pool (O(1) free but untyped, no debug checks); foonathan memory_pool.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "hft/core/assert.hpp"
#include "hft/memory/asan.hpp"

namespace hft {

template <class T>
class ReusePool;

/// Deleter that returns the object to its pool (or, if remote, via the return stack).
template <class T>
struct PoolDeleter {
  ReusePool<T>* pool = nullptr;  ///< the pool the object came from
  bool remote = false;           ///< true: hand back through the pool's thread-safe return stack
  /// Destroys `*p` and returns its slot to the pool (remotely when `remote`).
  void operator()(T* p) const noexcept {
    if (remote) {
      pool->release_from_any_thread(p);
    } else {
      pool->destroy(p);
    }
  }
};

/// A unique_ptr that returns its object to the ReusePool it came from.
template <class T>
using PoolPtr = std::unique_ptr<T, PoolDeleter<T>>;

/// Settings of a ReusePool.
struct ReusePoolConfig {
  bool grow = false;  ///< allocate another slab of `capacity` slots when empty
};

/// A fixed pool of T slots with an intrusive free list: O(1) create and destroy, no malloc
/// after construction; objects may be released from other threads. Owner thread allocates.
template <class T>
class ReusePool {
  union Slot {
    Slot* next;
    alignas(T) unsigned char storage[sizeof(T)];
  };
  enum : std::uint8_t { kFree = 0, kLive = 1 };
  struct Slab {
    std::unique_ptr<Slot[]> slots;
    std::unique_ptr<std::uint8_t[]> state;  // debug builds only: kFree/kLive per slot
  };

 public:
  /// Throws std::invalid_argument for capacity 0, std::bad_alloc when the slab cannot
  /// be allocated.
  explicit ReusePool(std::size_t capacity, const ReusePoolConfig& cfg = {}) : slab_size_(capacity), cfg_(cfg) {
    if (capacity == 0) throw std::invalid_argument("hft::ReusePool: capacity must be > 0");
    add_slab();
  }
  ReusePool(const ReusePool&) = delete;
  ReusePool& operator=(const ReusePool&) = delete;

  /// Destroys every object still live, then frees the slabs (see the header). The live
  /// ones are found by marking every slot on the free lists (a cost paid once, here,
  /// instead of a state store on every create/destroy).
  ~ReusePool() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      std::vector<std::vector<bool>> free_mark(slabs_.size(), std::vector<bool>(slab_size_, false));
      auto mark_list = [&](Slot* s) {
        while (s != nullptr) {
          detail::asan_unpoison(s, sizeof(Slot));
          // Integer addresses: subtracting pointers into different slabs would be UB.
          const auto a = reinterpret_cast<std::uintptr_t>(s);
          for (std::size_t k = 0; k < slabs_.size(); ++k) {
            const auto b = reinterpret_cast<std::uintptr_t>(slabs_[k].slots.get());
            if (a >= b && a < b + slab_size_ * sizeof(Slot)) free_mark[k][(a - b) / sizeof(Slot)] = true;
          }
          s = s->next;
        }
      };
      mark_list(free_);
      mark_list(remote_.load(std::memory_order_acquire));  // pairs with remote releasers' release CAS
      for (std::size_t k = 0; k < slabs_.size(); ++k) {
        for (std::size_t i = 0; i < slab_size_; ++i) {
          Slot& s = slabs_[k].slots[i];
          detail::asan_unpoison(&s, sizeof(Slot));
          if (!free_mark[k][i]) std::destroy_at(std::launder(reinterpret_cast<T*>(s.storage)));
        }
      }
    }
  }

  /// Owner thread. A new T, or nullptr when exhausted (and not growing).
  template <class... A>
  [[nodiscard]] T* try_create(A&&... args) {
    Slot* s = pop_free();
    if (s == nullptr) return nullptr;
    struct Undo {  // if T's constructor throws, the slot goes back
      ReusePool& pool;
      Slot* slot;
      bool armed = true;
      ~Undo() { if (armed) pool.push_free(slot); }
    } undo{*this, s};
    // cppcheck-suppress legacyUninitvar ; placement new initialises obj (cppcheck 2.10 false positive)
    T* obj = ::new (static_cast<void*>(s->storage)) T(std::forward<A>(args)...);
    undo.armed = false;
    set_state(s, kLive);
#if HFT_ENABLE_ASSERTS
    ++live_;
#endif
    return obj;
  }
  /// Owner thread. As try_create; throws std::bad_alloc when exhausted.
  template <class... A>
  [[nodiscard]] T* create(A&&... args) {
    T* p = try_create(std::forward<A>(args)...);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  /// Owner thread. Destroys *p and frees its slot. Precondition: p came from this pool
  /// and is live (checked in debug builds). nullptr is ignored.
  void destroy(T* p) noexcept {
    if (p == nullptr) return;
    Slot* s = check_release(p);
    std::destroy_at(p);
    set_state(s, kFree);
#if HFT_ENABLE_ASSERTS
    --live_;
#endif
    push_free(s);
  }

  /// Any thread. Destroys *p and hands the slot back to the owner through the lock-free
  /// return stack. Same preconditions as destroy().
  void release_from_any_thread(T* p) noexcept {
    if (p == nullptr) return;
    HFT_ASSERT(!cfg_.grow, "ReusePool::release_from_any_thread needs a non-growing pool");
    Slot* s = check_release(p);
    std::destroy_at(p);
    set_state(s, kFree);
#if HFT_ENABLE_ASSERTS
    remote_released_.fetch_add(1, std::memory_order_relaxed);
#endif
    Slot* head = remote_.load(std::memory_order_relaxed);
    do {
      // The slot is ours until the CAS publishes it: write its link, then poison it whole
      // (pop_free() unpoisons before it reads the link).
      detail::asan_unpoison(s, sizeof(Slot));
      s->next = head;
      detail::asan_poison(s, sizeof(Slot));
      // Release pairs with the owner's acquire exchange in pop_free(): our destruction
      // of the object happens-before the slot is reused.
    } while (!remote_.compare_exchange_weak(head, s, std::memory_order_release, std::memory_order_relaxed));
  }

  /// Owner thread. An owning handle (std::bad_alloc when exhausted).
  template <class... A>
  [[nodiscard]] PoolPtr<T> acquire(A&&... args) {
    return PoolPtr<T>(create(std::forward<A>(args)...), PoolDeleter<T>{this, false});
  }
  /// Owner thread. An owning handle, empty when exhausted.
  template <class... A>
  [[nodiscard]] PoolPtr<T> try_acquire(A&&... args) {
    return PoolPtr<T>(try_create(std::forward<A>(args)...), PoolDeleter<T>{this, false});
  }
  /// Owner thread creates; the handle may be destroyed on any thread (it releases
  /// through the return stack).
  template <class... A>
  [[nodiscard]] PoolPtr<T> acquire_remote_releasable(A&&... args) {
    return PoolPtr<T>(create(std::forward<A>(args)...), PoolDeleter<T>{this, true});
  }
  /// Owner thread. A shared_ptr whose last owner returns the object to this pool (on
  /// the owner thread, or remote = true to release through the return stack). The
  /// control block is allocated with `alloc` (a ReusePoolAllocator makes it pooled too).
  template <class Alloc, class... A>
  [[nodiscard]] std::shared_ptr<T> acquire_shared_with(const Alloc& alloc, bool remote, A&&... args) {
    return std::shared_ptr<T>(create(std::forward<A>(args)...), PoolDeleter<T>{this, remote}, alloc);
  }
  /// acquire_shared_with(std::allocator, remote = false, args...).
  template <class... A>
  [[nodiscard]] std::shared_ptr<T> acquire_shared(A&&... args) {
    return acquire_shared_with(std::allocator<T>{}, false, std::forward<A>(args)...);
  }

  /// Whether p points at a slot of this pool.
  [[nodiscard]] bool owns(const void* p) const noexcept { return find(p).slab != nullptr; }
  /// Slots over all slabs.
  [[nodiscard]] std::size_t capacity() const noexcept { return slab_size_ * slabs_.size(); }
  /// Owner thread; a diagnostic. Objects created and not yet destroyed (remote releases
  /// count once the owner has drained the return stack). O(1) in debug builds; in release
  /// builds it counts the free list, O(free slots): the hot path keeps no counter (a
  /// counter is a store-to-load-forwarding chain through every create/destroy, measured
  /// at ~1.5 ns of a 2.8 ns pair).
  [[nodiscard]] std::size_t live() const noexcept {
#if HFT_ENABLE_ASSERTS
    return live_;
#else
    std::size_t free_count = 0;
    for (const Slot* s = free_; s != nullptr;) {
      detail::asan_unpoison(s, sizeof(Slot));  // a free slot is poisoned; only we may read its link
      const Slot* next = s->next;
      detail::asan_poison(s, sizeof(Slot));
      ++free_count;
      s = next;
    }
    return capacity() - free_count;
#endif
  }
  /// Slabs allocated (1 unless grow is set).
  [[nodiscard]] std::size_t slab_count() const noexcept { return slabs_.size(); }

 private:
  struct Found {
    Slab* slab = nullptr;
    std::size_t index = 0;
  };
  Found find(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (const Slab& slab : slabs_) {
      const auto b = reinterpret_cast<std::uintptr_t>(slab.slots.get());
      if (a >= b && a < b + slab_size_ * sizeof(Slot) && (a - b) % sizeof(Slot) == 0) {
        return {const_cast<Slab*>(&slab), (a - b) / sizeof(Slot)};
      }
    }
    return {};
  }

  Slot* check_release(T* p) noexcept {
    Slot* s = reinterpret_cast<Slot*>(p);
#if HFT_ENABLE_ASSERTS
    const Found f = find(p);
    HFT_ASSERT(f.slab != nullptr, "ReusePool: releasing a pointer this pool does not own");
    HFT_ASSERT(f.slab->state[f.index] == kLive, "ReusePool: double release (the object is already free)");
#endif
    return s;
  }

  void set_state([[maybe_unused]] Slot* s, [[maybe_unused]] std::uint8_t v) noexcept {
#if HFT_ENABLE_ASSERTS
    const Found f = find(s);
    f.slab->state[f.index] = v;
#endif
  }

  Slot* pop_free() {
    if (free_ == nullptr) {
      // Acquire pairs with the remote releasers' release CAS.
      Slot* remote = remote_.exchange(nullptr, std::memory_order_acquire);
      if (remote != nullptr) {
        free_ = remote;
#if HFT_ENABLE_ASSERTS
        live_ -= remote_released_.exchange(0, std::memory_order_relaxed);
#endif
      } else if (cfg_.grow) {
        add_slab();
      } else {
        return nullptr;
      }
    }
    Slot* s = free_;
    detail::asan_unpoison(s, sizeof(Slot));
    free_ = s->next;
    return s;
  }

  void push_free(Slot* s) noexcept {
    s->next = free_;
    free_ = s;
    detail::asan_poison(s, sizeof(Slot));
  }

  // Strong guarantee: everything that can throw (the slab, its state bytes, room in
  // slabs_) happens before a single slot reaches the free list.
  void add_slab() {
    Slab slab{std::make_unique<Slot[]>(slab_size_), nullptr};
#if HFT_ENABLE_ASSERTS
    slab.state = std::make_unique<std::uint8_t[]>(slab_size_);  // value-initialised: kFree
#endif
    slabs_.push_back(std::move(slab));
    Slab& added = slabs_.back();
    // Thread the new slots onto the free list, lowest address first.
    for (std::size_t i = slab_size_; i-- > 0;) push_free(&added.slots[i]);
  }

  std::size_t slab_size_;
  ReusePoolConfig cfg_;
  std::vector<Slab> slabs_;
  Slot* free_ = nullptr;
  std::size_t live_ = 0;
  std::atomic<Slot*> remote_{nullptr};
  std::atomic<std::size_t> remote_released_{0};
};

}  // namespace hft
