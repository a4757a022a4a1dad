#include "hft/disruptor/disruptor.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

using namespace hft::disruptor;

namespace {

struct Event {
  std::int64_t seq = -1;        // the sequence the producer wrote (detects a lapped slot)
  std::uint32_t producer = 0;
  std::uint64_t n = 0;          // per-producer counter
  std::atomic<int> stage_a{0};  // marks written by stage A, read by B (B runs after A)
  std::int64_t enriched = 0;
};

// Checks every event once, in each producer's order, and that no slot was overwritten.
struct OrderChecker {
  std::vector<std::uint64_t> next;
  std::uint64_t errors = 0, count = 0;
  explicit OrderChecker(std::size_t producers) : next(producers, 0) {}
  void on_event(Event& e, std::int64_t seq, bool) {
    if (e.seq != seq || e.producer >= next.size() || e.n != next[e.producer]) {
      ++errors;
    } else {
      ++next[e.producer];
    }
    ++count;
  }
};

template <class D>
void produce(D& d, unsigned producers, std::uint64_t per_producer) {
  std::vector<std::thread> ts;
  for (unsigned p = 0; p < producers; ++p) {
    ts.emplace_back([&d, p, per_producer] {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        d.ring_buffer().publish_event([&](Event& e, std::int64_t seq) {
          e.seq = seq;
          e.producer = p;
          e.n = i;
          e.stage_a.store(0, std::memory_order_relaxed);
        });
      }
    });
  }
  for (auto& t : ts) t.join();
}

}  // namespace

TEST_CASE("multi-producer: every consumer sees every event once, each producer's in order",
          "[disruptor][stress]") {
  for (unsigned producers : {2u, 4u}) {
    const std::uint64_t per = hft::test::scaled(1'000'000);
    Disruptor<Event, ProducerType::Multi, BlockingWaitStrategy> d(1024);
    OrderChecker a(producers), b(producers);
    d.handle_events_with(a, b);
    d.start();
    produce(d, producers, per);
    d.shutdown();
    INFO(producers << " producers");
    REQUIRE(a.errors == 0);
    REQUIRE(b.errors == 0);
    REQUIRE(a.count == per * producers);
    REQUIRE(b.count == per * producers);
    for (auto n : a.next) REQUIRE(n == per);
  }
}

namespace {
struct StageA {
  void on_event(Event& e, std::int64_t, bool) { e.stage_a.store(1, std::memory_order_relaxed); }
};
// B depends on A: it must never see an event A has not marked.
struct StageB {
  std::uint64_t ahead_of_a = 0, count = 0;
  void on_event(Event& e, std::int64_t seq, bool) {
    if (e.stage_a.load(std::memory_order_relaxed) != 1) ++ahead_of_a;
    e.enriched = seq * 3;
    ++count;
  }
};
struct StageC {  // independent logger
  std::uint64_t count = 0;
  void on_event(Event&, std::int64_t, bool) { ++count; }
};
struct StageD {  // after B: sees B's enrichment
  std::uint64_t wrong = 0, count = 0;
  void on_event(Event& e, std::int64_t seq, bool) {
    wrong += (e.enriched != seq * 3);
    ++count;
  }
};
}  // namespace

