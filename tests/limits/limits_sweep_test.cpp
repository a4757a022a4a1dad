// The limit sweep (issue 34): every public function of the books, the statistics and the
// guards that takes a price, a quantity, a time or a duration, called with the ends of its
// type (INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX; 0, 1, UINT64_MAX - 1,
// UINT64_MAX; duration::min() / max()). The contract checked for each call: either it is
// refused the way its header documents (an error code, an exception, false) and the object
// is unchanged, or it is accepted and every query afterwards agrees with a reference
// computed in wider arithmetic (__int128, long double, std::map models). Under the asan
// preset UBSan aborts on any signed overflow or out-of-range conversion, so the calls alone
// prove "no UB"; the value checks prove "no silently wrong answer".
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "../support/catch.hpp"
#include "../trading/reference_books.hpp"
#include "hft/core/deadline.hpp"
#include "hft/metrics/counters.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/metrics/moving_average.hpp"
#include "hft/metrics/p2_quantile.hpp"
#include "hft/metrics/rolling_stats.hpp"
#include "hft/metrics/sliding_median.hpp"
#include "hft/metrics/streaming_median.hpp"
#include "hft/sched/backpressure_guard.hpp"
#include "hft/sched/circuit_breaker.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/trading/matching_engine.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "hft/trading/tick_window_book_l2.hpp"
#include "hft/trading/vwap.hpp"

using hft::BookError;
using hft::Level;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::test::RefOrder;

namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kUMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::array<std::int64_t, 7> kI64 = {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax};
constexpr std::array<std::uint64_t, 5> kU64 = {0, 1, std::uint64_t{1} << 63, kUMax - 1, kUMax};
constexpr std::array<Side, 2> kSides = {Side::Buy, Side::Sell};

// The checks every L2 query must pass against the std::map reference, with spread and mid
// recomputed in 128 bits.
template <class Book>
void check_l2_queries(const Book& b, const hft::test::RefBookL2& ref) {
  for (const Side s : kSides) {
    REQUIRE(hft::test::same_depth(b, ref, s));
    REQUIRE(b.best(s) == ref.best(s));
  }
  const auto bid = ref.best(Side::Buy), ask = ref.best(Side::Sell);
  if (!bid || !ask) {
    REQUIRE_FALSE(b.spread().has_value());
    REQUIRE_FALSE(b.mid_ticks().has_value());
    REQUIRE_FALSE(b.crossed());
    REQUIRE_FALSE(b.locked());
    return;
  }
  const i128 a = ask->price.ticks(), bb = bid->price.ticks();
  const i128 sp = std::clamp<i128>(a - bb, kMin, kMax);  // the documented saturation
  REQUIRE(b.spread() == static_cast<std::int64_t>(sp));
  REQUIRE(b.crossed() == (bb > a));
  REQUIRE(b.locked() == (bb == a));
  REQUIRE(*b.mid_ticks() == static_cast<double>(a + bb) / 2);  // the exact sum, rounded once
}

// One L2 book against the reference through every (side, price, qty) of the sweep, for the
// three updates. The reference applies the documented rules; the book must agree on the
// error and on every level afterwards.
template <class Book>
void sweep_l2(Book& b) {
  hft::test::RefBookL2 ref;
  for (const Side s : kSides) {
    for (const std::int64_t p : kI64) {
      for (const std::int64_t q : kI64) {
        const Price px = Price::from_ticks(p);
        {  // set_level: negative refused; 0 removes
          const BookError want = q < 0 ? BookError::InvalidQty : BookError::None;
          REQUIRE(b.set_level(s, px, Qty(q)).error == want);
          if (q == 0) ref.erase(s, p);
          if (q > 0) ref.at(s, p) = q;
          check_l2_queries(b, ref);
        }
        {  // add: delta <= 0 refused; a total past INT64_MAX refused
          BookError want = q <= 0 ? BookError::InvalidQty : BookError::None;
          if (want == BookError::None && ref.has(s, p) && q > kMax - ref.at(s, p)) want = BookError::QtyOverflow;
          REQUIRE(b.add(s, px, Qty(q)).error == want);
          if (want == BookError::None) ref.at(s, p) += q;
          check_l2_queries(b, ref);
        }
        {  // reduce: delta <= 0, an unknown level or more than the level holds refused
          BookError want = q <= 0 ? BookError::InvalidQty : BookError::None;
          if (want == BookError::None && !ref.has(s, p)) want = BookError::UnknownLevel;
          if (want == BookError::None && q > ref.at(s, p)) want = BookError::InsufficientQty;
          REQUIRE(b.reduce(s, px, Qty(q)).error == want);
          if (want == BookError::None && (ref.at(s, p) -= q) == 0) ref.erase(s, p);
          check_l2_queries(b, ref);
        }
      }
    }
  }
  // Every pair of touch prices, including both crossed extremes.
  for (const std::int64_t bid : kI64) {
    for (const std::int64_t ask : kI64) {
      b.clear();
      ref = {};
      REQUIRE(b.set_level(Side::Buy, Price::from_ticks(bid), Qty(kMax)).ok());
      REQUIRE(b.set_level(Side::Sell, Price::from_ticks(ask), Qty(1)).ok());
      ref.at(Side::Buy, bid) = kMax;
      ref.at(Side::Sell, ask) = 1;
      check_l2_queries(b, ref);
    }
  }
}

}  // namespace

