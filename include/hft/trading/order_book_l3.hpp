// hft/trading/order_book_l3.hpp: OrderBookL3, an order-level book driven by ITCH-like
// messages (add, cancel/reduce, execute, delete, replace) that maintains its own
// OrderBookL2 view.
//
// What: live orders (id -> side, price, remaining qty) in a preallocated record pool
//   indexed by a FlatIndex (open addressing); each message updates the order and the
//   aggregated level it sits on. Unknown ids, duplicate ids, and reductions larger than
//   the order return a BookError and change nothing, so a bad feed cannot corrupt the book.
// When to use: replaying or consuming an order-by-order feed (ITCH, PITCH, MBO) where you
//   need aggregated depth. When not: when you also need queue positions and matching
//   (MatchingEngine), or only have aggregated data (OrderBookL2 directly).
// Thread-safety: one thread at a time.
// Progress: wait-free.
// Memory ordering: none (not shared).
// Complexity: O(1) expected per message for the id lookup, plus the L2 update (a few
//   levels from the touch). Memory: max_orders x 24 B records + the index (32 B x
//   max_orders) + the L2 view; all allocated in the constructor.
// Compared with: CppTrader's market manager (orders in a hash map, levels in AVL trees)
//   and the std::unordered_map + std::map books common in feed handlers: ours
//   preallocates every record and the index, so a message never allocates, and an
//   inconsistent message is an error code that changes nothing.
// Lifecycle: movable, not copyable; a moved-from book may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "hft/core/flat_index.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// An order-level (L3, market-by-order) book: add, cancel, execute, delete, replace by order
/// id, keeping an L2 view in step. One thread.
class OrderBookL3 {
 public:
  /// One resting order as find() returns it.
  struct Order {
    OrderId id;             ///< the order's id
    Side side = Side::Buy;  ///< the order's side
    Price price;            ///< the order's limit price
    Qty qty;                ///< remaining
  };

  /// Room for max_orders live orders and max_levels levels per side in the L2 view.
  /// Throws std::invalid_argument for 0.
  explicit OrderBookL3(std::size_t max_orders, std::size_t max_levels = 4096)
      : index_(max_orders),
        orders_(new Order[max_orders]),
        free_(new std::uint32_t[max_orders]),
        max_orders_(max_orders),
        l2_(max_levels, DepthPolicy::Reject) {
    refill_free_list();
  }

  /// New resting order. DuplicateOrder / OrderTableFull / InvalidQty (qty <= 0): unchanged.
  BookUpdate add_order(OrderId id, Side side, Price price, Qty qty) noexcept {
    if (qty.value() <= 0) return {BookError::InvalidQty, false};
    if (nfree_ == 0) return {BookError::OrderTableFull, false};
    if (index_.find(id.value()) != FlatIndex::npos) return {BookError::DuplicateOrder, false};
    const BookUpdate u = l2_.add(side, price, qty);
    if (!u.ok()) return u;  // DepthFull: the order is not tracked either
    const std::uint32_t slot = free_[--nfree_];
    orders_[slot] = Order{id, side, price, qty};
    const bool inserted = index_.try_insert(id.value(), slot);
    HFT_ASSERT(inserted, "OrderBookL3: index out of step with the record pool");
    (void)inserted;
    return u;
  }

  /// Partial cancel: removes qty (> 0, <= remaining) from the order; at 0 the order goes.
  BookUpdate cancel(OrderId id, Qty qty) noexcept { return reduce(id, qty); }
  /// Execution against the resting order: same effect on the book as a partial cancel.
  BookUpdate execute(OrderId id, Qty qty) noexcept { return reduce(id, qty); }

  /// Removes the whole order.
  BookUpdate delete_order(OrderId id) noexcept {
    const std::uint32_t slot = index_.find(id.value());
    if (slot == FlatIndex::npos) return {BookError::UnknownOrder, false};
    return remove(slot, orders_[slot].qty);
  }

  /// ITCH replace: the old order goes, a new one (new id, same side) takes its place at
  /// new_price / new_qty (it loses time priority). Errors leave both untouched.
  BookUpdate replace(OrderId old_id, OrderId new_id, Price new_price, Qty new_qty) noexcept {
    const std::uint32_t slot = index_.find(old_id.value());
    if (slot == FlatIndex::npos) return {BookError::UnknownOrder, false};
    if (new_qty.value() <= 0) return {BookError::InvalidQty, false};
    if (new_id != old_id && index_.find(new_id.value()) != FlatIndex::npos) return {BookError::DuplicateOrder, false};
    const Order old = orders_[slot];
    // Compared, not OR-ed from the two steps: a replace at the touch that leaves it where it
    // was (same price, same total) touches the top twice but changes nothing.
    const std::optional<Level> top = l2_.best(old.side);
    (void)remove(slot, old.qty);
    const BookUpdate b = add_order(new_id, old.side, new_price, new_qty);
    if (!b.ok()) {  // DepthFull: put the old order back so the book is as before
      (void)add_order(old.id, old.side, old.price, old.qty);
      return b;
    }
    return {BookError::None, l2_.best(old.side) != top};
  }

  /// The live order with this id, or nullptr.
  [[nodiscard]] const Order* find(OrderId id) const noexcept {
    const std::uint32_t slot = index_.find(id.value());
    return slot == FlatIndex::npos ? nullptr : &orders_[slot];
  }
  /// The book's price levels (the L2 view it keeps in step).
  [[nodiscard]] const OrderBookL2& l2() const noexcept { return l2_; }
  /// Live orders.
  [[nodiscard]] std::size_t order_count() const noexcept { return max_orders_ - nfree_; }
  /// Removes every order and level (capacity stays).
  void clear() noexcept {
    index_.clear();
    l2_.clear();
    refill_free_list();
  }

 private:
  void refill_free_list() noexcept {  // every record free; slot 0 handed out first
    for (std::size_t i = 0; i < max_orders_; ++i) free_[i] = static_cast<std::uint32_t>(max_orders_ - 1 - i);
    nfree_ = max_orders_;
  }

  BookUpdate reduce(OrderId id, Qty qty) noexcept {
    if (qty.value() <= 0) return {BookError::InvalidQty, false};
    const std::uint32_t slot = index_.find(id.value());
    if (slot == FlatIndex::npos) return {BookError::UnknownOrder, false};
    Order& o = orders_[slot];
    if (qty > o.qty) return {BookError::InsufficientQty, false};
    if (qty == o.qty) return remove(slot, qty);
    o.qty -= qty;
    return l2_.reduce(o.side, o.price, qty);
  }

  BookUpdate remove(std::uint32_t slot, Qty qty) noexcept {
    const Order& o = orders_[slot];
    const BookUpdate u = l2_.reduce(o.side, o.price, qty);
    HFT_ASSERT(u.ok(), "OrderBookL3: L2 view out of step with the orders");
    index_.erase(o.id.value());
    free_[nfree_++] = slot;
    return u;
  }

  FlatIndex index_;
  std::unique_ptr<Order[]> orders_;
  std::unique_ptr<std::uint32_t[]> free_;
  std::size_t max_orders_;
  std::size_t nfree_ = 0;
  OrderBookL2 l2_;
};

}  // namespace hft
