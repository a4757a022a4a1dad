// Property test of a fix::Session pair: an initiator and an acceptor, each over its own
// JournalMessageStore, talk over an in-memory link while a seeded scheduler moves a SimClock,
// sends application messages both ways and injects faults:
//   - a TCP-like link: one ordered byte stream per direction, read in chunks of any size, that
//     loses an arbitrary tail at each disconnect;
//   - a lossy link: whole messages dropped, duplicated, moved behind the next one, truncated
//     or garbled (a flipped byte, a broken CheckSum);
//   - disconnects (a new Session per connection, logged on again), logouts from either side,
//     process restarts (Session, store and application destroyed; the store reopened from
//     its directory), and crashes inside on_app_message (before or after the application
//     journaled the message: the handler throws and the process dies).
// Then the faults stop and time runs until both sides are logged on and idle. The property:
// every application message either side sent (send_app returned non-zero) was processed by
// the other side exactly once and in order, and nothing send_app refused arrived. Delivery is
// at-least-once across a crash inside the handler (docs/fix.md): a message may come back only
// with PossDupFlag=Y, only after its previous delivery crashed, and the application dedupes
// it by its own key (the payload id in ClOrdID, journaled with append_app before the handler
// returns), which makes processing exactly-once.
// HFT_PROPERTY_SEEDS=n sets the schedules per test case (default 400, divided by
// HFT_TEST_DIVISOR); HFT_SEED=n replays one; HFT_TRACE=1 prints its steps. A failure prints
// `seed=N` on stderr. For triage, HFT_PROPERTY_OFF=crash,restart,logout,disconnect,oversize,lossy
// leaves those faults out.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "hft/fix/session.hpp"

using hft::SimClock;
using hft::fix::JournalMessageStore;
using hft::fix::Message;
using hft::fix::SessionConfig;
using hft::fix::SessionEvent;
using hft::fix::SessionEventKind;
using hft::fix::SessionRole;
using hft::fix::SessionState;

namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1'000 * kMs;
constexpr std::uint64_t kT0 = 1'796'000'000 * kSec;  // 2026-11-30
constexpr std::uint32_t kMaxMessage = 1024;

/// splitmix64: the same schedule for a seed on every compiler and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// [0, n), n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  /// true with probability per_mille / 1000.
  bool chance(std::uint64_t per_mille) { return below(1000) < per_mille; }

 private:
  std::uint64_t s_;
};

/// Thrown by the handler: the process dies inside on_app_message.
struct Crash {};

enum class CrashPoint : std::uint8_t { None, BeforeJournal, AfterJournal };
enum class Outcome : std::uint8_t { Processed, Deduped, Crashed };

struct Delivery {
  std::uint64_t id;
  bool poss_dup;
  Outcome outcome;
};

// One line of the HFT_TRACE log (a macro, so the compiler checks each format).
#define PROP_TRACE(...)                  \
  do {                                   \
    if (trace_) {                        \
      stamp();                           \
      std::fprintf(stderr, __VA_ARGS__); \
      std::fprintf(stderr, "\n");        \
    }                                    \
  } while (0)

class World;

struct Handler {
  World* world;
  int side;
  void send(std::string_view wire);
  void on_app_message(const Message& m);
  void on_event(const SessionEvent& e);
};
using TestSession = hft::fix::Session<Handler, SimClock>;

/// One process (its session, store and application state) plus what the oracle records
/// about it, which outlives the process.
struct Peer {
  const char* name = "";
  SessionConfig cfg;
  std::string dir;
  Handler handler{};
  // The process: gone at a restart.
  std::unique_ptr<JournalMessageStore> store;
  std::unique_ptr<TestSession> session;
  std::vector<std::uint64_t> processed;  // payload ids in the order processed (rebuilt from the journal)
  std::unordered_set<std::uint64_t> processed_set;
  CrashPoint crash = CrashPoint::None;  // armed: the next delivery dies there
  bool logout_requested = false;        // the peer's Logout waits for our logout()
  // The oracle's records.
  std::vector<std::uint64_t> sent;  // payload ids send_app numbered, in order
  std::unordered_set<std::uint64_t> refused;
  std::vector<Delivery> deliveries;  // every on_app_message call
  std::uint64_t restarts = 0, crashes = 0;
};

