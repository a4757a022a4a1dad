#include "hft/metrics/streaming_median.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

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

TEST_CASE("StreamingMedian lifecycle contract: copies are independent, reserve, one sample", "[median][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::StreamingMedian, Copy::Yes, Move::DestroyOrAssign>());
  hft::StreamingMedian a;
  a.reserve(16);
  a.add(4);
  CHECK(a.median() == 4.0);  // limit: one sample
  hft::StreamingMedian b = a;
  b.add(10);
  CHECK(a.median() == 4.0);
  CHECK(b.median() == 7.0);
}
