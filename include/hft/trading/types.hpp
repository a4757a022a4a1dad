// hft/trading/types.hpp: strong types for trading code: Price, Qty, Side, OrderId, Symbol,
// TickSize, and decimal text <-> Price conversion.
//
// What: Price is a signed count of ticks, Qty a signed count of units, OrderId a 64-bit
//   id, Symbol up to 8 characters stored inline. Each is a distinct type, so a price can
//   never be passed where a quantity is expected, and arithmetic exists only where it
//   means something: Price +/- a tick offset, Price - Price = tick distance, Qty +/- Qty,
//   Qty * integer, price x quantity only through notional().
// When to use: everywhere a book, an order or a fill carries prices and quantities.
// When not: floating-point analytics on prices (convert with to_double at the edge).
// Text: parse_price("187.25", tick) and format_price(p, tick, buf) convert between decimal
//   text and ticks exactly (no floating point): a TickSize is mantissa x 10^-decimals, e.g.
//   0.01 = {1, 2}, 0.05 = {5, 2}, 0.0001 = {1, 4}. Text that is not a whole number of
//   ticks, has more decimals than the tick, is negative, or overflows is rejected.
// Limits: Price +/- ticks, Price - Price and Qty +, -, * are int64 arithmetic: keeping the
//   result in range is the caller's precondition, as for int64_t (signed overflow is
//   undefined). The books never do arithmetic on the prices they are given: they compare
//   them, and the one distance they report, spread(), saturates. notional() is exact for
//   every Price and Qty. format_price returns 0 rather than write text it cannot represent.
// Thread-safety: values; no shared state.
// Progress: not applicable (plain values).
// Memory ordering: none (no shared state).
// Complexity: O(1); text conversion O(length).
// Compared with: raw int64_t/double prices (QuickFIX's FIX::Price is a double) mix up
//   prices, quantities and ids silently; these cost nothing over int64_t.
// Lifecycle: plain values (trivially copyable).
#pragma once

#include <algorithm>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace hft {

/// The side of an order or a book: Buy (bids) or Sell (asks).
enum class Side : std::uint8_t { Buy = 0, Sell = 1 };
/// The other side: the one an order of side `s` trades against.
[[nodiscard]] constexpr Side opposite(Side s) noexcept { return s == Side::Buy ? Side::Sell : Side::Buy; }
/// 'B' for Buy, 'S' for Sell.
[[nodiscard]] constexpr char to_char(Side s) noexcept { return s == Side::Buy ? 'B' : 'S'; }

/// A price as a whole number of ticks (TickSize converts to decimals), so prices compare and add exactly.
class Price {
 public:
  constexpr Price() noexcept = default;
  /// The price of `t` ticks (may be zero or negative).
  [[nodiscard]] static constexpr Price from_ticks(std::int64_t t) noexcept { return Price(t); }
  /// The price in ticks.
  [[nodiscard]] constexpr std::int64_t ticks() const noexcept { return ticks_; }

  /// Orders prices by their tick count.
  constexpr auto operator<=>(const Price&) const noexcept = default;

  [[nodiscard]] friend constexpr Price operator+(Price p, std::int64_t ticks) noexcept {
    return Price(p.ticks_ + ticks);
  }
  [[nodiscard]] friend constexpr Price operator-(Price p, std::int64_t ticks) noexcept {
    return Price(p.ticks_ - ticks);
  }
  /// Distance in ticks.
  [[nodiscard]] friend constexpr std::int64_t operator-(Price a, Price b) noexcept { return a.ticks_ - b.ticks_; }

  /// `this` is better than `other` for `side` (higher bid, lower ask).
  [[nodiscard]] constexpr bool better_than(Price other, Side side) const noexcept {
    return side == Side::Buy ? ticks_ > other.ticks_ : ticks_ < other.ticks_;
  }

 private:
  constexpr explicit Price(std::int64_t t) noexcept : ticks_(t) {}
  std::int64_t ticks_ = 0;
};

/// A quantity in whole units (shares, contracts, lots), signed so that deltas fit.
class Qty {
 public:
  constexpr Qty() noexcept = default;
  /// A quantity of `units`.
  constexpr explicit Qty(std::int64_t units) noexcept : units_(units) {}
  /// The quantity in units.
  [[nodiscard]] constexpr std::int64_t value() const noexcept { return units_; }
  /// Orders quantities by their units.
  constexpr auto operator<=>(const Qty&) const noexcept = default;
  /// True for a quantity of 0 units.
  [[nodiscard]] constexpr bool zero() const noexcept { return units_ == 0; }

