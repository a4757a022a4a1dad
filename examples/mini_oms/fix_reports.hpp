// mini_oms/fix_reports.hpp: a FIX order's way out (docs/fix.md, "The mini-OMS FIX
// acceptor"): the pipeline's reply -> its ExecutionReport(s), and the OrderID/ExecID prefix
// those carry.
//
// Owns: ParsedReply, read from a reply line (parse_reply_line) or straight from an
// Execution (report_of); an order's report fields and reports (add_order_fields,
// write_reports), each written as a template: literal tags, only the values copied
// (ReportBody, handed to the builder's add_raw); fix_id_base, the OrderID/ExecID prefix
// unique per start (a journaled boot epoch, next_boot_epoch, or a random nonce, random_nonce).
// May call: fix_order_map.hpp (FixOrder, OrdRejReason, echoable_*), hft::fix's
// MessageBuilder, line_protocol.hpp (split, parse_u64, parse_i64, reason_text,
// format_avg_price); next_boot_epoch: the filesystem (<journal>/fix/boot_epoch);
// random_nonce: getrandom(2).
#pragma once

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "fix_order_map.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/tags.hpp"
#include "line_protocol.hpp"

namespace mini_oms {

/// A pipeline reply, read back: "<req_id> ACK <seq> <filled> <avg>" or "<req_id> REJ:<REASON>".
struct ParsedReply {
  std::uint64_t req_id = 0;
  bool ack = false;
  std::int64_t filled = 0;
  std::string_view avg;     // decimal text, "0" when nothing filled
  std::string_view reason;  // "RISK_QTY", ...
  Reason why = Reason::None;
};
inline std::optional<ParsedReply> parse_reply_line(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::string_view f[5];
  const std::size_t n = split(line, f);
  ParsedReply r;
  const auto id = parse_u64(f[0]);
  if (!id || n < 2) return std::nullopt;
  r.req_id = *id;
  if (n == 5 && f[1] == "ACK") {
    const auto filled = parse_i64(f[3]);
    if (!filled) return std::nullopt;
    r.ack = true;
    r.filled = *filled;
    r.avg = f[4];
    return r;
  }
  if (n == 2 && f[1].substr(0, 4) == "REJ:") {
    r.reason = f[1].substr(4);
    for (const Reason w : {Reason::Busy, Reason::BadMsg, Reason::RiskQty, Reason::RiskPrice, Reason::RiskNotional,
                           Reason::RiskRate, Reason::FamilyFull, Reason::Shutdown})
      if (reason_text(w) == r.reason) r.why = w;
    return r;
  }
  return std::nullopt;
}

/// What the reports of an order say, straight from the pipeline's Execution (no text in
/// between); `avg` holds the average price's text.
inline ParsedReply report_of(const Execution& e, char (&avg)[32]) noexcept {
  ParsedReply r;
  r.req_id = e.req_id;
  r.ack = e.why == Reason::None;
  r.filled = e.filled;
  r.avg = std::string_view(avg, format_avg_price(avg, e.filled, e.notional));
  r.reason = reason_text(e.why);
  r.why = e.why;
  return r;
}

/// An ExecutionReport's body written as a template: each field's "tag=" is a literal in the
/// report's fixed field order, and only the values are copied in, so a report costs memcpys
/// instead of one MessageBuilder::add (tag formatting, checks) per field. The builder gets
/// the result in one add_raw. A value that is empty, or a price that does not format, marks
/// the body bad: the report is then not sent, as MessageBuilder::add would have refused it.
/// Values come from a parsed message or from this file, so none holds SOH.
// buf is written before it is read (its first n bytes): no zeroing of 512 bytes per report.
struct ReportBody {  // NOLINT(cppcoreguidelines-pro-type-member-init)
  char buf[512];
  std::size_t n = 0;
  bool bad = false;

