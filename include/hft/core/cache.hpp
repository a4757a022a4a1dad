// hft/core/cache.hpp: the destructive-interference size and a padded wrapper.
//
// What: `hft::cache_line_size` is the distance two independently written fields must
//   keep to avoid false sharing: 128 bytes on x86-64 (the L2 adjacent-line prefetcher
//   pulls cache lines in 128-byte pairs, so 64 bytes of separation still ping-pongs),
//   64 bytes elsewhere. `CachePadded<T>` stores a T alone in such a block.
// Why not std::hardware_destructive_interference_size: GCC warns that its value may
//   differ between translation units compiled with different -mtune, which breaks ABI
//   for a header-only library; a fixed constant per architecture does not.
// When to use: any atomic written by one thread and read by another on a hot path.
//   When not: cold data; padding costs memory and cache capacity.
// Thread-safety: CachePadded<T> adds none; it is exactly as safe as T.
// Progress and complexity: none at run time (a layout tool).
#pragma once

#include <cstddef>
#include <utility>

namespace hft {

/// The block size false sharing is avoided at, in bytes: 128 on x86-64 (the adjacent-line
/// prefetcher pulls lines in pairs), 64 elsewhere.
#if defined(__x86_64__) || defined(_M_X64)
inline constexpr std::size_t cache_line_size = 128;
#else
inline constexpr std::size_t cache_line_size = 64;
#endif

/// A T alone in its own block of cache_line_size bytes (size rounded up to it).
template <class T>
struct alignas(cache_line_size) CachePadded {
  T value{};  ///< value-initialised: a default-constructed CachePadded<int> holds 0, not garbage

  CachePadded() = default;
  /// Constructs the value from `args`.
  template <class... Args>
  explicit CachePadded(std::in_place_t, Args&&... args) : value(std::forward<Args>(args)...) {}

  /// The padded value.
  T& operator*() noexcept { return value; }
  /// The padded value, read-only.
  const T& operator*() const noexcept { return value; }
  /// Member access to the padded value.
  T* operator->() noexcept { return &value; }
  /// Member access to the padded value, read-only.
  const T* operator->() const noexcept { return &value; }
};

static_assert(sizeof(CachePadded<char>) == cache_line_size);
static_assert(alignof(CachePadded<char>) == cache_line_size);

}  // namespace hft
