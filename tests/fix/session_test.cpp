// fix::Session driven by SimClock and byte strings: every session rule of the header, one
// scripted exchange per rule, checking what the session sends, delivers and reports.
#include "hft/fix/session.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "../support/catch.hpp"
#include "fix_support.hpp"

using hft::SimClock;
using hft::fix::InMemoryMessageStore;
using hft::fix::Message;
using hft::fix::SessionConfig;
using hft::fix::SessionEvent;
using hft::fix::SessionEventKind;
using hft::fix::SessionRole;
using hft::fix::SessionState;
using hft::test::frame;

namespace {

constexpr std::uint64_t kSec = 1'000'000'000;
constexpr std::uint64_t kT0 = 1'796'032'800 * kSec;  // 2026-11-30 10:00:00, the SendingTime peer() writes

struct Recorder {
  std::vector<std::string> sent;  // wire
  std::vector<std::string> app;   // ClOrdID(11) of each application message delivered
  std::vector<std::pair<SessionEventKind, std::string>> events;
  void send(std::string_view w) { sent.emplace_back(w); }
  void on_app_message(const Message& m) {
    app.emplace_back(m.get(11));
    if (m.get_bool(43) == true) app.back() += "(dup)";
  }
  void on_event(const SessionEvent& e) { events.emplace_back(e.kind, std::string(e.text)); }
  bool saw(SessionEventKind k) const {
    for (const auto& e : events)
      if (e.first == k) return true;
    return false;
  }
  std::string reason(SessionEventKind k) const {
    for (const auto& e : events)
      if (e.first == k) return e.second;
    return {};
  }
};

/// One parsed message the session sent: its fields by tag.
struct Sent {
  std::string wire;
  Message m;
  explicit Sent(std::string w) : wire(std::move(w)) { REQUIRE(hft::fix::parse(wire, m).ok()); }
  std::string_view operator[](std::uint32_t t) const { return m.get(t); }
};

using TestSession = hft::fix::Session<Recorder, SimClock>;

struct Fixture {
  SimClock clock{kT0};
  InMemoryMessageStore store{1024, 1 << 20};
  Recorder rec;
  TestSession s;
  std::uint64_t peer_seq = 1;
  std::size_t seen = 0;  // rec.sent already inspected

  explicit Fixture(SessionRole role = SessionRole::Acceptor, std::uint32_t hb = 30,
                   const hft::fix::Dictionary* dict = &hft::fix::Dictionary::fix44())
      : s(SessionConfig{.sender_comp_id = "HFT",
                        .target_comp_id = "CLIENT",
                        .role = role,
                        .heartbeat_interval_s = hb,
                        .dictionary = dict},
          store, rec, clock) {
    s.start();
  }

  /// A message from the peer: body after the standard header, in '|' notation.
  std::string peer(std::string_view type, std::string_view body = "", std::uint64_t seq = 0) {
    const std::uint64_t n = seq != 0 ? seq : peer_seq++;
    return frame("35=" + std::string(type) + "|49=CLIENT|56=HFT|34=" + std::to_string(n) +
                 "|52=20261130-10:00:00.000|" + std::string(body));
  }
  void feed(const std::string& wire) { s.on_bytes(wire); }
  void logon(std::uint32_t hb = 30) {
    feed(peer("A", "98=0|108=" + std::to_string(hb) + "|"));
    REQUIRE(s.state() == SessionState::LoggedOn);
    take();
  }
  /// The messages sent since the last take().
  std::vector<Sent> take() {
    std::vector<Sent> out;
    for (; seen < rec.sent.size(); ++seen) out.emplace_back(rec.sent[seen]);
    return out;
  }
};

std::string nos(std::string_view clordid) {
  return "11=" + std::string(clordid) + "|55=AAPL|54=1|60=20261130-10:00:00.000|38=100|40=2|44=10|";
}

}  // namespace

TEST_CASE("session: acceptor logon answers with the peer's HeartBtInt") {
  Fixture f;
  CHECK(f.s.state() == SessionState::AwaitingLogon);
  f.feed(f.peer("A", "98=0|108=17|"));
  CHECK(f.s.state() == SessionState::LoggedOn);
  CHECK(f.rec.saw(SessionEventKind::LoggedOn));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "A");
  CHECK(out[0][108] == "17");
  CHECK(out[0][98] == "0");
  CHECK(out[0][34] == "1");
  CHECK(out[0][49] == "HFT");
  CHECK(out[0][56] == "CLIENT");
  CHECK(f.s.heartbeat_interval_s() == 17);
  CHECK(f.s.next_target_seq() == 2);
  CHECK(f.s.next_sender_seq() == 2);
}

TEST_CASE("session: the first message must be Logon") {
  Fixture f;
  f.feed(f.peer("D", nos("x")));
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.rec.sent.empty());  // nothing is said to a peer that has not logged on
  CHECK(f.rec.app.empty());
  CHECK(f.rec.reason(SessionEventKind::Disconnect) == "first message is not Logon");
}

TEST_CASE("session: logon timeout") {
  Fixture f;
  f.clock.advance(9 * kSec);
  f.s.on_timer();
  CHECK(f.s.state() == SessionState::AwaitingLogon);
  f.clock.advance(1 * kSec);
  f.s.on_timer();
  CHECK(f.s.state() == SessionState::Disconnected);
}

