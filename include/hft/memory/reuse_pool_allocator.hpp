// hft/memory/reuse_pool_allocator.hpp: ReusePoolAllocator<T>, a standard allocator whose
// single-object allocations come from pools, so node containers (std::list, std::map,
// std::set, std::unordered_map nodes) stop calling malloc after warm-up.
//
// What: allocate(1) takes a block from a free-list pool of blocks of sizeof(T)
//   (alignof(T)); deallocate(p, 1) puts it back (O(1), any order). Pools grow by slabs
//   (`blocks_per_slab`, default 256) and never shrink: after the container has reached
//   its high-water mark, inserts and erases allocate nothing. allocate(n > 1) (vector
//   storage, hash-table bucket arrays) goes to the upstream std::allocator.
//   Copies and rebinds of an allocator share one PoolSet (one pool per block size), so a
//   container's rebound node allocator and the allocator you gave it are equal.
// When to use: node containers on a hot path. When not: containers shared between
//   threads without a lock (the pools are not synchronised), or contiguous containers
//   (vector: just reserve()).
// Thread-safety: as a std::allocator used by one container: one thread at a
//   time per PoolSet (all copies and rebinds of an allocator share it).
// Progress: allocate/deallocate are wait-free O(1), except allocate when a pool must
//   grow (one slab allocation) or a new block size appears (one pool allocation).
// Propagation: equal iff they share a PoolSet; propagate on copy assignment, move
//   assignment and swap (memory always travels with its pool); is_always_equal false.
//   Moving an allocator copies it (the standard requires a moved-from allocator to stay
//   equal to its old value and usable), so a moved-from container's allocator still owns
//   its pools.
// Errors: PoolSet(blocks_per_slab) and a pool's block size x blocks_per_slab are checked
//   (std::invalid_argument for 0, std::length_error when a slab's size overflows). A slab
//   allocation that throws leaves the pool unchanged (strong guarantee).
// Memory: slabs are freed when the last allocator sharing the PoolSet is destroyed.
//   Default-constructing an allocator creates a new PoolSet (one heap allocation).
// Memory ordering: none; an allocator (and its PoolSet) is used by one thread at a time.
// Complexity: O(1) per allocate(1) / deallocate(p, 1); allocate(n > 1) is the upstream's.
// Compared with: std::pmr::unsynchronized_pool_resource pools by size class too but is
//   reached through a virtual memory_resource and a polymorphic_allocator; boost's
//   fast_pool_allocator uses singleton pools shared process-wide behind a mutex; ours
//   keeps one PoolSet per allocator family, unsynchronised.
// Lifecycle: ReusePoolAllocator is copyable, and moves copy (above); PoolSet is neither
//   copyable nor movable (allocators cache pointers into it; share it by shared_ptr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "hft/core/assert.hpp"

namespace hft {

namespace detail {

/// Untyped free-list pool of fixed-size blocks, growing by slabs. Single-threaded.
class BlockPool {
 public:
  BlockPool(std::size_t block_size, std::size_t align, std::size_t blocks_per_slab)
      : block_size_(round_up(block_size < sizeof(void*) ? sizeof(void*) : block_size,
                             align < alignof(void*) ? alignof(void*) : align)),
        align_(align < alignof(void*) ? alignof(void*) : align),
        per_slab_(blocks_per_slab) {
    if (per_slab_ == 0) throw std::invalid_argument("hft::PoolSet: blocks_per_slab must be >= 1");
    if (block_size_ > std::numeric_limits<std::size_t>::max() / per_slab_) {
      throw std::length_error("hft::PoolSet: a slab of " + std::to_string(per_slab_) + " blocks of " +
                              std::to_string(block_size_) + " bytes overflows");
    }
  }
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() {
    for (void* s : slabs_) ::operator delete(s, std::align_val_t{align_});
  }

  void* allocate() {
    if (free_ == nullptr) add_slab();
    Node* n = free_;
    free_ = n->next;
    return n;
  }
  void deallocate(void* p) noexcept {
    Node* n = static_cast<Node*>(p);
    n->next = free_;
    free_ = n;
  }
  [[nodiscard]] std::size_t block_size() const noexcept { return block_size_; }
  [[nodiscard]] std::size_t align() const noexcept { return align_; }
  [[nodiscard]] std::size_t slab_count() const noexcept { return slabs_.size(); }

 private:
  struct Node {
    Node* next;
  };
  static std::size_t round_up(std::size_t n, std::size_t a) noexcept { return (n + a - 1) / a * a; }
  // Strong guarantee: room in slabs_ first, so that once the slab exists nothing can throw.
  void add_slab() {
    slabs_.reserve(slabs_.size() + 1);
    auto* slab = static_cast<unsigned char*>(::operator new(block_size_ * per_slab_, std::align_val_t{align_}));
    slabs_.push_back(slab);  // cannot throw: reserved
    for (std::size_t i = per_slab_; i-- > 0;) deallocate(slab + i * block_size_);
  }

  std::size_t block_size_, align_, per_slab_;
  Node* free_ = nullptr;
  std::vector<void*> slabs_;
};

}  // namespace detail

/// The pools shared by an allocator and all its copies and rebinds.
class PoolSet {
 public:
  /// Throws std::invalid_argument for 0 blocks per slab.
  explicit PoolSet(std::size_t blocks_per_slab = 256) : per_slab_(blocks_per_slab) {
    if (blocks_per_slab == 0) throw std::invalid_argument("hft::PoolSet: blocks_per_slab must be >= 1");
  }
  PoolSet(const PoolSet&) = delete;
  PoolSet& operator=(const PoolSet&) = delete;

