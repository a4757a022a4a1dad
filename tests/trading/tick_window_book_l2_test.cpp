#include "hft/trading/tick_window_book_l2.hpp"

#include <array>
#include <limits>
#include <new>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/counting_new.hpp"
#include "../support/scale.hpp"
#include "l2_stress.hpp"
#include "reference_books.hpp"

using hft::BookError;
using hft::Level;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::TickWindowBookL2;
using hft::test::depth;
using hft::test::RefBookL2;

namespace {
Price px(std::int64_t t) { return Price::from_ticks(t); }
}  // namespace

TEST_CASE("TickWindowBookL2 equals a std::map book after every one of millions of random operations",
          "[l2window][stress]") {
  // A 512-tick window under a walk with +-1,000-tick jumps and levels 300 ticks deep: the
  // window re-centres both ways and the far store holds levels throughout.
  TickWindowBookL2 book(512, 16384);
  RefBookL2 ref;
  const std::size_t steps = hft::test::scaled(1'000'000);
  CHECK(hft::test::run_l2_walk(book, ref, {.seed = 7, .steps = steps, .take_touch = 50}) > 0);
  CHECK(book.levels_dropped() == 0);
  CHECK(book.stats().recentres > steps / 20'000);  // 226 at 1M steps
  hft::test::check_comparison_can_fail(book, ref);
}

TEST_CASE("TickWindowBookL2 over a wide price walk with the smallest window: re-centring at every jump",
          "[l2window][stress]") {
  // 64 ticks of window, levels up to 2,000 ticks deep, the centre anywhere in 200,000
  // ticks with jumps of up to 20,000: most levels live in the far store and move in and
  // out of the window on every re-centre. Room for every price the walk can reach.
  TickWindowBookL2 book(64, 1 << 18);
  RefBookL2 ref;
  const std::size_t steps = hft::test::scaled(300'000);
  const hft::test::L2Walk walk{
      .seed = 11, .steps = steps, .jump = 20'000, .lo = 10'000, .hi = 210'000, .far_offset = 2'000, .take_touch = 20};
  CHECK(hft::test::run_l2_walk(book, ref, walk) > 0);
  CHECK(book.levels_dropped() == 0);
  CHECK(book.stats().recentres > steps / 1'000);  // 3,189 at 300k steps
  INFO("recentres " << book.stats().recentres);
  CHECK(book.level_count(Side::Buy) > steps / 100);  // most of them beyond the window
}

TEST_CASE("TickWindowBookL2 basics: spread, mid, crossed, locked, level, snapshot, clear, bad input", "[l2window]") {
  TickWindowBookL2 b(64, 8);
  CHECK_FALSE(b.best_bid().has_value());
  CHECK_FALSE(b.spread().has_value());
  CHECK(b.set_level(Side::Buy, px(99), Qty(10)).top_changed);
  CHECK(b.set_level(Side::Sell, px(101), Qty(5)).top_changed);
  CHECK_FALSE(b.set_level(Side::Buy, px(98), Qty(7)).top_changed);
  CHECK_FALSE(b.set_level(Side::Buy, px(98), Qty(7)).top_changed);  // same quantity
  CHECK(b.set_level(Side::Buy, px(99), Qty(11)).top_changed);
  CHECK(*b.spread() == 2);
  CHECK(*b.mid_ticks() == 100.0);
  CHECK_FALSE(b.crossed());
  CHECK(b.set_level(Side::Buy, px(101), Qty(1)).top_changed);
  CHECK(b.locked());
  CHECK(b.set_level(Side::Buy, px(102), Qty(1)).top_changed);
  CHECK(b.crossed());
  REQUIRE(b.add(Side::Buy, px(20), Qty(3)).ok());  // 82 ticks below the touch: the far store
  std::array<Level, 2> snap{};
  CHECK(b.snapshot(Side::Buy, snap) == 2);
  CHECK(snap[0] == Level{px(102), Qty(1)});
  CHECK(snap[1] == Level{px(101), Qty(1)});
  CHECK(b.level(Side::Buy, 3) == Level{px(98), Qty(7)});
  CHECK(b.level(Side::Buy, 4) == Level{px(20), Qty(3)});
  CHECK(b.level_count(Side::Buy) == 5);
  CHECK(b.set_level(Side::Buy, px(50), Qty(-1)).error == BookError::InvalidQty);
  CHECK(b.add(Side::Buy, px(50), Qty(0)).error == BookError::InvalidQty);
  CHECK(b.reduce(Side::Buy, px(50), Qty(0)).error == BookError::InvalidQty);
  CHECK(b.reduce(Side::Buy, px(50), Qty(1)).error == BookError::UnknownLevel);   // far, absent
  CHECK(b.reduce(Side::Buy, px(100), Qty(1)).error == BookError::UnknownLevel);  // window, absent
  CHECK(b.reduce(Side::Buy, px(500), Qty(1)).error == BookError::UnknownLevel);  // above everything
  CHECK(b.reduce(Side::Buy, px(20), Qty(4)).error == BookError::InsufficientQty);
  CHECK(b.reduce(Side::Buy, px(98), Qty(8)).error == BookError::InsufficientQty);
  CHECK(b.set_level(Side::Buy, px(500), Qty(0)).ok());  // removing a missing level: a no-op
  CHECK(b.set_level(Side::Buy, px(21), Qty(0)).ok());
  CHECK(b.level_count(Side::Buy) == 5);
  b.clear();
  CHECK(b.level_count(Side::Buy) == 0);
  CHECK_FALSE(b.best_ask().has_value());
  CHECK(depth(b, Side::Buy).empty());
  CHECK(b.add(Side::Sell, px(7), Qty(1)).top_changed);  // usable after clear
  CHECK(b.best_ask() == Level{px(7), Qty(1)});
  CHECK(b.window_ticks() == 64);
  CHECK(b.max_far_levels() == 8);
}

TEST_CASE("TickWindowBookL2 construction limits: window a multiple of 64 in [64, 2^24], far store >= 1",
          "[l2window][limits]") {
  CHECK_THROWS_AS(TickWindowBookL2(0, 8), std::invalid_argument);
  CHECK_THROWS_AS(TickWindowBookL2(63, 8), std::invalid_argument);
  CHECK_THROWS_AS(TickWindowBookL2(65, 8), std::invalid_argument);
  CHECK_THROWS_AS(TickWindowBookL2(TickWindowBookL2::kMaxWindow + 64, 8), std::invalid_argument);
  CHECK_THROWS_AS(TickWindowBookL2(64, 0), std::invalid_argument);
  CHECK_THROWS_WITH(TickWindowBookL2(100, 8), Catch::Contains("multiple of 64") && Catch::Contains("got 100"));
  TickWindowBookL2 wide(1 << 16, 1);  // 4,096 summary bits in 16 words: the summary scan crosses words
  REQUIRE(wide.add(Side::Buy, px(1'000'000), Qty(1)).ok());
  REQUIRE(wide.add(Side::Buy, px(1'000'000 - 40'000), Qty(2)).ok());  // 40,000 ticks lower, still inside
  CHECK(wide.reduce(Side::Buy, px(1'000'000), Qty(1)).top_changed);
  CHECK(wide.best_bid() == Level{px(960'000), Qty(2)});
}

TEST_CASE(
    "TickWindowBookL2 re-centres: a better level above the window, a touch in the bottom quarter, "
    "an emptied window with far levels",
    "[l2window]") {
  TickWindowBookL2 b(64, 16);  // the touch goes to offset 48: 15 ticks of room above, 48 below
  REQUIRE(b.add(Side::Buy, px(1'000), Qty(1)).ok());
  REQUIRE(b.add(Side::Buy, px(990), Qty(2)).ok());
  REQUIRE(b.add(Side::Buy, px(900), Qty(3)).ok());  // beyond the window: far
  CHECK(b.stats().recentres == 0);
  CHECK(b.add(Side::Buy, px(1'015), Qty(4)).top_changed);  // the top of the window: no move
  CHECK(b.stats().recentres == 0);
  CHECK(b.add(Side::Buy, px(1'016), Qty(5)).top_changed);  // one past it: the window moves up
  CHECK(b.stats().recentres == 1);
  CHECK(depth(b, Side::Buy) ==
        std::vector<Level>{
            {px(1'016), Qty(5)}, {px(1'015), Qty(4)}, {px(1'000), Qty(1)}, {px(990), Qty(2)}, {px(900), Qty(3)}});
  // Removing the top two leaves the touch at 1,000, 16 ticks below the old top: offset 32
  // of a window based at 968 (>= 16): no move.
  CHECK(b.reduce(Side::Buy, px(1'016), Qty(5)).top_changed);
  CHECK(b.reduce(Side::Buy, px(1'015), Qty(4)).top_changed);
  CHECK(b.stats().recentres == 1);
  // 1,000 goes: the touch is 990 at offset 22: still above the bottom quarter.
  CHECK(b.reduce(Side::Buy, px(1'000), Qty(1)).top_changed);
  CHECK(b.best_bid() == Level{px(990), Qty(2)});
  CHECK(b.stats().recentres == 1);
  // 990 goes: the window empties and the far best (900) becomes the touch.
  CHECK(b.reduce(Side::Buy, px(990), Qty(2)).top_changed);
  CHECK(b.stats().recentres == 2);
  CHECK(b.best_bid() == Level{px(900), Qty(3)});
  CHECK(b.level_count(Side::Buy) == 1);
  // A jump far beyond the window sends every level to the far store and back.
  REQUIRE(b.add(Side::Buy, px(5'000'000), Qty(9)).ok());
  CHECK(b.stats().recentres == 3);
  CHECK(b.reduce(Side::Buy, px(5'000'000), Qty(9)).top_changed);
  CHECK(b.stats().recentres == 4);
  CHECK(b.best_bid() == Level{px(900), Qty(3)});
  // Asks are stored by negated price: the same moves, mirrored.
  REQUIRE(b.add(Side::Sell, px(2'000), Qty(1)).ok());
  REQUIRE(b.add(Side::Sell, px(2'100), Qty(2)).ok());  // far
  CHECK(b.add(Side::Sell, px(1'900), Qty(3)).top_changed);
  CHECK(depth(b, Side::Sell) == std::vector<Level>{{px(1'900), Qty(3)}, {px(2'000), Qty(1)}, {px(2'100), Qty(2)}});
}

TEST_CASE("TickWindowBookL2 far store limit: drops the worst far level, refuses a worse one, keeps every window level",
          "[l2window][limits]") {
  TickWindowBookL2 b(64, 2);
  REQUIRE(b.add(Side::Buy, px(1'000), Qty(1)).ok());  // window [952, 1016)
  REQUIRE(b.add(Side::Buy, px(900), Qty(1)).ok());
  REQUIRE(b.add(Side::Buy, px(800), Qty(1)).ok());
  CHECK(b.add(Side::Buy, px(700), Qty(1)).error == BookError::DepthFull);  // worse than both
  CHECK(b.levels_dropped() == 0);
  CHECK(b.add(Side::Buy, px(850), Qty(1)).ok());  // better than 800: 800 drops
  CHECK(b.levels_dropped() == 1);
  CHECK(b.reduce(Side::Buy, px(800), Qty(1)).error == BookError::UnknownLevel);
  for (int p = 953; p < 1'000; ++p) REQUIRE(b.add(Side::Buy, px(p), Qty(1)).ok());  // the window takes them all
  CHECK(b.level_count(Side::Buy) == 48 + 2);
  // A move up pushes the window's low levels into the full far store: the worst ones drop.
  REQUIRE(b.add(Side::Buy, px(1'100), Qty(1)).ok());  // window [1052, 1116): everything else leaves
  CHECK(b.level_count(Side::Buy) == 3);
  CHECK(depth(b, Side::Buy) == std::vector<Level>{{px(1'100), Qty(1)}, {px(1'000), Qty(1)}, {px(999), Qty(1)}});
  CHECK(b.levels_dropped() == 1 + 48);
  CHECK(b.stats().levels_dropped == b.levels_dropped());
  CHECK(b.stats().recentres == 1);
}

TEST_CASE("TickWindowBookL2 at the ends of the price range and of the quantity range", "[l2window][limits]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  TickWindowBookL2 b(64, 8);
  // Bids are stored by price: the window saturates at both ends of int64.
  REQUIRE(b.add(Side::Buy, px(kMin + 3), Qty(1)).ok());
  REQUIRE(b.add(Side::Buy, px(kMin), Qty(2)).ok());
  CHECK(b.add(Side::Buy, px(kMax), Qty(3)).top_changed);  // 2^64 ticks away: both go far
  CHECK(b.add(Side::Buy, px(kMax - 63), Qty(4)).ok());
  CHECK(depth(b, Side::Buy) ==
        std::vector<Level>{{px(kMax), Qty(3)}, {px(kMax - 63), Qty(4)}, {px(kMin + 3), Qty(1)}, {px(kMin), Qty(2)}});
  CHECK(b.reduce(Side::Buy, px(kMax), Qty(3)).top_changed);
  CHECK(b.reduce(Side::Buy, px(kMax - 63), Qty(4)).top_changed);  // window empties: the far best comes back
  CHECK(b.best_bid() == Level{px(kMin + 3), Qty(1)});
  // Quantities: a total past INT64_MAX is refused and nothing changes, in the window and far.
  CHECK(b.add(Side::Buy, px(kMin + 3), Qty(kMax)).error == BookError::QtyOverflow);
  CHECK(b.best_bid() == Level{px(kMin + 3), Qty(1)});
  CHECK(b.add(Side::Buy, px(kMin + 3), Qty(kMax - 1)).ok());  // exactly INT64_MAX fits
  CHECK(b.best_bid() == Level{px(kMin + 3), Qty(kMax)});
  TickWindowBookL2 c(64, 8);
  REQUIRE(c.add(Side::Sell, px(100), Qty(1)).ok());
  REQUIRE(c.add(Side::Sell, px(1'000), Qty(kMax)).ok());  // far
  CHECK(c.add(Side::Sell, px(1'000), Qty(1)).error == BookError::QtyOverflow);
  CHECK(c.level(Side::Sell, 1) == Level{px(1'000), Qty(kMax)});
}

TEST_CASE("TickWindowBookL2 lifecycle contract: move-only, a moved-from book may be assigned and reused",
          "[l2window][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<TickWindowBookL2, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<TickWindowBookL2>(
      [] {
        TickWindowBookL2 b(64, 4);
        (void)b.add(Side::Buy, px(100), Qty(5));
        (void)b.add(Side::Buy, px(10), Qty(5));  // far
        return b;
      },
      [](TickWindowBookL2& b) {
        REQUIRE(b.add(Side::Sell, px(101), Qty(1)).ok());
        REQUIRE(b.best_bid().has_value());
        REQUIRE(b.reduce(Side::Sell, px(101), Qty(1)).ok());
      });
}

TEST_CASE("TickWindowBookL2 allocates only in its constructor: updates, re-centres, far-store drops, clear, moves",
          "[l2window][nomalloc]") {
  // The operations are drawn before counting starts: a walk with jumps of +-3,000 ticks
  // over a 256-tick window (re-centres both ways) and levels up to 1,000 ticks deep into a
  // 32-level far store (drops and refusals).
  struct Op {
    Side side;
    int kind;
    std::int64_t price, qty;
  };
  std::vector<Op> ops;
  const std::size_t n = 200'000;  // not scaled: the counts below need the jumps (a few ms)
  ops.reserve(n);
  std::mt19937_64 rng(5);
  std::int64_t centre = 50'000;
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 200 == 0) centre += static_cast<std::int64_t>(rng() % 6'001) - 3'000;
    const Side side = rng() % 2 ? Side::Buy : Side::Sell;
    const auto d = static_cast<std::int64_t>(rng() % 2 ? rng() % 8 : rng() % 1'000);
    ops.push_back({side, static_cast<int>(rng() % 3), side == Side::Buy ? centre - d : centre + d,
                   static_cast<std::int64_t>(1 + rng() % 50)});
  }
  const auto apply = [&ops](TickWindowBookL2& b, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const Op& o = ops[i];
      if (o.kind == 0) (void)b.set_level(o.side, px(o.price), Qty(o.qty % 4));  // 0 removes
      if (o.kind == 1) (void)b.add(o.side, px(o.price), Qty(o.qty));
      if (o.kind == 2) (void)b.reduce(o.side, px(o.price), Qty(o.qty));
    }
  };
  TickWindowBookL2 book(256, 32);
  const long before = hft::test::g_news.load();
  apply(book, 0, n / 2);
  book.clear();
  TickWindowBookL2 moved(std::move(book));
  apply(moved, n / 2, n);
  book = std::move(moved);
  std::size_t levels = 0;
  book.for_each_level(Side::Buy, std::numeric_limits<std::size_t>::max(), [&levels](const Level&) { ++levels; });
  const long after = hft::test::g_news.load();
  CHECK(book.stats().recentres > 100);
  CHECK(book.levels_dropped() > 0);
  CHECK(levels == book.level_count(Side::Buy));
  INFO("recentres " << book.stats().recentres << ", dropped " << book.levels_dropped());
  HFT_CHECK_NO_NEW(before, after);
}

#ifdef HFT_TEST_COUNTS_NEW
TEST_CASE("TickWindowBookL2: a constructor whose allocation throws frees what it took and throws bad_alloc",
          "[l2window][nomalloc]") {
  // Eight allocations (per side: quantities, occupancy words, summary words, far store);
  // each one failing in turn, the ninth attempt builds.
  for (long k = 1; k <= 9; ++k) {
    const long live_before = hft::test::g_live_blocks.load();
    bool threw = false, built = false;
    {
      hft::test::FailNthAllocation fail(k);
      try {
        TickWindowBookL2 b(4096, 1024);
        built = b.add(Side::Buy, px(10), Qty(1)).ok();
      } catch (const std::bad_alloc&) {
        threw = true;
      }
    }
    const long live_after = hft::test::g_live_blocks.load();
    INFO("failing allocation " << k);
    CHECK(threw == (k <= 8));
    CHECK(built == (k == 9));
    CHECK(live_after == live_before);
  }
}
#endif

// Issue 34, defect 4 (order_book_l2_test.cpp has the full case for both books): ask - bid
// overflowed int64 when the touch spanned the whole price range, and crossed() said no.
TEST_CASE("TickWindowBookL2: a touch at opposite ends of int64 has a saturated spread and is crossed",
          "[l2window][regression][limits]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  TickWindowBookL2 b(64, 8);
  REQUIRE(b.add(Side::Buy, px(kMax), Qty(1)).ok());
  REQUIRE(b.add(Side::Sell, px(kMin), Qty(1)).ok());
  CHECK(b.crossed());
  CHECK(b.spread() == kMin);
  CHECK(b.mid_ticks() == -0.5);
  REQUIRE(b.reduce(Side::Buy, px(kMax), Qty(1)).ok());
  REQUIRE(b.add(Side::Buy, px(kMin), Qty(1)).ok());
  CHECK(b.locked());
  CHECK(b.spread() == 0);
}