TEST_CASE("session: application messages are delivered in order") {
  Fixture f;
  f.logon();
  // One read carrying three messages; built statement by statement because the operands of
  // `+` are unsequenced and peer() numbers each message as it is built.
  std::string in = f.peer("D", nos("a"));
  in += f.peer("D", nos("b"));
  in += f.peer("D", nos("c"));
  f.feed(in);
  CHECK(f.rec.app == std::vector<std::string>{"a", "b", "c"});
  CHECK(f.s.next_target_seq() == 5);
  CHECK(f.take().empty());
}

TEST_CASE("session: bytes one at a time give the same result") {
  Fixture f;
  std::string in = f.peer("A", "98=0|108=30|");
  in += f.peer("D", nos("a"));
  in += f.peer("D", nos("b"));
  for (const char c : in) f.s.on_bytes(std::string_view(&c, 1));
  CHECK(f.s.state() == SessionState::LoggedOn);
  CHECK(f.rec.app == std::vector<std::string>{"a", "b"});
}

TEST_CASE("session: idle gets a Heartbeat and silence a TestRequest then Logout") {
  Fixture f;
  f.logon(30);
  f.clock.advance(29 * kSec);
  f.s.on_timer();
  CHECK(f.take().empty());
  f.clock.advance(1 * kSec);
  f.s.on_timer();
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "0");
  // Nothing received for HeartBtInt + 20%: a TestRequest.
  f.clock.advance(6 * kSec);
  f.s.on_timer();
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "1");
  CHECK_FALSE(out[0][112].empty());
  // No answer within another HeartBtInt: Logout and disconnect.
  f.clock.advance(29 * kSec);
  f.s.on_timer();
  CHECK(f.s.state() == SessionState::LoggedOn);
  f.clock.advance(1 * kSec);
  f.s.on_timer();
  out = f.take();
  REQUIRE_FALSE(out.empty());
  CHECK(out.back()[35] == "5");
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.rec.reason(SessionEventKind::Disconnect).find("heartbeat timeout") != std::string::npos);
}

TEST_CASE("session: an answered TestRequest keeps the session") {
  Fixture f;
  f.logon(30);
  f.clock.advance(36 * kSec);
  f.s.on_timer();
  auto out = f.take();
  REQUIRE(!out.empty());
  const std::string id(out[0][112]);
  f.feed(f.peer("0", "112=" + id + "|"));
  f.clock.advance(30 * kSec);
  f.s.on_timer();
  CHECK(f.s.state() == SessionState::LoggedOn);
}

TEST_CASE("session: a TestRequest from the peer gets a Heartbeat with its id") {
  Fixture f;
  f.logon();
  f.feed(f.peer("1", "112=PING-7|"));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "0");
  CHECK(out[0][112] == "PING-7");
}

TEST_CASE("session: a gap gets one ResendRequest, the resend fills it") {
  Fixture f;
  f.logon();                         // peer seq 1
  f.feed(f.peer("D", nos("a")));     // 2
  f.feed(f.peer("D", nos("e"), 5));  // 3 and 4 lost
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "2");
  CHECK(out[0][7] == "3");
  CHECK(out[0][16] == "0");
  CHECK(f.rec.saw(SessionEventKind::GapDetected));
  f.feed(f.peer("D", nos("f"), 6));
  CHECK(f.take().empty());  // one request per gap
  CHECK(f.rec.app == std::vector<std::string>{"a"});
  // The peer answers: 3 as a gap fill (an admin message), then 4, 5, 6 again.
  f.feed(f.peer("4", "43=Y|123=Y|36=4|", 3));
  f.feed(f.peer("D", "43=Y|122=20261130-10:00:00.000|" + nos("d"), 4));
  f.feed(f.peer("D", "43=Y|122=20261130-10:00:00.000|" + nos("e"), 5));
  f.feed(f.peer("D", "43=Y|122=20261130-10:00:00.000|" + nos("f"), 6));
  CHECK(f.rec.app == std::vector<std::string>{"a", "d(dup)", "e(dup)", "f(dup)"});
  CHECK(f.s.next_target_seq() == 7);
  // A later gap is a new one.
  f.feed(f.peer("D", nos("z"), 9));
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][7] == "7");
}

TEST_CASE("session: GapFill moves the number, an attempt to lower it is rejected") {
  Fixture f;
  f.logon();
  f.feed(f.peer("4", "123=Y|36=10|", 2));
  CHECK(f.s.next_target_seq() == 10);
  CHECK(f.rec.saw(SessionEventKind::SequenceReset));
  f.feed(f.peer("4", "123=Y|36=5|", 10));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "3");
  CHECK(out[0][373] == "5");
  CHECK(out[0][45] == "10");
  CHECK(f.s.next_target_seq() == 11);  // the rejected message used its number
}

TEST_CASE("session: SequenceReset-Reset ignores MsgSeqNum") {
  Fixture f;
  f.logon();
  f.feed(f.peer("4", "36=100|", 50));
  CHECK(f.s.next_target_seq() == 100);
  CHECK(f.take().empty());
  f.feed(f.peer("4", "36=40|", 1));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][373] == "5");
  CHECK(f.s.next_target_seq() == 100);
}

TEST_CASE("session: too low without PossDupFlag is a Logout, with it a dropped duplicate") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", nos("a")));
  f.feed(f.peer("D", "43=Y|122=20261130-10:00:00.000|" + nos("a"), 2));
  CHECK(f.rec.app == std::vector<std::string>{"a"});
  CHECK(f.s.stats().duplicates_dropped == 1);
  CHECK(f.take().empty());
  f.feed(f.peer("D", nos("b"), 2));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "5");
  CHECK(out[0][58] == "MsgSeqNum too low, expecting 3 but received 2");
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.rec.app == std::vector<std::string>{"a"});
}

