// mini_oms/order.hpp: what the pipeline speaks: the Order every protocol decodes into and
// the Execution it answers with, the reject reasons, the family an order belongs to and
// its partition, the risk rules and the simulated venue's quotes. No text: the codecs
// (line_protocol.hpp, fix_protocol.hpp) own the wire formats.
// Everything here is allocation-free and unit-tested on its own (tests/mini_oms).
// May call: hft/trading types, hft/core/flat_index.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hft/core/flat_index.hpp"
#include "hft/trading/types.hpp"

namespace mini_oms {

inline constexpr hft::TickSize kTick{1, 4};  // prices carry up to 4 decimals
inline constexpr std::int64_t kMaxQty = 2147483647;

enum class Reason : std::uint8_t {
  None,
  Busy,
  BadMsg,
  RiskQty,
  RiskPrice,
  RiskNotional,
  RiskRate,
  FamilyFull,
  Shutdown
};

constexpr std::string_view reason_text(Reason r) noexcept {
  switch (r) {
    case Reason::None:
      return "";
    case Reason::Busy:
      return "BUSY";
    case Reason::BadMsg:
      return "BAD_MSG";
    case Reason::RiskQty:
      return "RISK_QTY";
    case Reason::RiskPrice:
      return "RISK_PRICE";
    case Reason::RiskNotional:
      return "RISK_NOTIONAL";
    case Reason::RiskRate:
      return "RISK_RATE";
    case Reason::FamilyFull:
      return "FAMILY_FULL";
    case Reason::Shutdown:
      return "SHUTDOWN";
  }
  return "";
}
/// Admission rejects take no seq_in_family and may overtake earlier replies.
constexpr bool is_admission_reject(Reason r) noexcept {
  return r == Reason::Busy || r == Reason::FamilyFull || r == Reason::Shutdown;
}

/// The family a request belongs to. A correlation id (other than -1) is its own family. An
/// uncorrelated request (-1, or an id that does not parse) gets a key of its own, drawn
/// from the top of the negative range (INT64_MIN + io_thread << 48 + a per-thread counter),
/// so uncorrelated requests never serialise behind each other by accident and hash across
/// partitions. (A client using correlation ids that low would share them: documented.)
inline constexpr std::uint64_t kUncorrelatedBase = 0x8000'0000'0000'0000ULL;
struct FamilyKey {
  std::uint64_t key;
  bool correlated;
};
inline FamilyKey family_key(std::optional<std::int64_t> corr, std::uint32_t io_thread, std::uint64_t counter) noexcept {
  if (corr && *corr != -1) return {static_cast<std::uint64_t>(*corr), true};
  return {kUncorrelatedBase + (static_cast<std::uint64_t>(io_thread) << 48) + counter, false};
}
/// partition = hash(family) & (partitions - 1); partitions is a power of two.
inline unsigned partition_of(std::uint64_t family, unsigned partitions) noexcept {
  return static_cast<unsigned>(hft::FlatIndex::hash(family) & (partitions - 1));
}

// ---- the pipeline's records ---------------------------------------------------------
/// What every protocol decodes a request into, and all the pipeline past the gateway sees:
/// a binary order, never text. `valid` false: the protocol found the request malformed but
/// could name it (req_id, correlation id); it travels the pipeline like any order of its
/// family, so its BAD_MSG keeps its place among the family's replies, and executes nothing.
struct Order {
  std::uint64_t req_id = 0;
  std::int64_t corr = -1;  // the correlation id: -1 uncorrelated
  hft::Symbol symbol;
  hft::Side side = hft::Side::Buy;
  bool valid = true;
  std::int64_t qty = 0;
  hft::Price price;  // in 0.0001 units
};
static_assert(sizeof(Order) <= 48, "an Order travels by value through rings and task nodes");

/// What the pipeline answers every order with, and what each protocol encodes: the line
/// protocol as one reply line (format_execution), FIX as ExecutionReports.
struct Execution {
  std::uint64_t req_id = 0;
  std::uint64_t seq = 0;  // seq_in_family: 0 for an admission reject
  std::int64_t filled = 0;
  hft::Notional notional = 0;  // of the fills, in ticks x lots
  Reason why = Reason::None;   // None: an ACK
};

// ---- risk ------------------------------------------------------------------------
struct RiskLimits {
  std::int64_t max_qty = 1'000'000;
  std::int64_t band_pct = 10;              // price within +-band_pct% of the reference
  std::int64_t max_notional = 50'000'000;  // qty x price, in currency units
  std::uint64_t rate_per_sec = 1'000'000;  // per symbol; burst = rate
};

/// Rules 1-3 (the token bucket, rule 4, is stateful: the caller applies it after these).
inline Reason check_static_risk(const Order& r, hft::Price reference, const RiskLimits& lim) noexcept {
  if (r.qty > lim.max_qty) return Reason::RiskQty;
  const std::int64_t diff =
      r.price.ticks() > reference.ticks() ? r.price.ticks() - reference.ticks() : reference.ticks() - r.price.ticks();
  if (static_cast<hft::Notional>(diff) * 100 > static_cast<hft::Notional>(reference.ticks()) * lim.band_pct) {
    return Reason::RiskPrice;
  }
  // qty x price > max_notional, in 0.0001 units on both sides.
  if (hft::notional(r.price, hft::Qty(r.qty)) > static_cast<hft::Notional>(lim.max_notional) * 10'000) {
    return Reason::RiskNotional;
  }
  return Reason::None;
}

// ---- the simulated venue's quotes ------------------------------------------------
inline constexpr int kVenueLevels = 10;
/// Level k (1..10) of a side: 5 basis points apart from the reference, starting one step
/// away, rounded half-up to 0.0001; size 100 x k.
inline hft::Price venue_level_price(hft::Price ref, hft::Side side, int k) noexcept {
  const std::int64_t bps = side == hft::Side::Sell ? 10'000 + 5 * k : 10'000 - 5 * k;
  const hft::Notional num = static_cast<hft::Notional>(ref.ticks()) * bps;
  return hft::Price::from_ticks(static_cast<std::int64_t>((num + 5'000) / 10'000));
}

}  // namespace mini_oms
