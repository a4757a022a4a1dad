#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "hft/disruptor/batch_event_processor.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/disruptor/ring_buffer.hpp"

using namespace hft::disruptor;

namespace {
using Ring = RingBuffer<std::int64_t, ProducerType::Single, BlockingWaitStrategy>;
using Barrier = SequenceBarrier<Ring::sequencer_type>;

struct Recorder {
  std::vector<std::int64_t> seen;
  std::vector<std::int64_t> batch_sizes;
  std::vector<bool> end_flags;
  std::atomic<std::int64_t> last{-1};
  int starts = 0, shutdowns = 0, timeouts = 0;
  std::int64_t throw_at = -1;
  void on_event(std::int64_t& e, std::int64_t seq, bool end) {
    if (seq == throw_at) throw std::runtime_error("bad event");
    seen.push_back(e);
    end_flags.push_back(end);
    last.store(seq, std::memory_order_release);
  }
  void on_batch_start(std::int64_t n) { batch_sizes.push_back(n); }
  void on_start() { ++starts; }
  void on_shutdown() { ++shutdowns; }
  void on_timeout(std::int64_t) { ++timeouts; }
};

template <class R>
void publish_n(R& rb, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) rb.publish_event([](std::int64_t& e, std::int64_t s) { e = s * 2; });
}
void wait_until(const std::atomic<std::int64_t>& v, std::int64_t target) {
  while (v.load(std::memory_order_acquire) < target) std::this_thread::yield();
}
}  // namespace

TEST_CASE("BatchEventProcessor delivers batches with end_of_batch and respects max_batch_size",
          "[disruptor][processor]") {
  Ring rb(64);
  Recorder h;
  BatchEventProcessorConfig o;
  o.max_batch_size = 4;
  BatchEventProcessor p(rb, Barrier(rb.sequencer(), {}), h, o);
  rb.add_gating_sequences({&p.sequence()});
  publish_n(rb, 10);  // published before the processor starts: it sees them as batches
  std::thread t([&] { p.run(); });
  wait_until(h.last, 9);
  p.halt();
  t.join();
  REQUIRE(h.seen.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) REQUIRE(h.seen[i] == static_cast<std::int64_t>(2 * i));
  REQUIRE(h.batch_sizes == std::vector<std::int64_t>{4, 4, 2});
  REQUIRE(h.end_flags[3]);
  REQUIRE_FALSE(h.end_flags[2]);
  REQUIRE(h.end_flags[9]);
  REQUIRE(h.starts == 1);
  REQUIRE(h.shutdowns == 1);
  REQUIRE(p.sequence().get() == 9);
  REQUIRE_FALSE(p.running());
}

TEST_CASE("exception policies: skip-and-report keeps going, halt stops, rethrow propagates",
          "[disruptor][processor]") {
  for (auto policy : {ExceptionPolicy::SkipAndReport, ExceptionPolicy::Halt, ExceptionPolicy::Rethrow}) {
    Ring rb(16);
    Recorder h;
    h.throw_at = 3;
    std::vector<std::int64_t> reported;
    BatchEventProcessorConfig o;
    o.exception_policy = policy;
    o.on_exception = [&](const std::exception_ptr&, std::int64_t seq) { reported.push_back(seq); };
    BatchEventProcessor p(rb, Barrier(rb.sequencer(), {}), h, o);
    rb.add_gating_sequences({&p.sequence()});
    publish_n(rb, 8);
    bool rethrown = false;
    std::thread t([&] {
      try {
        p.run();
      } catch (const std::runtime_error&) {
        rethrown = true;
      }
    });
    if (policy == ExceptionPolicy::SkipAndReport) {
      wait_until(h.last, 7);
      p.halt();
    }
    t.join();
    REQUIRE(reported == std::vector<std::int64_t>{3});
    // The failing event always counts as processed, so producers are never wedged on it.
    REQUIRE(p.sequence().get() >= 3);
    if (policy == ExceptionPolicy::SkipAndReport) {
      REQUIRE(h.seen.size() == 7);
      REQUIRE_FALSE(p.failed());
    } else {
      REQUIRE(h.seen.size() == 3);
      REQUIRE(p.failed());
      REQUIRE(rethrown == (policy == ExceptionPolicy::Rethrow));
    }
  }
}