TEST_CASE("limits: OrderBookL2 and TickWindowBookL2 at every extreme price and quantity", "[limits][l2]") {
  hft::OrderBookL2 drop(8);
  sweep_l2(drop);
  hft::OrderBookL2 reject(8, hft::DepthPolicy::Reject);
  sweep_l2(reject);
  hft::TickWindowBookL2 window(64, 8);
  sweep_l2(window);
  CHECK(drop.levels_dropped() == 0);  // 7 prices a side: never full
}

TEST_CASE("limits: OrderBookL3 at every extreme price and quantity", "[limits][l3]") {
  hft::OrderBookL3 book(64, 16);
  hft::test::RefL3 ref;
  std::uint64_t next_id = 1;
  const auto check = [&] {
    for (const Side s : kSides) REQUIRE(hft::test::depth(book.l2(), s) == ref.depth(s));
    REQUIRE(book.order_count() == ref.orders.size());
    for (const auto& [id, o] : ref.orders) {
      const auto* f = book.find(hft::OrderId(id));
      REQUIRE(f != nullptr);
      REQUIRE(f->price.ticks() == o.price);
      REQUIRE(f->qty.value() == o.qty);
    }
  };
  const auto level_total = [&](Side s, std::int64_t p) -> std::int64_t {
    const auto& lv = ref.levels[static_cast<int>(s)];
    const auto it = lv.find(p);
    return it == lv.end() ? 0 : it->second;
  };
  for (const Side s : kSides) {
    for (const std::int64_t p : kI64) {
      for (const std::int64_t q : kI64) {
        const std::uint64_t id = next_id++;
        BookError want = q <= 0 ? BookError::InvalidQty : BookError::None;
        if (want == BookError::None && q > kMax - level_total(s, p)) want = BookError::QtyOverflow;
        REQUIRE(book.add_order(hft::OrderId(id), s, Price::from_ticks(p), Qty(q)).error == want);
        if (want == BookError::None) ref.put(id, {s, p, q});
        check();
      }
    }
  }
  // cancel / execute / replace every live order by every quantity.
  std::vector<std::uint64_t> live = [&] {
    std::vector<std::uint64_t> v;
    for (const auto& [id, o] : ref.orders) v.push_back(id);
    return v;
  }();
  for (const std::uint64_t id : live) {
    for (const std::int64_t q : kI64) {
      const auto it = ref.orders.find(id);
      const bool known = it != ref.orders.end();
      BookError want = q <= 0 ? BookError::InvalidQty : BookError::None;
      if (want == BookError::None && !known) want = BookError::UnknownOrder;
      if (want == BookError::None && q > it->second.qty) want = BookError::InsufficientQty;
      REQUIRE(((q & 1) ? book.cancel(hft::OrderId(id), Qty(q)) : book.execute(hft::OrderId(id), Qty(q))).error == want);
      if (want == BookError::None) ref.reduce(id, q);
      check();
    }
  }
  // replace every live order at every extreme price and quantity (new id, same side).
  for (const std::int64_t p : kI64) {
    for (const std::int64_t q : kI64) {
      for (const std::uint64_t old_id : live) {
        const auto it = ref.orders.find(old_id);
        const std::uint64_t new_id = next_id++;
        BookError want = BookError::None;
        if (it == ref.orders.end()) {
          want = BookError::UnknownOrder;
        } else if (q <= 0) {
          want = BookError::InvalidQty;
        } else {
          const RefOrder o = it->second;
          const std::int64_t there = level_total(o.side, p) - (o.price == p ? o.qty : 0);
          if (q > kMax - there) want = BookError::QtyOverflow;
        }
        REQUIRE(book.replace(hft::OrderId(old_id), hft::OrderId(new_id), Price::from_ticks(p), Qty(q)).error == want);
        if (want == BookError::None) {
          const RefOrder o = it->second;
          ref.reduce(old_id, o.qty);
          ref.put(new_id, {o.side, p, q});
        }
        check();
      }
      live.clear();  // the ids replaced above are gone: carry on with the new ones
      for (const auto& [id, o] : ref.orders) live.push_back(id);
      REQUIRE(!live.empty());
    }
  }
  for (const std::uint64_t id : live) {
    const bool known = ref.orders.count(id) != 0;
    REQUIRE(book.delete_order(hft::OrderId(id)).error == (known ? BookError::None : BookError::UnknownOrder));
    if (known) ref.reduce(id, ref.orders.at(id).qty);
    check();
  }
  CHECK(book.order_count() == 0);
}

