// allocation_p99: what one allocation per message does to the tail.
//
// The same pipeline runs twice: a producer thread publishes a message per event into a
// Disruptor at a fixed rate; the consumer thread reads it, frees it and records the
// publish -> consume latency in a LatencyHistogram.
//   run 1 "malloc":  every message is `new`-ed, with the classic hot-path allocations
//                    (a std::string copy and a std::vector that grows field by field),
//                    and `delete`-d on the consumer thread (a cross-thread free).
//   run 2 "pooled":  messages come from a ReusePool with fixed-capacity fields and go back
//                    through the pool's lock-free return stack; nothing is allocated
//                    after warm-up.
// Flags: --messages N (default 300,000), --rate-per-sec R (default 500,000).
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "hft/core/clock.hpp"
#include "hft/disruptor/disruptor.hpp"
#include "hft/memory/reuse_pool.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace {

constexpr std::size_t kMaxFields = 32;

struct HeapMessage {  // what allocation-happy code looks like
  std::string symbol;
  std::vector<std::int64_t> fields;
};
struct PooledMessage {  // the same data, fixed capacity, no heap
  std::array<char, 16> symbol{};
  std::array<std::int64_t, kMaxFields> fields{};
  std::size_t n_fields = 0;
};

struct Event {
  void* msg = nullptr;
  std::uint64_t published_ticks = 0;
};

struct Result {
  hft::LatencyHistogram latency{{.highest_trackable = 10'000'000'000ULL}};
  std::uint64_t checksum = 0;
};

template <bool Pooled>
struct Consumer {
  const hft::TscClock* clock;
  hft::ReusePool<PooledMessage>* pool;
  Result* result;
  void on_event(Event& e, std::int64_t, bool) {
    if constexpr (Pooled) {
      auto* m = static_cast<PooledMessage*>(e.msg);
      for (std::size_t i = 0; i < m->n_fields; ++i) result->checksum += static_cast<std::uint64_t>(m->fields[i]);
      pool->release_from_any_thread(m);
    } else {
      auto* m = static_cast<HeapMessage*>(e.msg);
      for (std::int64_t f : m->fields) result->checksum += static_cast<std::uint64_t>(f);
      delete m;
    }
    result->latency.record(clock->delta_to_ns(hft::TscClock::ticks() - e.published_ticks));
  }
};

template <bool Pooled>
Result run(std::uint64_t messages, std::uint64_t rate, const hft::TscClock& clock) {
  using namespace hft::disruptor;
  Result result;
  hft::ReusePool<PooledMessage> pool(4096);  // > ring size: every in-flight message has a slot
  Disruptor<Event, ProducerType::Single, YieldingWaitStrategy> d(1024);
  Consumer<Pooled> consumer{&clock, &pool, &result};
  d.handle_events_with(consumer);
  d.start();
  const std::uint64_t interval_ns = 1'000'000'000ULL / rate;
  const std::string symbol = "AAPL.NASDAQ.XNMS";  // long enough to defeat the small-string buffer
  std::uint64_t next_send = clock.now_ns();
  for (std::uint64_t i = 0; i < messages; ++i) {
    while (clock.now_ns() < next_send) {
    }
    next_send += interval_ns;
    const std::size_t n_fields = 1 + i % kMaxFields;
    void* msg;
    if constexpr (Pooled) {
      PooledMessage* m = pool.create();  // the consumer returns it via the return stack
      std::memcpy(m->symbol.data(), symbol.data(), 16);
      for (std::size_t f = 0; f < n_fields; ++f) m->fields[f] = static_cast<std::int64_t>(i + f);
      m->n_fields = n_fields;
      msg = m;
    } else {
      auto* m = new HeapMessage{symbol, {}};
      for (std::size_t f = 0; f < n_fields; ++f) m->fields.push_back(static_cast<std::int64_t>(i + f));
      msg = m;
    }
    d.ring_buffer().publish_event([&](Event& e, std::int64_t) {
      e.msg = msg;
      e.published_ticks = hft::TscClock::ticks();
    });
  }
  d.shutdown();
  return result;
}

}  // namespace

int main(int argc, char** argv) try {
  std::uint64_t messages = 300'000, rate = 500'000;
  hft::cli::Parser cli("allocation_p99", "[options]",
                       "The same Disruptor pipeline with one heap allocation per message and with pooled\n"
                       "messages, at a fixed rate: the publish -> consume latency percentiles of each.");
  cli.integer("--messages", messages, 10, std::uint64_t{1} << 36, "messages per run")
      .integer("--rate-per-sec", rate, 1, 100'000'000, "the producer's fixed rate");
  cli.parse(argc, argv);
  const hft::TscClock clock;
  std::printf("allocation_p99: %llu messages at %llu/s through a Disruptor (producer -> consumer)\n",
              static_cast<unsigned long long>(messages), static_cast<unsigned long long>(rate));
  run<false>(messages / 10, rate, clock);  // warm both paths up (page faults, pool threading)
  run<true>(messages / 10, rate, clock);
  const Result heap = run<false>(messages, rate, clock);
  const Result pooled = run<true>(messages, rate, clock);
  const double ps[] = {50, 99, 99.9, 99.99};
  std::uint64_t h[4], p[4];
  heap.latency.percentiles(ps, h);
  pooled.latency.percentiles(ps, p);
  std::printf("\n%-34s %10s %10s %10s %10s %12s\n", "publish -> consume latency (ns)", "p50", "p99", "p99.9", "p99.99",
              "max");
  std::printf("%-34s %10llu %10llu %10llu %10llu %12llu\n", "malloc: new/delete + string + vector",
              static_cast<unsigned long long>(h[0]), static_cast<unsigned long long>(h[1]),
              static_cast<unsigned long long>(h[2]), static_cast<unsigned long long>(h[3]),
              static_cast<unsigned long long>(heap.latency.max()));
  std::printf("%-34s %10llu %10llu %10llu %10llu %12llu\n", "pooled: ReusePool, fixed fields",
              static_cast<unsigned long long>(p[0]), static_cast<unsigned long long>(p[1]),
              static_cast<unsigned long long>(p[2]), static_cast<unsigned long long>(p[3]),
              static_cast<unsigned long long>(pooled.latency.max()));
  const bool ok =
      heap.checksum == pooled.checksum && heap.latency.count() == messages && pooled.latency.count() == messages;
  std::printf("\n%s (checksums %s)\n", ok ? "both runs delivered every message" : "MISMATCH",
              heap.checksum == pooled.checksum ? "equal" : "differ");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  return hft::cli::report_fatal("allocation_p99", e);
}
