#include "hft/trading/matching_engine.hpp"

#include <array>
#include <limits>
#include <random>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"
#include "reference_books.hpp"

using hft::Fill;
using hft::MatchingEngine;
using hft::NewOrder;
using hft::OrderId;
using hft::OrderType;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::TimeInForce;
using hft::test::NaiveVenue;

namespace {
NewOrder limit(std::uint64_t id, Side s, std::int64_t px, std::int64_t q,
               TimeInForce tif = TimeInForce::GoodTillCancel) {
  return NewOrder{OrderId(id), s, OrderType::Limit, tif, Price::from_ticks(px), Qty(q)};
}
NewOrder market(std::uint64_t id, Side s, std::int64_t q) {
  return NewOrder{OrderId(id), s, OrderType::Market, TimeInForce::ImmediateOrCancel, Price{}, Qty(q)};
}

bool same(const Fill& a, const Fill& b) { return a.resting_id == b.resting_id && a.price == b.price && a.qty == b.qty; }
}  // namespace

TEST_CASE("matching: partial fills, sweep through levels, IOC remainder, time priority", "[matching]") {
  MatchingEngine m(64, 16);
  std::array<Fill, 16> f{};
  REQUIRE(m.submit(limit(1, Side::Sell, 101, 5), f).resting == Qty(5));
  REQUIRE(m.submit(limit(2, Side::Sell, 101, 7), f).resting == Qty(7));  // behind 1 in time
  REQUIRE(m.submit(limit(3, Side::Sell, 102, 10), f).resting == Qty(10));
  REQUIRE(m.submit(limit(4, Side::Buy, 99, 10), f).resting == Qty(10));

  // Partial: 3 from order 1 (time priority over 2).
  auto r = m.submit(limit(10, Side::Buy, 101, 3, TimeInForce::ImmediateOrCancel), f);
  REQUIRE(r.fills == 1);
  CHECK(same(f[0], Fill{OrderId(1), Price::from_ticks(101), Qty(3)}));
  CHECK(r.cancelled == Qty(0));
  CHECK(m.qty_at(Side::Sell, Price::from_ticks(101)) == Qty(9));

  // Sweep: 2 left of order 1, all 7 of order 2, then 4 of order 3 at 102; IOC: nothing rests.
  r = m.submit(limit(11, Side::Buy, 102, 13, TimeInForce::ImmediateOrCancel), f);
  REQUIRE(r.fills == 3);
  CHECK(same(f[0], Fill{OrderId(1), Price::from_ticks(101), Qty(2)}));
  CHECK(same(f[1], Fill{OrderId(2), Price::from_ticks(101), Qty(7)}));
  CHECK(same(f[2], Fill{OrderId(3), Price::from_ticks(102), Qty(4)}));
  CHECK(r.filled == Qty(13));
  CHECK(r.notional_ticks == 9 * 101 + 4 * 102);
  CHECK(m.best(Side::Sell)->price == Price::from_ticks(102));

  // IOC with remainder beyond the limit: fills 6 at 102, cancels 4.
  r = m.submit(limit(12, Side::Buy, 102, 10, TimeInForce::ImmediateOrCancel), f);
  CHECK(r.filled == Qty(6));
  CHECK(r.cancelled == Qty(4));
  CHECK(r.resting == Qty(0));
  CHECK_FALSE(m.best(Side::Sell).has_value());

  // Limit GTC that partly fills then rests; market order; cancel.
  REQUIRE(m.submit(limit(5, Side::Sell, 98, 4), f).filled == Qty(4));  // hits the 99 bid
  CHECK(m.best(Side::Buy)->qty == Qty(6));
  r = m.submit(market(13, Side::Sell, 10), f);
  CHECK(r.filled == Qty(6));
  CHECK(r.cancelled == Qty(4));
  REQUIRE(m.submit(limit(6, Side::Buy, 97, 5), f).resting == Qty(5));
  CHECK(m.cancel(OrderId(6)) == hft::BookError::None);
  CHECK(m.cancel(OrderId(6)) == hft::BookError::UnknownOrder);
  CHECK(m.order_count() == 0);
  CHECK(m.submit(limit(7, Side::Buy, 97, 0), f).error == hft::BookError::InvalidQty);
  REQUIRE(m.submit(limit(8, Side::Buy, 97, 1), f).resting == Qty(1));
  CHECK(m.submit(limit(8, Side::Buy, 96, 1), f).error == hft::BookError::DuplicateOrder);
}

TEST_CASE("matching: a full fill buffer truncates the match, never overruns it", "[matching]") {
  MatchingEngine m(64, 16);
  std::array<Fill, 2> f{};
  for (std::uint64_t i = 1; i <= 5; ++i) REQUIRE(m.submit(limit(i, Side::Sell, 100, 1), f).resting == Qty(1));
  const auto r = m.submit(limit(9, Side::Buy, 100, 5, TimeInForce::ImmediateOrCancel), f);
  CHECK(r.truncated);
  CHECK(r.fills == 2);
  CHECK(r.filled == Qty(2));
  CHECK(r.cancelled == Qty(3));
  CHECK(m.qty_at(Side::Sell, Price::from_ticks(100)) == Qty(3));
}

