// Fuzz target: one acceptor fix::Session fed a fuzzer-chosen script of raw byte chunks,
// well-framed messages (valid length and checksum, fuzzer-chosen type, sequence number,
// flags and body, so the session's rules are reached, not only the parser's), clock steps
// forward and back, timer ticks, application sends and logouts.
// Invariants: no crash or UB; everything the session sends parses, carries our CompIDs and
//   numbers its new messages 1, 2, 3... (a re-send, PossDupFlag=Y, keeps its old number);
//   application messages are delivered in strictly increasing MsgSeqNum; nothing is
//   delivered or sent after Disconnect.
#include <cstdint>
#include <string>
#include <string_view>

#include "../fix/fix_support.hpp"
#include "fuzz_check.hpp"
#include "hft/fix/session.hpp"

namespace {

/// A clock the script moves both ways (the session must take a step back as no time).
struct StepClock {
  std::uint64_t now = 1'796'000'000ULL * 1'000'000'000ULL;
  [[nodiscard]] std::uint64_t now_ns() const noexcept { return now; }
};

struct Checker {
  std::uint64_t last_new_seq = 0;  // the last MsgSeqNum of a message sent new
  std::uint64_t last_delivered_seq = 0;
  bool disconnected = false;
  hft::fix::Message m;

  void send(std::string_view wire) {
    FUZZ_CHECK(!disconnected, "sent after Disconnect");
    const auto r = hft::fix::parse(wire, m, {.max_body_length = 1u << 20});
    FUZZ_CHECK(r.ok() && r.consumed == wire.size(), "the session sent a message that does not parse");
    FUZZ_CHECK(m.get(49) == "HFT" && m.get(56) == "CLIENT", "wrong CompIDs on a sent message");
    const std::uint64_t seq = m.seq_num();
    if (m.get_bool(43) == true) {
      FUZZ_CHECK(seq <= last_new_seq, "a re-send numbered %llu beyond the last new %llu",
                 static_cast<unsigned long long>(seq), static_cast<unsigned long long>(last_new_seq));
      return;
    }
    const bool reset_logon = m.msg_type() == "A" && m.get_bool(141) == true && seq == 1;
    FUZZ_CHECK(seq == last_new_seq + 1 || reset_logon, "sent %llu after %llu", static_cast<unsigned long long>(seq),
               static_cast<unsigned long long>(last_new_seq));
    last_new_seq = seq;
  }
  void on_app_message(const hft::fix::Message& msg) {
    FUZZ_CHECK(!disconnected, "delivered after Disconnect");
    FUZZ_CHECK(msg.seq_num() > last_delivered_seq, "delivered %llu after %llu",
               static_cast<unsigned long long>(msg.seq_num()), static_cast<unsigned long long>(last_delivered_seq));
    last_delivered_seq = msg.seq_num();
  }
  void on_event(const hft::fix::SessionEvent& e) {
    if (e.kind == hft::fix::SessionEventKind::Disconnect) disconnected = true;
  }
};

constexpr std::string_view kTypes[] = {"A", "0", "1", "2", "3", "4", "5", "D", "F", "j", "8", "AE", "ZZ"};

std::string body_text(FuzzedDataProvider& in) {
  std::string b = in.ConsumeRandomLengthString(96);
  for (char& c : b)
    if (c == '|') c = '\x01';
  if (!b.empty() && b.back() != '\x01') b += '\x01';
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  StepClock clock;
  hft::fix::InMemoryMessageStore store{64, 1 << 16};
  Checker check;
  hft::fix::SessionConfig cfg{.sender_comp_id = "HFT", .target_comp_id = "CLIENT"};
  cfg.heartbeat_interval_s = in.ConsumeIntegralInRange<std::uint32_t>(0, 40);
  cfg.answer_logout_at_once = in.ConsumeBool();
  cfg.max_message_size = in.ConsumeBool() ? 512 : 8192;
  hft::fix::Session<Checker, StepClock> s(cfg, store, check, clock);
  s.start();
  std::uint64_t peer_seq = 1;
  for (int step = 0; step < 256 && in.remaining_bytes() > 0 && !check.disconnected; ++step) {
    switch (in.ConsumeIntegralInRange(0, 6)) {
      case 0: {  // raw bytes
        const std::string raw = in.ConsumeRandomLengthString(128);
        s.on_bytes(raw);
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
        if (in.ConsumeIntegralInRange(0, 15) != 0) head += "52=20261130-10:00:00.000|";
        if (in.ConsumeIntegralInRange(0, 3) == 0) head += "43=Y|122=20261130-09:00:00.000|";
        if (type == "A") head += "98=0|108=" + std::to_string(in.ConsumeIntegralInRange(0, 40)) + "|";
        if (type == "4")
          head += std::string(in.ConsumeBool() ? "123=Y|" : "") +
                  "36=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, peer_seq + 8)) + "|";
        if (type == "2")
          head += "7=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, 40)) +
                  "|16=" + std::to_string(in.ConsumeIntegralInRange<std::uint64_t>(0, 40)) + "|";
        const std::string wire = hft::test::frame(head + hft::test::bars(body_text(in)));
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
        const std::string text = in.ConsumeRandomLengthString(32);
        (void)s.send_app("8", [&](hft::fix::MessageBuilder& b) { b.add(11, text.empty() ? "x" : text); });
        break;
      }
      default:
        if (in.ConsumeBool())
          s.logout("bye");
        else
          s.disconnect("script");
        break;
    }
  }
  return 0;
}
