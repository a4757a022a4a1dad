// hft/fix/session.hpp: fix::Session, the FIX 4.4 session layer as a deterministic state
// machine: bytes and time go in; messages to send, application messages and events come out.
//
// What: the transport reads bytes and calls on_bytes(); a timer calls on_timer(). Time comes
//   from the injected clock (SimClock in tests). The session writes each outbound message
//   into its own buffer and hands it to handler.send(wire). It gives every application
//   message, in sequence and exactly once, to handler.on_app_message(msg); a re-sent
//   duplicate (PossDupFlag=Y below the expected number) is dropped. handler.on_event() hears
//   what happened; after SessionEventKind::Disconnect the transport must close. It handles:
//   - Logon(A): an acceptor waits for it and answers with the peer's HeartBtInt; an initiator
//     sends it from start(). ResetSeqNumFlag=Y resets both numbers to 1.
//   - Heartbeat(0) after HeartBtInt seconds without sending; TestRequest(1) after
//     HeartBtInt x 1.2 without receiving; Disconnect after another HeartBtInt without an
//     answer. A TestRequest from the peer gets a Heartbeat with its TestReqID.
//   - MsgSeqNum: too high -> ResendRequest(2) from the expected number to infinity (one per
//     gap), the message itself is not processed (the resend brings it back), except a
//     Logon, ResendRequest or Logout; too low without PossDupFlag=Y -> Logout and
//     disconnect; missing -> Logout and disconnect.
//   - ResendRequest from the peer: application messages from the MessageStore with
//     PossDupFlag=Y, OrigSendingTime and their original MsgSeqNum; admin messages and
//     anything the store lost become SequenceReset-GapFill runs.
//   - SequenceReset(4): GapFill moves the expected number in sequence; Reset moves it
//     regardless of MsgSeqNum; an attempt to lower it gets Reject(3), reason 5.
//   - Reject(3) with SessionRejectReason, RefSeqNum, RefTagID, RefMsgType and Text for a
//     message that parses but breaks a rule (fix/message.hpp's rejectable statuses, a
//     missing SendingTime, a wrong CompID: then also Logout); the number is consumed.
//   - garbled messages (bad length, checksum, BeginString frame) are ignored and counted.
//   - a wrong BeginString or CompID: Logout and disconnect (CompID with Reject reason 9).
//   - Logout(5): answered, then Disconnect; logout() sends one and waits for the answer up
//     to cfg.logout_timeout. With cfg.answer_logout_at_once = false the session instead
//     reports LogoutRequested and waits (LogoutReceived) while the application sends what it
//     still owes, until it calls logout() or cfg.logout_timeout passes.
// Clock: SendingTime is the clock's reading, so a real session needs UTC nanoseconds
//   (fix::UtcClock). Timers take a clock that steps back as no time elapsed.
// When to use: a FIX acceptor or initiator over any byte transport (TCP, a test harness,
//   a replay). When not: FIXT 1.1 / FIX 5.0 application versioning, encryption, or messages
//   with raw data fields (see fix/message.hpp).
// Thread-safety: one thread owns a session (the transport's I/O thread): every call,
//   including the handler's callbacks, happens on it. The handler may call send_app(),
//   logout() and disconnect() from inside a callback.
// Progress: wait-free per call (bounded by the bytes given, or by the resend range).
// Memory ordering: none (not shared).
// Complexity: O(bytes) per on_bytes; a resend O(range). Allocates only in the constructor
//   (receive and send buffers of cfg.max_message_size, the CompIDs).
// Compared with: QuickFIX's FIX::Session does the same protocol with a std::string per field,
//   its own threads and a store behind a mutex; this one is a plain state machine a gateway
//   drives from its event loop, and a test drives with SimClock and byte strings.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/fix/tags.hpp"

