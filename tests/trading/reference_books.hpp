// Reference models the trading tests and fuzz targets check the books against: written for
// obviousness (std::map, linear scans), never for speed, so a disagreement points at the
// book under test.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include "hft/trading/matching_engine.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "hft/trading/tick_window_book_l2.hpp"

namespace hft::test {

// The reference: one std::map per side, price -> qty.
struct RefBookL2 {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  std::vector<hft::Level> depth(hft::Side s) const {
    std::vector<hft::Level> v;
    auto put = [&](const auto& m) {
      for (auto [p, q] : m) v.push_back(hft::Level{hft::Price::from_ticks(p), hft::Qty(q)});
    };
    if (s == hft::Side::Buy)
      put(bids);
    else
      put(asks);
    return v;
  }
  std::int64_t& at(hft::Side s, std::int64_t p) { return s == hft::Side::Buy ? bids[p] : asks[p]; }
  bool has(hft::Side s, std::int64_t p) const { return s == hft::Side::Buy ? bids.count(p) != 0 : asks.count(p) != 0; }
  void erase(hft::Side s, std::int64_t p) {
    if (s == hft::Side::Buy)
      bids.erase(p);
    else
      asks.erase(p);
  }
  std::optional<hft::Level> best(hft::Side s) const {
    if (s == hft::Side::Buy) {
      if (bids.empty()) return std::nullopt;
      return hft::Level{hft::Price::from_ticks(bids.begin()->first), hft::Qty(bids.begin()->second)};
    }
    if (asks.empty()) return std::nullopt;
    return hft::Level{hft::Price::from_ticks(asks.begin()->first), hft::Qty(asks.begin()->second)};
  }
};

struct RefOrder {
  hft::Side side;
  std::int64_t price, qty;
};
// Reference: orders in a std::map, aggregated levels kept incrementally in std::maps.
struct RefL3 {
  std::map<std::uint64_t, RefOrder> orders;
  std::map<std::int64_t, std::int64_t> levels[2];  // [side]: price -> qty
  void put(std::uint64_t id, RefOrder o) {
    orders[id] = o;
    levels[static_cast<int>(o.side)][o.price] += o.qty;
  }
  void reduce(std::uint64_t id, std::int64_t q) {
    RefOrder& o = orders.at(id);
    auto& lv = levels[static_cast<int>(o.side)];
    if ((lv[o.price] -= q) == 0) lv.erase(o.price);
    if ((o.qty -= q) == 0) orders.erase(id);
  }
  std::optional<hft::Level> best(hft::Side s) const {
    const auto& lv = levels[static_cast<int>(s)];
    if (lv.empty()) return std::nullopt;
    const auto it = s == hft::Side::Buy ? std::prev(lv.end()) : lv.begin();
    return hft::Level{hft::Price::from_ticks(it->first), hft::Qty(it->second)};
  }
  std::vector<hft::Level> depth(hft::Side s) const {
    std::vector<hft::Level> v;
    for (auto [p, q] : levels[static_cast<int>(s)]) v.push_back(hft::Level{hft::Price::from_ticks(p), hft::Qty(q)});
    if (s == hft::Side::Buy) std::reverse(v.begin(), v.end());
    return v;
  }
};

// Naive matcher: a flat list of resting orders; each match scans for the best price and,
// among equals, the earliest arrival.
struct NaiveVenue {
  struct O {
    std::uint64_t id;
    hft::Side side;
    std::int64_t px, qty, time;
  };
  std::vector<O> book;
  std::int64_t clock = 0;
  std::vector<hft::Fill> submit(const hft::NewOrder& o) {
    std::vector<hft::Fill> fills;
    std::int64_t left = o.qty.value();
    while (left > 0) {
      int best = -1;
      for (int i = 0; i < static_cast<int>(book.size()); ++i) {
        const O& r = book[static_cast<std::size_t>(i)];
        if (r.side == o.side) continue;
        if (o.type == hft::OrderType::Limit &&
            (o.side == hft::Side::Buy ? r.px > o.price.ticks() : r.px < o.price.ticks()))
          continue;
        if (best < 0) {
          best = i;
          continue;
        }
        const O& b = book[static_cast<std::size_t>(best)];
        const bool better = o.side == hft::Side::Buy ? r.px < b.px : r.px > b.px;
        if (better || (r.px == b.px && r.time < b.time)) best = i;
      }
      if (best < 0) break;
      O& r = book[static_cast<std::size_t>(best)];
      const std::int64_t q = std::min(left, r.qty);
      fills.push_back(hft::Fill{hft::OrderId(r.id), hft::Price::from_ticks(r.px), hft::Qty(q)});
      left -= q;
      r.qty -= q;
      if (r.qty == 0) book.erase(book.begin() + best);
    }
    if (left > 0 && o.type == hft::OrderType::Limit && o.tif == hft::TimeInForce::GoodTillCancel) {
      book.push_back(O{o.id.value(), o.side, o.price.ticks(), left, clock++});
    }
    return fills;
  }
  bool cancel(std::uint64_t id) {
    for (auto it = book.begin(); it != book.end(); ++it) {
      if (it->id == id) {
        book.erase(it);
        return true;
      }
    }
    return false;
  }
};

/// Every level of one side of a book (OrderBookL2 or TickWindowBookL2), best first.
template <class Book>
std::vector<hft::Level> depth(const Book& b, hft::Side s) {
  std::vector<hft::Level> v;
  b.for_each_level(s, b.level_count(s), [&](const hft::Level& l) { v.push_back(l); });
  return v;
}

/// Whether one side of a book equals the reference's, level for level, best first. Walks both
/// without building vectors: the stress test compares thousands of levels every 64 steps, and
/// vectors of that size went through mmap/munmap and page faults on every comparison.
template <class Book>
bool same_depth(const Book& b, const RefBookL2& ref, hft::Side s) {
  auto walk = [&](const auto& m) {
    if (b.level_count(s) != m.size()) return false;
    auto it = m.begin();
    bool same = true;
    b.for_each_level(s, b.level_count(s), [&](const hft::Level& l) {
      same = same && l.price == hft::Price::from_ticks(it->first) && l.qty == hft::Qty(it->second);
      ++it;
    });
    return same;
  };
  return s == hft::Side::Buy ? walk(ref.bids) : walk(ref.asks);
}

}  // namespace hft::test