TEST_CASE("striped processors together see every event exactly once", "[disruptor][processor][workers]") {
  Ring rb(64);
  Recorder h0, h1, h2;
  BatchEventProcessorConfig o;
  o.stripe_count = 3;
  std::vector<std::unique_ptr<BatchEventProcessor<Ring, Recorder>>> ps;
  Recorder* hs[] = {&h0, &h1, &h2};
  for (std::int64_t k = 0; k < 3; ++k) {
    o.stripe_index = k;
    ps.push_back(std::make_unique<BatchEventProcessor<Ring, Recorder>>(rb, Barrier(rb.sequencer(), {}), *hs[k], o));
    rb.add_gating_sequences({&ps.back()->sequence()});
  }
  std::vector<std::thread> ts;
  for (auto& p : ps) ts.emplace_back([&p] { p->run(); });
  publish_n(rb, 300);
  for (auto& p : ps) {
    while (p->sequence().get() < 299) std::this_thread::yield();
  }
  for (auto& p : ps) p->halt();
  for (auto& t : ts) t.join();
  REQUIRE(h0.seen.size() + h1.seen.size() + h2.seen.size() == 300);
  for (std::int64_t k = 0; k < 3; ++k) {
    for (std::int64_t v : hs[k]->seen) REQUIRE((v / 2) % 3 == k);
  }
  BatchEventProcessorConfig bad;
  bad.stripe_count = 2;
  bad.stripe_index = 2;
  Recorder r;
  REQUIRE_THROWS_AS((BatchEventProcessor<Ring, Recorder>(rb, Barrier(rb.sequencer(), {}), r, bad)), std::invalid_argument);
}

