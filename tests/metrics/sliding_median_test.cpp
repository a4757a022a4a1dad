#include "hft/metrics/sliding_median.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <stdexcept>
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

TEST_CASE("SlidingMedian lifecycle contract: move, window 1, window 0 rejected", "[median][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::SlidingMedian, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::SlidingMedian>([] { return hft::SlidingMedian(3); },
                                                   [](hft::SlidingMedian& m) {
                                                     for (double x : {1.0, 2.0, 3.0, 4.0}) (void)m.add(x);
                                                     REQUIRE(m.median() == 3.0);
                                                   });
  hft::SlidingMedian one(1);  // limit: window 1
  CHECK(one.add(5) == 5.0);
  CHECK(one.add(-1) == -1.0);
  CHECK_THROWS_WITH(hft::SlidingMedian(0), Catch::StartsWith("hft::SlidingMedian: "));
}
