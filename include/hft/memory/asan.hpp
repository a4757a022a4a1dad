// hft/memory/asan.hpp: AddressSanitizer poisoning hooks (no-ops without ASan).
// What: internal: the memory primitives poison released memory with these, so a use
//   after release is reported.
// Thread-safety: as ASan's interface (any thread, on memory the caller owns).
// Progress: wait-free.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define HFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HFT_ASAN 1
#endif
#endif

#if defined(HFT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace hft::detail {
inline void asan_poison(const void* p, std::size_t n) noexcept {
#if defined(HFT_ASAN)
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
inline void asan_unpoison(const void* p, std::size_t n) noexcept {
#if defined(HFT_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
}  // namespace hft::detail
