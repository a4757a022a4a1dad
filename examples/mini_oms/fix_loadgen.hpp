// mini_oms/fix_loadgen.hpp: a FIX 4.4 load generator and verifier for the --fix-port, built
// from the library's own fix::Session in the initiator role (no QuickFIX): the raw C++ FIX
// client the FIX loopback benchmark (mini_oms bench-fix) and the FIX no-allocation test use.
//
// One thread drives every connection with poll(), closed loop: `window` NewOrderSingles in
// flight per connection. Connection k logs on as <comp_id_prefix><k> with ResetSeqNumFlag=Y
// (so a later run may reuse the CompID), sends IOC limit orders like the line load
// generator's "mixed" scenario (six symbols within +-0.8% of their reference, 1-400
// shares, 20% without an Account, 1% over the quantity limit), and verifies, as violations:
//   - exactly one terminal ExecutionReport per order (OrdStatus 2, 4 or 8 with LeavesQty 0),
//     nothing for it afterwards;
//   - CumQty + LeavesQty = OrderQty on every report, and CumQty never decreasing;
//   - per Account, terminal reports in the order the orders were sent (an Account's orders
//     all use one connection);
//   - no Reject(3), no Logout before the end.
// Latency is the time from handing an order to the socket to its terminal report.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hft/fix/message_store.hpp"
#include "hft/fix/session.hpp"
#include "hft/fix/tags.hpp"
#include "loadgen.hpp"
#include "net.hpp"

namespace mini_oms {

struct FixLoadConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string target_comp_id = "HFTOMS";  // the server's --fix-comp-id
  std::string comp_id_prefix = "LOAD";
  unsigned connections = 4;
  unsigned window = 64;  // orders in flight per connection
  std::uint64_t orders = 20'000;
  unsigned accounts = 1000;   // families; an Account always uses the same connection
  std::uint64_t id_base = 1;  // ClOrdIDs are "<prefix><id>": a server remembers them per CompID
  double timeout_s = 20;      // without progress
  std::uint64_t seed = 1;
};

