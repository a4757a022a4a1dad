// mini_oms/fix_protocol.hpp: the FIX 4.4 codec of the gateway (docs/fix.md, "The mini-OMS
// FIX acceptor"): one FixCodec per I/O thread serves every connection its transport
// accepted on the FIX listener.
//
// Owns: each FIX connection's hft::fix::Session, the bytes before its Logon, and its
// orders in flight (FixCodec::Conn), kept past the close while reports are owed (they are
// stored for the peer's resend, on_gone_reply); the OrderID/ExecID numbering of this gateway.
// Decode: a NewOrderSingle -> FixOrder (map_new_order) -> Order, admitted through the
// transport (Gateway::admit) like a line's; an OrderCancelRequest or another type is
// answered here. Encode: the pipeline's Execution -> ExecutionReports (fix_orders.hpp).
// The first message must be a Logon to our CompID; the peer's CompID selects its session
// state (FixRegistry: store and numbers survive its reconnects). With --fix-peers only the
// listed CompIDs may log on; another's connection is closed without a reply.
// May call: the transport's connection calls (send, mark_dirty, flush, close, admit,
// in_flight, peer), the pipeline's FixRegistry, counters and log; fix_order_map.hpp,
// fix_session_state.hpp, fix_reports.hpp.
// Runs on its gateway's thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fix_order_map.hpp"
#include "fix_reports.hpp"
#include "fix_session_state.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/fix/session.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "records.hpp"

namespace mini_oms {

template <class Gateway>
class FixCodec {
 public:
  explicit FixCodec(Gateway& gw)
      : gw_(gw),
        report_lat_(gw.pipeline().stage(Stage::FixReport).rec.register_writer()),
        conns_(gw.pipeline().config().max_connections) {
    // A state released per closed connection and per detached Conn (at most one per CompID).
    closed_.reserve(conns_.size() + gw.pipeline().config().fix_max_sessions);
    detached_.reserve(gw.pipeline().config().fix_max_sessions);
  }
  FixCodec(const FixCodec&) = delete;
  FixCodec& operator=(const FixCodec&) = delete;

  /// Before the thread starts: the OrderID base of this start (fix_id_base), unique across
  /// starts; this gateway's OrderIDs are "<base><gateway index>-<n>".
  void set_id_base(const std::string& base) {
    id_prefix_ = base + std::to_string(gw_.index()) + "-";
    local_nonce_ = fnv1a(id_prefix_);
  }
  /// A connection (of either protocol) was accepted into `slot`: a FIX connection's state
  /// outlives its close until then (its session may be on the stack when it closes), and
  /// one still owed reports moves aside until they are stored (on_gone_reply).
  void reset_slot(std::uint32_t slot) {
    if (conns_[slot] && conns_[slot]->state != nullptr) detached_.push_back(std::move(conns_[slot]));
    conns_[slot].reset();
  }
  /// A FIX connection was accepted into `slot`.
  void on_accept(std::uint32_t slot) {
    conns_[slot] = std::make_unique<Conn>();
    conns_[slot]->handler = Handler{this, slot};
    conns_[slot]->accepted_ns = steady_.now_ns();
    conns_[slot]->gen = gw_.gen(slot);
    ++conns_open_;
  }
  /// Bytes read from a FIX connection, at TSC time t_recv.
  void on_bytes(std::uint32_t slot, std::string_view data, std::uint64_t t_recv) {
    t_recv_ = t_recv;
    bytes(slot, data);
  }
  // The FIX codec's encode side: the pipeline's execution of a FIX order becomes its
  // ExecutionReports (--journal: its outcome first).
  void on_reply(std::uint32_t slot, const Execution& e);
  /// The Execution of an order whose connection (once in `slot`) closed before it came:
  /// its reports are numbered and stored in the peer's session, and the peer's
  /// ResendRequest after its next Logon gets them. False when no FIX order was waiting for it.
  bool on_gone_reply(std::uint32_t slot, std::uint32_t gen, const Execution& e);
  /// The transport closed `slot`: the peer's state goes back to the registry at the end of
  /// the loop iteration (end_of_iteration), the Conn when the slot is reused.
  void on_close(std::uint32_t slot) {
    Conn& f = *conns_[slot];
    --conns_open_;
    // Its session may be inside on_bytes on this stack (a slow reader cut while answering):
    // it must handle none of the read's later messages, whose state is released here.
    if (f.session) f.session->disconnect("transport closed");
    // Orders in flight keep the peer's state (a new Logon of that CompID is refused until
    // their reports are stored, on_gone_reply); else it goes back to the registry.
    if (f.state != nullptr && !(f.logged_on && owed(f) != 0)) {
      closed_.emplace_back(f.state, f.logged_on);
      f.state = nullptr;
    }
  }
  /// Whether any FIX connection is open (the transport runs on_timer only then).
  [[nodiscard]] bool active() const noexcept { return conns_open_ != 0; }

