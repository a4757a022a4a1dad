// hft/trading/matching_engine.hpp: MatchingEngine, a simulated single-symbol venue with
// price-time priority, for tests and for the mini-OMS execution stage.
//
// What: limit and market orders, good-till-cancel or immediate-or-cancel; an incoming
//   order matches against the opposite side best price first and, within a price, oldest
//   first (price-time priority), producing partial or full fills; a limit GTC remainder
//   rests; an IOC or market remainder is cancelled. cancel(id) removes a resting order.
//   Fills (resting order id, price, qty) go into a caller-supplied span: nothing allocates
//   after construction.
// Buffer rule: matching stops when the fill span is full; the unfilled remainder is then
//   treated by its time-in-force as if liquidity had run out (rests if limit GTC, else
//   cancelled) and ExecReport::truncated is set. Size the span for the deepest sweep you
//   allow (e.g. the number of resting orders you expect within your price limit).
// When to use: a deterministic venue in tests, simulations and example pipelines.
// When not: a production matching engine (no self-trade prevention, no auctions, no
//   order types beyond these, one symbol per instance).
// Layout: per side, the level store OrderBookL2 uses (detail::SortedLevels: a sorted
//   array, best at the end, searched linearly from the touch and then by binary search),
//   so a level deep in the book is found in O(log n) and both books get every fix to it
//   once. Each level's value is a doubly linked FIFO of order records from a pool, so
//   cancel is O(1) after an O(1) id lookup (FlatIndex) and the level search.
// Thread-safety: one thread at a time.
// Progress: wait-free (bounded by the fills produced and the levels crossed).
// Memory ordering: none (not shared).
// Complexity: O(levels crossed + fills) per order; resting or cancelling searches
//   O(min(d, 8) + log n) levels and moves the d levels better than it (d = distance in
//   levels from the touch, n = levels on the side).
// Compared with: CppTrader's matching engine keeps price levels in an intrusive AVL tree
//   and supports many more order types; liquibook keeps a std::multimap per side and
//   allocates per order. Ours is sorted arrays and a preallocated pool: no allocation
//   after construction, for tests and the mini-OMS, not a venue.
// Lifecycle: movable, not copyable; a moved-from engine may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>

#include "hft/core/assert.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/sorted_levels.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// Limit: trades at the limit price or better; Market: takes any price (its price is ignored).
enum class OrderType : std::uint8_t { Limit, Market };
/// GoodTillCancel: the unfilled rest of a limit order rests on the book; ImmediateOrCancel: it
/// is cancelled.
enum class TimeInForce : std::uint8_t { GoodTillCancel, ImmediateOrCancel };

/// An order for MatchingEngine::submit().
struct NewOrder {
  OrderId id{};  ///< unique among the engine's resting orders (DuplicateOrder otherwise)
  Side side = Side::Buy;  ///< Buy takes asks, Sell takes bids
  OrderType type = OrderType::Limit;  ///< Limit or Market (a market order never rests)
  TimeInForce tif = TimeInForce::GoodTillCancel;  ///< what happens to the unfilled rest
  Price price{};  ///< ignored for market orders
  Qty qty{};  ///< units wanted, >= 1 (InvalidQty otherwise)
};

/// One trade against a resting order, in the span submit() fills.
struct Fill {
  OrderId resting_id{};  ///< the resting (maker) order traded against
  Price price{};         ///< the resting order's price: the trade price
  Qty qty{};             ///< units traded
};

/// What submit() did with a NewOrder: how much traded, rested and was cancelled, and why not
/// all.
struct ExecReport {
  BookError error = BookError::None;       ///< DuplicateOrder / InvalidQty: nothing happened
  Qty filled{};                            ///< units traded in total (over `fills` fills)
  Qty resting{};                           ///< left on the book (limit GTC only)
  Qty cancelled{};                         ///< remainder not filled and not resting
  std::size_t fills = 0;                   ///< fills written to the caller's span
  bool truncated = false;                  ///< the fill span filled up before liquidity did
  BookError rest_error = BookError::None;  ///< OrderTableFull / DepthFull / QtyOverflow: remainder cancelled
  Notional notional_ticks = 0;             ///< sum of fill price x qty, in tick-units
};

