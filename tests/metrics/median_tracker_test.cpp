#include "hft/metrics/median_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"

namespace {
double naive_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}
}  // namespace

TEST_CASE("StreamingMedian equals sorting everything seen", "[median]") {
  hft::StreamingMedian m;
  std::vector<double> all;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 3000; ++i) {
    const double x = static_cast<double>(rng() % 500);  // many duplicates
    m.add(x);
    all.push_back(x);
    REQUIRE(m.median() == naive_median(all));
  }
}

TEST_CASE("SlidingMedian equals the naive window median, duplicates and all", "[median]") {
  for (std::size_t w : {1u, 2u, 7u, 64u, 1024u}) {
    hft::SlidingMedian m(w);
    std::deque<double> win;
    std::mt19937_64 rng(5);
    const std::size_t steps = hft::test::scaled(20'000) < 3000 ? 3000 : hft::test::scaled(20'000);
    for (std::size_t i = 0; i < steps; ++i) {
      const double x = static_cast<double>(rng() % 200) - 100.0;
      const double got = m.add(x);
      win.push_back(x);
      if (win.size() > w) win.pop_front();
      if (w < 1024 || i % 17 == 0) {
        INFO("window " << w << " step " << i);
        REQUIRE(got == naive_median(std::vector<double>(win.begin(), win.end())));
      }
    }
  }
}

TEST_CASE("P2Quantile stays close to the exact quantile on smooth distributions", "[median]") {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> uni(0, 1);
  std::normal_distribution<double> norm(100, 15);
  std::exponential_distribution<double> expo(1.0);
  for (const double p : {0.5, 0.9, 0.99}) {
    for (int dist = 0; dist < 3; ++dist) {
      hft::P2Quantile q(p);
      std::vector<double> all;
      for (int i = 0; i < 100'000; ++i) {
        const double x = dist == 0 ? uni(rng) : dist == 1 ? norm(rng) : expo(rng);
        q.add(x);
        all.push_back(x);
      }
      std::sort(all.begin(), all.end());
      // Error measured in rank: where the estimate falls in the sorted data.
      const double rank = static_cast<double>(std::lower_bound(all.begin(), all.end(), q.value()) - all.begin()) /
                          static_cast<double>(all.size());
      INFO("p " << p << " distribution " << dist << " estimate at rank " << rank);
      CHECK(std::abs(rank - p) < 0.01);
    }
  }
  hft::P2Quantile small(0.5);
  small.add(3);
  small.add(1);
  small.add(2);
  CHECK(small.value() == 2);  // exact below five samples
  CHECK_THROWS_AS(hft::P2Quantile(1.0), std::invalid_argument);
}

TEST_CASE("StreamingMedian, SlidingMedian, P2Quantile lifecycle contract", "[median][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::StreamingMedian, Copy::Yes, Move::DestroyOrAssign>());
  STATIC_REQUIRE(copy_move_is<hft::SlidingMedian, Copy::No, Move::DestroyOrAssign>());
  STATIC_REQUIRE(copy_move_is<hft::P2Quantile, Copy::Yes, Move::Usable>());
  moved_from_destroy_or_assign<hft::SlidingMedian>([] { return hft::SlidingMedian(3); },
                                                   [](hft::SlidingMedian& m) {
                                                     for (double x : {1.0, 2.0, 3.0, 4.0}) (void)m.add(x);
                                                     REQUIRE(m.median() == 3.0);
                                                   });
  hft::SlidingMedian one(1);  // limit: window 1
  CHECK(one.add(5) == 5.0);
  CHECK(one.add(-1) == -1.0);
  CHECK_THROWS_AS(hft::SlidingMedian(0), std::invalid_argument);
}