TEST_CASE("limits: MatchingEngine at every extreme price, quantity, side, type and time in force", "[limits][engine]") {
  hft::MatchingEngine eng(256, 32);
  hft::test::NaiveVenue ref;
  std::array<hft::Fill, 256> out{};
  std::uint64_t id = 1;
  const auto level_total = [&](Side s, std::int64_t p) {
    i128 t = 0;
    for (const auto& o : ref.book)
      if (o.side == s && o.px == p) t += o.qty;
    return t;
  };
  for (const auto type : {hft::OrderType::Limit, hft::OrderType::Market}) {
    for (const auto tif : {hft::TimeInForce::GoodTillCancel, hft::TimeInForce::ImmediateOrCancel}) {
      for (const Side s : kSides) {
        for (const std::int64_t p : kI64) {
          for (const std::int64_t q : kI64) {
            const hft::NewOrder o{hft::OrderId(id++), s, type, tif, Price::from_ticks(p), Qty(q)};
            const hft::ExecReport r = eng.submit(o, out);
            if (q <= 0) {
              REQUIRE(r.error == BookError::InvalidQty);
              REQUIRE(r.fills == 0);
              continue;
            }
            REQUIRE(r.error == BookError::None);
            REQUIRE_FALSE(r.truncated);
            // The reference venue matches without resting first, so the two can be compared
            // fill by fill; then the reference rests what the engine rested.
            const bool rests = type == hft::OrderType::Limit && tif == hft::TimeInForce::GoodTillCancel;
            hft::NewOrder taker = o;
            taker.tif = hft::TimeInForce::ImmediateOrCancel;
            const std::vector<hft::Fill> want = ref.submit(taker);
            REQUIRE(r.fills == want.size());
            i128 filled = 0, notional = 0;
            for (std::size_t i = 0; i < want.size(); ++i) {
              REQUIRE(out[i].resting_id == want[i].resting_id);
              REQUIRE(out[i].price == want[i].price);
              REQUIRE(out[i].qty == want[i].qty);
              filled += want[i].qty.value();
              notional += static_cast<i128>(want[i].price.ticks()) * want[i].qty.value();
            }
            REQUIRE(r.filled.value() == filled);
            REQUIRE(r.notional_ticks == notional);
            const std::int64_t left = q - static_cast<std::int64_t>(filled);
            REQUIRE(r.filled.value() + r.resting.value() + r.cancelled.value() == q);
            if (rests && left > 0) {
              const bool overflow = level_total(s, p) + left > kMax;
              REQUIRE(r.rest_error == (overflow ? BookError::QtyOverflow : BookError::None));
              if (!overflow) ref.book.push_back({o.id.value(), s, p, left, ref.clock++});
            } else {
              REQUIRE(r.resting.value() == 0);
            }
            // The engine's book equals the reference's, level by level.
            for (const Side side : kSides) {
              std::map<std::int64_t, i128> lv;
              for (const auto& ro : ref.book)
                if (ro.side == side) lv[ro.px] += ro.qty;
              REQUIRE(eng.level_count(side) == lv.size());
              for (const auto& [px, qty] : lv) REQUIRE(eng.qty_at(side, Price::from_ticks(px)).value() == qty);
            }
            const auto bid = eng.best(Side::Buy), ask = eng.best(Side::Sell);
            REQUIRE((!bid || !ask || bid->price < ask->price));  // an engine's book is never crossed
          }
        }
      }
    }
  }
  for (const auto& o : std::vector<hft::test::NaiveVenue::O>(ref.book)) {
    REQUIRE(eng.cancel(hft::OrderId(o.id)) == BookError::None);
    REQUIRE(ref.cancel(o.id));
  }
  CHECK(eng.order_count() == 0);
  CHECK(eng.cancel(hft::OrderId(1)) == BookError::UnknownOrder);
}

