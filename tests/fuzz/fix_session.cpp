// Fuzz target: one acceptor fix::Session fed a fuzzer-chosen script of raw byte chunks,
// well-framed messages (valid length and checksum, fuzzer-chosen type, sequence number,
// flags and body, so the session's rules are reached, not only the parser's), garbled frames
// with a complete valid message embedded in their body, clock steps forward and back, timer
// ticks, application sends and logouts. The store is a wrapper that records every mutation.
// Invariants (the session fuzz oracle of docs/fix.md), checked after every step:
//   - no crash or UB; everything the session sends parses, carries our CompIDs and numbers
//     its new messages 1, 2, 3... (a re-send, PossDupFlag=Y, keeps its old number);
//     application messages are delivered in strictly increasing MsgSeqNum; nothing is
//     delivered or sent after Disconnect;
//   - nothing is delivered from a garbled frame: a frame whose BodyLength is sound but whose
//     CheckSum is wrong or malformed, or whose third field is not MsgType, is dropped whole, so
//     the message embedded in it is never delivered or acted on (no Heartbeat answers its
//     TestRequest); with nothing partial buffered before it, such a frame changes nothing but
//     the garbled count;
//   - numbers only move forward: next_sender_seq and next_target_seq, the session's and the
//     store's, never decrease, and the store is never reset, except through an accepted
//     ResetSeqNumFlag=Y Logon (the session answers with its own Logon 141=Y 34=1);
//   - a refused message changes no state: a message that ends the session before logon
//     (AwaitingLogon -> Disconnected) leaves the store untouched, and only a Logon that
//     parses may be answered (a first message that is not a Logon ends it without a reply).
// HFT_FUZZ_VERBOSE=1 prints each step.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../fix/fix_support.hpp"
#include "fuzz_check.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/fix/session.hpp"

namespace {

using ull = unsigned long long;

/// A clock the script moves both ways (the session must take a step back as no time).
struct StepClock {
  std::uint64_t now = 1'796'000'000ULL * 1'000'000'000ULL;
  [[nodiscard]] std::uint64_t now_ns() const noexcept { return now; }
};

/// The session's store, counting every change it makes: a stored message, a number that
/// moves, a reset.
class RecordingStore final : public hft::fix::MessageStore {
 public:
  void store(std::uint64_t seq, std::string_view wire) override {
    ++mutations;
    inner_.store(seq, wire);
  }
  [[nodiscard]] std::string_view load(std::uint64_t seq) const override { return inner_.load(seq); }
  [[nodiscard]] std::uint64_t next_sender_seq() const override { return inner_.next_sender_seq(); }
  [[nodiscard]] std::uint64_t next_target_seq() const override { return inner_.next_target_seq(); }
  void set_next_sender_seq(std::uint64_t seq) override {
    if (seq != inner_.next_sender_seq()) ++mutations;
    inner_.set_next_sender_seq(seq);
  }
  void set_next_target_seq(std::uint64_t seq) override {
    if (seq != inner_.next_target_seq()) ++mutations;
    inner_.set_next_target_seq(seq);
  }
  void reset() override {
    ++mutations;
    ++resets;
    inner_.reset();
  }

  std::uint64_t mutations = 0;
  std::uint64_t resets = 0;

 private:
  hft::fix::InMemoryMessageStore inner_{64, 1 << 16};
};

constexpr std::string_view kSmuggled = "SMUGGLED";

struct Checker {
  std::uint64_t last_new_seq = 0;  // the last MsgSeqNum of a message sent new
  std::uint64_t last_delivered_seq = 0;
  bool disconnected = false;
  // Per step.
  std::uint64_t sent = 0, delivered = 0, other_events = 0;
  bool reset_logon_sent = false;  // we answered an accepted ResetSeqNumFlag=Y Logon
  hft::fix::Message m;

