// Fuzz target: the field parsers (hft::parse_price, hft::Symbol::parse, the mini-OMS's
// parse_u64 / parse_i64 and the FIX Message::to_int), each checked against a slow reference
// written here from the grammar in its header, on the same fuzzer-chosen text.
// Invariants: each parser accepts exactly the texts its reference accepts, with the same
//   value; format_price(parse_price(t)) parses back to the same price.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "hft/fix/message.hpp"
#include "hft/trading/types.hpp"
#include "line_protocol.hpp"

namespace {

using i128 = __int128;
constexpr i128 kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr i128 kI64Min = std::numeric_limits<std::int64_t>::min();

bool all_digits(std::string_view s) {
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

/// Digits as a number, saturating at 10^30 (far above any range checked here).
i128 value_of(std::string_view digits) {
  i128 v = 0;
  for (const char c : digits) {
    v = v * 10 + (c - '0');
    if (v > i128(1'000'000'000'000'000LL) * 1'000'000'000'000'000LL) return v;
  }
  return v;
}

// mini_oms: 1-20 digits, no sign, at most 2^64 - 1.
std::optional<std::uint64_t> ref_u64(std::string_view s) {
  if (s.size() > 20 || !all_digits(s)) return std::nullopt;
  const i128 v = value_of(s);
  if (v > i128(std::numeric_limits<std::uint64_t>::max())) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}
// mini_oms: an optional '-', then the u64 grammar; within int64.
std::optional<std::int64_t> ref_i64(std::string_view s) {
  const bool neg = !s.empty() && s[0] == '-';
  const std::string_view d = neg ? s.substr(1) : s;
  if (d.size() > 20 || !all_digits(d)) return std::nullopt;
  const i128 v = neg ? -value_of(d) : value_of(d);
  if (v > kI64Max || v < kI64Min) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

// types.hpp: digits[.digits], at most tick.decimals decimals, a whole number of ticks that
// fits in int64 (as must the value in units of 10^-decimals).
std::optional<std::int64_t> ref_price_ticks(std::string_view s, hft::TickSize tick) {
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (!all_digits(whole)) return std::nullopt;
  if (dot != std::string_view::npos && !all_digits(frac)) return std::nullopt;  // "5." and "5.1.2"
  if (frac.size() > static_cast<std::size_t>(tick.decimals)) return std::nullopt;
  i128 units = value_of(std::string(whole) + std::string(frac));
  for (std::size_t k = frac.size(); k < static_cast<std::size_t>(tick.decimals) && units <= kI64Max; ++k) units *= 10;
  if (units > kI64Max) return std::nullopt;
  if (units % tick.mantissa != 0) return std::nullopt;
  return static_cast<std::int64_t>(units / tick.mantissa);
}

// FIX Message::to_int: an optional '-', then 1-18 digits, no leading '+'.
std::optional<std::int64_t> ref_fix_int(std::string_view s) {
  const bool neg = !s.empty() && s[0] == '-';
  const std::string_view d = neg ? s.substr(1) : s;
  if (d.size() > 18 || !all_digits(d)) return std::nullopt;
  const i128 v = value_of(d);
  return static_cast<std::int64_t>(neg ? -v : v);
}

bool ref_symbol(std::string_view s) {
  if (s.empty() || s.size() > hft::Symbol::kMaxLen) return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.')) return false;
  return true;
}

constexpr hft::TickSize kTicks[] = {{1, 2}, {5, 2}, {1, 4}, {25, 4}, {1, 0}, {1, 12}, {3, 1}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const hft::TickSize tick = kTicks[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kTicks) - 1)];
  const std::string text = in.ConsumeRemainingBytesAsString();
  const std::string_view t = text;

  FUZZ_CHECK(mini_oms::parse_u64(t) == ref_u64(t), "parse_u64 disagrees on \"%s\"", text.c_str());
  FUZZ_CHECK(mini_oms::parse_i64(t) == ref_i64(t), "parse_i64 disagrees on \"%s\"", text.c_str());

  const auto px = hft::parse_price(t, tick);
  const auto want = ref_price_ticks(t, tick);
  FUZZ_CHECK(px.has_value() == want.has_value() && (!px || px->ticks() == *want),
             "parse_price disagrees on \"%s\" (tick %lld x 10^-%d)", text.c_str(),
             static_cast<long long>(tick.mantissa), tick.decimals);
  if (px) {
    char buf[24];
    const std::string_view shown(buf, hft::format_price(*px, tick, buf));
    const auto back = hft::parse_price(shown, tick);
    FUZZ_CHECK(back && *back == *px, "format_price(\"%s\") does not parse back", text.c_str());
  }

  const auto fix_int = hft::fix::Message::to_int(t);
  const auto fix_want = ref_fix_int(t);
  FUZZ_CHECK(fix_int == fix_want, "fix to_int disagrees on \"%s\"", text.c_str());

  const auto sym = hft::Symbol::parse(t);
  FUZZ_CHECK(sym.has_value() == ref_symbol(t), "Symbol::parse disagrees on \"%s\"", text.c_str());
  if (sym) FUZZ_CHECK(sym->view() == t, "Symbol::parse changed \"%s\"", text.c_str());
  return 0;
}
