// bench_queues: hft::SpscQueue, hft::MpscQueue and hft::MpmcQueue next to Boost.Lockfree,
// moodycamel and a mutex baseline, plus the physical floor of a cross-core round trip (a raw
// std::atomic ping-pong). See docs/queues.md for how to read the output.
#include <readerwriterqueue/readerwriterqueue.h>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"
#include "hft/queue/mpmc_queue.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "hft/queue/spsc_queue.hpp"
#include "moodycamel.hpp"
#include "pingpong_floor.hpp"

namespace {

using hft::bench::Metrics;
using clk = std::chrono::steady_clock;
constexpr std::size_t kCapacity = 8192;

// ---- uniform adapters: push(v) -> bool, pop(v&) -> bool --------------------------------

struct HftSpsc {
  hft::SpscQueue<std::uint64_t> q{kCapacity};
  bool push(std::uint64_t v) { return q.try_push(v); }
  bool pop(std::uint64_t& v) { return q.try_pop(v); }
};
struct BoostSpsc {
  boost::lockfree::spsc_queue<std::uint64_t> q{kCapacity};
  bool push(std::uint64_t v) { return q.push(v); }
  bool pop(std::uint64_t& v) { return q.pop(v); }
};
struct MoodyRwq {
  moodycamel::ReaderWriterQueue<std::uint64_t> q{kCapacity};
  bool push(std::uint64_t v) { return q.try_enqueue(v); }  // try_: never allocates
  bool pop(std::uint64_t& v) { return q.try_dequeue(v); }
};
struct MutexDeque {
  std::mutex m;
  std::deque<std::uint64_t> d;
  bool push(std::uint64_t v) {
    std::lock_guard lock(m);
    if (d.size() >= kCapacity) return false;
    d.push_back(v);
    return true;
  }
  bool pop(std::uint64_t& v) {
    std::lock_guard lock(m);
    if (d.empty()) return false;
    v = d.front();
    d.pop_front();
    return true;
  }
};

// ---- SPSC throughput -------------------------------------------------------------------

// Consumer drains with Pop(q, sum) -> items taken (0 when empty).
template <class Q, class Pop>
Metrics spsc_throughput(const hft::bench::Options& o, std::uint64_t n, Pop pop_some) {
  auto q = std::make_unique<Q>();
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  clk::time_point t0, t1;
  std::uint64_t sum = 0;
  std::thread consumer([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) {
    }
    std::uint64_t got = 0;
    while (got < n) {
      const std::uint64_t k = pop_some(*q, sum);
      if (k == 0) hft::cpu_relax();
      got += k;
    }
    t1 = clk::now();
  });
  std::thread producer([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    ready.fetch_add(1);
    while (ready.load() != 2) {
    }
    t0 = clk::now();
    go.store(true, std::memory_order_release);
    for (std::uint64_t i = 0; i < n; ++i) {
      while (!q->push(i)) hft::cpu_relax();
    }
  });
  producer.join();
  consumer.join();
  if (sum != n * (n - 1) / 2) throw std::logic_error("spsc throughput: lost or duplicated items");
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  return {{"", static_cast<double>(n) / ms}};
}

template <class Q>
Metrics spsc_throughput_single(const hft::bench::Options& o, std::uint64_t n) {
  return spsc_throughput<Q>(o, n, [](Q& q, std::uint64_t& sum) -> std::uint64_t {
    std::uint64_t v;
    if (!q.pop(v)) return 0;
    sum += v;
    return 1;
  });
}

// ---- SPSC round trip -------------------------------------------------------------------

// Two queues: the pinger sends i on one and waits for i back on the other. Every round
// trip is timed with the TSC; reports p50/p99/p99.9 over `n` round trips.
template <class Q>
Metrics spsc_round_trip(const hft::bench::Options& o, std::size_t n) {
  auto there = std::make_unique<Q>();
  auto back = std::make_unique<Q>();
  std::vector<std::uint64_t> ticks(n);
  std::thread ponger([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t v;
      while (!there->pop(v)) hft::cpu_relax();
      while (!back->push(v)) hft::cpu_relax();
    }
  });
  std::thread pinger([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t start = hft::bench::TickTimer::now();
      while (!there->push(i)) hft::cpu_relax();
      std::uint64_t v;
      while (!back->pop(v)) hft::cpu_relax();
      ticks[i] = hft::bench::TickTimer::now() - start;
      if (v != i) throw std::logic_error("round trip: wrong item");
    }
  });
  pinger.join();
  ponger.join();
  return hft::bench::round_trip_metrics(ticks);
}

