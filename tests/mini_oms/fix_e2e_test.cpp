// End to end against QuickFIX/C++ (libquickfix-dev 1.15): a FIX::SocketInitiator with its own
// FileStore, configured by fix_initiator.cfg (QuickFIX's settings format has no comments:
// @STORE@ and @PORT@ are replaced here), against an in-process server's --fix-port.
// Logon; 10,000 NewOrderSingles with every ExecutionReport checked against a model of the
// documented venue (fills, rejects by reason, per-Account order); an idle period that must
// produce heartbeats; a cancel -> OrderCancelReject; a restart of the initiator with a gap
// in both directions, resolved by ResendRequest / SequenceReset-GapFill; a logout. Then,
// with --journal, a restart of the server itself: numbers, resend and PossDup re-sends, and
// the OrderIDs and ExecIDs of new orders never repeat one of the first server's. Last,
// --fix-peers: a Logon from a CompID the list does not hold never logs on.
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "fix_protocol.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "line_protocol.hpp"
#include "server.hpp"

using namespace std::chrono_literals;

namespace {

struct Report {
  std::map<int, std::string> f;
  bool possdup = false;
  [[nodiscard]] std::string get(int t) const {
    const auto it = f.find(t);
    return it == f.end() ? std::string() : it->second;
  }
};

// The QuickFIX application: records what the acceptor sends. QuickFIX calls it from its
// socket thread. Its overrides must repeat QuickFIX 1.15's dynamic exception
// specifications, which C++17 removed: clang accepts them with this diagnostic silenced.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdynamic-exception-spec"
class TestClient final : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {
    std::lock_guard lock(mutex_);
    logged_on_ = true;
    cv_.notify_all();
  }
  void onLogout(const FIX::SessionID&) override {
    std::lock_guard lock(mutex_);
    logged_on_ = false;
    ++logouts_;
    cv_.notify_all();
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  // QuickFIX's send() removes PossDupFlag and OrigSendingTime from what the application
  // gives it; an application re-send sets them here, after QuickFIX fills the header.
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    std::lock_guard lock(mutex_);
    if (!m.isSetField(FIX::FIELD::ClOrdID) || possdup_.count(m.getField(FIX::FIELD::ClOrdID)) == 0) return;
    m.getHeader().setField(FIX::PossDupFlag(true));
    // The original SendingTime of a real re-send is earlier; "now" read here could be a
    // millisecond later than the SendingTime QuickFIX just wrote, which the acceptor rejects
    // (reason 10, OrigSendingTime later than SendingTime).
    m.getHeader().setField(FIX::FIELD::OrigSendingTime, m.getHeader().getField(FIX::FIELD::SendingTime));
  }
  /// The next messages with this ClOrdID go out with PossDupFlag=Y.
  void send_as_possdup(const std::string& clordid, bool on) {
    std::lock_guard lock(mutex_);
    if (on)
      possdup_.insert(clordid);
    else
      possdup_.erase(clordid);
  }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                     FIX::IncorrectTagValue,
                                                                     FIX::RejectLogon) override {
    std::lock_guard lock(mutex_);
    ++admin_[m.getHeader().getField(FIX::FIELD::MsgType)];
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                   FIX::IncorrectTagValue,
                                                                   FIX::UnsupportedMessageType) override {
    Report r;
    for (auto it = m.begin(); it != m.end(); ++it) r.f[it->getTag()] = it->getString();
    r.f[35] = m.getHeader().getField(FIX::FIELD::MsgType);
    r.possdup =
        m.getHeader().isSetField(FIX::FIELD::PossDupFlag) && m.getHeader().getField(FIX::FIELD::PossDupFlag) == "Y";
    std::lock_guard lock(mutex_);
    reports_.push_back(std::move(r));
    cv_.notify_all();
  }

  template <class Pred>
  bool wait(Pred p, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return p(*this); });
  }
  bool logged_on() const { return logged_on_; }
  std::size_t report_count() const { return reports_.size(); }
  // For wait() predicates, which run with the mutex held.
  const Report& report_locked(std::size_t k) const { return reports_[k]; }
  int admin_locked(const std::string& type) const {
    const auto it = admin_.find(type);
    return it == admin_.end() ? 0 : it->second;
  }
  std::vector<Report> reports() {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  int admin(const std::string& type) {
    std::lock_guard lock(mutex_);
    return admin_[type];
  }
  int logouts() {
    std::lock_guard lock(mutex_);
    return logouts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool logged_on_ = false;
  int logouts_ = 0;
  std::vector<Report> reports_;
  std::map<std::string, int> admin_;
  std::set<std::string> possdup_;
};
#pragma clang diagnostic pop

std::string settings_text(std::uint16_t port, const std::string& store) {
  std::ifstream in(HFT_FIX_SETTINGS);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  REQUIRE(!s.empty());
  s.replace(s.find("@STORE@"), 7, store);
  s.replace(s.find("@PORT@"), 6, std::to_string(port));
  return s;
}

// The initiator's settings (fix_initiator.cfg for `port`, its FileStore in `store`) and the
// store factory QuickFIX builds from them; both must outlive every initiator made from them.
struct InitiatorSettings {
  InitiatorSettings(std::uint16_t port, const std::string& store)
      : text(settings_text(port, store)), settings(text), store_factory(settings) {}
  std::istringstream text;
  FIX::SessionSettings settings;
  FIX::FileStoreFactory store_factory;
};

// Stops the initiator, if any, when the test leaves its scope: a failed REQUIRE must not
// leave QuickFIX's thread running into freed state.
struct StopOnExit {
  std::unique_ptr<FIX::SocketInitiator>& i;
  ~StopOnExit() {
    if (i) i->stop(true);
  }
};

// The venue as docs/protocol.md documents it: ten levels a side, 5 bps apart, 100 x k
// each; an IOC takes levels best first; a level it emptied is quoted again afterwards.
struct ModelBook {
  hft::Price ref;
  std::int64_t left[2][mini_oms::kVenueLevels]{};
  explicit ModelBook(hft::Price r) : ref(r) {
    for (auto& side : left)
      for (int k = 0; k < mini_oms::kVenueLevels; ++k) side[k] = 100 * static_cast<std::int64_t>(k + 1);
  }
  // (filled, notional in ticks) of an IOC at `limit`.
  std::pair<std::int64_t, hft::Notional> execute(hft::Side side, std::int64_t qty, hft::Price limit) {
    const hft::Side book_side = hft::opposite(side);
    auto& lv = left[static_cast<int>(book_side)];
    std::int64_t filled = 0;
    hft::Notional notional = 0;
    for (int k = 1; k <= mini_oms::kVenueLevels && filled < qty; ++k) {
      const hft::Price p = mini_oms::venue_level_price(ref, book_side, k);
      if (side == hft::Side::Buy ? p > limit : p < limit) break;
      const std::int64_t take = std::min(qty - filled, lv[k - 1]);
      lv[k - 1] -= take;
      filled += take;
      notional += static_cast<hft::Notional>(take) * p.ticks();
    }
    for (int k = 0; k < mini_oms::kVenueLevels; ++k)
      if (lv[k] == 0) lv[k] = 100 * static_cast<std::int64_t>(k + 1);
    return {filled, notional};
  }
};

struct Sent {
  std::string clordid, account;
  hft::Side side;
  std::int64_t qty;
  std::string kind;  // "model", "free" (no Account: fills not modelled), "RISK_QTY", "RISK_PRICE", "BAD_MSG"
  std::int64_t filled = 0;
  std::string avg;
};

std::string avg_text(std::int64_t filled, hft::Notional notional) {
  char buf[mini_oms::kMaxReply];
  const std::size_t n = mini_oms::format_ack(buf, 1, 1, filled, notional);
  std::string s(buf, n - 1);
  return s.substr(s.rfind(' ') + 1);
}

FIX::Message new_order(const Sent& s, const std::string& symbol, hft::Price limit, char ord_type = '2') {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("D"));
  m.setField(FIX::ClOrdID(s.clordid));
  if (!s.account.empty()) m.setField(FIX::Account(s.account));
  m.setField(FIX::Symbol(symbol));
  m.setField(FIX::Side(s.side == hft::Side::Buy ? '1' : '2'));
  m.setField(FIX::OrderQty(static_cast<double>(s.qty)));
  m.setField(FIX::OrdType(ord_type));
  char px[32];
  m.setField(FIX::StringField(FIX::FIELD::Price, std::string(px, hft::format_price(limit, mini_oms::kTick, px))));
  m.setField(FIX::TimeInForce('3'));
  m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
  return m;
}

}  // namespace

