#include "hft/sched/backpressure_guard.hpp"

#include <vector>

#include "../support/catch.hpp"

TEST_CASE("backpressure guard: hysteresis between the watermarks, transitions and paused time", "[backpressure]") {
  std::vector<std::pair<bool, std::uint64_t>> events;
  hft::BackpressureGuard g(100, 40, [&](bool paused, std::uint64_t level, std::uint64_t) { events.push_back({paused, level}); });
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
  CHECK_THROWS_AS(hft::BackpressureGuard(10, 10), std::invalid_argument);
}
