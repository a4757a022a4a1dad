// mini_oms/fix_order_map.hpp: a FIX order in, its fields checked (docs/fix.md, "The
// mini-OMS FIX acceptor"): map_new_order: NewOrderSingle(D) -> FixOrder -> the pipeline's
// request line, or a reject with its OrdRejReason and Text.
//
// Owns: the acceptor's sizes (kMaxClOrdId, kMaxAccount, kMaxOrderId, kMaxEchoNumber);
// OrdRejReason and a pipeline reject's (ord_rej_reason); FixOrder and what a reject may
// echo of it (echoable_char, echoable_number); MapResult, map_new_order; an order's family
// (account_correlation) and its req_id in the pipeline (fix_req_id; the codec builds the
// pipeline's Order, fix_orders.hpp); fnv1a; the business-level rejects of invalid
// application messages (FieldProblem, field_name, invalid_field_text, invalid_field_reason).
// May call: hft::fix::Message and its tags, hft/trading's types, line_protocol.hpp (parse_i64,
// Reason, kTick, kMaxQty, detail::Out), hft::FlatIndex::hash. No state, no allocation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "hft/core/flat_index.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/tags.hpp"
#include "hft/trading/types.hpp"
#include "line_protocol.hpp"

namespace mini_oms {

namespace fixtag = hft::fix::tag;

inline constexpr std::size_t kMaxClOrdId = 40;
inline constexpr std::size_t kMaxAccount = 32;
inline constexpr std::size_t kMaxOrderId = 48;     // "<fix_id_base><gateway>-<n>": at most 45
inline constexpr std::size_t kMaxEchoNumber = 24;  // OrderQty/Price text a reject echoes

/// OrdRejReason(103) values of FIX 4.4 the acceptor uses.
enum class OrdRejReason : std::uint8_t {
  ExchangeClosed = 2,
  OrderExceedsLimit = 3,
  DuplicateOrder = 6,
  UnsupportedOrderCharacteristic = 11,
  IncorrectQuantity = 13,
  Other = 99,
};

/// A pipeline reject -> (OrdRejReason, Text). Text carries the line protocol's reason.
inline OrdRejReason ord_rej_reason(Reason r) noexcept {
  switch (r) {
    case Reason::RiskQty:
    case Reason::RiskNotional:
      return OrdRejReason::OrderExceedsLimit;
    case Reason::Shutdown:
      return OrdRejReason::ExchangeClosed;
    default:
      return OrdRejReason::Other;  // BUSY, FAMILY_FULL, RISK_PRICE, RISK_RATE, BAD_MSG: Text says which
  }
}

inline std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

/// A NewOrderSingle the acceptor admitted or refused.
// clordid and account are valid up to their lengths: zeroing them would cost a memset per
// order.
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
struct FixOrder {
  char clordid[kMaxClOrdId];
  std::uint8_t clordid_len = 0;
  char account[kMaxAccount];
  std::uint8_t account_len = 0;
  hft::Symbol symbol;
  hft::Side side = hft::Side::Buy;
  std::int64_t qty = 0;
  hft::Price price;
  // What the order carried, for a reject to echo: Side(54), OrdType(40), TimeInForce(59)
  // ('\0' when absent or longer than a character), OrderQty(38) and Price(44) (length 0
  // when absent or longer than kMaxEchoNumber).
  char side_sent = 0;
  char ord_type_sent = 0;
  char tif_sent = 0;
  std::uint8_t qty_len = 0;
  std::uint8_t price_len = 0;
  char qty_text[kMaxEchoNumber];
  char price_text[kMaxEchoNumber];
  [[nodiscard]] std::string_view cl_ord_id() const noexcept { return {clordid, clordid_len}; }
  [[nodiscard]] std::string_view acct() const noexcept { return {account, account_len}; }
  [[nodiscard]] std::string_view qty_sent() const noexcept { return {qty_text, qty_len}; }
  [[nodiscard]] std::string_view price_sent() const noexcept { return {price_text, price_len}; }
};

/// A reject echoes a one-character field only when the value is one FIX 4.4 defines for it
/// (a validating peer would reject our report otherwise), and a Qty or Price only when it
/// has the FIX float format ([-]digits[.digits]).
inline constexpr std::string_view kFix44Sides = "123456789ABCDEFG";
inline constexpr std::string_view kFix44OrdTypes = "123456789ABCDEFGHIJKLMP";
inline constexpr std::string_view kFix44TimesInForce = "01234567";
inline bool echoable_char(char c, std::string_view allowed) noexcept {
  return c != '\0' && allowed.find(c) != std::string_view::npos;
}
inline bool echoable_number(std::string_view v) noexcept {
  if (!v.empty() && v.front() == '-') v.remove_prefix(1);
  bool digit = false, dot = false;
  for (const char c : v) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

struct MapResult {
  bool ok = false;
  OrdRejReason reason = OrdRejReason::Other;
  std::string_view text;  // why, when !ok
};

/// NewOrderSingle -> FixOrder. The fields: ClOrdID(11), Symbol(55), Side(54) 1|2,
/// OrderQty(38) whole units (a ".0" fraction is accepted), OrdType(40) 2 (limit),
/// Price(44), TimeInForce(59) 3 (IOC: the venue's orders never rest), Account(1) optional.
inline MapResult map_new_order(const hft::fix::Message& m, FixOrder& o) noexcept {
  const std::string_view id = m.get(fixtag::kClOrdID);
  o.clordid_len = static_cast<std::uint8_t>(std::min(id.size(), kMaxClOrdId));
  if (o.clordid_len != 0) std::memcpy(o.clordid, id.data(), o.clordid_len);  // an absent field's view is null
  const std::string_view acct = m.get(fixtag::kAccount);
  o.account_len = static_cast<std::uint8_t>(std::min(acct.size(), kMaxAccount));
  if (o.account_len != 0) std::memcpy(o.account, acct.data(), o.account_len);
  const auto sym = hft::Symbol::parse(m.get(fixtag::kSymbol));
  if (sym) o.symbol = *sym;
  const char side = m.get_char(fixtag::kSide);
  o.side = side == '2' ? hft::Side::Sell : hft::Side::Buy;
  o.side_sent = side;
  o.ord_type_sent = m.get_char(fixtag::kOrdType);
  o.tif_sent = m.get_char(fixtag::kTimeInForce);
  const std::string_view qty_sent = m.get(fixtag::kOrderQty);
  o.qty_len = qty_sent.size() <= kMaxEchoNumber ? static_cast<std::uint8_t>(qty_sent.size()) : 0;
  if (o.qty_len != 0) std::memcpy(o.qty_text, qty_sent.data(), o.qty_len);
  const std::string_view price_sent = m.get(fixtag::kPrice);
  o.price_len = price_sent.size() <= kMaxEchoNumber ? static_cast<std::uint8_t>(price_sent.size()) : 0;
  if (o.price_len != 0) std::memcpy(o.price_text, price_sent.data(), o.price_len);
  auto bad = [](OrdRejReason r, std::string_view t) { return MapResult{false, r, t}; };
  if (id.empty()) return bad(OrdRejReason::Other, "BAD_MSG: ClOrdID(11) missing");
  if (id.size() > kMaxClOrdId) return bad(OrdRejReason::Other, "BAD_MSG: ClOrdID(11) longer than 40");
  if (acct.size() > kMaxAccount) return bad(OrdRejReason::Other, "BAD_MSG: Account(1) longer than 32");
  if (!sym) return bad(OrdRejReason::Other, "BAD_MSG: Symbol(55) missing or longer than 8");
  if (side != '1' && side != '2')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: Side(54) must be 1 or 2");
  if (o.ord_type_sent != '2')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: OrdType(40) must be 2 (limit)");
  if (o.tif_sent != '3')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: TimeInForce(59) must be 3 (IOC)");
  std::string_view qty_text = qty_sent;
  if (const auto dot = qty_text.find('.'); dot != std::string_view::npos) {
    if (qty_text.find_first_not_of('0', dot + 1) != std::string_view::npos)
      return bad(OrdRejReason::IncorrectQuantity, "BAD_MSG: OrderQty(38) must be whole units");
    qty_text = qty_text.substr(0, dot);
  }
  const auto qty = parse_i64(qty_text);
  if (!qty || qty_text.front() == '-' || *qty < 1 || *qty > kMaxQty)
    return bad(OrdRejReason::IncorrectQuantity, "BAD_MSG: OrderQty(38) must be 1..2147483647");
  o.qty = *qty;
  const auto px = hft::parse_price(price_sent, kTick);
  if (!px || px->ticks() <= 0)
    return bad(OrdRejReason::Other, "BAD_MSG: Price(44) must be > 0 with at most 4 decimals");
  o.price = *px;
  return {true, OrdRejReason::Other, {}};
}

/// The family an order belongs to: its Account's (every order of an Account in FIFO order),
/// or, without one, a family of its own (the line protocol's -1). Accounts are hashed to a
/// non-negative correlation id: two accounts that collide share a family, which only
/// serialises them.
inline std::int64_t account_correlation(std::string_view account) noexcept {
  if (account.empty()) return -1;
  return static_cast<std::int64_t>(fnv1a(account) & 0x3FFF'FFFF'FFFF'FFFFULL);
}

/// The req_id of a FIX order in the pipeline: a function of the session and the ClOrdID,
/// so a re-send after a restart is the same (correlation id, req_id) pair the journal's
/// re-send window answers with the original reply, and a new order after a restart never
/// takes an old one's place. 62 bits, never 0.
inline std::uint64_t fix_req_id(std::uint64_t session_hash, std::uint64_t clordid_key) noexcept {
  return (hft::FlatIndex::hash(session_hash ^ hft::FlatIndex::hash(clordid_key)) & 0x3FFF'FFFF'FFFF'FFFFULL) | 1;
}

// ---- business-level rejects of invalid application messages ------------------------------
// The session's dictionary found a value-level problem in an application message (a
// required body field missing, an enum value out of range, a bad data format) and hands it
// to the application (Session: on_invalid_app_message): the acceptor answers it the way a
// business problem is answered, not with a session Reject.

/// What the acceptor needs of a session's Violation (hft/fix/dictionary.hpp): the field, the
/// problem (static text), and whether the field is missing.
struct FieldProblem {
  std::uint32_t tag = 0;
  std::string_view text;
  bool missing = false;
};

/// The field `tag`, as a reject's Text names it: "Side(54)", or "tag 9999" for one the
/// acceptor does not read.
inline std::string_view field_name(std::uint32_t tag) noexcept {
  switch (tag) {
    case fixtag::kAccount:
      return "Account";
    case fixtag::kClOrdID:
      return "ClOrdID";
    case fixtag::kOrderQty:
      return "OrderQty";
    case fixtag::kOrdType:
      return "OrdType";
    case fixtag::kOrigClOrdID:
      return "OrigClOrdID";
    case fixtag::kPrice:
      return "Price";
    case fixtag::kSide:
      return "Side";
    case fixtag::kSymbol:
      return "Symbol";
    case fixtag::kTimeInForce:
      return "TimeInForce";
    case fixtag::kTransactTime:
      return "TransactTime";
    default:
      return {};
  }
}

/// "BAD_MSG: Side(54): value out of range" into `out` (at most kMaxReply bytes); returns the text.
inline std::string_view invalid_field_text(char (&out)[kMaxReply], std::uint32_t tag,
                                           std::string_view problem) noexcept {
  detail::Out w{out};
  w.put("BAD_MSG: ");
  const std::string_view name = field_name(tag);
  if (!name.empty()) {
    w.put(name);
    w.put('(');
    w.num(tag);
    w.put(')');
  } else {
    w.put("tag ");
    w.num(tag);
  }
  w.put(": ");
  w.put(problem);  // cut at kMaxReply
  return {out, w.n};
}

/// The OrdRejReason of an order whose field `tag` is invalid: IncorrectQuantity for a bad
/// OrderQty, UnsupportedOrderCharacteristic for a Side, OrdType or TimeInForce out of
/// range, else Other (Text says which field and why).
inline OrdRejReason invalid_field_reason(std::uint32_t tag, bool missing) noexcept {
  if (missing) return OrdRejReason::Other;
  if (tag == fixtag::kOrderQty) return OrdRejReason::IncorrectQuantity;
  if (tag == fixtag::kSide || tag == fixtag::kOrdType || tag == fixtag::kTimeInForce)
    return OrdRejReason::UnsupportedOrderCharacteristic;
  return OrdRejReason::Other;
}

}  // namespace mini_oms
