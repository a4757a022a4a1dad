// The randomized differential test every L2 book runs (OrderBookL2, TickWindowBookL2):
// set/add/reduce against the std::map reference, BBO and top_changed checked after every
// step, full depth every 64 steps and whenever a side is shallow.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>

#include "../support/catch.hpp"
#include "reference_books.hpp"

namespace hft::test {

struct L2Walk {
  std::uint64_t seed = 42;
  std::size_t steps = 0;
  std::int64_t jump = 1'000;             // a far jump of the centre, every ~1,000 steps, up to +-jump
  std::int64_t lo = 5'000, hi = 15'000;  // the centre stays in [lo, hi]
  std::int64_t far_offset = 300;         // half the updates land up to this far from the centre
  std::uint64_t take_touch = 0;          // 1 in take_touch steps removes a side's whole best level (0: never)
};

// Returns the number of refused updates seen (the caller checks there were some).
template <class Book>
std::size_t run_l2_walk(Book& book, RefBookL2& ref, const L2Walk& w) {
  std::mt19937_64 rng(w.seed);
  std::int64_t center = (w.lo + w.hi) / 2;
  std::size_t errors_seen = 0;
  for (std::size_t i = 0; i < w.steps; ++i) {
    if (rng() % 1000 == 0)
      center += static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(2 * w.jump + 1)) - w.jump;
    if (rng() % 20 == 0) center += static_cast<std::int64_t>(rng() % 3) - 1;
    center = std::clamp<std::int64_t>(center, w.lo, w.hi);
    const hft::Side side = rng() % 2 ? hft::Side::Buy : hft::Side::Sell;
    const std::int64_t off =
        static_cast<std::int64_t>(rng() % 2 ? rng() % 5 : rng() % static_cast<std::uint64_t>(w.far_offset));
    const std::int64_t p = side == hft::Side::Buy ? center - off : center + off;  // may cross: allowed
    const auto before = ref.best(side);
    hft::BookUpdate u;
    if (w.take_touch != 0 && rng() % w.take_touch == 0 && before) {
      // The touch trades away: the next level becomes it, however deep (a book whose
      // touch only ever improves never moves a window down).
      u = book.reduce(side, before->price, before->qty);
      REQUIRE(u.ok());
      ref.erase(side, before->price.ticks());
      REQUIRE(u.top_changed);
    } else {
      switch (rng() % 4) {
        case 0: {
          const std::int64_t q = static_cast<std::int64_t>(rng() % 4);  // 0 removes
          u = book.set_level(side, hft::Price::from_ticks(p), hft::Qty(q));
          if (q == 0)
            ref.erase(side, p);
          else
            ref.at(side, p) = q;
          break;
        }
        case 1: {
          const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 100);
          u = book.add(side, hft::Price::from_ticks(p), hft::Qty(q));
          ref.at(side, p) += q;
          break;
        }
        default: {
          const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 100);
          u = book.reduce(side, hft::Price::from_ticks(p), hft::Qty(q));
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
    }
    REQUIRE(u.top_changed == (before != ref.best(side)));
    REQUIRE(book.best_bid() == ref.best(hft::Side::Buy));
    REQUIRE(book.best_ask() == ref.best(hft::Side::Sell));
    if (i % 64 == 0 || book.level_count(side) < 8) {
      INFO("step " << i << ": bid levels " << book.level_count(hft::Side::Buy) << " vs " << ref.bids.size()
                   << ", ask levels " << book.level_count(hft::Side::Sell) << " vs " << ref.asks.size());
      REQUIRE(same_depth(book, ref, hft::Side::Buy));
      REQUIRE(same_depth(book, ref, hft::Side::Sell));
    }
  }
  return errors_seen;
}

// The comparison itself can fail: one level's quantity off, or one level missing.
template <class Book>
void check_comparison_can_fail(const Book& book, const RefBookL2& ref) {
  REQUIRE_FALSE(ref.bids.empty());
  RefBookL2 off = ref;
  off.bids.begin()->second += 1;
  CHECK_FALSE(same_depth(book, off, hft::Side::Buy));
  off = ref;
  off.bids.erase(std::prev(off.bids.end()));
  CHECK_FALSE(same_depth(book, off, hft::Side::Buy));
}

}  // namespace hft::test