std::string numbered(const char* prefix, std::uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

class World {
 public:
  enum class Mode : std::uint8_t { Tcp, Lossy };

  World(std::uint64_t seed, Mode mode, std::string root) : rng_(seed), mode_(mode), root_(std::move(root)) {
    trace_ = std::getenv("HFT_TRACE") != nullptr;
    if (const char* off = std::getenv("HFT_PROPERTY_OFF"); off != nullptr) off_ = off;
    const std::uint32_t hb = 1 + static_cast<std::uint32_t>(rng_.below(10));
    const SessionRole roles[2] = {SessionRole::Initiator, SessionRole::Acceptor};
    const char* names[2] = {"INI", "ACC"};
    for (int i = 0; i < 2; ++i) {
      Peer& s = sides_[i];
      s.name = names[i];
      s.cfg = SessionConfig{.sender_comp_id = names[i],
                            .target_comp_id = names[1 - i],
                            .role = roles[i],
                            .heartbeat_interval_s = hb,
                            .answer_logout_at_once = rng_.chance(500),
                            .max_message_size = kMaxMessage};
      s.dir = root_ + "/" + names[i];
      s.handler = Handler{this, i};
      open_store(s);
    }
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {
    for (Peer& s : sides_) {
      s.session.reset();
      s.store.reset();
    }
  }

  /// Runs the schedule; returns what went wrong, or an empty string.
  std::string run() {
    connect();
    const std::uint64_t steps = 100 + rng_.below(200);
    for (std::uint64_t i = 0; i < steps; ++i) {
      fault_step();
      settle();
    }
    faults_ = false;
    for (Peer& s : sides_) s.crash = CrashPoint::None;
    PROP_TRACE("--- quiescence");
    if (!quiesce()) return "no quiescence after 600 s without faults: " + describe();
    for (int r = 0; r < 2; ++r) {
      std::string err = check(r);
      if (!err.empty()) return err + "\n" + describe();
    }
    return {};
  }

  // The handler's calls.
  void write(int from, std::string_view wire) {
    if (!open_) return;
    Pipe& p = pipes_[from];
    if (lossy_)
      p.messages.emplace_back(wire);
    else
      p.bytes.append(wire);
  }

  void on_app_message(int side, const Message& m) {
    Peer& s = sides_[side];
    const std::string_view clordid = m.get(11);
    std::uint64_t id = 0;
    if (clordid.size() < 2 || clordid[0] != 'P') throw std::logic_error("hft session_property: foreign message");
    for (const char c : clordid.substr(1)) id = id * 10 + static_cast<std::uint64_t>(c - '0');
    const bool dup = m.get_bool(43) == true;
    PROP_TRACE("%s delivered P%llu%s", s.name, static_cast<unsigned long long>(id), dup ? " (PossDup)" : "");
    s.deliveries.push_back({id, dup, Outcome::Processed});
    if (s.crash != CrashPoint::None) {
      const CrashPoint at = s.crash;
      s.crash = CrashPoint::None;
      if (at == CrashPoint::AfterJournal && s.processed_set.count(id) == 0) journal(s, id);
      s.deliveries.back().outcome = Outcome::Crashed;
      PROP_TRACE("%s crashes in the handler %s journaling", s.name,
                 at == CrashPoint::AfterJournal ? "after" : "before");
      throw Crash{};
    }
    if (s.processed_set.count(id) != 0) {  // the idempotency rule: our own key decides
      s.deliveries.back().outcome = Outcome::Deduped;
      PROP_TRACE("%s dedupes P%llu", s.name, static_cast<unsigned long long>(id));
      return;
    }
    journal(s, id);
    s.processed.push_back(id);
    s.processed_set.insert(id);
  }

  void on_event(int side, const SessionEvent& e) {
    Peer& s = sides_[side];
    if (e.kind == SessionEventKind::LogoutRequested) s.logout_requested = true;
    PROP_TRACE("%s event %d %.*s (seq %llu), state %d", s.name, static_cast<int>(e.kind),
               static_cast<int>(e.text.size()),
               e.text.empty() ? "" : e.text.data(),  // an empty view's data may be null
               static_cast<unsigned long long>(e.seq), s.session ? static_cast<int>(s.session->state()) : -1);
  }

 private:
  struct Pipe {                        // one direction of the connection
    std::string bytes;                 // TCP: the stream not yet read
    std::deque<std::string> messages;  // lossy: whole messages not yet delivered
    [[nodiscard]] bool empty() const noexcept { return bytes.empty() && messages.empty(); }
    void clear() {
      bytes.clear();
      messages.clear();
    }
  };

  void stamp() const { std::fprintf(stderr, "[%9.3f] ", static_cast<double>(clock_.now_ns() - kT0) / 1e9); }

  void journal(Peer& s, std::uint64_t id) {
    s.store->append_app(std::as_bytes(std::span<const std::uint64_t>(&id, 1)));
  }

  void open_store(Peer& s) {
    s.processed.clear();
    s.processed_set.clear();
    s.store =
        std::make_unique<JournalMessageStore>(s.dir,
                                              hft::fix::JournalMessageStoreConfig{.max_messages = 1024,
                                                                                  .max_bytes = std::size_t{128} << 10,
                                                                                  .segment_size = std::size_t{64} << 10,
                                                                                  .prepare_next = false},
                                              [&s](std::span<const std::byte> b) {
                                                std::uint64_t id = 0;
                                                if (b.size() != sizeof id)
                                                  throw std::logic_error("hft session_property: foreign app record");
                                                std::memcpy(&id, b.data(), sizeof id);
                                                s.processed.push_back(id);
                                                s.processed_set.insert(id);
                                              });
  }

  /// The process dies (between two calls, or inside the handler) and starts again.
  void restart(int i) {
    Peer& s = sides_[i];
    PROP_TRACE("%s restarts", s.name);
    s.session.reset();
    s.store.reset();
    s.crash = CrashPoint::None;
    s.logout_requested = false;
    ++s.restarts;
    open_store(s);
  }

  void connect() {
    if (open_) return;
    open_ = true;
    lossy_ = faults_ && mode_ == Mode::Lossy;
    for (Pipe& p : pipes_) p.clear();
    PROP_TRACE("connect (%s)", lossy_ ? "lossy" : "tcp");
    for (const int i : {1, 0}) {  // the acceptor listens before the initiator's Logon
      Peer& s = sides_[i];
      s.logout_requested = false;
      s.session = std::make_unique<TestSession>(s.cfg, *s.store, s.handler, clock_);
      s.session->start();
    }
  }

  [[nodiscard]] bool alive(int i) const {
    return sides_[i].session != nullptr && sides_[i].session->state() != SessionState::Disconnected;
  }

  /// Bytes into side i's session; a crash in its handler restarts the process.
  void feed(int i, std::string_view bytes) {
    if (!alive(i)) return;
    if (trace_) PROP_TRACE("%s reads %s", sides_[i].name, summary(bytes).c_str());
    try {
      sides_[i].session->on_bytes(bytes);
    } catch (const Crash&) {
      ++sides_[i].crashes;
      restart(i);
    }
  }

  /// "35=D 34=7 43=Y, ..." for each message start in `bytes`, for the trace.
  static std::string summary(std::string_view bytes) {
    std::string out;
    for (std::size_t at = bytes.find("8=FIX"); at != std::string_view::npos; at = bytes.find("8=FIX", at + 1)) {
      const std::size_t end = std::min(bytes.size(), bytes.find("\x01"
                                                                "10=",
                                                                at));
      const std::string_view m = bytes.substr(at, end - at);
      out += out.empty() ? "" : ", ";
      for (const char* t : {"\x01"
                            "35=",
                            "\x01"
                            "34=",
                            "\x01"
                            "43=",
                            "\x01"
                            "123=",
                            "\x01"
                            "36=",
                            "\x01"
                            "7=",
                            "\x01"
                            "11="}) {
        const std::size_t f = m.find(t);
        if (f == std::string_view::npos) continue;
        const std::size_t v = f + std::strlen(t), e = std::min(m.size(), m.find('\x01', v));
        out += std::string(t + 1) + std::string(m.substr(v, e - v)) + " ";
      }
    }
    return out.empty() ? "(no message start)" : out;
  }

  /// The connection ends: each side reads a prefix of what was in flight to it (a TCP peer
  /// may or may not get the tail), then both sessions end.
  void close_link() {
    if (!open_) return;
    open_ = false;
    PROP_TRACE("disconnect");
    std::string tail[2];
    for (int from = 0; from < 2; ++from) {
      Pipe& p = pipes_[from];
      std::string all = p.bytes;
      for (const std::string& m : p.messages) all += m;
      p.clear();
      if (!all.empty() && rng_.chance(500)) all.resize(rng_.below(all.size() + 1));
      tail[from] = std::move(all);
    }
    for (int from = 0; from < 2; ++from)
      if (!tail[from].empty()) feed(1 - from, tail[from]);
    for (Peer& s : sides_) {
      if (s.session) s.session->disconnect("link closed");
      s.session.reset();
    }
    reconnect_at_ = clock_.now_ns() + (faults_ ? 200 * kMs + rng_.below(5 * kSec) : 100 * kMs);
  }

  /// After every step: a session that ended (or a process that died) closes the connection;
  /// an application that was asked to log out eventually does.
  void settle() {
    if (open_ && (!alive(0) || !alive(1))) close_link();
    if (!faults_)
      for (Peer& s : sides_)
        if (s.logout_requested && s.session) {
          s.logout_requested = false;
          s.session->logout();
        }
    if (open_ && (!alive(0) || !alive(1))) close_link();
  }

  /// Delivers some of what is in flight from side `from`.
  void deliver(int from) {
    Pipe& p = pipes_[from];
    const int to = 1 - from;
    if (!p.bytes.empty()) {  // TCP: any chunk of the stream, in order
      const std::size_t n = rng_.chance(400) ? p.bytes.size() : 1 + rng_.below(p.bytes.size());
      const std::string chunk = p.bytes.substr(0, n);
      p.bytes.erase(0, n);
      feed(to, chunk);
      return;
    }
    if (p.messages.empty()) return;
    std::string m = std::move(p.messages.front());
    p.messages.pop_front();
    if (faults_ && !off("lossy")) {
      const std::uint64_t r = rng_.below(100);
      if (r < 6) {
        PROP_TRACE("drop %zu bytes from %s", m.size(), sides_[from].name);
        return;
      }
      if (r < 11) {
        PROP_TRACE("duplicate from %s", sides_[from].name);
        feed(to, m);
      } else if (r < 16 && !p.messages.empty()) {
        PROP_TRACE("reorder from %s", sides_[from].name);
        p.messages.insert(p.messages.begin() + 1, std::move(m));
        return;
      } else if (r < 19) {
        const std::size_t at = static_cast<std::size_t>(rng_.below(m.size()));
        m[at] = static_cast<char>(m[at] ^ static_cast<char>(1 + rng_.below(255)));
        PROP_TRACE("flip byte %zu from %s", at, sides_[from].name);
      } else if (r < 21) {
        m[m.size() - 2] = 'x';  // CheckSum no longer three digits
        PROP_TRACE("break CheckSum from %s", sides_[from].name);
      } else if (r < 23) {
        m.resize(1 + rng_.below(m.size() - 1));
        PROP_TRACE("truncate from %s", sides_[from].name);
      }
    }
    if (m.size() > 1 && rng_.chance(200)) {  // in two reads
      const std::size_t cut = 1 + static_cast<std::size_t>(rng_.below(m.size() - 1));
      feed(to, std::string_view(m).substr(0, cut));
      if (open_) feed(to, std::string_view(m).substr(cut));
    } else {
      feed(to, m);
    }
  }

  void advance(std::uint64_t ns) {
    clock_.advance(ns);
    for (int i = 0; i < 2; ++i)
      if (alive(i)) sides_[i].session->on_timer();
  }

  void send_app(int i) {
    Peer& s = sides_[i];
    if (!s.session) return;
    const std::uint64_t id = ++next_id_;
    std::size_t text = rng_.below(40);
    if (rng_.chance(40) && !off("oversize"))
      text = kMaxMessage - 200 + rng_.below(240);  // near and above the size limit
    const std::string clordid = numbered("P", id);
    const std::uint64_t seq = s.session->send_app("D", [&](hft::fix::MessageBuilder& b) {
      b.add(11, clordid).add(21, "1").add(55, "AAPL").add(54, "1").add_timestamp(60, clock_.now_ns());
      b.add(38, 100).add(40, "1");
      if (text > 0) b.add(58, std::string(text, 't'));
    });
    PROP_TRACE("%s send_app P%llu (%zu bytes of text) -> %llu", s.name, static_cast<unsigned long long>(id), text,
               static_cast<unsigned long long>(seq));
    if (seq != 0)
      s.sent.push_back(id);
    else
      s.refused.insert(id);
  }

  [[nodiscard]] bool off(const char* kind) const { return off_.find(kind) != std::string::npos; }

  void fault_step() {
    if (!open_ && clock_.now_ns() >= reconnect_at_) connect();
    const std::uint64_t r = rng_.below(1000);
    const int i = static_cast<int>(rng_.below(2));
    Peer& s = sides_[i];
    if (r < 330) {
      deliver(i);
    } else if (r < 530) {
      advance(rng_.below(2 * kSec));
    } else if (r < 800) {
      send_app(i);
    } else if (r < 830) {
      if (!off("disconnect")) close_link();
    } else if (r < 845) {
      if (off("restart")) return;
      restart(i);
      if (!open_) return;
      close_link();  // the peer sees the connection drop
    } else if (r < 870) {
      if (!off("crash")) s.crash = rng_.chance(500) ? CrashPoint::BeforeJournal : CrashPoint::AfterJournal;
    } else if (r < 890) {
      if (alive(i) && !off("logout")) {
        PROP_TRACE("%s logout()", s.name);
        s.session->logout("bye");
      }
    } else if (s.logout_requested && alive(i)) {  // the application finished what it owed
      PROP_TRACE("%s answers the peer's Logout", s.name);
      s.logout_requested = false;
      s.session->logout();
    }
  }

  [[nodiscard]] bool idle() const {
    if (!open_ || !alive(0) || !alive(1)) return false;
    for (int i = 0; i < 2; ++i)
      if (sides_[i].session->state() != SessionState::LoggedOn || !pipes_[i].empty()) return false;
    return sides_[0].session->next_target_seq() == sides_[1].session->next_sender_seq() &&
           sides_[1].session->next_target_seq() == sides_[0].session->next_sender_seq();
  }

  bool quiesce() {
    int stable = 0;
    for (int round = 0; round < 600; ++round) {
      settle();
      if (!open_) connect();
      for (int n = 0; n < 100 && open_ && !(pipes_[0].empty() && pipes_[1].empty()); ++n) {
        deliver(0);
        deliver(1);
        settle();
      }
      if (idle()) {
        if (++stable >= 3) return true;
      } else {
        stable = 0;
      }
      advance(kSec);
      settle();
    }
    return false;
  }

  /// What side r processed against what its peer sent.
  [[nodiscard]] std::string check(int r) const {
    const Peer& rx = sides_[r];
    const Peer& tx = sides_[1 - r];
    std::unordered_map<std::uint64_t, std::size_t> sent_at;
    for (std::size_t k = 0; k < tx.sent.size(); ++k) sent_at.emplace(tx.sent[k], k);
    std::unordered_map<std::uint64_t, const Delivery*> last;
    for (const Delivery& d : rx.deliveries) {
      const std::string what = std::string(rx.name) + " got P" + std::to_string(d.id) + ": ";
      if (tx.refused.count(d.id) != 0) return what + "send_app refused it (returned 0), yet it arrived";
      if (sent_at.count(d.id) == 0) return what + std::string(tx.name) + " never sent it";
      const auto prev = last.find(d.id);
      if (prev != last.end()) {
        if (prev->second->outcome != Outcome::Crashed)
          return what + "delivered again although its previous delivery returned (not at-least-once: a duplicate)";
        if (!d.poss_dup) return what + "delivered again after a crash without PossDupFlag=Y";
      }
      last[d.id] = &d;
    }
    if (rx.processed == tx.sent) return {};
    std::size_t k = 0;
    while (k < rx.processed.size() && k < tx.sent.size() && rx.processed[k] == tx.sent[k]) ++k;
    std::string err = std::string(rx.name) + " processed " + std::to_string(rx.processed.size()) + " of the " +
                      std::to_string(tx.sent.size()) + " messages " + tx.name + " sent; first difference at #" +
                      std::to_string(k) + ": ";
    if (k == rx.processed.size())
      err += "P" + std::to_string(tx.sent[k]) + " never processed";
    else if (k == tx.sent.size())
      err += "P" + std::to_string(rx.processed[k]) + " processed beyond what was sent";
    else
      err += "processed P" + std::to_string(rx.processed[k]) + " where P" + std::to_string(tx.sent[k]) + " was due" +
             (rx.processed_set.count(tx.sent[k]) == 0 ? " (never processed)" : " (out of order)");
    return err;
  }

  [[nodiscard]] std::string describe() const {
    std::string out;
    for (const Peer& s : sides_) {
      out += std::string(s.name) + ": sent " + std::to_string(s.sent.size()) + ", refused " +
             std::to_string(s.refused.size()) + ", processed " + std::to_string(s.processed.size()) + ", deliveries " +
             std::to_string(s.deliveries.size()) + ", restarts " + std::to_string(s.restarts) + " (crashes " +
             std::to_string(s.crashes) + ")";
      if (s.session)
        out += ", state " + std::to_string(static_cast<int>(s.session->state())) + ", next out " +
               std::to_string(s.session->next_sender_seq()) + ", next in " +
               std::to_string(s.session->next_target_seq());
      out += "\n";
    }
    return out;
  }

  Rng rng_;
  Mode mode_;
  std::string root_;
  SimClock clock_{kT0};
  Peer sides_[2];
  Pipe pipes_[2];  // pipes_[i]: written by side i, read by the other
  bool open_ = false, lossy_ = false, faults_ = true, trace_ = false;
  std::string off_;  // HFT_PROPERTY_OFF: fault kinds left out, for triage
  std::uint64_t reconnect_at_ = 0;
  std::uint64_t next_id_ = 0;
};

void Handler::send(std::string_view wire) { world->write(side, wire); }
void Handler::on_app_message(const Message& m) { world->on_app_message(side, m); }
void Handler::on_event(const SessionEvent& e) { world->on_event(side, e); }

// Per test case. A schedule opens a store about 8 times and each open calibrates the
// journal's TscClock for 2 ms of wall time, which bounds the rate: 400 + 400 schedules take
// about 15 s under ASan on a 2-core machine.
constexpr std::uint64_t kDefaultSeeds = 400;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

/// Runs the seeds (HFT_SEED: that one only); reports the failing ones on stderr and fails
/// with the first.
void run_seeds(World::Mode mode, const char* label) {
  std::uint64_t first = 1, count = env_u64("HFT_PROPERTY_SEEDS", kDefaultSeeds) /
                                   std::max<std::uint64_t>(1, env_u64("HFT_TEST_DIVISOR", 1));
  if (const char* one = std::getenv("HFT_SEED"); one != nullptr && *one != '\0') {
    first = env_u64("HFT_SEED", 1);
    count = 1;
  }
  std::uint64_t failed = 0, failed_seed = 0;
  std::string first_error;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    std::string err;
    {
      const hft::test::TempDir dir;  // one per schedule, removed with its journals
      World w(seed, mode, dir.path());
      err = w.run();
    }
    if (err.empty()) continue;
    if (failed < 10) std::fprintf(stderr, "%s: seed=%llu\n", label, static_cast<unsigned long long>(seed));
    if (failed++ == 0) {
      failed_seed = seed;
      first_error = std::move(err);
    }
  }
  if (failed == 0) {
    SUCCEED(std::to_string(count) + " schedules");
    return;
  }
  CAPTURE(failed_seed, failed, count);
  std::fprintf(stderr, "seed=%llu (%llu of %llu seeds failed; replay with HFT_SEED=%llu)\n",
               static_cast<unsigned long long>(failed_seed), static_cast<unsigned long long>(failed),
               static_cast<unsigned long long>(count), static_cast<unsigned long long>(failed_seed));
  FAIL(first_error);
}

}  // namespace

// No ',' or ';' in these names: a Catch test spec splits at ',' and CMake at ';'.
TEST_CASE(
    "session property: over a TCP-like link with disconnects and restarts and handler crashes every message "
    "sent is processed exactly once and in order",
    "[fix][property]") {
  run_seeds(World::Mode::Tcp, "tcp");
}

TEST_CASE(
    "session property: over a lossy link that drops and duplicates and reorders and garbles messages every "
    "message sent is processed exactly once and in order",
    "[fix][property]") {
  run_seeds(World::Mode::Lossy, "lossy");
}