  [[nodiscard]] friend constexpr Qty operator+(Qty a, Qty b) noexcept { return Qty(a.units_ + b.units_); }
  [[nodiscard]] friend constexpr Qty operator-(Qty a, Qty b) noexcept { return Qty(a.units_ - b.units_); }
  [[nodiscard]] friend constexpr Qty operator*(Qty a, std::int64_t k) noexcept { return Qty(a.units_ * k); }
  /// Adds `o`; the caller keeps the sum within int64 (not checked).
  constexpr Qty& operator+=(Qty o) noexcept {
    units_ += o.units_;
    return *this;
  }
  /// Subtracts `o`; the caller keeps the difference within int64 (not checked).
  constexpr Qty& operator-=(Qty o) noexcept {
    units_ -= o.units_;
    return *this;
  }
  [[nodiscard]] friend constexpr Qty min(Qty a, Qty b) noexcept { return a < b ? a : b; }

 private:
  std::int64_t units_ = 0;
};

/// Price x quantity in tick-units, widened so that any Price and Qty multiply exactly.
__extension__ typedef __int128 Notional;
/// Price x quantity in tick-units, exact for any Price and Qty.
[[nodiscard]] constexpr Notional notional(Price p, Qty q) noexcept {
  return static_cast<Notional>(p.ticks()) * static_cast<Notional>(q.value());
}

/// An order's identifier, opaque to the books: unique among the live orders of one book.
class OrderId {
 public:
  constexpr OrderId() noexcept = default;
  /// The identifier `v`.
  constexpr explicit OrderId(std::uint64_t v) noexcept : v_(v) {}
  /// The identifier as an integer.
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return v_; }
  /// Orders identifiers by their integer value.
  constexpr auto operator<=>(const OrderId&) const noexcept = default;

 private:
  std::uint64_t v_ = 0;
};

/// Up to 8 characters of [A-Z0-9.], stored inline (trivially copyable, 8 bytes).
class Symbol {
 public:
  static constexpr std::size_t kMaxLen = 8;  ///< the longest symbol, in characters
  constexpr Symbol() noexcept = default;

  /// The symbol, or nullopt unless text is 1..8 characters of A-Z, 0-9 and '.'.
  [[nodiscard]] static constexpr std::optional<Symbol> parse(std::string_view text) noexcept {
    if (text.empty() || text.size() > kMaxLen) return std::nullopt;
    Symbol s;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
      if (!ok) return std::nullopt;
      s.chars_[i] = c;
    }
    return s;
  }
  /// Throws std::invalid_argument when text is not a valid symbol.
  static Symbol of(std::string_view text) {
    const auto s = parse(text);
    if (!s) throw std::invalid_argument("hft::Symbol: 1-8 characters of A-Z 0-9 '.' expected");
    return *s;
  }
  /// The characters, without the padding (valid while the Symbol lives).
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    std::size_t n = 0;
    while (n < kMaxLen && chars_[n] != '\0') ++n;
    return {chars_, n};
  }
  /// The 8 bytes as one integer (for hashing and fast equality).
  [[nodiscard]] std::uint64_t key() const noexcept {
    std::uint64_t k;
    std::memcpy(&k, chars_, sizeof k);
    return k;
  }
  friend constexpr bool operator==(const Symbol& a, const Symbol& b) noexcept {
    for (std::size_t i = 0; i < kMaxLen; ++i) {
      if (a.chars_[i] != b.chars_[i]) return false;
    }
    return true;
  }

 private:
  char chars_[kMaxLen] = {};
};
static_assert(std::is_trivially_copyable_v<Symbol> && sizeof(Symbol) == 8);
static_assert(std::is_trivially_copyable_v<Price> && sizeof(Price) == 8);
static_assert(std::is_trivially_copyable_v<Qty> && sizeof(Qty) == 8);

/// Tick size = mantissa x 10^-decimals (0.01 = {1, 2}; 0.05 = {5, 2}; 0.0001 = {1, 4}).
struct TickSize {
  std::int64_t mantissa = 1;  ///< the tick is mantissa x 10^-decimals, mantissa >= 1
  int decimals = 2;           ///< 0..13: the powers of ten detail::kPow10 holds
};

