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
// Thread-safety contract: as a std::allocator used by one container: one thread at a
//   time per PoolSet (all copies and rebinds of an allocator share it).
// Progress: allocate/deallocate are wait-free O(1), except allocate when a pool must
//   grow (one slab allocation) or a new block size appears (one pool allocation).
// Propagation: equal iff they share a PoolSet; propagate on copy assignment, move
//   assignment and swap (memory always travels with its pool); is_always_equal false.
// Memory: slabs are freed when the last allocator sharing the PoolSet is destroyed.
//   Default-constructing an allocator creates a new PoolSet (one heap allocation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
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
        per_slab_(blocks_per_slab) {}
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
  void add_slab() {
    auto* slab = static_cast<unsigned char*>(::operator new(block_size_ * per_slab_, std::align_val_t{align_}));
    slabs_.push_back(slab);
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
  explicit PoolSet(std::size_t blocks_per_slab = 256) : per_slab_(blocks_per_slab) {}

  /// The pool for blocks of (size, align); created on first use (allocates).
  detail::BlockPool& pool_for(std::size_t size, std::size_t align) {
    // Normalise exactly as BlockPool does, so equal layouts share one pool.
    const std::size_t a = align < alignof(void*) ? alignof(void*) : align;
    const std::size_t sz = size < sizeof(void*) ? sizeof(void*) : size;
    const std::size_t block = (sz + a - 1) / a * a;
    for (auto& p : pools_) {
      if (p->block_size() == block && p->align() == a) return *p;
    }
    pools_.push_back(std::make_unique<detail::BlockPool>(size, align, per_slab_));
    return *pools_.back();
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

template <class T>
class ReusePoolAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  /// A new PoolSet.
  ReusePoolAllocator() : set_(std::make_shared<PoolSet>()) {}
  /// Shares `set` (e.g. several containers drawing from the same pools).
  explicit ReusePoolAllocator(std::shared_ptr<PoolSet> set) : set_(std::move(set)) {
    HFT_ASSERT(set_ != nullptr, "ReusePoolAllocator: null PoolSet");
  }
  template <class U>
  ReusePoolAllocator(const ReusePoolAllocator<U>& o) noexcept : set_(o.pool_set()) {}

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n == 1) {
      if (pool_ == nullptr) pool_ = &set_->pool_for(sizeof(T), alignof(T));
      return static_cast<T*>(pool_->allocate());
    }
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1) {
      // pool_ is set: this allocator (or an equal one, sharing the set) allocated p.
      if (pool_ == nullptr) pool_ = &set_->pool_for(sizeof(T), alignof(T));
      pool_->deallocate(p);
      return;
    }
    std::allocator<T>{}.deallocate(p, n);
  }

  [[nodiscard]] const std::shared_ptr<PoolSet>& pool_set() const noexcept { return set_; }

  template <class U>
  bool operator==(const ReusePoolAllocator<U>& o) const noexcept {
    return set_ == o.pool_set();
  }

 private:
  std::shared_ptr<PoolSet> set_;
  detail::BlockPool* pool_ = nullptr;  // cached pool_for(sizeof(T), alignof(T))
};

}  // namespace hft