// ---- MPSC throughput -------------------------------------------------------------------

struct HftMpsc {
  hft::MpscQueue<std::uint64_t> q{kCapacity};
  struct Producer {
    HftMpsc& self;
    bool push(std::uint64_t v) { return self.q.try_push(v); }
  };
  Producer producer() { return {*this}; }
  std::size_t pop_some(std::uint64_t& sum) {
    return q.consume([&](std::uint64_t v) { sum += v; }, 256);
  }
};
struct BoostMpmc {
  // fixed_sized via capacity<>: bounded_push never allocates, like ours.
  boost::lockfree::queue<std::uint64_t, boost::lockfree::capacity<kCapacity - 1>> q;
  struct Producer {
    BoostMpmc& self;
    bool push(std::uint64_t v) { return self.q.bounded_push(v); }
  };
  Producer producer() { return {*this}; }
  std::size_t pop_some(std::uint64_t& sum) {
    std::uint64_t v;
    if (!q.pop(v)) return 0;
    sum += v;
    return 1;
  }
};
// moodycamel with its fastest documented path: a ProducerToken per producer thread and
// bulk dequeue with a ConsumerToken. It must use enqueue(), which allocates blocks on
// demand (then recycles them): with try_enqueue a token producer whose block index is
// full can fail forever on an empty queue (seen here: a livelock), so moodycamel cannot
// serve as a bounded queue. It therefore runs unbounded here, which only helps it.
struct MoodyConcurrentTokens {
  moodycamel::ConcurrentQueue<std::uint64_t> q{kCapacity, 2, 0};
  moodycamel::ConsumerToken ctok{q};
  struct Producer {
    MoodyConcurrentTokens& self;
    moodycamel::ProducerToken tok{self.q};
    bool push(std::uint64_t v) { return self.q.enqueue(tok, v); }
  };
  Producer producer() { return Producer{*this}; }
  std::size_t pop_some(std::uint64_t& sum) {
    std::uint64_t buf[256];
    const std::size_t k = q.try_dequeue_bulk(ctok, buf, 256);
    for (std::size_t i = 0; i < k; ++i) sum += buf[i];
    return k;
  }
};
// moodycamel as most code calls it: no tokens (implicit per-thread producers), enqueue().
struct MoodyConcurrentPlain {
  moodycamel::ConcurrentQueue<std::uint64_t> q{kCapacity, 0, 2};
  struct Producer {
    MoodyConcurrentPlain& self;
    bool push(std::uint64_t v) { return self.q.enqueue(v); }
  };
  Producer producer() { return {*this}; }
  std::size_t pop_some(std::uint64_t& sum) {
    std::uint64_t v;
    if (!q.try_dequeue(v)) return 0;
    sum += v;
    return 1;
  }
};
struct MutexMpsc {
  MutexDeque d;
  struct Producer {
    MutexMpsc& self;
    bool push(std::uint64_t v) { return self.d.push(v); }
  };
  Producer producer() { return {*this}; }
  std::size_t pop_some(std::uint64_t& sum) {
    std::uint64_t v;
    if (!d.pop(v)) return 0;
    sum += v;
    return 1;
  }
};

// 3 threads on 2 cores: every implementation waits with the harness's SpinThenYield.
template <class Q>
Metrics mpsc_throughput(std::uint64_t per_producer, int producers) {
  auto q = std::make_unique<Q>();
  return hft::bench::many_to_one_throughput(
      per_producer, producers,
      [&q] { return [prod = q->producer()](std::uint64_t v) mutable { return prod.push(v); }; },
      [&q](std::uint64_t& sum) -> std::uint64_t { return q->pop_some(sum); });
}

// ---- MPMC throughput -------------------------------------------------------------------

