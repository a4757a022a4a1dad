// hft/trading/market_data_generator.hpp: MarketDataGenerator, a deterministic, seeded
// synthetic order-level (L3, ITCH-like) stream with a realistic shape, and a binary file
// format to record and replay it.
//
// What: next() returns one message (add, cancel, execute, delete, replace) that is valid
//   against the book the stream has built so far: ids exist when referenced, reductions
//   never exceed the order, the book is never crossed. Shape, per the usual studies of
//   equity ITCH feeds: most adds land within a few ticks of the touch (distance from the
//   touch is power-law: P(d >= k) ~ k^-a, a = 1.5 by default, capped at max_distance; the
//   deep_book() profile has a = 0.6 and 2,000 ticks), deletes and partial
//   cancels together outnumber executions several times over, and occasionally (sweep_ppm)
//   an aggressive order sweeps the best few levels of one side (a burst of executions).
//   The same seed and config always give the same stream.
// When to use: tests and benchmarks of books and market-data paths. When not: anything
//   that needs real market microstructure (use a recorded feed).
// Thread-safety: one thread at a time.
// Progress: wait-free per message apart from the sweep's bounded scan.
// Memory ordering: none (not shared).
// Complexity: O(1) expected per message; a sweep is O(levels swept + orders hit).
// Compared with: LOBSTER and Databento sample files are real but fixed and licensed;
//   Hawkes-process or zero-intelligence simulators model the microstructure explicitly.
//   This one aims at a plausible shape, reproducibly, from a seed.
// Errors: a config with distance_exponent <= 0, a zero size or a negative distance throws
//   std::invalid_argument.
// Memory: an OrderBookL3 for 4 x target_live_orders and max_levels per side, plus an
//   id -> position table that grows with the ids issued: generate before you time.
// Lifecycle: movable, not copyable; a moved-from generator may only be assigned to or
//   destroyed.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hft/trading/order_book_l3.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// The market-by-order message kinds, as in ITCH: Add, Cancel (partial), Execute (partial),
/// Delete, Replace.
enum class MdType : std::uint8_t { Add, Cancel, Execute, Delete, Replace };

/// One market-by-order message: what the generator emits and OrderBookL3 replays.
struct MdMessage {
  MdType type = MdType::Add;  ///< which kind of message
  Side side = Side::Buy;      ///< the order's side
  OrderId id{};               ///< the order added / referenced
  OrderId new_id{};           ///< Replace only
  Price price{};              ///< Add and Replace (new price)
  Qty qty{};                  ///< Add / Replace: size; Cancel / Execute: amount removed
  friend constexpr bool operator==(const MdMessage&, const MdMessage&) noexcept = default;
};
static_assert(std::is_trivially_copyable_v<MdMessage>);

/// The shape of the synthetic order flow: price level, book size, depth, sweeps and sizes.
struct MarketDataGeneratorConfig {
  std::int64_t start_mid_ticks = 10'000;   ///< the mid price the flow starts at, in ticks
  std::size_t target_live_orders = 5'000;  ///< the book hovers around this many orders
  std::int64_t max_distance = 200;         ///< ticks from the touch
  std::uint32_t sweep_ppm = 2'000;         ///< sweeps per million messages
  std::int64_t max_qty = 1'000;            ///< largest order size, in units (sizes are 1..max_qty)
  double distance_exponent = 1.5;          ///< a: P(distance >= k) ~ k^-a; smaller, a longer tail
  std::size_t max_levels = 8192;           ///< per side, of the generator's own book

  /// A deep book, as one of the active names of a full-depth US equity or futures feed
  /// carries (docs/trading.md, "The deep-book profile"): 20,000 live orders spread over a
  /// few hundred to a couple of thousand price levels per side. Most adds still land near
  /// the touch, but the distance tail is long (a = 0.6, up to 2,000 ticks), so orders rest
  /// far away: ~450-530 levels per side in steady state (the test measures it); sweeps are
  /// twice as frequent.
  [[nodiscard]] static MarketDataGeneratorConfig deep_book() noexcept {
    MarketDataGeneratorConfig c;
    c.target_live_orders = 20'000;
    c.max_distance = 2'000;
    c.distance_exponent = 0.6;
    c.sweep_ppm = 4'000;
    c.max_levels = 8192;
    return c;
  }
};