TEST_CASE("limits: Vwap, WindowedVwap and VwapTable at every extreme price, quantity, time and window",
          "[limits][vwap]") {
  // value() must be the VWAP rounded half-up: R with -q <= 2 (pq - R q) < q. The check runs
  // modulo 2^128, where the small true difference comes out exact even though R q does not
  // fit.
  const auto check_rounding = [](const hft::Vwap& v) {
    if (v.volume() == 0) {
      REQUIRE_FALSE(v.value().has_value());
      return;
    }
    const u128 pq = static_cast<u128>(v.notional_ticks()), q = static_cast<u128>(v.volume());
    const u128 r = static_cast<u128>(static_cast<i128>(v.value()->ticks()));
    const auto diff = static_cast<i128>(pq - r * q);  // in [-q/2, q/2): tiny
    REQUIRE(2 * diff >= -v.volume());
    REQUIRE(2 * diff < v.volume());
  };
  for (const std::int64_t p1 : kI64) {
    for (const std::int64_t q1 : kI64) {
      for (const std::int64_t p2 : kI64) {
        for (const std::int64_t q2 : kI64) {
          hft::Vwap v;
          i128 pq = 0, qs = 0;
          for (const auto& [p, q] : {std::pair{p1, q1}, std::pair{p2, q2}}) {
            REQUIRE(v.add(Price::from_ticks(p), Qty(q)) == (q > 0));  // two trades always fit 128 bits
            if (q > 0) {
              pq += static_cast<i128>(p) * q;
              qs += q;
            }
          }
          REQUIRE(v.notional_ticks() == pq);
          REQUIRE(v.volume() == qs);
          check_rounding(v);
          if (qs != 0) {
            const long double want = static_cast<long double>(pq) / static_cast<long double>(qs);
            REQUIRE(std::abs(*v.value_ticks() - static_cast<double>(want)) <=
                    std::abs(static_cast<double>(want)) * 1e-15);
          }
          v.remove(Price::from_ticks(p2), Qty(q2));  // the exact inverse of the second add
          REQUIRE(v.volume() == qs - (q2 > 0 ? q2 : 0));
          check_rounding(v);
        }
      }
    }
  }
  // Windows and times: a trade is kept while now - t < window, whatever the sum t + window.
  for (const std::uint64_t window : kU64) {
    if (window == 0) {
      REQUIRE_THROWS_AS(hft::WindowedVwap(4, {.window_ns = 0}), std::invalid_argument);
      continue;
    }
    hft::WindowedVwap w(4, {.window_ns = window});
    std::deque<std::uint64_t> kept;
    for (const std::uint64_t now : kU64) {  // ascending
      // INT64_MAX x INT64_MAX is 2^126 - 2^64 + 1: two fit in 128 bits, a third is refused.
      while (!kept.empty() && now - kept.front() >= window) kept.pop_front();
      const bool fits = kept.size() < 2;
      REQUIRE(w.add(Price::from_ticks(kMax), Qty(kMax), now) == fits);
      if (fits) kept.push_back(now);
      REQUIRE(w.trades() == kept.size());
      REQUIRE(w.value() == Price::from_ticks(kMax));
      REQUIRE(w.evicted_early() == 0);
    }
    REQUIRE(w.add(Price::from_ticks(-1), Qty(1), kUMax));  // an ordinary trade still fits
  }
  REQUIRE_THROWS_AS(hft::WindowedVwap(0, {.window_ns = 1}), std::invalid_argument);
  hft::VwapTable table(2);
  REQUIRE_FALSE(table.add(hft::Symbol::of("Y"), Price::from_ticks(1), Qty(0)));
  REQUIRE(table.size() == 0);  // refused: no slot taken
  i128 volume = 0;
  for (const std::int64_t p : kI64) {
    for (const std::int64_t q : kI64) {
      const bool ok = table.add(hft::Symbol::of("X"), Price::from_ticks(p), Qty(q));
      if (q <= 0) REQUIRE_FALSE(ok);
      if (ok) volume += q;
      const hft::Vwap* v = table.find(hft::Symbol::of("X"));
      REQUIRE((v != nullptr) == (volume != 0));  // the symbol takes a slot with its first trade
      if (v == nullptr) continue;
      REQUIRE(v->volume() == volume);
      check_rounding(*v);
    }
  }
}

