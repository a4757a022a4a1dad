// mini_oms/line_protocol.hpp: the line protocol (docs/protocol.md): its grammar as pure
// functions (framing, parsing a request into an Order, formatting an Execution as its
// reply line) and LineCodec, the gateway's codec for connections on the line listener.
// The pure functions are allocation-free and unit-tested on their own (tests/mini_oms).
// May call: order.hpp; LineCodec calls its transport (admit, send, log_bad_input).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "order.hpp"
#include "records.hpp"

namespace mini_oms {

inline constexpr std::size_t kMaxLine = 256;  // bytes, counting '\r' and '\n'
inline constexpr std::size_t kMaxReply = 96;  // longest reply line we format

// ---- field parsers: exact grammar, no leading '+', no spaces, no overflow -------------
inline std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}
inline std::optional<std::int64_t> parse_i64(std::string_view s) noexcept {
  const bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  const auto u = parse_u64(s);
  if (!u) return std::nullopt;
  constexpr auto kMaxPos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (neg) {
    if (*u > kMaxPos + 1) return std::nullopt;
    return *u == kMaxPos + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(*u);
  }
  if (*u > kMaxPos) return std::nullopt;
  return static_cast<std::int64_t>(*u);
}

/// Splits at single spaces into at most N fields; returns the count, or N + 1 when there
/// are more fields (an empty field, from a double space, is kept as empty).
template <std::size_t N>
std::size_t split(std::string_view line, std::string_view (&out)[N]) noexcept {
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      if (n == N) return N + 1;
      out[n++] = line.substr(start, i - start);
      start = i + 1;
    }
  }
  return n;
}

/// What the I/O thread extracts: the req_id (to answer by) and the correlation id (to route
/// by). A correlation id that does not parse routes as uncorrelated; the parse stage then
/// rejects the whole request.
struct Header {
  std::optional<std::uint64_t> req_id;
  std::optional<std::int64_t> corr;
};
inline Header parse_header(std::string_view line) noexcept {
  Header h;
  const std::size_t sp = line.find(' ');
  h.req_id = parse_u64(line.substr(0, sp));
  if (!h.req_id || sp == std::string_view::npos) return h;
  const std::string_view rest = line.substr(sp + 1);
  h.corr = parse_i64(rest.substr(0, rest.find(' ')));
  return h;
}

/// For an over-long line: the req_id if the line starts with a complete valid one
/// (digits followed by a space).
inline std::optional<std::uint64_t> overlong_req_id(std::string_view prefix) noexcept {
  const std::size_t sp = prefix.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  return parse_u64(prefix.substr(0, sp));
}

/// The parse stage: the whole grammar. nullopt = BAD_MSG.
inline std::optional<Order> parse_request(std::string_view line) noexcept {
  std::string_view f[6];
  if (split(line, f) != 6) return std::nullopt;
  Order r;
  const auto id = parse_u64(f[0]);
  const auto corr = parse_i64(f[1]);
  const auto sym = hft::Symbol::parse(f[2]);
  if (!id || !corr || !sym) return std::nullopt;
  if (f[3] != "B" && f[3] != "S") return std::nullopt;
  const auto qty = parse_i64(f[4]);
  if (!qty || f[4].front() == '-' || *qty < 1 || *qty > kMaxQty) return std::nullopt;
  const auto px = hft::parse_price(f[5], kTick);
  if (!px || px->ticks() <= 0) return std::nullopt;
  r.req_id = *id;
  r.corr = *corr;
  r.symbol = *sym;
  r.side = f[3] == "B" ? hft::Side::Buy : hft::Side::Sell;
  r.qty = *qty;
  r.price = *px;
  return r;
}

// ---- reply text ------------------------------------------------------------------
namespace detail {
// Bounded appender: never writes past kMaxReply (replies are far shorter; the bound makes
// that evident to the reader and to the compiler).
struct Out {
  char* b = nullptr;
  std::size_t n = 0;
  void put(char c) noexcept {
    if (n < kMaxReply) b[n++] = c;
  }
  void put(std::string_view s) noexcept {
    for (const char c : s) put(c);
  }
  template <class I>
  void num(I v) noexcept {
    char t[24];
    const auto r = std::to_chars(t, t + sizeof t, v);
    put(std::string_view(t, static_cast<std::size_t>(r.ptr - t)));
  }
};
}  // namespace detail

