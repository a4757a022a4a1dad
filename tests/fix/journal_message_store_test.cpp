// fix::JournalMessageStore: every claim of its header, by reopening the directory (and, for
// the crash claim, by a child process that exits without running a destructor).
#include "hft/fix/journal_message_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "fix_support.hpp"
#include "hft/fix/session.hpp"

using hft::SimClock;
using hft::fix::JournalMessageStore;
using hft::fix::Message;
using hft::fix::SessionConfig;
using hft::fix::SessionState;
using hft::test::frame;
using hft::test::TempDir;

namespace {

constexpr std::uint64_t kT0 = 1'796'032'800ULL * 1'000'000'000ULL;  // 2026-11-30 10:00:00, peer()'s SendingTime

struct Recorder {
  std::vector<std::string> sent;
  std::vector<std::string> app;
  void send(std::string_view w) { sent.emplace_back(w); }
  void on_app_message(const Message& m) { app.emplace_back(m.get(11)); }
  void on_event(const hft::fix::SessionEvent&) {}
};
using TestSession = hft::fix::Session<Recorder, SimClock>;

std::string peer(std::string_view type, std::uint64_t seq, std::string_view body = "") {
  return frame("35=" + std::string(type) + "|49=CLIENT|56=HFT|34=" + std::to_string(seq) +
               "|52=20261130-10:00:00.000|" + std::string(body));
}

Message parsed(const std::string& wire) {
  Message m;
  REQUIRE(hft::fix::parse(wire, m).ok());
  return m;
}

// prefix + n, appended: g++ 12's -Wrestrict misfires on "literal" + std::to_string(n).
std::string numbered(const char* prefix, std::uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

std::string text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// These are the store's tests: the peer's messages are bare (a D with only ClOrdID), so the
// dictionary's validation is off here (tests/fix/session_test.cpp and dictionary_test.cpp
// hold its tests).
SessionConfig session_config() { return {.sender_comp_id = "HFT", .target_comp_id = "CLIENT", .dictionary = nullptr}; }

}  // namespace

TEST_CASE("journal message store: a restarted session continues its numbers and resends from before the restart",
          "[fix][journal]") {
  TempDir t;
  SimClock clock{kT0};
  std::vector<std::string> reports;  // the wire of each ExecutionReport the first session sent
  {
    JournalMessageStore store(t.path());
    Recorder rec;
    TestSession s(session_config(), store, rec, clock);
    s.start();
    s.on_bytes(peer("A", 1, "98=0|108=30|"));  // our Logon answer is 1
    REQUIRE(s.state() == SessionState::LoggedOn);
    s.on_bytes(peer("D", 2, "11=a|"));
    s.on_bytes(peer("D", 3, "11=b|"));
    REQUIRE(rec.app == std::vector<std::string>{"a", "b"});
    for (const char* id : {"a", "b"}) REQUIRE(s.send_app("8", [&](auto& b) { b.add(11, id).add(150, "F"); }) != 0);
    clock.advance(31'000'000'000ULL);
    s.on_timer();  // a Heartbeat: 4
    for (std::size_t k = 1; k <= 2; ++k) reports.push_back(rec.sent[k]);
    REQUIRE(store.next_sender_seq() == 5);
    REQUIRE(store.next_target_seq() == 4);
  }
  JournalMessageStore store(t.path());
  CHECK(store.next_sender_seq() == 5);
  CHECK(store.next_target_seq() == 4);
  CHECK(store.replayed().messages == 2);
  CHECK(store.load(2) == reports[0]);
  CHECK(store.load(3) == reports[1]);
  CHECK(store.load(1).empty());  // admin messages are never stored
  CHECK(store.load(4).empty());

  Recorder rec;
  TestSession s(session_config(), store, rec, clock);
  s.start();
  // The peer logs on with its next number: no gap, so no ResendRequest; our Logon is 5.
  s.on_bytes(peer("A", 4, "98=0|108=30|"));
  REQUIRE(s.state() == SessionState::LoggedOn);
  REQUIRE(rec.sent.size() == 1);
  CHECK(parsed(rec.sent[0]).get(34) == "5");
  // It asks for everything we sent: the reports come from the journal, the rest is gap-filled.
  s.on_bytes(peer("2", 5, "7=1|16=0|"));
  REQUIRE(rec.sent.size() == 5);
  const Message gap1 = parsed(rec.sent[1]);
  CHECK(gap1.get(35) == "4");
  CHECK(gap1.get(36) == "2");
  for (std::size_t k = 0; k < 2; ++k) {
    const Message m = parsed(rec.sent[2 + k]);
    CHECK(m.get(35) == "8");
    CHECK(m.get(34) == std::to_string(2 + k));
    CHECK(m.get(43) == "Y");
    CHECK(m.get(11) == (k == 0 ? "a" : "b"));
  }
  const Message gap2 = parsed(rec.sent[4]);
  CHECK(gap2.get(35) == "4");
  CHECK(gap2.get(34) == "4");
  CHECK(gap2.get(36) == "6");
  CHECK(store.next_target_seq() == 6);
}

TEST_CASE("journal message store: a number the last message implies costs no record", "[fix][journal]") {
  TempDir t;
  JournalMessageStore store(t.path());
  store.store(1, "m1");
  store.set_next_sender_seq(2);  // what store(1) already says
  CHECK(store.journal().last_sequence() == 1);
  store.set_next_sender_seq(3);  // an admin message took 2
  CHECK(store.journal().last_sequence() == 2);
  store.set_next_target_seq(1);  // unchanged from a new store's
  CHECK(store.journal().last_sequence() == 2);
  store.set_next_target_seq(2);
  store.set_next_target_seq(2);
  CHECK(store.journal().last_sequence() == 3);
}

TEST_CASE("journal message store: a reset survives a reopen, and what came before it does not", "[fix][journal]") {
  TempDir t;
  {
    JournalMessageStore store(t.path());
    store.store(1, "old1");
    store.store(2, "old2");
    store.set_next_sender_seq(3);
    store.set_next_target_seq(9);
    store.reset();
    store.store(1, "new1");
    store.set_next_sender_seq(2);
    store.set_next_target_seq(2);
  }
  JournalMessageStore store(t.path());
  CHECK(store.replayed().resets == 1);
  CHECK(store.load(1) == "new1");
  CHECK(store.load(2).empty());
  CHECK(store.next_sender_seq() == 2);
  CHECK(store.next_target_seq() == 2);
}

TEST_CASE("journal message store: application records come back in their place", "[fix][journal]") {
  TempDir t;
  {
    JournalMessageStore store(t.path());
    store.append_app(bytes("first"));
    store.store(1, "m1");
    store.append_app(bytes(""));  // empty is a record too
    store.set_next_target_seq(5);
    store.append_app(bytes("third"));
  }
  std::vector<std::string> got;
  JournalMessageStore store(t.path(), {}, [&](std::span<const std::byte> b) { got.push_back(text(b)); });
  CHECK(got == std::vector<std::string>{"first", "", "third"});
  CHECK(store.replayed().app_records == 3);
  CHECK(store.replayed().records == 5);
  CHECK(store.load(1) == "m1");
  CHECK(store.next_target_seq() == 5);
}

TEST_CASE("journal message store: the cache bounds what a resend serves after a reopen", "[fix][journal]") {
  TempDir t;
  {
    JournalMessageStore store(t.path(), {.max_messages = 2, .max_bytes = 1 << 10});
    for (std::uint64_t s = 1; s <= 5; ++s) store.store(s, numbered("m", s));
  }
  JournalMessageStore store(t.path(), {.max_messages = 2, .max_bytes = 1 << 10});
  CHECK(store.replayed().messages == 5);
  for (std::uint64_t s = 1; s <= 3; ++s) CHECK(store.load(s).empty());
  CHECK(store.load(4) == "m4");
  CHECK(store.load(5) == "m5");
  CHECK(store.next_sender_seq() == 6);
  CHECK(store.cache_stats().evicted == 3);
}

TEST_CASE("journal message store: records across many segment rolls replay in order", "[fix][journal]") {
  TempDir t;
  for (const bool prepare : {true, false}) {
    INFO("prepare_next " << prepare);
    const std::string dir = t.sub(prepare ? "prepared" : "unprepared");
    const hft::fix::JournalMessageStoreConfig cfg{.max_messages = 4096, .segment_size = 4096, .prepare_next = prepare};
    std::vector<std::string> apps;
    {
      JournalMessageStore store(dir, cfg);
      for (std::uint64_t s = 1; s <= 600; ++s) {
        store.store(s, std::string(40 + s % 50, static_cast<char>('a' + s % 26)));
        store.set_next_target_seq(s + 1);
        if (s % 7 == 0) {
          apps.push_back(numbered("app ", s));
          store.append_app(bytes(apps.back()));
        }
      }
      REQUIRE(store.journal().stats().rolls > 10);
    }
    std::vector<std::string> got;
    JournalMessageStore store(dir, cfg, [&](std::span<const std::byte> b) { got.push_back(text(b)); });
    CHECK(got == apps);
    CHECK(store.next_sender_seq() == 601);
    CHECK(store.next_target_seq() == 601);
    for (std::uint64_t s = 1; s <= 600; ++s)
      REQUIRE(store.load(s) == std::string(40 + s % 50, static_cast<char>('a' + s % 26)));
  }
}

TEST_CASE("journal message store: a process that dies without a destructor loses nothing it stored",
          "[fix][journal][process]") {
  TempDir t;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int rc = 0;
    try {
      JournalMessageStore store(t.path());
      for (std::uint64_t s = 1; s <= 1000; ++s) {
        store.store(s, numbered("message ", s));
        store.set_next_sender_seq(s + 1);
        store.set_next_target_seq(s + 1);
      }
    } catch (...) {
      rc = 3;
    }
    ::_exit(rc);  // the store's destructor never runs: the state of a kill -9
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  JournalMessageStore store(t.path(), {.max_messages = 2000});
  CHECK(store.next_sender_seq() == 1001);
  CHECK(store.next_target_seq() == 1001);
  for (std::uint64_t s = 1; s <= 1000; ++s) REQUIRE(store.load(s) == numbered("message ", s));
}

TEST_CASE("journal message store: limits and errors", "[fix][journal]") {
  TempDir t;
  SECTION("an application record over max_app_record() throws and costs nothing") {
    JournalMessageStore store(t.path(), {.segment_size = 4096});
    const std::string big(store.max_app_record() + 1, 'x');
    CHECK_THROWS_AS(store.append_app(bytes(big)), hft::JournalError);
    const std::string fits(store.max_app_record(), 'y');
    store.append_app(bytes(fits));
    store.store(1, "after");
    CHECK(store.journal().last_sequence() == 2);
  }
  SECTION("a journal written by something else is refused") {
    {
      hft::Journal j(t.path());
      (void)j.append("not a store record", 18);
    }
    CHECK_THROWS_WITH(JournalMessageStore(t.path()), Catch::Contains("not a FIX store record"));
  }
  SECTION("a bad cache bound is refused") {
    CHECK_THROWS_AS(JournalMessageStore(t.path(), {.max_messages = 0}), std::invalid_argument);
  }
}
