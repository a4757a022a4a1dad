#include "hft/metrics/p2_quantile.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

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

TEST_CASE("P2Quantile lifecycle contract: a copyable value, p outside (0, 1) rejected", "[median][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::P2Quantile, Copy::Yes, Move::Usable>());
  hft::P2Quantile a(0.5);
  for (double x : {1.0, 2.0, 3.0}) a.add(x);
  hft::P2Quantile b = a;
  b.add(100);
  CHECK(a.value() == 2.0);
  CHECK_THROWS_WITH(hft::P2Quantile(0.0), Catch::StartsWith("hft::P2Quantile: "));
  CHECK_THROWS_AS(hft::P2Quantile(1.0), std::invalid_argument);
}
