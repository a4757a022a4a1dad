#include "hft/disruptor/disruptor.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
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

TEST_CASE("dependency graph: B never runs ahead of A, D sees B's writes, C is independent",
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
  BatchEventProcessorConfig o;
  o.exception_policy = ExceptionPolicy::Halt;
  std::atomic<int> reports{0};
  o.on_exception = [&](const std::exception_ptr&, std::int64_t) { reports.fetch_add(1); };
  d.set_processor_config(o);
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

// ---- regressions and lifecycle contract ------------------------------------------------

namespace {
struct Counting {
  std::atomic<std::uint64_t> count{0};
  std::chrono::microseconds per_event{0};
  void on_event(Event&, std::int64_t, bool) {
    if (per_event.count() > 0) std::this_thread::sleep_for(per_event);
    count.fetch_add(1, std::memory_order_release);
  }
};

// Publishes n events with try_next, giving up after `patience`: a ring that nobody drains
// must fail the test, not hang it. Returns how many were published.
template <class D>
std::uint64_t try_publish(D& d, std::uint64_t n, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  std::uint64_t done = 0;
  while (done < n && std::chrono::steady_clock::now() < give_up) {
    if (d.ring_buffer().try_publish_event([](Event& e, std::int64_t seq) { e.seq = seq; })) {
      ++done;
    } else {
      std::this_thread::yield();
    }
  }
  return done;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}
}  // namespace

TEST_CASE("Disruptor restarts after shutdown and after halt, and processes what was published meanwhile",
          "[disruptor][lifecycle][regression]") {
  // start() used to leave every processor's halt flag set: a restarted Disruptor never ran
  // its handlers, and once the ring filled its producers blocked forever.
  Disruptor<Event, ProducerType::Single, BlockingWaitStrategy> d(8);
  Counting a, b;
  d.handle_events_with(a).then(b);
  d.start();
  REQUIRE(try_publish(d, 10) == 10);
  d.shutdown(std::chrono::seconds(5));
  CHECK(b.count.load() == 10);

  d.start();
  REQUIRE(try_publish(d, 30) == 30);  // more than the ring: only runs if the processors do
  CHECK_NOTHROW(d.shutdown(std::chrono::seconds(5)));
  CHECK(a.count.load() == 40);
  CHECK(b.count.load() == 40);

  d.start();
  d.halt();
  REQUIRE(try_publish(d, 5, std::chrono::milliseconds(500)) == 5);  // published while stopped
  d.start();
  CHECK_NOTHROW(d.shutdown(std::chrono::seconds(5)));
  CHECK(b.count.load() == 45);
}

TEST_CASE("Disruptor restarts after a processor failed under the Halt policy", "[disruptor][lifecycle]") {
  struct FailOnce {
    std::atomic<int> seen{0};
    bool armed = true;
    void on_event(Event&, std::int64_t, bool) {
      seen.fetch_add(1);
      if (std::exchange(armed, false)) throw std::runtime_error("first event fails");
    }
  } h;
  Disruptor<Event, ProducerType::Single, BlockingWaitStrategy> d(8);
  BatchEventProcessorConfig o;
  o.exception_policy = ExceptionPolicy::Halt;
  o.on_exception = [](const std::exception_ptr&, std::int64_t) {};
  d.set_processor_config(o);
  d.handle_events_with(h);
  d.start();
  REQUIRE(try_publish(d, 1) == 1);
  CHECK_THROWS_WITH(d.shutdown(std::chrono::seconds(5)), Catch::Contains("a processor failed"));
  d.start();  // the failure is cleared with the halt
  REQUIRE(try_publish(d, 20) == 20);
  CHECK_NOTHROW(d.shutdown(std::chrono::seconds(5)));
  CHECK(h.seen.load() == 21);
}

TEST_CASE("a producer asleep in its wait strategy during shutdown still gets Halted", "[disruptor][shutdown][regression]") {
  // shutdown() used to clear the sequencer's halt right after joining: a producer that was
  // asleep in SleepingProducerWait during that window woke to an un-halted, full ring with
  // no consumer, and waited forever.
  using D = Disruptor<Event, ProducerType::Single, BlockingWaitStrategy, SleepingProducerWait>;
  D d(4, BlockingWaitStrategy{}, SleepingProducerWait({.sleep = std::chrono::microseconds(50'000)}));
  Counting slow;
  slow.per_event = std::chrono::microseconds(20'000);  // longer than the producer's 50 ms nap / 2
  BatchEventProcessorConfig o;
  o.max_batch_size = 1;  // halt takes effect after one event
  d.set_processor_config(o);
  d.handle_events_with(slow);
  d.start();
  std::atomic<bool> producer_done{false}, got_halted{false};
  std::thread producer([&] {
    try {
      for (int i = 0; i < 1000; ++i) d.ring_buffer().publish_event([](Event&, std::int64_t) {});
    } catch (const Halted&) {
      got_halted = true;
    }
    producer_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // ring full, producer asleep
  CHECK_THROWS_WITH(d.shutdown(std::chrono::milliseconds(1)), Catch::Contains("timed out"));
  const bool finished = eventually([&] { return producer_done.load(); });
  CHECK(finished);
  if (!finished) d.ring_buffer().sequencer().halt();  // unstick it so the test can end
  producer.join();
  CHECK(got_halted.load());
}

TEST_CASE("halt() from inside a handler stops the Disruptor, shutdown() and start() there are refused",
          "[disruptor][lifecycle][regression]") {
  // halt() from a handler used to destroy its own still-joinable std::thread: std::terminate.
  using D = Disruptor<Event, ProducerType::Single, BlockingWaitStrategy>;
  D d(16);
  struct Halter {
    D* d = nullptr;
    std::atomic<std::uint64_t> count{0};
    std::atomic<int> refused{0};
    std::atomic<bool> halted{false};
    void on_event(Event&, std::int64_t seq, bool) {
      count.fetch_add(1);
      if (seq == 3) {
        // d is set before start(), so before any event: cppcheck cannot see that.
        // cppcheck-suppress nullPointer
        D& dis = *d;
        try {
          dis.shutdown();
        } catch (const std::logic_error& e) {
          if (std::string(e.what()).find("from one of its handlers") != std::string::npos) refused.fetch_add(1);
        }
        try {
          dis.start();
        } catch (const std::logic_error&) {
          refused.fetch_add(1);
        }
        dis.halt();  // requests the stop; returns without joining itself
        halted.store(true);
      }
    }
  } h;
  h.d = &d;
  Counting downstream;
  d.handle_events_with(h).then(downstream);
  d.start();
  REQUIRE(try_publish(d, 4) == 4);
  // `count` moves before the handler's calls; `halted` after them.
  CHECK(eventually([&] { return h.halted.load(); }));
  CHECK(h.refused.load() == 2);
  // Publishing more than the ring now fails instead of hanging: the sequencer is halted.
  bool producer_halted = false;
  try {
    for (int i = 0; i < 100; ++i) d.ring_buffer().publish_event([](Event&, std::int64_t) {});
  } catch (const Halted&) {
    producer_halted = true;
  }
  CHECK(producer_halted);
  // The controlling thread joins; shutdown reports the events left behind.
  CHECK_THROWS_WITH(d.shutdown(std::chrono::seconds(5)), Catch::Contains("halted"));
  // And the Disruptor can run again.
  d.start();
  CHECK_NOTHROW(d.shutdown(std::chrono::seconds(5)));
  CHECK(downstream.count.load() == h.count.load());
}

TEST_CASE("Disruptor::shutdown(nanoseconds::max()) waits for the backlog instead of timing out at once",
          "[disruptor][shutdown][regression]") {
  // now() + nanoseconds::max() overflowed (UB) into a deadline in the past.
  Disruptor<Event, ProducerType::Single, BlockingWaitStrategy> d(32);
  Counting slow;
  slow.per_event = std::chrono::microseconds(3'000);
  d.handle_events_with(slow);
  d.start();
  REQUIRE(try_publish(d, 20) == 20);
  CHECK_NOTHROW(d.shutdown(std::chrono::nanoseconds::max()));
  CHECK(slow.count.load() == 20);
  d.start();
  REQUIRE(try_publish(d, 1) == 1);
  REQUIRE(eventually([&] { return slow.count.load() == 21; }));
  CHECK_NOTHROW(d.shutdown(std::chrono::nanoseconds::zero()));  // already drained: a zero timeout is fine
}

TEST_CASE("Disruptor lifecycle contract: not copyable or movable, the destructor stops a running one",
          "[disruptor][lifecycle]") {
  using D = Disruptor<Event, ProducerType::Multi, BlockingWaitStrategy>;
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<D>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<D>);
  Counting c;
  std::atomic<bool> halted{false};
  std::thread producer;
  {
    D d(4);
    d.handle_events_with(c);
    d.start();
    producer = std::thread([&] {
      try {
        for (int i = 0; i < 1'000'000; ++i) d.ring_buffer().publish_event([](Event&, std::int64_t) {});
      } catch (const Halted&) {
        halted = true;
      }
    });
    CHECK(eventually([&] { return c.count.load() > 100; }));
    d.halt();  // the producer must be released before the ring it uses is destroyed
    producer.join();
  }  // destroyed after halt(): nothing left running
  CHECK(halted.load());
  {
    D d(4);
    d.handle_events_with(c);
    d.start();
  }  // destroyed while running and idle: halts and joins, no std::terminate
  SUCCEED();
}