/// notional / filled rounded half-up to 4 decimals, trailing zeros dropped; "0" when nothing
/// filled. Returns the length; out needs 32 bytes.
inline std::size_t format_avg_price(char* out, std::int64_t filled, hft::Notional notional_ticks) noexcept {
  if (filled == 0) {
    out[0] = '0';
    return 1;
  }
  const hft::Notional avg = (notional_ticks * 2 + filled) / (2 * static_cast<hft::Notional>(filled));  // half-up
  return hft::format_price(hft::Price::from_ticks(static_cast<std::int64_t>(avg)), kTick, out);
}

/// `<req_id> ACK <seq> <filled> <avg>`; avg = notional / filled rounded half-up to 4
/// decimals, trailing zeros dropped; "0" when nothing filled. Returns the length
/// (including '\n'); buf needs kMaxReply bytes.
inline std::size_t format_ack(char* buf, std::uint64_t req_id, std::uint64_t seq, std::int64_t filled,
                              hft::Notional notional_ticks) noexcept {
  detail::Out o{buf};
  o.num(req_id);
  o.put(" ACK ");
  o.num(seq);
  o.put(' ');
  o.num(filled);
  o.put(' ');
  char px[32];
  o.put(std::string_view(px, format_avg_price(px, filled, notional_ticks)));
  o.put('\n');
  return o.n;
}

/// `<req_id> REJ:<REASON>` or, without a req_id, `- REJ:<REASON>`.
inline std::size_t format_rej(char* buf, std::optional<std::uint64_t> req_id, Reason r) noexcept {
  detail::Out o{buf};
  if (req_id) {
    o.num(*req_id);
  } else {
    o.put('-');
  }
  o.put(" REJ:");
  o.put(reason_text(r));
  o.put('\n');
  return o.n;
}

/// The line protocol's encoding of an execution: its ACK or REJ line.
inline std::size_t format_execution(char* buf, const Execution& e) noexcept {
  return e.why == Reason::None ? format_ack(buf, e.req_id, e.seq, e.filled, e.notional)
                               : format_rej(buf, e.req_id, e.why);
}

/// The request line an order reads as (the journal's record of it), without '\n'; an
/// invalid order reads `<req_id> <corr> !`, a line parse_request refuses. buf: kMaxReply
/// bytes (the longest order line is 85).
inline std::size_t format_order(char* buf, const Order& o) noexcept {
  detail::Out w{buf};
  w.num(o.req_id);
  w.put(' ');
  w.num(o.corr);
  if (!o.valid) {
    w.put(" !");
    return w.n;
  }
  w.put(' ');
  w.put(o.symbol.view());
  w.put(o.side == hft::Side::Buy ? " B " : " S ");
  w.num(o.qty);
  w.put(' ');
  char px[32];
  w.put(std::string_view(px, hft::format_price(o.price, kTick, px)));
  return w.n;
}

/// The line codec's decode: a framed line into the order it asks for. A line whose req_id
/// does not parse has no order (nullopt: the gateway answers `- REJ:BAD_MSG` itself); any
/// other malformed line is an invalid order, routed by the correlation id it names (or
/// uncorrelated when that does not parse either).
inline std::optional<Order> decode_line(std::string_view line) noexcept {
  if (auto o = parse_request(line)) return o;
  const Header h = parse_header(line);
  if (!h.req_id) return std::nullopt;
  Order bad;
  bad.req_id = *h.req_id;
  bad.corr = h.corr.value_or(-1);
  bad.valid = false;
  return bad;
}

