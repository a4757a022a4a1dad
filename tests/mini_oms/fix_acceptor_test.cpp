// The mini-OMS FIX acceptor's own rules (fix_protocol.hpp, fix_orders.hpp, fix_order_map.hpp; docs/fix.md, "The
// mini-OMS FIX acceptor"), byte by byte over TCP where a rule is about the port:
//   - OrderIDs and ExecIDs unique across starts within one second and with the clock
//     unchanged: a random base without --journal, a durable boot epoch with it;
//   - a reject ExecutionReport echoes what the order carried, and omits what it did not;
//   - --fix-peers: a Logon from an unlisted SenderCompID gets the close without a reply, and
//     leaves no state;
//   - a refused Logon leaves the registry (and, with --journal, the disk) as it was;
//   - a value-level violation the session's dictionary finds in an application message is
//     answered at the business level: ExecutionReport, OrderCancelReject or BMR.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "fix_protocol.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/message.hpp"
#include "server.hpp"

using namespace std::chrono_literals;
using hft::test::TempDir;

namespace {

namespace tag = hft::fix::tag;
using Fields = std::map<std::uint32_t, std::string>;
using Body = std::vector<std::pair<std::uint32_t, std::string>>;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A FIX peer written byte by byte: it sends what it is told and reads what comes back,
// checking nothing itself. `seq` is its next MsgSeqNum (kept across connections by the caller).
class RawFix {
 public:
  RawFix(std::uint16_t port, std::string sender) : us_(std::move(sender)) {
    fd_ = mini_oms::net::connect_tcp("127.0.0.1", port, false);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawFix() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawFix(const RawFix&) = delete;
  RawFix& operator=(const RawFix&) = delete;

  void send(std::string_view type, const Body& body, const Body& header = {}) {
    char buf[4096];
    hft::fix::MessageBuilder b(buf);
    b.start(type).add(tag::kSenderCompID, us_).add(tag::kTargetCompID, "HFTOMS").add(tag::kMsgSeqNum, seq++);
    b.add_timestamp(tag::kSendingTime, now_ns());
    for (const auto& [t, v] : header) b.add(t, v);
    for (const auto& [t, v] : body) b.add(t, v);
    const std::string_view w = b.finish();
    REQUIRE(!w.empty());
    REQUIRE(::send(fd_, w.data(), w.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(w.size()));
  }
  bool send_raw(std::string_view w) {
    return ::send(fd_, w.data(), w.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(w.size());
  }
  void logon(const Body& header = {}) { send("A", {{tag::kEncryptMethod, "0"}, {tag::kHeartBtInt, "30"}}, header); }

  /// The next message, or nullopt at the close or after 5 s.
  std::optional<Fields> read() {
    for (;;) {
      hft::fix::Message m;
      const auto r = hft::fix::parse(in_, m);
      if (r.ok()) {
        Fields f;
        for (const auto& fld : m.fields()) f.emplace(fld.tag, std::string(m.value(fld)));
        in_.erase(0, r.consumed);
        return f;
      }
      if (r.status != hft::fix::ParseStatus::Incomplete) {
        in_.erase(0, r.consumed != 0 ? r.consumed : 1);
        continue;
      }
      char b[4096];
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) {
        closed_ = n == 0;
        return std::nullopt;
      }
      in_.append(b, static_cast<std::size_t>(n));
    }
  }
  /// The next message of type `type`, skipping others (heartbeats, ...).
  std::optional<Fields> read_type(std::string_view type) {
    for (auto f = read(); f; f = read())
      if ((*f)[tag::kMsgType] == type) return f;
    return std::nullopt;
  }
  /// True when the acceptor closes the connection (after whatever it still sends).
  /// Closes with a reset (SO_LINGER 0), as a dying peer or a cut network looks: the acceptor
  /// reads an error, not the end of a half-closed stream it would still answer.
  void abort() {
    const linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }
  bool wait_closed() {
    while (read()) {
    }
    return closed_;
  }
  std::uint64_t seq = 1;

 private:
  int fd_ = -1;
  std::string us_;
  std::string in_;
  bool closed_ = false;
};

mini_oms::ServerConfig fix_config(const std::string& journal = {}) {
  mini_oms::ServerConfig c;
  c.partitions = 1;
  c.workers = 1;
  c.ring_size = 1024;
  c.family_table = 1u << 10;
  c.fix_port = 0;
  c.journal_dir = journal;
  return c;
}

std::string price_text(hft::Price p) {
  char b[32];
  return {b, hft::format_price(p, mini_oms::kTick, b)};
}

// A limit IOC buy of 10 AAPL that fills (within the venue's sixth level).
Body good_order(const std::string& clordid, const std::string& account = "ACC0") {
  const hft::Price px = mini_oms::venue_level_price(hft::Price::from_ticks(1872500), hft::Side::Sell, 6);
  Body b{{tag::kClOrdID, clordid}};
  if (!account.empty()) b.emplace_back(tag::kAccount, account);
  b.insert(b.end(), {{tag::kSymbol, "AAPL"},
                     {tag::kSide, "1"},
                     {tag::kTransactTime, "20260101-00:00:00.000"},
                     {tag::kOrderQty, "10"},
                     {tag::kOrdType, "2"},
                     {tag::kPrice, price_text(px)},
                     {tag::kTimeInForce, "3"}});
  return b;
}

// The ExecutionReports of `clordid` up to its final one (OrdStatus 2, 4 or 8).
std::vector<Fields> reports_until_final(RawFix& c, const std::string& clordid) {
  std::vector<Fields> out;
  while (auto f = c.read_type("8")) {
    if ((*f)[tag::kClOrdID] != clordid) continue;
    out.push_back(*f);
    const std::string st = (*f)[tag::kOrdStatus];
    if (st == "2" || st == "4" || st == "8") break;
  }
  return out;
}

// One start of a server: a peer logs on, sends `orders` orders; their OrderIDs and ExecIDs.
struct Ids {
  std::set<std::string> order_ids, exec_ids;
};
Ids one_start(const mini_oms::ServerConfig& cfg, const std::string& run, std::uint64_t& seq) {
  Ids ids;
  mini_oms::Server server(cfg);
  server.start();
  {
    RawFix c(server.fix_port(), "IDS");
    c.seq = seq;
    c.logon();
    REQUIRE(c.read_type("A"));
    for (int k = 0; k < 3; ++k) {
      const std::string id = run + "-" + std::to_string(k);
      c.send("D", good_order(id));
      const auto reps = reports_until_final(c, id);
      REQUIRE(!reps.empty());
      for (const auto& r : reps) {
        ids.order_ids.insert(r.at(tag::kOrderID));
        ids.exec_ids.insert(r.at(tag::kExecID));
      }
    }
    seq = c.seq;
  }
  server.stop();
  return ids;
}

bool disjoint(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& x : a)
    if (b.count(x) != 0) return false;
  return true;
}

// Waits until the registry holds `n` CompIDs (it is updated after the close, at the end of
// the gateway's loop iteration).
bool registry_size_becomes(mini_oms::Server& s, std::size_t n) {
  for (int i = 0; i < 200; ++i) {
    if (s.fix_registry().size() == n) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

}  // namespace

// ---- OrderIDs and ExecIDs --------------------------------------------------------------------

TEST_CASE("fix_id_base: a random base without a journal, never the clock", "[fix_acceptor][ids]") {
  const std::string a = mini_oms::fix_id_base({});
  const std::string b = mini_oms::fix_id_base({});
  CHECK(a.size() == 18);
  CHECK(a.front() == 'R');
  CHECK(a.back() == '-');
  CHECK(a != b);
}

TEST_CASE("next_boot_epoch: incremented and durable per start, and a damaged file refuses to start",
          "[fix_acceptor][ids]") {
  const TempDir dir;
  CHECK(mini_oms::next_boot_epoch(dir.path()) == 1);
  CHECK(mini_oms::next_boot_epoch(dir.path()) == 2);
  CHECK(mini_oms::fix_id_base(dir.path()) == "E3-");
  {
    std::ifstream in(dir.path() + "/fix/boot_epoch");
    std::string line;
    std::getline(in, line);
    CHECK(line == "3");
  }
  CHECK(!std::filesystem::exists(dir.path() + "/fix/boot_epoch.tmp"));
  {
    std::ofstream out(dir.path() + "/fix/boot_epoch", std::ios::trunc);
    out << "garbage\n";
  }
  CHECK_THROWS_AS(mini_oms::next_boot_epoch(dir.path()), std::runtime_error);
  {
    std::ofstream out(dir.path() + "/fix/boot_epoch", std::ios::trunc);  // empty: a torn write
  }
  CHECK_THROWS_AS(mini_oms::next_boot_epoch(dir.path()), std::runtime_error);
  // A journal path that is a file: the epoch cannot be kept, the server does not start.
  const std::string file = dir.path() + "/plain";
  { std::ofstream out(file); }
  CHECK_THROWS(mini_oms::next_boot_epoch(file));
  mini_oms::ServerConfig cfg = fix_config(file);
  cfg.journal_dir.clear();  // the OMS journal itself is not what fails here
  mini_oms::Server server(cfg);
  CHECK_NOTHROW(server.start());
  server.stop();
}

TEST_CASE("two starts within a second, clock unchanged: OrderIDs and ExecIDs are disjoint", "[fix_acceptor][ids]") {
  std::uint64_t seq = 1;
  const Ids a = one_start(fix_config(), "A", seq);
  seq = 1;  // without a journal the session starts over
  const Ids b = one_start(fix_config(), "B", seq);
  REQUIRE(a.order_ids.size() == 3);
  REQUIRE(b.order_ids.size() == 3);
  CHECK(disjoint(a.order_ids, b.order_ids));
  CHECK(disjoint(a.exec_ids, b.exec_ids));
  for (const auto& id : a.order_ids) CHECK(id.rfind('R', 0) == 0);  // the random base, not the start time
}

TEST_CASE("with --journal a restart takes the next boot epoch: OrderIDs and ExecIDs stay unique",
          "[fix_acceptor][ids]") {
  const TempDir dir;
  const mini_oms::ServerConfig cfg = fix_config(dir.path());
  std::uint64_t seq = 1;  // the session continues across the restart: so do the client's numbers
  const Ids a = one_start(cfg, "A", seq);
  const Ids b = one_start(cfg, "B", seq);
  const Ids c = one_start(cfg, "C", seq);
  CHECK(disjoint(a.order_ids, b.order_ids));
  CHECK(disjoint(a.order_ids, c.order_ids));
  CHECK(disjoint(b.order_ids, c.order_ids));
  CHECK(disjoint(a.exec_ids, b.exec_ids));
  CHECK(disjoint(b.exec_ids, c.exec_ids));
  for (const auto& id : a.order_ids) CHECK(id.rfind("E1-0-", 0) == 0);
  for (const auto& id : c.order_ids) CHECK(id.rfind("E3-0-", 0) == 0);
}

TEST_CASE("a server whose boot epoch cannot be kept does not start", "[fix_acceptor][ids]") {
  const TempDir dir;
  mini_oms::ServerConfig cfg = fix_config(dir.path());
  {
    mini_oms::Server s(cfg);  // creates the journal
    s.start();
    s.stop();
  }
  {
    std::ofstream out(dir.path() + "/fix/boot_epoch", std::ios::trunc);
    out << "not a number\n";
  }
  mini_oms::Server s(cfg);
  CHECK_THROWS_AS(s.start(), std::runtime_error);
  CHECK(s.fix_port() == 0);  // the port never opened
}

// ---- a reject echoes what the order carried ----------------------------------------------------

namespace {
// map_new_order + write_reports for one NewOrderSingle body: the reject's fields.
Fields reject_of(const Body& body) {
  char in[1024];
  hft::fix::MessageBuilder b(in);
  b.start("D").add(tag::kSenderCompID, "C").add(tag::kTargetCompID, "HFTOMS").add(tag::kMsgSeqNum, 2);
  b.add_timestamp(tag::kSendingTime, now_ns());
  for (const auto& [t, v] : body) b.add(t, v);
  const std::string wire(b.finish());
  hft::fix::Message m;
  REQUIRE(hft::fix::parse(wire, m).ok());
  mini_oms::FixOrder o;
  const mini_oms::MapResult mr = mini_oms::map_new_order(m, o);
  REQUIRE(!mr.ok);
  char out[1024];
  hft::fix::MessageBuilder rb(out);
  std::string report;
  (void)mini_oms::write_reports(
      [&](auto&& fill) {
        rb.start("8").add(tag::kSenderCompID, "HFTOMS").add(tag::kTargetCompID, "C").add(tag::kMsgSeqNum, 2);
        fill(rb);
        report = std::string(rb.finish());
      },
      o, "R0-0-1", nullptr, mr.reason, mr.text, now_ns());
  hft::fix::Message r;
  REQUIRE(hft::fix::parse(report, r).ok());
  Fields f;
  for (const auto& fld : r.fields()) f.emplace(fld.tag, std::string(r.value(fld)));
  return f;
}
}  // namespace

TEST_CASE("a reject echoes Side, OrdType, TimeInForce, OrderQty and Price as sent, or omits them",
          "[fix_acceptor][echo]") {
  SECTION("no Side: none is made up; the rest as sent") {
    const Fields f = reject_of({{tag::kClOrdID, "X1"},
                                {tag::kSymbol, "AAPL"},
                                {tag::kOrderQty, "100.5"},
                                {tag::kOrdType, "1"},
                                {tag::kPrice, "187.25"},
                                {tag::kTimeInForce, "0"}});
    CHECK(f.at(tag::kExecType) == "8");
    CHECK(f.at(tag::kOrdStatus) == "8");
    CHECK(f.count(tag::kSide) == 0);
    CHECK(f.at(tag::kOrdType) == "1");      // was hard-coded 2
    CHECK(f.at(tag::kTimeInForce) == "0");  // was hard-coded 3
    CHECK(f.at(tag::kOrderQty) == "100.5");
    CHECK(f.at(tag::kPrice) == "187.25");
    CHECK(f.at(tag::kText).find("Side(54)") != std::string::npos);
  }
  SECTION("Sell with nothing else: only the Side is echoed") {
    const Fields f = reject_of({{tag::kClOrdID, "X2"}, {tag::kSymbol, "AAPL"}, {tag::kSide, "2"}});
    CHECK(f.at(tag::kSide) == "2");
    CHECK(f.count(tag::kOrdType) == 0);
    CHECK(f.count(tag::kTimeInForce) == 0);
    CHECK(f.count(tag::kOrderQty) == 0);
    CHECK(f.count(tag::kPrice) == 0);
  }
  SECTION("values no FIX 4.4 report may carry are omitted, not echoed") {
    const Fields f = reject_of({{tag::kClOrdID, "X3"},
                                {tag::kSymbol, "AAPL"},
                                {tag::kSide, "Z"},
                                {tag::kOrderQty, "1e5"},
                                {tag::kOrdType, "22"},
                                {tag::kPrice, "12..5"},
                                {tag::kTimeInForce, "9"}});
    for (const std::uint32_t t : {tag::kSide, tag::kOrderQty, tag::kOrdType, tag::kPrice, tag::kTimeInForce}) {
      INFO("tag " << t);
      CHECK(f.count(t) == 0);
    }
  }
  SECTION("a market order: OrdType 1 comes back, with the Side it had") {
    const Fields f = reject_of({{tag::kClOrdID, "X4"},
                                {tag::kSymbol, "AAPL"},
                                {tag::kSide, "2"},
                                {tag::kOrderQty, "10"},
                                {tag::kOrdType, "1"},
                                {tag::kTimeInForce, "3"}});
    CHECK(f.at(tag::kSide) == "2");
    CHECK(f.at(tag::kOrdType) == "1");
    CHECK(f.at(tag::kTimeInForce) == "3");
    CHECK(f.at(tag::kOrderQty) == "10");
    CHECK(f.count(tag::kPrice) == 0);
  }
}

TEST_CASE("echoable_number and echoable_char", "[fix_acceptor][echo]") {
  for (const char* ok : {"1", "-1", "1.", ".5", "100.25", "0"}) CHECK(mini_oms::echoable_number(ok));
  for (const char* bad : {"", "-", ".", "1.2.3", "1e5", "+1", " 1", "1,5"}) CHECK_FALSE(mini_oms::echoable_number(bad));
  CHECK(mini_oms::echoable_char('1', mini_oms::kFix44Sides));
  CHECK_FALSE(mini_oms::echoable_char('\0', mini_oms::kFix44Sides));
  CHECK_FALSE(mini_oms::echoable_char('Z', mini_oms::kFix44Sides));
}

TEST_CASE("invalid_field_text names the field and the problem, and invalid_field_reason picks OrdRejReason",
          "[fix_acceptor][invalid]") {
  char buf[mini_oms::kMaxReply];
  CHECK(mini_oms::invalid_field_text(buf, 54, "value out of range") == "BAD_MSG: Side(54): value out of range");
  CHECK(mini_oms::invalid_field_text(buf, 7777, "undefined") == "BAD_MSG: tag 7777: undefined");
  const std::string longer(200, 'x');
  CHECK(mini_oms::invalid_field_text(buf, 60, longer).size() == mini_oms::kMaxReply);
  CHECK(mini_oms::invalid_field_reason(38, false) == mini_oms::OrdRejReason::IncorrectQuantity);
  CHECK(mini_oms::invalid_field_reason(54, false) == mini_oms::OrdRejReason::UnsupportedOrderCharacteristic);
  CHECK(mini_oms::invalid_field_reason(40, false) == mini_oms::OrdRejReason::UnsupportedOrderCharacteristic);
  CHECK(mini_oms::invalid_field_reason(59, false) == mini_oms::OrdRejReason::UnsupportedOrderCharacteristic);
  CHECK(mini_oms::invalid_field_reason(54, true) == mini_oms::OrdRejReason::Other);
  CHECK(mini_oms::invalid_field_reason(60, false) == mini_oms::OrdRejReason::Other);
}

TEST_CASE("parse_peer_list", "[fix_acceptor][peers]") {
  CHECK(mini_oms::parse_peer_list("A") == std::vector<std::string>{"A"});
  CHECK(mini_oms::parse_peer_list("A,BB,c") == std::vector<std::string>{"A", "BB", "c"});
  CHECK_THROWS_AS(mini_oms::parse_peer_list(""), std::invalid_argument);
  CHECK_THROWS_AS(mini_oms::parse_peer_list("A,,B"), std::invalid_argument);
  CHECK_THROWS_AS(mini_oms::parse_peer_list("A,"), std::invalid_argument);
}

// ---- --fix-peers and refused Logons --------------------------------------------------------------

TEST_CASE("fix-peers: an unlisted SenderCompID gets the close without a reply, and leaves no state",
          "[fix_acceptor][peers]") {
  const bool journal = GENERATE(false, true);
  CAPTURE(journal);
  const TempDir dir;
  mini_oms::ServerConfig cfg = fix_config(journal ? dir.path() : std::string());
  cfg.fix_peers = {"GOOD", "ALSO"};
  mini_oms::Server server(cfg);
  server.start();
  {
    RawFix c(server.fix_port(), "EVIL");
    c.logon();
    CHECK_FALSE(c.read().has_value());  // nothing is said to a stranger (test case 1S.c)
    CHECK(c.wait_closed());
  }
  CHECK(registry_size_becomes(server, 0));
  if (journal) CHECK(!std::filesystem::exists(mini_oms::FixRegistry::session_dir(cfg.journal_dir, "EVIL")));
  {
    RawFix c(server.fix_port(), "ALSO");
    c.logon();
    const auto f = c.read();
    REQUIRE(f);
    CHECK(f->at(tag::kMsgType) == "A");
    c.send("D", good_order("P1"));
    const auto reps = reports_until_final(c, "P1");
    REQUIRE(!reps.empty());
    CHECK(reps.back().at(tag::kOrdStatus) == "2");
  }
  CHECK(registry_size_becomes(server, 1));
  server.stop();
}

TEST_CASE("a Logon the session refuses leaves no registry entry and, with --journal, no store",
          "[fix_acceptor][logon]") {
  const bool journal = GENERATE(false, true);
  CAPTURE(journal);
  const TempDir dir;
  mini_oms::ServerConfig cfg = fix_config(journal ? dir.path() : std::string());
  cfg.fix_max_sessions = 2;
  mini_oms::Server server(cfg);
  server.start();
  // A stranger cannot use up --fix-max-sessions with Logons that are refused.
  for (int k = 0; k < 4; ++k) {
    const std::string id = "RST" + std::to_string(k);
    RawFix c(server.fix_port(), id);
    c.seq = 5;  // ResetSeqNumFlag=Y needs MsgSeqNum=1: refused
    c.logon({{tag::kResetSeqNumFlag, "Y"}});
    CHECK(c.wait_closed());
    CHECK(registry_size_becomes(server, 0));
    if (journal) CHECK(!std::filesystem::exists(mini_oms::FixRegistry::session_dir(cfg.journal_dir, id)));
  }
  // Not a Logon at all: no reply, the close, nothing made.
  {
    RawFix c(server.fix_port(), "NOLOGON");
    c.send("D", good_order("N1"));
    CHECK(!c.read());
    CHECK(c.wait_closed());
    CHECK(registry_size_becomes(server, 0));
  }
  // A peer that logged on keeps its state after it leaves.
  {
    RawFix c(server.fix_port(), "KEEP");
    c.logon();
    REQUIRE(c.read_type("A"));
  }
  CHECK(registry_size_becomes(server, 1));
  server.stop();
}

// ---- value-level violations: business-level rejects ----------------------------------------------

TEST_CASE("a value-level violation in an application message gets a business-level reject, nothing executes",
          "[fix_acceptor][invalid]") {
  const bool journal = GENERATE(false, true);
  CAPTURE(journal);
  const TempDir dir;
  mini_oms::ServerConfig cfg = fix_config(journal ? dir.path() : std::string());
  mini_oms::Server server(cfg);
  server.start();
  RawFix c(server.fix_port(), "BAD");
  c.logon();
  REQUIRE(c.read_type("A"));
  auto without = [](Body b, std::uint32_t t) {
    std::erase_if(b, [&](const auto& f) { return f.first == t; });
    return b;
  };
  auto with = [](Body b, std::uint32_t t, const std::string& v) {
    for (auto& f : b)
      if (f.first == t) f.second = v;
    return b;
  };
  SECTION("NewOrderSingle without TransactTime(60), with and without Account: an ExecutionReport reject") {
    for (const std::string acct : {"ACC0", ""}) {
      const std::string id = "T60" + acct;
      c.send("D", without(good_order(id, acct), tag::kTransactTime));
      const auto reps = reports_until_final(c, id);
      REQUIRE(reps.size() == 1);
      const Fields& r = reps[0];
      CHECK(r.at(tag::kExecType) == "8");
      CHECK(r.at(tag::kOrdStatus) == "8");
      CHECK(r.at(tag::kOrdRejReason) == "99");
      CHECK(r.at(tag::kText).find("TransactTime(60)") != std::string::npos);
      CHECK(r.at(tag::kCumQty) == "0");
      // The order's fields, echoed.
      CHECK(r.at(tag::kSide) == "1");
      CHECK(r.at(tag::kOrdType) == "2");
      CHECK(r.at(tag::kTimeInForce) == "3");
      CHECK(r.at(tag::kOrderQty) == "10");
      CHECK(!r.at(tag::kPrice).empty());
      if (!acct.empty()) CHECK(r.at(tag::kAccount) == acct);
    }
  }
  SECTION("NewOrderSingle with Side(54) out of range: OrdRejReason 11, no Side made up") {
    c.send("D", with(good_order("S54"), tag::kSide, "Z"));
    const auto reps = reports_until_final(c, "S54");
    REQUIRE(reps.size() == 1);
    CHECK(reps[0].at(tag::kOrdStatus) == "8");
    CHECK(reps[0].at(tag::kOrdRejReason) == "11");
    CHECK(reps[0].count(tag::kSide) == 0);
    CHECK(reps[0].at(tag::kText).find("Side(54)") != std::string::npos);
  }
  SECTION("NewOrderSingle with a malformed OrderQty(38): OrdRejReason 13") {
    c.send("D", with(good_order("Q38", ""), tag::kOrderQty, "ten"));
    const auto reps = reports_until_final(c, "Q38");
    REQUIRE(reps.size() == 1);
    CHECK(reps[0].at(tag::kOrdRejReason) == "13");
    CHECK(reps[0].count(tag::kOrderQty) == 0);
    CHECK(reps[0].at(tag::kText).find("OrderQty(38)") != std::string::npos);
  }
  SECTION("OrderCancelRequest without TransactTime(60): an OrderCancelReject, CxlRejReason 99") {
    c.send("F", {{tag::kOrigClOrdID, "NOPE"},
                 {tag::kClOrdID, "K1"},
                 {tag::kSymbol, "AAPL"},
                 {tag::kSide, "1"},
                 {tag::kOrderQty, "10"}});
    const auto f = c.read_type("9");
    REQUIRE(f);
    CHECK(f->at(tag::kClOrdID) == "K1");
    CHECK(f->at(tag::kOrigClOrdID) == "NOPE");
    CHECK(f->at(tag::kCxlRejReason) == "99");
    CHECK(f->at(tag::kCxlRejResponseTo) == "1");
    CHECK(f->at(tag::kText).find("TransactTime(60)") != std::string::npos);
  }
  SECTION("another application type missing a required field: BusinessMessageReject 380=5") {
    const std::uint64_t seq = c.seq;
    c.send("G", {{tag::kOrigClOrdID, "C1"}, {tag::kClOrdID, "G1"}, {tag::kSymbol, "AAPL"}, {tag::kSide, "1"}});
    const auto f = c.read_type("j");
    REQUIRE(f);
    CHECK(f->at(tag::kRefSeqNum) == std::to_string(seq));
    CHECK(f->at(tag::kRefMsgType) == "G");
    CHECK(f->at(tag::kBusinessRejectReason) == "5");
    CHECK(f->at(tag::kText).rfind("BAD_MSG: ", 0) == 0);
  }
  // Whatever was refused, the session goes on: a valid order executes.
  c.send("D", good_order("AFTER"));
  const auto reps = reports_until_final(c, "AFTER");
  REQUIRE(!reps.empty());
  CHECK(reps.back().at(tag::kOrdStatus) == "2");
  server.stop();
}

// ---- the reports' templates write what one add() per field wrote ---------------------------------

TEST_CASE("an executed order's reports, written from templates, carry every field in order",
          "[fix_acceptor][template]") {
  char in[1024];
  hft::fix::MessageBuilder b(in);
  b.start("D").add(tag::kSenderCompID, "C").add(tag::kTargetCompID, "HFTOMS").add(tag::kMsgSeqNum, 2);
  b.add_timestamp(tag::kSendingTime, now_ns());
  b.add(tag::kClOrdID, "T1").add(tag::kAccount, "ACC").add(tag::kSymbol, "AAPL").add_char(tag::kSide, '2');
  b.add(tag::kOrderQty, "100").add_char(tag::kOrdType, '2').add(tag::kPrice, "187.25");
  b.add_char(tag::kTimeInForce, '3').add_timestamp(tag::kTransactTime, now_ns());
  const std::string wire(b.finish());
  hft::fix::Message m;
  REQUIRE(hft::fix::parse(wire, m).ok());
  mini_oms::FixOrder o;
  REQUIRE(mini_oms::map_new_order(m, o).ok);
  mini_oms::Execution e;
  e.req_id = 7;
  e.seq = 1;
  e.filled = 40;
  e.notional = hft::Notional{40} * 1'872'500;  // 187.25 in ticks of 0.0001
  char avg[32];
  const mini_oms::ParsedReply pr = mini_oms::report_of(e, avg);
  const std::uint64_t t = 1'733'529'599'123'000'000ull;
  char ts[21];
  hft::fix::MessageBuilder::format_timestamp(t, ts);
  char out[1024];
  hft::fix::MessageBuilder rb(out);
  std::vector<std::vector<std::pair<std::uint32_t, std::string>>> reports;
  const int n = mini_oms::write_reports(
      [&](auto&& fill) {
        rb.start("8");
        fill(rb);
        hft::fix::Message r;
        REQUIRE(hft::fix::parse(rb.finish(), r).ok());
        auto& f = reports.emplace_back();
        for (const auto& fld : r.fields())
          if (fld.tag != 8 && fld.tag != 9 && fld.tag != 10) f.emplace_back(fld.tag, std::string(r.value(fld)));
      },
      o, "R0-0-9", &pr, mini_oms::OrdRejReason::Other, "", t);
  REQUIRE(n == 2);
  REQUIRE(reports.size() == 2);
  using F = std::vector<std::pair<std::uint32_t, std::string>>;
  const std::string when(ts, sizeof ts);
  CHECK(reports[0] == F{{35, "8"},
                        {37, "R0-0-9"},
                        {11, "T1"},
                        {1, "ACC"},
                        {17, "R0-0-9.1"},
                        {150, "F"},
                        {39, "1"},
                        {55, "AAPL"},
                        {54, "2"},
                        {38, "100"},
                        {40, "2"},
                        {44, "187.25"},
                        {59, "3"},
                        {32, "40"},
                        {31, "187.25"},
                        {151, "60"},
                        {14, "40"},
                        {6, "187.25"},
                        {60, when}});
  CHECK(reports[1] == F{{35, "8"},  {37, "R0-0-9"}, {11, "T1"},    {1, "ACC"}, {17, "R0-0-9.2"},
                        {150, "4"}, {39, "4"},      {55, "AAPL"},  {54, "2"},  {38, "100"},
                        {40, "2"},  {44, "187.25"}, {59, "3"},     {32, "0"},  {31, "0"},
                        {151, "0"}, {14, "40"},     {6, "187.25"}, {60, when}, {58, "IOC: remainder canceled"}});
  // A value the builder would refuse (an empty Text on a reject): no report is sent.
  rb.start("8");
  (void)mini_oms::write_reports([&](auto&& fill) { fill(rb); }, o, "R0-0-9", nullptr, mini_oms::OrdRejReason::Other, "",
                                t);
  CHECK(rb.finish().empty());
}

// A FIX peer that does not read is cut (slow reader) inside the session's on_bytes; the
// session must then handle none of the rest of that read (the connection's state is
// released: an order after the cut used to dereference it).
TEST_CASE("a FIX peer cut as a slow reader in the middle of a read does not crash the gateway", "[fix_acceptor]") {
  mini_oms::ServerConfig cfg = fix_config();
  cfg.out_buffer = 2048;  // a few ExecutionReports
  mini_oms::Server server(cfg);
  server.start();
  {
    RawFix c(server.fix_port(), "SLOW");
    c.logon();
    REQUIRE(c.read_type("A"));
    // 40 malformed orders without Account (each refused at once, before the pipeline), in one write.
    std::string batch;
    for (int k = 0; k < 40; ++k) {
      char buf[4096];
      hft::fix::MessageBuilder b(buf);
      b.start("D").add(tag::kSenderCompID, "SLOW").add(tag::kTargetCompID, "HFTOMS").add(tag::kMsgSeqNum, c.seq++);
      b.add_timestamp(tag::kSendingTime, now_ns());
      std::string id = "SL";
      id += std::to_string(k);
      for (const auto& [t, v] : good_order(id, "")) b.add(t, t == tag::kOrderQty ? "ten" : v);
      batch += b.finish();
    }
    REQUIRE(c.send_raw(batch));
    c.wait_closed();
  }
  CHECK(server.gateway_counter(mini_oms::GwCount::SlowDisconnects, mini_oms::kFixPort) == 1);
  // Fewer orders were answered than sent: the rest of the read was dropped with the connection.
  CHECK(server.gateway_counter(mini_oms::GwCount::Requests, mini_oms::kFixPort) < 40);
  // The gateway is still alive: a new session logs on and trades.
  RawFix d(server.fix_port(), "AFTER");
  d.logon();
  REQUIRE(d.read_type("A"));
  d.send("D", good_order("AF1"));
  CHECK(!reports_until_final(d, "AF1").empty());
  server.stop();
}

// An order in flight when its connection drops: its Execution comes after the close. Its
// reports are numbered and stored in the peer's session (not dropped), a Logon of that
// CompID is refused until they are, and the ResendRequest after the next Logon gets them
// with PossDupFlag=Y. Another peer trades meanwhile in the slot the closed connection left.
TEST_CASE("reports owed a FIX connection that closed are stored for the peer's resend after its next Logon",
          "[fix_acceptor][gone]") {
  mini_oms::ServerConfig cfg = fix_config();
  cfg.work_us = 300'000;                      // each order takes 300 ms at the venue: both are in flight at the close
  cfg.execute = mini_oms::ExecuteMode::Pool;  // on a worker: the gateway sees the close meanwhile
  mini_oms::Server server(cfg);
  server.start();
  std::uint64_t seq = 1;
  std::uint64_t expected = 0;  // the acceptor's next MsgSeqNum as the peer last saw it
  {
    RawFix c(server.fix_port(), "GONE");
    c.logon();
    const auto a = c.read_type("A");
    REQUIRE(a);
    expected = std::stoull(a->at(tag::kMsgSeqNum)) + 1;
    c.send("D", good_order("G1"));
    c.send("D", good_order("G2"));
    seq = c.seq;
    std::this_thread::sleep_for(20ms);  // both orders read and admitted
    c.abort();                          // without reading a report
  }
  {
    // The same CompID while its reports are owed: refused (it would see numbers move under it).
    RawFix again(server.fix_port(), "GONE");
    again.seq = seq;
    again.logon();
    CHECK(again.wait_closed());
  }
  // Another peer, in the slot the closed connection left, trades meanwhile.
  RawFix other(server.fix_port(), "OTHER");
  other.logon();
  REQUIRE(other.read_type("A"));
  other.send("D", good_order("O1", "ACC9"));
  CHECK(!reports_until_final(other, "O1").empty());
  bool stored = false;
  for (int i = 0; i < 400 && !stored; ++i) {
    stored = server.gateway_counter(mini_oms::GwCount::RepliesStored, mini_oms::kFixPort) == 2;
    if (!stored) std::this_thread::sleep_for(5ms);
  }
  CAPTURE(server.gateway_counter(mini_oms::GwCount::RepliesStored, mini_oms::kFixPort));
  REQUIRE(stored);
  CHECK(server.gateway_counter(mini_oms::GwCount::RepliesDropped, mini_oms::kFixPort) == 0);
  // The registry takes the state back at the end of the gateway's loop iteration.
  std::optional<Fields> logon;
  std::unique_ptr<RawFix> c;
  for (int i = 0; i < 50 && !logon; ++i) {
    c = std::make_unique<RawFix>(server.fix_port(), "GONE");
    c->seq = seq;
    c->logon();
    logon = c->read_type("A");
    if (logon) break;
    c.reset();
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(logon);
  const std::uint64_t at = std::stoull(logon->at(tag::kMsgSeqNum));
  REQUIRE(at > expected);  // the gap: the stored reports
  c->send("2", {{tag::kBeginSeqNo, std::to_string(expected)}, {tag::kEndSeqNo, "0"}});
  std::map<std::string, std::vector<Fields>> got;
  for (auto f = c->read(); f && std::stoull(f->at(tag::kMsgSeqNum)) < at; f = c->read()) {
    if ((*f)[tag::kMsgType] != "8") continue;
    CHECK((*f)[tag::kPossDupFlag] == "Y");
    got[(*f)[tag::kClOrdID]].push_back(*f);
    if (got.size() == 2 && got["G1"].back()[tag::kOrdStatus] == "2" && got["G2"].back()[tag::kOrdStatus] == "2") break;
  }
  REQUIRE(got.size() == 2);
  for (const auto& id : {"G1", "G2"}) {
    REQUIRE(!got[id].empty());
    CHECK(got[id].back().at(tag::kOrdStatus) == "2");  // filled
    CHECK(got[id].back().at(tag::kCumQty) == "10");
  }
  c.reset();
  server.stop();
}
