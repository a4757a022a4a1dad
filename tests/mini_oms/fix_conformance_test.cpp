// The FIX Session Layer Test Cases against the mini-OMS acceptor over TCP: the scripts of
// tests/fix/conformance/ (format: tests/fix/fix_conformance.hpp), each against a fresh
// in-process server (ServerConfig::fix_port = 0), with real time instead of `time` steps.
//
// Where TCP differs from the in-memory runner:
//   - CompIDs: ours CLIENT, the acceptor's HFTOMS (--fix-comp-id's default); the server allows
//     CLIENT only (--fix-peers) when it has the option.
//   - `app 35=D|11=X|` means "the application answered it": an ExecutionReport with ClOrdID X
//     (35=F: an OrderCancelReject; any other type: a BusinessMessageReject with RefSeqNum = its
//     34). Further reports for an answered ClOrdID are dropped. `noapp`: no such answer came.
//   - `<` skips Heartbeats without TestReqID unless it expects 35=0 (real time sends them), and
//     sets application answers aside for `app` unless it expects 35=8, 9 or j itself.
//   - `<none` and `noapp` wait kQuietMs; `<`, `app` and `expect disconnect` up to kWaitMs.
//   - `time +Ns` sleeps; `timer` does nothing (the gateway's timer runs every 100 ms);
//     `state Disconnected` is `expect disconnect`, other states are not observable;
//     `restart` closes the connection and logs on over a new one (the registry keeps the
//     CompID's numbers); `conn N` switches to connection N (opened at first use).
//   - `config` and `call` steps are in-memory only: a script with them says `# tcp: skip`.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../fix/fix_conformance.hpp"
#include "../support/catch.hpp"
#include "server.hpp"

namespace cf = hft::test::conformance;
using hft::test::bars;

namespace {

constexpr int kWaitMs = 3000;
constexpr int kQuietMs = 300;

std::uint64_t utc_now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// One TCP connection to the acceptor, reading whole FIX messages.
class Conn {
 public:
  explicit Conn(std::uint16_t port) : fd_(mini_oms::net::connect_tcp("127.0.0.1", port, false)) {}
  ~Conn() { close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& bytes) const {
    std::size_t off = 0;
    while (fd_ >= 0 && off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the acceptor closed: what it said is still readable
      off += static_cast<std::size_t>(n);
    }
  }
  /// The next whole message within `ms`, or "" (then eof() tells whether the peer closed).
  std::string next(int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      hft::fix::Message m;
      while (!buf_.empty()) {
        const auto r = hft::fix::parse(buf_, m, {.max_body_length = 1u << 20});
        if (r.status == hft::fix::ParseStatus::Incomplete) break;
        std::string w = buf_.substr(0, r.consumed);
        buf_.erase(0, r.consumed);
        if (r.ok()) return w;
      }
      if (eof_ || fd_ < 0) return {};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return {};
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return {};
      char tmp[4096];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) {
        eof_ = true;
      } else {
        buf_.append(tmp, static_cast<std::size_t>(n));
      }
    }
  }
  [[nodiscard]] bool eof() const noexcept { return eof_; }

 private:
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

// A message the acceptor sent (parsed on each look: the deques move it around).
struct Got {
  std::string wire;
  [[nodiscard]] std::string get(std::uint32_t tag) const {
    hft::fix::Message m;
    if (!hft::fix::parse(wire, m, {.max_body_length = 1u << 20}).ok()) return {};
    return std::string(m.get(tag));
  }
  [[nodiscard]] std::string type() const { return get(35); }
};

// --fix-peers where the server has it (a template, so the requirement is checked, not compiled).
template <class Cfg>
void allow_only(Cfg& cfg, const std::string& peer) {
  if constexpr (requires { cfg.fix_peers; }) cfg.fix_peers = {peer};
}

bool is_answer_type(std::string_view t) { return t == "8" || t == "9" || t == "j"; }

class TcpRunner {
 public:
  TcpRunner(const cf::Script& s, std::uint16_t port, cf::Ids ids) : script_(s), port_(port), ids_(std::move(ids)) {}

  std::string run() {
    return cf::play(script_, cf::Runner::Tcp, [this](const cf::Step& st) { return step(st); });
  }

 private:
  Conn& conn() {
    auto& c = conns_[cur_];
    if (!c) c = std::make_unique<Conn>(port_);
    return *c;
  }

  // The next message the session sent, or nullptr-like empty wire: held messages first.
  std::string next_session_message(int ms, bool want_answer, bool want_heartbeat) {
    if (!held_.empty() && !want_answer) {
      std::string w = held_.front().wire;
      held_.pop_front();
      return w;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return {};
      std::string w = conn().next(static_cast<int>(left));
      if (w.empty()) return {};
      const Got g{w};
      if (unsolicited_heartbeat(g) && !want_heartbeat) continue;
      if (dropped_answer(g)) continue;
      if (is_answer_type(g.type()) && !want_answer) {
        answers_.push_back(g);
        continue;
      }
      return w;
    }
  }

  static bool unsolicited_heartbeat(const Got& g) { return g.type() == "0" && g.get(112).empty(); }
  bool dropped_answer(const Got& g) const {
    return (g.type() == "8" || g.type() == "9") && answered_.count(std::string(g.get(11))) != 0;
  }

