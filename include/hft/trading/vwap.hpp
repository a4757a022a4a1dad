// hft/trading/vwap.hpp: volume-weighted average price from trades, cumulative and windowed,
// and a per-symbol table of them.
//
// What: Vwap accumulates sum(price x qty) and sum(qty) exactly in integers: price x qty is
//   a 128-bit Notional (hft::notional), so no trade overflows, and a sum stays exact up to
//   2^127 tick-units (about 10^38: only prices and sizes near int64's ends get there; a
//   trade that would take a sum past it is refused: add returns false, nothing changes).
//   value() divides once, at query time. WindowedVwap keeps the trades of the last window_ns (at
//   most max_trades: past it the oldest leaves early, counted) and subtracts leaving trades
//   exactly, so it never drifts. VwapTable maps Symbol -> Vwap for up to max_symbols
//   symbols (a FlatIndex; add() reports false for a new symbol when full).
// When to use: execution benchmarks, fair-value anchors, per-symbol reporting from a trade
//   feed. When not: time-weighted prices (TWAP), or floating-point pipelines that already
//   lost exactness upstream.
// Thread-safety: one thread at a time.
// Progress: wait-free; nothing allocated after construction.
// Memory ordering: none (not shared).
// Complexity: O(1) per trade (WindowedVwap: amortized, each trade leaves once); O(1) query.
// Compared with: a double accumulator (sum of price x qty in floating point) drifts and
//   loses cents on large notionals; these are exact.
// Lifecycle: Vwap is a copyable value; WindowedVwap and VwapTable are movable, not
//   copyable, and a moved-from one may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>

#include "hft/core/flat_index.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// A volume-weighted average price over every trade added: exact 128-bit sums of price x qty
/// and qty.
class Vwap {
 public:
  /// Adds a trade; qty <= 0 is ignored (returns false), and so is a trade that would take
  /// the notional or the volume past the 128-bit range (returns false, nothing changes).
  bool add(Price price, Qty qty) noexcept {
    if (qty.value() <= 0) return false;
    Notional pq = 0, q = 0;
    // Three trades at INT64_MAX x INT64_MAX pass 2^127: signed overflow is undefined.
    if (__builtin_add_overflow(pq_, notional(price, qty), &pq) ||
        __builtin_add_overflow(q_, static_cast<Notional>(qty.value()), &q))
      return false;
    pq_ = pq;
    q_ = q;
    return true;
  }
  /// VWAP in ticks (fractional); nullopt before the first trade.
  [[nodiscard]] std::optional<double> value_ticks() const noexcept {
    if (q_ == 0) return std::nullopt;
    return static_cast<double>(pq_) / static_cast<double>(q_);
  }
  /// VWAP rounded half-up (towards +infinity on a tie) to a whole tick, negative prices too.
  [[nodiscard]] std::optional<Price> value() const noexcept {
    if (q_ == 0) return std::nullopt;
    // floor(pq / q + 1/2) without forming 2 * pq (which overflows past 2^126) and with a
    // floor, not C++'s truncation towards zero (which rounds a negative VWAP the wrong way).
    Notional d = pq_ / q_, r = pq_ % q_;
    if (r < 0) {
      --d;
      r += q_;
    }
    if (r >= q_ - r) ++d;  // r / q >= 1/2, with 0 <= r < q
    return Price::from_ticks(static_cast<std::int64_t>(d));
  }
  /// Sum of price x qty over the trades, in tick-units.
  [[nodiscard]] Notional notional_ticks() const noexcept { return pq_; }
  /// Sum of qty over the trades, in units.
  [[nodiscard]] Notional volume() const noexcept { return q_; }
  /// Takes back a trade add() counted: the exact inverse of add (qty <= 0 is ignored, as
  /// add ignores it). Precondition: the trade was added.
  void remove(Price price, Qty qty) noexcept {
    if (qty.value() <= 0) return;
    pq_ -= notional(price, qty);
    q_ -= static_cast<Notional>(qty.value());
  }
  /// Forgets every trade.
  void reset() noexcept { pq_ = q_ = 0; }

 private:
  Notional pq_ = 0, q_ = 0;
};

/// Settings of a WindowedVwap.
struct WindowedVwapConfig {
  std::uint64_t window_ns = 0;  ///< trades older than this leave the average; required, >= 1
};