namespace {
// The sample values of the statistics sweep: the int64 ends as doubles (what a price or a
// quantity becomes in analytics), and small values next to them.
// A function-local static: built on first use, where an exception could be caught.
const std::vector<double>& samples() {
  static const std::vector<double> v = [] {
    std::vector<double> out;
    for (const std::int64_t x : kI64) out.push_back(static_cast<double>(x));
    for (const std::int64_t x : kI64) out.push_back(static_cast<double>(x) / 3);
    out.push_back(0.5);
    out.push_back(-7.25);
    return out;
  }();
  return v;
}

long double wide(double x) { return static_cast<long double>(x); }

long double exact_median(std::vector<double> w) {
  std::sort(w.begin(), w.end());
  const std::size_t n = w.size();
  return n % 2 ? wide(w[n / 2]) : (wide(w[n / 2 - 1]) + wide(w[n / 2])) / 2;
}
}  // namespace

TEST_CASE("limits: RollingStats count and time windows at extreme samples, times and windows", "[limits][rolling]") {
  // Rounding: the header bounds the error by the magnitudes the window held since its last
  // re-sum, so the tolerance is relative to the largest |x| of the whole run (2^63).
  const long double scale = 0x1p63L;
  const auto check = [&](const hft::RollingStats& r, const std::deque<double>& w) {
    REQUIRE(r.count() == w.size());
    if (w.empty()) return;
    long double sum = 0;
    for (const double x : w) sum += wide(x);
    const long double mean = sum / static_cast<long double>(w.size());
    REQUIRE(std::abs(static_cast<long double>(r.mean()) - mean) <= scale * 1e-12L);
    REQUIRE(r.min() == *std::min_element(w.begin(), w.end()));
    REQUIRE(r.max() == *std::max_element(w.begin(), w.end()));
    REQUIRE(std::isfinite(r.variance()));
    REQUIRE(r.variance() >= 0);
  };
  for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    auto r = hft::RollingStats::count_window(n);
    std::deque<double> w;
    for (int round = 0; round < 3; ++round) {
      for (const double x : samples()) {
        r.add(x);
        w.push_back(x);
        if (w.size() > n) w.pop_front();
        check(r, w);
      }
    }
  }
  for (const std::uint64_t window : kU64) {
    if (window == 0) {
      REQUIRE_THROWS_AS(hft::RollingStats::time_window(0, 4), std::invalid_argument);
      continue;
    }
    auto r = hft::RollingStats::time_window(window, 4);
    std::deque<std::pair<std::uint64_t, double>> w;
    std::deque<double> xs;
    std::size_t i = 0;
    for (const std::uint64_t now : kU64) {  // ascending
      for (int k = 0; k < 2; ++k) {
        const double x = samples()[i++ % samples().size()];
        r.add(x, now);
        w.push_back({now, x});
        while (!w.empty() && now - w.front().first >= window) w.pop_front();  // the documented rule
        while (w.size() > 4) w.pop_front();
        xs.clear();
        for (const auto& [t, v] : w) xs.push_back(v);
        check(r, xs);
      }
    }
    r.expire(kUMax);  // the last samples are 0 ns old: every window keeps them
    REQUIRE(r.count() == w.size());
  }
}