  void send(std::string_view wire) {
    FUZZ_CHECK(!disconnected, "sent after Disconnect");
    ++sent;
    const auto r = hft::fix::parse(wire, m, {.max_body_length = 1u << 20});
    FUZZ_CHECK(r.ok() && r.consumed == wire.size(), "the session sent a message that does not parse");
    FUZZ_CHECK(m.get(49) == "HFT" && m.get(56) == "CLIENT", "wrong CompIDs on a sent message");
    FUZZ_CHECK(m.get(112) != kSmuggled, "answered the TestRequest embedded in a garbled frame");
    const std::uint64_t seq = m.seq_num();
    if (m.get_bool(43) == true) {
      FUZZ_CHECK(seq <= last_new_seq, "a re-send numbered %llu beyond the last new %llu", static_cast<ull>(seq),
                 static_cast<ull>(last_new_seq));
      return;
    }
    const bool reset_logon = m.msg_type() == "A" && m.get_bool(141) == true && seq == 1;
    FUZZ_CHECK(seq == last_new_seq + 1 || reset_logon, "sent %llu after %llu", static_cast<ull>(seq),
               static_cast<ull>(last_new_seq));
    if (reset_logon) reset_logon_sent = true;
    last_new_seq = seq;
  }
  void on_app_message(const hft::fix::Message& msg) {
    FUZZ_CHECK(!disconnected, "delivered after Disconnect");
    ++delivered;
    FUZZ_CHECK(msg.get(11).substr(0, kSmuggled.size()) != kSmuggled,
               "delivered the message embedded in a garbled frame (seq %llu)", static_cast<ull>(msg.seq_num()));
    FUZZ_CHECK(msg.seq_num() > last_delivered_seq, "delivered %llu after %llu", static_cast<ull>(msg.seq_num()),
               static_cast<ull>(last_delivered_seq));
    last_delivered_seq = msg.seq_num();
  }
  void on_event(const hft::fix::SessionEvent& e) {
    if (e.kind == hft::fix::SessionEventKind::Disconnect) disconnected = true;
    if (e.kind != hft::fix::SessionEventKind::Garbled) ++other_events;
  }
};

using FuzzSession = hft::fix::Session<Checker, StepClock>;

/// What a step may change, read before and after it.
struct Snapshot {
  hft::fix::SessionState state;
  std::uint64_t next_out, next_in, store_out, store_in, mutations, resets, received, app_received, garbled;

  static Snapshot of(const FuzzSession& s, const RecordingStore& st) {
    const hft::fix::SessionStats x = s.stats();
    return {s.state(),    s.next_sender_seq(), s.next_target_seq(), st.next_sender_seq(), st.next_target_seq(),
            st.mutations, st.resets,           x.received,          x.app_received,       x.garbled};
  }
};

/// A UTCTimestamp `offset_ns` away from the clock (SendingTime is checked against it).
std::string timestamp(const StepClock& clock, std::int64_t offset_ns = 0) {
  char out[24];
  hft::fix::MessageBuilder::format_timestamp(clock.now + static_cast<std::uint64_t>(offset_ns), out);
  return {out, 21};
}

constexpr std::string_view kTypes[] = {"A", "0", "1", "2", "3", "4", "5", "D", "F", "j", "8", "AE", "ZZ"};

/// Fuzzer-chosen text never spells the marker (no 'M'), so only a smuggled message carries it.
std::string unmarked(std::string s) {
  for (char& c : s)
    if (c == 'M') c = 'm';
  return s;
}

std::string body_text(FuzzedDataProvider& in) {
  std::string b = unmarked(in.ConsumeRandomLengthString(96));
  for (char& c : b)
    if (c == '|') c = '\x01';
  if (!b.empty() && b.back() != '\x01') b += '\x01';
  return b;
}

/// A valid message from the peer, numbered `seq`, that the session would act on, marked so
/// the checker recognises it: an order (ClOrdID), a TestRequest (TestReqID), a Logon, a
/// Logout or a SequenceReset-Reset.
std::string smuggled_message(FuzzedDataProvider& in, std::uint64_t seq, const std::string& now) {
  std::string body = "|49=CLIENT|56=HFT|34=" + std::to_string(seq) + "|52=" + now + "|";
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      body = "35=D" + body + "11=" + std::string(kSmuggled) + "|21=1|55=AAPL|54=1|60=" + now + "|38=100|40=1|";
      break;
    case 1:
      body = "35=1" + body + "112=" + std::string(kSmuggled) + "|";
      break;
    case 2:
      body = "35=A" + body + "98=0|108=30|" + (in.ConsumeBool() ? "141=Y|" : "");
      break;
    case 3:
      body = "35=5" + body + "58=" + std::string(kSmuggled) + "|";
      break;
    default:
      body = "35=4" + body + "36=" + std::to_string(seq + 1000) + "|";
      break;
  }
  return hft::test::frame(body);
}

