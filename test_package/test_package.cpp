// Conan test_package: two producers, one consumer, every item once.
#include <hft/hft.hpp>

#include <cstdint>
#include <cstdio>
#include <thread>

int main() {
  hft::MpscQueue<std::uint32_t> q(256);
  constexpr std::uint32_t per_producer = 10'000;
  auto produce = [&](std::uint32_t base) {
    for (std::uint32_t i = 0; i < per_producer; ++i) q.push(base + i);
  };
  std::thread a(produce, 0u);
  std::thread b(produce, per_producer);
  std::uint64_t sum = 0;
  std::uint32_t received = 0;
  while (received < 2 * per_producer) {
    received += static_cast<std::uint32_t>(q.consume([&](std::uint32_t v) { sum += v; }));
  }
  a.join();
  b.join();
  const std::uint64_t n = 2 * per_producer;
  const bool ok = sum == n * (n - 1) / 2;
  std::printf("hft test_package: %u items, %s\n", received, ok ? "all once" : "MISMATCH");
  return ok ? 0 : 1;
}