// Each adapter hands out one push and one pop callable per thread: pop(sum) -> items taken.
struct HftMpmc {
  hft::MpmcQueue<std::uint64_t> q{kCapacity};
  auto make_push() {
    return [this](std::uint64_t v) { return q.try_push(v); };
  }
  auto make_pop() {
    return [this](std::uint64_t& sum) -> std::uint64_t {
      std::uint64_t v;
      if (!q.try_pop(v)) return 0;
      sum += v;
      return 1;
    };
  }
};
struct HftMpmcBatch : HftMpmc {
  auto make_pop() {
    return [this](std::uint64_t& sum) -> std::uint64_t {
      return q.consume([&](std::uint64_t v) noexcept { sum += v; }, 64);
    };
  }
};
struct BoostMpmcQueue {
  boost::lockfree::queue<std::uint64_t, boost::lockfree::capacity<kCapacity - 1>> q;
  auto make_push() {
    return [this](std::uint64_t v) { return q.bounded_push(v); };
  }
  auto make_pop() {
    return [this](std::uint64_t& sum) -> std::uint64_t {
      std::uint64_t v;
      if (!q.pop(v)) return 0;
      sum += v;
      return 1;
    };
  }
};
// Tokens on both sides, enqueue() (unbounded: see MoodyConcurrentTokens above).
struct MoodyMpmcTokens {
  moodycamel::ConcurrentQueue<std::uint64_t> q{kCapacity, 2, 0};
  auto make_push() {
    return [this, tok = std::make_shared<moodycamel::ProducerToken>(q)](std::uint64_t v) { return q.enqueue(*tok, v); };
  }
  auto make_pop() {
    return [this, tok = std::make_shared<moodycamel::ConsumerToken>(q)](std::uint64_t& sum) -> std::uint64_t {
      std::uint64_t buf[64];
      const std::size_t k = q.try_dequeue_bulk(*tok, buf, 64);
      for (std::size_t i = 0; i < k; ++i) sum += buf[i];
      return k;
    };
  }
};
struct MutexMpmc {
  MutexDeque d;
  auto make_push() {
    return [this](std::uint64_t v) { return d.push(v); };
  }
  auto make_pop() {
    return [this](std::uint64_t& sum) -> std::uint64_t {
      std::uint64_t v;
      if (!d.pop(v)) return 0;
      sum += v;
      return 1;
    };
  }
};

