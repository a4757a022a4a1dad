// bench_disruptor: the hft Disruptor next to hft::SpscQueue / boost::lockfree::spsc_queue
// (1P1C), hft::MpscQueue / moodycamel::ConcurrentQueue (2P1C), a 3-stage pipeline and the
// diamond, and a ping-pong round trip through two rings against the atomic floor.
// See docs/disruptor.md.
#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/cpu.hpp"
#include "hft/disruptor/disruptor.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "hft/queue/spsc_queue.hpp"
#include "moodycamel.hpp"
#include "pingpong_floor.hpp"

namespace {

using namespace hft::disruptor;
using hft::bench::Metrics;
using clk = std::chrono::steady_clock;
constexpr std::size_t kRing = 8192;

struct ValueEvent {
  std::uint64_t value = 0;
};

double per_ms(std::uint64_t n, clk::time_point t0, clk::time_point t1) {
  return static_cast<double>(n) / std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// ---- 1P1C --------------------------------------------------------------------------------

struct SumHandler {
  std::uint64_t sum = 0;
  void on_event(ValueEvent& e, std::int64_t, bool) { sum += e.value; }
};
// Batch-aware: publishes its running total to the outside world once per batch instead
// of once per event (the pattern end_of_batch exists for).
struct BatchAwareHandler {
  std::uint64_t sum = 0;
  std::atomic<std::uint64_t> visible_sum{0};
  void on_event(ValueEvent& e, std::int64_t, bool end_of_batch) {
    sum += e.value;
    if (end_of_batch) visible_sum.store(sum, std::memory_order_release);
  }
};

template <class Handler>
Metrics disruptor_1p1c(const hft::bench::Options& o, std::uint64_t n, std::int64_t publish_batch) {
  Disruptor<ValueEvent, ProducerType::Single, BusySpinWaitStrategy, BusySpinProducerWait> d(kRing);
  Handler h;
  d.handle_events_with(h);
  d.start({o.cpus[1]});
  hft::bench::pin_this_thread(o.cpus[0]);
  auto& rb = d.ring_buffer();
  const auto t0 = clk::now();
  if (publish_batch == 1) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::int64_t s = rb.next();
      rb[s].value = i;
      rb.publish(s);
    }
  } else {
    for (std::uint64_t i = 0; i < n;) {
      const std::int64_t k = std::min<std::int64_t>(publish_batch, static_cast<std::int64_t>(n - i));
      const std::int64_t hi = rb.next(k);
      const std::int64_t lo = hi - k + 1;
      for (std::int64_t s = lo; s <= hi; ++s) rb[s].value = i + static_cast<std::uint64_t>(s - lo);
      rb.publish(lo, hi);
      i += static_cast<std::uint64_t>(k);
    }
  }
  d.shutdown();
  const auto t1 = clk::now();
  if (h.sum != n * (n - 1) / 2) throw std::logic_error("disruptor 1p1c: lost events");
  return {{"", per_ms(n, t0, t1)}};
}

template <class Push, class Pop>
Metrics queue_1p1c(const hft::bench::Options& o, std::uint64_t n, Push push, Pop pop_some) {
  std::uint64_t sum = 0;
  std::thread consumer([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    std::uint64_t got = 0;
    while (got < n) {
      const std::uint64_t k = pop_some(sum);
      if (k == 0) hft::cpu_relax();
      got += k;
    }
  });
  hft::bench::pin_this_thread(o.cpus[0]);
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    while (!push(i)) hft::cpu_relax();
  }
  consumer.join();
  const auto t1 = clk::now();
  if (sum != n * (n - 1) / 2) throw std::logic_error("queue 1p1c: lost items");
  return {{"", per_ms(n, t0, t1)}};
}

// ---- 2P1C (3 threads on 2 cores) --------------------------------------------------------

Metrics disruptor_2p1c(std::uint64_t per_producer, std::int64_t batch) {
  Disruptor<ValueEvent, ProducerType::Multi, YieldingWaitStrategy, YieldingProducerWait> d(kRing);
  SumHandler h;
  d.handle_events_with(h);
  d.start();
  auto& rb = d.ring_buffer();
  std::atomic<bool> go{false};
  std::vector<std::thread> ps;
  for (std::uint64_t p = 0; p < 2; ++p) {
    ps.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const std::uint64_t base = p * per_producer;
      for (std::uint64_t i = 0; i < per_producer;) {
        const std::int64_t k = std::min<std::int64_t>(batch, static_cast<std::int64_t>(per_producer - i));
        const std::int64_t hi = rb.next(k);
        const std::int64_t lo = hi - k + 1;
        for (std::int64_t s = lo; s <= hi; ++s) rb[s].value = base + i + static_cast<std::uint64_t>(s - lo);
        rb.publish(lo, hi);
        i += static_cast<std::uint64_t>(k);
      }
    });
  }
  const auto t0 = clk::now();
  go.store(true, std::memory_order_release);
  for (auto& t : ps) t.join();
  d.shutdown();
  const auto t1 = clk::now();
  const std::uint64_t total = 2 * per_producer;
  if (h.sum != total * (total - 1) / 2) throw std::logic_error("disruptor 2p1c: lost events");
  return {{"", per_ms(total, t0, t1)}};
}