/// A VWAP over the trades of the last window_ns nanoseconds, in a ring of at most max_trades
/// trades. One thread.
class WindowedVwap {
 public:
  /// Keeps at most `max_trades` trades (a full window evicts its oldest early, counted
  /// by evicted_early()). Throws std::invalid_argument for max_trades or window_ns 0.
  WindowedVwap(std::size_t max_trades, const WindowedVwapConfig& cfg)
      : window_(cfg.window_ns), capacity_(max_trades), ring_(new Trade[max_trades ? max_trades : 1]) {
    if (max_trades == 0) throw std::invalid_argument("hft::WindowedVwap: max_trades must be >= 1, got 0");
    if (cfg.window_ns == 0) throw std::invalid_argument("hft::WindowedVwap: window_ns must be >= 1, got 0");
  }
  /// Expires trades at or before now - window, then adds this one (now must not go back;
  /// a now earlier than a kept trade's expires nothing). False for qty <= 0, or when the
  /// window's notional would pass 2^127 (Vwap::add): the trade is not kept, nothing is evicted.
  bool add(Price price, Qty qty, std::uint64_t now_ns) noexcept {
    expire(now_ns);
    if (qty.value() <= 0) return false;
    const bool full = n_ == capacity_;
    Vwap next = v_;  // the sums with this trade in and, when full, the oldest out
    if (full) next.remove(ring_[head_].price, ring_[head_].qty);
    if (!next.add(price, qty)) return false;
    if (full) {
      head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
      --n_;
      ++evicted_early_;
    }
    ring_[(head_ + n_) % capacity_] = Trade{now_ns, price, qty};
    ++n_;
    v_ = next;
    return true;
  }
  /// Drops the trades at or before now - window (any window_ns: the age is compared, so
  /// window_ns = UINT64_MAX keeps every trade until max_trades evicts it).
  void expire(std::uint64_t now_ns) noexcept {
    // The age, not t + window: that sum wraps for a window or a time near 2^64.
    while (n_ > 0 && now_ns >= ring_[head_].t && now_ns - ring_[head_].t >= window_) pop();
  }
  /// The VWAP in ticks, unrounded; nullopt with no trade in the window.
  [[nodiscard]] std::optional<double> value_ticks() const noexcept { return v_.value_ticks(); }
  /// The VWAP rounded to the nearest tick (halves up); nullopt with no trade in the window.
  [[nodiscard]] std::optional<Price> value() const noexcept { return v_.value(); }
  /// Trades in the window now.
  [[nodiscard]] std::size_t trades() const noexcept { return n_; }
  /// Trades dropped before their time because the ring was full (raise max_trades if not 0).
  [[nodiscard]] std::uint64_t evicted_early() const noexcept { return evicted_early_; }

 private:
  struct Trade {
    std::uint64_t t = 0;
    Price price;
    Qty qty;
  };
  void pop() noexcept {
    v_.remove(ring_[head_].price, ring_[head_].qty);
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --n_;
  }
  std::uint64_t window_;
  std::size_t capacity_;
  std::unique_ptr<Trade[]> ring_;
  std::size_t head_ = 0, n_ = 0;
  std::uint64_t evicted_early_ = 0;
  Vwap v_;
};

/// One Vwap per symbol for up to max_symbols symbols, allocated up front. One thread.
class VwapTable {
 public:
  /// Room for `max_symbols` symbols (allocates their Vwaps now).
  explicit VwapTable(std::size_t max_symbols)
      : index_(max_symbols), vwaps_(new Entry[max_symbols]), capacity_(max_symbols) {}
  /// Adds a trade for symbol; false when the symbol is new and the table is full, or when
  /// Vwap::add refuses the trade.
  bool add(Symbol symbol, Price price, Qty qty) noexcept {
    if (qty.value() <= 0) return false;  // refused before a new symbol takes a slot
    std::uint32_t slot = index_.find(symbol.key());
    if (slot == FlatIndex::npos) {
      if (used_ == capacity_) return false;
      slot = static_cast<std::uint32_t>(used_++);
      (void)index_.try_insert(symbol.key(), slot);
      vwaps_[slot].symbol = symbol;
    }
    return vwaps_[slot].vwap.add(price, qty);
  }
  /// The symbol's Vwap, or nullptr when it has no trade yet.
  [[nodiscard]] const Vwap* find(Symbol symbol) const noexcept {
    const std::uint32_t slot = index_.find(symbol.key());
    return slot == FlatIndex::npos ? nullptr : &vwaps_[slot].vwap;
  }
  /// Symbols with at least one trade.
  [[nodiscard]] std::size_t size() const noexcept { return used_; }

 private:
  struct Entry {
    Symbol symbol;
    Vwap vwap;
  };
  FlatIndex index_;
  std::unique_ptr<Entry[]> vwaps_;
  std::size_t capacity_, used_ = 0;
};

}  // namespace hft
