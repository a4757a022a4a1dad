// The FIX Session Layer Test Cases against fix::Session in memory: every script of
// tests/fix/conformance/ (format: fix_conformance.hpp) is played against an acceptor (or, with
// `config role=initiator`, an initiator) driven by SimClock, each script its own section, so a
// failure names the script, its line, and the bytes sent and expected ('|' for SOH).
#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "fix_conformance.hpp"
#include "fix_support.hpp"
#include "hft/fix/session.hpp"

namespace cf = hft::test::conformance;
using hft::SimClock;
using hft::fix::InMemoryMessageStore;
using hft::fix::Message;
using hft::fix::SessionConfig;
using hft::fix::SessionEvent;
using hft::fix::SessionRole;
using hft::fix::SessionState;
using hft::test::bars;

namespace {

constexpr std::uint64_t kT0 = 1'796'000'000ULL * 1'000'000'000ULL;  // 2026-11-30

struct Recorder {
  std::deque<std::string> sent;  // wire, not yet matched by a `<` line
  std::deque<std::string> app;   // wire of each application message, not yet matched by `app`
  std::vector<std::string> events;
  void send(std::string_view w) { sent.emplace_back(w); }
  void on_app_message(const Message& m) { app.emplace_back(m.raw()); }
  void on_event(const SessionEvent& e) { events.emplace_back(e.text); }
};

using TestSession = hft::fix::Session<Recorder, SimClock>;

std::string_view state_name(SessionState s) {
  switch (s) {
    case SessionState::Idle:
      return "Idle";
    case SessionState::AwaitingLogon:
      return "AwaitingLogon";
    case SessionState::LogonSent:
      return "LogonSent";
    case SessionState::LoggedOn:
      return "LoggedOn";
    case SessionState::LogoutSent:
      return "LogoutSent";
    case SessionState::LogoutReceived:
      return "LogoutReceived";
    case SessionState::Disconnected:
      return "Disconnected";
  }
  return "?";
}

std::uint64_t to_u64(const std::string& v) {
  const auto n = Message::to_int(v);
  if (!n || *n < 0) throw std::runtime_error("bad number '" + v + "'");
  return static_cast<std::uint64_t>(*n);
}

// SessionConfig fields by name; the two the session may not have yet are set only when it has
// them (a script that needs one fails with "not supported" otherwise).
template <class Cfg>
bool apply_config(Cfg& c, const std::string& key, const std::string& v) {
  const bool yes = v == "true" || v == "Y" || v == "1";
  if (key == "role") {
    c.role = v == "initiator" ? SessionRole::Initiator : SessionRole::Acceptor;
  } else if (key == "heartbeat_interval_s") {
    c.heartbeat_interval_s = static_cast<std::uint32_t>(to_u64(v));
  } else if (key == "reset_on_logon") {
    c.reset_on_logon = yes;
  } else if (key == "answer_logout_at_once") {
    c.answer_logout_at_once = yes;
  } else if (key == "max_message_size") {
    c.max_message_size = static_cast<std::uint32_t>(to_u64(v));
  } else if (key == "logon_timeout_ns") {
    c.logon_timeout_ns = to_u64(v);
  } else if (key == "logout_timeout_ns") {
    c.logout_timeout_ns = to_u64(v);
  } else if (key == "max_sending_time_skew_ns") {
    if constexpr (requires { c.max_sending_time_skew_ns; })
      c.max_sending_time_skew_ns = static_cast<decltype(c.max_sending_time_skew_ns)>(to_u64(v));
    else
      return false;
  } else if (key == "resend_timeout_ns") {
    if constexpr (requires { c.resend_timeout_ns; })
      c.resend_timeout_ns = static_cast<decltype(c.resend_timeout_ns)>(to_u64(v));
    else
      return false;
  } else {
    return false;
  }
  return true;
}

/// One script's run. run() returns "" when every step held, else the failure.
class MemRunner {
 public:
  explicit MemRunner(const cf::Script& s) : script_(s) {
    cfg_.sender_comp_id = ids_.hft;
    cfg_.target_comp_id = ids_.client;
  }

  std::string run() {
    return cf::play(script_, cf::Runner::Mem, [this](const cf::Step& st) { return step(st); });
  }