/// A frame with a sound BodyLength around `inner`, garbled so it must be dropped whole: a
/// CheckSum that does not match, one that is not three digits (a letter, or a fourth digit),
/// or a third field that is not MsgType.
std::string garbled_frame(FuzzedDataProvider& in, const std::string& inner, std::uint64_t seq, const std::string& now) {
  const int how = in.ConsumeIntegralInRange(0, 3);
  const std::string head = "49=CLIENT|56=HFT|34=" + std::to_string(seq) + "|52=" + now + "|";
  std::string wire = hft::test::frame((how == 3 ? head + "35=D|" : "35=D|" + head) + inner + "58=x|");
  char* cs = wire.data() + wire.size() - 4;  // "10=ddd<SOH>": the three digits
  if (how == 0) {
    char sum[8];
    (void)std::snprintf(sum, sizeof sum, "%03u",
                        (hft::test::byte_sum(std::string_view(wire).substr(0, wire.size() - 7)) + 1) % 256);
    std::copy(sum, sum + 3, cs);
  } else if (how == 1) {
    cs[1] = 'x';
  } else if (how == 2) {
    wire.insert(wire.size() - 1, "7");
  }
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("HFT_FUZZ_VERBOSE") != nullptr;
  FuzzedDataProvider in(data, size);
  StepClock clock;
  RecordingStore store;
  Checker check;
  hft::fix::SessionConfig cfg{.sender_comp_id = "HFT", .target_comp_id = "CLIENT"};
  cfg.heartbeat_interval_s = in.ConsumeIntegralInRange<std::uint32_t>(0, 40);
  cfg.answer_logout_at_once = in.ConsumeBool();
  cfg.max_message_size = in.ConsumeBool() ? 512 : 8192;
  FuzzSession s(cfg, store, check, clock);
  s.start();
  std::uint64_t peer_seq = 1;
  bool clean = true;  // nothing partial can be in the session's buffer
  for (int step = 0; step < 256 && in.remaining_bytes() > 0 && !check.disconnected; ++step) {
    const Snapshot before = Snapshot::of(s, store);
    check.sent = check.delivered = check.other_events = 0;
    check.reset_logon_sent = false;
    bool framed = false, garbled = false, ok_logon = false;
    const int op = in.ConsumeIntegralInRange(0, 7);
    switch (op) {
      case 0: {  // raw bytes
        const std::string raw = unmarked(in.ConsumeRandomLengthString(128));
        if (verbose) std::fprintf(stderr, "raw %s\n", hft::test::bars(raw).c_str());
        s.on_bytes(raw);
        clean = false;
        break;
      }
      case 1:
      case 2: {  // a well-framed message
        const std::string_view type = kTypes[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kTypes) - 1)];
        std::uint64_t seq = peer_seq;
        switch (in.ConsumeIntegralInRange(0, 3)) {
          case 0:
            seq = peer_seq++;
            break;  // in order
          case 1:
            seq = peer_seq + in.ConsumeIntegralInRange<std::uint64_t>(1, 5);
            break;  // a gap
          case 2:
            seq = peer_seq > 1 ? in.ConsumeIntegralInRange<std::uint64_t>(1, peer_seq - 1) : 1;
            break;
          default:
            seq = in.ConsumeIntegral<std::uint64_t>();
            break;
        }
        std::string head = "35=" + std::string(type) + "|49=" + (in.ConsumeIntegralInRange(0, 15) ? "CLIENT" : "X") +
                           "|56=HFT|34=" + std::to_string(seq) + "|";
        // SendingTime mostly the clock's (within the skew the session accepts), sometimes
        // minutes off; OrigSendingTime mostly earlier.
        if (in.ConsumeIntegralInRange(0, 15) != 0) {
          const std::int64_t skew = in.ConsumeIntegralInRange(0, 7) == 0
                                        ? in.ConsumeIntegralInRange<std::int64_t>(-600, 600) * 1'000'000'000
                                        : 0;
          head += "52=" + timestamp(clock, skew) + "|";
        }
        if (in.ConsumeIntegralInRange(0, 3) == 0)
          head +=
              "43=Y|122=" + timestamp(clock, -in.ConsumeIntegralInRange<std::int64_t>(-5, 3600) * 1'000'000'000) + "|";
        if (type == "A") {
          head += "98=0|108=" + std::to_string(in.ConsumeIntegralInRange(0, 40)) + "|";
          if (in.ConsumeIntegralInRange(0, 3) == 0) head += "141=Y|";
        }
        if (type == "4")
          head += std::string(in.ConsumeBool() ? "123=Y|" : "") +
                  "36=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, peer_seq + 8)) + "|";
        if (type == "2")
          head += "7=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, 40)) +
                  "|16=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, 40)) + "|";
        const std::string wire = hft::test::frame(head + hft::test::bars(body_text(in)));
        hft::fix::Message m;
        const auto r = hft::fix::parse(wire, m, {.max_body_length = cfg.max_message_size});
        if (hft::fix::is_garbled(r.status) || r.consumed != wire.size()) clean = false;  // a tail may stay behind
        framed = r.consumed == wire.size() && !hft::fix::is_garbled(r.status);
        ok_logon = r.ok() && m.msg_type() == "A";
        if (verbose) std::fprintf(stderr, "framed %s\n", hft::test::bars(wire).c_str());
        // Sometimes in two pieces, so the session's partial-message buffer is exercised.
        const std::size_t cut = in.ConsumeIntegralInRange<std::size_t>(0, wire.size());
        s.on_bytes(std::string_view(wire).substr(0, cut));
        s.on_bytes(std::string_view(wire).substr(cut));
        break;
      }
      case 3:  // time passes (up to two minutes), or steps back
        if (in.ConsumeIntegralInRange(0, 7) == 0)
          clock.now -= in.ConsumeIntegralInRange<std::uint64_t>(0, 60'000'000'000ULL);
        else
          clock.now += in.ConsumeIntegralInRange<std::uint64_t>(0, 120'000'000'000ULL);
        s.on_timer();
        break;
      case 4:
        s.on_timer();
        break;
      case 5: {  // the application answers
        const std::string text = unmarked(in.ConsumeRandomLengthString(32));
        (void)s.send_app("8", [&](hft::fix::MessageBuilder& b) { b.add(11, text.empty() ? "x" : text); });
        break;
      }
      case 6:
        if (in.ConsumeBool())
          s.logout("bye");
        else
          s.disconnect("script");
        break;
      default: {  // a valid message inside a garbled frame, both numbered as the next one due
        const std::uint64_t seq = in.ConsumeBool() ? peer_seq : peer_seq + 1;
        const std::string now = timestamp(clock);
        const std::string wire = garbled_frame(in, smuggled_message(in, seq, now), seq, now);
        if (verbose) std::fprintf(stderr, "garbled %s\n", hft::test::bars(wire).c_str());
        const std::size_t cut = in.ConsumeIntegralInRange<std::size_t>(0, wire.size());
        s.on_bytes(std::string_view(wire).substr(0, cut));
        s.on_bytes(std::string_view(wire).substr(cut));
        garbled = true;
        break;
      }
    }
    const Snapshot after = Snapshot::of(s, store);
    if (verbose)
      std::fprintf(stderr, "  state %d -> %d, out %llu -> %llu, in %llu -> %llu, store mutations %llu\n",
                   static_cast<int>(before.state), static_cast<int>(after.state), static_cast<ull>(before.next_out),
                   static_cast<ull>(after.next_out), static_cast<ull>(before.next_in), static_cast<ull>(after.next_in),
                   static_cast<ull>(after.mutations - before.mutations));

    // Numbers only move forward, but for an accepted reset.
    if (!check.reset_logon_sent) {
      FUZZ_CHECK(after.resets == before.resets, "the store was reset without an accepted ResetSeqNumFlag Logon");
      FUZZ_CHECK(after.next_out >= before.next_out && after.store_out >= before.store_out,
                 "next_sender_seq moved back: session %llu -> %llu, store %llu -> %llu",
                 static_cast<ull>(before.next_out), static_cast<ull>(after.next_out),
                 static_cast<ull>(before.store_out), static_cast<ull>(after.store_out));
      FUZZ_CHECK(after.next_in >= before.next_in && after.store_in >= before.store_in,
                 "next_target_seq moved back: session %llu -> %llu, store %llu -> %llu",
                 static_cast<ull>(before.next_in), static_cast<ull>(after.next_in), static_cast<ull>(before.store_in),
                 static_cast<ull>(after.store_in));
    }
    // A refused message changes no state.
    if (framed && clean && before.state == hft::fix::SessionState::AwaitingLogon &&
        after.state == hft::fix::SessionState::Disconnected) {
      FUZZ_CHECK(after.mutations == before.mutations,
                 "a message refused before logon changed the store (%llu mutations; numbers %llu/%llu -> %llu/%llu)",
                 static_cast<ull>(after.mutations - before.mutations), static_cast<ull>(before.store_out),
                 static_cast<ull>(before.store_in), static_cast<ull>(after.store_out),
                 static_cast<ull>(after.store_in));
      FUZZ_CHECK(ok_logon || check.sent == 0, "a first message that is not a Logon got a reply");
    }
    // Nothing in a garbled frame is acted on.
    if (garbled && clean) {
      FUZZ_CHECK(check.sent == 0 && check.delivered == 0 && check.other_events == 0,
                 "a garbled frame was acted on: %llu sent, %llu delivered, %llu events", static_cast<ull>(check.sent),
                 static_cast<ull>(check.delivered), static_cast<ull>(check.other_events));
      FUZZ_CHECK(after.state == before.state && after.next_out == before.next_out && after.next_in == before.next_in &&
                     after.mutations == before.mutations && after.received == before.received &&
                     after.app_received == before.app_received,
                 "a garbled frame changed the session's state");
      FUZZ_CHECK(after.garbled > before.garbled, "a garbled frame was not counted");
    }
  }
  return 0;
}