  /// The pool for blocks of (size, align); created on first use (allocates; strong
  /// guarantee if that throws).
  detail::BlockPool& pool_for(std::size_t size, std::size_t align) {
    if (detail::BlockPool* p = find_pool(size, align)) return *p;
    pools_.reserve(pools_.size() + 1);
    pools_.push_back(std::make_unique<detail::BlockPool>(size, align, per_slab_));  // cannot throw: reserved
    return *pools_.back();
  }
  /// The existing pool for (size, align), or nullptr. Never allocates.
  [[nodiscard]] detail::BlockPool* find_pool(std::size_t size, std::size_t align) noexcept {
    // Normalise exactly as BlockPool does, so equal layouts share one pool.
    const std::size_t a = align < alignof(void*) ? alignof(void*) : align;
    const std::size_t sz = size < sizeof(void*) ? sizeof(void*) : size;
    const std::size_t block = (sz + a - 1) / a * a;
    for (auto& p : pools_) {
      if (p->block_size() == block && p->align() == a) return p.get();
    }
    return nullptr;
  }
  /// Slabs allocated so far across all pools (flat after warm-up).
  [[nodiscard]] std::size_t slab_count() const noexcept {
    std::size_t n = 0;
    for (const auto& p : pools_) n += p->slab_count();
    return n;
  }

 private:
  std::size_t per_slab_;
  std::vector<std::unique_ptr<detail::BlockPool>> pools_;
};

/// A standard allocator whose single-object allocations come from shared free-list pools, so
/// node containers stop calling malloc after warm-up. One thread per PoolSet.
template <class T>
class ReusePoolAllocator {
 public:
  /// The allocated type (Allocator requirement).
  using value_type = T;
  /// Memory travels with its pool: a container copy-assigned takes the source's allocator.
  using propagate_on_container_copy_assignment = std::true_type;
  /// A container move-assigned takes the source's allocator (and its pools).
  using propagate_on_container_move_assignment = std::true_type;
  /// Swapped containers swap allocators.
  using propagate_on_container_swap = std::true_type;
  /// Allocators are equal only when they share a PoolSet.
  using is_always_equal = std::false_type;

  /// A new PoolSet.
  ReusePoolAllocator() : set_(std::make_shared<PoolSet>()) {}
  /// Shares `set` (e.g. several containers drawing from the same pools).
  explicit ReusePoolAllocator(std::shared_ptr<PoolSet> set) : set_(std::move(set)) {
    HFT_ASSERT(set_ != nullptr, "ReusePoolAllocator: null PoolSet");
  }
  /// The rebind: shares `o`'s PoolSet, so it is equal to `o`.
  template <class U>
  ReusePoolAllocator(const ReusePoolAllocator<U>& o) noexcept : set_(o.pool_set()) {}
  // Moves are copies: a moved-from allocator must stay equal to what it was, and usable.
  /// Shares the PoolSet: the copy is equal to the original.
  ReusePoolAllocator(const ReusePoolAllocator&) noexcept = default;
  /// A copy: a moved-from allocator stays equal to what it was, and usable.
  // NOLINTNEXTLINE(performance-move-constructor-init,cert-oop11-cpp): the copy is the point (above)
  ReusePoolAllocator(ReusePoolAllocator&& o) noexcept : set_(o.set_), pool_(o.pool_) {}
  /// Shares `o`'s PoolSet from now on.
  ReusePoolAllocator& operator=(const ReusePoolAllocator&) noexcept = default;
  /// Copies: `o` keeps its PoolSet.
  ReusePoolAllocator& operator=(ReusePoolAllocator&& o) noexcept {
    set_ = o.set_;
    pool_ = o.pool_;
    return *this;
  }
  ~ReusePoolAllocator() = default;

  /// n == 1: a block from the pool for T (O(1); grows by a slab when empty); n > 1:
  /// std::allocator<T>. Throws std::bad_alloc.
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n == 1) {
      // NOLINTNEXTLINE(bugprone-sizeof-expression): the element's size, and T may be a pointer
      if (pool_ == nullptr) pool_ = &set_->pool_for(sizeof(T), alignof(T));
      return static_cast<T*>(pool_->allocate());
    }
    return std::allocator<T>{}.allocate(n);
  }
  /// Precondition: p came from allocate(n) of an equal allocator. Never allocates: an equal
  /// allocator that allocated p created the pool for T's layout already.
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1) {
      // NOLINTNEXTLINE(bugprone-sizeof-expression): the element's size, and T may be a pointer
      if (pool_ == nullptr) pool_ = set_->find_pool(sizeof(T), alignof(T));
      HFT_ASSERT(pool_ != nullptr, "ReusePoolAllocator::deallocate of a block no equal allocator allocated");
      pool_->deallocate(p);
      return;
    }
    std::allocator<T>{}.deallocate(p, n);
  }

  /// The PoolSet this allocator and its copies and rebinds share.
  [[nodiscard]] const std::shared_ptr<PoolSet>& pool_set() const noexcept { return set_; }

  /// True when both share a PoolSet: memory from one may be freed by the other.
  template <class U>
  bool operator==(const ReusePoolAllocator<U>& o) const noexcept {
    return set_ == o.pool_set();
  }

 private:
  std::shared_ptr<PoolSet> set_;
  detail::BlockPool* pool_ = nullptr;  // cached pool_for(sizeof(T), alignof(T))
};

}  // namespace hft