TEST_CASE("session: the peer's ResendRequest gets stored messages and gap fills") {
  Fixture f;
  f.logon();  // our Logon was 1
  for (const char* id : {"r1", "r2"})
    CHECK(f.s.send_app("8", [&](hft::fix::MessageBuilder& b) { b.add(11, id).add(150, "0"); }) != 0);
  f.clock.advance(30 * kSec);
  f.s.on_timer();  // a Heartbeat: seq 4
  (void)f.take();
  f.clock.advance(1 * kSec);
  f.feed(f.peer("2", "7=1|16=0|"));
  const auto out = f.take();
  REQUIRE(out.size() == 4);
  CHECK(out[0][35] == "4");  // 1 was the Logon: gap fill to 2
  CHECK(out[0][34] == "1");
  CHECK(out[0][123] == "Y");
  CHECK(out[0][36] == "2");
  CHECK(out[0][43] == "Y");
  for (int k : {1, 2}) {
    CHECK(out[static_cast<std::size_t>(k)][35] == "8");
    CHECK(out[static_cast<std::size_t>(k)][34] == std::to_string(k + 1));
    CHECK(out[static_cast<std::size_t>(k)][43] == "Y");
    CHECK(out[static_cast<std::size_t>(k)][122] == "20261130-10:00:00.000");  // the original SendingTime
    CHECK(out[static_cast<std::size_t>(k)][52] == "20261130-10:00:31.000");
  }
  CHECK(out[1][11] == "r1");
  CHECK(out[2][11] == "r2");
  CHECK(out[3][35] == "4");  // the Heartbeat (4) becomes a gap fill to 5
  CHECK(out[3][34] == "4");
  CHECK(out[3][36] == "5");
  CHECK(f.s.next_sender_seq() == 5);  // a resend takes no new numbers
}

TEST_CASE("session: messages the store evicted are gap-filled") {
  SimClock clock{kT0};
  InMemoryMessageStore store(2, 1 << 16);  // keeps the last two
  Recorder rec;
  TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  for (int i = 0; i < 5; ++i) (void)s.send_app("8", [&](auto& b) { b.add(11, i); });  // 2..6
  rec.sent.clear();
  s.on_bytes(frame("35=2|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|7=1|16=0|"));
  REQUIRE(rec.sent.size() == 3);
  Message m;
  REQUIRE(hft::fix::parse(rec.sent[0], m).ok());
  CHECK(m.get(35) == "4");
  CHECK(m.get(36) == "5");
  REQUIRE(hft::fix::parse(rec.sent[1], m).ok());
  CHECK(m.get(34) == "5");
  REQUIRE(hft::fix::parse(rec.sent[2], m).ok());
  CHECK(m.get(34) == "6");
  CHECK(store.stats().evicted == 3);
}

TEST_CASE("session: a message that breaks a field rule gets Reject and uses its number") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", "11=x|58=|"));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "3");
  CHECK(out[0][45] == "2");
  CHECK(out[0][371] == "58");
  CHECK(out[0][372] == "D");
  CHECK(out[0][373] == "4");
  CHECK(f.s.next_target_seq() == 3);
  CHECK(f.rec.app.empty());
  // SendingTime is required.
  f.feed(frame("35=D|49=CLIENT|56=HFT|34=3|11=y|"));
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][373] == "1");
  CHECK(out[0][371] == "52");
  CHECK(f.s.next_target_seq() == 4);
  CHECK(f.s.state() == SessionState::LoggedOn);
}

TEST_CASE("session: garbled messages are ignored") {
  Fixture f;
  f.logon();
  std::string bad = f.peer("D", nos("a"));
  bad[bad.size() - 2] = bad[bad.size() - 2] == '9' ? '0' : static_cast<char>(bad[bad.size() - 2] + 1);
  f.feed(bad + "junk");
  f.peer_seq = 2;  // the garbled message's number is not consumed
  f.feed(f.peer("D", nos("b")));
  CHECK(f.take().empty());
  CHECK(f.rec.app == std::vector<std::string>{"b"});
  CHECK(f.s.stats().garbled >= 1);
  CHECK(f.rec.saw(SessionEventKind::Garbled));
}

TEST_CASE("session: wrong CompID or BeginString ends the session") {
  {
    Fixture f;
    f.logon();
    f.feed(frame("35=D|49=MALLORY|56=HFT|34=2|52=20261130-10:00:00.000|11=x|"));
    const auto out = f.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0][35] == "3");
    CHECK(out[0][373] == "9");
    CHECK(out[1][35] == "5");
    CHECK(f.s.state() == SessionState::Disconnected);
  }
  {
    Fixture f;
    f.logon();
    f.feed(frame("35=D|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|11=x|", "FIX.4.2"));
    const auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0][35] == "5");
    CHECK(f.s.state() == SessionState::Disconnected);
  }
}

TEST_CASE("session: Logout both ways") {
  {
    Fixture f;
    f.logon();
    f.feed(f.peer("5"));
    const auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0][35] == "5");
    CHECK(f.s.state() == SessionState::Disconnected);
  }
  {
    Fixture f;
    f.logon();
    f.s.logout("bye");
    CHECK(f.s.state() == SessionState::LogoutSent);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0][58] == "bye");
    f.feed(f.peer("5"));
    CHECK(f.take().empty());  // the answer is not answered
    CHECK(f.s.state() == SessionState::Disconnected);
  }
  {
    Fixture f;
    f.logon();
    f.s.logout();
    f.clock.advance(2 * kSec);
    f.s.on_timer();
    CHECK(f.s.state() == SessionState::Disconnected);
    CHECK(f.rec.reason(SessionEventKind::Disconnect) == "logout timeout");
  }
}