namespace detail {

/// MT19937-64 exactly as [rand.eng.mers] specifies std::mt19937_64 (same outputs for the
/// same seed; a test checks both), so that this header need not include <random>, which cost
/// every includer ~0.1 s of compile time for one engine.
class Mt19937_64 {
 public:
  /// Seeds as std::mt19937_64(seed) does.
  explicit Mt19937_64(std::uint64_t seed) noexcept {
    x_[0] = seed;
    for (std::size_t i = 1; i < kN; ++i) x_[i] = 6364136223846793005ULL * (x_[i - 1] ^ (x_[i - 1] >> 62)) + i;
  }
  /// The next 64-bit output, as std::mt19937_64::operator() gives it.
  std::uint64_t operator()() noexcept {
    if (i_ >= kN) twist();
    std::uint64_t z = x_[i_++];
    z ^= (z >> 29) & 0x5555555555555555ULL;
    z ^= (z << 17) & 0x71D67FFFEDA60000ULL;
    z ^= (z << 37) & 0xFFF7EEE000000000ULL;
    return z ^ (z >> 43);
  }

 private:
  static constexpr std::size_t kN = 312;
  static constexpr std::size_t kM = 156;
  void twist() noexcept {
    constexpr std::uint64_t kLower = (std::uint64_t{1} << 31) - 1;
    for (std::size_t i = 0; i < kN; ++i) {
      const std::uint64_t y = (x_[i] & ~kLower) | (x_[(i + 1) % kN] & kLower);
      x_[i] = x_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1) != 0 ? 0xB5026F5AA96619E9ULL : 0);
    }
    i_ = 0;
  }
  std::array<std::uint64_t, kN> x_{};
  std::size_t i_ = kN;
};

}  // namespace detail

/// A deterministic synthetic market-by-order feed for tests and benchmarks: adds, cancels,
/// executes, deletes, replaces and sweeps around a drifting mid, valid against its own book.
class MarketDataGenerator {
 public:
  /// A generator whose messages depend only on `seed` and `cfg`. Throws std::invalid_argument
  /// for an invalid config.
  explicit MarketDataGenerator(std::uint64_t seed, MarketDataGeneratorConfig cfg = {})
      : cfg_(check(cfg)), rng_(seed), book_(cfg.target_live_orders * 4, cfg.max_levels), mid_(cfg.start_mid_ticks) {
    live_.reserve(cfg.target_live_orders * 4);
    pending_.reserve(64);
  }

