#include "hft/core/clock.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"
#include "hft/core/deadline.hpp"

TEST_CASE("TscClock is monotonic", "[clock]") {
  const hft::TscClock clock;
  std::uint64_t prev = clock.now_ns();
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t now = clock.now_ns();
    REQUIRE(now >= prev);
    prev = now;
  }
  std::uint64_t prev_ticks = hft::TscClock::ticks_ordered();
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t t = hft::TscClock::ticks_ordered();
    REQUIRE(t >= prev_ticks);
    prev_ticks = t;
  }
}

TEST_CASE("TscClock calibration tracks steady_clock", "[clock]") {
  const hft::TscClock clock;
  const hft::SteadyClock steady;
  REQUIRE(clock.ticks_per_ns() > 0.0);
  // Starts on steady_clock's timeline...
  const std::int64_t offset = static_cast<std::int64_t>(clock.now_ns()) - static_cast<std::int64_t>(steady.now_ns());
  REQUIRE(std::llabs(offset) < 5'000'000);  // 5 ms: generous for a loaded VM
  // ...and runs at its rate: over 100 ms of steady time, within 2% (a sanity check of
  // the calibration, not a speed assertion; the documented error is ~10 ppm).
  const std::uint64_t s0 = steady.now_ns(), t0 = clock.now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::uint64_t s1 = steady.now_ns(), t1 = clock.now_ns();
  const double ratio = static_cast<double>(t1 - t0) / static_cast<double>(s1 - s0);
  REQUIRE(ratio > 0.98);
  REQUIRE(ratio < 1.02);
  REQUIRE(clock.delta_to_ns(0) == 0);
  if (hft::TscClock::is_tsc()) {
    INFO("invariant TSC: " << hft::TscClock::invariant_tsc());
    SUCCEED();
  }
}

TEST_CASE("SimClock moves only when told, from any thread", "[clock]") {
  hft::SimClock c(100);
  REQUIRE(c.now_ns() == 100);
  c.advance(50);
  REQUIRE(c.now_ns() == 150);
  c.set(1'000);
  REQUIRE(c.now_ns() == 1'000);
  std::thread t([&] {
    for (int i = 0; i < 1000; ++i) c.advance(1);
  });
  for (int i = 0; i < 1000; ++i) c.advance(1);
  t.join();
  REQUIRE(c.now_ns() == 3'000);
  STATIC_REQUIRE(hft::NanoClock<hft::SimClock>);
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("SimClock::set backwards asserts in debug builds", "[clock][assert]") {
  auto r = hft::test::run_expecting_abort([] {
    hft::SimClock c(10);
    c.set(5);
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("backwards") != std::string::npos);
}
#endif

TEST_CASE("deadline_after saturates: forever never wraps into the past", "[clock][deadline][regression]") {
  using clock = std::chrono::steady_clock;
  const auto before = clock::now();
  CHECK(hft::deadline_after(std::chrono::nanoseconds::max()) == clock::time_point::max());
  CHECK(hft::deadline_after(std::chrono::hours::max()) == clock::time_point::max());
  CHECK(hft::deadline_after(std::chrono::duration<double>(std::numeric_limits<double>::infinity())) ==
        clock::time_point::max());
  CHECK(hft::deadline_after(std::chrono::duration<double>(std::numeric_limits<double>::quiet_NaN())) ==
        clock::time_point::max());
  const auto zero = hft::deadline_after(std::chrono::nanoseconds::zero());
  CHECK(zero >= before);
  CHECK(zero <= clock::now());
  CHECK(hft::deadline_after(std::chrono::seconds(-5)) >= before);  // negative: now, not the past
  const auto soon = hft::deadline_after(std::chrono::milliseconds(10));
  CHECK(soon - before >= std::chrono::milliseconds(10));
  CHECK(soon < clock::time_point::max());
  CHECK(hft::deadline_after(std::chrono::duration<double, std::milli>(1.5)) - before >= std::chrono::microseconds(1500));
}

TEST_CASE("clocks lifecycle contract", "[clock][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::TscClock, Copy::Yes, Move::Usable>());
  STATIC_REQUIRE(copy_move_is<hft::SimClock, Copy::No, Move::No>());
  const hft::TscClock a(std::chrono::milliseconds(1));
  const hft::TscClock b = a;  // same calibration
  CHECK(a.delta_to_ns(1'000'000) == b.delta_to_ns(1'000'000));
  hft::SimClock s(std::numeric_limits<std::uint64_t>::max() - 1);  // near the limit
  s.set(std::numeric_limits<std::uint64_t>::max());
  CHECK(s.now_ns() == std::numeric_limits<std::uint64_t>::max());
}
