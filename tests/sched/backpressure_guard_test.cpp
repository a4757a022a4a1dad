#include "hft/sched/backpressure_guard.hpp"

#include <cstdint>
#include <limits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

TEST_CASE("backpressure guard: hysteresis between the watermarks, transitions and paused time", "[backpressure]") {
  std::vector<std::pair<bool, std::uint64_t>> events;
  hft::BackpressureGuard g({.high = 100, .low = 40}, [&](bool paused, std::uint64_t level, std::uint64_t) { events.push_back({paused, level}); });
  CHECK_FALSE(g.update(99, 0));
  CHECK(g.update(100, 10));   // high reached: pause
  CHECK(g.update(60, 20));    // between the marks: still paused (no flapping)
  CHECK(g.update(41, 30));
  CHECK_FALSE(g.update(40, 50));  // low reached: resume
  CHECK_FALSE(g.update(99, 60));  // between the marks: still running
  CHECK(g.update(150, 70));
  CHECK(g.paused());
  CHECK(g.pauses() == 2);
  CHECK(g.resumes() == 1);
  CHECK(g.paused_ns(100) == 40 + 30);  // 10..50, and 70..100 still in progress
  CHECK(events == std::vector<std::pair<bool, std::uint64_t>>{{true, 100}, {false, 40}, {true, 150}});
  CHECK_THROWS_AS(hft::BackpressureGuard({.high = 10, .low = 10}), std::invalid_argument);
}

TEST_CASE("BackpressureGuard lifecycle contract: a throwing callback, timestamps out of order", "[backpressure][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::BackpressureGuard, Copy::No, Move::No>());
  ThrowOnCall cb{1};
  hft::BackpressureGuard g({.high = 10, .low = 5}, [&](bool p, std::uint64_t l, std::uint64_t t) { cb(p, l, t); });
  CHECK_THROWS_AS(g.update(10, 1'000), Boom);
  CHECK(g.paused());  // the transition happened before the callback threw
  CHECK(g.pauses() == 1);
  CHECK(g.paused_ns(999) == 0);  // an older timestamp: 0, not 2^64 - 1
  CHECK(g.paused_ns(1'500) == 500);
  CHECK_FALSE(g.update(5, 900));  // resumes with an older timestamp: adds 0
  CHECK(g.paused_ns(2'000) == 0);
  CHECK_THROWS_AS(hft::BackpressureGuard({.high = 5, .low = 5}), std::invalid_argument);
}

// Issue 34, limit sweep: two pauses measured on a clock that stepped back between them can
// sum past 2^64 ns, and the total wrapped to a few nanoseconds.
TEST_CASE("BackpressureGuard: the total paused time saturates at UINT64_MAX", "[backpressure][regression][limits]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  hft::BackpressureGuard g({.high = 10, .low = 5});
  CHECK(g.update(10, 0));
  CHECK_FALSE(g.update(0, kMax));
  CHECK(g.paused_ns(kMax) == kMax);
  CHECK(g.update(kMax, 0));  // the clock stepped back
  CHECK(g.paused_ns(10) == kMax);
  CHECK_FALSE(g.update(0, 10));
  CHECK(g.paused_ns(10) == kMax);
}