namespace hft::fix {

enum class SessionRole : std::uint8_t { Acceptor, Initiator };

enum class SessionState : std::uint8_t {
  Idle,           // before start()
  AwaitingLogon,  // acceptor: waiting for the peer's Logon
  LogonSent,      // initiator: waiting for the answer
  LoggedOn,
  LogoutSent,      // waiting for the peer's Logout
  LogoutReceived,  // the peer logged out; the application finishes, then calls logout()
  Disconnected,    // terminal: the transport must close
};

/// CLOCK_REALTIME in nanoseconds as a NanoClock: SendingTime must be UTC.
struct UtcClock {
  [[nodiscard]] std::uint64_t now_ns() const noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
};

struct SessionConfig {
  std::string begin_string = "FIX.4.4";
  std::string sender_comp_id;  // ours: SenderCompID(49) of what we send
  std::string target_comp_id;  // the peer's
  SessionRole role = SessionRole::Acceptor;
  /// HeartBtInt(108) an initiator proposes; an acceptor adopts the peer's.
  std::uint32_t heartbeat_interval_s = 30;
  /// Initiator: send ResetSeqNumFlag=Y on Logon (both sides start at 1).
  bool reset_on_logon = false;
  std::uint64_t logon_timeout_ns = 10'000'000'000;
  std::uint64_t logout_timeout_ns = 2'000'000'000;
  /// false: a peer's Logout is answered only when the application calls logout() (or after
  /// logout_timeout_ns), so replies it still owes go out first.
  bool answer_logout_at_once = true;
  /// The largest message in either direction (also the parser's BodyLength limit).
  std::uint32_t max_message_size = 8192;
};

enum class SessionEventKind : std::uint8_t {
  LoggedOn,
  Garbled,          // a garbled message was ignored
  RejectSent,       // we sent Reject(3); text says why
  RejectReceived,   // the peer rejected one of ours
  GapDetected,      // we sent a ResendRequest
  ResendServed,     // we answered a ResendRequest
  SequenceReset,    // the expected number moved (GapFill or Reset)
  LogoutRequested,  // answer_logout_at_once = false: the peer logged out; call logout() when done
  Disconnect,       // close the transport now; text says why
};

struct SessionEvent {
  SessionEventKind kind;
  std::string_view text;
  std::uint64_t seq = 0;  // the MsgSeqNum concerned, when there is one
};

struct SessionStats {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t app_received = 0;
  std::uint64_t garbled = 0;
  std::uint64_t rejects_sent = 0;
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t resend_requests_sent = 0;
  std::uint64_t resent = 0;
  std::uint64_t gap_fills_sent = 0;
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t test_requests_sent = 0;
};

/// Handler: send(std::string_view) writes bytes to the transport; on_app_message(const
/// Message&) receives an application message (the view lives during the call);
/// on_event(const SessionEvent&) hears session events.
template <class H>
concept SessionHandler = requires(H& h, std::string_view w, const Message& m, const SessionEvent& e) {
  h.send(w);
  h.on_app_message(m);
  h.on_event(e);
};

template <class Handler, NanoClock Clock>
  requires SessionHandler<Handler>
class Session {
 public:
  /// `store`, `handler` and `clock` must outlive the session. Sequence numbers start where
  /// the store says (a restarted session continues).
  Session(SessionConfig cfg, MessageStore& store, Handler& handler, const Clock& clock)
      : cfg_(std::move(cfg)),
        store_(store),
        handler_(handler),
        clock_(clock),
        rx_(cfg_.max_message_size + 64),
        tx_buf_(cfg_.max_message_size + 64),
        resend_buf_(cfg_.max_message_size + 64),
        tx_(tx_buf_, cfg_.begin_string) {
    if (cfg_.sender_comp_id.empty() || cfg_.target_comp_id.empty())
      throw std::invalid_argument("hft::fix::Session: sender_comp_id and target_comp_id must be set");
    if (cfg_.begin_string.empty() || cfg_.begin_string.size() > 16)
      throw std::invalid_argument("hft::fix::Session: begin_string must be 1-16 characters, got '" +
                                  cfg_.begin_string + "'");
    if (cfg_.max_message_size < 256)
      throw std::invalid_argument("hft::fix::Session: max_message_size must be >= 256, got " +
                                  std::to_string(cfg_.max_message_size));
    heartbeat_ns_ = std::uint64_t{cfg_.heartbeat_interval_s} * 1'000'000'000;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts the session on a connected transport: an initiator sends Logon, an acceptor
  /// waits for one (both for at most cfg.logon_timeout_ns).
  void start() {
    const std::uint64_t now = clock_.now_ns();
    started_at_ = last_received_ = last_sent_ = now;
    if (cfg_.role == SessionRole::Initiator) {
      if (cfg_.reset_on_logon) {
        store_.reset();
        next_out_ = expected_ = 1;
      }
      state_ = SessionState::LogonSent;
      send_logon(cfg_.reset_on_logon);
    } else {
      state_ = SessionState::AwaitingLogon;
    }
  }

  /// Feeds bytes read from the transport. Every complete message in them is processed
  /// before this returns; a partial one waits in the session's buffer.
  void on_bytes(std::string_view bytes) {
    if (state_ == SessionState::Disconnected || state_ == SessionState::Idle) return;
    if (rx_len_ == 0) bytes = consume(bytes);  // parse in place; copy only a partial tail
    while (!bytes.empty() && state_ != SessionState::Disconnected) {
      const std::size_t n = std::min(bytes.size(), rx_.size() - rx_len_);
      std::memcpy(rx_.data() + rx_len_, bytes.data(), n);
      rx_len_ += n;
      bytes.remove_prefix(n);
      const std::string_view left = consume(std::string_view(rx_.data(), rx_len_));
      std::memmove(rx_.data(), left.data(), left.size());
      rx_len_ = left.size();
    }
  }

  /// Time-driven work: heartbeats, test requests, and the logon, logout and heartbeat
  /// timeouts. Call it at least every few hundred milliseconds.
  void on_timer() {
    const std::uint64_t now = clock_.now_ns();
    switch (state_) {
      case SessionState::AwaitingLogon:
      case SessionState::LogonSent:
        if (since(now, started_at_) >= cfg_.logon_timeout_ns) drop("logon timeout");
        return;
      case SessionState::LogoutSent:
        if (since(now, logout_sent_at_) >= cfg_.logout_timeout_ns) drop("logout timeout");
        return;
      case SessionState::LogoutReceived:
        if (since(now, logout_sent_at_) >= cfg_.logout_timeout_ns) logout();
        return;
      case SessionState::LoggedOn:
        break;
      default:
        return;
    }
    if (heartbeat_ns_ == 0) return;  // HeartBtInt=0: no heartbeats
    if (test_request_at_ != 0 && since(now, test_request_at_) >= heartbeat_ns_) {
      logout_and_drop("heartbeat timeout: no answer to TestRequest");
      return;
    }
    if (test_request_at_ == 0 && since(now, last_received_) >= heartbeat_ns_ + heartbeat_ns_ / 5) {
      ++test_request_id_;
      char id[24];
      const auto len = static_cast<std::size_t>(
          std::to_chars(id, id + sizeof id, test_request_id_).ptr - id);
      begin(msg_type::kTestRequest).add(tag::kTestReqID, std::string_view(id, len));
      emit_admin();
      test_request_at_ = now;
      ++stats_.test_requests_sent;
    }
    if (since(now, last_sent_) >= heartbeat_ns_) {
      begin(msg_type::kHeartbeat);
      emit_admin();
      ++stats_.heartbeats_sent;
    }
  }

  /// Sends an application message: `fill(builder)` adds the body fields after the header
  /// (BeginString, MsgType, SenderCompID, TargetCompID, MsgSeqNum, SendingTime) the session
  /// writes. The message is stored for resend. Returns its MsgSeqNum, or 0 when it was not
  /// sent (not logged on, or a field did not fit: then no number is used).
  template <class Fill>
  std::uint64_t send_app(std::string_view type, Fill&& fill) {
    if (state_ != SessionState::LoggedOn && state_ != SessionState::LogoutReceived) return 0;
    const std::uint64_t seq = next_out_;
    begin(type);
    fill(tx_);
    const std::string_view wire = tx_.finish();
    if (wire.empty()) return 0;
    store_.store(seq, wire);
    emit(wire);
    return seq;
  }

  /// Sends Logout and waits for the peer's (on_timer() drops the session after
  /// cfg.logout_timeout_ns).
  /// In LogoutReceived: answers the peer's Logout and ends the session.
  void logout(std::string_view text = {}) {
    if (state_ == SessionState::LogoutReceived) {
      send_logout(text);
      drop("logout");
      return;
    }
    if (state_ != SessionState::LoggedOn) {
      if (state_ != SessionState::Disconnected && state_ != SessionState::LogoutSent) drop("logout");
      return;
    }
    send_logout(text);
    state_ = SessionState::LogoutSent;
    logout_sent_at_ = clock_.now_ns();
  }

  /// The transport closed (or must): the session ends without sending anything.
  void disconnect(std::string_view why = "transport closed") {
    if (state_ != SessionState::Disconnected) drop(why);
  }

  [[nodiscard]] SessionState state() const noexcept { return state_; }
  [[nodiscard]] std::uint64_t next_sender_seq() const noexcept { return next_out_; }
  [[nodiscard]] std::uint64_t next_target_seq() const noexcept { return expected_; }
  /// The HeartBtInt in force, in seconds (the peer's, for an acceptor).
  [[nodiscard]] std::uint64_t heartbeat_interval_s() const noexcept { return heartbeat_ns_ / 1'000'000'000; }
  [[nodiscard]] SessionStats stats() const noexcept { return stats_; }
  [[nodiscard]] const SessionConfig& config() const noexcept { return cfg_; }

 private:
  // Parses and handles every complete message at the front of `in`; returns the rest.
  std::string_view consume(std::string_view in) {
    while (!in.empty() && state_ != SessionState::Disconnected) {
      const ParseResult r = parse(in, msg_, {.max_body_length = cfg_.max_message_size});
      if (r.status == ParseStatus::Incomplete) {
        if (in.size() >= rx_.size()) {  // cannot happen with a sound max: keep progress anyway
          drop("message larger than max_message_size");
          return {};
        }
        break;
      }
      handle(r);
      in.remove_prefix(r.consumed);
    }
    return in;
  }

  void handle(const ParseResult& r) {
    const std::uint64_t now = clock_.now_ns();
    if (is_garbled(r.status)) {
      ++stats_.garbled;
      event(SessionEventKind::Garbled, to_string(r.status));
      return;
    }
    last_received_ = now;
    test_request_at_ = 0;
    ++stats_.received;
    if (r.status != ParseStatus::Ok) {  // rejectable: the fields before the bad one are there
      const std::uint64_t seq = msg_.seq_num();
      send_reject(seq, r.tag, r.reason(), to_string(r.status));
      if (seq == expected_) advance_expected(seq + 1);
      return;
    }
    if (msg_.begin_string() != cfg_.begin_string) {
      logout_and_drop("incorrect BeginString");
      return;
    }
    const std::string_view type = msg_.msg_type();
    const bool logon = type == msg_type::kLogon;
    if ((state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent) && !logon) {
      drop("first message is not Logon");
      return;
    }
    if (msg_.get(tag::kSenderCompID) != cfg_.target_comp_id || msg_.get(tag::kTargetCompID) != cfg_.sender_comp_id) {
      send_reject(msg_.seq_num(), msg_.get(tag::kSenderCompID) != cfg_.target_comp_id ? tag::kSenderCompID
                                                                                      : tag::kTargetCompID,
                  SessionRejectReason::CompIdProblem, "CompID problem");
      logout_and_drop("CompID problem");
      return;
    }
    const std::uint64_t seq = msg_.seq_num();
    if (seq == 0) {
      logout_and_drop("MsgSeqNum(34) missing or invalid");
      return;
    }
    if (!msg_.has(tag::kSendingTime)) {
      send_reject(seq, tag::kSendingTime, SessionRejectReason::RequiredTagMissing, "SendingTime(52) missing");
      if (seq == expected_) advance_expected(seq + 1);
      return;
    }
    // SequenceReset-Reset ignores MsgSeqNum altogether.
    if (type == msg_type::kSequenceReset && msg_.get_bool(tag::kGapFillFlag) != true) {
      on_sequence_reset(seq, /*gap_fill=*/false);
      return;
    }
    if (logon && msg_.get_bool(tag::kResetSeqNumFlag) == true && state_ != SessionState::LoggedOn) {
      if (cfg_.role == SessionRole::Acceptor) {  // our answering Logon will be 1 too
        store_.reset();
        next_out_ = 1;
      }
      expected_ = 1;
      store_.set_next_target_seq(1);
      if (seq != 1) {
        logout_and_drop("Logon with ResetSeqNumFlag=Y must have MsgSeqNum=1");
        return;
      }
    }
    if (seq < expected_) {
      if (msg_.get_bool(tag::kPossDupFlag) == true) {
        ++stats_.duplicates_dropped;
        return;
      }
      char text[96];
      const int n = std::snprintf(text, sizeof text, "MsgSeqNum too low, expecting %llu but received %llu",
                                  static_cast<unsigned long long>(expected_), static_cast<unsigned long long>(seq));
      logout_and_drop(std::string_view(text, static_cast<std::size_t>(n)));
      return;
    }
    if (seq > expected_) {
      // Only these are acted on out of order; anything else comes back with the resend.
      if (logon) on_logon();
      else if (type == msg_type::kResendRequest) on_resend_request();
      else if (type == msg_type::kLogout) {
        on_logout();
        return;
      }
      if (state_ == SessionState::Disconnected) return;
      request_resend(seq);
      return;
    }
    // In sequence.
    if (type == msg_type::kSequenceReset) {
      on_sequence_reset(seq, /*gap_fill=*/true);
      return;
    }
    advance_expected(seq + 1);
    if (logon) on_logon();
    else if (type == msg_type::kHeartbeat) {
    } else if (type == msg_type::kTestRequest) {
      begin(msg_type::kHeartbeat);
      const std::string_view id = msg_.get(tag::kTestReqID);
      if (!id.empty()) tx_.add(tag::kTestReqID, id);
      emit_admin();
      ++stats_.heartbeats_sent;
    } else if (type == msg_type::kResendRequest) on_resend_request();
    else if (type == msg_type::kReject) event(SessionEventKind::RejectReceived, msg_.get(tag::kText), seq);
    else if (type == msg_type::kLogout) on_logout();
    else if (state_ == SessionState::LoggedOn) {  // nothing after the peer's Logout
      ++stats_.app_received;
      handler_.on_app_message(msg_);
    }
  }

  void on_logon() {
    if (state_ == SessionState::LoggedOn) return;  // a second Logon changes nothing
    const auto hb = msg_.get_int(tag::kHeartBtInt);
    if (!hb || *hb < 0 || *hb > 3600) {
      logout_and_drop("Logon without a valid HeartBtInt(108)");
      return;
    }
    if (cfg_.role == SessionRole::Acceptor) {
      heartbeat_ns_ = static_cast<std::uint64_t>(*hb) * 1'000'000'000;
      state_ = SessionState::LoggedOn;
      send_logon(msg_.get_bool(tag::kResetSeqNumFlag) == true);
    } else {
      state_ = SessionState::LoggedOn;
    }
    event(SessionEventKind::LoggedOn, {}, msg_.seq_num());
  }

  void on_logout() {
    if (state_ == SessionState::LogoutReceived) return;
    if (state_ == SessionState::LoggedOn && !cfg_.answer_logout_at_once) {
      state_ = SessionState::LogoutReceived;
      logout_sent_at_ = clock_.now_ns();  // the answer's deadline runs from here
      event(SessionEventKind::LogoutRequested, msg_.get(tag::kText), msg_.seq_num());
      return;
    }
    if (state_ != SessionState::LogoutSent) send_logout({});
    drop("logout");
  }

  void on_sequence_reset(std::uint64_t seq, bool gap_fill) {
    const auto new_seq = msg_.get_int(tag::kNewSeqNo);
    if (!new_seq || *new_seq <= 0) {
      send_reject(seq, tag::kNewSeqNo, SessionRejectReason::RequiredTagMissing, "NewSeqNo(36) missing or invalid");
      if (gap_fill && seq == expected_) advance_expected(seq + 1);
      return;
    }
    const auto target = static_cast<std::uint64_t>(*new_seq);
    if (target < expected_ || (gap_fill && target <= seq)) {
      send_reject(seq, tag::kNewSeqNo, SessionRejectReason::ValueIncorrect,
                  "SequenceReset may not lower the expected MsgSeqNum");
      if (gap_fill && seq == expected_) advance_expected(seq + 1);
      return;
    }
    advance_expected(target);
    event(SessionEventKind::SequenceReset, gap_fill ? "gap fill" : "reset", target);
  }

  // Answers a ResendRequest (msg_): stored application messages again with PossDupFlag=Y,
  // everything else as SequenceReset-GapFill runs.
  void on_resend_request() {
    const auto b = msg_.get_int(tag::kBeginSeqNo), e = msg_.get_int(tag::kEndSeqNo);
    if (!b || !e || *b <= 0 || *e < 0) {
      send_reject(msg_.seq_num(), tag::kBeginSeqNo, SessionRejectReason::ValueIncorrect, "bad ResendRequest range");
      return;
    }
    const std::uint64_t last = next_out_ - 1;
    const auto begin_seq = static_cast<std::uint64_t>(*b);
    std::uint64_t end_seq = *e == 0 ? last : std::min<std::uint64_t>(static_cast<std::uint64_t>(*e), last);
    std::uint64_t gap_from = 0;
    for (std::uint64_t s = begin_seq; s <= end_seq && state_ != SessionState::Disconnected; ++s) {
      const std::string_view stored = store_.load(s);
      Message old;
      if (stored.empty() || !parse(stored, old, {.max_body_length = cfg_.max_message_size}).ok()) {
        if (gap_from == 0) gap_from = s;
        continue;
      }
      if (gap_from != 0) {
        send_gap_fill(gap_from, s);
        gap_from = 0;
      }
      resend(old, s);
    }
    if (gap_from != 0) send_gap_fill(gap_from, end_seq + 1);
    event(SessionEventKind::ResendServed, {}, begin_seq);
  }

  void resend(const Message& old, std::uint64_t seq) {
    MessageBuilder b(resend_buf_, cfg_.begin_string);
    b.start(old.msg_type())
        .add(tag::kSenderCompID, cfg_.sender_comp_id)
        .add(tag::kTargetCompID, cfg_.target_comp_id)
        .add(tag::kMsgSeqNum, seq)
        .add_bool(tag::kPossDupFlag, true)
        .add_timestamp(tag::kSendingTime, clock_.now_ns())
        .add(tag::kOrigSendingTime, old.get(tag::kSendingTime));
    for (const Field& f : old.fields())
      if (!is_header_tag(f.tag) && !is_trailer_tag(f.tag)) b.add(f.tag, old.value(f));
    const std::string_view wire = b.finish();
    if (wire.empty()) return;
    ++stats_.resent;
    send_raw(wire);
  }

  void send_gap_fill(std::uint64_t from, std::uint64_t new_seq) {
    MessageBuilder b(resend_buf_, cfg_.begin_string);
    b.start(msg_type::kSequenceReset)
        .add(tag::kSenderCompID, cfg_.sender_comp_id)
        .add(tag::kTargetCompID, cfg_.target_comp_id)
        .add(tag::kMsgSeqNum, from)
        .add_bool(tag::kPossDupFlag, true)
        .add_timestamp(tag::kSendingTime, clock_.now_ns())
        .add_bool(tag::kGapFillFlag, true)
        .add(tag::kNewSeqNo, new_seq);
    ++stats_.gap_fills_sent;
    send_raw(b.finish());
  }

  void request_resend(std::uint64_t seen) {
    if (resend_until_ >= expected_ && resend_until_ != 0) {  // one request per gap
      resend_until_ = std::max(resend_until_, seen);
      return;
    }
    resend_until_ = seen;
    begin(msg_type::kResendRequest).add(tag::kBeginSeqNo, expected_).add(tag::kEndSeqNo, 0);
    emit_admin();
    ++stats_.resend_requests_sent;
    event(SessionEventKind::GapDetected, {}, expected_);
  }

  void advance_expected(std::uint64_t next) {
    expected_ = next;
    store_.set_next_target_seq(next);
    if (resend_until_ != 0 && expected_ > resend_until_) resend_until_ = 0;
  }

  void send_logon(bool reset) {
    begin(msg_type::kLogon)
        .add(tag::kEncryptMethod, 0)
        .add(tag::kHeartBtInt, heartbeat_ns_ / 1'000'000'000);
    if (reset) tx_.add_bool(tag::kResetSeqNumFlag, true);
    emit_admin();
  }

  void send_logout(std::string_view text) {
    begin(msg_type::kLogout);
    if (!text.empty()) tx_.add(tag::kText, text);
    emit_admin();
  }

  void send_reject(std::uint64_t ref_seq, std::uint32_t ref_tag, SessionRejectReason reason, std::string_view text) {
    begin(msg_type::kReject).add(tag::kRefSeqNum, ref_seq);
    if (ref_tag != 0) tx_.add(tag::kRefTagID, ref_tag);
    const std::string_view type = msg_.msg_type();
    if (!type.empty()) tx_.add(tag::kRefMsgType, type);
    tx_.add(tag::kSessionRejectReason, static_cast<unsigned>(reason)).add(tag::kText, text);
    emit_admin();
    ++stats_.rejects_sent;
    event(SessionEventKind::RejectSent, text, ref_seq);
  }

  void logout_and_drop(std::string_view why) {
    if (state_ == SessionState::LoggedOn || state_ == SessionState::AwaitingLogon ||
        state_ == SessionState::LogonSent)
      send_logout(why);
    drop(why);
  }

  void drop(std::string_view why) {
    state_ = SessionState::Disconnected;
    event(SessionEventKind::Disconnect, why);
  }

  MessageBuilder& begin(std::string_view type) {
    tx_.start(type)
        .add(tag::kSenderCompID, cfg_.sender_comp_id)
        .add(tag::kTargetCompID, cfg_.target_comp_id)
        .add(tag::kMsgSeqNum, next_out_)
        .add_timestamp(tag::kSendingTime, clock_.now_ns());
    return tx_;
  }

  void emit_admin() {
    const std::string_view wire = tx_.finish();
    if (!wire.empty()) emit(wire);
  }

  void emit(std::string_view wire) {
    ++next_out_;
    store_.set_next_sender_seq(next_out_);
    send_raw(wire);
  }

  void send_raw(std::string_view wire) {
    if (wire.empty()) return;
    last_sent_ = clock_.now_ns();
    ++stats_.sent;
    handler_.send(wire);
  }

  static constexpr std::uint64_t since(std::uint64_t now, std::uint64_t then) noexcept {
    return now > then ? now - then : 0;
  }

  void event(SessionEventKind k, std::string_view text, std::uint64_t seq = 0) {
    handler_.on_event(SessionEvent{k, text, seq});
  }

  SessionConfig cfg_;
  MessageStore& store_;
  Handler& handler_;
  const Clock& clock_;
  std::vector<char> rx_;
  std::size_t rx_len_ = 0;
  std::vector<char> tx_buf_;
  std::vector<char> resend_buf_;
  MessageBuilder tx_;
  Message msg_;
  SessionState state_ = SessionState::Idle;
  std::uint64_t next_out_ = store_.next_sender_seq();
  std::uint64_t expected_ = store_.next_target_seq();
  std::uint64_t resend_until_ = 0;  // the highest MsgSeqNum seen while a ResendRequest is open
  std::uint64_t heartbeat_ns_ = 0;
  std::uint64_t started_at_ = 0, last_received_ = 0, last_sent_ = 0;
  std::uint64_t test_request_at_ = 0;  // 0: no TestRequest outstanding
  std::uint64_t test_request_id_ = 0;
  std::uint64_t logout_sent_at_ = 0;  // LogoutSent: when ours left; LogoutReceived: when theirs came
  SessionStats stats_;
};

}  // namespace hft::fix
