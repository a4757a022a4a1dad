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

void publish_n(Ring& rb, std::int64_t n) {
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
  ProcessorOptions o;
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
    ProcessorOptions o;
    o.exception_policy = policy;
    o.on_exception = [&](std::exception_ptr, std::int64_t seq) { reported.push_back(seq); };
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
  ProcessorOptions o;
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
  ProcessorOptions bad;
  bad.stripe_count = 2;
  bad.stripe_index = 2;
  Recorder r;
  REQUIRE_THROWS_AS((BatchEventProcessor<Ring, Recorder>(rb, Barrier(rb.sequencer(), {}), r, bad)), std::invalid_argument);
}

TEST_CASE("a timeout wait strategy calls on_timeout while idle, and halt wakes a blocked consumer",
          "[disruptor][wait]") {
  using TRing = RingBuffer<std::int64_t, ProducerType::Single, BlockingWaitStrategy>;
  TRing rb(8, BlockingWaitStrategy(std::chrono::milliseconds(2)));
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