// '__i0' below is the loop index of the compiler's implicit move of sides_[2], not a name in
// this code (a clang-tidy 14 false positive).
/// A price-time priority matching engine over one instrument: limit and market orders, GTC and
/// IOC, cancels. One thread.
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
class MatchingEngine {
 public:
  /// Room for max_orders resting orders and max_levels price levels per side.
  MatchingEngine(std::size_t max_orders, std::size_t max_levels)
      : index_(max_orders), orders_(new Rec[max_orders]),
        sides_{Levels_(max_levels), Levels_(max_levels)} {
    if (max_levels == 0) throw std::invalid_argument("hft::MatchingEngine: max_levels must be >= 1");
    for (std::size_t i = 0; i < max_orders; ++i)
      orders_[i].next = i + 1 < max_orders ? static_cast<std::uint32_t>(i + 1) : kNil;
    free_ = 0;
  }

  /// Matches `o` and rests or cancels the remainder; fills go to `out`.
  ExecReport submit(const NewOrder& o, std::span<Fill> out) noexcept {
    ExecReport r;
    if (o.qty.value() <= 0) {
      r.error = BookError::InvalidQty;
      return r;
    }
    const bool rests = o.type == OrderType::Limit && o.tif == TimeInForce::GoodTillCancel;
    if (rests && index_.find(o.id.value()) != FlatIndex::npos) {
      r.error = BookError::DuplicateOrder;
      return r;
    }
    Qty left = o.qty;
    const Side os = opposite(o.side);
    Levels_& opp = sides_[idx(os)];
    // The taker's limit as a key on the resting side: a level crosses when its key is at
    // least this (a buy at 100 takes asks at key -100 and above, i.e. price <= 100).
    const std::int64_t limit_key = detail::level_key(os, o.price);
    while (left.value() > 0 && !opp.empty()) {
      auto& top = opp.back();
      if (o.type == OrderType::Limit && top.key < limit_key) break;  // beyond our limit
      const Price px = detail::level_price(os, top.key);
      Fifo& lv = top.value;
      while (left.value() > 0 && lv.head != kNil) {
        if (r.fills == out.size()) {
          r.truncated = true;
          break;
        }
        Rec& rest = orders_[lv.head];
        const Qty q = min(left, rest.qty);
        out[r.fills++] = Fill{rest.id, px, q};
        r.notional_ticks += notional(px, q);
        left -= q;
        rest.qty -= q;
        lv.qty -= q;
        if (rest.qty.zero()) unlink_and_free(lv, lv.head);
      }
      if (lv.head == kNil) opp.pop_back();  // level emptied
      if (r.truncated) break;
    }
    r.filled = o.qty - left;
    if (left.value() > 0) {
      if (rests) {
        r.rest_error = rest(o.id, o.side, o.price, left);
        if (r.rest_error == BookError::None) {
          r.resting = left;
        } else {
          r.cancelled = left;
        }
      } else {
        r.cancelled = left;
      }
    }
    return r;
  }

  /// Removes a resting order; UnknownOrder if none.
  BookError cancel(OrderId id) noexcept {
    const std::uint32_t slot = index_.find(id.value());
    if (slot == FlatIndex::npos) return BookError::UnknownOrder;
    const Rec& rec = orders_[slot];
    Levels_& s = sides_[idx(rec.side)];
    const auto f = s.find(detail::level_key(rec.side, rec.price));
    HFT_ASSERT(f.found, "MatchingEngine: order's level missing");
    Fifo& lv = s[f.pos].value;
    lv.qty -= rec.qty;
    unlink_and_free(lv, slot);
    if (lv.head == kNil) s.erase(f.pos);
    return BookError::None;
  }