TEST_CASE("session: a deferred Logout answer lets the application finish") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  Recorder rec;
  TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT", .answer_logout_at_once = false}, store, rec,
                clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|" + nos("a")));
  s.on_bytes(frame("35=5|49=CLIENT|56=HFT|34=3|52=20261130-10:00:00.000|"));
  s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=4|52=20261130-10:00:00.000|" + nos("late")));
  CHECK(s.state() == SessionState::LogoutReceived);
  CHECK(rec.saw(SessionEventKind::LogoutRequested));
  // Delivered, also after the peer's Logout: a Logout that arrives above a gap is acted on
  // at once, and the resend of what it left behind comes in after it.
  CHECK(rec.app == std::vector<std::string>{"a", "late"});
  rec.sent.clear();
  CHECK(s.send_app("8", [](auto& b) { b.add(11, "a"); }) != 0);  // what is still owed
  s.logout();
  REQUIRE(rec.sent.size() == 2);
  Message m;
  REQUIRE(hft::fix::parse(rec.sent[1], m).ok());
  CHECK(m.get(35) == "5");
  CHECK(s.state() == SessionState::Disconnected);
  // Unanswered, the Logout is answered at the timeout.
  Recorder rec2;
  InMemoryMessageStore store2(64, 1 << 16);
  TestSession s2({.sender_comp_id = "HFT", .target_comp_id = "CLIENT", .answer_logout_at_once = false}, store2, rec2,
                 clock);
  s2.start();
  s2.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  s2.on_bytes(frame("35=5|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|"));
  clock.advance(2 * kSec);
  s2.on_timer();
  CHECK(s2.state() == SessionState::Disconnected);
  REQUIRE(hft::fix::parse(rec2.sent.back(), m).ok());
  CHECK(m.get(35) == "5");
}

TEST_CASE("session: a clock that steps back elapses nothing") {
  struct StepClock {  // a UTC clock an NTP step moved back
    std::uint64_t t;
    [[nodiscard]] std::uint64_t now_ns() const noexcept { return t; }
  } clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  Recorder rec;
  hft::fix::Session<Recorder, StepClock> s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  rec.sent.clear();
  clock.t = kT0 - 3600 * kSec;
  s.on_timer();
  CHECK(rec.sent.empty());  // no Heartbeat, no TestRequest: an unsigned difference would be huge
  CHECK(s.state() == SessionState::LoggedOn);
  clock.t = kT0 + 30 * kSec;
  s.on_timer();
  CHECK(rec.sent.size() == 1);
}

TEST_CASE("session: initiator sends Logon and resets when asked") {
  SimClock clock{kT0};
  InMemoryMessageStore store(16, 4096);
  store.set_next_sender_seq(40);
  store.set_next_target_seq(50);
  Recorder rec;
  TestSession s({.sender_comp_id = "CLIENT",
                 .target_comp_id = "HFT",
                 .role = SessionRole::Initiator,
                 .heartbeat_interval_s = 5,
                 .reset_on_logon = true},
                store, rec, clock);
  s.start();
  REQUIRE(rec.sent.size() == 1);
  Message m;
  REQUIRE(hft::fix::parse(rec.sent[0], m).ok());
  CHECK(m.get(35) == "A");
  CHECK(m.get(34) == "1");
  CHECK(m.get(108) == "5");
  CHECK(m.get(141) == "Y");
  CHECK(s.state() == SessionState::LogonSent);
  s.on_bytes(frame("35=A|49=HFT|56=CLIENT|34=1|52=20261130-10:00:00.000|98=0|108=5|141=Y|"));
  CHECK(s.state() == SessionState::LoggedOn);
  CHECK(s.next_sender_seq() == 2);
  CHECK(s.next_target_seq() == 2);
}

TEST_CASE("session: a restarted session continues the store's numbers") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  Recorder rec;
  {
    TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
    s.start();
    s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
    s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|" + nos("a")));
    (void)s.send_app("8", [](auto& b) { b.add(11, "a"); });
  }
  CHECK(store.next_sender_seq() == 3);
  CHECK(store.next_target_seq() == 3);
  Recorder rec2;
  TestSession s2({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec2, clock);
  s2.start();
  // The peer logs on again with its next number; a gap is asked for, an old one is refused.
  s2.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=5|52=20261130-10:00:00.000|98=0|108=30|"));
  CHECK(s2.state() == SessionState::LoggedOn);
  REQUIRE(rec2.sent.size() == 2);
  Message m;
  REQUIRE(hft::fix::parse(rec2.sent[0], m).ok());
  CHECK(m.get(35) == "A");
  CHECK(m.get(34) == "3");
  REQUIRE(hft::fix::parse(rec2.sent[1], m).ok());
  CHECK(m.get(35) == "2");
  CHECK(m.get(7) == "3");
}

TEST_CASE("session: send_app before logon or with a bad field sends nothing") {
  Fixture f;
  CHECK(f.s.send_app("8", [](auto& b) { b.add(11, "x"); }) == 0);
  f.logon();
  const auto before = f.s.next_sender_seq();
  CHECK(f.s.send_app("8", [](auto& b) { b.add(11, ""); }) == 0);
  CHECK(f.s.next_sender_seq() == before);
  CHECK(f.take().empty());
}

