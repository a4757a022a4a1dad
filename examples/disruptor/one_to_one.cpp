// one_to_one: 1 producer publishes 1M events (a 64-bit id each) into a Disruptor; 1
// consumer counts and sums them. Prints count, checksum, elapsed time and events/s.
// Flags: --events N (default 1,000,000).
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "cli.hpp"
#include "hft/disruptor/disruptor.hpp"

namespace {
struct IdEvent {
  std::uint64_t id = 0;
};
struct CountingHandler {
  std::uint64_t count = 0, sum = 0;
  void on_event(IdEvent& e, std::int64_t, bool) {
    ++count;
    sum += e.id;
  }
};
}  // namespace

int main(int argc, char** argv) try {
  std::uint64_t n = 1'000'000;
  hft::cli::Parser cli("one_to_one", "[options]",
                       "One producer publishes N events into a Disruptor; one consumer counts and sums them.");
  cli.integer("--events", n, 1, std::uint64_t{1} << 40, "events to publish");
  cli.parse(argc, argv);
  using namespace hft::disruptor;
  // Yielding: 2 threads on a 2-core machine, low latency without starving anyone.
  Disruptor<IdEvent, ProducerType::Single, YieldingWaitStrategy> d(1024);
  CountingHandler handler;
  d.handle_events_with(handler);
  d.start();
  const auto t0 = std::chrono::steady_clock::now();
  auto& rb = d.ring_buffer();
  for (std::uint64_t i = 0; i < n; ++i) {
    rb.publish_event([](IdEvent& e, std::int64_t, std::uint64_t id) { e.id = id; }, i);
  }
  d.shutdown();  // returns once the consumer has seen every published event
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t expected = n * (n - 1) / 2;
  std::printf("one_to_one: count=%llu checksum=%llu (expected %llu) elapsed=%.3f ms  %.1f M events/s  %s\n",
              static_cast<unsigned long long>(handler.count), static_cast<unsigned long long>(handler.sum),
              static_cast<unsigned long long>(expected), s * 1e3, static_cast<double>(n) / s / 1e6,
              handler.count == n && handler.sum == expected ? "OK" : "MISMATCH");
  return handler.count == n && handler.sum == expected ? 0 : 1;
} catch (const std::exception& e) {
  return hft::cli::report_fatal("one_to_one", e);
}
