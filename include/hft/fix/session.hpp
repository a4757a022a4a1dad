// hft/fix/session.hpp: fix::Session, the FIX 4.4 session layer as a deterministic state
// machine: bytes and time go in; messages to send, application messages and events come out.
//
// What: the transport reads bytes and calls on_bytes(); a timer calls on_timer(). Time comes
//   from the injected clock (SimClock in tests). The session writes each outbound message
//   into its own buffer and hands it to handler.send(wire). It gives every application
//   message, in sequence, to handler.on_app_message(msg), at least once: the inbound number
//   is used (and stored) only after the call returns, so a crash or an exception inside it
//   brings the message back by resend (PossDupFlag=Y) after a restart, and the application
//   dedupes by its own key (the mini-OMS: ClOrdID). A re-sent duplicate (PossDupFlag=Y below
//   the expected number) is dropped. handler.on_event() hears what happened; after
//   SessionEventKind::Disconnect the transport must close. The rules, in the order checked:
//   - before logon, a first message that is not a well-formed Logon ends the session with no
//     reply; an acceptor's answers to a refused Logon (Logout, Reject) do not move the
//     stored numbers, and a refused ResetSeqNumFlag=Y Logon resets nothing.
//   - garbled frames (fix/message.hpp) are ignored and counted; their number is not used.
//   - a wrong BeginString: Logout and disconnect. A wrong CompID: Reject reason 9, Logout,
//     disconnect (on a first Logon: disconnect, no reply). A missing one: Reject reason 1,
//     and the session goes on.
//   - SendingTime further than cfg.max_sending_time_skew_ns from the clock: Reject reason
//     10, Logout, disconnect.
//   - MsgSeqNum: too high -> ResendRequest(2) from the expected number to infinity (one per
//     gap, again after cfg.resend_timeout_ns without progress, Logout after the third), and
//     the message waits for the resend, except a ResendRequest or Logout, acted on at once;
//     too low without PossDupFlag=Y -> Logout and disconnect; missing -> Logout, disconnect.
//     PossDupFlag=Y needs OrigSendingTime (Reject reason 1) not later than SendingTime
//     (Reject reason 10, Logout).
//   - in sequence, cfg.dictionary's validation (hft/fix/dictionary.hpp) and a parse's
//     rejectable rules: Reject(3) with SessionRejectReason, RefSeqNum (read from the raw
//     frame when the bad field precedes MsgSeqNum), RefTagID, RefMsgType, Text; the number
//     is used. A value-level violation of an application message goes to the handler's
//     on_invalid_app_message(msg, violation) instead, when it has one (a business reject).
//   - Logon(A): an acceptor answers with the peer's HeartBtInt. ResetSeqNumFlag=Y (MsgSeqNum
//     must be 1) resets both numbers, also mid-session, where the acceptor answers with its
//     own reset Logon.
//   - Heartbeat(0) after HeartBtInt seconds without sending; TestRequest(1) after
//     HeartBtInt x 1.2 without receiving; Disconnect after another HeartBtInt without an
//     answer. A TestRequest from the peer gets a Heartbeat with its TestReqID.
//   - ResendRequest from the peer: application messages from the MessageStore with
//     PossDupFlag=Y, OrigSendingTime and their original MsgSeqNum; admin messages and
//     anything the store lost become SequenceReset-GapFill runs (with OrigSendingTime).
//   - SequenceReset(4): GapFill moves the expected number in sequence; Reset moves it
//     whatever MsgSeqNum says (0 included; the field itself is required); lowering it gets
//     Reject reason 5.
//   - Logout(5): answered, then Disconnect; logout() sends one and waits for the answer up
//     to cfg.logout_timeout, delivering the application messages that still arrive. With
//     cfg.answer_logout_at_once = false the session instead reports LogoutRequested and
//     waits (LogoutReceived) while the application sends what it still owes, until it calls
//     logout() or cfg.logout_timeout passes.
//   send_app() refuses (returns 0, uses no number, stores nothing) a message whose resend
//   (32 bytes longer: PossDupFlag, OrigSendingTime) would exceed cfg.max_message_size.
//   store_app() numbers and stores, without sending, what is owed a peer after its session
//   ended: its ResendRequest after the next Logon gets it.
// Clock: SendingTime is the clock's reading, so a real session needs UTC nanoseconds
//   (fix::UtcClock). Timers take a clock that steps back as no time elapsed.
// When to use: a FIX acceptor or initiator over any byte transport (TCP, a test harness,
//   a replay). When not: FIXT 1.1 / FIX 5.0 application versioning, encryption, or messages
//   with raw data fields (see fix/message.hpp).
// Thread-safety: one thread owns a session (the transport's I/O thread): every call,
//   including the handler's callbacks, happens on it. The handler may call send_app(),
//   logout() and disconnect() from inside a callback. An exception from a callback ends the
//   session (Disconnect) and propagates out of on_bytes().
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
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/dictionary.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/fix/tags.hpp"