  // Reads for `ms`, setting aside what comes: session messages in held_, answers in answers_.
  void drain(int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return;
      if (!read_one(static_cast<int>(left))) return;
    }
  }

  // Reads one message within `ms` and sets it aside (session messages in held_, answers in
  // answers_; unsolicited heartbeats and answers to dropped orders are dropped). False when
  // nothing came.
  bool read_one(int ms) {
    const std::string w = conn().next(ms);
    if (w.empty()) return false;
    const Got g{w};
    if (unsolicited_heartbeat(g) || dropped_answer(g)) return true;
    if (is_answer_type(g.type()))
      answers_.push_back(g);
    else
      held_.push_back(g);
    return true;
  }

  std::string step(const cf::Step& st) {
    if (st.op == ">" || st.op == ">raw") {
      const std::string wire = st.op == ">" ? cf::build(st.arg, utc_now_ns(), ids_, vars_)
                                            : cf::build_raw(st.arg, utc_now_ns(), ids_, vars_);
      last_in_ = wire;
      conn().send(wire);
      return {};
    }
    if (st.op == "<") {
      const auto fs = cf::fields(st.arg);
      std::string type;
      for (const auto& f : fs)
        if (f.tag == "35") type = f.value;
      const std::string w = next_session_message(kWaitMs, is_answer_type(type), type == "0");
      if (w.empty())
        return std::string(conn().eof() ? "the acceptor closed the connection" : "nothing was sent") + after();
      const std::string why = cf::check(st.arg, w, ids_, vars_);
      return why.empty() ? why : why + "\n  sent: " + bars(w) + after();
    }
    if (st.op == "<none") {
      drain(kQuietMs);
      if (held_.empty()) return {};
      return "the acceptor sent " + bars(held_.front().wire) + after();
    }
    if (st.op == "app") return app(st.arg);
    if (st.op == "noapp") {
      drain(kQuietMs);
      return answers_.empty() ? std::string() : "the application answered " + bars(answers_.front().wire) + after();
    }
    if (st.op == "time") {
      std::this_thread::sleep_for(std::chrono::nanoseconds(cf::parse_duration(st.arg)));
      return {};
    }
    if (st.op == "timer") return {};
    if (st.op == "state") return st.arg == "Disconnected" ? expect_disconnect() : std::string();
    if (st.op == "expect") return st.arg == "disconnect" ? expect_disconnect() : "unknown expectation";
    if (st.op == "restart") {
      conn().close();
      std::this_thread::sleep_for(std::chrono::milliseconds(kQuietMs));
      conns_[cur_] = std::make_unique<Conn>(port_);
      held_.clear();
      answers_.clear();
      return {};
    }
    if (st.op == "conn") {
      cur_ = std::stoi(st.arg);
      held_.clear();
      answers_.clear();
      return {};
    }
    return "`" + st.op + "` is in-memory only: scope it [mem] or give the script a `# tcp: skip` line";
  }

  // The application's answer to the message `arg` describes (see the header comment).
  std::string app(const std::string& arg) {
    std::string type, clordid, seq;
    for (const auto& f : cf::fields(arg)) {
      if (f.tag == "35") type = f.value;
      if (f.tag == "11") clordid = f.value;
      if (f.tag == "34") seq = f.value;
    }
    const std::string want = type == "D" ? "8" : type == "F" ? "9" : "j";
    auto matches = [&](const Got& g) {
      if (g.type() != want) return false;
      if (want == "j") return seq.empty() || g.get(45) == seq;
      return clordid.empty() || g.get(11) == clordid;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    for (;;) {
      for (auto it = answers_.begin(); it != answers_.end(); ++it) {
        if (!matches(*it)) continue;
        answers_.erase(it);
        if (!clordid.empty()) answered_.insert(clordid);
        return {};
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) break;
      if (!read_one(static_cast<int>(left))) break;
    }
    return "no answer 35=" + want + (clordid.empty() ? "" : " with 11=" + clordid) + " from the application" + after();
  }

  std::string expect_disconnect() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    for (;;) {
      if (!held_.empty()) return "the acceptor also sent " + bars(held_.front().wire);
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return "the connection is still open" + after();
      const std::string w = conn().next(static_cast<int>(left));
      if (w.empty()) {
        if (conn().eof()) return {};
        continue;
      }
      const Got g{w};
      if (unsolicited_heartbeat(g) || dropped_answer(g)) continue;
      if (is_answer_type(g.type()))
        answers_.push_back(g);
      else
        held_.push_back(g);
    }
  }

  [[nodiscard]] std::string after() const {
    return last_in_.empty() ? std::string() : "\n  last sent to it: " + bars(last_in_);
  }

  const cf::Script& script_;
  std::uint16_t port_;
  cf::Ids ids_;
  cf::Vars vars_;
  std::map<int, std::unique_ptr<Conn>> conns_;
  int cur_ = 1;
  std::deque<Got> held_;     // session messages read ahead of the `<` that will check them
  std::deque<Got> answers_;  // application answers not yet matched by `app`
  std::set<std::string> answered_;
  std::string last_in_;
};

}  // namespace

TEST_CASE("fix session conformance: every script against the mini-OMS acceptor over TCP") {
  const auto files = cf::list(HFT_FIX_CONFORMANCE_DIR);
  REQUIRE(!files.empty());
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.stem().string()) {
      const cf::Script s = cf::load(f);
      if (!s.skip_tcp.empty()) {
        WARN(s.name << ": skipped over TCP: " << s.skip_tcp);
      } else {
        mini_oms::ServerConfig cfg;
        cfg.partitions = 1;
        cfg.workers = 1;
        cfg.ring_size = 1024;
        cfg.family_table = 1u << 12;
        cfg.fix_port = 0;
        const cf::Ids ids{.client = "CLIENT", .hft = cfg.fix_comp_id};
        allow_only(cfg, ids.client);
        mini_oms::Server server(cfg);
        server.start();
        TcpRunner r(s, server.fix_port(), ids);
        const std::string why = r.run();
        INFO(s.name << " (" << s.title << ")");
        if (!why.empty()) FAIL_CHECK(why);
        server.stop();
      }
    }
  }
}
