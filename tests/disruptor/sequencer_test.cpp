#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/disruptor/multi_producer_sequencer.hpp"
#include "hft/disruptor/ring_buffer.hpp"
#include "hft/disruptor/sequence.hpp"
#include "hft/disruptor/sequence_barrier.hpp"
#include "hft/disruptor/single_producer_sequencer.hpp"

using namespace hft::disruptor;

TEST_CASE("Sequence is padded and starts at -1", "[disruptor][sequence]") {
  Sequence s;
  REQUIRE(s.get() == -1);
  s.set(5);
  REQUIRE(s.get() == 5);
  REQUIRE(s.compare_and_set(5, 7));
  REQUIRE_FALSE(s.compare_and_set(5, 8));
  REQUIRE(s.add_and_get(3) == 10);
  Sequence a(3), b(1), c(9);
  const Sequence* seqs[] = {&a, &b, &c};
  REQUIRE(min_sequence(seqs) == 1);
  REQUIRE(min_sequence({}, 42) == 42);
}

TEMPLATE_TEST_CASE("sequencers hand out sequences, wrap around and stop at the gating sequence",
                   "[disruptor][sequencer]", (SingleProducerSequencer<BusySpinWaitStrategy>),
                   (MultiProducerSequencer<BusySpinWaitStrategy>)) {
  TestType seq(8);
  Sequence consumer;
  seq.add_gating_sequences({&consumer});
  REQUIRE(seq.remaining_capacity() == 8);
  REQUIRE(seq.next() == 0);
  REQUIRE(seq.next(3) == 3);
  seq.publish(0);
  seq.publish(1, 3);
  REQUIRE(seq.cursor().get() == 3);
  REQUIRE(seq.highest_published(0, 3) == 3);
  REQUIRE(seq.remaining_capacity() == 4);
  // Fill the ring: 4 more fit, the 9th outstanding slot does not.
  REQUIRE(seq.try_next(4).value() == 7);
  seq.publish(4, 7);
  REQUIRE_FALSE(seq.try_next().has_value());
  REQUIRE(seq.remaining_capacity() == 0);
  // The consumer frees 2 slots: exactly 2 claims succeed.
  consumer.set(1);
  REQUIRE(seq.try_next().value() == 8);
  REQUIRE(seq.try_next().value() == 9);
  REQUIRE_FALSE(seq.try_next().has_value());
  seq.publish(8);
  seq.publish(9);
  // Wrap-around many times with a consumer that keeps up.
  for (std::int64_t i = 10; i < 10'000; ++i) {
    consumer.set(i - 8);
    const std::int64_t s = seq.next();
    REQUIRE(s == i);
    seq.publish(s);
    REQUIRE(seq.is_available(s));
  }
}

TEMPLATE_TEST_CASE("claims larger than the ring are an error, never a deadlock", "[disruptor][sequencer]",
                   (SingleProducerSequencer<BusySpinWaitStrategy>), (MultiProducerSequencer<BusySpinWaitStrategy>)) {
  TestType seq(4);
  REQUIRE_THROWS_AS(seq.next(5), std::invalid_argument);
  REQUIRE_THROWS_AS(seq.next(0), std::invalid_argument);
  REQUIRE_THROWS_AS(seq.try_next(5), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(6), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(0), std::invalid_argument);
  try {
    (void)seq.next(9);
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("cannot claim 9 slots of a ring of 4") != std::string::npos);
  }
}

TEMPLATE_TEST_CASE("halt() releases a producer blocked on a full ring", "[disruptor][sequencer]",
                   (SingleProducerSequencer<BlockingWaitStrategy>), (MultiProducerSequencer<BlockingWaitStrategy>)) {
  TestType seq(2);
  Sequence consumer;  // never advances
  seq.add_gating_sequences({&consumer});
  seq.publish(seq.next(2) - 1, 1);
  std::atomic<bool> threw{false};
  std::thread producer([&] {
    try {
      (void)seq.next();
    } catch (const Halted&) {
      threw = true;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  seq.halt();
  producer.join();
  REQUIRE(threw);
}

TEST_CASE("multi-producer: consumers see only the contiguous published prefix", "[disruptor][sequencer]") {
  MultiProducerSequencer<BusySpinWaitStrategy> seq(8);
  const std::int64_t a = seq.next();  // 0
  const std::int64_t b = seq.next();  // 1
  const std::int64_t c = seq.next();  // 2
  seq.publish(c);
  seq.publish(a);
  REQUIRE(seq.highest_published(0, seq.cursor().get()) == 0);  // 1 is claimed, unpublished
  seq.publish(b);
  REQUIRE(seq.highest_published(0, seq.cursor().get()) == 2);
  // Lap numbers: slot 0 holds sequence 0, not 8.
  REQUIRE(seq.is_available(0));
  REQUIRE_FALSE(seq.is_available(8));
}

TEST_CASE("RingBuffer translators, batches and factories", "[disruptor][ring]") {
  RingBuffer<std::int64_t, ProducerType::Single, BusySpinWaitStrategy> rb(8);
  rb.publish_event([](std::int64_t& e, std::int64_t seq, std::int64_t add) { e = seq + add; }, 100);
  REQUIRE(rb[0] == 100);
  rb.publish_events(3, [](std::int64_t& e, std::int64_t, std::int64_t i) { e = i * 10; });
  REQUIRE(rb.cursor() == 3);
  REQUIRE(rb[3] == 20);
  Sequence consumer;
  rb.add_gating_sequences({&consumer});
  REQUIRE(rb.try_publish_events(4, [](std::int64_t& e, std::int64_t, std::int64_t) { e = 1; }));
  REQUIRE_FALSE(rb.try_publish_event([](std::int64_t&, std::int64_t) {}));  // full
  // A throwing translator still publishes its slot (consumers must not stall on it).
  consumer.set(7);
  REQUIRE_THROWS(rb.publish_event([](std::int64_t&, std::int64_t) { throw std::runtime_error("x"); }));
  REQUIRE(rb.cursor() == 8);

  int made = 0;
  RingBuffer<std::string, ProducerType::Multi, BusySpinWaitStrategy> strings(4, [&] {
    ++made;
    return std::string("preallocated");
  });
  REQUIRE(made == 4);
  REQUIRE(strings[2] == "preallocated");
}

TEST_CASE("Disruptor building blocks lifecycle contract", "[disruptor][lifecycle]") {
  using namespace hft::test::contract;
  using R = RingBuffer<std::int64_t, ProducerType::Multi>;
  STATIC_REQUIRE(copy_move_is<Sequence, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<R, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<SingleProducerSequencer<>, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<MultiProducerSequencer<>, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<EventPoller<R>, Copy::No, Move::No>());
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<SequenceBarrier<R::sequencer_type>>);
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<SequenceBarrier<R::sequencer_type>>);
  // The smallest ring: one slot.
  R one(1);
  Sequence consumer;
  one.add_gating_sequences({&consumer});
  const auto s = one.sequencer().try_next();
  REQUIRE(s.has_value());
  CHECK_FALSE(one.sequencer().try_next().has_value());
  one.sequencer().publish(*s);
  consumer.set(*s);
  CHECK(one.sequencer().try_next().has_value());
  CHECK_THROWS_AS(R(0), std::invalid_argument);
  CHECK_THROWS_AS(R((std::size_t{1} << 40) * 2), std::invalid_argument);
}
