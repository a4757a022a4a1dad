// SlidingMedian (two indexed heaps) and SortedWindowMedian (sorted array): each against the
// naive recomputation over a deque of the window, for windows from 1 to 65,536 and series
// chosen to stress each structure (duplicates, monotone runs that sift to the root every
// update, alternating extremes that cross halves every update).
#include "hft/metrics/sliding_median.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"

namespace {
double naive_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

// Sample k of a series of the given shape.
double sample(const std::string& shape, std::mt19937_64& rng, std::size_t k) {
  const auto i = static_cast<double>(k);
  if (shape == "duplicates") return static_cast<double>(rng() % 200) - 100.0;
  if (shape == "increasing") return i;
  if (shape == "decreasing") return -i;
  if (shape == "alternating") return (k & 1) ? 1e6 + i : -1e6 - i;  // every sample crosses the median
  if (shape == "sawtooth") return static_cast<double>(k % 97);
  return std::normal_distribution<double>(100.0, 2.0)(rng);  // "normal"
}

template <class Median>
void check_against_naive(std::size_t w, const std::string& shape, std::size_t steps, std::size_t every) {
  Median m(w);
  std::deque<double> win;
  std::mt19937_64 rng(5);
  for (std::size_t i = 0; i < steps; ++i) {
    const double x = sample(shape, rng, i);
    const double got = m.add(x);
    win.push_back(x);
    if (win.size() > w) win.pop_front();
    REQUIRE(m.count() == win.size());
    if (i % every == 0 || i + 1 == steps || win.size() < 8) {
      INFO("window " << w << " shape " << shape << " step " << i);
      REQUIRE(got == naive_median(std::vector<double>(win.begin(), win.end())));
      REQUIRE(m.median() == got);
    }
  }
}
}  // namespace

TEMPLATE_TEST_CASE("sliding medians equal the naive window median, every shape and window", "[median]",
                   hft::SlidingMedian, hft::SortedWindowMedian) {
  const std::size_t steps = std::max<std::size_t>(hft::test::scaled(20'000), 3000);
  for (const char* shape : {"duplicates", "normal", "increasing", "decreasing", "alternating", "sawtooth"}) {
    for (std::size_t w : {1u, 2u, 3u, 7u, 8u, 64u, 1000u, 1024u}) {
      check_against_naive<TestType>(w, shape, steps, w < 64 ? 1 : 17);
    }
  }
}

TEMPLATE_TEST_CASE("sliding medians stay exact over a 65,536 window and several turns of it", "[median]",
                   hft::SlidingMedian, hft::SortedWindowMedian) {
  const std::size_t w = 65'536;
  for (const char* shape : {"normal", "alternating"}) check_against_naive<TestType>(w, shape, 3 * w + 11, 20'011);
}

TEST_CASE("SlidingMedian and SortedWindowMedian agree on a long random series", "[median]") {
  // Every step, not sampled: the two structures share no code.
  for (std::size_t w : {5u, 300u, 4096u}) {
    hft::SlidingMedian a(w);
    hft::SortedWindowMedian b(w);
    std::mt19937_64 rng(w);
    for (std::size_t i = 0; i < hft::test::scaled(200'000); ++i) {
      const double x = static_cast<double>(rng() % 1000);
      REQUIRE(a.add(x) == b.add(x));
    }
  }
}

TEMPLATE_TEST_CASE("sliding median lifecycle contract: move, window 1, empty, window 0 rejected", "[median][lifecycle]",
                   hft::SlidingMedian, hft::SortedWindowMedian) {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<TestType, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<TestType>([] { return TestType(3); },
                                         [](TestType& m) {
                                           for (double x : {1.0, 2.0, 3.0, 4.0}) (void)m.add(x);
                                           REQUIRE(m.median() == 3.0);
                                         });
  TestType empty(4);
  CHECK(std::isnan(empty.median()));
  CHECK(empty.count() == 0);
  CHECK(empty.window() == 4);
  TestType one(1);  // limit: window 1
  CHECK(one.add(5) == 5.0);
  CHECK(one.add(-1) == -1.0);
  CHECK(one.count() == 1);
  CHECK_THROWS_AS(TestType(0), std::invalid_argument);
}

TEST_CASE("sliding median errors name the type", "[median]") {
  CHECK_THROWS_WITH(hft::SlidingMedian(0), Catch::StartsWith("hft::SlidingMedian: "));
  CHECK_THROWS_WITH(hft::SlidingMedian(std::size_t{1} << 32), Catch::StartsWith("hft::SlidingMedian: "));
  CHECK_THROWS_WITH(hft::SortedWindowMedian(0), Catch::StartsWith("hft::SortedWindowMedian: "));
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("a NaN sample asserts in debug builds", "[median][assert]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto r = hft::test::run_expecting_abort([nan] {
    hft::SlidingMedian m(4);
    (void)m.add(nan);
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("SlidingMedian::add: NaN sample") != std::string::npos);
  auto r2 = hft::test::run_expecting_abort([nan] {
    hft::SortedWindowMedian m(4);
    (void)m.add(nan);
  });
  REQUIRE(r2.aborted);
  REQUIRE(r2.stderr_text.find("SortedWindowMedian::add: NaN sample") != std::string::npos);
}
#endif
