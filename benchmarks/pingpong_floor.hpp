// benchmarks/pingpong_floor.hpp: the physical floor of a cross-core round trip, shared
// by every latency benchmark so that "x times the floor" means the same thing everywhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

namespace hft::bench {

// The physical floor: two padded atomics, each written by one core and spun on by the
// other. Any queue round trip does at least this much cross-core traffic.
struct AtomicPingPong {
  alignas(hft::cache_line_size) std::atomic<std::uint64_t> ping{~0ull};
  alignas(hft::cache_line_size) std::atomic<std::uint64_t> pong{~0ull};
};
inline Metrics atomic_round_trip(const hft::bench::Options& o, std::size_t n) {
  auto pp = std::make_unique<AtomicPingPong>();
  std::vector<std::uint64_t> ticks(n);
  std::thread ponger([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    for (std::size_t i = 0; i < n; ++i) {
      // Acquire/release pair with the pinger's store/load, as a queue's would.
      while (pp->ping.load(std::memory_order_acquire) != i) hft::cpu_relax();
      pp->pong.store(i, std::memory_order_release);
    }
  });
  std::thread pinger([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t start = hft::bench::TickTimer::now();
      pp->ping.store(i, std::memory_order_release);
      while (pp->pong.load(std::memory_order_acquire) != i) hft::cpu_relax();
      ticks[i] = hft::bench::TickTimer::now() - start;
    }
  });
  pinger.join();
  ponger.join();
  return round_trip_metrics(ticks);
}

}  // namespace hft::bench