 private:
  static constexpr std::size_t kMaxMessage = 8192;
  static constexpr std::size_t kInFlight = 4096;          // orders awaiting their reply, per connection
  static constexpr std::uint64_t kTimerNs = 100'000'000;  // heartbeats and timeouts, checked this often
  static constexpr std::uint64_t kLogonTimeoutNs = 10'000'000'000;

  // The session's handler: its callbacks run on this gateway's thread, inside on_bytes,
  // on_timer or send_app.
  struct Handler {
    FixCodec* codec = nullptr;
    std::uint32_t slot = 0;
    void send(std::string_view wire) {
      // The session answers a ResendRequest in one call, faster than any peer reads: in a
      // resend, before the output buffer's overflow cuts the peer as a slow reader, the
      // socket gets what it takes. Other traffic keeps the line protocol's rule.
      if (!codec->gw_.fits(slot, wire.size()) && codec->resending(slot)) codec->gw_.flush(slot);
      codec->gw_.send(slot, wire.data(), wire.size());
      codec->gw_.mark_dirty(slot);
    }
    void on_app_message(const hft::fix::Message& m) { codec->app_message(slot, m); }
    void on_event(const hft::fix::SessionEvent& e) { codec->event(slot, e); }
    // A value-level violation in an application message: a business-level reject.
    void on_invalid_app_message(const hft::fix::Message& m, const hft::fix::Violation& v) {
      codec->invalid_app_message(slot, m,
                                 {v.tag, v.text, v.reason == hft::fix::SessionRejectReason::RequiredTagMissing});
    }
  };
  using Session = hft::fix::Session<Handler, hft::fix::UtcClock>;
  struct Pending {
    std::uint64_t req_id = 0;
    std::uint64_t key = 0;  // its ClOrdID's (ClOrdIdWindow::key)
    bool remember = false;  // admitted under its ClOrdID: --journal journals its outcome
    FixOrder order;
    // A reject decided here (a malformed or duplicate order of an Account): it travels the
    // pipeline as a line the worker refuses, so it keeps its place among the Account's reports.
    OrdRejReason local_reason = OrdRejReason::Other;
    std::string_view local_text;  // a string literal; empty: the pipeline's reply decides
    bool local_field = false;     // local_text is the problem of field local_tag (invalid_field_text)
    std::uint32_t local_tag = 0;
    std::uint64_t t_recv = 0;  // TSC ticks of the read that brought it (Stage::FixReport)
  };
  // One per FIX connection, allocated when it is accepted (buffers, the in-flight table).
  struct Conn {
    Conn() {
      free_pending.reserve(kInFlight);
      for (std::uint32_t i = kInFlight; i-- > 0;) free_pending.push_back(i);
    }
    Handler handler;
    FixSessionState* state = nullptr;  // the peer's, from the registry once its Logon is read
    std::optional<Session> session;
    std::vector<char> pre = std::vector<char>(kMaxMessage + 64);  // bytes before the Logon identified the peer
    std::size_t pre_len = 0;
    std::uint64_t accepted_ns = 0;
    std::uint32_t gen = 0;   // the transport's generation of its connection (its replies' ConnRef)
    bool logged_on = false;  // the session accepted the Logon
    // Orders awaiting their reply: req_ids are hashes (fix_req_id), hence the index.
    std::vector<Pending> pending = std::vector<Pending>(kInFlight);
    hft::FlatIndex pending_index{kInFlight};  // req_id -> pending entry
    std::vector<std::uint32_t> free_pending;
  };
  [[nodiscard]] static std::size_t owed(const Conn& f) noexcept { return kInFlight - f.free_pending.size(); }
  [[nodiscard]] bool resending(std::uint32_t slot) const noexcept {
    return conns_[slot] && conns_[slot]->session && conns_[slot]->session->in_resend();
  }
  // An order's Execution: its reports (stored, not sent, once its connection is gone).
  void answer(Conn& f, const Execution& e);