namespace detail {
inline constexpr std::int64_t kPow10[] = {1,          10,          100,          1000,          10000,
                                          100000,     1000000,     10000000,     100000000,     1000000000,
                                          10000000000, 100000000000, 1000000000000, 10000000000000};
}

/// Decimal text ("187.25", "100", "0.0005") -> Price in ticks of `tick`. nullopt unless the
/// text is digits[.digits] with at most tick.decimals decimals, is a whole number of
/// ticks, and fits. Never uses floating point.
[[nodiscard]] constexpr std::optional<Price> parse_price(std::string_view text, TickSize tick) noexcept {
  if (text.empty() || tick.mantissa <= 0 || tick.decimals < 0 || tick.decimals > 12) return std::nullopt;
  std::int64_t units = 0;  // in 10^-decimals
  int decimals_seen = -1;  // -1: before the point
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const char c : text) {
    if (c == '.') {
      if (decimals_seen >= 0) return std::nullopt;
      decimals_seen = 0;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (decimals_seen >= 0 && ++decimals_seen > tick.decimals) return std::nullopt;
    if (units > (kMax - (c - '0')) / 10) return std::nullopt;  // units * 10 + digit must fit
    units = units * 10 + (c - '0');
  }
  if (decimals_seen == 0 || text.front() == '.') return std::nullopt;  // "5." or ".5"
  const int scale = tick.decimals - (decimals_seen < 0 ? 0 : decimals_seen);
  if (units > std::numeric_limits<std::int64_t>::max() / detail::kPow10[scale]) return std::nullopt;
  units *= detail::kPow10[scale];
  if (units % tick.mantissa != 0) return std::nullopt;
  return Price::from_ticks(units / tick.mantissa);
}

/// Price -> shortest decimal text ("187.25", "100", "-0.05") into buf; returns the length
/// written (at most 24 bytes; buf must have room for 24). Returns 0 and writes nothing for
/// a tick outside parse_price's domain (mantissa <= 0, decimals outside 0..12) or a price
/// whose text would not fit 24 bytes (|ticks x mantissa| of 10^19 or more, which only
/// prices near int64's ends with a mantissa above 1 reach).
inline std::size_t format_price(Price p, TickSize tick, char* buf) noexcept {
  if (tick.mantissa <= 0 || tick.decimals < 0 || tick.decimals > 12) return 0;  // kPow10's range
  Notional units = static_cast<Notional>(p.ticks()) * tick.mantissa;
  // Past 10^19 the whole part no longer fits the uint64 below (it would wrap into other
  // digits) and the text, with 12 decimals, passes 24 bytes.
  if (units >= static_cast<Notional>(10'000'000'000'000'000'000ULL) ||
      units <= -static_cast<Notional>(10'000'000'000'000'000'000ULL))
    return 0;
  std::size_t n = 0;
  if (units < 0) {
    buf[n++] = '-';
    units = -units;
  }
  const auto pow = static_cast<Notional>(detail::kPow10[tick.decimals]);
  const auto whole = static_cast<std::uint64_t>(units / pow);
  auto frac = static_cast<std::uint64_t>(units % pow);
  n += static_cast<std::size_t>(std::to_chars(buf + n, buf + 24, whole).ptr - (buf + n));
  if (frac != 0) {
    int digits = tick.decimals;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    buf[n++] = '.';
    for (int i = digits - 1; i >= 0; --i) {
      buf[n + static_cast<std::size_t>(i)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    n += static_cast<std::size_t>(digits);
  }
  return n;
}

/// The price as a decimal number of currency units (ticks x tick size); inexact beyond double's 53 bits.
[[nodiscard]] constexpr double to_double(Price p, TickSize tick) noexcept {
  return static_cast<double>(p.ticks()) * static_cast<double>(tick.mantissa) /
         static_cast<double>(detail::kPow10[tick.decimals]);
}

}  // namespace hft

/// Hashes an OrderId by its value, for unordered containers.
template <>
struct std::hash<hft::OrderId> {
  /// The hash of id.value().
  std::size_t operator()(hft::OrderId id) const noexcept { return std::hash<std::uint64_t>{}(id.value()); }
};
/// Hashes a Symbol by its 8 bytes, for unordered containers.
template <>
struct std::hash<hft::Symbol> {
  /// The hash of s.key().
  std::size_t operator()(hft::Symbol s) const noexcept { return std::hash<std::uint64_t>{}(s.key()); }
};