  /// Appends `lit` ("<tag>=") and then `v` and SOH.
  void field(std::string_view lit, std::string_view v) noexcept {
    if (v.empty() || n + lit.size() + v.size() + 1 > sizeof buf) {
      bad = true;
      return;
    }
    std::memcpy(buf + n, lit.data(), lit.size());
    std::memcpy(buf + n + lit.size(), v.data(), v.size());
    n += lit.size() + v.size();
    buf[n++] = '\x01';
  }
  void field(std::string_view lit, std::int64_t v) noexcept {
    char d[24];
    field(lit, std::string_view(d, static_cast<std::size_t>(std::to_chars(d, d + sizeof d, v).ptr - d)));
  }
  void field_char(std::string_view lit, char c) noexcept { field(lit, std::string_view(&c, 1)); }
  [[nodiscard]] std::string_view view() const noexcept { return {buf, n}; }
};

/// The fields every ExecutionReport of `o` carries, after the session's header. An order
/// that executed carries what it was mapped to; a reject (ExecType 8) echoes what the order
/// sent in Side, OrderQty, OrdType, Price and TimeInForce, and omits each one it did not
/// send or sent in a form a report cannot carry (echoable_char, echoable_number).
inline void add_order_fields(ReportBody& b, const FixOrder& o, std::string_view order_id, std::string_view exec_id,
                             char exec_type, char ord_status) {
  b.field("37=", order_id);  // OrderID
  if (o.clordid_len != 0) b.field("11=", o.cl_ord_id());
  if (o.account_len != 0) b.field("1=", o.acct());
  b.field("17=", exec_id);  // ExecID
  b.field_char("150=", exec_type);
  b.field_char("39=", ord_status);
  b.field("55=", o.symbol.view().empty() ? std::string_view("NONE") : o.symbol.view());
  if (exec_type != '8') {
    b.field("54=", o.side == hft::Side::Buy ? std::string_view("1") : std::string_view("2"));
    b.field("38=", o.qty);
    char px[24];
    b.field(
        "40=2\x01"
        "44=",
        std::string_view(px, hft::format_price(o.price, kTick, px)));  // OrdType limit, Price
    b.field("59=", "3");                                               // TimeInForce IOC
    return;
  }
  if (echoable_char(o.side_sent, kFix44Sides)) b.field_char("54=", o.side_sent);
  if (echoable_number(o.qty_sent())) b.field("38=", o.qty_sent());
  if (echoable_char(o.ord_type_sent, kFix44OrdTypes)) b.field_char("40=", o.ord_type_sent);
  if (echoable_number(o.price_sent())) b.field("44=", o.price_sent());
  if (echoable_char(o.tif_sent, kFix44TimesInForce)) b.field_char("59=", o.tif_sent);
}

/// Sends `body`, then TransactTime(60) at `now_ns`, then `tail` (pre-formatted fields, may
/// be empty) through the session's builder. A bad body or tail makes the builder refuse the
/// report: nothing is sent.
inline void add_report(hft::fix::MessageBuilder& b, const ReportBody& body, std::uint64_t now_ns,
                       std::string_view tail = {}, bool tail_bad = false) {
  if (body.bad || tail_bad) {
    b.add(0, "x");  // InvalidTag: the report is not sent
    return;
  }
  b.add_raw(body.view()).add_timestamp(fixtag::kTransactTime, now_ns);
  if (!tail.empty()) b.add_raw(tail);
}

/// The ExecutionReports for one order, through `send(fill)` (the session's send_app with
/// MsgType 8): a reject (ExecType=8, OrdStatus=8, OrdRejReason, Text); or a Trade for the
/// executed quantity at its average price (OrdStatus 2 when all of it, else 1), then the
/// Canceled report for the remainder (OrdStatus 4), which is the only report when nothing
/// filled. Returns how many it sent.
/// OrderID is `order_id`; each report's ExecID is `order_id` + "." + 0 (reject), 1 (trade)
/// or 2 (cancel).
template <class Send>
int write_reports(Send&& send, const FixOrder& o, std::string_view order_id, const ParsedReply* rep, OrdRejReason rej,
                  std::string_view rej_text, std::uint64_t now_ns) {
  char exec_id[80];
  auto exec = [&](int k) {
    const std::size_t n = std::min<std::size_t>(order_id.size(), sizeof exec_id - 2);
    std::memcpy(exec_id, order_id.data(), n);
    exec_id[n] = '.';
    exec_id[n + 1] = static_cast<char>('0' + k);
    return std::string_view(exec_id, n + 2);
  };
  ReportBody body;
  if (rep == nullptr || !rep->ack) {
    add_order_fields(body, o, order_id, exec(0), '8', '8');
    body.field(
        "32=0\x01"
        "31=0\x01"
        "151=0\x01"
        "14=0\x01"
        "6=",
        "0");  // LastQty .. AvgPx
    ReportBody tail;
    tail.field("103=", static_cast<std::int64_t>(rej));  // OrdRejReason
    tail.field("58=", rej_text);                         // Text
    send([&](hft::fix::MessageBuilder& b) { add_report(b, body, now_ns, tail.view(), tail.bad); });
    return 1;
  }
  int sent = 0;
  if (rep->filled > 0) {
    const bool all = rep->filled >= o.qty;
    add_order_fields(body, o, order_id, exec(1), 'F', all ? '2' : '1');
    body.field("32=", rep->filled);  // LastQty
    body.field("31=", rep->avg);     // LastPx
    body.field("151=", all ? 0 : o.qty - rep->filled);
    body.field("14=", rep->filled);  // CumQty
    body.field("6=", rep->avg);      // AvgPx
    send([&](hft::fix::MessageBuilder& b) { add_report(b, body, now_ns); });
    ++sent;
    if (all) return sent;
    body.n = 0;
  }
  add_order_fields(body, o, order_id, exec(2), '4', '4');
  body.field(
      "32=0\x01"
      "31=0\x01"
      "151=0\x01"
      "14=",
      rep->filled);            // LastQty, LastPx, LeavesQty, CumQty
  body.field("6=", rep->avg);  // AvgPx
  send([&](hft::fix::MessageBuilder& b) { add_report(b, body, now_ns, "58=IOC: remainder canceled\x01"); });
  return sent + 1;
}

// ---- OrderIDs and ExecIDs unique across restarts ----------------------------------------
// An OrderID is "<base><gateway>-<n>", n counting from 1 in each gateway; its ExecIDs add
// ".0", ".1" or ".2". The base is what makes them unique across starts, and it never comes
// from the clock (two starts within a second, or a clock stepped back, would repeat it):
//   --journal: "E<epoch>-", a boot epoch kept in <journal>/fix/boot_epoch, incremented and
//              made durable before the FIX port opens (next_boot_epoch);
//   otherwise: "R<16 hex digits>-", a 64-bit nonce from getrandom(2).

[[noreturn]] inline void boot_epoch_fail(const std::string& path, const char* op, int err) {
  throw std::runtime_error("FIX boot epoch " + path + ": " + op + ": " +
                           std::generic_category().message(err));  // strerror is MT-unsafe
}

/// --journal: reads <journal_dir>/fix/boot_epoch (0 when there is none), writes the next
/// value durably (a temporary file, fsync, rename over the old one, fsync of the
/// directory) and returns it. Throws std::runtime_error when a step fails or the file does
/// not hold a number: a server that cannot be sure its epoch is new must not start.
inline std::uint64_t next_boot_epoch(const std::string& journal_dir) {
  const std::string dir = journal_dir + "/fix";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("FIX boot epoch: cannot create " + dir + ": " + ec.message());
  const std::string path = dir + "/boot_epoch";
  std::uint64_t epoch = 0;
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in >= 0) {
    char buf[32];
    const ssize_t n = ::read(in, buf, sizeof buf);
    const int err = errno;
    ::close(in);
    if (n < 0) boot_epoch_fail(path, "read", err);
    const std::string_view text(buf, static_cast<std::size_t>(n));
    const auto end = text.find('\n');
    const auto v = parse_u64(text.substr(0, end));
    if (!v || end == std::string_view::npos || *v == std::numeric_limits<std::uint64_t>::max())
      throw std::runtime_error("FIX boot epoch " + path + ": not a number and a newline: refusing to start");
    epoch = *v;
  } else if (errno != ENOENT) {
    boot_epoch_fail(path, "open", errno);
  }
  ++epoch;
  char line[32];
  const auto r = std::to_chars(line, line + sizeof line - 1, epoch);
  *r.ptr = '\n';
  const auto len = static_cast<std::size_t>(r.ptr + 1 - line);
  const std::string tmp = path + ".tmp";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) boot_epoch_fail(tmp, "open", errno);
  const bool written = ::write(out, line, len) == static_cast<ssize_t>(len) && ::fsync(out) == 0;
  const int err = errno;
  ::close(out);
  if (!written) boot_epoch_fail(tmp, "write/fsync", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) boot_epoch_fail(path, "rename", errno);
  const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) boot_epoch_fail(dir, "open", errno);
  const bool synced = ::fsync(d) == 0;
  const int derr = errno;
  ::close(d);
  if (!synced) boot_epoch_fail(dir, "fsync", derr);
  return epoch;
}

/// 64 random bits from getrandom(2). Throws std::runtime_error when the kernel has none.
inline std::uint64_t random_nonce() {
  std::uint64_t v = 0;
  for (;;) {
    const ssize_t n = ::getrandom(&v, sizeof v, 0);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno != EINTR) throw std::runtime_error("getrandom: " + std::generic_category().message(errno));
  }
}

/// The OrderID base of this start: "E<epoch>-" with a journal (next_boot_epoch), else
/// "R<16 hex digits>-" (random_nonce). Throws when neither can be had.
inline std::string fix_id_base(const std::string& journal_dir) {
  if (!journal_dir.empty()) return "E" + std::to_string(next_boot_epoch(journal_dir)) + "-";
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint64_t nonce = random_nonce();
  std::string s = "R";
  for (int shift = 60; shift >= 0; shift -= 4) s += kHex[(nonce >> shift) & 15];
  return s + "-";
}

}  // namespace mini_oms
