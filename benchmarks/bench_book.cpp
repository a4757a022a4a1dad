// bench_book: the trading primitives on the synthetic L3 stream (MarketDataGenerator, seed
// 1, written to a file and replayed from it, so every implementation sees the same bytes).
//   - l2_update: OrderBookL2 vs a std::map book (std::map<price, qty> per side), fed the
//     L2 updates the L3 stream implies (add / reduce at a price). Latency from rdtsc pairs
//     around blocks of 16 operations (the pair's own cost, calibrated, subtracted) into a
//     LatencyHistogram: p50 and p99 per operation; plus the mean from an untimed pass.
//   - l2_update_zipf: the same, over the realistic profile (2,000 symbols, Zipf activity,
//     bursts, deep books for the most active; zipf_feed_ops below).
//   - l3_message: OrderBookL3 applying the L3 messages themselves.
//   - bbo_query: best_bid() + best_ask() on a populated book.
//   - match_order: MatchingEngine on random limit/market/IOC flow around a mid.
// One thread, pinned to the first --cpus CPU.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/trading/market_data_generator.hpp"
#include "hft/trading/matching_engine.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "hft/trading/tick_window_book_l2.hpp"

namespace {
// Window widths: the default profile's sides span about 100 ticks, the deep profile's up to
// 2,000 (docs/trading.md); 3/4 of the window lies below the touch.
constexpr std::size_t kDefaultWindow = 256, kDeepWindow = 4096;
using hft::Price;
using hft::Qty;
using hft::Side;
using hft::bench::do_not_optimize;
using hft::bench::Metrics;

struct L2Op {
  Side side;
  bool add;
  std::uint16_t book;  // which symbol's book (the multi-book case)
  Price price;
  Qty qty;
};

// The L2 updates an L3 stream implies (what an L2 feed handler applies); an OrderBookL3
// supplies the sizes a delete or replace removes, which the messages do not carry.
std::vector<L2Op> l2_ops_exact(const std::vector<hft::MdMessage>& msgs, std::size_t max_orders = 1'000'000) {
  std::vector<L2Op> ops;
  ops.reserve(msgs.size() + msgs.size() / 8);
  hft::OrderBookL3 book(max_orders, 8192);
  for (const auto& m : msgs) {
    switch (m.type) {
      case hft::MdType::Add:
        ops.push_back({m.side, true, 0, m.price, m.qty});
        (void)book.add_order(m.id, m.side, m.price, m.qty);
        break;
      case hft::MdType::Cancel:
      case hft::MdType::Execute:
        ops.push_back({m.side, false, 0, m.price, m.qty});
        (void)book.cancel(m.id, m.qty);
        break;
      case hft::MdType::Delete:
        ops.push_back({m.side, false, 0, m.price, book.find(m.id)->qty});
        (void)book.delete_order(m.id);
        break;
      case hft::MdType::Replace: {
        const auto* o = book.find(m.id);
        ops.push_back({o->side, false, 0, o->price, o->qty});
        ops.push_back({o->side, true, 0, m.price, m.qty});
        (void)book.replace(m.id, m.new_id, m.price, m.qty);
        break;
      }
    }
  }
  return ops;
}

// A feed of many symbols: `books` independent synthetic streams (seeds 100, 101, ...), their
// L2 updates interleaved in a random symbol order, so the working set is many books, as in
// a real feed handler (an ITCH feed carries ~8,000 symbols).
std::vector<L2Op> multi_book_ops(std::size_t books, std::size_t total_msgs) {
  std::vector<std::vector<L2Op>> per(books);
  for (std::size_t b = 0; b < books; ++b) {
    hft::MarketDataGeneratorConfig cfg;
    cfg.target_live_orders = 1'000;
    hft::MarketDataGenerator gen(100 + b, cfg);
    std::vector<hft::MdMessage> msgs;
    for (std::size_t i = 0; i < total_msgs / books; ++i) msgs.push_back(gen.next());
    per[b] = l2_ops_exact(msgs, 20'000);
    for (auto& o : per[b]) o.book = static_cast<std::uint16_t>(b);
  }
  std::vector<L2Op> out;
  std::vector<std::size_t> next(books, 0);
  std::mt19937_64 rng(9);
  std::vector<std::size_t> open(books);
  for (std::size_t b = 0; b < books; ++b) open[b] = b;
  while (!open.empty()) {
    const std::size_t k = rng() % open.size();
    const std::size_t b = open[k];
    out.push_back(per[b][next[b]++]);
    if (next[b] == per[b].size()) {
      open[k] = open.back();
      open.pop_back();
    }
  }
  return out;
}

// The realistic profile (docs/trading.md, "The deep-book profile"): `symbols` books whose
// activity is Zipf-distributed (the symbol of rank r gets a share ~ 1/r, as volume across
// US equities roughly does); the `deep` most active ones follow the deep-book profile
// (hundreds of levels per side), the rest the default one. Messages come in bursts: a
// symbol is drawn, then a run of 1-8 of its messages, as a feed's packets carry.
std::vector<L2Op> zipf_feed_ops(std::size_t symbols, std::size_t deep, std::size_t total_msgs) {
  std::vector<double> share(symbols);
  double h = 0;
  for (std::size_t r = 0; r < symbols; ++r) h += 1.0 / static_cast<double>(r + 1);
  std::vector<std::vector<L2Op>> per(symbols);
  for (std::size_t b = 0; b < symbols; ++b) {
    share[b] = 1.0 / static_cast<double>(b + 1) / h;
    hft::MarketDataGeneratorConfig cfg = b < deep ? hft::MarketDataGeneratorConfig::deep_book() : [] {
      hft::MarketDataGeneratorConfig c;
      c.target_live_orders = 1'000;
      return c;
    }();
    hft::MarketDataGenerator gen(1'000 + b, cfg);
    const auto n = std::max<std::size_t>(64, static_cast<std::size_t>(share[b] * static_cast<double>(total_msgs)));
    std::vector<hft::MdMessage> msgs;
    msgs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) msgs.push_back(gen.next());
    per[b] = l2_ops_exact(msgs, cfg.target_live_orders * 4 + n);
    for (auto& o : per[b]) o.book = static_cast<std::uint16_t>(b);
  }
  // Interleave in bursts, each symbol drawn in proportion to what it has left, so every
  // stream is used up and the order within a symbol is kept.
  std::vector<L2Op> out;
  std::vector<std::size_t> next(symbols, 0);
  std::mt19937_64 rng(17);
  std::size_t left = 0;
  for (const auto& v : per) left += v.size();
  out.reserve(left);
  std::vector<std::size_t> remaining(symbols);
  for (std::size_t b = 0; b < symbols; ++b) remaining[b] = per[b].size();
  while (left > 0) {
    std::uint64_t pick = rng() % left;
    std::size_t b = 0;
    while (pick >= remaining[b]) pick -= remaining[b++];
    const std::size_t run = std::min<std::size_t>(1 + rng() % 8, remaining[b]);
    for (std::size_t k = 0; k < run; ++k) out.push_back(per[b][next[b]++]);
    remaining[b] -= run;
    left -= run;
  }
  return out;
}

class MapBook {
 public:
  void add(Side s, Price p, Qty q) {
    if (s == Side::Buy)
      bids_[p.ticks()] += q.value();
    else
      asks_[p.ticks()] += q.value();
  }
  void reduce(Side s, Price p, Qty q) {
    if (s == Side::Buy)
      reduce_in(bids_, p, q);
    else
      reduce_in(asks_, p, q);
  }
  std::int64_t best_bid() const { return bids_.empty() ? 0 : bids_.begin()->first; }
  std::int64_t best_ask() const { return asks_.empty() ? 0 : asks_.begin()->first; }

 private:
  template <class M>
  static void reduce_in(M& m, Price p, Qty q) {
    const auto it = m.find(p.ticks());
    if ((it->second -= q.value()) == 0) m.erase(it);
  }
  std::map<std::int64_t, std::int64_t, std::greater<>> bids_;
  std::map<std::int64_t, std::int64_t> asks_;
};

// Cost of one rdtsc pair with nothing between: subtracted from every sample.
std::uint64_t timer_overhead_ticks() {
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) {
    const std::uint64_t t0 = hft::TscClock::ticks();
    x = hft::TscClock::ticks() - t0;
  }
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// rdtsc on this VM advances in coarse steps (~10 ns), too coarse for one ~10 ns update, so
// each sample times a block of 16 consecutive operations and records their mean: p50/p99
// are over 16-op blocks (a slow op still shows, diluted 16x at most).
constexpr std::size_t kBlock = 16;
// One run of a case: p50/p99 from a timed pass over a fresh state from make(), then the
// mean from an untimed pass over another fresh state. apply(state, i) does operation i.
template <class Make, class Apply>
Metrics timed_and_mean(std::size_t n, std::uint64_t overhead, Make make, Apply apply) {
  hft::LatencyHistogram h({.highest_trackable = 100'000'000});
  const double ns_per_tick = hft::bench::TickTimer::ns_per_tick();
  auto timed = make();
  for (std::size_t i = 0; i + kBlock <= n; i += kBlock) {
    const std::uint64_t t0 = hft::TscClock::ticks();
    for (std::size_t k = 0; k < kBlock; ++k) apply(timed, i + k);
    const std::uint64_t d = hft::TscClock::ticks() - t0;
    const double ns = static_cast<double>(d > overhead ? d - overhead : 0) * ns_per_tick / kBlock;
    h.record(static_cast<std::uint64_t>(ns * 10.0));  // tenths of a nanosecond
  }
  auto untimed = make();
  return {{"p50", static_cast<double>(h.percentile(50)) / 10.0},
          {"p99", static_cast<double>(h.percentile(99)) / 10.0},
          {"mean", hft::bench::ns_per_call(n, [&](std::size_t i) { apply(untimed, i); })}};
}

// One L2 update on any book: the add-or-reduce branch every case pays.
template <class Book>
void apply(Book& b, const L2Op& o) {
  do_not_optimize(o.add ? b.add(o.side, o.price, o.qty) : b.reduce(o.side, o.price, o.qty));
}
void apply(MapBook& b, const L2Op& o) {
  if (o.add)
    b.add(o.side, o.price, o.qty);
  else
    b.reduce(o.side, o.price, o.qty);
}

// A case over many symbols' books: the OrderBookL2s and TickWindowBookL2s the factories
// build against as many std::map books, each update applied to the book of its symbol.
// `ops` must outlive the suite's run.
template <class MakeL2, class MakeWindow>
void add_books_case(hft::bench::Suite& suite, const std::string& name, const std::vector<L2Op>& ops, std::size_t books,
                    std::uint64_t overhead, MakeL2 make_l2, MakeWindow make_window) {
  auto on_its_book = [&ops](auto& v, std::size_t i) {
    const L2Op& o = ops[i];
    apply(v[o.book], o);
  };
  suite.add_case(
      name, {{"p50", "ns", false}, {"p99", "ns", false}, {"mean", "ns", false}},
      {
          {"hft::TickWindowBookL2",
           [&ops, overhead, make_window, on_its_book] {
             return timed_and_mean(ops.size(), overhead, make_window, on_its_book);
           }},
          {"hft::OrderBookL2", [&ops, overhead, make_l2,
                                on_its_book] { return timed_and_mean(ops.size(), overhead, make_l2, on_its_book); }},
          {"std::map book",
           [&ops, overhead, books, on_its_book] {
             return timed_and_mean(
                 ops.size(), overhead, [books] { return std::vector<MapBook>(books); }, on_its_book);
           }},
      });
}

// n books, the first `deep` of them built by make_deep and the rest by make_default.
template <class Book, class MakeDeep, class MakeDefault>
std::vector<Book> books_of(std::size_t n, std::size_t deep, MakeDeep make_deep, MakeDefault make_default) {
  std::vector<Book> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back(i < deep ? make_deep() : make_default());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_book", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    const std::size_t n_msgs = opts.quick ? 100'000 : 2'000'000;

    // Generate once, write, replay from the file: what a replay benchmark on real data does.
    const std::string path = "bench_book_stream.bin";
    {
      hft::MarketDataGenerator gen(1);
      std::vector<hft::MdMessage> msgs;
      msgs.reserve(n_msgs);
      for (std::size_t i = 0; i < n_msgs; ++i) msgs.push_back(gen.next());
      hft::MarketDataGenerator::write_file(path, msgs);
    }
    const std::vector<hft::MdMessage> msgs = hft::MarketDataGenerator::read_file(path);
    std::remove(path.c_str());
    const std::vector<L2Op> ops = l2_ops_exact(msgs);
    const std::uint64_t overhead = timer_overhead_ticks();
    suite.note("stream: " + std::to_string(msgs.size()) + " synthetic L3 messages (seed 1) -> " +
               std::to_string(ops.size()) + " L2 updates; rdtsc pair overhead " + std::to_string(overhead) +
               " ticks subtracted per sample");

    auto l2_apply = [&](auto& b, std::size_t i) { apply(b, ops[i]); };
    auto map_apply = [&](MapBook& b, std::size_t i) { apply(b, ops[i]); };
    suite.add_case("l2_update", {{"p50", "ns", false}, {"p99", "ns", false}, {"mean", "ns", false}},
                   {
                       {"hft::TickWindowBookL2",
                        [&] {
                          return timed_and_mean(
                              ops.size(), overhead, [] { return hft::TickWindowBookL2(kDefaultWindow, 8192); },
                              l2_apply);
                        }},
                       {"hft::OrderBookL2",
                        [&] {
                          return timed_and_mean(
                              ops.size(), overhead, [] { return hft::OrderBookL2(8192); }, l2_apply);
                        }},
                       {"std::map book",
                        [&] {
                          return timed_and_mean(
                              ops.size(), overhead, [] { return MapBook(); }, map_apply);
                        }},
                   });
    suite.add_ratio("l2_update/mean", "hft::OrderBookL2", "std::map book", hft::bench::Target::at_most(0.2),
                    "L2 update mean: hft / std::map book (target <= 0.2x, i.e. >= 5x faster)");

    constexpr std::size_t kBooks = 500;
    const std::vector<L2Op> multi = multi_book_ops(kBooks, opts.quick ? 200'000 : 2'000'000);
    suite.note("l2_update_500_books: " + std::to_string(multi.size()) +
               " L2 updates over 500 symbols' books "
               "(independent streams, random interleave): the working set no longer fits L1/L2");
    add_books_case(
        suite, "l2_update_500_books", multi, kBooks, overhead,
        [] {
          return books_of<hft::OrderBookL2>(
              kBooks, 0, [] { return hft::OrderBookL2(1024); }, [] { return hft::OrderBookL2(1024); });
        },
        [] {
          return books_of<hft::TickWindowBookL2>(
              kBooks, 0, [] { return hft::TickWindowBookL2(kDefaultWindow, 1024); },
              [] { return hft::TickWindowBookL2(kDefaultWindow, 1024); });
        });
    suite.add_ratio("l2_update_500_books/mean", "hft::OrderBookL2", "std::map book", hft::bench::Target::at_most(0.2),
                    "L2 update mean, 500 books: hft / std::map book (target <= 0.2x)");

    // The realistic profile: 2,000 symbols, Zipf activity, the 20 most active with deep books.
    constexpr std::size_t kSymbols = 2'000, kDeep = 20;
    const std::vector<L2Op> zipf = zipf_feed_ops(kSymbols, kDeep, opts.quick ? 300'000 : 4'000'000);
    suite.note("l2_update_zipf: " + std::to_string(zipf.size()) +
               " L2 updates over 2,000 symbols (Zipf activity, bursts of 1-8, the 20 most active with the "
               "deep-book profile: ~500 levels per side)");
    add_books_case(
        suite, "l2_update_zipf", zipf, kSymbols, overhead,
        [] {
          return books_of<hft::OrderBookL2>(
              kSymbols, kDeep, [] { return hft::OrderBookL2(8192); }, [] { return hft::OrderBookL2(1024); });
        },
        [] {
          return books_of<hft::TickWindowBookL2>(
              kSymbols, kDeep, [] { return hft::TickWindowBookL2(kDeepWindow, 8192); },
              [] { return hft::TickWindowBookL2(kDefaultWindow, 1024); });
        });
    suite.add_ratio("l2_update_zipf/mean", "hft::TickWindowBookL2", "std::map book",
                    hft::bench::Target::at_most(1.0 / 3.0),
                    "L2 update mean, realistic profile: window book / std::map book (target <= 0.33x)");
    suite.add_ratio("l2_update_zipf/mean", "hft::TickWindowBookL2", "hft::OrderBookL2",
                    hft::bench::Target::at_most(1.0 / 1.5),
                    "L2 update mean, realistic profile: window book / OrderBookL2 (target <= 0.67x)");
    suite.add_absolute("l2_update_zipf/mean", "hft::TickWindowBookL2", hft::bench::Target::at_most(20.0),
                       "L2 update mean, realistic profile, window book");

    auto l3_apply = [&](hft::OrderBookL3& b, std::size_t i) {
      const hft::MdMessage& m = msgs[i];
      hft::BookUpdate u;
      switch (m.type) {
        case hft::MdType::Add:
          u = b.add_order(m.id, m.side, m.price, m.qty);
          break;
        case hft::MdType::Cancel:
          u = b.cancel(m.id, m.qty);
          break;
        case hft::MdType::Execute:
          u = b.execute(m.id, m.qty);
          break;
        case hft::MdType::Delete:
          u = b.delete_order(m.id);
          break;
        case hft::MdType::Replace:
          u = b.replace(m.id, m.new_id, m.price, m.qty);
          break;
      }
      do_not_optimize(u);
    };
    suite.add_case("l3_message", {{"p50", "ns", false}, {"p99", "ns", false}, {"mean", "ns", false}},
                   {
                       {"hft::OrderBookL3",
                        [&] {
                          return timed_and_mean(
                              msgs.size(), overhead, [] { return hft::OrderBookL3(200'000, 8192); }, l3_apply);
                        }},
                   });

    hft::OrderBookL2 full(8192);
    for (std::size_t i = 0; i < ops.size(); ++i) l2_apply(full, i);
    hft::TickWindowBookL2 full_window(kDefaultWindow, 8192);
    for (std::size_t i = 0; i < ops.size(); ++i) l2_apply(full_window, i);
    MapBook full_map;
    for (std::size_t i = 0; i < ops.size(); ++i) map_apply(full_map, i);
    const std::size_t q = opts.quick ? 1'000'000 : 50'000'000;
    suite.add_case("bbo_query", {{"", "ns/query", false}},
                   {
                       {"hft::TickWindowBookL2 best_bid+best_ask",
                        [&] {
                          return Metrics{{"", hft::bench::ns_per_call(q, [&](std::size_t) {
                                            do_not_optimize(full_window.best_bid()->price.ticks());
                                            do_not_optimize(full_window.best_ask()->price.ticks());
                                          })}};
                        }},
                       {"hft::OrderBookL2 best_bid+best_ask",
                        [&] {
                          return Metrics{{"", hft::bench::ns_per_call(q, [&](std::size_t) {
                                            // What a caller uses: the prices (an optional kept
                                            // in memory for the asm costs a store-forward).
                                            do_not_optimize(full.best_bid()->price.ticks());
                                            do_not_optimize(full.best_ask()->price.ticks());
                                          })}};
                        }},
                       {"std::map book best_bid+best_ask",
                        [&] {
                          return Metrics{{"", hft::bench::ns_per_call(q, [&](std::size_t) {
                                            do_not_optimize(full_map.best_bid());
                                            do_not_optimize(full_map.best_ask());
                                          })}};
                        }},
                   });

    // Matching: random flow around 10,000, 1/3 marketable.
    std::vector<hft::NewOrder> flow;
    {
      std::mt19937_64 rng(5);
      const std::size_t n = opts.quick ? 100'000 : 1'000'000;
      for (std::uint64_t id = 1; id <= n; ++id) {
        const Side s = rng() % 2 ? Side::Buy : Side::Sell;
        const std::int64_t off = static_cast<std::int64_t>(rng() % 20) - 6;  // -6..13 ticks from mid
        const Price px = Price::from_ticks(s == Side::Buy ? 10'000 - off : 10'000 + off);
        const bool ioc = rng() % 4 == 0;
        flow.push_back(hft::NewOrder{hft::OrderId(id), s,
                                     rng() % 20 == 0 ? hft::OrderType::Market : hft::OrderType::Limit,
                                     ioc ? hft::TimeInForce::ImmediateOrCancel : hft::TimeInForce::GoodTillCancel, px,
                                     Qty(1 + static_cast<std::int64_t>(rng() % 100))});
      }
    }
    suite.add_case(
        "match_order", {{"p50", "ns", false}, {"p99", "ns", false}, {"mean", "ns", false}},
        {
            {"hft::MatchingEngine",
             [&] {
               std::array<hft::Fill, 256> fills{};
               return timed_and_mean(
                   flow.size(), overhead, [] { return hft::MatchingEngine(1'000'000, 4096); },
                   [&](hft::MatchingEngine& m, std::size_t i) { do_not_optimize(m.submit(flow[i], fills)); });
             }},
        });
    suite.add_absolute("l2_update/p50", "hft::OrderBookL2", hft::bench::Target::at_most(20.0), "L2 update p50");
    suite.add_absolute("l3_message/p50", "hft::OrderBookL3", hft::bench::Target::at_most(60.0), "L3 message p50");
    suite.add_absolute("bbo_query", "hft::OrderBookL2 best_bid+best_ask", hft::bench::Target::at_most(2.0),
                       "BBO query");
    suite.add_ratio("bbo_query", "hft::TickWindowBookL2 best_bid+best_ask", "std::map book best_bid+best_ask",
                    hft::bench::Target::at_most(1.0), "BBO query: window book / std::map book (target <= 1x)");
    suite.run_and_report();
  });
}