TEST_CASE("FIX end to end against a QuickFIX initiator") {
  mini_oms::ServerConfig cfg;
  cfg.partitions = 2;
  cfg.workers = 2;
  cfg.ring_size = 1024;
  cfg.family_table = 1u << 14;
  cfg.fix_port = 0;
  mini_oms::Server server(cfg);
  server.start();
  const auto store = std::filesystem::temp_directory_path() / ("hft_fix_e2e_" + std::to_string(::getpid()));
  std::filesystem::remove_all(store);
  InitiatorSettings qf(server.fix_port(), store.string());
  TestClient client;
  const FIX::SessionID sid("FIX.4.4", "QFCLIENT", "HFTOMS");

  std::unique_ptr<FIX::SocketInitiator> initiator;
  const StopOnExit stop_on_exit{initiator};
  initiator = std::make_unique<FIX::SocketInitiator>(client, qf.store_factory, qf.settings);
  initiator->start();
  REQUIRE(client.wait([](TestClient& c) { return c.logged_on(); }, 10s));

  // ---- 10,000 orders -------------------------------------------------------------------
  const char* const symbols[] = {"AAPL", "MSFT", "GOOG", "AMZN"};
  const std::int64_t refs[] = {1872500, 4105000, 1401000, 1783000};  // the venue's reference prices
  std::vector<ModelBook> books;
  for (const auto r : refs) books.emplace_back(hft::Price::from_ticks(r));
  std::vector<Sent> sent;
  std::size_t expected_reports = 0;
  constexpr int kOrders = 10'000;
  constexpr int kWindow = 200;
  std::size_t n_free = 0;
  for (int i = 0; i < kOrders; ++i) {
    const int a = i % 4;
    Sent s{"C" + std::to_string(i),
           "ACC" + std::to_string(a),
           (i / 4) % 2 ? hft::Side::Sell : hft::Side::Buy,
           50 + (i * 37) % 400,
           "model",
           0,
           {}};
    const hft::Price ref = hft::Price::from_ticks(refs[a]);
    // Within 30 bps of the reference: up to six levels deep.
    hft::Price limit = mini_oms::venue_level_price(ref, hft::opposite(s.side), 6);
    std::string symbol = symbols[a];
    char ord_type = '2';
    if (i % 50 == 7) {
      s.qty = 2'000'000;
      s.kind = "RISK_QTY";
    } else if (i % 50 == 13) {
      limit = hft::Price::from_ticks(s.side == hft::Side::Buy ? refs[a] * 12 / 10 : refs[a] * 8 / 10);
      s.kind = "RISK_PRICE";
    } else if (i % 50 == 21) {
      ord_type = '1';  // market: the acceptor takes limit orders only
      s.kind = "BAD_MSG";
    } else if (i % 10 == 9) {
      s.account.clear();  // no Account: a family of its own, on a symbol no account trades
      symbol = "TSLA";
      limit = mini_oms::venue_level_price(hft::Price::from_ticks(1754000), hft::opposite(s.side), 6);
      s.kind = "free";
    }
    if (s.kind == "model") {
      const auto [filled, notional] = books[static_cast<std::size_t>(a)].execute(s.side, s.qty, limit);
      s.filled = filled;
      s.avg = avg_text(filled, notional);
      expected_reports += filled == s.qty || filled == 0 ? 1 : 2;
    } else {
      expected_reports += s.kind == "free" ? 0 : 1;
    }
    FIX::Message nos = new_order(s, symbol, limit, ord_type);
    REQUIRE(FIX::Session::sendToTarget(nos, sid));
    if (s.kind == "free") ++n_free;
    sent.push_back(std::move(s));
    // A window, as a real client keeps one: the acceptor cuts a peer whose unread reports
    // overflow its output buffer (ServerConfig::out_buffer, 256 KiB), and QuickFIX's one
    // socket thread, under a sanitizer, can read slower than the server writes. 200 orders
    // are at most ~100 KB of reports.
    if ((i + 1) % kWindow == 0)
      REQUIRE(client.wait([&](TestClient& c) { return c.report_count() >= expected_reports + n_free; }, 60s));
  }
  // Every modelled order, every reject, and at least one report per free order.
  REQUIRE(client.wait([&](TestClient& c) { return c.report_count() >= expected_reports + n_free; }, 60s));
  std::this_thread::sleep_for(300ms);  // the free orders' second reports, if any

  std::map<std::string, std::vector<Report>> by_order;
  std::set<std::string> exec_ids;
  std::map<std::string, std::vector<std::size_t>> order_of_account;  // index of each report's order
  for (const Report& r : client.reports()) {
    REQUIRE(r.get(35) == "8");
    REQUIRE(exec_ids.insert(r.get(17)).second);  // ExecID unique
    REQUIRE(!r.get(37).empty());
    by_order[r.get(11)].push_back(r);
    if (!r.get(1).empty()) order_of_account[r.get(1)].push_back(std::stoul(r.get(11).substr(1)));
  }
  std::map<std::string, int> by_kind;
  for (const Sent& s : sent) {
    const auto& reps = by_order[s.clordid];
    INFO("order " << s.clordid << " kind " << s.kind);
    REQUIRE(!reps.empty());
    ++by_kind[s.kind];
    if (s.kind == "RISK_QTY" || s.kind == "RISK_PRICE" || s.kind == "BAD_MSG") {
      REQUIRE(reps.size() == 1);
      CHECK(reps[0].get(150) == "8");
      CHECK(reps[0].get(39) == "8");
      CHECK(reps[0].get(103) == (s.kind == "RISK_QTY" ? "3" : s.kind == "RISK_PRICE" ? "99" : "11"));
      CHECK(reps[0].get(58).rfind(s.kind, 0) == 0);
      continue;
    }
    // Trade for what filled (all: OrdStatus 2; part: 1), then Canceled for the rest.
    const auto& last = reps.back();
    std::int64_t filled = std::stoll(last.get(14));
    if (s.kind == "model") {
      CHECK(filled == s.filled);
      if (s.filled > 0) CHECK(last.get(6) == s.avg);
    }
    if (filled == s.qty) {
      REQUIRE(reps.size() == 1);
      CHECK(reps[0].get(150) == "F");
      CHECK(reps[0].get(39) == "2");
      CHECK(reps[0].get(32) == std::to_string(s.qty));
      CHECK(reps[0].get(151) == "0");
    } else if (filled == 0) {
      REQUIRE(reps.size() == 1);
      CHECK(reps[0].get(150) == "4");
      CHECK(reps[0].get(39) == "4");
    } else {
      REQUIRE(reps.size() == 2);
      CHECK(reps[0].get(150) == "F");
      CHECK(reps[0].get(39) == "1");
      CHECK(reps[0].get(32) == std::to_string(filled));
      CHECK(reps[0].get(31) == reps[0].get(6));
      CHECK(reps[0].get(151) == std::to_string(s.qty - filled));
      CHECK(reps[1].get(150) == "4");
      CHECK(reps[1].get(39) == "4");
      CHECK(reps[1].get(151) == "0");
      CHECK(reps[1].get(14) == std::to_string(filled));
    }
  }
  CHECK(by_kind["model"] > 6000);
  CHECK(by_kind["RISK_QTY"] == kOrders / 50);
  // Per Account, reports come in the order the orders were sent (the family is the Account).
  for (const auto& [acct, idx] : order_of_account) {
    INFO(acct);
    CHECK(std::is_sorted(idx.begin(), idx.end()));
  }

  // ---- idle: heartbeats both ways (HeartBtInt=1) -----------------------------------------
  const int hb_before = client.admin("0");
  std::this_thread::sleep_for(3500ms);
  CHECK(client.admin("0") - hb_before >= 2);
  CHECK(client.logged_on());

  // ---- a cancel: IOC orders never rest ---------------------------------------------------
  // A request about an earlier order (cancel, replace): the fields both carry.
  auto about_order = [](const char* type, const char* orig, const char* id) {
    FIX::Message m;
    m.getHeader().setField(FIX::MsgType(type));
    m.setField(FIX::OrigClOrdID(orig));
    m.setField(FIX::ClOrdID(id));
    m.setField(FIX::Symbol("AAPL"));
    m.setField(FIX::Side('1'));
    m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    return m;
  };
  // Sends and returns the one answer it gets.
  auto answer_to = [&](FIX::Message& m) {
    const std::size_t before = client.report_count();
    REQUIRE(FIX::Session::sendToTarget(m, sid));
    REQUIRE(client.wait([&](TestClient& c) { return c.report_count() > before; }, 5s));
    return client.reports().back();
  };
  {
    FIX::Message cancel = about_order("F", "C0", "X1");
    const Report r = answer_to(cancel);
    CHECK(r.get(35) == "9");
    CHECK(r.get(41) == "C0");
    CHECK(r.get(434) == "1");
    CHECK(r.get(102) == "0");
  }

  // ---- a duplicate ClOrdID within the session: rejected, nothing executes -------------------
  {
    Sent dup{"C1", "ACC1", hft::Side::Buy, 10, "model", 0, {}};
    const std::size_t before = client.report_count();
    FIX::Message nos =
        new_order(dup, "MSFT", mini_oms::venue_level_price(hft::Price::from_ticks(refs[1]), hft::Side::Sell, 6));
    REQUIRE(FIX::Session::sendToTarget(nos, sid));
    REQUIRE(client.wait([&](TestClient& c) { return c.report_count() > before; }, 5s));
    std::this_thread::sleep_for(200ms);  // a second report would be a defect: give it time to show
    const auto reps = client.reports();
    REQUIRE(reps.size() == before + 1);
    CHECK(reps.back().get(11) == "C1");
    CHECK(reps.back().get(150) == "8");
    CHECK(reps.back().get(39) == "8");
    CHECK(reps.back().get(103) == "6");
    CHECK(reps.back().get(14) == "0");
  }

  // ---- an unsupported MsgType: BusinessMessageReject, the session goes on -------------------
  {
    FIX::Message replace = about_order("G", "C2", "R1");  // OrderCancelReplaceRequest: not supported
    replace.setField(FIX::OrdType('2'));
    const Report r = answer_to(replace);
    CHECK(r.get(35) == "j");
    CHECK(r.get(372) == "G");
    CHECK(r.get(380) == "3");
    CHECK(client.logged_on());
  }

  // ---- restart with a gap both ways -------------------------------------------------------
  initiator->stop();
  REQUIRE(client.wait([](TestClient& c) { return !c.logged_on(); }, 10s));
  const int logouts = client.logouts();
  CHECK(logouts >= 1);
  initiator.reset();  // its session must be gone before the next initiator registers it
  initiator = std::make_unique<FIX::SocketInitiator>(client, qf.store_factory, qf.settings);
  {
    FIX::Session* s = FIX::Session::lookupSession(sid);
    REQUIRE(s != nullptr);
    // Their next number jumps by 5 (our side must ask for 5 messages and get a gap fill),
    // and they forget our last 3 (they must ask, and we resend or gap-fill them).
    s->setNextSenderMsgSeqNum(s->getExpectedSenderNum() + 5);
    s->setNextTargetMsgSeqNum(s->getExpectedTargetNum() - 3);
  }
  const int gap_fills_before = client.admin("4");
  const int resend_requests_before = client.admin("2");
  const std::size_t reports_before = client.report_count();
  initiator->start();
  REQUIRE(client.wait([](TestClient& c) { return c.logged_on(); }, 10s));
  // Their ResendRequest for our last 3 messages: stored reports again with PossDup, or gap fills.
  REQUIRE(client.wait(
      [&](TestClient& c) { return c.admin_locked("4") > gap_fills_before || c.report_count() > reports_before; }, 10s));
  // After the gap is resolved both sides are in step: a new order gets its report.
  {
    Sent s{"AFTER-RESTART", "ACC0", hft::Side::Buy, 10, "model", 0, {}};
    const std::size_t before = client.report_count();
    FIX::Message nos =
        new_order(s, "AAPL", mini_oms::venue_level_price(hft::Price::from_ticks(refs[0]), hft::Side::Sell, 6));
    REQUIRE(FIX::Session::sendToTarget(nos, sid));
    REQUIRE(client.wait(
        [&](TestClient& c) {
          for (std::size_t k = before; k < c.report_count(); ++k)
            if (c.report_locked(k).get(11) == "AFTER-RESTART") return true;
          return false;
        },
        10s));
  }
  CHECK(client.admin("2") > resend_requests_before);  // the acceptor asked for the 5 it missed
  CHECK(client.logged_on());
  CHECK(client.logouts() == logouts);  // the gap did not end the session

  // ---- logout -------------------------------------------------------------------------------
  initiator->stop();
  REQUIRE(client.wait([](TestClient& c) { return !c.logged_on(); }, 10s));
  CHECK(client.logouts() == logouts + 1);
  initiator.reset();
  server.stop();
  std::filesystem::remove_all(store);
}

