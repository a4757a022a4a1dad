// hft/core/wake_cost.hpp: wake_cost(), this machine's measured cost of waking a sleeping
// thread, and the spin budget derived from it.
//
// What: the first call measures, once per process, (1) how long a thread asleep in a futex
//   (std::atomic::wait) on an otherwise idle CPU takes from notify_one() to running, median
//   of 16 samples (on this project's 2-vCPU VM: 65-75 us, the hypervisor waking a halted
//   vCPU; a few us when the sleeper's CPU is busy anyway), and
//   (2) how long one cpu_relax() takes. spin_iterations() is how many cpu_relax() calls fill
//   one wake-up: spinning that long before sleeping costs at most twice what an oracle
//   that knew whether work was coming would pay (the classic competitive bound for
//   spin-then-block), whatever the machine: a VM whose wake-ups take 50 us spins longer
//   than bare metal at 5 us.
// When to use: the default spin budget of a waiting thread (WorkerPool does). When not:
//   hard real-time budgets (measure and set them yourself); a thread that must never sleep
//   (busy-spin instead).
// Cost: the first call blocks about 5 ms (16 sleep/wake round trips on a helper thread);
//   later calls read a cached value.
// Thread-safety: any thread (a function-local static).
// Progress: the first call blocks; later calls are wait-free. Complexity: O(1).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "hft/core/cpu.hpp"

namespace hft {

/// This machine's measured cost of waking a sleeping thread and of one cpu_relax(), from
/// wake_cost().
struct WakeCost {
  std::uint64_t wake_ns = 0;  ///< notify -> the sleeper runs, median
  double relax_ns = 0;        ///< one cpu_relax()
  /// cpu_relax() calls that add up to one wake-up, within [64, 2^20].
  [[nodiscard]] std::uint32_t spin_iterations() const noexcept {
    const double n = relax_ns > 0 ? static_cast<double>(wake_ns) / relax_ns : 64.0;
    return static_cast<std::uint32_t>(std::clamp(n, 64.0, 1048576.0));
  }
};

namespace detail {
inline WakeCost measure_wake_cost() {
  using clk = std::chrono::steady_clock;
  WakeCost c;
  {
    constexpr int kRelax = 4096;
    const auto t0 = clk::now();
    for (int i = 0; i < kRelax; ++i) cpu_relax();
    c.relax_ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count() / kRelax;
  }
  // The sleeper waits on `turn` for an odd value, stamps when it runs, and answers with
  // the next even one. The notifier sleeps 200 us first, so the sleeper is in the futex.
  std::atomic<std::uint32_t> turn{0};
  std::atomic<std::int64_t> woke_at{0};
  constexpr std::uint32_t kSamples = 16;
  std::thread sleeper([&] {
    for (std::uint32_t k = 0; k < kSamples; ++k) {
      const std::uint32_t want = 2 * k + 1;
      std::uint32_t v;
      while ((v = turn.load(std::memory_order_acquire)) != want) turn.wait(v, std::memory_order_acquire);
      woke_at.store(clk::now().time_since_epoch().count(), std::memory_order_relaxed);
      turn.store(want + 1, std::memory_order_release);  // pairs with the notifier's acquire
      turn.notify_one();
    }
  });
  std::vector<std::int64_t> samples;
  samples.reserve(kSamples);
  for (std::uint32_t k = 0; k < kSamples; ++k) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    const std::int64_t sent = clk::now().time_since_epoch().count();
    turn.store(2 * k + 1, std::memory_order_release);  // pairs with the sleeper's acquire
    turn.notify_one();
    std::uint32_t v;
    while ((v = turn.load(std::memory_order_acquire)) != 2 * k + 2) turn.wait(v, std::memory_order_acquire);
    samples.push_back(woke_at.load(std::memory_order_relaxed) - sent);
  }
  sleeper.join();
  std::sort(samples.begin(), samples.end());
  const std::int64_t median = samples[samples.size() / 2];
  c.wake_ns = static_cast<std::uint64_t>(median > 0 ? median : 1);
  return c;
}
}  // namespace detail

/// This machine's wake-up cost (measured on the first call; see the header).
[[nodiscard]] inline const WakeCost& wake_cost() {
  static const WakeCost c = detail::measure_wake_cost();
  return c;
}

}  // namespace hft
