#include "hft/metrics/moving_average.hpp"

#include <cmath>
#include <deque>
#include <random>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

TEST_CASE("SMA equals a naive mean of the last N, over a long stream with an offset", "[ma]") {
  hft::SimpleMovingAverage sma(50);
  std::deque<double> w;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200'000; ++i) {
    const double x = 1e9 + static_cast<double>(rng() % 10'000) / 100.0;
    const double got = sma.add(x);
    w.push_back(x);
    if (w.size() > 50) w.pop_front();
    long double s = 0;
    for (double v : w) s += static_cast<long double>(v);
    REQUIRE(std::abs(got - static_cast<double>(s / static_cast<long double>(w.size()))) < 1e-5);
  }
  CHECK(sma.full());
}

TEST_CASE("EMA by alpha and by half-life", "[ma]") {
  auto e = hft::ExponentialMovingAverage::with_alpha(0.5);
  CHECK(e.add(10) == 10);  // first sample initialises
  CHECK(e.add(20) == 15);
  CHECK(e.add(20) == 17.5);
  auto h = hft::ExponentialMovingAverage::with_half_life(1'000);
  CHECK(h.add(0, 0) == 0);
  CHECK(h.add(100, 1'000) == Approx(50));      // one half-life: half way
  CHECK(h.add(100, 3'000) == Approx(87.5));    // two more: 50 + 50 x 3/4
  CHECK(h.add(0, 3'000) == Approx(87.5));      // no time passed: no weight
  CHECK_THROWS_AS(hft::ExponentialMovingAverage::with_alpha(0), std::invalid_argument);
  CHECK_THROWS_AS(hft::ExponentialMovingAverage::with_half_life(0), std::invalid_argument);
}

TEST_CASE("SimpleMovingAverage and ExponentialMovingAverage lifecycle contract", "[sma][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::SimpleMovingAverage, Copy::No, Move::DestroyOrAssign>());
  STATIC_REQUIRE(copy_move_is<hft::ExponentialMovingAverage, Copy::Yes, Move::Usable>());
  moved_from_destroy_or_assign<hft::SimpleMovingAverage>([] { return hft::SimpleMovingAverage(2); },
                                                         [](hft::SimpleMovingAverage& s) {
                                                           (void)s.add(1);
                                                           (void)s.add(3);
                                                           REQUIRE(s.add(5) == 4.0);
                                                         });
  hft::SimpleMovingAverage one(1);  // limit: n = 1
  CHECK(one.add(7) == 7.0);
  CHECK(one.add(9) == 9.0);
}
