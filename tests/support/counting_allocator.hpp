// CountingAllocator<T>: a std::allocator that counts allocate/deallocate calls and
// bytes, shared across rebinds, so tests can prove "allocated once, freed once".
#pragma once
#include <cstddef>
#include <memory>

namespace hft::test {

struct AllocStats {
  long allocations = 0;
  long deallocations = 0;
  std::size_t bytes_live = 0;
};

template <class T>
struct CountingAllocator {
  using value_type = T;
  AllocStats* stats;

  explicit CountingAllocator(AllocStats* s) noexcept : stats(s) {}
  template <class U>
  CountingAllocator(const CountingAllocator<U>& o) noexcept : stats(o.stats) {}

  T* allocate(std::size_t n) {
    ++stats->allocations;
    stats->bytes_live += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++stats->deallocations;
    stats->bytes_live -= n * sizeof(T);
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>& o) const noexcept { return stats == o.stats; }
};

}  // namespace hft::test