TEST_CASE("message store: bounded ring evicts the oldest") {
  InMemoryMessageStore st(3, 100);
  st.store(1, std::string(40, 'a'));
  st.store(2, std::string(40, 'b'));
  CHECK(st.load(1) == std::string(40, 'a'));
  st.store(3, std::string(40, 'c'));  // wraps to 0: evicts 1 (and 2 overlaps 40..80)
  CHECK(st.load(1).empty());
  CHECK(st.load(3) == std::string(40, 'c'));
  st.store(7, "x");
  st.store(8, "y");
  CHECK(st.size() <= 3);
  CHECK(st.load(8) == "y");
  CHECK(st.load(7) == "x");
  CHECK(st.load(5).empty());
  st.store(9, std::string(101, 'z'));
  CHECK(st.stats().too_large == 1);
  CHECK(st.load(9).empty());
  st.reset();
  CHECK(st.size() == 0);
  CHECK(st.next_sender_seq() == 1);
  CHECK_THROWS_WITH(InMemoryMessageStore(0, 10), Catch::Contains("max_messages must be >= 1"));
}

TEST_CASE("message store: what it holds is always the newest, byte for byte") {
  InMemoryMessageStore st(50, 2000);
  std::vector<std::string> all;
  for (std::uint64_t s = 1; s <= 2000; ++s) {
    all.push_back(std::string(1 + (s * 7919) % 97, static_cast<char>('a' + s % 26)));
    st.store(s * 2, all.back());
    // Everything it still holds is exact, and what it holds is a suffix of what was stored.
    bool gone = false;
    for (std::uint64_t k = s; k >= 1 && k + 60 > s; --k) {
      const auto v = st.load(k * 2);
      if (v.empty()) {
        gone = true;
      } else {
        REQUIRE_FALSE(gone);
        REQUIRE(v == all[k - 1]);
      }
      REQUIRE(st.load(k * 2 + 1).empty());
    }
    REQUIRE(st.load(s * 2) == all.back());
  }
}

// ---- issue 35: the defects and rules, one exchange each ----------------------------------

TEST_CASE("session: application messages that arrive after our Logout are delivered, then the answer ends it") {
  Fixture f;
  f.logon();
  f.s.logout("done");
  REQUIRE(f.s.state() == SessionState::LogoutSent);
  f.take();
  f.feed(f.peer("D", nos("owed-1")));  // reports the peer still owed, before its answer
  f.feed(f.peer("D", nos("owed-2")));
  CHECK(f.rec.app == std::vector<std::string>{"owed-1", "owed-2"});
  CHECK(f.s.next_target_seq() == 4);
  f.feed(f.peer("5"));
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.store.next_target_seq() == 5);
}

TEST_CASE("session: a refused ResetSeqNumFlag Logon changes no stored state") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  store.store(4, frame("35=8|49=HFT|56=CLIENT|34=4|52=20261130-10:00:00.000|37=o|"));
  store.set_next_sender_seq(5);
  store.set_next_target_seq(7);
  for (const std::string& logon :
       {frame("35=A|49=CLIENT|56=HFT|34=3|52=20261130-10:00:00.000|98=0|108=30|141=Y|"),           // MsgSeqNum != 1
        frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=-5|141=Y|"),           // bad HeartBtInt
        frame("35=A|49=CLIENT|56=HFT|34=1|52=20011130-10:00:00.000|98=0|108=30|141=Y|"),           // SendingTime 2001
        frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|141=Y|141=Y|")}) {  // repeated
    INFO(hft::test::bars(logon));
    Recorder rec;
    TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
    s.start();
    s.on_bytes(logon);
    CHECK(s.state() == SessionState::Disconnected);
    CHECK(store.next_sender_seq() == 5);
    CHECK(store.next_target_seq() == 7);
    CHECK_FALSE(store.load(4).empty());
  }
  // The real logon afterwards continues the numbers.
  Recorder rec;
  TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=7|52=20261130-10:00:00.000|98=0|108=30|"));
  CHECK(s.state() == SessionState::LoggedOn);
  Message m;
  REQUIRE(hft::fix::parse(rec.sent.at(0), m).ok());
  CHECK(m.get(34) == "5");
}

TEST_CASE("session: a first message that breaks a field rule gets no reply and moves no number") {
  for (const std::string& first :
       {frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|58=|"),  // empty value
        frame("35=A|49=CLIENT|56=HFT|52=20261130-10:00:00.000|98=0|108=30|34=1|"),      // 34 after the body
        frame("35=A|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"),                // no SenderCompID
        frame("35=A|49=MALLORY|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"),     // another CompID
        frame("35=D|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|11=x|55=A|54=1|60=20261130-10:00:00|40=2|")}) {
    INFO(hft::test::bars(first));
    Fixture f;
    f.store.set_next_sender_seq(9);
    f.feed(first);
    CHECK(f.s.state() == SessionState::Disconnected);
    CHECK(f.rec.sent.empty());
    CHECK(f.store.next_sender_seq() == 9);
    CHECK(f.store.next_target_seq() == 1);
  }
  // A Logon with a SendingTime accuracy problem is answered (Reject 10, Logout) and still
  // moves no stored number.
  Fixture f;
  f.feed(frame("35=A|49=CLIENT|56=HFT|34=1|52=20011130-10:00:00.000|98=0|108=30|"));
  const auto out = f.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0][35] == "3");
  CHECK(out[0][373] == "10");
  CHECK(out[1][35] == "5");
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.store.next_sender_seq() == 1);
  CHECK(f.store.next_target_seq() == 1);
}

