#include "hft/sched/circuit_breaker.hpp"

#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "hft/core/clock.hpp"

using hft::BreakerState;
using hft::CircuitBreaker;
using hft::CircuitBreakerConfig;

namespace {
CircuitBreakerConfig count_cfg() {
  CircuitBreakerConfig c;
  c.window = CircuitBreakerConfig::Window::Count;
  c.window_calls = 10;
  c.min_calls = 5;
  c.failure_rate_pct = 50;
  c.open_cooldown_ns = 1'000;
  c.half_open_trials = 2;
  return c;
}
}  // namespace

TEST_CASE("circuit breaker state transitions with a simulated clock", "[breaker]") {
  hft::SimClock clock;
  std::vector<std::string> log;
  CircuitBreaker cb(count_cfg(), [&](BreakerState a, BreakerState b, std::uint64_t t) {
    log.push_back(std::string(hft::to_string(a)) + "->" + hft::to_string(b) + "@" + std::to_string(t));
  });
  auto call = [&](bool ok) {
    if (!cb.try_acquire(clock.now_ns())) return false;
    cb.record(ok, clock.now_ns());
    return true;
  };
  // Closed: 4 failures, below min_calls: stays closed.
  for (int i = 0; i < 4; ++i) REQUIRE(call(false));
  CHECK(cb.state(clock.now_ns()) == BreakerState::Closed);
  REQUIRE(call(true));  // 5 calls (min_calls), 4 failures: 80% >= 50%: open
  CHECK(cb.state(clock.now_ns()) == BreakerState::Open);
  CHECK_FALSE(cb.try_acquire(clock.now_ns()));  // rejected fast
  clock.advance(999);
  CHECK_FALSE(cb.try_acquire(clock.now_ns()));
  clock.advance(1);  // cool-down over
  CHECK(cb.state(clock.now_ns()) == BreakerState::HalfOpen);
  REQUIRE(cb.try_acquire(clock.now_ns()));  // trial 1
  REQUIRE(cb.try_acquire(clock.now_ns()));  // trial 2
  CHECK_FALSE(cb.try_acquire(clock.now_ns()));  // no more trials in flight
  cb.record(true, clock.now_ns());
  cb.record(false, clock.now_ns());  // a trial fails: open again
  CHECK(cb.state(clock.now_ns()) == BreakerState::Open);
  clock.advance(1'000);
  REQUIRE(call(true));
  REQUIRE(call(true));  // both trials succeed: closed, window cleared
  CHECK(cb.state(clock.now_ns()) == BreakerState::Closed);
  CHECK(cb.failure_rate_pct(clock.now_ns()) == 0.0);
  CHECK(log == std::vector<std::string>{"CLOSED->OPEN@0", "OPEN->HALF_OPEN@1000", "HALF_OPEN->OPEN@1000",
                                        "OPEN->HALF_OPEN@2000", "HALF_OPEN->CLOSED@2000"});
  const auto& k = cb.counters();
  CHECK(k.opened == 2);
  CHECK(k.half_opened == 2);
  CHECK(k.closed == 1);
  CHECK(k.rejected == 3);
}

TEST_CASE("count window forgets old outcomes; consecutive-failure trigger", "[breaker]") {
  hft::SimClock clock;
  CircuitBreakerConfig c = count_cfg();
  c.failure_rate_pct = 60;
  CircuitBreaker cb(c);
  for (int i = 0; i < 4; ++i) cb.record(false, 0);
  CHECK(cb.state(0) == BreakerState::Closed);  // 4 calls: below min_calls
  cb.record(false, 0);                          // 5 of 5 >= 60%
  CHECK(cb.state(0) == BreakerState::Open);

  CircuitBreakerConfig r = count_cfg();
  r.failure_rate_pct = 0;
  r.consecutive_failures = 3;
  CircuitBreaker cf(r);
  cf.record(false, 0);
  cf.record(false, 0);
  cf.record(true, 0);  // streak broken
  cf.record(false, 0);
  cf.record(false, 0);
  CHECK(cf.state(0) == BreakerState::Closed);
  cf.record(false, 0);
  CHECK(cf.state(0) == BreakerState::Open);

  CircuitBreakerConfig lenient = count_cfg();
  lenient.failure_rate_pct = 90;  // 4 of the first 5 (80%) does not open it
  CircuitBreaker w(lenient);      // window of 10
  for (int i = 0; i < 4; ++i) w.record(false, 0);
  for (int i = 0; i < 10; ++i) w.record(true, 0);  // the failures slide out
  CHECK(w.failure_rate_pct(0) == 0.0);
  CHECK_THROWS_AS(CircuitBreaker(CircuitBreakerConfig{CircuitBreakerConfig::Window::Count, 10, 1, 1, 1, 0, 0, 1, 1}),
                  std::invalid_argument);
}

TEST_CASE("time window: outcomes older than the window leave it", "[breaker]") {
  CircuitBreakerConfig c;
  c.window = CircuitBreakerConfig::Window::Time;
  c.window_ns = 1'000;
  c.buckets = 10;
  c.min_calls = 4;
  c.failure_rate_pct = 50;
  CircuitBreaker cb(c);
  cb.record(false, 0);
  cb.record(false, 50);
  cb.record(false, 150);
  CHECK(cb.failure_rate_pct(150) == 100.0);
  CHECK(cb.state(150) == BreakerState::Closed);  // 3 < min_calls
  // Buckets are 100 ns wide: at 1,050 the window is buckets 1..10, so the two outcomes in
  // bucket 0 left and the one at 150 (bucket 1) is still in. (Granularity: one bucket.)
  CHECK(cb.failure_rate_pct(1'050) == 100.0);
  CHECK(cb.failure_rate_pct(2'000) == 0.0);      // all left
  for (int i = 0; i < 4; ++i) cb.record(true, 2'000);
  cb.record(false, 2'500);
  cb.record(false, 2'600);
  cb.record(false, 2'700);  // 3 failures of 7
  CHECK(cb.state(2'700) == BreakerState::Closed);
  cb.record(false, 2'800);  // 4 of 8 = 50%: open
  CHECK(cb.state(2'800) == BreakerState::Open);
}

TEST_CASE("thread-safe breaker: the same transitions behind a mutex", "[breaker]") {
  hft::ThreadSafeCircuitBreaker cb(count_cfg());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(cb.try_acquire(0));
    cb.record(false, 0);
  }
  CHECK(cb.state(0) == BreakerState::Open);
  CHECK(cb.counters().failures == 5);
}