TEST_CASE("a timeout wait strategy calls on_timeout while idle, and halt wakes a blocked consumer",
          "[disruptor][wait]") {
  using TRing = RingBuffer<std::int64_t, ProducerType::Single, BlockingWaitStrategy>;
  TRing rb(8, BlockingWaitStrategy({.timeout = std::chrono::milliseconds(2)}));
  Recorder h;
  BatchEventProcessor p(rb, SequenceBarrier<TRing::sequencer_type>(rb.sequencer(), {}), h);
  std::thread t([&] { p.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  rb.publish_event([](std::int64_t& e, std::int64_t) { e = 5; });  // wakes the sleeper
  wait_until(h.last, 0);
  p.halt();
  t.join();
  REQUIRE(h.timeouts > 0);
  REQUIRE(h.seen == std::vector<std::int64_t>{5});

  // Without a timeout the consumer sleeps on the condition variable until halted.
  Ring rb2(8);
  Recorder h2;
  BatchEventProcessor p2(rb2, Barrier(rb2.sequencer(), {}), h2);
  std::thread t2([&] { p2.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  p2.halt();
  t2.join();
  REQUIRE(h2.timeouts == 0);
  REQUIRE(h2.shutdowns == 1);
}

TEST_CASE("EventPoller pulls what is available and reports gating/idle", "[disruptor][poller]") {
  Ring rb(8);
  EventPoller<Ring> upstream(rb);
  EventPoller<Ring> downstream(rb, {&upstream.sequence()});
  rb.add_gating_sequences({&downstream.sequence()});
  std::vector<std::int64_t> got;
  auto collect = [&](std::int64_t& e, std::int64_t, bool) {
    got.push_back(e);
    return true;
  };
  REQUIRE(upstream.poll(collect) == PollState::Idle);
  publish_n(rb, 3);
  REQUIRE(downstream.poll(collect) == PollState::Gating);  // upstream has not seen them
  REQUIRE(upstream.poll([&](std::int64_t&, std::int64_t seq, bool) { return seq < 1; }) == PollState::Processing);
  REQUIRE(upstream.sequence().get() == 1);  // stopped early after seq 1
  REQUIRE(downstream.poll(collect) == PollState::Processing);
  REQUIRE(got == std::vector<std::int64_t>{0, 2});
  REQUIRE(upstream.poll(collect) == PollState::Processing);
  REQUIRE(downstream.poll(collect) == PollState::Processing);
  REQUIRE(got == std::vector<std::int64_t>{0, 2, 4, 4});
  REQUIRE(downstream.poll(collect) == PollState::Idle);
}

// ---- regressions and lifecycle contract ------------------------------------------------

namespace {
double thread_cpu_seconds(std::thread& t) {
  clockid_t id;
  if (pthread_getcpuclockid(t.native_handle(), &id) != 0) return -1;
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

TEST_CASE("multi-producer + blocking strategy: a claimed, unpublished slot makes the consumer sleep and time out",
          "[disruptor][wait][regression]") {
  // The MP cursor counts claims, so the strategy used to return at once and the barrier
  // spun on cpu_relax(), restarting the deadline every time: 100% CPU and no timeouts.
  using MRing = RingBuffer<std::int64_t, ProducerType::Multi, BlockingWaitStrategy>;
  MRing rb(8, BlockingWaitStrategy({.timeout = std::chrono::milliseconds(10)}));
  Recorder h;
  BatchEventProcessor p(rb, SequenceBarrier<MRing::sequencer_type>(rb.sequencer(), {}), h);
  rb.add_gating_sequences({&p.sequence()});
  std::thread t([&] { p.run(); });
  const std::int64_t claimed = rb.sequencer().next();  // claimed, not published
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the consumer is asleep by now
  const double cpu0 = thread_cpu_seconds(t);
  const auto wall0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double cpu = thread_cpu_seconds(t) - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  rb[claimed] = 42;
  rb.sequencer().publish(claimed);  // wakes the sleeper
  wait_until(h.last, claimed);
  p.halt();
  t.join();
  CHECK(h.timeouts >= 5);      // 300 ms at a 10 ms timeout: ~30 expected
  CHECK(cpu < 0.5 * wall);     // asleep, not spinning (measured: ~0.00 s, was ~wall)
  CHECK(h.seen == std::vector<std::int64_t>{42});
}

namespace {
// Runs a consumer with wait strategy `w` idle for 30 ms, then one event; returns its timeouts.
template <class W>
int timeouts_while_idle(W w) {
  using R = RingBuffer<std::int64_t, ProducerType::Single, W>;
  R rb(8, std::move(w));
  Recorder h;
  BatchEventProcessor p(rb, SequenceBarrier<typename R::sequencer_type>(rb.sequencer(), {}), h);
  std::thread t([&] { p.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  publish_n(rb, 1);
  wait_until(h.last, 0);
  p.halt();
  t.join();
  REQUIRE(h.seen.size() == 1);
  return h.timeouts;
}
}  // namespace

TEST_CASE("a timeout of nanoseconds::max() means no timeout, for both timed strategies", "[disruptor][wait][regression]") {
  CHECK(timeouts_while_idle(BlockingWaitStrategy({.timeout = std::chrono::nanoseconds::max()})) == 0);
  CHECK(timeouts_while_idle(BackoffWaitStrategy({.timeout = std::chrono::nanoseconds::max()})) == 0);
}

TEST_CASE("EventPoller: a claimed but unpublished multi-producer slot is Idle, not Gating", "[disruptor][poller][regression]") {
  using MRing = RingBuffer<std::int64_t, ProducerType::Multi, BlockingWaitStrategy>;
  MRing rb(8);
  EventPoller<MRing> poller(rb);
  rb.add_gating_sequences({&poller.sequence()});
  auto none = [](std::int64_t&, std::int64_t, bool) { return true; };
  const std::int64_t s = rb.sequencer().next();
  CHECK(poller.poll(none) == PollState::Idle);  // nothing is published yet
  rb.sequencer().publish(s);
  CHECK(poller.poll(none) == PollState::Processing);
  // With a dependency: published but not yet passed by it is Gating.
  EventPoller<MRing> upstream(rb);
  EventPoller<MRing> downstream(rb, {&upstream.sequence()});
  (void)upstream.poll(none);  // catch up with s
  const std::int64_t s2 = rb.sequencer().next();
  CHECK(downstream.poll(none) == PollState::Processing);  // s, which upstream passed
  CHECK(downstream.poll(none) == PollState::Idle);        // s2 claimed only
  rb.sequencer().publish(s2);
  CHECK(downstream.poll(none) == PollState::Gating);      // s2 published, upstream behind
}

TEST_CASE("halt() takes effect between batches: the batch in progress finishes", "[disruptor][processor][lifecycle]") {
  Ring rb(16);
  struct SlowFirst {
    std::atomic<int> seen{0};
    std::atomic<bool> in_batch{false}, release{false};
    void on_event(std::int64_t&, std::int64_t, bool) {
      in_batch = true;
      while (!release.load()) std::this_thread::yield();
      seen.fetch_add(1);
    }
  } h;
  BatchEventProcessor p(rb, Barrier(rb.sequencer(), {}), h);
  rb.add_gating_sequences({&p.sequence()});
  publish_n(rb, 8);  // one batch of 8 is available when run() starts
  std::thread t([&] { p.run(); });
  while (!h.in_batch.load()) std::this_thread::yield();
  p.halt();
  h.release = true;
  t.join();
  CHECK(h.seen.load() == 8);  // the whole batch, not "after the current event"
  CHECK(p.sequence().get() == 7);
  // With max_batch_size 1 the same halt stops after one event.
  Ring rb2(16);
  SlowFirst h2;
  BatchEventProcessorConfig o;
  o.max_batch_size = 1;
  BatchEventProcessor p2(rb2, Barrier(rb2.sequencer(), {}), h2, o);
  rb2.add_gating_sequences({&p2.sequence()});
  publish_n(rb2, 8);
  std::thread t2([&] { p2.run(); });
  while (!h2.in_batch.load()) std::this_thread::yield();
  p2.halt();
  h2.release = true;
  t2.join();
  CHECK(h2.seen.load() == 1);
  // Restart: rearm() and run() again continue after the last finished event.
  p2.rearm();
  std::thread t3([&] { p2.run(); });
  while (p2.sequence().get() < 7) std::this_thread::yield();
  p2.halt();
  t3.join();
  CHECK(h2.seen.load() == 8);
}

TEST_CASE("BatchEventProcessor::run twice at once is refused, rearm while running asserts", "[disruptor][processor][lifecycle]") {
  Ring rb(8);
  Recorder h;
  BatchEventProcessor p(rb, Barrier(rb.sequencer(), {}), h);
  std::thread t([&] { p.run(); });
  while (!p.running()) std::this_thread::yield();
  CHECK_THROWS_AS(p.run(), std::logic_error);
  p.halt();
  t.join();
  CHECK_FALSE(p.running());
  CHECK(h.starts == 1);
  CHECK(h.shutdowns == 1);
}