// 4 threads on 2 cores, like the MPSC case: every implementation waits identically.
template <class Q>
Metrics mpmc_throughput(std::uint64_t per_producer, int producers, int consumers) {
  auto q = std::make_unique<Q>();
  return hft::bench::many_to_many_throughput(
      per_producer, producers, consumers, [&q] { return q->make_push(); }, [&q] { return q->make_pop(); });
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_queues", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    const std::uint64_t spsc_n = opts.quick ? 200'000 : 4'000'000;
    const std::uint64_t spsc_mutex_n = opts.quick ? 50'000 : 1'000'000;
    const std::size_t rtt_n = opts.quick ? 20'000 : 200'000;
    const std::uint64_t mpsc_n = opts.quick ? 50'000 : 1'000'000;
    const std::uint64_t mpsc_mutex_n = opts.quick ? 20'000 : 300'000;
    const std::uint64_t mpmc_n = opts.quick ? 50'000 : 500'000;
    const std::uint64_t mpmc_mutex_n = opts.quick ? 20'000 : 200'000;

    suite.note("capacity " + std::to_string(kCapacity) + " for every queue; uint64 items");
    suite.note("SPSC cases: producer pinned to CPU " + std::to_string(opts.cpus[0]) + ", consumer to CPU " +
               std::to_string(opts.cpus[1]) + "; waits spin with cpu_relax (2 busy threads on 2 cores)");
    suite.note("MPSC case: 2 producers + 1 consumer = 3 threads on " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) +
               " CPUs, unpinned; waits spin 64x then yield, identically for every impl. "
               "Oversubscribed: scheduler time-slicing is part of what is measured.");
    suite.note(
        "MPMC case: 2 producers + 2 consumers = 4 threads, unpinned, the same waits: oversubscribed "
        "on a 2-CPU machine. rigtorp::MPMCQueue (the design anchor) has no Debian package.");

    suite.note(
        "moodycamel::ConcurrentQueue uses enqueue() (unbounded, allocates blocks on demand): "
        "its try_enqueue is not a usable bounded push (see bench_queues.cpp)");
    suite.add_case(
        "spsc_throughput", {{"", "ops/ms", true}},
        {
            {"hft::SpscQueue", [&] { return spsc_throughput_single<HftSpsc>(opts, spsc_n); }},
            {"hft::SpscQueue consume(batch)",
             [&] {
               return spsc_throughput<HftSpsc>(opts, spsc_n, [](HftSpsc& q, std::uint64_t& sum) {
                 return static_cast<std::uint64_t>(q.q.consume([&](std::uint64_t v) { sum += v; }, 256));
               });
             }},
            {"boost::lockfree::spsc_queue", [&] { return spsc_throughput_single<BoostSpsc>(opts, spsc_n); }},
            {"moodycamel::ReaderWriterQueue", [&] { return spsc_throughput_single<MoodyRwq>(opts, spsc_n); }},
            {"std::mutex+std::deque", [&] { return spsc_throughput_single<MutexDeque>(opts, spsc_mutex_n); }},
        });
    suite.add_case("spsc_round_trip", {{"p50", "ns", false}, {"p99", "ns", false}, {"p99.9", "ns", false}},
                   {
                       {"atomic ping-pong (floor)", [&] { return hft::bench::atomic_round_trip(opts, rtt_n); }},
                       {"hft::SpscQueue", [&] { return spsc_round_trip<HftSpsc>(opts, rtt_n); }},
                       {"boost::lockfree::spsc_queue", [&] { return spsc_round_trip<BoostSpsc>(opts, rtt_n); }},
                       {"moodycamel::ReaderWriterQueue", [&] { return spsc_round_trip<MoodyRwq>(opts, rtt_n); }},
                       {"std::mutex+std::deque", [&] { return spsc_round_trip<MutexDeque>(opts, rtt_n / 4); }},
                   });
    suite.add_case(
        "mpsc_throughput_2p1c", {{"", "ops/ms", true}},
        {
            {"hft::MpscQueue", [&] { return mpsc_throughput<HftMpsc>(mpsc_n, 2); }},
            {"boost::lockfree::queue", [&] { return mpsc_throughput<BoostMpmc>(mpsc_n, 2); }},
            {"moodycamel::ConcurrentQueue (tokens)", [&] { return mpsc_throughput<MoodyConcurrentTokens>(mpsc_n, 2); }},
            {"moodycamel::ConcurrentQueue (no tokens)",
             [&] { return mpsc_throughput<MoodyConcurrentPlain>(mpsc_n, 2); }},
            {"std::mutex+std::deque", [&] { return mpsc_throughput<MutexMpsc>(mpsc_mutex_n, 2); }},
        });
    suite.add_case(
        "mpmc_throughput_2p2c", {{"", "ops/ms", true}},
        {
            {"hft::MpmcQueue", [&] { return mpmc_throughput<HftMpmc>(mpmc_n, 2, 2); }},
            {"hft::MpmcQueue consume(batch)", [&] { return mpmc_throughput<HftMpmcBatch>(mpmc_n, 2, 2); }},
            {"boost::lockfree::queue", [&] { return mpmc_throughput<BoostMpmcQueue>(mpmc_n, 2, 2); }},
            {"moodycamel::ConcurrentQueue (tokens)", [&] { return mpmc_throughput<MoodyMpmcTokens>(mpmc_n, 2, 2); }},
            {"std::mutex+std::deque", [&] { return mpmc_throughput<MutexMpmc>(mpmc_mutex_n, 2, 2); }},
        });

    suite.add_ratio("spsc_throughput", "hft::SpscQueue", "boost::lockfree::spsc_queue",
                    hft::bench::Target::at_least(1.5), "SPSC throughput hft / boost spsc_queue");
    suite.add_ratio("spsc_throughput", "hft::SpscQueue", "moodycamel::ReaderWriterQueue",
                    hft::bench::Target::at_least(1.0), "SPSC throughput hft / moodycamel RWQ");
    suite.add_ratio("spsc_round_trip/p50", "hft::SpscQueue", "atomic ping-pong (floor)",
                    hft::bench::Target::at_most(1.2), "SPSC round-trip p50 hft / atomic floor");
    suite.add_ratio("mpsc_throughput_2p1c", "hft::MpscQueue", "boost::lockfree::queue",
                    hft::bench::Target::at_least(1.5), "MPSC throughput hft / boost::lockfree::queue");
    suite.add_ratio("mpsc_throughput_2p1c", "hft::MpscQueue", "moodycamel::ConcurrentQueue (tokens)",
                    hft::bench::Target::at_least(1.0), "MPSC throughput hft / moodycamel (tokens)");
    suite.add_ratio("mpsc_throughput_2p1c", "hft::MpscQueue", "moodycamel::ConcurrentQueue (no tokens)",
                    hft::bench::Target::at_least(1.0), "MPSC throughput hft / moodycamel (no tokens)");
    suite.add_ratio("mpmc_throughput_2p2c", "hft::MpmcQueue", "boost::lockfree::queue",
                    hft::bench::Target::at_least(1.5), "MPMC throughput hft / boost::lockfree::queue");
    suite.add_ratio("mpmc_throughput_2p2c", "hft::MpmcQueue", "std::mutex+std::deque",
                    hft::bench::Target::at_least(2.0), "MPMC throughput hft / mutex+deque");
    suite.run_and_report();
  });
}
