// bench_fix: the FIX codec next to QuickFIX/C++ (libquickfix-dev 1.15), in one process,
// interleaved rounds.
//   parse_nos    frame + validate a NewOrderSingle and read the 12 fields a gateway maps
//                (hft::fix::parse + get; QuickFIX: FIX::Message::setString + getField)
//   build_er     write an ExecutionReport with 17 fields, BodyLength and CheckSum
//                (hft::fix::MessageBuilder; QuickFIX: setField on a FIX::Message + toString)
//   parse_build  both, as a gateway does per order
//   parse_validate  frame + validate a NewOrderSingle against FIX 4.4 (hft::fix::parse +
//                Dictionary::fix44().validate, what fix::Session does per inbound message;
//                QuickFIX: setString with validation on, no data dictionary: Debian ships
//                no FIX44.xml, and the repo copies none, so QuickFIX's side checks less)
// Inputs: 64 distinct NewOrderSingles (ClOrdID, Symbol, price and quantity vary), cycled, so
// neither parser sees the same bytes twice in a row.
#include <quickfix/Message.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/dictionary.hpp"
#include "hft/fix/message.hpp"

namespace {

using hft::bench::Metrics;
using hft::bench::time_calls;
namespace tag = hft::fix::tag;

constexpr std::uint32_t kNosTags[] = {tag::kMsgSeqNum, tag::kSenderCompID, tag::kTargetCompID, tag::kAccount,
                                      tag::kClOrdID,   tag::kSymbol,       tag::kSide,         tag::kOrderQty,
                                      tag::kOrdType,   tag::kPrice,        tag::kTimeInForce,  tag::kTransactTime};

std::vector<std::string> make_orders() {
  std::vector<std::string> out;
  std::vector<char> buf(1024);
  hft::fix::MessageBuilder b(buf);
  const char* syms[] = {"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM"};
  for (int i = 0; i < 64; ++i) {
    b.start("D")
        .add(tag::kSenderCompID, "CLIENT01")
        .add(tag::kTargetCompID, "HFTOMS")
        .add(tag::kMsgSeqNum, 1000 + i)
        .add_timestamp(tag::kSendingTime, 1'796'000'000'000'000'000ull + static_cast<std::uint64_t>(i) * 1'000'003)
        .add(tag::kAccount, "ACC" + std::to_string(i % 7))
        .add(tag::kClOrdID, "ORD-2026-" + std::to_string(100000 + i * 37))
        .add(tag::kSymbol, syms[i % 8])
        .add_char(tag::kSide, i % 2 ? '1' : '2')
        .add(tag::kOrderQty, 100 * (1 + i % 9))
        .add_char(tag::kOrdType, '2')
        .add_price(tag::kPrice, hft::Price::from_ticks(18725 + i), hft::TickSize{1, 2})
        .add_char(tag::kTimeInForce, '3')
        .add_timestamp(tag::kTransactTime, 1'796'000'000'000'000'000ull + static_cast<std::uint64_t>(i));
    out.emplace_back(b.finish());
  }
  return out;
}

std::size_t hft_parse(const std::string& wire) {
  hft::fix::Message m;
  const auto r = hft::fix::parse(wire, m);
  std::size_t sum = r.consumed;
  for (const auto t : kNosTags) sum += m.get(t).size();
  return sum;
}

std::size_t hft_parse_validate(const std::string& wire) {
  hft::fix::Message m;
  const auto r = hft::fix::parse(wire, m);
  const hft::fix::Violation v = hft::fix::Dictionary::fix44().validate(m);
  return r.consumed + v.tag + (v.ok() ? 1u : 0u);
}

std::size_t quickfix_parse(FIX::Message& m, const std::string& wire) {
  m.setString(wire, true);
  std::size_t sum = wire.size();
  const FIX::Header& h = m.getHeader();
  for (const auto t : kNosTags) {
    const int ti = static_cast<int>(t);
    sum += (FIX::Message::isHeaderField(ti) ? h.getField(ti) : m.getField(ti)).size();
  }
  return sum;
}

std::size_t hft_build(hft::fix::MessageBuilder& b, std::uint64_t i) {
  b.start("8")
      .add(tag::kSenderCompID, "HFTOMS")
      .add(tag::kTargetCompID, "CLIENT01")
      .add(tag::kMsgSeqNum, 5000 + i)
      .add_timestamp(tag::kSendingTime, 1'796'000'000'000'000'000ull + i * 997)
      .add(tag::kOrderID, 9'000'000 + i)
      .add(tag::kExecID, 7'000'000 + i)
      .add(tag::kClOrdID, "ORD-2026-100037")
      .add_char(tag::kExecType, 'F')
      .add_char(tag::kOrdStatus, '2')
      .add(tag::kSymbol, "AAPL")
      .add_char(tag::kSide, '1')
      .add(tag::kOrderQty, 300)
      .add_price(tag::kLastPx, hft::Price::from_ticks(18725), hft::TickSize{1, 2})
      .add(tag::kLastQty, 300)
      .add(tag::kLeavesQty, 0)
      .add(tag::kCumQty, 300)
      .add_price(tag::kAvgPx, hft::Price::from_ticks(18725), hft::TickSize{1, 2});
  return b.finish().size();
}

std::size_t quickfix_build(std::string& out, std::uint64_t i) {
  FIX::Message m;
  FIX::Header& h = m.getHeader();
  h.setField(FIX::BeginString("FIX.4.4"));
  h.setField(FIX::MsgType("8"));
  h.setField(FIX::SenderCompID("HFTOMS"));
  h.setField(FIX::TargetCompID("CLIENT01"));
  h.setField(FIX::MsgSeqNum(static_cast<int>(5000 + i)));
  h.setField(FIX::SendingTime(FIX::UtcTimeStamp(), 3));
  m.setField(FIX::OrderID(std::to_string(9'000'000 + i)));
  m.setField(FIX::ExecID(std::to_string(7'000'000 + i)));
  m.setField(FIX::ClOrdID("ORD-2026-100037"));
  m.setField(FIX::ExecType('F'));
  m.setField(FIX::OrdStatus('2'));
  m.setField(FIX::Symbol("AAPL"));
  m.setField(FIX::Side('1'));
  m.setField(FIX::OrderQty(300));
  m.setField(FIX::LastPx(187.25));
  m.setField(FIX::LastQty(300));
  m.setField(FIX::LeavesQty(0));
  m.setField(FIX::CumQty(300));
  m.setField(FIX::AvgPx(187.25));
  m.toString(out);
  return out.size();
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_fix", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    const std::uint64_t n = opts.quick ? 20'000 : 400'000;
    const std::uint64_t n_qf = n / 10;  // QuickFIX is ~an order of magnitude slower: similar round times
    const std::vector<std::string> orders = make_orders();
    for (const std::string& o : orders) {  // else parse_validate would time an early exit
      hft::fix::Message m;
      if (!hft::fix::parse(o, m).ok() || !hft::fix::Dictionary::fix44().validate(m).ok()) {
        std::fprintf(stderr, "bench_fix: a generated NewOrderSingle does not validate\n");
        std::exit(1);
      }
    }
    std::vector<char> out_buf(1024);
    hft::fix::MessageBuilder builder(out_buf);
    FIX::Message qf_msg;
    std::string qf_out;
    std::size_t sink = 0;
    suite.note("NewOrderSingle: " + std::to_string(orders[0].size()) + " bytes, 16 fields; 12 read per message");
    suite.note("QuickFIX: libquickfix-dev 1.15.1 (Debian), no data dictionary, validate = true");

    suite.add_case(
        "parse_nos", {{"", "ns/msg", false}},
        {{"hft::fix::parse",
          [&] { return time_calls(n, [&](std::uint64_t i) { sink += hft_parse(orders[i & 63]); }); }},
         {"QuickFIX Message::setString",
          [&] { return time_calls(n_qf, [&](std::uint64_t i) { sink += quickfix_parse(qf_msg, orders[i & 63]); }); }}});
    suite.add_case("build_er", {{"", "ns/msg", false}},
                   {{"hft::fix::MessageBuilder",
                     [&] { return time_calls(n, [&](std::uint64_t i) { sink += hft_build(builder, i); }); }},
                    {"QuickFIX Message::toString",
                     [&] { return time_calls(n_qf, [&](std::uint64_t i) { sink += quickfix_build(qf_out, i); }); }}});
    suite.add_case("parse_build", {{"", "ns/msg", false}},
                   {{"hft::fix",
                     [&] {
                       return time_calls(
                           n, [&](std::uint64_t i) { sink += hft_parse(orders[i & 63]) + hft_build(builder, i); });
                     }},
                    {"QuickFIX", [&] {
                       return time_calls(n_qf, [&](std::uint64_t i) {
                         sink += quickfix_parse(qf_msg, orders[i & 63]) + quickfix_build(qf_out, i);
                       });
                     }}});
    suite.add_case(
        "parse_validate", {{"", "ns/msg", false}},
        {{"hft::fix::parse + Dictionary::validate",
          [&] { return time_calls(n, [&](std::uint64_t i) { sink += hft_parse_validate(orders[i & 63]); }); }},
         {"QuickFIX Message::setString", [&] {
            return time_calls(n_qf, [&](std::uint64_t i) {
              qf_msg.setString(orders[i & 63], true);
              sink += orders[i & 63].size();
            });
          }}});
    suite.add_ratio("parse_build", "hft::fix", "QuickFIX", hft::bench::Target::at_most(0.1),
                    "parse + build, hft time / QuickFIX time (<= 0.1: >= 10x faster)");
    suite.add_ratio("parse_nos", "hft::fix::parse", "QuickFIX Message::setString", hft::bench::Target::at_most(0.1),
                    "parse + 12 fields, hft / QuickFIX");
    suite.add_ratio("build_er", "hft::fix::MessageBuilder", "QuickFIX Message::toString",
                    hft::bench::Target::at_most(0.1), "build ExecutionReport, hft / QuickFIX");
    suite.add_absolute("parse_nos", "hft::fix::parse", hft::bench::Target::at_most(200.0),
                       "one NewOrderSingle parse + field access (ns)");
    suite.run_and_report();
    hft::bench::do_not_optimize(sink);
  });
}
