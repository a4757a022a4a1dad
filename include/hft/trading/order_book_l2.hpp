// hft/trading/order_book_l2.hpp: OrderBookL2, an aggregated price-level book with a
// fixed maximum depth per side that never allocates after construction.
//
// What: per side, the price levels (price, total quantity), best first. set_level /
//   add / reduce update one level; every update returns a BookUpdate saying whether it
//   was applied and whether the top of book (best price or its quantity) changed, so
//   callers do not diff the BBO after every message.
// Layout (the choice): each side is a sorted array with the best level at the END. Most
//   updates land within a few ticks of the touch, so the search runs a few steps from
//   the back (linear, no binary-search branch misses; past 8 levels it switches to a
//   binary search), and inserting or erasing a level near the touch moves only the few
//   elements behind it. Best bid/ask is the last
//   element: O(1), one load. Depth iteration walks backwards over contiguous memory.
//   The levels live in detail::SortedLevels, the store MatchingEngine shares.
//   The alternative, a tick-indexed window (O(1) at any distance, memory per tick), is
//   TickWindowBookL2; it is faster on every stream bench_book measures, and this book
//   remains the one with memory per level and a Reject policy (docs/trading.md).
// Depth limit: at most max_levels levels per side. A new level when the side is full, with
//   the default DepthPolicy::DropWorst: if it is better than the worst level, the worst
//   level is dropped (counted in levels_dropped()) and the new one inserted; otherwise it
//   is not stored and the update returns BookError::DepthFull. The book stays a correct
//   top-max_levels view (a later reduce of a dropped level returns UnknownLevel).
//   DepthPolicy::Reject refuses every new level on a full side with DepthFull instead
//   (OrderBookL3 uses it: its view must account for every live order).
// Quantities: an add that would take a level past INT64_MAX units returns QtyOverflow and
//   changes nothing (a feed's sizes are data; signed overflow is undefined).
// Prices: any int64 on either side. crossed() and locked() compare prices; spread()
//   saturates at INT64_MAX / INT64_MIN when ask - bid does not fit; mid_ticks() sums in
//   128 bits (both L2 books and OrderBookL3's view share these queries).
// When to use: market-data books from aggregated (L2) feeds whose price range is wide or
//   unknown next to their level count, or as the view of an L3 book.
// When not: when you need queue position or individual orders (OrderBookL3 /
//   MatchingEngine); deep books updated far from the touch (TickWindowBookL2).
// Thread-safety: one thread at a time (single writer, no internal locking); const
//   members may run concurrently with each other but not with an update.
// Progress: wait-free.
// Memory ordering: none (not shared).
// Complexity: best/spread/mid O(1); update O(d) where d is the
//   distance in levels from the touch (typically a few); memory 16 B x 2 x max_levels.
//   Bids are stored by price and asks by complemented price (~p), so one comparison serves both sides.
// Compared with: a std::map per side (bench_book's baseline; liquibook and many
//   gateways do this) allocates a node per new level and chases pointers on every
//   update; CppTrader's intrusive AVL trees avoid the allocation but not the pointer
//   chasing. Ours is one contiguous array per side, searched from the touch.
// Lifecycle: movable, not copyable; a moved-from book may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>

#include "hft/core/assert.hpp"
#include "hft/trading/sorted_levels.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// One price level of a book: its price and the total quantity resting there.
struct Level {
  Price price{};  ///< the level's price
  Qty qty{};      ///< total quantity at that price, > 0 for a level in the book
  friend constexpr bool operator==(const Level&, const Level&) noexcept = default;
};

/// Why a book operation did nothing (None: it succeeded); to_string() names it.
enum class BookError : std::uint8_t {
  None = 0,
  InvalidQty,       // negative quantity, or a zero delta
  UnknownLevel,     // reduce at a price with no level
  InsufficientQty,  // reduce by more than the level holds
  DepthFull,        // side full and the new level is worse than all stored ones
  UnknownOrder,     // L3: no such order id
  DuplicateOrder,   // L3: id already live
  OrderTableFull,   // L3: max_orders live orders already
  QtyOverflow,      // the level's total would pass INT64_MAX units (found by fuzzing)
};

/// The error in upper case ("DEPTH_FULL"; "OK" for None), for logs and metrics labels.
[[nodiscard]] constexpr const char* to_string(BookError e) noexcept {
  switch (e) {
    case BookError::None: return "OK";
    case BookError::InvalidQty: return "INVALID_QTY";
    case BookError::UnknownLevel: return "UNKNOWN_LEVEL";
    case BookError::InsufficientQty: return "INSUFFICIENT_QTY";
    case BookError::DepthFull: return "DEPTH_FULL";
    case BookError::UnknownOrder: return "UNKNOWN_ORDER";
    case BookError::DuplicateOrder: return "DUPLICATE_ORDER";
    case BookError::OrderTableFull: return "ORDER_TABLE_FULL";
    case BookError::QtyOverflow: return "QTY_OVERFLOW";
  }
  return "?";
}