TEST_CASE("session: send_app refuses a message longer than max_message_size and uses no number") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  Recorder rec;
  TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT", .max_message_size = 256}, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  REQUIRE(s.state() == SessionState::LoggedOn);
  const std::string big(220, 'x');
  CHECK(s.send_app("8", [&](auto& b) { b.add(58, big); }) == 0);
  CHECK(s.next_sender_seq() == 2);
  CHECK(store.size() == 0);
  // The largest message send_app takes still fits max_message_size when resent (with
  // PossDupFlag and OrigSendingTime): a peer with the same limit reads the resend.
  std::size_t largest = 0;
  std::string fits;
  for (std::size_t len = 120; len < 220; ++len) {
    const std::string text(len, 'y');
    const std::uint64_t before = s.next_sender_seq();
    const std::uint64_t seq = s.send_app("8", [&](auto& b) { b.add(58, text); });
    if (seq == 0) {
      CHECK(s.next_sender_seq() == before);
      break;
    }
    largest = rec.sent.back().size();
    fits = text;
  }
  REQUIRE(largest > 200);
  CHECK(largest + 32 <= 256);
  rec.sent.clear();
  s.on_bytes(frame("35=2|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|7=2|16=0|"));
  REQUIRE_FALSE(rec.sent.empty());
  Message m;
  const std::string& last = rec.sent.back();
  CHECK(last.size() <= 256);
  REQUIRE(hft::fix::parse(last, m, {.max_body_length = 256}).ok());
  CHECK(m.get(35) == "8");
  CHECK(m.get(43) == "Y");
  CHECK(m.get(58) == fits);
}

TEST_CASE("session: store_app after the close numbers and stores, and the next session's resend delivers it") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  const SessionConfig cfg{.sender_comp_id = "HFT", .target_comp_id = "CLIENT", .max_message_size = 512};
  {
    Recorder rec;
    TestSession s(cfg, store, rec, clock);
    s.start();
    // Before any Logon the numbers are not the session's: nothing is stored.
    CHECK(s.store_app("8", [](auto& b) { b.add(11, "early"); }) == 0);
    s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
    REQUIRE(s.state() == SessionState::LoggedOn);
    REQUIRE(s.send_app("8", [](auto& b) { b.add(11, "sent"); }) == 2);
    // While logged on store_app refuses: send_app is the call.
    CHECK(s.store_app("8", [](auto& b) { b.add(11, "live"); }) == 0);
    const std::size_t wires = rec.sent.size();
    s.disconnect();
    CHECK(s.store_app("8", [](auto& b) { b.add(11, "owed1"); }) == 3);
    CHECK(s.store_app("8", [&](auto& b) { b.add(58, std::string(600, 'x')); }) == 0);  // too long: no number
    CHECK(s.store_app("8", [](auto& b) { b.add(11, "owed2"); }) == 4);
    CHECK(rec.sent.size() == wires);  // nothing was sent
    CHECK(s.stats().stored_unsent == 2);
    CHECK(store.next_sender_seq() == 5);
  }
  // The peer logs on again expecting 3, sees our Logon at 5, and asks for 3..4.
  Recorder rec;
  TestSession s(cfg, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|98=0|108=30|"));
  REQUIRE(s.state() == SessionState::LoggedOn);
  REQUIRE(rec.sent.size() == 1);
  CHECK(Sent(rec.sent[0])[34] == "5");
  s.on_bytes(frame("35=2|49=CLIENT|56=HFT|34=3|52=20261130-10:00:00.000|7=3|16=4|"));
  REQUIRE(rec.sent.size() == 3);
  const Sent a(rec.sent[1]), b(rec.sent[2]);
  CHECK(a[34] == "3");
  CHECK(a[11] == "owed1");
  CHECK(a[43] == "Y");
  CHECK(b[34] == "4");
  CHECK(b[11] == "owed2");
  CHECK(b[43] == "Y");
}

namespace {
// Records, for every message sent, whether the session said it was answering a ResendRequest.
struct ResendProbe : Recorder {
  std::function<bool()> probe;
  std::vector<bool> in_resend;
  void send(std::string_view w) {
    Recorder::send(w);
    in_resend.push_back(probe());
  }
};
using ProbeSession = hft::fix::Session<ResendProbe, SimClock>;
}  // namespace

TEST_CASE("session: in_resend is true exactly while the answer to a ResendRequest is sent") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  ResendProbe rec;
  ProbeSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
  rec.probe = [&s] { return s.in_resend(); };
  s.start();
  CHECK_FALSE(s.in_resend());
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  REQUIRE(s.send_app("8", [](auto& b) { b.add(11, "a"); }) == 2);
  REQUIRE(s.send_app("8", [](auto& b) { b.add(11, "b"); }) == 3);
  const std::size_t before = rec.in_resend.size();
  for (std::size_t i = 0; i < before; ++i) CHECK_FALSE(rec.in_resend[i]);  // the Logon, two reports
  s.on_bytes(frame("35=2|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|7=1|16=0|"));
  REQUIRE(rec.in_resend.size() == before + 3);  // a gap fill for the Logon, then a and b
  for (std::size_t i = before; i < rec.in_resend.size(); ++i) CHECK(rec.in_resend[i]);
  CHECK_FALSE(s.in_resend());
  REQUIRE(s.send_app("8", [](auto& b) { b.add(11, "c"); }) == 4);
  CHECK_FALSE(rec.in_resend.back());
}

namespace {
struct Throwing : Recorder {
  void on_app_message(const Message& m) {
    if (m.get(11) == "boom") throw std::runtime_error("handler failed");
    Recorder::on_app_message(m);
  }
};
}  // namespace

