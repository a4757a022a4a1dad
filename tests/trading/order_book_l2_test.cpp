#include "hft/trading/order_book_l2.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "reference_books.hpp"

using hft::Level;
using hft::OrderBookL2;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::test::depth;
using hft::test::RefBookL2;

TEST_CASE("OrderBookL2 equals a std::map book after every one of millions of random operations", "[l2][stress]") {
  std::mt19937_64 rng(42);
  OrderBookL2 book(16384);  // prices stay within 10,000 +- 5,300: never full
  RefBookL2 ref;
  std::int64_t center = 10'000;
  const std::size_t steps = hft::test::scaled(2'000'000);
  std::size_t errors_seen = 0;
  for (std::size_t i = 0; i < steps; ++i) {
    if (rng() % 1000 == 0) center += static_cast<std::int64_t>(rng() % 2001) - 1000;  // far jump
    if (rng() % 20 == 0) center += static_cast<std::int64_t>(rng() % 3) - 1;
    center = std::clamp<std::int64_t>(center, 5'000, 15'000);
    const Side side = rng() % 2 ? Side::Buy : Side::Sell;
    const std::int64_t off = static_cast<std::int64_t>(rng() % 2 ? rng() % 5 : rng() % 300);
    const std::int64_t p = side == Side::Buy ? center - off : center + off;  // may cross: allowed
    const auto before = ref.best(side);
    hft::BookUpdate u;
    switch (rng() % 4) {
      case 0: {
        const std::int64_t q = static_cast<std::int64_t>(rng() % 4);  // 0 removes
        u = book.set_level(side, Price::from_ticks(p), Qty(q));
        if (q == 0)
          ref.erase(side, p);
        else
          ref.at(side, p) = q;
        break;
      }
      case 1: {
        const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 100);
        u = book.add(side, Price::from_ticks(p), Qty(q));
        ref.at(side, p) += q;
        break;
      }
      default: {
        const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 100);
        u = book.reduce(side, Price::from_ticks(p), Qty(q));
        if (!ref.has(side, p)) {
          REQUIRE(u.error == hft::BookError::UnknownLevel);
          ++errors_seen;
        } else if (ref.at(side, p) < q) {
          REQUIRE(u.error == hft::BookError::InsufficientQty);
          ++errors_seen;
        } else {
          REQUIRE(u.ok());
          if ((ref.at(side, p) -= q) == 0) ref.erase(side, p);
        }
      }
    }
    REQUIRE(u.top_changed == (before != ref.best(side)));
    REQUIRE(book.best_bid() == ref.best(Side::Buy));
    REQUIRE(book.best_ask() == ref.best(Side::Sell));
    if (i % 64 == 0 || book.level_count(side) < 8) {
      INFO("step " << i << ": bid levels " << book.level_count(Side::Buy) << " vs " << ref.bids.size()
                   << ", ask levels " << book.level_count(Side::Sell) << " vs " << ref.asks.size());
      REQUIRE(hft::test::same_depth(book, ref, Side::Buy));
      REQUIRE(hft::test::same_depth(book, ref, Side::Sell));
    }
  }
  CHECK(errors_seen > 0);
  CHECK(book.levels_dropped() == 0);
  // The comparison itself can fail: one level's quantity off, or one level missing.
  REQUIRE_FALSE(ref.bids.empty());
  RefBookL2 off = ref;
  off.bids.begin()->second += 1;
  CHECK_FALSE(hft::test::same_depth(book, off, Side::Buy));
  off = ref;
  off.bids.erase(std::prev(off.bids.end()));
  CHECK_FALSE(hft::test::same_depth(book, off, Side::Buy));
}

TEST_CASE("OrderBookL2 basics: spread, mid, crossed, locked, snapshot, clear, bad input", "[l2]") {
  OrderBookL2 b(8);
  CHECK_FALSE(b.best_bid().has_value());
  CHECK_FALSE(b.spread().has_value());
  CHECK(b.set_level(Side::Buy, Price::from_ticks(99), Qty(10)).top_changed);
  CHECK(b.set_level(Side::Sell, Price::from_ticks(101), Qty(5)).top_changed);
  CHECK_FALSE(b.set_level(Side::Buy, Price::from_ticks(98), Qty(7)).top_changed);
  CHECK(*b.spread() == 2);
  CHECK(*b.mid_ticks() == 100.0);
  CHECK_FALSE(b.crossed());
  CHECK(b.set_level(Side::Buy, Price::from_ticks(101), Qty(1)).top_changed);
  CHECK(b.locked());
  CHECK(b.set_level(Side::Buy, Price::from_ticks(102), Qty(1)).top_changed);
  CHECK(b.crossed());
  std::array<Level, 2> snap{};
  CHECK(b.snapshot(Side::Buy, snap) == 2);
  CHECK(snap[0] == Level{Price::from_ticks(102), Qty(1)});
  CHECK(snap[1] == Level{Price::from_ticks(101), Qty(1)});
  CHECK(b.level(Side::Buy, 3) == Level{Price::from_ticks(98), Qty(7)});
  CHECK(b.set_level(Side::Buy, Price::from_ticks(50), Qty(-1)).error == hft::BookError::InvalidQty);
  CHECK(b.add(Side::Buy, Price::from_ticks(50), Qty(0)).error == hft::BookError::InvalidQty);
  CHECK(b.level_count(Side::Buy) == 4);
  b.clear();
  CHECK(b.level_count(Side::Buy) == 0);
  CHECK_FALSE(b.best_ask().has_value());
  CHECK_THROWS_AS(OrderBookL2(0), std::invalid_argument);
}