/// What an L2 update did: an error, or whether the touch of the updated side changed.
struct BookUpdate {
  BookError error = BookError::None;  ///< None when the update was applied
  bool top_changed = false;           ///< best price or best quantity of the updated side changed
  /// True when the update was applied.
  [[nodiscard]] constexpr bool ok() const noexcept { return error == BookError::None; }
};

/// What a full side does with a new level: DropWorst evicts the worst stored level (a better
/// one arrived), Reject refuses the new one with DepthFull.
enum class DepthPolicy : std::uint8_t { DropWorst, Reject };

namespace detail {

// What every L2 book derives from its best(side) and for_each_level (CRTP, so the calls
// inline): OrderBookL2 and TickWindowBookL2 answer these identically by construction.
template <class Book>
class L2BookQueries {
 public:
  [[nodiscard]] std::optional<Level> best_bid() const noexcept { return self().best(Side::Buy); }
  [[nodiscard]] std::optional<Level> best_ask() const noexcept { return self().best(Side::Sell); }

  /// Ask - bid in ticks, when both sides have a level (negative when crossed). Saturates
  /// at INT64_MAX / INT64_MIN when the touch spans more than int64 holds (a bid and an ask
  /// at opposite ends of the price range); crossed() and locked() are exact at any price.
  [[nodiscard]] std::optional<std::int64_t> spread() const noexcept {
    const auto b = best_bid(), a = best_ask();
    if (!b || !a) return std::nullopt;
    std::int64_t sp = 0;
    // Any two int64 prices are accepted, and their distance need not fit: signed overflow
    // is undefined, so the difference is checked and clamped to the side it overflowed on.
    if (__builtin_sub_overflow(a->price.ticks(), b->price.ticks(), &sp)) {
      return a->price > b->price ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    }
    return sp;
  }
  /// (bid + ask) / 2 in ticks (may be a half tick): the nearest double to the exact value,
  /// at any two prices (the sum is taken in 128 bits, so it cannot overflow).
  [[nodiscard]] std::optional<double> mid_ticks() const noexcept {
    const auto b = best_bid(), a = best_ask();
    if (!b || !a) return std::nullopt;
    return static_cast<double>(static_cast<Wide_>(b->price.ticks()) + a->price.ticks()) / 2.0;
  }
  /// Best bid above best ask. Compares the prices, never their difference.
  [[nodiscard]] bool crossed() const noexcept {
    const auto b = best_bid(), a = best_ask();
    return b && a && b->price > a->price;
  }
  /// Best bid at best ask.
  [[nodiscard]] bool locked() const noexcept {
    const auto b = best_bid(), a = best_ask();
    return b && a && b->price == a->price;
  }

  /// Copies up to out.size() levels, best first, into the caller's array; returns how many.
  std::size_t snapshot(Side side, std::span<Level> out) const noexcept {
    std::size_t k = 0;
    self().for_each_level(side, out.size(), [&](const Level& l) { out[k++] = l; });
    return k;
  }

 private:
  __extension__ typedef __int128 Wide_;  // -Wpedantic-clean via __extension__
  [[nodiscard]] const Book& self() const noexcept { return static_cast<const Book&>(*this); }
};

}  // namespace detail

// '__i0' below is the loop index of the compiler's implicit move of sides_[2], not a name in
// this code (a clang-tidy 14 false positive).
/// A price-level (L2) book: total quantity per price, at most max_levels levels per side,
/// sorted arrays. One thread.
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
class OrderBookL2 : public detail::L2BookQueries<OrderBookL2> {
 public:
  /// Room for max_levels levels per side. Throws std::invalid_argument for 0.
  explicit OrderBookL2(std::size_t max_levels = 1024, DepthPolicy policy = DepthPolicy::DropWorst)
      : max_levels_(max_levels), policy_(policy), sides_{Levels_(max_levels), Levels_(max_levels)} {
    if (max_levels == 0) throw std::invalid_argument("hft::OrderBookL2: max_levels must be >= 1");
  }