TEST_CASE("session: delivery is at least once, a handler that throws leaves the message's number unused") {
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  {
    Throwing rec;
    hft::fix::Session<Throwing, SimClock> s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
    s.start();
    s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
    s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|" + nos("a")));
    CHECK_THROWS_AS(s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=3|52=20261130-10:00:00.000|" + nos("boom"))),
                    std::runtime_error);
    CHECK(s.state() == SessionState::Disconnected);
    CHECK(rec.app == std::vector<std::string>{"a"});
    CHECK(store.next_target_seq() == 3);  // 3 was not used: it comes back
  }
  // The restarted session asks for 3 again when the peer goes on at 4.
  Recorder rec;
  TestSession s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec, clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=4|52=20261130-10:00:00.000|98=0|108=30|"));
  Message m;
  REQUIRE(rec.sent.size() == 2);
  REQUIRE(hft::fix::parse(rec.sent[1], m).ok());
  CHECK(m.get(35) == "2");
  CHECK(m.get(7) == "3");
  s.on_bytes(
      frame("35=D|49=CLIENT|56=HFT|34=3|43=Y|122=20261130-10:00:00.000|52=20261130-10:00:00.000|" + nos("boom")));
  CHECK(rec.app == std::vector<std::string>{"boom(dup)"});
}

TEST_CASE("session: a gap that stays unfilled is requested again, then ends the session") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", nos("x"), 5));  // 2-4 missing
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "2");
  CHECK(out[0][7] == "2");
  for (int attempt = 0; attempt < 2; ++attempt) {
    f.clock.advance(9 * kSec);
    f.s.on_timer();
    CHECK(f.take().size() <= 1);  // maybe a Heartbeat, no ResendRequest yet
    f.clock.advance(1 * kSec);
    f.s.on_timer();
    out = f.take();
    bool again = false;
    for (const auto& m : out) again = again || (m[35] == "2" && m[7] == "2");
    CHECK(again);
    f.feed(f.peer("0", "", 6));  // traffic that is not the resend keeps nothing alive
  }
  f.clock.advance(10 * kSec);
  f.s.on_timer();
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.rec.reason(SessionEventKind::Disconnect) == "gap not filled: no answer to ResendRequest");
}

TEST_CASE("session: a gap being filled slowly is not requested again") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", nos("x"), 5));
  f.take();
  for (std::uint64_t seq = 2; seq <= 4; ++seq) {
    f.clock.advance(8 * kSec);
    f.s.on_timer();
    std::string id = "r";  // appended: g++ 12's -Wstringop-overflow misfires on "r" + std::to_string(seq)
    id += std::to_string(seq);
    f.feed(f.peer("D", "43=Y|122=20261130-10:00:00.000|" + nos(id), seq));
  }
  for (const auto& m : f.take()) CHECK(m[35] != "2");
  CHECK(f.s.state() == SessionState::LoggedOn);
}

TEST_CASE("session: a mid-session Logon with ResetSeqNumFlag=Y and MsgSeqNum=1 resets both numbers") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", nos("a")));
  REQUIRE(f.s.send_app("8", [](auto& b) { b.add(11, "a"); }) == 2);
  f.take();
  f.feed(f.peer("A", "98=0|108=30|141=Y|", 1));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "A");
  CHECK(out[0][34] == "1");
  CHECK(out[0][141] == "Y");
  CHECK(f.s.next_target_seq() == 2);
  CHECK(f.s.next_sender_seq() == 2);
  CHECK(f.s.state() == SessionState::LoggedOn);
}

TEST_CASE("session: SequenceReset-Reset with MsgSeqNum 0 or none is processed") {
  for (const std::string seq_field : {"34=0|", "34=999|", "34=1|"}) {
    Fixture f;
    f.logon();
    f.feed(frame("35=4|49=CLIENT|56=HFT|" + seq_field + "52=20261130-10:00:00.000|36=20|"));
    CAPTURE(seq_field, f.rec.sent.size());
    CHECK(f.s.state() == SessionState::LoggedOn);
    CHECK(f.s.next_target_seq() == 20);
  }
  // MsgSeqNum is still a required header field: without one, Reject reason 1, and the
  // session goes on.
  Fixture f;
  f.logon();
  f.feed(frame("35=4|49=CLIENT|56=HFT|52=20261130-10:00:00.000|36=20|"));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][373] == "1");
  CHECK(out[0][371] == "34");
  CHECK(f.s.next_target_seq() == 2);
  CHECK(f.s.state() == SessionState::LoggedOn);
}

TEST_CASE("session: gap fills answering a ResendRequest carry OrigSendingTime") {
  Fixture f;
  f.logon();
  f.feed(f.peer("2", "7=1|16=0|"));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "4");
  CHECK(out[0][123] == "Y");
  CHECK(out[0][43] == "Y");
  CHECK_FALSE(out[0][122].empty());
}

TEST_CASE("session: a Reject for a misplaced MsgSeqNum quotes its real number and uses it") {
  Fixture f;
  f.logon();
  f.feed(frame("35=D|49=CLIENT|56=HFT|52=20261130-10:00:00.000|11=x|34=2|"));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][35] == "3");
  CHECK(out[0][45] == "2");
  CHECK(out[0][373] == "14");
  CHECK(out[0][371] == "34");
  f.peer_seq = 3;
  f.feed(f.peer("D", nos("y")));
  CHECK(f.take().empty());  // no ResendRequest: 2 was used
  CHECK(f.rec.app == std::vector<std::string>{"y"});
}