// ---- pipeline and diamond (4 threads on 2 cores) ----------------------------------------

struct PassHandler {
  std::uint64_t sum = 0;
  void on_event(ValueEvent& e, std::int64_t, bool) { sum += e.value; }
};

template <class W>
Metrics graph_throughput(std::uint64_t n, bool diamond) {
  Disruptor<ValueEvent, ProducerType::Single, W, YieldingProducerWait> d(kRing);
  PassHandler a, b, c;
  if (diamond) {
    d.handle_events_with(a, c);
    d.after(a).handle_events_with(b);
  } else {
    d.handle_events_with(a).then(b).then(c);
  }
  d.start();
  auto& rb = d.ring_buffer();
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n;) {
    const std::int64_t k = std::min<std::int64_t>(16, static_cast<std::int64_t>(n - i));
    const std::int64_t hi = rb.next(k);
    for (std::int64_t s = hi - k + 1; s <= hi; ++s) rb[s].value = static_cast<std::uint64_t>(s);
    rb.publish(hi - k + 1, hi);
    i += static_cast<std::uint64_t>(k);
  }
  d.shutdown();
  const auto t1 = clk::now();
  const std::uint64_t expect = n * (n - 1) / 2;
  if (a.sum != expect || b.sum != expect || c.sum != expect) throw std::logic_error("graph: lost events");
  return {{"", per_ms(n, t0, t1)}};
}

// ---- ping-pong through two rings ---------------------------------------------------------

