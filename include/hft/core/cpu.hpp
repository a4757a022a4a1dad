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

namespace hft {

/// Tells the CPU this thread is spin-waiting (x86 PAUSE, ARM YIELD): saves power and frees the
/// sibling hyper-thread; returns after a short, bounded delay. Callable from any thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  // The builtin, not _mm_pause() from <immintrin.h>: that header is ~47k lines and cost
  // every includer of a queue ~0.35 s of compile time for this one instruction.
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#elif defined(__powerpc64__) || defined(__powerpc__)
  asm volatile("or 27,27,27" ::: "memory");
#else
#error "hft::cpu_relax: no spin-wait hint for this architecture; add one here"
#endif
}

}  // namespace hft
