// diamond: consumer A validates, B enriches and depends on A, C logs independently.
//
//            +--> A (validate) --> B (enrich)
//   producer |
//            +--> C (log)
//
// Phase 1 runs at full speed; counters show B never saw an event A had not validated.
// Phase 2 slows B down: the producer stalls on backpressure (it waits in next() for B to
// free slots) instead of dropping events or growing a queue, and every event still arrives.
// Flags: --events N (default 200,000).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "cli.hpp"
#include "hft/disruptor/disruptor.hpp"

namespace {
struct Order {
  std::int64_t seq = -1;
  std::int64_t qty = 0;
  std::atomic<bool> validated{false};  // written by A, read by B
  std::int64_t notional = 0;           // written by B
};
struct Validate {  // A
  std::uint64_t count = 0, rejected = 0;
  void on_event(Order& o, std::int64_t, bool) {
    ++count;
    const bool ok = o.qty > 0;
    rejected += !ok;
    o.validated.store(ok, std::memory_order_relaxed);  // B reads it after A's sequence (release)
  }
};
struct Enrich {                         // B, after A
  std::atomic<std::uint64_t> count{0};  // single writer (B); the producer reads it for the "ahead" counter
  std::uint64_t ahead_of_a = 0, lapped = 0;
  std::atomic<int> slow_us{0};
  std::int64_t max_batch = 0;
  void on_batch_start(std::int64_t n) { max_batch = n > max_batch ? n : max_batch; }
  void on_event(Order& o, std::int64_t seq, bool) {
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    lapped += (o.seq != seq);
    // A sets validated for every positive qty; seeing false for one means B ran ahead of A.
    if (o.qty > 0 && !o.validated.load(std::memory_order_relaxed)) ++ahead_of_a;
    o.notional = o.qty * 100;
    if (const int us = slow_us.load(std::memory_order_relaxed))
      std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
};
struct Log {  // C, independent
  std::uint64_t count = 0;
  void on_event(Order&, std::int64_t, bool) { ++count; }
};
}  // namespace

int main(int argc, char** argv) try {
  std::uint64_t n = 200'000;
  hft::cli::Parser cli("diamond", "[options]",
                       "A diamond of consumers (A validates, B enriches after A, C logs); then B slowed down\nto show "
                       "the producer waiting on backpressure, losing nothing.");
  cli.integer("--events", n, 1, std::uint64_t{1} << 40, "events to publish");
  cli.parse(argc, argv);
  using namespace hft::disruptor;
  constexpr std::size_t kRing = 256;
  // 4 threads (producer + A, B, C) on 2 cores: a blocking strategy, so idle consumers sleep.
  Disruptor<Order, ProducerType::Single, BlockingWaitStrategy> d(kRing);
  Validate a;
  Enrich b;
  Log c;
  d.handle_events_with(a, c);
  d.after(a).handle_events_with(b);
  d.start();
  auto& rb = d.ring_buffer();

  auto run_phase = [&](const char* name, std::uint64_t events, std::uint64_t base) {
    std::uint64_t stalls = 0, max_ahead = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < events; ++i) {
      if (rb.remaining_capacity() == 0) ++stalls;  // next() is about to wait for B
      rb.publish_event([&](Order& o, std::int64_t seq) {
        o.seq = seq;
        o.qty = ((base + i) % 50 == 0) ? 0 : static_cast<std::int64_t>((base + i) % 1000) + 1;  // every 50th invalid
        o.validated.store(false, std::memory_order_relaxed);
      });
      const std::uint64_t ahead = static_cast<std::uint64_t>(rb.cursor() + 1) - b.count.load(std::memory_order_relaxed);
      max_ahead = ahead > max_ahead ? ahead : max_ahead;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "  %-26s %8llu events in %8.1f ms; producer found the ring full %llu times; "
        "max events ahead of B %llu (ring %zu)\n",
        name, static_cast<unsigned long long>(events), ms, static_cast<unsigned long long>(stalls),
        static_cast<unsigned long long>(max_ahead), kRing);
  };

  std::printf("diamond: A validates, B enriches after A, C logs independently\n");
  run_phase("phase 1 (full speed)", n, 0);
  b.slow_us.store(20, std::memory_order_relaxed);
  run_phase("phase 2 (B slowed 20us)", n / 20, n);
  d.shutdown();
  const std::uint64_t total = n + n / 20;
  std::printf("  A validated %llu (rejected %llu), B enriched %llu, C logged %llu of %llu published\n",
              static_cast<unsigned long long>(a.count), static_cast<unsigned long long>(a.rejected),
              static_cast<unsigned long long>(b.count.load()), static_cast<unsigned long long>(c.count),
              static_cast<unsigned long long>(total));
  std::printf("  B ran ahead of A: %llu times; B saw an overwritten slot: %llu times; largest batch B took: %lld\n",
              static_cast<unsigned long long>(b.ahead_of_a), static_cast<unsigned long long>(b.lapped),
              static_cast<long long>(b.max_batch));
  const bool ok = a.count == total && b.count.load() == total && c.count == total && b.ahead_of_a == 0 && b.lapped == 0;
  std::printf("  %s\n",
              ok ? "OK: nothing lost, no dependency violated (events are preallocated in the ring)" : "VIOLATION");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  return hft::cli::report_fatal("diamond", e);
}