  // Bytes from a FIX connection: to its session, or, before the peer is known, into the
  // pre-logon buffer until its first message can be read.
  void bytes(std::uint32_t slot, std::string_view bytes) {
    Conn& f = *conns_[slot];
    if (f.session) {
      f.session->on_bytes(bytes);
      after_call(slot);
      return;
    }
    if (f.pre_len + bytes.size() > f.pre.size()) {
      refuse(slot, "no complete Logon in the first 8 KiB");
      return;
    }
    std::memcpy(f.pre.data() + f.pre_len, bytes.data(), bytes.size());
    f.pre_len += bytes.size();
    hft::fix::Message m;
    const std::string_view pre(f.pre.data(), f.pre_len);
    const auto r = hft::fix::parse(pre, m, {.max_body_length = kMaxMessage});
    if (r.status == hft::fix::ParseStatus::Incomplete) return;
    if (!r.ok() || m.msg_type() != hft::fix::msg_type::kLogon) {
      refuse(slot, "first message is not a valid Logon");
      return;
    }
    const ServerConfig& cfg = gw_.pipeline().config();
    if (m.get(fixtag::kTargetCompID) != cfg.fix_comp_id) {
      refuse(slot, "Logon to another TargetCompID");
      return;
    }
    const std::string_view peer = m.get(fixtag::kSenderCompID);
    if (!peer.empty() && !cfg.fix_peers.empty() &&
        std::find(cfg.fix_peers.begin(), cfg.fix_peers.end(), peer) == cfg.fix_peers.end()) {
      refuse_logon(slot, peer, "SenderCompID is not in --fix-peers");
      return;
    }
    const char* why = "";
    FixSessionState* st = peer.empty() ? nullptr : gw_.pipeline().fix_registry().acquire(peer, why);
    if (st == nullptr) {
      refuse(slot, peer.empty() ? "Logon without SenderCompID" : why);
      return;
    }
    f.state = st;
    f.session.emplace(hft::fix::SessionConfig{.sender_comp_id = cfg.fix_comp_id,
                                              .target_comp_id = std::string(peer),
                                              .role = hft::fix::SessionRole::Acceptor,
                                              .answer_logout_at_once = false,  // reports owed go first
                                              .max_message_size = kMaxMessage},
                      *st->store, f.handler, utc_);
    f.session->start();
    f.pre_len = 0;
    f.session->on_bytes(pre);
    after_call(slot);
  }

  void refuse(std::uint32_t slot, const char* why) {
    HFT_LOG_WARN(gw_.pipeline().log().io(), "FIX connection from {} refused: {}", gw_.peer(slot).text, why);
    gw_.close(slot);
  }

  // A Logon refused by who sent it (--fix-peers, case 1S.c): the close, without a reply
  // (nothing is said to a stranger), and a log line naming its address and CompID. No
  // session or registry state is made or touched.
  void refuse_logon(std::uint32_t slot, std::string_view peer, const char* why) {
    HFT_LOG_WARN(gw_.pipeline().log().io(), "FIX Logon from {} refused: SenderCompID '{}': {}", gw_.peer(slot).text,
                 peer, why);
    gw_.close(slot);
  }

  // After a session call: a session that ended gets what it said flushed, then closes.
  void after_call(std::uint32_t slot) {
    if (!gw_.is_open(slot) || !conns_[slot]->session) return;
    if (conns_[slot]->session->state() == hft::fix::SessionState::Disconnected) {
      gw_.flush(slot);
      gw_.close(slot);
    }
  }