TEST_CASE("matching equals a naive price-time matcher on random order flow", "[matching][stress]") {
  std::mt19937_64 rng(11);
  MatchingEngine m(4096, 512);
  NaiveVenue naive;
  std::vector<std::uint64_t> live;
  std::array<Fill, 512> f{};
  const std::size_t steps = hft::test::scaled(200'000);
  for (std::uint64_t id = 1; id <= steps; ++id) {
    if (!live.empty() && rng() % 4 == 0) {
      const std::size_t k = rng() % live.size();
      const std::uint64_t victim = live[k];
      const bool in_naive = naive.cancel(victim);
      REQUIRE((m.cancel(OrderId(victim)) == hft::BookError::None) == in_naive);
      live[k] = live.back();
      live.pop_back();
      continue;
    }
    const Side side = rng() % 2 ? Side::Buy : Side::Sell;
    const std::int64_t px = 1000 + static_cast<std::int64_t>(rng() % 21) - 10;
    const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 50);
    NewOrder o = rng() % 10 == 0 ? market(id, side, q)
                                 : limit(id, side, px, q,
                                         rng() % 5 == 0 ? TimeInForce::ImmediateOrCancel : TimeInForce::GoodTillCancel);
    if (naive.book.size() > 3000) o = market(id, side, q);  // keep the naive book bounded
    const auto want = naive.submit(o);
    const auto r = m.submit(o, f);
    REQUIRE_FALSE(r.truncated);
    REQUIRE(r.fills == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(same(f[i], want[i]));
    if (r.resting.value() > 0) live.push_back(id);
    REQUIRE(m.order_count() == naive.book.size());
  }
}

TEST_CASE("MatchingEngine lifecycle contract: move-only, a moved-from engine may be assigned and reused",
          "[matching][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::MatchingEngine, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::MatchingEngine>(
      [] {
        hft::MatchingEngine e(16, 8);
        hft::Fill fills[4];
        (void)e.submit(hft::NewOrder{hft::OrderId(1), hft::Side::Sell, hft::OrderType::Limit,
                                     hft::TimeInForce::GoodTillCancel, hft::Price::from_ticks(100), hft::Qty(5)},
                       fills);
        return e;
      },
      [](hft::MatchingEngine& e) {
        hft::Fill fills[4];
        const auto r =
            e.submit(hft::NewOrder{hft::OrderId(77), hft::Side::Buy, hft::OrderType::Limit,
                                   hft::TimeInForce::ImmediateOrCancel, hft::Price::from_ticks(100), hft::Qty(1)},
                     fills);
        REQUIRE(r.fills == 1);
      });
}

// An ask's sort key was its negated price; -INT64_MIN is undefined (found by fuzz/md_reader
// in OrderBookL2, which shares the key with the engine).
TEST_CASE("matching: orders at both ends of int64 rest, match and cancel", "[matching][regression]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  MatchingEngine m(64, 16);
  std::array<Fill, 4> f{};
  REQUIRE(m.submit(limit(1, Side::Sell, kMax, 5), f).resting == Qty(5));
  REQUIRE(m.submit(limit(2, Side::Buy, kMin, 5), f).resting == Qty(5));
  CHECK(m.best(Side::Sell) == hft::Level{Price::from_ticks(kMax), Qty(5)});
  CHECK(m.best(Side::Buy) == hft::Level{Price::from_ticks(kMin), Qty(5)});
  CHECK(m.submit(limit(3, Side::Sell, kMin, 2), f).filled == Qty(2));  // any bid is >= INT64_MIN
  CHECK(m.submit(limit(4, Side::Buy, kMax, 2), f).filled == Qty(2));   // any ask is <= INT64_MAX
  CHECK(m.qty_at(Side::Sell, Price::from_ticks(kMax)) == Qty(3));
  CHECK(m.qty_at(Side::Buy, Price::from_ticks(kMin)) == Qty(3));
}

// The same overflow as OrderBookL2's (found by fuzzing the books): a resting order that
// would take its level's total past INT64_MAX is not rested; its remainder is cancelled.
TEST_CASE("matching: a resting total past INT64_MAX is refused, the book keeps what it had", "[matching][regression]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  MatchingEngine m(64, 16);
  std::array<Fill, 4> f{};
  REQUIRE(m.submit(limit(1, Side::Sell, 100, kMax), f).resting == Qty(kMax));
  const auto r = m.submit(limit(2, Side::Sell, 100, 1), f);
  CHECK(r.rest_error == hft::BookError::QtyOverflow);
  CHECK(r.resting == Qty(0));
  CHECK(r.cancelled == Qty(1));
  CHECK(m.qty_at(Side::Sell, Price::from_ticks(100)) == Qty(kMax));
  CHECK(m.submit(limit(3, Side::Buy, 100, 5), f).filled == Qty(5));  // the book still matches
}