TEST_CASE("limits: moving averages, medians and P2Quantile at extreme samples and times", "[limits][analytics]") {
  const long double scale = 0x1p63L;
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{4}}) {
    hft::SimpleMovingAverage sma(n);
    hft::SlidingMedian sliding(n);
    hft::SortedWindowMedian sorted(n);
    std::deque<double> w;
    for (int round = 0; round < 3; ++round) {
      for (const double x : samples()) {
        const double avg = sma.add(x);
        const double med = sliding.add(x);
        const double med2 = sorted.add(x);
        w.push_back(x);
        if (w.size() > n) w.pop_front();
        long double sum = 0;
        for (const double v : w) sum += wide(v);
        // The running sum's error: a few ulps of the largest value it carried since its
        // last exact re-sum (the header's bound).
        REQUIRE(std::abs(wide(avg) - sum / static_cast<long double>(w.size())) <= scale * 1e-14L);
        const double want = static_cast<double>(exact_median({w.begin(), w.end()}));
        REQUIRE(med == want);
        REQUIRE(med2 == want);
      }
    }
  }
  hft::StreamingMedian all;
  std::vector<double> seen;
  hft::P2Quantile p2(0.5);
  for (const double x : samples()) {
    all.add(x);
    p2.add(x);
    seen.push_back(x);
    REQUIRE(all.median() == static_cast<double>(exact_median(seen)));
    const auto [lo, hi] = std::minmax_element(seen.begin(), seen.end());
    REQUIRE(p2.value() >= *lo);  // an estimate, but always inside the data's range
    REQUIRE(p2.value() <= *hi);
  }
  // EMAs: every value is a weighted mean of the samples, so it stays within their range,
  // whatever the gaps between times (0, 2^63, a clock that steps back).
  auto ema = hft::ExponentialMovingAverage::with_alpha(1.0);
  REQUIRE_THROWS_AS(hft::ExponentialMovingAverage::with_alpha(0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(hft::ExponentialMovingAverage::with_half_life(0), std::invalid_argument);
  for (const std::uint64_t half_life : {std::uint64_t{1}, std::uint64_t{1} << 63, kUMax}) {
    auto timed = hft::ExponentialMovingAverage::with_half_life(half_life);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    std::size_t i = 0;
    for (const std::uint64_t now : {std::uint64_t{0}, std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 63,
                                    kUMax - 1, kUMax, std::uint64_t{5}}) {
      const double x = samples()[i++ % samples().size()];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      const double v = timed.add(x, now);
      REQUIRE(v >= lo);
      REQUIRE(v <= hi);
      // alpha 1: the last sample, up to the rounding of v + (x - v) at the previous value's
      // magnitude (the update the header gives)
      REQUIRE(std::abs(ema.add(x) - x) <= 0x1p63 * 0x1p-52);
    }
  }
}

TEST_CASE("limits: LatencyHistogram, IntervalRecorder and counters at extreme values, counts and ranges",
          "[limits][histogram]") {
  using std::chrono::nanoseconds;
  // Ranges: up_to() of any duration either builds a histogram or throws invalid_argument.
  for (const auto d : {nanoseconds::min(), nanoseconds(-1), nanoseconds(0), nanoseconds(1), nanoseconds(2),
                       nanoseconds(std::int64_t{1} << 62), nanoseconds::max()}) {
    const auto cfg = hft::LatencyHistogramConfig::up_to(d);
    const bool valid = d.count() >= 2 && d.count() <= (std::int64_t{1} << 62);
    if (!valid) {
      REQUIRE_THROWS_AS(hft::LatencyHistogram(cfg), std::invalid_argument);
      continue;
    }
    hft::LatencyHistogram h(cfg);
    const std::uint64_t highest = h.highest_trackable();
    u128 total = 0;
    std::uint64_t over = 0, under = 0, lo = kUMax, hi = 0;
    for (const std::uint64_t v : kU64) {
      for (const std::uint64_t count : {std::uint64_t{1}, std::uint64_t{1} << 40}) {
        h.record(v, count);
        total += count;
        const std::uint64_t kept = v > highest ? highest : v;
        if (v > highest) over += count;
        if (v < 1) under += count;
        lo = std::min(lo, kept);
        hi = std::max(hi, kept);
        REQUIRE(h.count() == total);
        REQUIRE(h.overflow_count() == over);
        REQUIRE(h.underflow_count() == under);
        REQUIRE(h.min() == lo);
        REQUIRE(h.max() == hi);
        for (const double p : {0.0, 50.0, 99.999, 100.0}) {
          const std::uint64_t q = h.percentile(p);
          REQUIRE(q >= h.lowest_equivalent_value(lo));
          REQUIRE(q <= h.highest_equivalent_value(hi));
        }
        REQUIRE(h.percentile(100) == h.highest_equivalent_value(hi));
        REQUIRE(h.mean() >= 0);
        REQUIRE(std::isfinite(h.stddev()));
      }
    }
    // Coordinated-omission correction at every value and interval: the clamped part costs
    // one record, so even v = UINT64_MAX at interval 1 ends (in O(highest) records: only for
    // the small ranges here).
    for (const std::uint64_t v : kU64) {
      for (const std::uint64_t interval : {std::uint64_t{0}, highest / 2 + 1, highest, highest + 1, kUMax}) {
        hft::LatencyHistogram c(cfg);
        c.record_corrected(v, interval);
        u128 want = 1;
        if (interval != 0 && v > interval) want += v / interval - 1;  // v - k i >= i for k = 1 ..
        REQUIRE(c.count() == want);
      }
    }
  }
  // A total of exactly UINT64_MAX is exact in every query.
  hft::LatencyHistogram full;
  full.record(kUMax, kUMax);
  REQUIRE(full.count() == kUMax);
  REQUIRE(full.overflow_count() == kUMax);
  REQUIRE(full.percentile(100) == full.highest_equivalent_value(full.highest_trackable()));
  REQUIRE(full.percentile(0) == full.lowest_equivalent_value(full.highest_trackable()));

  hft::IntervalRecorder rec(1);
  auto writer = rec.register_writer();
  for (const std::uint64_t v : kU64) writer.record(v);
  writer.record_corrected(kUMax, kUMax / 4);
  const hft::LatencyHistogram got = rec.collect_interval();
  REQUIRE(got.count() == kU64.size() + 4);  // UINT64_MAX, and 3 back-filled quarters
  REQUIRE(got.max() == got.highest_trackable());

  // Counters are counts modulo 2^64, as any uint64 counter.
  hft::Counter c;
  hft::CounterGroup g{"a", "b"};
  std::uint64_t want = 0;
  for (const std::uint64_t n : kU64) {
    c.add(n);
    g.add(1, n);
    want += n;
    REQUIRE(c.load() == want);
    REQUIRE(g.load(1) == want);
    REQUIRE(g.load(0) == 0);
  }
}

TEST_CASE("limits: RateLimiter at extreme rates, bursts, token counts and times", "[limits][ratelimiter]") {
  for (const std::uint64_t rate : kU64) {
    for (const std::uint64_t burst : kU64) {
      if (rate == 0 || burst == 0) {
        REQUIRE_THROWS_AS(hft::RateLimiter({.rate_per_sec = rate, .burst = burst}, 0), std::invalid_argument);
        continue;
      }
      for (const std::uint64_t start : kU64) {
        hft::RateLimiter rl({.rate_per_sec = rate, .burst = burst}, start);
        REQUIRE(rl.available(start) == burst);  // starts full
        std::uint64_t last = start;             // the latest time the limiter has seen
        for (const std::uint64_t now : kU64) {
          for (const std::uint64_t n : kU64) {
            const std::uint64_t have = rl.available(now);
            const std::uint64_t wait = rl.time_until_available(n, now);
            REQUIRE(have <= burst);
            if (n > burst) REQUIRE(wait == kUMax);
            REQUIRE((wait == 0) == (n <= have));
            // The wait is exact: enough at now + wait, not one ns earlier (where that time
            // fits in 64 bits, the wait is not the saturated "never", and the clock has not
            // stepped back behind the limiter's latest time).
            if (wait != 0 && wait != kUMax && now >= last && now <= kUMax - wait) {
              REQUIRE(rl.available(now + wait) >= n);
              REQUIRE(rl.available(now + wait - 1) < n);
            }
            const bool ok = rl.try_acquire(n, now);
            last = std::max(last, now);
            REQUIRE(ok == (n <= have));
            REQUIRE(rl.available(now) == (ok ? have - n : have));  // refused: nothing taken
          }
        }
      }
    }
  }
}

TEST_CASE("limits: CircuitBreaker at extreme times, windows, cool-downs and timeouts", "[limits][breaker]") {
  for (const auto window : {hft::CircuitBreakerConfig::Window::Count, hft::CircuitBreakerConfig::Window::Time}) {
    // A span of 2 in 2 buckets: 1 ns buckets, whose index reaches 2^64 - 1.
    for (const std::uint64_t span :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{1} << 63, kUMax - 1, kUMax}) {
      for (const std::uint64_t cooldown : kU64) {
        hft::CircuitBreakerConfig c;
        c.window = window;
        c.window_ns = span;
        c.buckets = 2;
        c.window_calls = 4;
        c.min_calls = 2;
        c.failure_rate_pct = 100;
        c.open_cooldown_ns = cooldown;
        c.half_open_trials = 1;
        c.half_open_timeout_ns = cooldown;
        if (window == hft::CircuitBreakerConfig::Window::Time && span < c.buckets) {
          REQUIRE_THROWS_AS(hft::CircuitBreaker(c), std::invalid_argument);
          continue;
        }
        hft::BreakerState state = hft::BreakerState::Closed;  // as the callback reports it
        std::uint64_t opened_at = 0;
        hft::CircuitBreaker cb(c, [&](hft::BreakerState, hft::BreakerState to, std::uint64_t now) {
          state = to;
          if (to == hft::BreakerState::Open) opened_at = now;
        });
        hft::CircuitBreaker healthy(c);  // only successes: stays closed, every outcome in its window
        std::uint64_t attempts = 0, records = 0;
        for (const std::uint64_t now : kU64) {
          for (int k = 0; k < 3; ++k) {
            const auto fine = healthy.try_acquire(now);
            REQUIRE(static_cast<bool>(fine));
            healthy.record(fine, true, now);
            REQUIRE(healthy.stats().stale == 0);  // reported at its own time: never too old
            REQUIRE(healthy.failure_rate_pct(now) == 0.0);
            REQUIRE(healthy.state(now) == hft::BreakerState::Closed);
            if (state == hft::BreakerState::Open) {
              // Open until the cool-down has passed, measured as elapsed time (never as
              // opened_at + cooldown, which wraps); a time before the opening is inside it.
              const bool cooling = now < opened_at || now - opened_at < cooldown;
              REQUIRE((cb.state(now) == hft::BreakerState::Open) == cooling);
            }
            const auto permit = cb.try_acquire(now);
            ++attempts;
            if (permit) {
              cb.record(permit, false, now);
              ++records;
            }
            const auto st = cb.stats();
            REQUIRE(st.permitted + st.rejected == attempts);
            REQUIRE(st.successes + st.failures == records);
            REQUIRE(st.stale == 0);  // every outcome reported at its own time, in order
            const double rate = cb.failure_rate_pct(now);
            REQUIRE(rate >= 0.0);
            REQUIRE(rate <= 100.0);
          }
        }
        REQUIRE(cb.stats().opened >= 1);  // two failures open it, however close to 2^64
      }
    }
  }
}

