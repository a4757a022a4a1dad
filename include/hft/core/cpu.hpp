// hft/core/cpu.hpp: cpu_relax(), the body of every spin-wait loop in hft.
//
// What: tells the CPU the caller is spinning. On x86 it is PAUSE (saves power,
//   avoids the memory-order machine clear when the awaited line changes, and gives
//   the sibling hyper-thread the pipeline). On AArch64 it is YIELD, on 32-bit ARM
//   YIELD, on POWER "or 27,27,27" (lower SMT priority). Any other architecture
//   fails to compile, so a missing hint is never silent.
// When to use: the body of every busy-wait loop. When not: waits that may outlast a
//   scheduler quantum (yield, sleep or block instead).
// Cost: PAUSE is ~10-140 cycles depending on the micro-architecture (Skylake and
//   later: ~140); the call never enters the kernel. A spin that may last longer
//   than a scheduler quantum should yield or block instead (see the wait strategies).
// Thread-safety: callable from any thread. Progress: returns after a bounded delay.
#pragma once

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace hft {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#elif defined(__powerpc64__) || defined(__powerpc__)
  asm volatile("or 27,27,27" ::: "memory");
#else
#error "hft::cpu_relax: no spin-wait hint for this architecture; add one here"
#endif
}

}  // namespace hft
