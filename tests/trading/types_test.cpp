#include "hft/trading/types.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>

#include "../support/catch.hpp"

using hft::Price;
using hft::Qty;
using hft::TickSize;

namespace {
std::string fmt(Price p, TickSize t) {
  char buf[32];
  return std::string(buf, hft::format_price(p, t, buf));
}
}  // namespace

TEST_CASE("price text round-trips exactly at several tick sizes", "[types]") {
  const TickSize cent{1, 2}, nickel{5, 2}, bp{1, 4};
  CHECK(hft::parse_price("187.25", cent)->ticks() == 18725);
  CHECK(hft::parse_price("187.2", cent)->ticks() == 18720);
  CHECK(hft::parse_price("187", cent)->ticks() == 18700);
  CHECK(hft::parse_price("0.05", nickel)->ticks() == 1);
  CHECK(hft::parse_price("100.0001", bp)->ticks() == 1000001);
  CHECK(fmt(Price::from_ticks(18725), cent) == "187.25");
  CHECK(fmt(Price::from_ticks(18720), cent) == "187.2");
  CHECK(fmt(Price::from_ticks(18700), cent) == "187");
  CHECK(fmt(Price::from_ticks(3), nickel) == "0.15");
  CHECK(fmt(Price::from_ticks(-5), cent) == "-0.05");
  CHECK(fmt(Price::from_ticks(1000001), bp) == "100.0001");
  for (std::int64_t t = 0; t < 20000; t += 7) {
    CHECK(hft::parse_price(fmt(Price::from_ticks(t), bp), bp)->ticks() == t);
    CHECK(hft::parse_price(fmt(Price::from_ticks(t), nickel), nickel)->ticks() == t);
  }
}

TEST_CASE("malformed or off-tick price text is rejected", "[types]") {
  const TickSize cent{1, 2}, nickel{5, 2};
  for (const char* bad : {"", ".", "1.", ".5", "1.234", "1..2", "-1", "1e3", " 1", "1 ", "abc", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(hft::parse_price(bad, cent).has_value());
  }
  CHECK_FALSE(hft::parse_price("0.03", nickel).has_value());  // not a multiple of 0.05
}

// Found by tests/fuzz/field_parsers: the digit loop let units reach INT64_MAX / 10 and then
// multiplied, so the 19th digit overflowed (UB) instead of being refused.
TEST_CASE("price text at the edge of int64 is exact or refused, never overflows", "[types]") {
  const TickSize one{1, 0}, tenth{1, 1};
  CHECK(hft::parse_price("9223372036854775807", one)->ticks() == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(hft::parse_price("9223372036854775808", one).has_value());
  CHECK_FALSE(hft::parse_price("9223372036854775809", one).has_value());
  CHECK_FALSE(hft::parse_price("92233720368547758070", one).has_value());
  CHECK(hft::parse_price("922337203685477580.7", tenth)->ticks() == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(hft::parse_price("922337203685477580.8", tenth).has_value());
  CHECK_FALSE(hft::parse_price("922337203685477581", tenth).has_value());  // fits, x10 does not
}

TEST_CASE("strong types: only meaningful arithmetic, and sides", "[types]") {
  static_assert(!std::is_convertible_v<Qty, Price> && !std::is_convertible_v<Price, Qty>);
  static_assert(!std::is_convertible_v<std::int64_t, Price>);  // from_ticks only
  const Price p = Price::from_ticks(100);
  CHECK((p + 5).ticks() == 105);
  CHECK((p - Price::from_ticks(90)) == 10);
  CHECK(p.better_than(Price::from_ticks(99), hft::Side::Buy));
  CHECK(p.better_than(Price::from_ticks(101), hft::Side::Sell));
  CHECK((Qty(3) + Qty(4)).value() == 7);
  CHECK((Qty(3) * 5).value() == 15);
  CHECK(hft::opposite(hft::Side::Buy) == hft::Side::Sell);
  CHECK(hft::notional(Price::from_ticks(std::int64_t{1} << 40), Qty(std::int64_t{1} << 40)) ==
        (static_cast<hft::Notional>(1) << 80));  // no overflow
}

TEST_CASE("Symbol: 1-8 characters of A-Z 0-9 '.', trivially copyable", "[types]") {
  CHECK(std::string(hft::Symbol::parse("AAPL")->view()) == "AAPL");
  CHECK(std::string(hft::Symbol::parse("BRK.B")->view()) == "BRK.B");
  CHECK(std::string(hft::Symbol::parse("ABCDEFGH")->view()) == "ABCDEFGH");
  for (const char* bad : {"", "ABCDEFGHI", "aapl", "AA PL", "A-B"}) CHECK_FALSE(hft::Symbol::parse(bad).has_value());
  CHECK(hft::Symbol::of("MSFT") == hft::Symbol::of("MSFT"));
  CHECK_FALSE(hft::Symbol::of("MSFT") == hft::Symbol::of("MSF"));
  CHECK_THROWS_AS(hft::Symbol::of("bad"), std::invalid_argument);
}

// Issue 34, limit sweep: format_price took the whole part as a uint64 and promised at most
// 24 bytes, but ticks x mantissa reaches 2^126: Price INT64_MIN at a 1.23457 tick wrote 27
// bytes (past a 24-byte buffer), larger mantissas wrapped the whole part into other digits,
// and a tick with decimals outside 0..12 read past the powers-of-ten table.
TEST_CASE("format_price at the ends of int64: exact text within 24 bytes, or 0", "[types][regression][limits]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const auto length = [](Price p, TickSize t) {
    char buf[64];
    std::fill(buf, buf + 64, 'x');
    const std::size_t n = hft::format_price(p, t, buf);
    CHECK(std::count(buf + 24, buf + 64, 'x') == 40);  // nothing written past 24 bytes
    return n;
  };
  CHECK(fmt(Price::from_ticks(kMin), {1, 0}) == "-9223372036854775808");
  CHECK(fmt(Price::from_ticks(kMax), {1, 12}) == "9223372.036854775807");
  CHECK(fmt(Price::from_ticks(kMin), {1, 2}) == "-92233720368547758.08");
  for (const std::int64_t t : {kMin, kMin + 1, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, kMax - 1, kMax}) {
    for (const TickSize tick : {TickSize{1, 0}, TickSize{1, 12}, TickSize{123'457, 5}, TickSize{kMax, 0},
                                TickSize{kMax, 12}, TickSize{0, 2}, TickSize{-1, 2}, TickSize{1, 13}, TickSize{1, -1}}) {
      const std::size_t n = length(Price::from_ticks(t), tick);
      CHECK(n <= 24);
      if (n == 0) continue;
      const std::string text = fmt(Price::from_ticks(t), tick);
      if (t >= 0) CHECK(hft::parse_price(text, tick) == Price::from_ticks(t));  // exact: parses back
    }
  }
  CHECK(fmt(Price::from_ticks(kMin), {123'457, 5}).empty());  // -11386944... x 10^19: refused
  CHECK(fmt(Price::from_ticks(kMax), {kMax, 0}).empty());
  CHECK(fmt(Price::from_ticks(1), {1, 13}).empty());
  CHECK(fmt(Price::from_ticks(1), {0, 2}).empty());
}
