#include "hft/metrics/rolling_stats.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <random>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"
#include "hft/core/clock.hpp"

namespace {
struct Naive {  // recomputed from scratch, in long double
  std::deque<std::pair<std::uint64_t, double>> w;
  long double mean() const {
    long double s = 0;
    for (auto& [t, x] : w) s += static_cast<long double>(x);
    return s / static_cast<long double>(w.size());
  }
  long double var() const {
    const long double m = mean();
    long double s = 0;
    for (auto& [t, x] : w) s += (static_cast<long double>(x) - m) * (static_cast<long double>(x) - m);
    return w.size() > 1 ? s / static_cast<long double>(w.size() - 1) : 0;
  }
};
void check_same(const hft::RollingStats& r, const Naive& n, double offset_scale) {
  REQUIRE(r.count() == n.w.size());
  if (n.w.empty()) return;
  const double m = static_cast<double>(n.mean()), v = static_cast<double>(n.var());
  REQUIRE(std::abs(r.mean() - m) <= 1e-9 * (std::abs(m) + offset_scale));
  REQUIRE(std::abs(r.variance() - v) <= 1e-6 * v + 1e-9);
  double lo = n.w.front().second, hi = lo;
  for (auto& [t, x] : n.w) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  REQUIRE(r.min() == lo);
  REQUIRE(r.max() == hi);
}
// The time-window tests' window: 1,000 ns and at most 16 samples. One sample into both at
// `now`; the naive window drops what the time window must.
constexpr std::uint64_t kWindowNs = 1'000;
constexpr std::size_t kCapacity = 16;
void add_timed(hft::RollingStats& r, Naive& n, std::uint64_t now, double x) {
  r.add(x, now);
  n.w.push_back({now, x});
  while (!n.w.empty() && n.w.front().first + kWindowNs <= now) n.w.pop_front();
  while (n.w.size() > kCapacity) n.w.pop_front();
}
}  // namespace

TEST_CASE("count window equals a naive recomputation, including a large offset", "[rolling]") {
  for (const double offset : {0.0, 1e9}) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> noise(0, 3.0);
    auto r = hft::RollingStats::count_window(100);
    Naive n;
    const std::size_t steps = hft::test::scaled(300'000);
    for (std::size_t i = 0; i < steps; ++i) {
      const double x = offset + noise(rng) + (i % 1000 == 0 ? 50.0 : 0.0);  // spikes for min/max
      r.add(x);
      n.w.push_back({i, x});
      if (n.w.size() > 100) n.w.pop_front();
      if (i % 37 == 0 || i < 300) {
        INFO("offset " << offset << " step " << i);
        check_same(r, n, offset);
      }
    }
    // With a 1e9 offset the variance (~9) keeps its digits: the naive one-pass formula
    // (sum of squares - n mean^2) would have lost them all.
    CHECK(r.variance() > 4);
    CHECK(r.variance() < 20);
  }
}

TEST_CASE("time window with SimClock: expiry by time, capacity eviction", "[rolling]") {
  hft::SimClock clock;
  auto r = hft::RollingStats::time_window(kWindowNs, kCapacity);
  Naive n;
  std::mt19937_64 rng(2);
  for (int i = 0; i < 20'000; ++i) {
    clock.advance(rng() % 60);
    const double x = static_cast<double>(rng() % 1000) / 7.0;
    add_timed(r, n, clock.now_ns(), x);
    check_same(r, n, 0);
  }
  clock.advance(5'000);
  r.expire(clock.now_ns());
  CHECK(r.count() == 0);
  CHECK(std::isnan(r.min()));
  CHECK(r.evicted_early() > 0);  // ~30 ns apart on average in a 1,000 ns window: often > 16
  CHECK_THROWS_AS(hft::RollingStats::count_window(0), std::invalid_argument);
}

TEST_CASE("time window that empties now and then: the periodic re-sum runs over a wrapped ring", "[rolling]") {
  // Every `capacity` removals the window is re-summed exactly. A window that empties moves
  // the ring's head without a removal, so later re-sums start mid-ring and wrap; without
  // the gaps the head is back at 0 at every re-sum and the wrap is never taken.
  hft::SimClock clock;
  auto r = hft::RollingStats::time_window(kWindowNs, kCapacity);
  Naive n;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20'000; ++i) {
    clock.advance(i % 97 == 0 ? 5'000 : rng() % 60);
    const double x = 1e6 + static_cast<double>(rng() % 1000) / 7.0;
    add_timed(r, n, clock.now_ns(), x);
    INFO("step " << i);
    check_same(r, n, 1e6);
  }
}

TEST_CASE("without extremes: the same mean and variance, min/max are NaN", "[rolling]") {
  auto a = hft::RollingStats::count_window(10);
  auto b = hft::RollingStats::count_window(10, hft::RollingStats::Extremes::No);
  for (int i = 0; i < 1000; ++i) {
    const double x = static_cast<double>((i * 7919) % 101);
    a.add(x);
    b.add(x);
    REQUIRE(a.mean() == b.mean());
    REQUIRE(a.variance() == b.variance());
  }
  CHECK(std::isnan(b.min()));
}

TEST_CASE("RollingStats lifecycle contract: move-only, limits of 1", "[rolling][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::RollingStats, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::RollingStats>([] { return hft::RollingStats::count_window(2); },
                                                  [](hft::RollingStats& r) {
                                                    r.add(1);
                                                    r.add(3);
                                                    r.add(5);
                                                    REQUIRE(r.mean() == 4.0);
                                                    REQUIRE(r.count() == 2);
                                                  });
  auto one = hft::RollingStats::count_window(1);
  one.add(4);
  one.add(6);
  CHECK(one.mean() == 6.0);
  CHECK(one.variance() == 0.0);
  CHECK_THROWS_AS(hft::RollingStats::count_window(0), std::invalid_argument);
  CHECK_THROWS_AS(hft::RollingStats::time_window(0, 4), std::invalid_argument);
  auto t = hft::RollingStats::time_window(1, 1);  // 1 ns window, 1 sample
  t.add(1, 10);
  t.add(2, 11);
  CHECK(t.count() == 1);
  CHECK(t.mean() == 2.0);
}

// Issue 34, defect 5: expiry compared t + window_ns with now, and the sum wraps: with
// window_ns = UINT64_MAX every sample expired at the next add, and with any window a sample
// taken near 2^64 expired at once.
TEST_CASE("time window: a window of UINT64_MAX keeps everything, times near 2^64 do not wrap",
          "[rolling][regression][limits]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  auto forever = hft::RollingStats::time_window(kMax, 8);
  forever.add(1.0, 0);
  forever.add(2.0, 1);
  forever.add(3.0, kMax - 1);
  CHECK(forever.count() == 3);
  CHECK(forever.mean() == 2.0);
  forever.expire(kMax);  // the first sample is exactly UINT64_MAX old: it leaves
  CHECK(forever.count() == 2);
  CHECK(forever.min() == 2.0);

  auto late = hft::RollingStats::time_window(10, 8);
  late.add(1.0, kMax - 20);
  late.add(2.0, kMax - 9);
  late.add(3.0, kMax);  // kMax - 20 left at the add before (11 old); kMax - 9 is 9 old and stays
  CHECK(late.count() == 2);
  CHECK(late.mean() == 2.5);
  late.expire(kMax - 15);  // a clock that stepped back before the oldest sample expires nothing
  CHECK(late.count() == 2);
}
