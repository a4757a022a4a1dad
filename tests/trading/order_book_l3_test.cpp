#include "hft/trading/order_book_l3.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"
#include "reference_books.hpp"
#include "hft/trading/market_data_generator.hpp"

using hft::OrderBookL3;
using hft::OrderId;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::test::RefL3;
using hft::test::RefOrder;
using hft::test::depth;

TEST_CASE("OrderBookL3 on the synthetic stream plus invalid messages equals a reference", "[l3][stress]") {
  hft::MarketDataGenerator gen(7, hft::MarketDataGeneratorConfig{10'000, 500, 50, 5'000, 100});
  OrderBookL3 book(10'000);
  RefL3 ref;
  std::mt19937_64 rng(3);
  const std::size_t steps = hft::test::scaled(2'000'000);
  for (std::size_t i = 0; i < steps; ++i) {
    const hft::MdMessage m = gen.next();
    hft::BookUpdate u;
    switch (m.type) {
      case hft::MdType::Add:
        u = book.add_order(m.id, m.side, m.price, m.qty);
        ref.put(m.id.value(), RefOrder{m.side, m.price.ticks(), m.qty.value()});
        break;
      case hft::MdType::Cancel:
      case hft::MdType::Execute:
        u = m.type == hft::MdType::Cancel ? book.cancel(m.id, m.qty) : book.execute(m.id, m.qty);
        ref.reduce(m.id.value(), m.qty.value());
        break;
      case hft::MdType::Delete:
        u = book.delete_order(m.id);
        ref.reduce(m.id.value(), ref.orders.at(m.id.value()).qty);
        break;
      case hft::MdType::Replace: {
        u = book.replace(m.id, m.new_id, m.price, m.qty);
        const RefOrder old = ref.orders.at(m.id.value());
        ref.reduce(m.id.value(), old.qty);
        ref.put(m.new_id.value(), RefOrder{old.side, m.price.ticks(), m.qty.value()});
        break;
      }
    }
    REQUIRE(u.ok());
    // Invalid messages interleaved: each must fail and change nothing.
    if (rng() % 8 == 0) {
      const std::uint64_t unknown = 1'000'000'000 + rng() % 1000;
      REQUIRE(book.delete_order(OrderId(unknown)).error == hft::BookError::UnknownOrder);
      REQUIRE(book.cancel(OrderId(unknown), Qty(1)).error == hft::BookError::UnknownOrder);
      if (!ref.orders.empty()) {
        const auto& [id, o] = *ref.orders.begin();
        REQUIRE(book.cancel(OrderId(id), Qty(o.qty + 1)).error == hft::BookError::InsufficientQty);
        REQUIRE(book.add_order(OrderId(id), o.side, Price::from_ticks(o.price), Qty(1)).error ==
                hft::BookError::DuplicateOrder);
        REQUIRE(book.execute(OrderId(id), Qty(0)).error == hft::BookError::InvalidQty);
      }
    }
    REQUIRE(book.order_count() == ref.orders.size());
    REQUIRE(book.l2().best_bid() == ref.best(Side::Buy));  // the BBO after every message
    REQUIRE(book.l2().best_ask() == ref.best(Side::Sell));
    if (i % 64 == 0) {  // full depth every 64 messages
      REQUIRE(depth(book.l2(), Side::Buy) == ref.depth(Side::Buy));
      REQUIRE(depth(book.l2(), Side::Sell) == ref.depth(Side::Sell));
      REQUIRE_FALSE(book.l2().crossed());
    }
  }
}

TEST_CASE("OrderBookL3 replace moves the order, a full table or view refuses cleanly", "[l3]") {
  OrderBookL3 book(3, 2);
  REQUIRE(book.add_order(OrderId(1), Side::Buy, Price::from_ticks(100), Qty(10)).top_changed);
  REQUIRE(book.replace(OrderId(1), OrderId(2), Price::from_ticks(101), Qty(5)).top_changed);
  CHECK(book.find(OrderId(1)) == nullptr);
  CHECK(book.find(OrderId(2))->qty == Qty(5));
  CHECK(book.l2().best_bid()->price == Price::from_ticks(101));
  REQUIRE(book.add_order(OrderId(5), Side::Buy, Price::from_ticks(97), Qty(1)).ok());
  REQUIRE(book.add_order(OrderId(7), Side::Buy, Price::from_ticks(97), Qty(2)).ok());
  CHECK(book.add_order(OrderId(8), Side::Buy, Price::from_ticks(97), Qty(1)).error == hft::BookError::OrderTableFull);
  // Levels 101 and 97 in use and 97 keeps order 7: a third price is refused, order 5 stays.
  CHECK(book.replace(OrderId(5), OrderId(6), Price::from_ticks(90), Qty(1)).error == hft::BookError::DepthFull);
  CHECK(book.find(OrderId(5)) != nullptr);
  CHECK(book.find(OrderId(6)) == nullptr);
  CHECK(book.l2().level(Side::Buy, 1) == hft::Level{Price::from_ticks(97), Qty(3)});
  CHECK(book.execute(OrderId(2), Qty(5)).top_changed);  // 101 gone
  CHECK(book.l2().best_bid()->price == Price::from_ticks(97));
  book.clear();
  CHECK(book.order_count() == 0);
}

// Found by tests/fuzz/books: replace OR-ed the top_changed of its remove and its add, so a
// replace at the touch that ends where it began (same price, same total) reported a change.
TEST_CASE("OrderBookL3 replace reports top_changed only when the best level changed", "[l3]") {
  OrderBookL3 book(8, 4);
  REQUIRE(book.add_order(OrderId(1), Side::Buy, Price::from_ticks(100), Qty(10)).ok());
  REQUIRE(book.add_order(OrderId(2), Side::Buy, Price::from_ticks(99), Qty(4)).ok());
  CHECK_FALSE(book.replace(OrderId(1), OrderId(3), Price::from_ticks(100), Qty(10)).top_changed);  // same top
  CHECK(book.replace(OrderId(3), OrderId(4), Price::from_ticks(100), Qty(7)).top_changed);         // size
  CHECK(book.replace(OrderId(4), OrderId(5), Price::from_ticks(98), Qty(7)).top_changed);          // price
  CHECK_FALSE(book.replace(OrderId(5), OrderId(6), Price::from_ticks(97), Qty(1)).top_changed);    // below it
  CHECK(book.l2().best_bid() == hft::Level{Price::from_ticks(99), Qty(4)});
}

TEST_CASE("OrderBookL3 lifecycle contract: move-only, a moved-from book may be assigned and reused", "[l3][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<OrderBookL3, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<OrderBookL3>(
      [] {
        OrderBookL3 b(8, 4);
        (void)b.add_order(OrderId(1), Side::Buy, Price::from_ticks(100), Qty(5));
        return b;
      },
      [](OrderBookL3& b) {
        REQUIRE(b.add_order(OrderId(99), Side::Sell, Price::from_ticks(105), Qty(2)).ok());
        REQUIRE(b.find(OrderId(99)) != nullptr);
        REQUIRE(b.delete_order(OrderId(99)).ok());
      });
  OrderBookL3 one(1, 1);  // limits: one order, one level
  CHECK(one.add_order(OrderId(1), Side::Buy, Price::from_ticks(10), Qty(1)).ok());
  CHECK(one.add_order(OrderId(2), Side::Buy, Price::from_ticks(10), Qty(1)).error == hft::BookError::OrderTableFull);
  CHECK_THROWS_AS(OrderBookL3(0), std::invalid_argument);
}