TEST_CASE("limits: BackpressureGuard at extreme levels, watermarks and times", "[limits][backpressure]") {
  for (const std::uint64_t high : kU64) {
    for (const std::uint64_t low : kU64) {
      if (!(low < high)) {
        REQUIRE_THROWS_AS(hft::BackpressureGuard({.high = high, .low = low}), std::invalid_argument);
        continue;
      }
      hft::BackpressureGuard g({.high = high, .low = low});
      bool paused = false;
      std::uint64_t since = 0, total = 0, pauses = 0;
      const auto sat_add = [](std::uint64_t a, std::uint64_t b) { return b > kUMax - a ? kUMax : a + b; };
      for (const std::uint64_t now : {std::uint64_t{5}, kUMax, std::uint64_t{0}, std::uint64_t{1} << 63, kUMax - 1}) {
        for (const std::uint64_t level : kU64) {
          const bool was = paused;
          if (!was && level >= high) paused = true;
          if (was && level <= low) paused = false;
          if (paused && !was) {
            ++pauses;
            since = now;
          }
          if (!paused && was) total = sat_add(total, now > since ? now - since : 0);
          REQUIRE(g.update(level, now) == paused);
          REQUIRE(g.paused() == paused);
          REQUIRE(g.pauses() == pauses);
          REQUIRE(g.paused_ns(now) == sat_add(total, paused && now > since ? now - since : 0));
        }
      }
    }
  }
}