  /// The best level of `side` (highest bid, lowest ask), or nullopt when that side is empty.
  [[nodiscard]] std::optional<Level> best(Side side) const noexcept {
    const Levels_& s = sides_[idx(side)];
    if (s.empty()) return std::nullopt;
    return level_of(side, s.back());
  }
  /// Total resting quantity at price on side (0 if no level).
  [[nodiscard]] Qty qty_at(Side side, Price price) const noexcept {
    const Levels_& s = sides_[idx(side)];
    const auto f = s.find(detail::level_key(side, price));
    return f.found ? s[f.pos].value.qty : Qty{};
  }
  /// Price levels on `side`.
  [[nodiscard]] std::size_t level_count(Side side) const noexcept { return sides_[idx(side)].size(); }
  /// The i-th level from the touch (0 = best). Precondition: i < level_count(side).
  [[nodiscard]] Level level(Side side, std::size_t i) const noexcept {
    const Levels_& s = sides_[idx(side)];
    HFT_ASSERT(i < s.size(), "MatchingEngine::level: index past the last level");
    return level_of(side, s.from_best(i));
  }
  /// Resting orders on both sides.
  [[nodiscard]] std::size_t order_count() const noexcept { return index_.size(); }
  /// Calls fn(OrderId, Qty) for the orders at the i-th level of side, oldest first.
  template <class F>
  void for_each_order(Side side, std::size_t i, F&& fn) const {
    const Levels_& s = sides_[idx(side)];
    HFT_ASSERT(i < s.size(), "MatchingEngine::for_each_order: index past the last level");
    for (std::uint32_t r = s.from_best(i).value.head; r != kNil; r = orders_[r].next) fn(orders_[r].id, orders_[r].qty);
  }

 private:
  static constexpr std::uint32_t kNil = FlatIndex::npos;
  struct Rec {
    OrderId id;
    Price price;
    Qty qty;
    Side side = Side::Buy;
    std::uint32_t prev = kNil, next = kNil;
  };
  // A level's total and its FIFO of order records (oldest at head).
  struct Fifo {
    Qty qty;
    std::uint32_t head = kNil, tail = kNil;
  };
  using Levels_ = detail::SortedLevels<Fifo>;
  static constexpr std::size_t idx(Side s) noexcept { return static_cast<std::size_t>(s); }
  static constexpr Level level_of(Side side, const Levels_::Entry& e) noexcept {
    return Level{detail::level_price(side, e.key), e.value.qty};
  }

  BookError rest(OrderId id, Side side, Price price, Qty qty) noexcept {
    if (free_ == kNil) return BookError::OrderTableFull;
    Levels_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    const auto f = s.find(k);
    if (f.found && qty.value() > std::numeric_limits<std::int64_t>::max() - s[f.pos].value.qty.value())
      return BookError::QtyOverflow;  // the level's total would wrap: the remainder is cancelled
    if (!f.found && s.full()) return BookError::DepthFull;
    Fifo& lv = f.found ? s[f.pos].value : s.insert(f.pos, {k, Fifo{}}).value;
    const std::uint32_t slot = free_;
    free_ = orders_[slot].next;
    orders_[slot] = Rec{id, price, qty, side, lv.tail, kNil};
    if (lv.tail != kNil) orders_[lv.tail].next = slot; else lv.head = slot;
    lv.tail = slot;
    lv.qty += qty;
    const bool inserted = index_.try_insert(id.value(), slot);
    HFT_ASSERT(inserted, "MatchingEngine: index out of step with the order pool");
    (void)inserted;
    return BookError::None;
  }

  void unlink_and_free(Fifo& lv, std::uint32_t slot) noexcept {
    Rec& r = orders_[slot];
    if (r.prev != kNil) orders_[r.prev].next = r.next; else lv.head = r.next;
    if (r.next != kNil) orders_[r.next].prev = r.prev; else lv.tail = r.prev;
    index_.erase(r.id.value());
    r.next = free_;
    free_ = slot;
  }

  FlatIndex index_;
  std::unique_ptr<Rec[]> orders_;
  Levels_ sides_[2];
  std::uint32_t free_ = kNil;
};

}  // namespace hft