namespace hft::fix {

/// Which side of the connection this session is: the acceptor waits for Logon, the initiator sends it.
enum class SessionRole : std::uint8_t { Acceptor, Initiator };

/// Where the session stands in the FIX session protocol; state() returns it.
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
  /// Nanoseconds since the Unix epoch, UTC (std::chrono::system_clock).
  [[nodiscard]] std::uint64_t now_ns() const noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
};

/// The settings of a Session: identities, role, timers, limits and the dictionary inbound messages are validated
/// against.
struct SessionConfig {
  std::string begin_string = "FIX.4.4";      ///< BeginString(8) sent and required on every message
  std::string sender_comp_id{};              ///< ours: SenderCompID(49) of what we send
  std::string target_comp_id{};              ///< the peer's
  SessionRole role = SessionRole::Acceptor;  ///< acceptor waits for the peer's Logon; initiator sends one at start()
  /// HeartBtInt(108) an initiator proposes; an acceptor adopts the peer's.
  std::uint32_t heartbeat_interval_s = 30;
  /// Initiator: send ResetSeqNumFlag=Y on Logon (both sides start at 1).
  bool reset_on_logon = false;
  /// No answer to our Logon (or no Logon from the peer) in this time ends the session
  std::uint64_t logon_timeout_ns = 10'000'000'000;
  /// No Logout answer in this time after ours ends the session anyway
  std::uint64_t logout_timeout_ns = 2'000'000'000;
  /// false: a peer's Logout is answered only when the application calls logout() (or after
  /// logout_timeout_ns), so replies it still owes go out first.
  bool answer_logout_at_once = true;
  /// The largest message in either direction (also the parser's BodyLength limit).
  std::uint32_t max_message_size = 8192;
  /// A message whose SendingTime(52) is further than this from the clock gets Reject
  /// reason 10 and a Logout (QuickFIX's MaxLatency is the same 120 s). 0: not checked.
  std::uint64_t max_sending_time_skew_ns = 120'000'000'000;
  /// A ResendRequest that brings no progress for this long is sent again; the third one
  /// without progress ends the session ("gap not filled"). 0: never (the gap stays open).
  std::uint64_t resend_timeout_ns = 10'000'000'000;
  /// Every inbound message is validated against it (hft/fix/dictionary.hpp);
  /// &Dictionary::fix44(true) also accepts user-defined tags (5000 and up); nullptr: only
  /// the parser's rules and the header fields the session reads.
  const Dictionary* dictionary = &Dictionary::fix44();
};

/// What a SessionEvent reports to the handler's on_event().
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

/// Something the session did or saw that the application may log or act on; text is valid only during the call.
struct SessionEvent {
  SessionEventKind kind{};  ///< what happened
  std::string_view text{};  ///< why, for rejects and disconnects; empty otherwise
  std::uint64_t seq = 0;    ///< the MsgSeqNum concerned, when there is one
};

