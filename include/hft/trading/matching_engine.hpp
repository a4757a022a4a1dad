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
// Layout: per side, a sorted array of price levels with the best at the end (as in
//   OrderBookL2); each level is a doubly linked FIFO of order records from a pool, so
//   cancel is O(1) after an O(1) id lookup (FlatIndex) and a level search from the touch.
// Thread-safety: one thread at a time.
// Progress: wait-free (bounded by the fills produced and the levels crossed).
// Memory ordering: none (not shared).
// Complexity: O(levels crossed + fills) per
//   order, O(distance from touch) to rest or cancel.
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
#include "hft/trading/types.hpp"

namespace hft {

enum class OrderType : std::uint8_t { Limit, Market };
enum class TimeInForce : std::uint8_t { GoodTillCancel, ImmediateOrCancel };

struct NewOrder {
  OrderId id;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GoodTillCancel;
  Price price;  // ignored for market orders
  Qty qty;
};

struct Fill {
  OrderId resting_id;
  Price price;
  Qty qty;
};

struct ExecReport {
  BookError error = BookError::None;  // DuplicateOrder / InvalidQty: nothing happened
  Qty filled;
  Qty resting;      // left on the book (limit GTC only)
  Qty cancelled;    // remainder not filled and not resting
  std::size_t fills = 0;
  bool truncated = false;  // the fill span filled up before liquidity did
  BookError rest_error = BookError::None;  // OrderTableFull / DepthFull / QtyOverflow: remainder cancelled
  Notional notional_ticks = 0;  // sum of fill price x qty, in tick-units
};

// '__i0' below is the loop index of the compiler's implicit move of sides_[2], not a name in
// this code (a clang-tidy 14 false positive).
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
class MatchingEngine {
 public:
  /// Room for max_orders resting orders and max_levels price levels per side.
  MatchingEngine(std::size_t max_orders, std::size_t max_levels)
      : index_(max_orders), orders_(new Rec[max_orders]), max_levels_(max_levels),
        sides_{SideBook(max_levels), SideBook(max_levels)} {
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
    SideBook& opp = sides_[idx(opposite(o.side))];
    while (left.value() > 0 && opp.n > 0) {
      LevelRec& lv = opp.lv[opp.n - 1];
      if (o.type == OrderType::Limit && !crosses(o.side, o.price, lv.price)) break;  // beyond our limit
      while (left.value() > 0 && lv.head != kNil) {
        if (r.fills == out.size()) {
          r.truncated = true;
          break;
        }
        Rec& rest = orders_[lv.head];
        const Qty q = min(left, rest.qty);
        out[r.fills++] = Fill{rest.id, lv.price, q};
        r.notional_ticks += notional(lv.price, q);
        left -= q;
        rest.qty -= q;
        lv.qty -= q;
        if (rest.qty.zero()) unlink_and_free(lv, lv.head);
      }
      if (lv.head == kNil) --opp.n;  // level emptied
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
    SideBook& s = sides_[idx(rec.side)];
    const std::size_t pos = find_level(s, rec.side, rec.price);
    HFT_ASSERT(pos < s.n && s.lv[pos].price == rec.price, "MatchingEngine: order's level missing");
    LevelRec& lv = s.lv[pos];
    lv.qty -= rec.qty;
    unlink_and_free(lv, slot);
    if (lv.head == kNil) {
      for (std::size_t i = pos; i + 1 < s.n; ++i) s.lv[i] = s.lv[i + 1];
      --s.n;
    }
    return BookError::None;
  }

  [[nodiscard]] std::optional<Level> best(Side side) const noexcept {
    const SideBook& s = sides_[idx(side)];
    if (s.n == 0) return std::nullopt;
    return Level{s.lv[s.n - 1].price, s.lv[s.n - 1].qty};
  }
  /// Total resting quantity at price on side (0 if no level).
  [[nodiscard]] Qty qty_at(Side side, Price price) const noexcept {
    const SideBook& s = sides_[idx(side)];
    const std::size_t pos = find_level(s, side, price);
    return pos < s.n && s.lv[pos].price == price ? s.lv[pos].qty : Qty{};
  }
  [[nodiscard]] std::size_t level_count(Side side) const noexcept { return sides_[idx(side)].n; }
  /// The i-th level from the touch (0 = best). Precondition: i < level_count(side).
  [[nodiscard]] Level level(Side side, std::size_t i) const noexcept {
    const SideBook& s = sides_[idx(side)];
    HFT_ASSERT(i < s.n, "MatchingEngine::level: index past the last level");
    return Level{s.lv[s.n - 1 - i].price, s.lv[s.n - 1 - i].qty};
  }
  [[nodiscard]] std::size_t order_count() const noexcept { return index_.size(); }
  /// Calls fn(OrderId, Qty) for the orders at the i-th level of side, oldest first.
  template <class F>
  void for_each_order(Side side, std::size_t i, F&& fn) const {
    const SideBook& s = sides_[idx(side)];
    HFT_ASSERT(i < s.n, "MatchingEngine::for_each_order: index past the last level");
    for (std::uint32_t r = s.lv[s.n - 1 - i].head; r != kNil; r = orders_[r].next) fn(orders_[r].id, orders_[r].qty);
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
  struct LevelRec {
    Price price;
    Qty qty;
    std::uint32_t head = kNil, tail = kNil;
  };
  struct SideBook {
    explicit SideBook(std::size_t cap) : lv(new LevelRec[cap]) {}
    std::unique_ptr<LevelRec[]> lv;  // worst ... best
    std::size_t n = 0;
  };
  static constexpr std::size_t idx(Side s) noexcept { return static_cast<std::size_t>(s); }
  static constexpr bool crosses(Side taker, Price limit, Price resting) noexcept {
    return taker == Side::Buy ? resting <= limit : resting >= limit;
  }

  // Index of the level at price, or the insertion point; scanned from the touch.
  static std::size_t find_level(const SideBook& s, Side side, Price price) noexcept {
    std::size_t i = s.n;
    while (i > 0 && s.lv[i - 1].price.better_than(price, side)) --i;
    if (i > 0 && s.lv[i - 1].price == price) return i - 1;
    return i;
  }

  BookError rest(OrderId id, Side side, Price price, Qty qty) noexcept {
    if (free_ == kNil) return BookError::OrderTableFull;
    SideBook& s = sides_[idx(side)];
    std::size_t pos = find_level(s, side, price);
    if (pos < s.n && s.lv[pos].price == price &&
        qty.value() > std::numeric_limits<std::int64_t>::max() - s.lv[pos].qty.value())
      return BookError::QtyOverflow;  // the level's total would wrap: the remainder is cancelled
    if (pos == s.n || s.lv[pos].price != price) {
      if (s.n == max_levels_) return BookError::DepthFull;
      for (std::size_t i = s.n; i > pos; --i) s.lv[i] = s.lv[i - 1];
      s.lv[pos] = LevelRec{price, Qty{}, kNil, kNil};
      ++s.n;
    }
    const std::uint32_t slot = free_;
    free_ = orders_[slot].next;
    orders_[slot] = Rec{id, price, qty, side, s.lv[pos].tail, kNil};
    LevelRec& lv = s.lv[pos];
    if (lv.tail != kNil) orders_[lv.tail].next = slot; else lv.head = slot;
    lv.tail = slot;
    lv.qty += qty;
    const bool inserted = index_.try_insert(id.value(), slot);
    HFT_ASSERT(inserted, "MatchingEngine: index out of step with the order pool");
    (void)inserted;
    return BookError::None;
  }

  void unlink_and_free(LevelRec& lv, std::uint32_t slot) noexcept {
    Rec& r = orders_[slot];
    if (r.prev != kNil) orders_[r.prev].next = r.next; else lv.head = r.next;
    if (r.next != kNil) orders_[r.next].prev = r.prev; else lv.tail = r.prev;
    index_.erase(r.id.value());
    r.next = free_;
    free_ = slot;
  }

  FlatIndex index_;
  std::unique_ptr<Rec[]> orders_;
  std::size_t max_levels_;
  SideBook sides_[2];
  std::uint32_t free_ = kNil;
};

}  // namespace hft