 private:
  std::string step(const cf::Step& st) {
    if (st.op == "config") {
      if (session_) return "config after the session started";
      const auto eq = st.arg.find('=');
      if (eq == std::string::npos) return "config wants key=value";
      if (!apply_config(cfg_, st.arg.substr(0, eq), st.arg.substr(eq + 1)))
        return "config key not supported by this SessionConfig";
      return {};
    }
    if (!session_) start();
    if (st.op == ">" || st.op == ">raw") {
      const std::string wire = st.op == ">" ? cf::build(st.arg, clock_.now_ns(), peer_ids_, vars_)
                                            : cf::build_raw(st.arg, clock_.now_ns(), peer_ids_, vars_);
      last_in_ = wire;
      session_->on_bytes(wire);
      return {};
    }
    if (st.op == "<") {
      if (rec_.sent.empty()) return "nothing was sent" + after();
      const std::string w = rec_.sent.front();
      rec_.sent.pop_front();
      const std::string why = cf::check(st.arg, w, peer_ids_, vars_);
      return why.empty() ? why : why + "\n  sent: " + bars(w) + after();
    }
    if (st.op == "<none") {
      if (rec_.sent.empty()) return {};
      return "the session sent " + bars(rec_.sent.front()) + after();
    }
    if (st.op == "app") {
      if (rec_.app.empty()) return "nothing was delivered" + after();
      const std::string w = rec_.app.front();
      rec_.app.pop_front();
      Message m;
      if (!hft::fix::parse(w, m, {.max_body_length = 1u << 20}).ok()) return "delivered bytes do not parse";
      const std::string why = cf::check_fields(st.arg, m, peer_ids_, vars_);
      return why.empty() ? why : why + "\n  delivered: " + bars(w);
    }
    if (st.op == "noapp") return rec_.app.empty() ? std::string() : "delivered " + bars(rec_.app.front()) + after();
    if (st.op == "time") {
      const std::int64_t d = cf::parse_duration(st.arg);
      if (d < 0) return "time only moves forward";
      clock_.advance(static_cast<std::uint64_t>(d));
      return {};
    }
    if (st.op == "timer") {
      session_->on_timer();
      return {};
    }
    if (st.op == "state") {
      const std::string_view got = state_name(session_->state());
      return got == st.arg ? std::string() : "state is " + std::string(got) + after();
    }
    if (st.op == "expect") {
      if (st.arg != "disconnect") return "unknown expectation";
      if (session_->state() != SessionState::Disconnected)
        return "state is " + std::string(state_name(session_->state())) + ", not Disconnected" + after();
      if (!rec_.sent.empty()) return "the session also sent " + bars(rec_.sent.front());
      return {};
    }
    if (st.op == "call") return call(st.arg);
    if (st.op == "restart") {
      if (session_->state() != SessionState::Disconnected) session_->disconnect("restart");
      session_.reset();
      start();
      return {};
    }
    return "step not supported in memory";
  }

  std::string call(const std::string& arg) {
    const auto sp = arg.find(' ');
    const std::string what = arg.substr(0, sp);
    const std::string rest = sp == std::string::npos ? std::string() : cf::trim(std::string_view(arg).substr(sp + 1));
    if (what == "logout") {
      session_->logout(rest);
      return {};
    }
    if (what == "disconnect") {
      session_->disconnect();
      return {};
    }
    if (what == "send_app") {
      const auto fs = cf::fields(rest);
      if (fs.empty() || fs[0].tag != "35") return "send_app wants 35=<type>|<body fields>";
      std::vector<std::pair<std::uint32_t, std::string>> body;
      for (std::size_t i = 1; i < fs.size(); ++i)
        body.emplace_back(static_cast<std::uint32_t>(to_u64(fs[i].tag)),
                          cf::expand(fs[i].value, clock_.now_ns(), peer_ids_, vars_));
      const std::string type = fs[0].value;
      (void)session_->send_app(type, [&](hft::fix::MessageBuilder& b) {
        for (const auto& [t, v] : body) b.add(t, v);
      });
      return {};
    }
    return "unknown call '" + what + "'";
  }

  void start() {
    session_.emplace(cfg_, store_, rec_, clock_);
    session_->start();
  }

  [[nodiscard]] std::string after() const {
    std::string s = "\n  state " + std::string(state_name(session_->state()));
    if (!last_in_.empty()) s += "; last sent to it: " + bars(last_in_);
    if (!rec_.events.empty()) s += "; last event: " + rec_.events.back();
    return s;
  }

  const cf::Script& script_;
  cf::Ids ids_;
  cf::Ids peer_ids_;  // the runner's view: client = the CompID it sends as
  cf::Vars vars_;
  SessionConfig cfg_;
  SimClock clock_{kT0};
  InMemoryMessageStore store_{4096, 1 << 22};
  Recorder rec_;
  std::optional<TestSession> session_;
  std::string last_in_;
};

}  // namespace

TEST_CASE("fix session conformance: every script in memory") {
  const auto files = cf::list(HFT_FIX_CONFORMANCE_DIR);
  REQUIRE(!files.empty());
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.stem().string()) {
      const cf::Script s = cf::load(f);
      if (!s.skip_mem.empty()) {
        WARN(s.name << ": skipped in memory: " << s.skip_mem);
      } else {
        MemRunner r(s);
        const std::string why = r.run();
        INFO(s.name << " (" << s.title << ")");
        if (!why.empty()) FAIL_CHECK(why);
      }
    }
  }
}