  void event(std::uint32_t slot, const hft::fix::SessionEvent& e) {
    if (e.kind == hft::fix::SessionEventKind::LoggedOn) {
      conns_[slot]->logged_on = true;
      return;
    }
    if (e.kind == hft::fix::SessionEventKind::LogoutRequested) {
      // Answered once every admitted order has its reports (fix_reply), or at the timeout.
      if (gw_.in_flight(slot) == 0) conns_[slot]->session->logout();
      return;
    }
    if (e.kind != hft::fix::SessionEventKind::Disconnect) return;
    const Conn& f = *conns_[slot];
    HFT_LOG_INFO(gw_.pipeline().log().io(), "FIX session {}: {}", f.state ? std::string_view(f.state->comp_id) : "?",
                 e.text);
  }

  void app_message(std::uint32_t slot, const hft::fix::Message& m) {
    Conn& f = *conns_[slot];
    const std::string_view type = m.msg_type();
    if (type == hft::fix::msg_type::kNewOrderSingle) {
      new_order(slot, m);
    } else if (type == hft::fix::msg_type::kOrderCancelRequest) {
      // IOC orders never rest: by the time a cancel arrives there is nothing to cancel.
      const bool known = f.state->clordids.seen(m.get(fixtag::kOrigClOrdID));
      cancel_reject(f, m, known, known ? 0 : 1,  // too late to cancel / unknown order
                    known ? "IOC orders never rest: nothing to cancel" : "unknown order");
    } else {
      (void)f.session->send_app(hft::fix::msg_type::kBusinessMessageReject, [&](hft::fix::MessageBuilder& b) {
        b.add(fixtag::kRefSeqNum, m.seq_num());
        b.add(fixtag::kRefMsgType, type);
        b.add(fixtag::kBusinessRejectReason, 3);  // unsupported message type
        b.add(fixtag::kText, "unsupported MsgType");
      });
    }
  }

  void cancel_reject(Conn& f, const hft::fix::Message& m, bool known, unsigned reason, std::string_view text) {
    (void)f.session->send_app(hft::fix::msg_type::kOrderCancelReject, [&](hft::fix::MessageBuilder& b) {
      b.add(fixtag::kOrderID, "NONE");
      b.add(fixtag::kClOrdID, m.has(fixtag::kClOrdID) ? m.get(fixtag::kClOrdID) : std::string_view("NONE"));
      b.add(fixtag::kOrigClOrdID, m.has(fixtag::kOrigClOrdID) ? m.get(fixtag::kOrigClOrdID) : std::string_view("NONE"));
      b.add_char(fixtag::kOrdStatus, known ? '4' : '8');
      b.add_char(fixtag::kCxlRejResponseTo, '1');
      b.add(fixtag::kCxlRejReason, reason);
      b.add(fixtag::kText, text);
    });
  }

  // An application message the session's dictionary found a value-level problem in (a
  // required body field missing, an enum value out of range, a bad data format): answered
  // at the business level, and nothing executes. A NewOrderSingle gets a reject
  // ExecutionReport echoing what it carried (through the pipeline when it has an Account,
  // so the reject keeps its place among the Account's reports); an OrderCancelRequest an
  // OrderCancelReject (CxlRejReason 99); any other type a BusinessMessageReject,
  // BusinessRejectReason 5 (conditionally required field missing) for a missing field,
  // else 0 (other). FIX 4.4's BusinessMessageReject has no RefTagID(371): Text names the field.
  void invalid_app_message(std::uint32_t slot, const hft::fix::Message& m, const FieldProblem& bad) {
    Conn& f = *conns_[slot];
    const std::string_view type = m.msg_type();
    if (type == hft::fix::msg_type::kNewOrderSingle) {
      new_order(slot, m, &bad);
      return;
    }
    char text[kMaxReply];
    const std::string_view why = invalid_field_text(text, bad.tag, bad.text);
    bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::FixOtherRejected);
    if (type == hft::fix::msg_type::kOrderCancelRequest) {
      cancel_reject(f, m, f.state->clordids.seen(m.get(fixtag::kOrigClOrdID)), 99, why);
      return;
    }
    (void)f.session->send_app(hft::fix::msg_type::kBusinessMessageReject, [&](hft::fix::MessageBuilder& b) {
      b.add(fixtag::kRefSeqNum, m.seq_num());
      b.add(fixtag::kRefMsgType, type);
      b.add(fixtag::kBusinessRejectReason, bad.missing ? 5 : 0);
      b.add(fixtag::kText, why);
    });
  }