Metrics disruptor_round_trip(const hft::bench::Options& o, std::size_t n) {
  using Ring = RingBuffer<ValueEvent, ProducerType::Single, BusySpinWaitStrategy, BusySpinProducerWait>;
  auto there = std::make_unique<Ring>(64);
  auto back = std::make_unique<Ring>(64);
  EventPoller<Ring> there_poller(*there);
  EventPoller<Ring> back_poller(*back);
  there->add_gating_sequences({&there_poller.sequence()});
  back->add_gating_sequences({&back_poller.sequence()});
  hft::LatencyHistogram h({.highest_trackable = 1'000'000'000});
  std::thread ponger([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    std::size_t handled = 0;
    while (handled < n) {
      (void)there_poller.poll([&](ValueEvent& e, std::int64_t, bool) {
        const std::int64_t s = back->next();
        (*back)[s].value = e.value;
        back->publish(s);
        ++handled;
        return true;
      });
    }
  });
  std::thread pinger([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    const double ns_per_tick = hft::bench::TickTimer::ns_per_tick();
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t t0 = hft::bench::TickTimer::now();
      const std::int64_t s = there->next();
      (*there)[s].value = i;
      there->publish(s);
      bool got = false;
      while (!got) {
        (void)back_poller.poll([&](ValueEvent& e, std::int64_t, bool) {
          if (e.value != i) throw std::logic_error("round trip: wrong value");
          got = true;
          return true;
        });
        if (!got) hft::cpu_relax();
      }
      h.record(static_cast<std::uint64_t>(static_cast<double>(hft::bench::TickTimer::now() - t0) * ns_per_tick));
    }
  });
  pinger.join();
  ponger.join();
  const double ps[] = {50, 99, 99.9};
  std::uint64_t out[3];
  h.percentiles(ps, out);
  return {{"p50", static_cast<double>(out[0])},
          {"p99", static_cast<double>(out[1])},
          {"p99.9", static_cast<double>(out[2])}};
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_disruptor", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    const std::uint64_t n = opts.quick ? 200'000 : 4'000'000;
    const std::uint64_t mp_n = opts.quick ? 50'000 : 1'000'000;
    const std::uint64_t graph_n = opts.quick ? 100'000 : 1'000'000;
    const std::size_t rtt_n = opts.quick ? 20'000 : 200'000;
    suite.note("ring/queue capacity " + std::to_string(kRing) + ", uint64 payloads");
    suite.note("1P1C and round trip: producer on CPU " + std::to_string(opts.cpus[0]) + ", consumer on CPU " +
               std::to_string(opts.cpus[1]) + ", busy-spin waits (2 busy threads on 2 cores)");
    suite.note("2P1C: 3 threads on 2 cores, unpinned, yielding waits for every implementation");
    suite.note(
        "pipeline/diamond: producer + 3 consumers = 4 threads on 2 cores (oversubscribed), "
        "yielding or blocking waits; producer publishes in batches of 16");
    suite.note("moodycamel::ConcurrentQueue uses enqueue() with producer tokens (unbounded; see bench_queues)");

    suite.add_case("1p1c_throughput", {{"", "ops/ms", true}},
                   {
                       {"Disruptor (per-event publish)", [&] { return disruptor_1p1c<SumHandler>(opts, n, 1); }},
                       {"Disruptor (batch 32 + batch-aware handler)",
                        [&] { return disruptor_1p1c<BatchAwareHandler>(opts, n, 32); }},
                       {"hft::SpscQueue",
                        [&] {
                          auto q = std::make_unique<hft::SpscQueue<std::uint64_t>>(kRing);
                          return queue_1p1c(
                              opts, n, [&](std::uint64_t v) { return q->try_push(v); },
                              [&](std::uint64_t& sum) -> std::uint64_t {
                                return q->consume([&](std::uint64_t v) { sum += v; }, 256);
                              });
                        }},
                       {"boost::lockfree::spsc_queue",
                        [&] {
                          auto q = std::make_unique<boost::lockfree::spsc_queue<std::uint64_t>>(kRing);
                          return queue_1p1c(
                              opts, n, [&](std::uint64_t v) { return q->push(v); },
                              [&](std::uint64_t& sum) -> std::uint64_t {
                                std::uint64_t v;
                                if (!q->pop(v)) return 0;
                                sum += v;
                                return 1;
                              });
                        }},
                   });
    suite.add_case("2p1c_throughput", {{"", "ops/ms", true}},
                   {
                       {"Disruptor (multi-producer)", [&] { return disruptor_2p1c(mp_n, 1); }},
                       {"Disruptor (multi-producer, claim 32)", [&] { return disruptor_2p1c(mp_n, 32); }},
                       {"hft::MpscQueue",
                        [&] {
                          auto q = std::make_unique<hft::MpscQueue<std::uint64_t>>(kRing);
                          return hft::bench::many_to_one_throughput(
                              mp_n, 2, [&] { return [&](std::uint64_t v) { return q->try_push(v); }; },
                              [&](std::uint64_t& sum) -> std::uint64_t {
                                return q->consume([&](std::uint64_t v) { sum += v; }, 256);
                              });
                        }},
                       {"moodycamel::ConcurrentQueue (tokens)",
                        [&] {
                          auto q = std::make_unique<moodycamel::ConcurrentQueue<std::uint64_t>>(kRing, 2, 0);
                          moodycamel::ConsumerToken ctok(*q);
                          return hft::bench::many_to_one_throughput(
                              mp_n, 2,
                              [&] {
                                return [&q, tok = std::make_shared<moodycamel::ProducerToken>(*q)](std::uint64_t v) {
                                  return q->enqueue(*tok, v);
                                };
                              },
                              [&](std::uint64_t& sum) -> std::uint64_t {
                                std::uint64_t buf[256];
                                const std::size_t k = q->try_dequeue_bulk(ctok, buf, 256);
                                for (std::size_t i = 0; i < k; ++i) sum += buf[i];
                                return k;
                              });
                        }},
                   });
    suite.add_case("pipeline_3stage", {{"", "ops/ms", true}},
                   {
                       {"Disruptor yielding", [&] { return graph_throughput<YieldingWaitStrategy>(graph_n, false); }},
                       {"Disruptor blocking", [&] { return graph_throughput<BlockingWaitStrategy>(graph_n, false); }},
                   });
    suite.add_case("diamond", {{"", "ops/ms", true}},
                   {
                       {"Disruptor yielding", [&] { return graph_throughput<YieldingWaitStrategy>(graph_n, true); }},
                       {"Disruptor blocking", [&] { return graph_throughput<BlockingWaitStrategy>(graph_n, true); }},
                   });
    suite.add_case("round_trip", {{"p50", "ns", false}, {"p99", "ns", false}, {"p99.9", "ns", false}},
                   {
                       {"atomic ping-pong (floor)", [&] { return hft::bench::atomic_round_trip(opts, rtt_n); }},
                       {"Disruptor (2 rings, EventPoller)", [&] { return disruptor_round_trip(opts, rtt_n); }},
                   });

    suite.add_ratio("1p1c_throughput", "Disruptor (per-event publish)", "boost::lockfree::spsc_queue",
                    hft::bench::Target::at_least(1.3), "1P1C Disruptor (per-event) / boost spsc_queue");
    suite.add_ratio("1p1c_throughput", "Disruptor (batch 32 + batch-aware handler)", "boost::lockfree::spsc_queue",
                    hft::bench::Target::at_least(1.3), "1P1C Disruptor (batched) / boost spsc_queue");
    suite.add_ratio("2p1c_throughput", "Disruptor (multi-producer)", "moodycamel::ConcurrentQueue (tokens)",
                    hft::bench::Target::at_least(1.5), "2P1C Disruptor / moodycamel (tokens)");
    suite.add_ratio("2p1c_throughput", "Disruptor (multi-producer, claim 32)", "moodycamel::ConcurrentQueue (tokens)",
                    hft::bench::Target::at_least(1.5), "2P1C Disruptor claim-32 / moodycamel (tokens)");
    suite.add_ratio("round_trip/p50", "Disruptor (2 rings, EventPoller)", "atomic ping-pong (floor)",
                    hft::bench::Target::at_most(1.3), "ping-pong p50 Disruptor / atomic floor");
    suite.run_and_report();
  });
}