TEST_CASE("dependency graph: B never runs ahead of A; D sees B's writes; C is independent",
          "[disruptor][graph]") {
  const std::uint64_t n = hft::test::scaled(500'000);
  Disruptor<Event, ProducerType::Single, YieldingWaitStrategy> d(256);
  StageA a;
  StageB b;
  StageC c;
  StageD dd;
  d.handle_events_with(a, c);
  d.after(a).handle_events_with(b).then(dd);
  d.start();
  produce(d, 1, n);
  d.shutdown();
  REQUIRE(b.ahead_of_a == 0);
  REQUIRE(b.count == n);
  REQUIRE(c.count == n);
  REQUIRE(dd.count == n);
  REQUIRE(dd.wrong == 0);
}

namespace {
struct SlowHandler {
  std::atomic<std::uint64_t> count{0};
  std::uint64_t lapped = 0;
  void on_event(Event& e, std::int64_t seq, bool) {
    lapped += (e.seq != seq);
    if (count.load(std::memory_order_relaxed) % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    count.fetch_add(1, std::memory_order_release);
  }
};
}  // namespace

TEST_CASE("backpressure: the producer stalls behind the slowest consumer and never laps it",
          "[disruptor][backpressure]") {
  Disruptor<Event, ProducerType::Single, BlockingWaitStrategy> d(16);
  SlowHandler slow;
  StageC fast;
  d.handle_events_with(slow, fast);
  d.start();
  std::int64_t max_ahead = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    d.ring_buffer().publish_event([&](Event& e, std::int64_t seq) { e.seq = seq; });
    const auto ahead = d.ring_buffer().cursor() - static_cast<std::int64_t>(slow.count.load(std::memory_order_acquire));
    max_ahead = std::max(max_ahead, ahead);
  }
  d.shutdown();
  REQUIRE(slow.lapped == 0);
  REQUIRE(max_ahead <= 16);  // never more than a ring ahead of the slow consumer
  REQUIRE(fast.count == 2000);
}

TEST_CASE("halt returns with producers blocked on a full ring and consumers idle", "[disruptor][halt]") {
  struct Stuck {
    std::atomic<bool> release{false};
    void on_event(Event&, std::int64_t, bool) {
      while (!release.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } stuck;
  StageC idle;
  Disruptor<Event, ProducerType::Multi, BlockingWaitStrategy> d(4);
  d.handle_events_with(stuck);
  d.after(stuck).handle_events_with(idle);
  d.start();
  std::atomic<int> halted_producers{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&] {
      try {
        for (int i = 0; i < 100; ++i) d.ring_buffer().publish_event([](Event&, std::int64_t) {});
      } catch (const Halted&) {
        halted_producers.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // ring full, producers blocked
  std::thread halter([&] { d.halt(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stuck.release = true;  // the stuck handler returns; halt() can join it
  halter.join();
  for (auto& t : producers) t.join();
  REQUIRE(halted_producers == 2);
}

TEST_CASE("shutdown loses nothing published before it", "[disruptor][shutdown]") {
  for (int round = 0; round < 20; ++round) {
    Disruptor<Event, ProducerType::Single, BackoffWaitStrategy> d(64);
    StageC c1, c2;
    d.handle_events_with(c1).then(c2);
    d.start();
    const std::uint64_t n = 1000 + static_cast<std::uint64_t>(round) * 37;
    produce(d, 1, n);
    d.shutdown();
    REQUIRE(c1.count == n);
    REQUIRE(c2.count == n);
  }
}

TEST_CASE("a failing handler under the Halt policy makes shutdown throw instead of hang",
          "[disruptor][shutdown]") {
  struct Bomb {
    void on_event(Event&, std::int64_t seq, bool) {
      if (seq == 10) throw std::runtime_error("boom");
    }
  } bomb;
  Disruptor<Event, ProducerType::Single, BlockingWaitStrategy> d(8);
  ProcessorOptions o;
  o.exception_policy = ExceptionPolicy::Halt;
  std::atomic<int> reports{0};
  o.on_exception = [&](std::exception_ptr, std::int64_t) { reports.fetch_add(1); };
  d.set_processor_options(o);
  d.handle_events_with(bomb);
  d.start();
  bool producer_halted = false;
  try {
    for (int i = 0; i < 1000; ++i) d.ring_buffer().publish_event([](Event&, std::int64_t) {});
  } catch (const Halted&) {
    producer_halted = true;  // the processor died: the producer is released, not wedged
  }
  REQUIRE(producer_halted);
  REQUIRE_THROWS_AS(d.shutdown(std::chrono::seconds(5)), std::runtime_error);
  REQUIRE(reports == 1);
}

TEST_CASE("work sharing in a Disruptor: workers split the events, a later stage sees all",
          "[disruptor][workers]") {
  struct Worker {
    std::uint64_t count = 0;
    void on_event(Event&, std::int64_t, bool) { ++count; }
  } w0, w1;
  StageC after_workers;
  Disruptor<Event, ProducerType::Single, YieldingWaitStrategy> d(128);
  d.handle_events_with_workers(w0, w1).then(after_workers);
  d.start();
  const std::uint64_t n = hft::test::scaled(100'000);
  produce(d, 1, n);
  d.shutdown();
  REQUIRE(w0.count + w1.count == n);
  REQUIRE(w0.count == (n + 1) / 2);
  REQUIRE(after_workers.count == n);
}

TEST_CASE("Disruptor configuration errors are clear", "[disruptor]") {
  Disruptor<Event> d(8);
  StageC c, stranger;
  REQUIRE_THROWS_AS(d.start(), std::logic_error);  // no handlers
  d.handle_events_with(c);
  REQUIRE_THROWS_AS(d.after(stranger), std::invalid_argument);
  d.start();
  REQUIRE_THROWS_AS(d.start(), std::logic_error);
  REQUIRE_THROWS_AS(d.handle_events_with(stranger), std::logic_error);
  d.shutdown();
  REQUIRE_THROWS_AS((Disruptor<Event>(12)), std::invalid_argument);
}