TEST_CASE("limits: deadline_after at every extreme duration type and value", "[limits][deadline]") {
  using clock = std::chrono::steady_clock;
  using namespace std::chrono;
  const auto forever = clock::time_point::max();
  const auto check_now = [](clock::time_point before, clock::time_point d) {
    REQUIRE(d >= before);
    REQUIRE(d <= clock::now());
  };
  const auto check_forever = [&](auto timeout) { REQUIRE(hft::deadline_after(timeout) == forever); };
  const auto check_past = [&](auto timeout) {
    const auto before = clock::now();
    check_now(before, hft::deadline_after(timeout));
  };
  check_forever(nanoseconds::max());
  check_forever(microseconds::max());
  check_forever(hours::max());
  check_forever(duration<double>(std::numeric_limits<double>::infinity()));
  check_forever(duration<double>(std::numeric_limits<double>::max()));
  check_forever(duration<double>(std::numeric_limits<double>::quiet_NaN()));
  check_forever(duration<std::uint64_t, std::nano>(kUMax));
  check_forever(nanoseconds(kMax - 1));
  check_past(nanoseconds::min());
  check_past(nanoseconds(kMin + 1));
  check_past(nanoseconds(-1));
  check_past(nanoseconds(0));
  check_past(hours::min());
  check_past(duration<double>(-std::numeric_limits<double>::infinity()));
  check_past(duration<double>(std::numeric_limits<double>::lowest()));
  check_past(duration<std::uint64_t, std::nano>(0));
  const auto before = clock::now();
  const auto pico = hft::deadline_after(duration<std::int64_t, std::pico>::max());  // ~107 days: fits
  REQUIRE(pico >= before + duration_cast<nanoseconds>(duration<std::int64_t, std::pico>::max()));
  REQUIRE(pico != forever);
  const auto one = hft::deadline_after(nanoseconds(1));
  REQUIRE(one > before);
  REQUIRE(one <= clock::now() + nanoseconds(1));
}