// ---- framing ---------------------------------------------------------------------
/// Per-connection line assembly. feed() consumes bytes and calls on_line(line) for every
/// complete line (without '\n' and a trailing '\r') and on_overlong(prefix) once per line
/// that reaches 256 bytes without a newline; the rest of such a line is skipped.
class LineFramer {
 public:
  template <class OnLine, class OnOverlong>
  void feed(const char* data, std::size_t n, OnLine&& on_line, OnOverlong&& on_overlong) {
    std::size_t i = 0;
    while (i < n) {
      if (skipping_) {
        const void* nl = std::memchr(data + i, '\n', n - i);
        if (!nl) return;
        i = static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
        skipping_ = false;
        continue;
      }
      const std::size_t room = kMaxLine - len_;  // bytes this line may still take, '\n' included
      const std::size_t take = std::min(room, n - i);
      const void* nl = std::memchr(data + i, '\n', take);
      if (nl) {
        const auto upto = static_cast<std::size_t>(static_cast<const char*>(nl) - (data + i));
        std::string_view line;
        if (len_ == 0) {
          line = std::string_view(data + i, upto);  // whole line in this chunk: no copy
        } else {
          std::memcpy(buf_ + len_, data + i, upto);
          line = std::string_view(buf_, len_ + upto);
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        len_ = 0;
        i += upto + 1;
        on_line(line);
        continue;
      }
      std::memcpy(buf_ + len_, data + i, take);
      len_ += take;
      i += take;
      if (len_ == kMaxLine) {  // 256 bytes and no newline among them
        on_overlong(std::string_view(buf_, len_));
        len_ = 0;
        skipping_ = true;
      }
    }
  }
  void reset() noexcept {
    len_ = 0;
    skipping_ = false;
  }

 private:
  char buf_[kMaxLine]{};  // once per connection
  std::size_t len_ = 0;
  bool skipping_ = false;
};

// ---- the codec -----------------------------------------------------------------------------
/// The line protocol at the gateway: one per I/O thread (transport.hpp's Codec), every
/// connection accepted on the line listener. Decode: a framed line -> decode_line -> an
/// Order admitted through the transport; a line with no req_id, an overlong one, or an
/// admission reject is answered here at once. Encode: an Execution -> format_execution.
/// Bad input is logged (rate-limited, with the peer's address) by the transport.
template <class Gateway>
class LineCodec {
 public:
  explicit LineCodec(Gateway& gw) : gw_(gw), framers_(gw.pipeline().config().max_connections) {}
  LineCodec(const LineCodec&) = delete;
  LineCodec& operator=(const LineCodec&) = delete;

  void reset_slot(std::uint32_t) noexcept {}
  void on_accept(std::uint32_t slot) noexcept { framers_[slot].reset(); }
  void on_bytes(std::uint32_t slot, std::string_view bytes, std::uint64_t t_recv) {
    framers_[slot].feed(
        bytes.data(), bytes.size(),
        [&](std::string_view line) {
          if (gw_.is_open(slot)) on_line(slot, line, t_recv);  // not after a cut (slow reader)
        },
        [&](std::string_view prefix) {
          if (!gw_.is_open(slot)) return;
          bump(gw_.counters(slot), GwCount::Requests);
          bump(gw_.counters(slot), GwCount::RejectedBadMsg);
          gw_.log_bad_input(slot, "line over 256 bytes", prefix);
          reject(slot, overlong_req_id(prefix), Reason::BadMsg);
        });
  }
  void on_reply(std::uint32_t slot, const Execution& e) {
    char text[kMaxReply];
    gw_.send(slot, text, format_execution(text, e));
  }
  // A line connection's replies die with it: the client's re-send gets them (journal window).
  [[nodiscard]] bool on_gone_reply(std::uint32_t, std::uint32_t, const Execution&) noexcept { return false; }
  void on_close(std::uint32_t) noexcept {}
  [[nodiscard]] bool active() const noexcept { return false; }  // no timers
  void on_timer() noexcept {}
  void logout_all(std::string_view) noexcept {}
  void end_of_iteration() noexcept {}

 private:
  void on_line(std::uint32_t slot, std::string_view line, std::uint64_t t_recv) {
    bump(gw_.counters(slot), GwCount::Requests);
    const std::optional<Order> o = decode_line(line);
    if (!o) {
      bump(gw_.counters(slot), GwCount::RejectedBadMsg);
      gw_.log_bad_input(slot, "no req_id", line);
      reject(slot, std::nullopt, Reason::BadMsg);
      return;
    }
    // An invalid order still travels the pipeline (its BAD_MSG keeps its family's order).
    if (!o->valid) gw_.log_bad_input(slot, "malformed request", line);
    const Reason why = gw_.admit(slot, *o, t_recv);
    if (why != Reason::None) reject(slot, o->req_id, why);
  }
  void reject(std::uint32_t slot, std::optional<std::uint64_t> req_id, Reason why) {
    char out[kMaxReply];
    gw_.send(slot, out, format_rej(out, req_id, why));
  }

  Gateway& gw_;
  std::vector<LineFramer> framers_;  // by the transport's slot
};

}  // namespace mini_oms