/// Counters of a Session since construction, returned by value from stats().
struct SessionStats {
  std::uint64_t received = 0;              ///< messages from the peer not garbled, admin and application
  std::uint64_t sent = 0;                  ///< messages sent (resent ones included)
  std::uint64_t app_received = 0;          ///< application messages delivered to the handler
  std::uint64_t garbled = 0;               ///< inbound messages ignored as garbled (framing, BodyLength, CheckSum)
  std::uint64_t rejects_sent = 0;          ///< Reject(3) messages sent
  std::uint64_t duplicates_dropped = 0;    ///< PossDupFlag=Y messages below the expected number, ignored
  std::uint64_t resend_requests_sent = 0;  ///< ResendRequest(2) messages sent for gaps
  std::uint64_t resent = 0;                ///< application messages resent for the peer's ResendRequest
  std::uint64_t gap_fills_sent = 0;        ///< SequenceReset-GapFill sent in place of messages not resent
  std::uint64_t heartbeats_sent = 0;       ///< Heartbeat(0) messages sent
  std::uint64_t test_requests_sent = 0;    ///< TestRequest(1) messages sent after a silent interval
  std::uint64_t stored_unsent = 0;         ///< application messages store_app numbered and stored after the close
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

/// A handler that answers value-level violations of application messages itself (a
/// business-level reject: an ExecutionReport for an order) instead of the session's Reject.
template <class H>
concept HandlesInvalidAppMessage = requires(H& h, const Message& m, const Violation& v) {
  h.on_invalid_app_message(m, v);
};

/// A FIX 4.4 session state machine: logon, sequence numbers, gap fill, resend, heartbeats and logout, over a transport
/// and a message store the caller provides.
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
      throw std::invalid_argument("hft::fix::Session: begin_string must be 1-16 characters, got '" + cfg_.begin_string +
                                  "'");
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
  /// An exception from a handler callback ends the session (Disconnect) and propagates; the
  /// message being handled keeps its number, so the peer sends it again after a reconnect.
  void on_bytes(std::string_view bytes) {
    if (state_ == SessionState::Disconnected || state_ == SessionState::Idle) return;
    try {
      feed(bytes);
    } catch (...) {
      if (state_ != SessionState::Disconnected) drop("exception from the handler");
      throw;
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
    if (resend_until_ != 0 && cfg_.resend_timeout_ns != 0 &&
        since(now, resend_progress_at_) >= cfg_.resend_timeout_ns) {
      if (resend_attempts_ == kMaxResendAttempts) {
        logout_and_drop("gap not filled: no answer to ResendRequest");
        return;
      }
      ++resend_attempts_;
      resend_progress_at_ = now;
      send_resend_request();  // from the expected number again: the first may have been lost
    }
    if (heartbeat_ns_ == 0) return;  // HeartBtInt=0: no heartbeats
    if (test_request_at_ != 0 && since(now, test_request_at_) >= heartbeat_ns_) {
      logout_and_drop("heartbeat timeout: no answer to TestRequest");
      return;
    }
    if (test_request_at_ == 0 && since(now, last_received_) >= heartbeat_ns_ + heartbeat_ns_ / 5) {
      ++test_request_id_;
      char id[24];
      const auto len = static_cast<std::size_t>(std::to_chars(id, id + sizeof id, test_request_id_).ptr - id);
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
  /// sent (not logged on, a field did not fit, or the message would be longer than
  /// cfg.max_message_size when resent, with PossDupFlag and OrigSendingTime added: 32 bytes
  /// more. Then no number is used and nothing is stored).
  template <class Fill>
  std::uint64_t send_app(std::string_view type, Fill&& fill) {
    if (state_ != SessionState::LoggedOn && state_ != SessionState::LogoutReceived) return 0;
    const std::uint64_t seq = next_out_;
    const std::string_view wire = build_app(type, fill);
    if (wire.empty()) return 0;
    store_.store(seq, wire);
    emit(wire);
    return seq;
  }

  /// Numbers and stores an application message without sending it, for the peer's
  /// ResendRequest after it logs on again: what an acceptor owes a peer whose connection
  /// dropped (an execution that completed after the close). The message gets the next
  /// MsgSeqNum, so the peer's next Logon shows the gap and its ResendRequest gets it with
  /// PossDupFlag=Y (QuickFIX stores what is sent while not logged on the same way). Only
  /// after this session was logged on and has ended (Disconnected): before a Logon the
  /// numbers are not yet the session's. Returns the MsgSeqNum, or 0 when nothing was stored
  /// (not in that state, or send_app's size refusals).
  template <class Fill>
  std::uint64_t store_app(std::string_view type, Fill&& fill) {
    if (state_ != SessionState::Disconnected || !was_logged_on_) return 0;
    const std::uint64_t seq = next_out_;
    const std::string_view wire = build_app(type, fill);
    if (wire.empty()) return 0;
    store_.store(seq, wire);
    ++next_out_;
    store_.set_next_sender_seq(next_out_);
    ++stats_.stored_unsent;
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

  /// Where the session stands.
  [[nodiscard]] SessionState state() const noexcept { return state_; }
  /// True while the session writes its answer to the peer's ResendRequest (from the
  /// handler's send()): a burst as long as the range asked for, which a transport may let
  /// through where it would cut a peer that does not read.
  [[nodiscard]] bool in_resend() const noexcept { return resending_; }
  /// The MsgSeqNum(34) our next outbound message gets.
  [[nodiscard]] std::uint64_t next_sender_seq() const noexcept { return next_out_; }
  /// The MsgSeqNum(34) expected on the peer's next message.
  [[nodiscard]] std::uint64_t next_target_seq() const noexcept { return expected_; }
  /// The HeartBtInt in force, in seconds (the peer's, for an acceptor).
  [[nodiscard]] std::uint64_t heartbeat_interval_s() const noexcept { return heartbeat_ns_ / 1'000'000'000; }
  /// A copy of the counters.
  [[nodiscard]] SessionStats stats() const noexcept { return stats_; }
  /// The configuration the session was built with.
  [[nodiscard]] const SessionConfig& config() const noexcept { return cfg_; }

 private:
  void feed(std::string_view bytes) {
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
    const bool pre_logon = state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent;
    const std::string_view type = msg_.msg_type();
    const bool logon = r.ok() && type == msg_type::kLogon;
    if (pre_logon && !logon) {
      // Nobody is logged on yet: a reply would use up our numbers for a stranger.
      drop(r.ok() ? "first message is not Logon" : "first message is not a valid Logon");
      return;
    }
    last_received_ = now;
    test_request_at_ = 0;
    ++stats_.received;
    if (!r.ok()) {  // rejectable: the frame is sound, so its MsgSeqNum can be read
      on_rejectable(r);
      return;
    }
    if (msg_.begin_string() != cfg_.begin_string) {
      logout_and_drop("incorrect BeginString");
      return;
    }
    // CompIDs: absent is a missing field (the session goes on); present and wrong is
    // someone else's message.
    const std::string_view sender = msg_.get(tag::kSenderCompID), target = msg_.get(tag::kTargetCompID);
    if ((!sender.empty() && sender != cfg_.target_comp_id) || (!target.empty() && target != cfg_.sender_comp_id)) {
      if (pre_logon) {  // a Logon for another session (1S.c): nothing to say to a stranger
        drop("Logon with another CompID");
        return;
      }
      send_reject(msg_.seq_num(), sender != cfg_.target_comp_id ? tag::kSenderCompID : tag::kTargetCompID,
                  SessionRejectReason::CompIdProblem, "CompID problem");
      logout_and_drop("CompID problem");
      return;
    }
    if (pre_logon && (sender.empty() || target.empty())) {
      drop("Logon without SenderCompID(49) or TargetCompID(56)");
      return;
    }
    const std::optional<std::uint64_t> sending_time = msg_.get_utc_ns(tag::kSendingTime);
    if (sending_time && cfg_.max_sending_time_skew_ns != 0 &&
        (*sending_time > now ? *sending_time - now : now - *sending_time) > cfg_.max_sending_time_skew_ns) {
      const std::uint64_t seq = msg_.seq_num();
      send_reject(seq, tag::kSendingTime, SessionRejectReason::SendingTimeAccuracyProblem,
                  "SendingTime accuracy problem");
      if (seq == expected_ && !pre_logon) advance_expected(seq + 1);
      logout_and_drop("SendingTime accuracy problem");
      return;
    }
    const Violation v = check(sending_time.has_value(), sender.empty(), target.empty());
    const std::uint64_t seq = msg_.seq_num();
    const bool possdup = msg_.get_bool(tag::kPossDupFlag) == true;
    // SequenceReset-Reset ignores MsgSeqNum's value, 0 included (the field itself is a
    // required header field: the dictionary refuses a Reset without one).
    if (type == msg_type::kSequenceReset && msg_.get_bool(tag::kGapFillFlag) != true) {
      if (!v.ok()) {
        send_reject(seq, v.tag, v.reason, v.text);
        return;
      }
      on_sequence_reset(seq, /*gap_fill=*/false);
      return;
    }
    if (seq == 0) {
      logout_and_drop("MsgSeqNum(34) missing or invalid");
      return;
    }
    if (logon && msg_.get_bool(tag::kResetSeqNumFlag) == true) {
      on_reset_logon(seq, v);
      return;
    }
    if (pre_logon) {
      on_first_logon(seq, v, /*reset=*/false);
      return;
    }
    if (seq < expected_) {
      if (!possdup) {
        char text[96];
        const int n = std::snprintf(text, sizeof text, "MsgSeqNum too low, expecting %llu but received %llu",
                                    static_cast<unsigned long long>(expected_), static_cast<unsigned long long>(seq));
        logout_and_drop(std::string_view(text, static_cast<std::size_t>(n)));
        return;
      }
      if (check_possdup(seq, sending_time)) {
        ++stats_.duplicates_dropped;
      }
      return;
    }
    if (seq > expected_) {
      // Only these are acted on out of order; anything else comes back with the resend.
      if (v.ok()) {
        if (type == msg_type::kResendRequest) {
          on_resend_request();
        } else if (type == msg_type::kLogout) {
          on_logout();
          return;
        }
      }
      if (state_ == SessionState::Disconnected) return;
      request_resend(seq);
      return;
    }
    // In sequence.
    if (possdup && !check_possdup(seq, sending_time)) {
      if (state_ != SessionState::Disconnected) advance_expected(seq + 1);
      return;
    }
    if (!v.ok()) {
      on_violation(seq, type, v);
      return;
    }
    if (type == msg_type::kSequenceReset) {
      on_sequence_reset(seq, /*gap_fill=*/true);
      return;
    }
    if (type == msg_type::kLogon || type == msg_type::kHeartbeat) {  // a second Logon changes nothing
      advance_expected(seq + 1);
    } else if (type == msg_type::kTestRequest) {
      advance_expected(seq + 1);
      begin(msg_type::kHeartbeat);
      const std::string_view id = msg_.get(tag::kTestReqID);
      if (!id.empty()) tx_.add(tag::kTestReqID, id);
      emit_admin();
      ++stats_.heartbeats_sent;
    } else if (type == msg_type::kResendRequest) {
      advance_expected(seq + 1);
      on_resend_request();
    } else if (type == msg_type::kReject) {
      advance_expected(seq + 1);
      event(SessionEventKind::RejectReceived, msg_.get(tag::kText), seq);
    } else if (type == msg_type::kLogout) {
      advance_expected(seq + 1);
      on_logout();
    } else {
      // LoggedOn, LogoutSent, and LogoutReceived too: a Logout that arrived above a gap is
      // acted on at once, and the resend of what it left behind still comes in.
      // At least once: the number is used only after the handler returns, so a crash (or an
      // exception) inside it leaves the message to come back, PossDupFlag=Y, by resend.
      ++stats_.app_received;
      handler_.on_app_message(msg_);
      advance_expected(seq + 1);
    }
  }

  // A message that frames but breaks a field rule (fix/message.hpp's rejectable statuses).
  // Its MsgSeqNum is read from the raw frame, since the bad field may come before it.
  void on_rejectable(const ParseResult& r) {
    const std::string_view raw = msg_.raw();
    const std::uint64_t seq = raw_seq_num(raw);
    if (seq == 0) {
      logout_and_drop("MsgSeqNum(34) missing or invalid");
      return;
    }
    if (seq > expected_) {
      request_resend(seq);
      return;
    }
    if (seq < expected_) {
      if (raw.find("\x01"
                   "43=Y\x01") != std::string_view::npos) {
        ++stats_.duplicates_dropped;
        return;
      }
      logout_and_drop("MsgSeqNum too low");
      return;
    }
    send_reject(seq, r.tag, r.reason(), to_string(r.status));
    advance_expected(seq + 1);
  }

  // The checks of one message beyond framing: the dictionary's (cfg.dictionary), and the
  // header fields the session itself needs.
  [[nodiscard]] Violation check(bool sending_time_ok, bool no_sender, bool no_target) const noexcept {
    if (cfg_.dictionary != nullptr) {
      const Violation v = cfg_.dictionary->validate(msg_);
      if (!v.ok()) return v;
    }
    if (no_sender)
      return Violation{SessionRejectReason::RequiredTagMissing, tag::kSenderCompID, "SenderCompID(49) missing", false};
    if (no_target)
      return Violation{SessionRejectReason::RequiredTagMissing, tag::kTargetCompID, "TargetCompID(56) missing", false};
    if (!msg_.has(tag::kSendingTime))
      return Violation{SessionRejectReason::RequiredTagMissing, tag::kSendingTime, "SendingTime(52) missing", false};
    if (!sending_time_ok)
      return Violation{SessionRejectReason::IncorrectDataFormat, tag::kSendingTime,
                       "SendingTime(52) is not a UTCTimestamp", false};
    return {};
  }

  // PossDupFlag=Y: OrigSendingTime must be there (but on a SequenceReset) and not later than
  // SendingTime. False when the message was rejected.
  bool check_possdup(std::uint64_t seq, std::optional<std::uint64_t> sending_time) {
    if (msg_.msg_type() == msg_type::kSequenceReset) return true;
    const std::optional<std::uint64_t> orig = msg_.get_utc_ns(tag::kOrigSendingTime);
    if (!msg_.has(tag::kOrigSendingTime)) {
      send_reject(seq, tag::kOrigSendingTime, SessionRejectReason::RequiredTagMissing,
                  "OrigSendingTime(122) missing on a PossDupFlag=Y message");
      return false;
    }
    if (!orig) {
      send_reject(seq, tag::kOrigSendingTime, SessionRejectReason::IncorrectDataFormat,
                  "OrigSendingTime(122) is not a UTCTimestamp");
      return false;
    }
    if (sending_time && *orig > *sending_time) {
      send_reject(seq, tag::kOrigSendingTime, SessionRejectReason::SendingTimeAccuracyProblem,
                  "OrigSendingTime(122) later than SendingTime(52)");
      if (seq == expected_) advance_expected(seq + 1);
      logout_and_drop("SendingTime accuracy problem");
      return false;
    }
    return true;
  }

  // An in-sequence message the dictionary refused: the number is used either way.
  void on_violation(std::uint64_t seq, std::string_view type, const Violation& v) {
    if constexpr (HandlesInvalidAppMessage<Handler>) {
      if (v.value_level && !is_admin_msg_type(type)) {
        ++stats_.app_received;
        handler_.on_invalid_app_message(msg_, v);  // a business-level reject, the application's
        advance_expected(seq + 1);
        return;
      }
    }
    send_reject(seq, v.tag, v.reason, v.text);
    advance_expected(seq + 1);
  }

  // A Logon with ResetSeqNumFlag=Y: everything is checked before anything is reset, so a
  // refused one changes nothing.
  void on_reset_logon(std::uint64_t seq, const Violation& v) {
    const bool pre_logon = state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent;
    if (seq != 1) {
      logout_and_drop("Logon with ResetSeqNumFlag=Y must have MsgSeqNum=1");
      return;
    }
    if (pre_logon) {
      on_first_logon(seq, v, /*reset=*/true);
      return;
    }
    if (state_ != SessionState::LoggedOn) return;  // a logout is under way: it ends the session
    if (!v.ok() || !valid_heartbeat()) {
      send_reject(seq, v.ok() ? tag::kHeartBtInt : v.tag, v.ok() ? SessionRejectReason::ValueIncorrect : v.reason,
                  v.ok() ? std::string_view("HeartBtInt(108) invalid") : v.text);
      return;
    }
    // Mid-session (Vol. 2): both sides start again at 1, and we answer with our own reset Logon.
    reset_numbers();
    advance_expected(2);
    send_logon(/*reset=*/true);
    event(SessionEventKind::SequenceReset, "reset by Logon", 1);
  }

  // The Logon that starts the session (acceptor: the peer's; initiator: the answer).
  void on_first_logon(std::uint64_t seq, const Violation& v, bool reset) {
    if (!v.ok()) {
      logout_and_drop(v.text);
      return;
    }
    if (!valid_heartbeat()) {
      logout_and_drop("Logon without a valid HeartBtInt(108)");
      return;
    }
    if (!reset && seq < expected_) {
      char text[96];
      const int n = std::snprintf(text, sizeof text, "MsgSeqNum too low, expecting %llu but received %llu",
                                  static_cast<unsigned long long>(expected_), static_cast<unsigned long long>(seq));
      logout_and_drop(std::string_view(text, static_cast<std::size_t>(n)));
      return;
    }
    if (reset) {
      if (cfg_.role == SessionRole::Acceptor) {
        reset_numbers();  // our answering Logon is 1 too
      } else {
        expected_ = 1;  // we asked (start() reset the store) or the acceptor chose to
        store_.set_next_target_seq(1);
      }
    }
    state_ = SessionState::LoggedOn;
    was_logged_on_ = true;
    if (cfg_.role == SessionRole::Acceptor) {
      heartbeat_ns_ = static_cast<std::uint64_t>(*msg_.get_int(tag::kHeartBtInt)) * 1'000'000'000;
      send_logon(reset);
    }
    event(SessionEventKind::LoggedOn, {}, seq);
    if (state_ == SessionState::Disconnected) return;
    if (seq > expected_)
      request_resend(seq);  // the Logon is acted on; the numbers before it come back first
    else
      advance_expected(seq + 1);
  }

  [[nodiscard]] bool valid_heartbeat() const noexcept {
    const auto hb = msg_.get_int(tag::kHeartBtInt);
    return hb && *hb >= 0 && *hb <= 3600;
  }

  void reset_numbers() {
    store_.reset();
    next_out_ = 1;
    expected_ = 1;
    resend_until_ = 0;
  }

  // MsgSeqNum(34) anywhere in a frame, for a message whose parse stopped before it.
  [[nodiscard]] static std::uint64_t raw_seq_num(std::string_view raw) noexcept {
    const std::size_t at = raw.find(
        "\x01"
        "34=");
    if (at == std::string_view::npos) return 0;
    const std::size_t from = at + 4, end = raw.find('\x01', from);
    const auto v = Message::to_int(raw.substr(from, end == std::string_view::npos ? 0 : end - from));
    return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
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
    struct InResend {  // in_resend() for the handler's send() while the answer is written
      bool& flag;
      explicit InResend(bool& f) noexcept : flag(f) { flag = true; }
      ~InResend() { flag = false; }
      InResend(const InResend&) = delete;
      InResend& operator=(const InResend&) = delete;
    } in_resend(resending_);
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
      if (!resend(old, s)) gap_from = s;  // cannot be rebuilt: gap-filled, never skipped
    }
    if (gap_from != 0) send_gap_fill(gap_from, end_seq + 1);
    event(SessionEventKind::ResendServed, {}, begin_seq);
  }

  bool resend(const Message& old, std::uint64_t seq) {
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
    if (wire.empty() || wire.size() > cfg_.max_message_size) return false;
    ++stats_.resent;
    send_raw(wire);
    return true;
  }

  void send_gap_fill(std::uint64_t from, std::uint64_t new_seq) {
    const std::uint64_t now = clock_.now_ns();
    MessageBuilder b(resend_buf_, cfg_.begin_string);
    b.start(msg_type::kSequenceReset)
        .add(tag::kSenderCompID, cfg_.sender_comp_id)
        .add(tag::kTargetCompID, cfg_.target_comp_id)
        .add(tag::kMsgSeqNum, from)
        .add_bool(tag::kPossDupFlag, true)
        .add_timestamp(tag::kSendingTime, now)
        .add_timestamp(tag::kOrigSendingTime, now)  // Vol. 2: on everything a resend sends
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
    resend_attempts_ = 0;
    resend_progress_at_ = clock_.now_ns();
    send_resend_request();
  }

  void send_resend_request() {
    begin(msg_type::kResendRequest).add(tag::kBeginSeqNo, expected_).add(tag::kEndSeqNo, 0);
    emit_admin();
    ++stats_.resend_requests_sent;
    event(SessionEventKind::GapDetected, {}, expected_);
  }

  void advance_expected(std::uint64_t next) {
    expected_ = next;
    store_.set_next_target_seq(next);
    if (resend_until_ != 0) {
      if (expected_ > resend_until_) resend_until_ = 0;
      resend_progress_at_ = clock_.now_ns();
      resend_attempts_ = 0;
    }
  }

  void send_logon(bool reset) {
    begin(msg_type::kLogon).add(tag::kEncryptMethod, 0).add(tag::kHeartBtInt, heartbeat_ns_ / 1'000'000'000);
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
    if (state_ == SessionState::LoggedOn || state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent)
      send_logout(why);
    drop(why);
  }

  void drop(std::string_view why) {
    state_ = SessionState::Disconnected;
    event(SessionEventKind::Disconnect, why);
  }

  // An application message under the next number, or empty when a field did not fit or its
  // resend (PossDupFlag, OrigSendingTime) would exceed max_message_size.
  template <class Fill>
  std::string_view build_app(std::string_view type, Fill& fill) {
    begin(type);
    fill(tx_);
    const std::string_view wire = tx_.finish();
    if (wire.size() + kResendGrowth > cfg_.max_message_size) return {};
    return wire;
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
    // An acceptor's refusal of a first message: the stranger gets its answer, and the
    // stored numbers of the session it named stay as they were.
    if (state_ != SessionState::AwaitingLogon) store_.set_next_sender_seq(next_out_);
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

  static constexpr std::uint32_t kMaxResendAttempts = 2;  // then the third timeout logs out
  // What a resend adds to a stored message: "43=Y|", "122=<21-character timestamp>|", and a
  // BodyLength one digit longer. send_app keeps this much room below max_message_size, so the
  // resend of any message it sent fits the same limit on the peer's side.
  static constexpr std::size_t kResendGrowth = 5 + 26 + 1;

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
  bool was_logged_on_ = false;  // store_app: the numbers are this session's
  bool resending_ = false;      // in_resend()
  std::uint64_t next_out_ = store_.next_sender_seq();
  std::uint64_t expected_ = store_.next_target_seq();
  std::uint64_t resend_until_ = 0;        // the highest MsgSeqNum seen while a ResendRequest is open
  std::uint64_t resend_progress_at_ = 0;  // when the open gap last moved (or was requested)
  std::uint32_t resend_attempts_ = 0;     // ResendRequests re-sent without progress
  std::uint64_t heartbeat_ns_ = 0;
  std::uint64_t started_at_ = 0, last_received_ = 0, last_sent_ = 0;
  std::uint64_t test_request_at_ = 0;  // 0: no TestRequest outstanding
  std::uint64_t test_request_id_ = 0;
  std::uint64_t logout_sent_at_ = 0;  // LogoutSent: when ours left; LogoutReceived: when theirs came
  SessionStats stats_;
};

}  // namespace hft::fix