namespace detail_flg {

namespace tag = hft::fix::tag;

struct SentOrder {
  std::string clordid, account;
  int account_idx = -1;
  std::size_t symbol = 0;
  bool buy = true;
  std::int64_t qty = 0;
  std::string price;
  std::uint64_t sent_ns = 0;
  std::int64_t cum = 0;
  bool done = false;
};

struct Conn;

// The fix::Session handler: bytes out to the connection's buffer, reports into the verifier.
struct Handler {
  Conn* conn = nullptr;
  void send(std::string_view w);
  void on_app_message(const hft::fix::Message& m);
  void on_event(const hft::fix::SessionEvent& e);
};

struct Conn {
  int fd = -1;
  std::vector<SentOrder> orders;  // in send order
  // ClOrdID "<prefix><id_base + i>" -> (connection, index in orders) of order i: reports are
  // matched without a string map, so the client costs little beside the server.
  const std::vector<std::pair<Conn*, std::uint32_t>>* where = nullptr;
  std::string_view prefix;
  std::uint64_t id_base = 0;
  std::vector<std::int64_t>* last_done_of_account = nullptr;  // index of each Account's last terminal order
  std::size_t next = 0, in_flight = 0, done = 0;
  std::string out;
  std::size_t out_at = 0;  // written up to here
  bool logged_on = false, ended = false, logout_done = false;
  LoadResult* res = nullptr;
  Handler handler;
  std::unique_ptr<hft::fix::InMemoryMessageStore> store;
  std::unique_ptr<hft::fix::Session<Handler, hft::fix::UtcClock>> session;
};

inline void Handler::send(std::string_view w) { conn->out.append(w); }

inline void Handler::on_event(const hft::fix::SessionEvent& e) {
  using K = hft::fix::SessionEventKind;
  if (e.kind == K::LoggedOn) conn->logged_on = true;
  if (e.kind == K::RejectReceived) conn->res->violation("Reject(3) from the server: " + std::string(e.text));
  if (e.kind == K::Disconnect) {
    conn->ended = true;
    if (conn->done < conn->orders.size() || !conn->logout_done)
      conn->res->violation("session ended early: " + std::string(e.text));
  }
}

inline void Handler::on_app_message(const hft::fix::Message& m) {
  LoadResult& res = *conn->res;
  if (m.msg_type() != hft::fix::msg_type::kExecutionReport) {
    res.violation("unexpected MsgType " + std::string(m.msg_type()));
    return;
  }
  const std::string_view id = m.get(tag::kClOrdID);
  std::uint64_t n = 0;
  const bool numbered =
      id.size() > conn->prefix.size() && id.substr(0, conn->prefix.size()) == conn->prefix &&
      std::from_chars(id.data() + conn->prefix.size(), id.data() + id.size(), n).ptr == id.data() + id.size();
  if (!numbered || n < conn->id_base || n - conn->id_base >= conn->where->size() ||
      (*conn->where)[n - conn->id_base].first != conn) {
    res.violation("report for an unknown ClOrdID " + std::string(id));
    return;
  }
  const std::uint32_t local = (*conn->where)[n - conn->id_base].second;
  SentOrder& o = conn->orders[local];
  const auto cum = m.get_int(tag::kCumQty), leaves = m.get_int(tag::kLeavesQty);
  const char status = m.get_char(tag::kOrdStatus);
  if (o.done) {
    res.violation("a report after the terminal one for " + o.clordid);
    return;
  }
  if (!cum || !leaves || *cum + *leaves != (status == '8' || status == '4' ? *cum : o.qty) || *cum < o.cum)
    res.violation("quantities of " + o.clordid + ": CumQty " + std::string(m.get(tag::kCumQty)) + " LeavesQty " +
                  std::string(m.get(tag::kLeavesQty)) + " OrderQty " + std::to_string(o.qty));
  if (cum) o.cum = *cum;
  if (status != '2' && status != '4' && status != '8') return;  // a partial fill: the cancel follows
  o.done = true;
  ++conn->done;
  --conn->in_flight;
  ++res.replies;
  const char exec = m.get_char(tag::kExecType);
  const char* kind = status == '8' ? nullptr : status == '2' ? "FILLED" : o.cum > 0 ? "PARTIAL+CANCELED" : "CANCELED";
  if (kind != nullptr) {
    ++res.by_type[kind];
  } else {
    const std::string_view text = m.get(tag::kText);
    ++res.by_type["REJ:" + std::string(text.substr(0, text.find(':')))];
  }
  if (exec != (status == '2' ? 'F' : status == '4' ? '4' : '8'))
    res.violation("ExecType " + std::string(1, exec) + " with OrdStatus " + std::string(1, status));
  res.rtt.record(detail_lg::now_ns() - o.sent_ns);
  if (o.account_idx >= 0) {
    std::int64_t& last = (*conn->last_done_of_account)[static_cast<std::size_t>(o.account_idx)];
    if (last > static_cast<std::int64_t>(local))
      res.violation("Account " + o.account + ": " + o.clordid + " finished out of order");
    last = local;
  }
}

inline const char* const kFixSymbols[] = {"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "XYZ"};

}  // namespace detail_flg

/// Runs the load; throws std::runtime_error when a connection cannot be made.
inline LoadResult run_fix_load(const FixLoadConfig& cfg) {
  using namespace detail_flg;
  LoadResult res;
  res.scenario = "fix";
  std::mt19937_64 rng(cfg.seed);
  const unsigned nconn = std::max(1u, cfg.connections);
  std::vector<std::unique_ptr<Conn>> conns;
  for (unsigned k = 0; k < nconn; ++k) conns.push_back(std::make_unique<Conn>());
  std::vector<std::pair<Conn*, std::uint32_t>> where(cfg.orders);
  std::vector<std::int64_t> last_done_of_account(std::max(1u, cfg.accounts), -1);

  // 1. The orders, per connection, in send order.
  for (std::uint64_t i = 0; i < cfg.orders; ++i) {
    SentOrder o;
    o.clordid = cfg.comp_id_prefix + std::to_string(cfg.id_base + i);
    unsigned c = static_cast<unsigned>(i % nconn);
    if (rng() % 5 != 0) {
      const unsigned a = static_cast<unsigned>(rng() % std::max(1u, cfg.accounts));
      o.account = "A" + std::to_string(a);
      o.account_idx = static_cast<int>(a);
      c = a % nconn;
    }
    o.symbol = rng() % 6;
    o.buy = rng() % 2 != 0;
    o.qty = 1 + static_cast<std::int64_t>(rng() % 400);
    const double px = detail_lg::kRefs[o.symbol] * (1.0 + (static_cast<double>(rng() % 161) - 80.0) / 10'000.0);
    o.price = detail_lg::price_text(px);
    if (rng() % 100 == 0) o.qty = 2'000'000;  // RISK_QTY
    Conn& conn = *conns[c];
    where[i] = {&conn, static_cast<std::uint32_t>(conn.orders.size())};
    conn.orders.push_back(std::move(o));
  }
  for (const auto& c : conns) res.requests += c->orders.size();

  // 2. Connect and log on.
  const hft::fix::UtcClock clock;
  for (unsigned k = 0; k < nconn; ++k) {
    Conn& c = *conns[k];
    c.res = &res;
    c.handler.conn = &c;
    c.where = &where;
    c.prefix = cfg.comp_id_prefix;
    c.id_base = cfg.id_base;
    c.last_done_of_account = &last_done_of_account;
    c.fd = net::connect_tcp(cfg.host, cfg.port, true);
    hft::fix::SessionConfig sc;
    sc.role = hft::fix::SessionRole::Initiator;
    sc.sender_comp_id = cfg.comp_id_prefix + std::to_string(k);
    sc.target_comp_id = cfg.target_comp_id;
    sc.heartbeat_interval_s = 30;
    sc.reset_on_logon = true;
    // The client is the instrument, not what is measured: it checks every report's fields
    // itself (verify), and on a 2-core machine the dictionary's validation of each report
    // would be client CPU taken from the server under test. The server validates every order.
    sc.dictionary = nullptr;
    c.store = std::make_unique<hft::fix::InMemoryMessageStore>(1u << 12, 1u << 20);
    c.session = std::make_unique<hft::fix::Session<Handler, hft::fix::UtcClock>>(sc, *c.store, c.handler, clock);
    c.session->start();
  }

  // 3. Drive.
  std::vector<pollfd> pfds(nconn);
  std::vector<char> rbuf(1 << 16);
  const std::uint64_t t0 = detail_lg::now_ns();
  std::uint64_t last_progress = t0, last_timer = t0, finished_at = 0;
  const auto timeout = static_cast<std::uint64_t>(cfg.timeout_s * 1e9);
  std::uint64_t done_total = 0;
  auto all_ended = [&] { return std::all_of(conns.begin(), conns.end(), [](const auto& c) { return c->ended; }); };
  while (!all_ended()) {
    const std::uint64_t now = detail_lg::now_ns();
    for (auto& cp : conns) {
      Conn& c = *cp;
      while (c.logged_on && !c.ended && c.in_flight < cfg.window && c.next < c.orders.size()) {
        SentOrder& o = c.orders[c.next++];
        o.sent_ns = now;
        ++c.in_flight;
        const std::uint64_t seq = c.session->send_app(hft::fix::msg_type::kNewOrderSingle, [&](auto& b) {
          b.add(tag::kClOrdID, o.clordid);
          if (!o.account.empty()) b.add(tag::kAccount, o.account);
          b.add(tag::kSymbol, kFixSymbols[o.symbol]);
          b.add_char(tag::kSide, o.buy ? '1' : '2');
          b.add(tag::kOrderQty, o.qty);
          b.add_char(tag::kOrdType, '2');
          b.add(tag::kPrice, o.price);
          b.add_char(tag::kTimeInForce, '3');
          b.add_timestamp(tag::kTransactTime, clock.now_ns());
        });
        if (seq == 0) res.violation("NewOrderSingle not sent for " + o.clordid);
      }
      if (c.logged_on && !c.ended && c.done == c.orders.size() &&
          c.session->state() == hft::fix::SessionState::LoggedOn) {
        c.logout_done = true;
        c.session->logout();
      }
    }
    std::uint64_t done_now = 0;
    for (auto& c : conns) done_now += c->done;
    if (done_now != done_total) {
      done_total = done_now;
      last_progress = now;
      if (done_total == res.requests && finished_at == 0) finished_at = now;
    }
    if (now - last_progress > timeout) {
      res.violation("no progress for " + std::to_string(cfg.timeout_s) + " s: " + std::to_string(done_total) + " of " +
                    std::to_string(res.requests) + " orders finished");
      break;
    }
    if (now - last_timer > 100'000'000) {
      last_timer = now;
      for (auto& c : conns) c->session->on_timer();
    }
    for (unsigned k = 0; k < nconn; ++k) {
      Conn& c = *conns[k];
      while (c.out_at < c.out.size() && c.fd >= 0) {
        const ssize_t w = ::write(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at);
        if (w <= 0) break;
        c.out_at += static_cast<std::size_t>(w);
      }
      if (c.out_at == c.out.size()) {
        c.out.clear();
        c.out_at = 0;
      }
      pfds[k] = {c.ended ? -1 : c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0};
    }
    if (::poll(pfds.data(), nconn, 10) < 0) continue;
    for (unsigned k = 0; k < nconn; ++k) {
      Conn& c = *conns[k];
      if (pfds[k].revents == 0) continue;
      for (;;) {
        const ssize_t r = ::read(c.fd, rbuf.data(), rbuf.size());
        if (r > 0) {
          c.session->on_bytes(std::string_view(rbuf.data(), static_cast<std::size_t>(r)));
          if (static_cast<std::size_t>(r) < rbuf.size()) break;
          continue;
        }
        if (r == 0) c.session->disconnect("server closed the connection");
        break;
      }
    }
  }
  res.seconds = static_cast<double>((finished_at ? finished_at : detail_lg::now_ns()) - t0) / 1e9;
  for (auto& c : conns) {
    if (c->fd >= 0) ::close(c->fd);
    for (const SentOrder& o : c->orders)
      if (!o.done) {
        res.violation("no terminal report for " + o.clordid);
        break;
      }
  }
  return res;
}

}  // namespace mini_oms