  // ---- what the transport calls, continued ----------------------------------------------
 public:
  /// Heartbeats, test requests and the Logon timeout of every FIX connection (every loop
  /// iteration; acts every 100 ms).
  void on_timer() {
    const std::uint64_t now = steady_.now_ns();
    if (now - last_timer_ < kTimerNs) return;
    last_timer_ = now;
    for (std::uint32_t s = 0; s < conns_.size(); ++s) {
      if (!conns_[s] || !gw_.is_open(s)) continue;
      Conn& c = *conns_[s];
      if (c.session) {
        c.session->on_timer();
        after_call(s);
      } else if (now - c.accepted_ns >= kLogonTimeoutNs) {
        refuse(s, "no Logon within 10 s");
      }
    }
  }

  void logout_all(std::string_view why) {
    for (std::uint32_t s = 0; s < conns_.size(); ++s) {
      if (conns_[s] && gw_.is_open(s) && conns_[s]->session) {
        conns_[s]->session->logout(why);
        gw_.mark_dirty(s);
      }
    }
  }

  void end_of_iteration() {
    for (const auto& [st, logged_on] : closed_) gw_.pipeline().fix_registry().release(st, logged_on);
    closed_.clear();
  }

 private:
  void send_reports(Conn& f, const FixOrder& o, std::string_view order_id, const ParsedReply* rep, OrdRejReason why,
                    std::string_view text);
  // A reject decided here, before the pipeline. An order admitted under its ClOrdID (`key`
  // != 0) has its outcome journaled first (--journal), as the pipeline's line would read.
  void reject_order(Conn& f, const FixOrder& o, OrdRejReason why, std::string_view text, std::uint64_t key = 0,
                    std::uint64_t req = 0, Reason reason = Reason::None);
  // A PossDup (or PossResend) re-send of an order whose outcome is journaled: its reports
  // again, with its OrderID and ExecIDs; nothing executes.
  void resend_outcome(Conn& f, const FixOrder& o, const FixOutcomes::Outcome& out);
  // `bad`: the session's dictionary found this problem in the order (fix_invalid_app_message).
  void new_order(std::uint32_t slot, const hft::fix::Message& m, const FieldProblem* bad = nullptr);
  std::string_view make_order_id(char* out, std::uint64_t n) const;

  Gateway& gw_;
  hft::IntervalRecorder::Writer report_lat_;  // Stage::FixReport: the order read -> its first report
  std::vector<std::unique_ptr<Conn>> conns_;  // by the transport's slot; null: never FIX
  std::size_t conns_open_ = 0;
  std::uint64_t last_timer_ = 0;
  std::uint64_t orders_ = 0;
  std::uint64_t local_rejects_ = 0;                        // req_ids of FIX orders refused before the pipeline
  std::uint64_t local_nonce_ = 0;                          // hash of id_prefix_: those req_ids differ across restarts
  std::uint64_t t_recv_ = 0;                               // TSC ticks of the read being handled
  std::string id_prefix_;                                  // OrderID/ExecID prefix: "<fix_id_base><gateway>-"
  std::vector<std::pair<FixSessionState*, bool>> closed_;  // released after the loop iteration (logged on?)
  std::vector<std::unique_ptr<Conn>> detached_;            // closed, slot reused, reports still owed
  hft::SteadyClock steady_;                                // the codec's own timers (logon wait, timer period)
  hft::fix::UtcClock utc_;                                 // the sessions' clock: SendingTime is UTC
};

}  // namespace mini_oms

#include "fix_orders.hpp"  // NOLINT(misc-header-include-cycle): FixCodec's order flow
