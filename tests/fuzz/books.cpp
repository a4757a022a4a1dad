// Fuzz target: OrderBookL2, TickWindowBookL2, OrderBookL3 and MatchingEngine driven by fuzzer-chosen operation
// sequences (prices in a narrow band so levels collide, small capacities so the depth and
// table limits are reached, ids from a small range so duplicates and unknown ids happen),
// each checked after every operation against the reference model the unit tests use
// (tests/trading/reference_books.hpp).
// Invariants: every result (error code, top_changed, fills) is what the reference predicts;
//   best bid/ask, order count and full depth equal the reference after every operation; a
//   refused operation changes nothing.
#include <cstdint>
#include <limits>
#include <vector>

#include "../trading/reference_books.hpp"
#include "fuzz_check.hpp"

namespace {

using hft::BookError;
using hft::Price;
using hft::Qty;
using hft::Side;

Price px(std::int64_t t) { return Price::from_ticks(t); }

void check_l2_equal(const hft::OrderBookL2& book, const hft::test::RefBookL2& ref) {
  FUZZ_CHECK(book.best_bid() == ref.best(Side::Buy), "L2 best bid differs");
  FUZZ_CHECK(book.best_ask() == ref.best(Side::Sell), "L2 best ask differs");
  FUZZ_CHECK(hft::test::depth(book, Side::Buy) == ref.depth(Side::Buy), "L2 bid depth differs");
  FUZZ_CHECK(hft::test::depth(book, Side::Sell) == ref.depth(Side::Sell), "L2 ask depth differs");
}

// What an L2 book's reduce(s, p, q) must return, applied to the reference when it succeeds.
BookError ref_reduce(hft::test::RefBookL2& ref, Side s, std::int64_t p, std::int64_t q) {
  if (q <= 0) return BookError::InvalidQty;
  if (!ref.has(s, p)) return BookError::UnknownLevel;
  if (ref.at(s, p) < q) return BookError::InsufficientQty;
  if ((ref.at(s, p) -= q) == 0) ref.erase(s, p);
  return BookError::None;
}

// ---- OrderBookL2 (DepthPolicy::DropWorst) against RefBookL2 ---------------------------
void run_l2(FuzzedDataProvider& in) {
  const auto max_levels = in.ConsumeIntegralInRange<std::size_t>(1, 8);
  hft::OrderBookL2 book(max_levels);
  hft::test::RefBookL2 ref;
  auto levels = [&](Side s) { return s == Side::Buy ? ref.bids.size() : ref.asks.size(); };
  // Inserts a new level into the reference as DropWorst does; false = DepthFull.
  auto ref_insert = [&](Side s, std::int64_t p, std::int64_t q) {
    if (levels(s) == max_levels) {
      const std::int64_t worst = s == Side::Buy ? ref.bids.rbegin()->first : ref.asks.rbegin()->first;
      const bool better = s == Side::Buy ? p > worst : p < worst;
      if (!better) return false;
      ref.erase(s, worst);
    }
    ref.at(s, p) = q;
    return true;
  };
  for (int step = 0; step < 512 && in.remaining_bytes() > 0; ++step) {
    const Side s = in.ConsumeBool() ? Side::Buy : Side::Sell;
    const std::int64_t p = in.ConsumeIntegralInRange<std::int64_t>(90, 110);
    const std::int64_t q = in.ConsumeIntegralInRange<std::int64_t>(-2, 1'000'000);
    const auto before = ref.best(s);
    hft::BookUpdate u;
    BookError want = BookError::None;
    switch (in.ConsumeIntegralInRange(0, 2)) {
      case 0:
        u = book.set_level(s, px(p), Qty(q));
        if (q < 0)
          want = BookError::InvalidQty;
        else if (q == 0)
          ref.erase(s, p);
        else if (ref.has(s, p))
          ref.at(s, p) = q;
        else if (!ref_insert(s, p, q))
          want = BookError::DepthFull;
        break;
      case 1:
        u = book.add(s, px(p), Qty(q));
        if (q <= 0)
          want = BookError::InvalidQty;
        else if (ref.has(s, p))
          ref.at(s, p) += q;
        else if (!ref_insert(s, p, q))
          want = BookError::DepthFull;
        break;
      default:
        u = book.reduce(s, px(p), Qty(q));
        want = ref_reduce(ref, s, p, q);
        break;
    }
    FUZZ_CHECK(u.error == want, "L2 step %d: error %d, the reference says %d", step, static_cast<int>(u.error),
               static_cast<int>(want));
    FUZZ_CHECK(u.top_changed == (before != ref.best(s)), "L2 step %d: top_changed is wrong", step);
    check_l2_equal(book, ref);
  }
}

// ---- TickWindowBookL2 against RefBookL2 ------------------------------------------------
// A 64-tick window and a centre the input moves by up to +-5,000 ticks, so levels fall
// beyond the window, the window re-centres both ways, and the far store fills; the far
// store holds more levels than 512 steps can create, so nothing drops and the reference
// needs no depth limit. Some prices sit at the ends of int64 (bids) to reach the
// saturated window bases.
void run_l2_window(FuzzedDataProvider& in) {
  hft::TickWindowBookL2 book(64, 1024);
  hft::test::RefBookL2 ref;
  std::int64_t center = 1'000'000;
  for (int step = 0; step < 512 && in.remaining_bytes() > 0; ++step) {
    const Side s = in.ConsumeBool() ? Side::Buy : Side::Sell;
    const int how = in.ConsumeIntegralInRange(0, 15);
    if (how == 0) center += in.ConsumeIntegralInRange<std::int64_t>(-5'000, 5'000);
    std::int64_t p = center + in.ConsumeIntegralInRange<std::int64_t>(-300, 300);
    if (how == 1 && s == Side::Buy)
      p = in.ConsumeBool() ? std::numeric_limits<std::int64_t>::max() - in.ConsumeIntegralInRange(0, 70)
                           : std::numeric_limits<std::int64_t>::min() + in.ConsumeIntegralInRange(0, 70);
    const std::int64_t q = in.ConsumeIntegralInRange<std::int64_t>(-2, 1'000'000);
    const auto before = ref.best(s);
    hft::BookUpdate u;
    BookError want = BookError::None;
    switch (in.ConsumeIntegralInRange(0, 2)) {
      case 0:
        u = book.set_level(s, px(p), Qty(q));
        if (q < 0)
          want = BookError::InvalidQty;
        else if (q == 0)
          ref.erase(s, p);
        else
          ref.at(s, p) = q;
        break;
      case 1:
        u = book.add(s, px(p), Qty(q));
        if (q <= 0)
          want = BookError::InvalidQty;
        else
          ref.at(s, p) += q;
        break;
      default:
        u = book.reduce(s, px(p), Qty(q));
        want = ref_reduce(ref, s, p, q);
        break;
    }
    FUZZ_CHECK(u.error == want, "window step %d: error %d, the reference says %d", step, static_cast<int>(u.error),
               static_cast<int>(want));
    FUZZ_CHECK(u.top_changed == (before != ref.best(s)), "window step %d: top_changed is wrong", step);
    FUZZ_CHECK(book.best_bid() == ref.best(Side::Buy), "window best bid differs");
    FUZZ_CHECK(book.best_ask() == ref.best(Side::Sell), "window best ask differs");
    FUZZ_CHECK(hft::test::depth(book, Side::Buy) == ref.depth(Side::Buy), "window bid depth differs");
    FUZZ_CHECK(hft::test::depth(book, Side::Sell) == ref.depth(Side::Sell), "window ask depth differs");
  }
  FUZZ_CHECK(book.levels_dropped() == 0, "window: a level dropped although the far store had room");
}

// ---- OrderBookL3 against RefL3 ---------------------------------------------------------
void run_l3(FuzzedDataProvider& in) {
  const auto max_orders = in.ConsumeIntegralInRange<std::size_t>(1, 24);
  const auto max_levels = in.ConsumeIntegralInRange<std::size_t>(1, 8);
  hft::OrderBookL3 book(max_orders, max_levels);
  hft::test::RefL3 ref;
  auto has_level = [&](Side s, std::int64_t p) { return ref.levels[static_cast<int>(s)].count(p) != 0; };
  auto level_count = [&](Side s) { return ref.levels[static_cast<int>(s)].size(); };
  for (int step = 0; step < 512 && in.remaining_bytes() > 0; ++step) {
    const std::uint64_t id = in.ConsumeIntegralInRange<std::uint64_t>(1, 32);
    const Side s = in.ConsumeBool() ? Side::Buy : Side::Sell;
    const std::int64_t p = in.ConsumeIntegralInRange<std::int64_t>(95, 105);
    const std::int64_t q = in.ConsumeIntegralInRange<std::int64_t>(-1, 50);
    const auto it = ref.orders.find(id);
    const bool known = it != ref.orders.end();
    const auto bid = ref.best(Side::Buy), ask = ref.best(Side::Sell);
    hft::BookUpdate u;
    BookError want = BookError::None;
    const int op = in.ConsumeIntegralInRange(0, 3);
    switch (op) {
      case 0:
        u = book.add_order(hft::OrderId(id), s, px(p), Qty(q));
        if (q <= 0)
          want = BookError::InvalidQty;
        else if (ref.orders.size() == max_orders)
          want = BookError::OrderTableFull;
        else if (known)
          want = BookError::DuplicateOrder;
        else if (!has_level(s, p) && level_count(s) == max_levels)
          want = BookError::DepthFull;
        else
          ref.put(id, {s, p, q});
        break;
      case 1:
        u = in.ConsumeBool() ? book.cancel(hft::OrderId(id), Qty(q)) : book.execute(hft::OrderId(id), Qty(q));
        if (q <= 0)
          want = BookError::InvalidQty;
        else if (!known)
          want = BookError::UnknownOrder;
        else if (it->second.qty < q)
          want = BookError::InsufficientQty;
        else
          ref.reduce(id, q);
        break;
      case 2:
        u = book.delete_order(hft::OrderId(id));
        if (!known)
          want = BookError::UnknownOrder;
        else
          ref.reduce(id, it->second.qty);
        break;
      default: {
        const std::uint64_t new_id = in.ConsumeIntegralInRange<std::uint64_t>(1, 32);
        u = book.replace(hft::OrderId(id), hft::OrderId(new_id), px(p), Qty(q));
        if (!known) {
          want = BookError::UnknownOrder;
        } else if (q <= 0) {
          want = BookError::InvalidQty;
        } else if (new_id != id && ref.orders.count(new_id) != 0) {
          want = BookError::DuplicateOrder;
        } else {
          const hft::test::RefOrder old = it->second;
          ref.reduce(id, old.qty);
          if (!has_level(old.side, p) && level_count(old.side) == max_levels) {
            want = BookError::DepthFull;
            ref.put(id, old);  // the book puts the old order back
          } else {
            ref.put(new_id, {old.side, p, q});
          }
        }
        break;
      }
    }
    FUZZ_CHECK(u.error == want, "L3 step %d: error %d, the reference says %d", step, static_cast<int>(u.error),
               static_cast<int>(want));
    if (want == BookError::None) {
      FUZZ_CHECK(u.top_changed == (bid != ref.best(Side::Buy) || ask != ref.best(Side::Sell)),
                 "L3 step %d (operation %d): top_changed is wrong", step, op);
    }
    FUZZ_CHECK(book.order_count() == ref.orders.size(), "L3 step %d: order count differs", step);
    for (const auto& [oid, o] : ref.orders) {
      const auto* got = book.find(hft::OrderId(oid));
      FUZZ_CHECK(got && got->side == o.side && got->price == px(o.price) && got->qty == Qty(o.qty),
                 "L3 step %d: order %llu differs", step, static_cast<unsigned long long>(oid));
    }
    FUZZ_CHECK(book.l2().best_bid() == ref.best(Side::Buy) && book.l2().best_ask() == ref.best(Side::Sell),
               "L3 step %d: BBO differs", step);
    FUZZ_CHECK(hft::test::depth(book.l2(), Side::Buy) == ref.depth(Side::Buy) &&
                   hft::test::depth(book.l2(), Side::Sell) == ref.depth(Side::Sell),
               "L3 step %d: depth differs", step);
  }
}

// ---- MatchingEngine against NaiveVenue --------------------------------------------------
void run_matching(FuzzedDataProvider& in) {
  hft::MatchingEngine engine(1024, 64);  // never full within 512 steps of 21 prices
  hft::test::NaiveVenue venue;
  std::vector<hft::Fill> out(2048);
  for (int step = 0; step < 512 && in.remaining_bytes() > 0; ++step) {
    const std::uint64_t id = in.ConsumeIntegralInRange<std::uint64_t>(1, 64);
    if (in.ConsumeIntegralInRange(0, 4) == 0) {
      const bool resting = venue.cancel(id);
      const BookError e = engine.cancel(hft::OrderId(id));
      FUZZ_CHECK(e == (resting ? BookError::None : BookError::UnknownOrder), "cancel %llu disagrees",
                 static_cast<unsigned long long>(id));
      continue;
    }
    hft::NewOrder o{hft::OrderId(id),
                    in.ConsumeBool() ? Side::Buy : Side::Sell,
                    in.ConsumeIntegralInRange(0, 5) == 0 ? hft::OrderType::Market : hft::OrderType::Limit,
                    in.ConsumeBool() ? hft::TimeInForce::GoodTillCancel : hft::TimeInForce::ImmediateOrCancel,
                    px(in.ConsumeIntegralInRange<std::int64_t>(90, 110)),
                    Qty(in.ConsumeIntegralInRange<std::int64_t>(-1, 200))};
    if (o.type == hft::OrderType::Market) o.tif = hft::TimeInForce::ImmediateOrCancel;
    const bool rests = o.type == hft::OrderType::Limit && o.tif == hft::TimeInForce::GoodTillCancel;
    bool duplicate = false;
    for (const auto& r : venue.book) duplicate = duplicate || (rests && r.id == id);
    const hft::ExecReport r = engine.submit(o, out);
    if (o.qty.value() <= 0 || duplicate) {
      FUZZ_CHECK(r.error == (o.qty.value() <= 0 ? BookError::InvalidQty : BookError::DuplicateOrder) && r.fills == 0,
                 "step %d: a refused order was not refused", step);
      continue;
    }
    const std::vector<hft::Fill> want = venue.submit(o);
    FUZZ_CHECK(r.error == BookError::None && r.rest_error == BookError::None && !r.truncated, "step %d: error", step);
    FUZZ_CHECK(r.fills == want.size(), "step %d: %zu fills, the reference %zu", step, r.fills, want.size());
    std::int64_t filled = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      FUZZ_CHECK(out[i].resting_id == want[i].resting_id && out[i].price == want[i].price && out[i].qty == want[i].qty,
                 "step %d: fill %zu differs", step, i);
      filled += want[i].qty.value();
    }
    FUZZ_CHECK(r.filled == Qty(filled), "step %d: filled differs", step);
    const std::int64_t left = o.qty.value() - filled;
    FUZZ_CHECK(r.resting == Qty(rests ? left : 0) && r.cancelled == Qty(rests ? 0 : left),
               "step %d: resting/cancelled differ", step);
    FUZZ_CHECK(engine.order_count() == venue.book.size(), "step %d: order count differs", step);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      run_l2(in);
      break;
    case 1:
      run_l3(in);
      break;
    case 2:
      run_l2_window(in);
      break;
    default:
      run_matching(in);
      break;
  }
  return 0;
}