  /// Sets the level at price to qty (qty 0 removes it; removing a missing level is a
  /// no-op that succeeds). Negative qty: InvalidQty, book unchanged.
  BookUpdate set_level(Side side, Price price, Qty qty) noexcept {
    if (qty.value() < 0) return {BookError::InvalidQty, false};
    Levels_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    const auto f = s.find(k);
    if (f.found) {
      if (qty.zero()) return erase(s, f.pos);
      const bool changed = s[f.pos].value != qty;
      s[f.pos].value = qty;
      return {BookError::None, changed && f.pos + 1 == s.size()};
    }
    if (qty.zero()) return {};
    return insert(s, f.pos, {k, qty});
  }

  /// Adds delta (> 0) to the level at price, creating it if absent.
  BookUpdate add(Side side, Price price, Qty delta) noexcept {
    if (delta.value() <= 0) return {BookError::InvalidQty, false};
    Levels_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    const auto f = s.find(k);
    if (f.found) {
      // A feed's sizes are data: two that sum past INT64_MAX must not wrap (signed
      // overflow is undefined), and the level keeps what it had.
      if (delta.value() > std::numeric_limits<std::int64_t>::max() - s[f.pos].value.value())
        return {BookError::QtyOverflow, false};
      s[f.pos].value += delta;
      return {BookError::None, f.pos + 1 == s.size()};
    }
    return insert(s, f.pos, {k, delta});
  }

  /// Removes delta (> 0) from the level at price; the level goes when it reaches 0.
  /// UnknownLevel / InsufficientQty leave the book unchanged.
  BookUpdate reduce(Side side, Price price, Qty delta) noexcept {
    if (delta.value() <= 0) return {BookError::InvalidQty, false};
    Levels_& s = sides_[idx(side)];
    const auto f = s.find(detail::level_key(side, price));
    if (!f.found) return {BookError::UnknownLevel, false};
    Qty& q = s[f.pos].value;
    if (delta > q) return {BookError::InsufficientQty, false};
    if (delta == q) return erase(s, f.pos);
    q -= delta;
    return {BookError::None, f.pos + 1 == s.size()};
  }

  /// The best level of `side` (highest bid, lowest ask), or nullopt when that side is empty.
  [[nodiscard]] std::optional<Level> best(Side side) const noexcept {
    const Levels_& s = sides_[idx(side)];
    if (s.empty()) return std::nullopt;
    return level_of(side, s.back());
  }
  /// Levels on `side`.
  [[nodiscard]] std::size_t level_count(Side side) const noexcept { return sides_[idx(side)].size(); }
  /// The i-th level from the touch (0 = best). Precondition: i < level_count(side).
  [[nodiscard]] Level level(Side side, std::size_t i) const noexcept {
    const Levels_& s = sides_[idx(side)];
    HFT_ASSERT(i < s.size(), "OrderBookL2::level: index past the last level");
    return level_of(side, s.from_best(i));
  }
  /// Calls fn(const Level&) for up to n levels, best first.
  template <class F>
  void for_each_level(Side side, std::size_t n, F&& fn) const {
    const Levels_& s = sides_[idx(side)];
    const std::size_t k = n < s.size() ? n : s.size();
    for (std::size_t i = 0; i < k; ++i) fn(level_of(side, s.from_best(i)));
  }

  /// Removes every level of both sides (capacity stays).
  void clear() noexcept {
    sides_[0].clear();
    sides_[1].clear();
  }
  /// The per-side level bound given at construction.
  [[nodiscard]] std::size_t max_levels() const noexcept { return max_levels_; }
  /// Levels evicted by DepthPolicy::DropWorst since construction.
  [[nodiscard]] std::uint64_t levels_dropped() const noexcept { return dropped_; }

 private:
  using Levels_ = detail::SortedLevels<Qty>;
  static constexpr Level level_of(Side side, const Levels_::Entry& e) noexcept {
    return Level{detail::level_price(side, e.key), e.value};
  }
  static constexpr std::size_t idx(Side s) noexcept { return static_cast<std::size_t>(s); }

  BookUpdate insert(Levels_& s, std::size_t pos, Levels_::Entry e) noexcept {
    if (s.full()) {
      if (pos == 0 || policy_ == DepthPolicy::Reject) return {BookError::DepthFull, false};
      s.insert_dropping_worst(pos, e);
      ++dropped_;
      return {BookError::None, pos == s.size()};
    }
    s.insert(pos, e);
    return {BookError::None, pos + 1 == s.size()};
  }

  static BookUpdate erase(Levels_& s, std::size_t pos) noexcept {
    const bool top = pos + 1 == s.size();
    s.erase(pos);
    return {BookError::None, top};
  }

  std::size_t max_levels_;
  DepthPolicy policy_;
  Levels_ sides_[2];
  std::uint64_t dropped_ = 0;
};

}  // namespace hft
