#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/tick_window_book_l2.hpp"

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
#include "l2_stress.hpp"
#include "reference_books.hpp"

using hft::Level;
using hft::OrderBookL2;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::test::depth;
using hft::test::RefBookL2;

TEST_CASE("OrderBookL2 equals a std::map book after every one of millions of random operations", "[l2][stress]") {
  OrderBookL2 book(16384);  // prices stay within 10,000 +- 5,300: never full
  RefBookL2 ref;
  CHECK(hft::test::run_l2_walk(book, ref, {.steps = hft::test::scaled(2'000'000)}) > 0);
  CHECK(book.levels_dropped() == 0);
  hft::test::check_comparison_can_fail(book, ref);
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

// Found by tests/fuzz/md_reader (corpus/md_reader/ask_at_int64_min): an ask's sort key was
// its negated price, and -INT64_MIN overflows (undefined behaviour); the key is now ~price.
TEST_CASE("OrderBookL2, TickWindowBookL2, OrderBookL3: asks and bids at both ends of int64", "[l2][regression]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const auto at_both_ends = [&](auto& b) {
    REQUIRE(b.add(Side::Sell, Price::from_ticks(kMax), Qty(1)).ok());
    REQUIRE(b.add(Side::Sell, Price::from_ticks(kMin), Qty(2)).top_changed);  // the lowest ask is the best
    REQUIRE(b.add(Side::Sell, Price::from_ticks(kMin + 1), Qty(3)).ok());
    REQUIRE(b.add(Side::Buy, Price::from_ticks(kMin), Qty(4)).ok());
    REQUIRE(b.add(Side::Buy, Price::from_ticks(kMax), Qty(5)).top_changed);
    CHECK(b.best_ask() == Level{Price::from_ticks(kMin), Qty(2)});
    CHECK(b.best_bid() == Level{Price::from_ticks(kMax), Qty(5)});
    CHECK(b.level(Side::Sell, 1) == Level{Price::from_ticks(kMin + 1), Qty(3)});
    CHECK(b.level(Side::Sell, 2) == Level{Price::from_ticks(kMax), Qty(1)});
    CHECK(b.reduce(Side::Sell, Price::from_ticks(kMin), Qty(2)).top_changed);
    CHECK(b.best_ask() == Level{Price::from_ticks(kMin + 1), Qty(3)});
    CHECK(b.reduce(Side::Sell, Price::from_ticks(kMin + 1), Qty(3)).top_changed);
    CHECK(b.best_ask() == Level{Price::from_ticks(kMax), Qty(1)});
  };
  OrderBookL2 l2(8);
  at_both_ends(l2);
  hft::TickWindowBookL2 window(64, 8);
  at_both_ends(window);

  hft::OrderBookL3 l3(8, 8);
  REQUIRE(l3.add_order(hft::OrderId(1), Side::Sell, Price::from_ticks(kMin), Qty(1)).ok());
  REQUIRE(l3.add_order(hft::OrderId(2), Side::Sell, Price::from_ticks(kMax), Qty(1)).ok());
  CHECK(l3.l2().best_ask() == Level{Price::from_ticks(kMin), Qty(1)});
  CHECK(l3.delete_order(hft::OrderId(1)).ok());
  CHECK(l3.l2().best_ask() == Level{Price::from_ticks(kMax), Qty(1)});
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

// Issue 34, defect 4: spread() subtracted the best bid from the best ask in int64, which
// overflows (undefined behaviour) when they sit at opposite ends of the range, and crossed()
// read the wrapped difference, so a book with its bid at INT64_MAX and ask at INT64_MIN was
// not crossed. spread() now saturates, mid_ticks() sums in 128 bits, crossed() and locked()
// compare the prices.
TEST_CASE("L2 books and OrderBookL3: spread, mid, crossed, locked with the touch at opposite ends of int64",
          "[l2][regression][limits]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const auto touch_at = [](auto& b, std::int64_t bid, std::int64_t ask) {
    b.clear();
    REQUIRE(b.set_level(Side::Buy, Price::from_ticks(bid), Qty(1)).ok());
    REQUIRE(b.set_level(Side::Sell, Price::from_ticks(ask), Qty(1)).ok());
  };
  const auto check_extremes = [&](auto& b) {
    touch_at(b, kMin, kMax);  // the widest book there is: 2^64 - 1 ticks
    CHECK(b.spread() == kMax);
    CHECK(b.mid_ticks() == -0.5);  // (INT64_MIN + INT64_MAX) / 2, exactly
    CHECK_FALSE(b.crossed());
    CHECK_FALSE(b.locked());
    touch_at(b, kMax, kMin);  // the most crossed book there is
    CHECK(b.spread() == kMin);
    CHECK(b.mid_ticks() == -0.5);
    CHECK(b.crossed());
    CHECK_FALSE(b.locked());
    touch_at(b, -1, kMax);  // ask - bid = 2^63: one past INT64_MAX
    CHECK(b.spread() == kMax);
    CHECK_FALSE(b.crossed());
    touch_at(b, 0, kMax);  // exactly INT64_MAX: no saturation
    CHECK(b.spread() == kMax);
    touch_at(b, 1, kMin);  // -2^63 - 1: one past INT64_MIN
    CHECK(b.spread() == kMin);
    CHECK(b.crossed());
    touch_at(b, kMax, kMax);
    CHECK(b.spread() == 0);
    CHECK(b.locked());
    CHECK_FALSE(b.crossed());
    CHECK(b.mid_ticks() == static_cast<double>(kMax));
    touch_at(b, kMin, kMin);
    CHECK(b.locked());
    CHECK(b.mid_ticks() == static_cast<double>(kMin));
  };
  OrderBookL2 l2(8);
  check_extremes(l2);
  hft::TickWindowBookL2 window(64, 8);
  check_extremes(window);

  hft::OrderBookL3 l3(8, 8);
  REQUIRE(l3.add_order(hft::OrderId(1), Side::Buy, Price::from_ticks(kMax), Qty(1)).ok());
  REQUIRE(l3.add_order(hft::OrderId(2), Side::Sell, Price::from_ticks(kMin), Qty(1)).ok());
  CHECK(l3.l2().crossed());
  CHECK(l3.l2().spread() == kMin);
}