  /// The next message, already applied to book().
  MdMessage next() {
    if (!pending_.empty()) {
      const MdMessage m = pending_.back();
      pending_.pop_back();
      return apply(m);
    }
    const std::size_t live = live_.size();
    const std::uint64_t r = rng_() % 1'000'000;
    if (live < 16 || (live < cfg_.target_live_orders && r < 450'000) ||
        (live < 2 * cfg_.target_live_orders && r < 400'000)) {
      return apply(make_add());
    }
    if (r < 400'000 + cfg_.sweep_ppm && r >= 400'000) return start_sweep();
    const std::uint64_t k = rng_() % 100;
    if (k < 60) return apply(make_delete());
    if (k < 78) return apply(make_cancel());
    if (k < 93) return apply(make_execute());
    return apply(make_replace());
  }

  /// The generator's own book: every message so far applied.
  [[nodiscard]] const OrderBookL3& book() const noexcept { return book_; }

  /// Writes messages to a binary file: "HFTMD001", a count, then the raw records.
  static void write_file(const std::string& path, const std::vector<MdMessage>& msgs) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("hft::MarketDataGenerator: cannot write " + path);
    const std::uint64_t n = msgs.size();
    const bool ok = std::fwrite("HFTMD001", 1, 8, f) == 8 && std::fwrite(&n, sizeof n, 1, f) == 1 &&
                    std::fwrite(msgs.data(), sizeof(MdMessage), msgs.size(), f) == msgs.size();
    // fclose flushes the stdio buffer: a full disk shows up here, not in fwrite.
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) throw std::runtime_error("hft::MarketDataGenerator: short write to " + path);
  }
  /// Reads a file write_file wrote. Throws std::runtime_error unless the file is exactly
  /// the magic, a count and that many records, each with a valid type and side: the count
  /// is checked against the file's size before anything is allocated, so a corrupt or
  /// hostile header cannot ask for gigabytes. Ids, prices and quantities are data: a book
  /// replaying the file refuses the bad ones with its own error codes.
  static std::vector<MdMessage> read_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("hft::MarketDataGenerator: cannot read " + path);
    constexpr long kHeader = 16;
    char magic[8];
    std::uint64_t n = 0;
    std::vector<MdMessage> msgs;
    long size = -1;
    if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
    bool ok = size >= kHeader && std::fseek(f, 0, SEEK_SET) == 0 && std::fread(magic, 1, 8, f) == 8 &&
              std::string_view(magic, 8) == "HFTMD001" && std::fread(&n, sizeof n, 1, f) == 1 &&
              n == static_cast<std::uint64_t>(size - kHeader) / sizeof(MdMessage) &&
              static_cast<std::uint64_t>(size - kHeader) % sizeof(MdMessage) == 0;
    if (ok) {
      msgs.resize(static_cast<std::size_t>(n));
      ok = std::fread(msgs.data(), sizeof(MdMessage), msgs.size(), f) == msgs.size();
    }
    (void)std::fclose(f);  // opened for reading: closing cannot lose data
    for (std::size_t i = 0; ok && i < msgs.size(); ++i) {
      ok = static_cast<unsigned>(msgs[i].type) <= static_cast<unsigned>(MdType::Replace) &&
           (msgs[i].side == Side::Buy || msgs[i].side == Side::Sell);
    }
    if (!ok) throw std::runtime_error("hft::MarketDataGenerator: " + path + " is not a valid HFTMD001 file");
    return msgs;
  }

 private:
  struct Live {
    OrderId id;
    Side side;
    Price price;
    Qty qty;
  };

  static const MarketDataGeneratorConfig& check(const MarketDataGeneratorConfig& c) {
    if (!(c.distance_exponent > 0.0))
      throw std::invalid_argument("hft::MarketDataGenerator: distance_exponent must be > 0");
    if (c.target_live_orders == 0 || c.max_levels == 0 || c.max_distance < 0 || c.max_qty < 1)
      throw std::invalid_argument(
          "hft::MarketDataGenerator: target_live_orders, max_levels and max_qty must be >= 1, max_distance >= 0");
    return c;
  }

  std::int64_t distance() {  // power law: P(d >= k) ~ k^-a, capped at max_distance
    const double u = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
    const double d = std::pow(u, inv_exponent_) - 1.0;
    return d < static_cast<double>(cfg_.max_distance) ? static_cast<std::int64_t>(d) : cfg_.max_distance;
  }
  Qty size() { return Qty(1 + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(cfg_.max_qty))); }

  // d ticks behind the same side's touch; one add in ten improves the touch by a tick.
  // Adds never cross: a bid stays at least one tick under the best ask, and vice versa.
  Price touch_price(Side side, std::int64_t d) {
    const auto bid = book_.l2().best_bid(), ask = book_.l2().best_ask();
    if (!bid && !ask && rng_() % 8 == 0) mid_ += (rng_() % 2) ? 1 : -1;
    const std::int64_t improve = rng_() % 10 == 0 ? 1 : 0;
    if (side == Side::Buy) {
      const std::int64_t ref = bid ? bid->price.ticks() : (ask ? ask->price.ticks() - 1 : mid_ - 1);
      std::int64_t p = ref - d + improve;
      if (ask) p = std::min(p, ask->price.ticks() - 1);
      return Price::from_ticks(p);
    }
    const std::int64_t ref = ask ? ask->price.ticks() : (bid ? bid->price.ticks() + 1 : mid_ + 1);
    std::int64_t p = ref + d - improve;
    if (bid) p = std::max(p, bid->price.ticks() + 1);
    return Price::from_ticks(p);
  }

  MdMessage make_add() {
    const Side side = (rng_() % 2) ? Side::Sell : Side::Buy;
    return MdMessage{MdType::Add, side, OrderId(++next_id_), OrderId{}, touch_price(side, distance()), size()};
  }
  std::size_t pick() { return static_cast<std::size_t>(rng_() % live_.size()); }
  // Executions hit the touch: the best-priced of a few sampled orders.
  std::size_t pick_near_touch(Side side) {
    std::size_t best = pick();
    for (int i = 0; i < 8; ++i) {
      const std::size_t c = pick();
      if (live_[c].side == side && (live_[best].side != side || live_[c].price.better_than(live_[best].price, side)))
        best = c;
    }
    return best;
  }
  MdMessage make_delete() {
    const Live& o = live_[pick()];
    return MdMessage{MdType::Delete, o.side, o.id, OrderId{}, o.price, o.qty};
  }
  MdMessage make_cancel() {
    const Live& o = live_[pick()];
    const std::int64_t q =
        o.qty.value() > 1 ? 1 + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(o.qty.value() - 1)) : 1;
    return MdMessage{MdType::Cancel, o.side, o.id, OrderId{}, o.price, Qty(q)};
  }
  MdMessage make_execute() {
    const Live& o = live_[pick_near_touch((rng_() % 2) ? Side::Sell : Side::Buy)];
    const std::int64_t q = 1 + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(o.qty.value()));
    return MdMessage{MdType::Execute, o.side, o.id, OrderId{}, o.price, Qty(q)};
  }
  MdMessage make_replace() {
    const Live& o = live_[pick()];
    return MdMessage{MdType::Replace, o.side, o.id, OrderId(++next_id_), touch_price(o.side, distance()), size()};
  }
  // A sweep: the best orders of one side (sampled), fully executed, best first.
  MdMessage start_sweep() {
    const Side side = (rng_() % 2) ? Side::Sell : Side::Buy;
    const auto top = book_.l2().best(side);
    if (!top) return apply(make_add());
    const std::int64_t levels = 2 + static_cast<std::int64_t>(rng_() % 4);
    // Orders within `levels` ticks of the touch, found by scanning a bounded sample.
    for (std::size_t i = 0; i < live_.size() && pending_.size() < 32; i += 1 + rng_() % 3) {
      const Live& o = live_[i];
      if (o.side == side && std::llabs(o.price - top->price) < levels) {
        pending_.push_back(MdMessage{MdType::Execute, o.side, o.id, OrderId{}, o.price, o.qty});
      }
    }
    if (pending_.empty()) return apply(make_add());
    // Deliver best price first: pending_ is popped from the back.
    std::sort(pending_.begin(), pending_.end(), [side](const MdMessage& a, const MdMessage& b) {
      return b.price.better_than(a.price, side);
    });
    const MdMessage m = pending_.back();
    pending_.pop_back();
    return apply(m);
  }

  MdMessage apply(const MdMessage& m) {
    switch (m.type) {
      case MdType::Add:
        if (book_.add_order(m.id, m.side, m.price, m.qty).ok()) {
          pos_of(m.id) = live_.size();
          live_.push_back(Live{m.id, m.side, m.price, m.qty});
        }
        break;
      case MdType::Cancel:
      case MdType::Execute:
        (void)book_.cancel(m.id, m.qty);
        reduce_live(m.id, m.qty);
        break;
      case MdType::Delete:
        (void)book_.delete_order(m.id);
        remove_live(m.id);
        break;
      case MdType::Replace:
        if (book_.replace(m.id, m.new_id, m.price, m.qty).ok()) {
          remove_live(m.id);
          pos_of(m.new_id) = live_.size();
          live_.push_back(Live{m.new_id, m.side, m.price, m.qty});
        }
        break;
    }
    return m;
  }
  // Position in live_ of each id: ids are dense (1, 2, 3, ...), so a vector indexed by id.
  std::size_t& pos_of(OrderId id) {
    if (id.value() >= pos_.size()) pos_.resize(id.value() * 2 + 16);
    return pos_[id.value()];
  }
  void reduce_live(OrderId id, Qty q) {
    Live& o = live_[pos_of(id)];
    o.qty -= q;
    if (o.qty.zero()) remove_live(id);
  }
  void remove_live(OrderId id) {
    const std::size_t p = pos_of(id);
    if (p >= live_.size() || live_[p].id != id) return;  // already gone (a sweep duplicate)
    live_[p] = live_.back();
    pos_of(live_[p].id) = p;
    live_.pop_back();
  }

  MarketDataGeneratorConfig cfg_;
  double inv_exponent_ = -1.0 / cfg_.distance_exponent;
  detail::Mt19937_64 rng_;
  OrderBookL3 book_;
  std::int64_t mid_;
  std::uint64_t next_id_ = 0;
  std::vector<Live> live_;
  std::vector<std::size_t> pos_;
  std::vector<MdMessage> pending_;
};

}  // namespace hft