TEST_CASE("session: a missing CompID is a Reject with reason 1 and the session goes on") {
  // With the dictionary (a required header field) and without one (the session's own check).
  for (const auto& [body, missing, dict] :
       {std::tuple<std::string, std::string, const hft::fix::Dictionary*>{"35=0|49=CLIENT|34=2|", "56", nullptr},
        std::tuple<std::string, std::string, const hft::fix::Dictionary*>{"35=0|56=HFT|34=2|", "49", nullptr},
        std::tuple<std::string, std::string, const hft::fix::Dictionary*>{"35=0|49=CLIENT|34=2|", "56",
                                                                          &hft::fix::Dictionary::fix44()}}) {
    Fixture f(SessionRole::Acceptor, 30, dict);
    f.logon();
    f.feed(frame(body + "52=20261130-10:00:00.000|"));
    const auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0][35] == "3");
    CHECK(out[0][373] == "1");
    CHECK(out[0][371] == missing);
    CHECK(f.s.state() == SessionState::LoggedOn);
    CHECK(f.s.next_target_seq() == 3);
  }
}

TEST_CASE("session: PossDupFlag=Y without OrigSendingTime, or with a later one, is rejected") {
  {
    Fixture f;
    f.logon();
    f.feed(f.peer("D", "43=Y|" + nos("a")));
    const auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0][373] == "1");
    CHECK(out[0][371] == "122");
    CHECK(f.rec.app.empty());
    CHECK(f.s.next_target_seq() == 3);
    CHECK(f.s.state() == SessionState::LoggedOn);
  }
  {
    Fixture f;
    f.logon();
    f.feed(f.peer("D", "43=Y|122=20261130-10:00:01.000|" + nos("a")));
    const auto out = f.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0][373] == "10");
    CHECK(out[1][35] == "5");
    CHECK(f.rec.app.empty());
    CHECK(f.s.state() == SessionState::Disconnected);
  }
}

TEST_CASE("session: SendingTime out of the window gets Reject 10 and a Logout") {
  Fixture f;
  f.logon();
  f.clock.advance(121 * kSec);  // peer() still writes 10:00:00: two minutes and a second late
  f.feed(f.peer("D", nos("late")));
  const auto out = f.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0][35] == "3");
  CHECK(out[0][373] == "10");
  CHECK(out[0][45] == "2");
  CHECK(out[1][35] == "5");
  CHECK(f.rec.app.empty());
  CHECK(f.s.state() == SessionState::Disconnected);
  CHECK(f.store.next_target_seq() == 3);
}

TEST_CASE("session: an invalid MsgType is a Reject with reason 11, a valid unhandled one reaches the application") {
  Fixture f;
  f.logon();
  f.feed(f.peer("ZZ", "11=a|"));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][373] == "11");
  CHECK(out[0][372] == "ZZ");
  CHECK(f.s.next_target_seq() == 3);
  f.feed(f.peer("AE", ""));  // TradeCaptureReport: valid FIX 4.4, the application decides
  CHECK(f.take().empty());
  CHECK(f.rec.app.size() == 1);
}

TEST_CASE("session: a repeated tag is a Reject with reason 13 and nothing is delivered") {
  Fixture f;
  f.logon();
  f.feed(f.peer("D", nos("a") + "40=1|"));
  const auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0][373] == "13");
  CHECK(out[0][371] == "40");
  CHECK(f.rec.app.empty());
}

namespace {
struct BusinessRejecter : Recorder {
  std::vector<std::pair<std::string, unsigned>> invalid;  // ClOrdID, reason
  void on_invalid_app_message(const Message& m, const hft::fix::Violation& v) {
    invalid.emplace_back(std::string(m.get(11)), static_cast<unsigned>(v.reason));
  }
};
}  // namespace

TEST_CASE("session: a value-level violation of an order goes to the handler when it answers those itself") {
  const std::string bad_enum = "11=e|55=AAPL|54=1|60=20261130-10:00:00.000|38=100|40=2|44=10|21=4|";
  const std::string no_time = "11=t|55=AAPL|54=1|38=100|40=2|44=10|";
  {
    Fixture f;  // Recorder has no on_invalid_app_message: the session rejects
    f.logon();
    f.feed(f.peer("D", bad_enum));
    f.feed(f.peer("D", no_time));
    const auto out = f.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0][373] == "5");
    CHECK(out[0][371] == "21");
    CHECK(out[1][373] == "1");
    CHECK(out[1][371] == "60");
    CHECK(f.rec.app.empty());
  }
  SimClock clock{kT0};
  InMemoryMessageStore store(64, 1 << 16);
  BusinessRejecter rec;
  hft::fix::Session<BusinessRejecter, SimClock> s({.sender_comp_id = "HFT", .target_comp_id = "CLIENT"}, store, rec,
                                                  clock);
  s.start();
  s.on_bytes(frame("35=A|49=CLIENT|56=HFT|34=1|52=20261130-10:00:00.000|98=0|108=30|"));
  s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=2|52=20261130-10:00:00.000|" + bad_enum));
  s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=3|52=20261130-10:00:00.000|" + no_time));
  s.on_bytes(frame("35=D|49=CLIENT|56=HFT|34=4|52=20261130-10:00:00.000|" + nos("r") + "40=1|"));  // structural
  CHECK(rec.invalid == std::vector<std::pair<std::string, unsigned>>{{"e", 5}, {"t", 1}});
  CHECK(rec.sent.size() == 2);  // the Logon and one session Reject (reason 13)
  CHECK(s.next_target_seq() == 5);
}