// --journal: the server restarts between two initiator sessions. Its sequence numbers
// continue (no ResendRequest at the second logon), a ResendRequest for messages it sent
// before the restart is answered from its journal, and a PossDup re-send of an order that
// executed before the restart gets its original reports (same OrderID, ExecIDs, fills)
// without a second execution (no new journal record). A re-send without PossDup is a
// duplicate ClOrdID.
TEST_CASE("FIX with --journal: a server restart keeps the session, a PossDup re-send gets its original reports") {
  const auto base = std::filesystem::temp_directory_path() / ("hft_fix_journal_" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  mini_oms::ServerConfig cfg;
  cfg.partitions = 2;
  cfg.workers = 2;
  cfg.ring_size = 1024;
  cfg.family_table = 1u << 14;
  cfg.fix_port = 0;
  cfg.journal_dir = (base / "journal").string();
  const std::string store = (base / "initiator").string();
  const FIX::SessionID sid("FIX.4.4", "QFCLIENT", "HFTOMS");
  const std::int64_t aapl = 1872500;
  TestClient client;
  // The reports of `clordid` that arrived from index `from` on.
  auto reports_of = [&](const std::string& clordid, std::size_t from) {
    std::vector<Report> out;
    const auto all = client.reports();
    for (std::size_t k = from; k < all.size(); ++k)
      if (all[k].get(11) == clordid) out.push_back(all[k]);
    return out;
  };
  // Waits until the reports of `clordid` after `from` end with a final one (filled, canceled, rejected).
  auto wait_final = [&](const std::string& clordid, std::size_t from) {
    return client.wait(
        [&](TestClient& c) {
          for (std::size_t k = from; k < c.report_count(); ++k) {
            const Report& r = c.report_locked(k);
            if (r.get(11) == clordid && !r.possdup && (r.get(39) == "2" || r.get(39) == "4" || r.get(39) == "8"))
              return true;
          }
          return false;
        },
        10s);
  };
  Sent j1{"J1", "ACC0", hft::Side::Buy, 150, "model", 0, {}};
  Sent j2{"J2", "", hft::Side::Sell, 80, "free", 0, {}};
  const hft::Price j1_px = mini_oms::venue_level_price(hft::Price::from_ticks(aapl), hft::Side::Sell, 6);
  const hft::Price j2_px = mini_oms::venue_level_price(hft::Price::from_ticks(1754000), hft::Side::Buy, 6);
  std::vector<Report> j1_first, j2_first;

  // ---- the first server: two orders, then the initiator logs out and the server stops -------
  {
    mini_oms::Server server(cfg);
    server.start();
    InitiatorSettings qf(server.fix_port(), store);
    auto initiator = std::make_unique<FIX::SocketInitiator>(client, qf.store_factory, qf.settings);
    const StopOnExit stop_on_exit{initiator};
    initiator->start();
    REQUIRE(client.wait([](TestClient& c) { return c.logged_on(); }, 10s));
    FIX::Message m1 = new_order(j1, "AAPL", j1_px);
    REQUIRE(FIX::Session::sendToTarget(m1, sid));
    REQUIRE(wait_final("J1", 0));
    FIX::Message m2 = new_order(j2, "TSLA", j2_px);
    REQUIRE(FIX::Session::sendToTarget(m2, sid));
    REQUIRE(wait_final("J2", 0));
    j1_first = reports_of("J1", 0);
    j2_first = reports_of("J2", 0);
    REQUIRE(std::stoll(j1_first.back().get(14)) > 0);  // it executed: a second execution would show
    initiator->stop();
    REQUIRE(client.wait([](TestClient& c) { return !c.logged_on(); }, 10s));
    initiator.reset();
    server.stop();
  }

  // A stop between admitting J4 and journaling its outcome, as the session's journal would
  // show it: J4 admitted ('N'), no outcome ('D'), and it never reached the pipeline.
  {
    hft::fix::JournalMessageStore st(mini_oms::FixRegistry::session_dir(cfg.journal_dir, "QFCLIENT"));
    const mini_oms::FixAppRecord r{'N', 0, 0, {}, mini_oms::ClOrdIdWindow::key("J4")};
    st.append_app(std::as_bytes(std::span(&r, 1)));
  }

  // ---- the second server, from the same journal ---------------------------------------------
  mini_oms::Server server(cfg);
  server.start();
  InitiatorSettings qf(server.fix_port(), store);
  auto initiator = std::make_unique<FIX::SocketInitiator>(client, qf.store_factory, qf.settings);
  const StopOnExit stop_on_exit{initiator};
  {
    // The initiator forgets the last two messages the first server sent it (J2's report and
    // the Logout): it must ask for them, and the second server must have them.
    FIX::Session* s = FIX::Session::lookupSession(sid);
    REQUIRE(s != nullptr);
    s->setNextTargetMsgSeqNum(s->getExpectedTargetNum() - 2);
  }
  const int resend_requests_before = client.admin("2");
  const int logouts_before = client.logouts();
  const std::size_t at_logon = client.report_count();
  initiator->start();
  REQUIRE(client.wait([](TestClient& c) { return c.logged_on(); }, 10s));
  // J2's report again, from the second server's journal, as a PossDup resend.
  REQUIRE(client.wait(
      [&](TestClient& c) {
        for (std::size_t k = at_logon; k < c.report_count(); ++k)
          if (c.report_locked(k).get(11) == "J2" && c.report_locked(k).possdup) return true;
        return false;
      },
      10s));
  CHECK(client.admin("2") == resend_requests_before);  // the server's numbers continued: it asked for nothing
  CHECK(client.logouts() == logouts_before);

  // A PossDup re-send of J1: its original reports, and nothing executes.
  const std::uint64_t records = server.journal()->last_sequence();
  {
    const std::size_t before = client.report_count();
    FIX::Message again = new_order(j1, "AAPL", j1_px);
    client.send_as_possdup("J1", true);
    REQUIRE(FIX::Session::sendToTarget(again, sid));
    REQUIRE(wait_final("J1", before));
    std::this_thread::sleep_for(200ms);  // a second set of reports would be a defect: give it time
    const auto reps = reports_of("J1", before);
    REQUIRE(reps.size() == j1_first.size());
    for (std::size_t k = 0; k < reps.size(); ++k) {
      INFO("report " << k);
      for (const int tag : {37, 17, 150, 39, 14, 151, 6, 32, 31, 1}) CHECK(reps[k].get(tag) == j1_first[k].get(tag));
    }
  }
  // J2 (no Account) re-sent with PossDup: its outcome was journaled too.
  {
    const std::size_t before = client.report_count();
    FIX::Message again = new_order(j2, "TSLA", j2_px);
    client.send_as_possdup("J2", true);
    REQUIRE(FIX::Session::sendToTarget(again, sid));
    REQUIRE(wait_final("J2", before));
    const auto reps = reports_of("J2", before);
    REQUIRE(reps.size() == j2_first.size());
    for (std::size_t k = 0; k < reps.size(); ++k)
      for (const int tag : {37, 17, 150, 39, 14}) CHECK(reps[k].get(tag) == j2_first[k].get(tag));
  }
  CHECK(server.journal()->last_sequence() == records);  // neither executed again
  // J1 again without PossDup: a duplicate ClOrdID, across the restart.
  client.send_as_possdup("J1", false);
  {
    const std::size_t before = client.report_count();
    FIX::Message dup = new_order(j1, "AAPL", j1_px);
    REQUIRE(FIX::Session::sendToTarget(dup, sid));
    REQUIRE(wait_final("J1", before));
    const auto reps = reports_of("J1", before);
    REQUIRE(reps.size() == 1);
    CHECK(reps[0].get(150) == "8");
    CHECK(reps[0].get(103) == "6");
  }
  // A new order after the restart executes as usual.
  {
    Sent j3{"J3", "ACC0", hft::Side::Buy, 10, "model", 0, {}};
    const std::size_t before = client.report_count();
    FIX::Message m3 = new_order(j3, "AAPL", j1_px);
    REQUIRE(FIX::Session::sendToTarget(m3, sid));
    REQUIRE(wait_final("J3", before));
    CHECK(reports_of("J3", before).back().get(39) == "2");
  }
  // J4, re-sent with PossDup: admitted before the restart with no outcome, so it goes to the
  // pipeline under its original req_id and executes once; a second re-send gets the same reports.
  {
    Sent j4{"J4", "ACC0", hft::Side::Buy, 10, "model", 0, {}};
    client.send_as_possdup("J4", true);
    const std::uint64_t before_j4 = server.journal()->last_sequence();
    std::vector<Report> first;
    for (int round = 0; round < 2; ++round) {
      const std::size_t before = client.report_count();
      FIX::Message m4 = new_order(j4, "AAPL", j1_px);
      REQUIRE(FIX::Session::sendToTarget(m4, sid));
      REQUIRE(wait_final("J4", before));
      std::this_thread::sleep_for(100ms);
      const auto reps = reports_of("J4", before);
      CHECK(reps.back().get(39) == "2");
      if (round == 0) {
        first = reps;
      } else {
        REQUIRE(reps.size() == first.size());
        for (std::size_t k = 0; k < reps.size(); ++k)
          for (const int tag : {37, 17, 150, 39, 14}) CHECK(reps[k].get(tag) == first[k].get(tag));
      }
    }
    CHECK(server.journal()->last_sequence() == before_j4 + 1);  // one execution
  }
  // Every report of a new order after the restart (J1's duplicate reject, J3, J4) has an
  // OrderID and ExecIDs the first server never used, though the restart came within a
  // second or two of the first server's start.
  {
    std::set<std::string> first_ids;
    for (const auto* reps : {&j1_first, &j2_first})
      for (const Report& r : *reps) {
        first_ids.insert(r.get(37));
        first_ids.insert(r.get(17));
      }
    int checked = 0;
    for (const Report& r : client.reports()) {
      if (r.possdup || (r.get(11) != "J3" && r.get(11) != "J4" && !(r.get(11) == "J1" && r.get(103) == "6"))) continue;
      INFO(r.get(11) << " OrderID " << r.get(37) << " ExecID " << r.get(17));
      CHECK(first_ids.count(r.get(37)) == 0);
      CHECK(first_ids.count(r.get(17)) == 0);
      ++checked;
    }
    CHECK(checked >= 3);
  }
  initiator->stop();
  REQUIRE(client.wait([](TestClient& c) { return !c.logged_on(); }, 10s));
  initiator.reset();
  server.stop();
  std::filesystem::remove_all(base);
}

// --fix-peers (session test case 1S.c): QuickFIX's initiator, QFCLIENT, is refused by a
// server whose list does not hold it (the close without a reply, at each of its
// reconnects) and no state is made for it; a server that lists it lets it log on.
TEST_CASE("FIX --fix-peers: a Logon from an unlisted SenderCompID is refused") {
  const auto store = std::filesystem::temp_directory_path() / ("hft_fix_peers_" + std::to_string(::getpid()));
  std::filesystem::remove_all(store);
  for (const bool listed : {false, true}) {
    CAPTURE(listed);
    mini_oms::ServerConfig cfg;
    cfg.partitions = 1;
    cfg.workers = 1;
    cfg.ring_size = 1024;
    cfg.family_table = 1u << 10;
    cfg.fix_port = 0;
    cfg.fix_peers = listed ? std::vector<std::string>{"OTHER", "QFCLIENT"} : std::vector<std::string>{"OTHER"};
    mini_oms::Server server(cfg);
    server.start();
    InitiatorSettings qf(server.fix_port(), store.string());
    TestClient client;
    std::unique_ptr<FIX::SocketInitiator> initiator;
    const StopOnExit stop_on_exit{initiator};
    initiator = std::make_unique<FIX::SocketInitiator>(client, qf.store_factory, qf.settings);
    initiator->start();
    // ReconnectInterval=1: an unlisted initiator tries about three times in this wait.
    const bool on = client.wait([](TestClient& c) { return c.logged_on(); }, listed ? 10s : 3500ms);
    CHECK(on == listed);
    CHECK(server.fix_registry().size() == (listed ? 1u : 0u));
    initiator->stop();
    initiator.reset();
    server.stop();
  }
  std::filesystem::remove_all(store);
}