TEST_CASE("OrderBookL2 depth limit: keeps the best max_levels, drops the worst, rejects worse", "[l2]") {
  OrderBookL2 b(3);
  for (int p = 100; p < 103; ++p) REQUIRE(b.add(Side::Buy, Price::from_ticks(p), Qty(1)).ok());
  CHECK(b.add(Side::Buy, Price::from_ticks(90), Qty(1)).error == hft::BookError::DepthFull);
  CHECK(b.add(Side::Buy, Price::from_ticks(110), Qty(1)).top_changed);  // drops 100
  CHECK(b.levels_dropped() == 1);
  CHECK(b.level(Side::Buy, 2).price == Price::from_ticks(101));
  CHECK(b.reduce(Side::Buy, Price::from_ticks(100), Qty(1)).error == hft::BookError::UnknownLevel);
  CHECK(b.add(Side::Buy, Price::from_ticks(105), Qty(1)).ok());  // middle insert, drops 101
  CHECK(depth(b, Side::Buy) == std::vector<Level>{{Price::from_ticks(110), Qty(1)},
                                                  {Price::from_ticks(105), Qty(1)},
                                                  {Price::from_ticks(102), Qty(1)}});
  OrderBookL2 strict(2, hft::DepthPolicy::Reject);
  REQUIRE(strict.add(Side::Sell, Price::from_ticks(5), Qty(1)).ok());
  REQUIRE(strict.add(Side::Sell, Price::from_ticks(6), Qty(1)).ok());
  CHECK(strict.add(Side::Sell, Price::from_ticks(4), Qty(1)).error == hft::BookError::DepthFull);
  CHECK(strict.best_ask()->price == Price::from_ticks(5));
}

TEST_CASE("OrderBookL2 lifecycle contract: move-only, a moved-from book may be assigned and reused",
          "[l2][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::OrderBookL2, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::OrderBookL2>(
      [] {
        hft::OrderBookL2 b(4);
        (void)b.add(hft::Side::Buy, hft::Price::from_ticks(100), hft::Qty(5));
        return b;
      },
      [](hft::OrderBookL2& b) {
        REQUIRE(b.add(hft::Side::Sell, hft::Price::from_ticks(101), hft::Qty(1)).ok());
        REQUIRE(b.best_bid().has_value());
        REQUIRE(b.reduce(hft::Side::Sell, hft::Price::from_ticks(101), hft::Qty(1)).ok());
      });
  hft::OrderBookL2 one(1);  // limit: one level per side
  CHECK(one.add(hft::Side::Buy, hft::Price::from_ticks(10), hft::Qty(1)).ok());
  CHECK(one.add(hft::Side::Buy, hft::Price::from_ticks(11), hft::Qty(1)).ok());  // better: the worst drops
  CHECK(one.level_count(hft::Side::Buy) == 1);
  CHECK(one.best_bid()->price == hft::Price::from_ticks(11));
}

// Found by tests/fuzz/md_reader (corpus/md_reader/qty_overflow): two adds whose sum passed
// INT64_MAX overflowed the level's quantity, which is undefined behaviour.
TEST_CASE("OrderBookL2 and OrderBookL3: a level total past INT64_MAX is refused, nothing changes", "[l2][regression]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  OrderBookL2 b(8);
  const Price p = Price::from_ticks(100);
  REQUIRE(b.add(Side::Buy, p, Qty(kMax - 1)).ok());
  CHECK(b.add(Side::Buy, p, Qty(2)).error == hft::BookError::QtyOverflow);
  CHECK(b.best_bid()->qty == Qty(kMax - 1));
  CHECK(b.add(Side::Buy, p, Qty(1)).ok());  // exactly INT64_MAX fits
  CHECK(b.best_bid()->qty == Qty(kMax));
  CHECK(std::string(hft::to_string(hft::BookError::QtyOverflow)) == "QTY_OVERFLOW");

  hft::OrderBookL3 l3(8, 8);
  REQUIRE(l3.add_order(hft::OrderId(1), Side::Sell, p, Qty(kMax)).ok());
  CHECK(l3.add_order(hft::OrderId(2), Side::Sell, p, Qty(1)).error == hft::BookError::QtyOverflow);
  CHECK(l3.find(hft::OrderId(2)) == nullptr);  // not tracked either
  CHECK(l3.l2().best_ask()->qty == Qty(kMax));
  CHECK(l3.delete_order(hft::OrderId(1)).ok());
  CHECK(l3.add_order(hft::OrderId(2), Side::Sell, p, Qty(1)).ok());  // the id was never taken
}
