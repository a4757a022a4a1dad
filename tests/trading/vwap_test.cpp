#include "hft/trading/vwap.hpp"

#include <deque>
#include <initializer_list>
#include <limits>
#include <utility>
#include <random>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "hft/core/clock.hpp"

using hft::Price;
using hft::Qty;

TEST_CASE("cumulative VWAP is exact and cannot overflow", "[vwap]") {
  hft::Vwap v;
  CHECK_FALSE(v.value().has_value());
  CHECK(v.add(Price::from_ticks(100), Qty(1)));
  CHECK(v.add(Price::from_ticks(200), Qty(3)));
  CHECK_FALSE(v.add(Price::from_ticks(999), Qty(0)));
  CHECK(*v.value_ticks() == 175.0);
  CHECK(v.value()->ticks() == 175);
  // Huge prices and sizes: 2^40 ticks x 2^40 units, a million times.
  hft::Vwap big;
  for (int i = 0; i < 1'000'000; ++i) big.add(Price::from_ticks(std::int64_t{1} << 40), Qty(std::int64_t{1} << 40));
  CHECK(big.value()->ticks() == (std::int64_t{1} << 40));
}

TEST_CASE("windowed VWAP equals a naive recomputation with SimClock", "[vwap]") {
  hft::SimClock clock;
  hft::WindowedVwap w(32, {.window_ns = 1'000});
  std::deque<std::tuple<std::uint64_t, std::int64_t, std::int64_t>> ref;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50'000; ++i) {
    clock.advance(rng() % 100);
    const std::int64_t px = 10'000 + static_cast<std::int64_t>(rng() % 50), q = 1 + static_cast<std::int64_t>(rng() % 500);
    w.add(Price::from_ticks(px), Qty(q), clock.now_ns());
    ref.emplace_back(clock.now_ns(), px, q);
    while (!ref.empty() && std::get<0>(ref.front()) + 1'000 <= clock.now_ns()) ref.pop_front();
    while (ref.size() > 32) ref.pop_front();
    hft::Notional pq = 0, qq = 0;
    for (auto& [t, p, qty] : ref) {
      pq += static_cast<hft::Notional>(p) * qty;
      qq += qty;
    }
    REQUIRE(w.trades() == ref.size());
    REQUIRE(*w.value_ticks() == static_cast<double>(pq) / static_cast<double>(qq));
  }
}

TEST_CASE("per-symbol VWAP table is bounded", "[vwap]") {
  hft::VwapTable t(2);
  CHECK(t.add(hft::Symbol::of("AAPL"), Price::from_ticks(10), Qty(1)));
  CHECK(t.add(hft::Symbol::of("MSFT"), Price::from_ticks(20), Qty(1)));
  CHECK(t.add(hft::Symbol::of("AAPL"), Price::from_ticks(30), Qty(1)));
  CHECK_FALSE(t.add(hft::Symbol::of("GOOG"), Price::from_ticks(5), Qty(1)));  // full
  CHECK(t.find(hft::Symbol::of("AAPL"))->value()->ticks() == 20);
  CHECK(t.find(hft::Symbol::of("GOOG")) == nullptr);
  CHECK(t.size() == 2);
}

TEST_CASE("Vwap, WindowedVwap, VwapTable lifecycle contract", "[vwap][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::Vwap, Copy::Yes, Move::Usable>());
  STATIC_REQUIRE(copy_move_is<hft::WindowedVwap, Copy::No, Move::DestroyOrAssign>());
  STATIC_REQUIRE(copy_move_is<hft::VwapTable, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::WindowedVwap>([] { return hft::WindowedVwap(4, {.window_ns = 1'000}); },
                                                  [](hft::WindowedVwap& w) {
                                                    REQUIRE(w.add(hft::Price::from_ticks(10), hft::Qty(1), 5));
                                                    REQUIRE(w.value().has_value());
                                                  });
  moved_from_destroy_or_assign<hft::VwapTable>([] { return hft::VwapTable(2); },
                                               [](hft::VwapTable& t) {
                                                 REQUIRE(t.add(hft::Symbol::of("AAPL"), hft::Price::from_ticks(10), hft::Qty(1)));
                                                 REQUIRE(t.find(hft::Symbol::of("AAPL")) != nullptr);
                                               });
  CHECK_THROWS_AS(hft::WindowedVwap(1, {.window_ns = 0}), std::invalid_argument);
  CHECK_THROWS_AS(hft::WindowedVwap(0, {.window_ns = 1}), std::invalid_argument);
  hft::WindowedVwap one(1, {.window_ns = 1'000});  // limit: one trade kept
  CHECK(one.add(hft::Price::from_ticks(10), hft::Qty(1), 0));
  CHECK(one.add(hft::Price::from_ticks(20), hft::Qty(1), 1));
  CHECK(one.evicted_early() == 1);
  CHECK(one.value() == hft::Price::from_ticks(20));
}

// Issue 34, limit sweep: value() rounded with C++'s truncating division, so a negative VWAP
// rounded towards zero (-4/3 ticks came out 0, not -1); it formed 2 x notional, which
// overflows __int128 past 2^126 (two trades at INT64_MAX x INT64_MAX); and remove(p, 0)
// was not the inverse of the add(p, 0) it ignores.
TEST_CASE("Vwap::value rounds half-up at negative prices and at the largest notionals", "[vwap][regression][limits]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const auto vwap_of = [](std::initializer_list<std::pair<std::int64_t, std::int64_t>> trades) {
    hft::Vwap v;
    for (const auto& [p, q] : trades) REQUIRE(v.add(Price::from_ticks(p), Qty(q)));
    return v.value()->ticks();
  };
  CHECK(vwap_of({{-1, 2}, {-2, 1}}) == -1);  // -4/3
  CHECK(vwap_of({{-1, 1}, {-2, 1}}) == -1);  // -1.5: a tie rounds up
  CHECK(vwap_of({{-2, 2}, {-1, 1}}) == -2);  // -5/3
  CHECK(vwap_of({{1, 1}, {2, 1}}) == 2);     // 1.5
  CHECK(vwap_of({{kMax, kMax}, {kMax, kMax}}) == kMax);  // notional 2^127 - 2^65 + 2
  CHECK(vwap_of({{kMin, kMax}, {kMin, kMax}}) == kMin);
  CHECK(vwap_of({{kMin, kMax}, {kMax, kMax}}) == 0);  // -0.5 x kMax / kMax: a tie, rounds up
  hft::Vwap v;
  REQUIRE(v.add(Price::from_ticks(10), Qty(1)));
  CHECK_FALSE(v.add(Price::from_ticks(10), Qty(0)));
  v.remove(Price::from_ticks(10), Qty(0));  // the inverse of the ignored add: nothing
  v.remove(Price::from_ticks(10), Qty(-5));
  CHECK(v.volume() == 1);
  CHECK(v.value()->ticks() == 10);
}

// Issue 34, limit sweep: expiry compared t + window_ns with now, which wraps: with
// window_ns = UINT64_MAX every trade left at the next add.
TEST_CASE("WindowedVwap: a window of UINT64_MAX keeps every trade, times near 2^64 do not wrap",
          "[vwap][regression][limits]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  hft::WindowedVwap forever(8, {.window_ns = kMax});
  CHECK(forever.add(Price::from_ticks(100), Qty(1), 1));
  CHECK(forever.add(Price::from_ticks(200), Qty(1), kMax - 1));
  CHECK(forever.trades() == 2);
  CHECK(forever.value()->ticks() == 150);
  hft::WindowedVwap late(8, {.window_ns = 10});
  CHECK(late.add(Price::from_ticks(100), Qty(1), kMax - 9));
  CHECK(late.add(Price::from_ticks(200), Qty(1), kMax));
  CHECK(late.trades() == 2);
  late.expire(kMax - 20);  // a clock that stepped back expires nothing
  CHECK(late.trades() == 2);
}
