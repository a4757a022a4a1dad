#include "line_protocol.hpp"

#include <string>
#include <vector>

#include "../support/catch.hpp"

using namespace mini_oms;

namespace {
std::string ack(std::uint64_t id, std::uint64_t seq, std::int64_t filled, hft::Notional notional) {
  char b[kMaxReply];
  return std::string(b, format_ack(b, id, seq, filled, notional));
}
std::string rej(std::optional<std::uint64_t> id, Reason r) {
  char b[kMaxReply];
  return std::string(b, format_rej(b, id, r));
}
struct Framed {
  std::vector<std::string> lines, overlong;
};
Framed frame(LineFramer& f, const std::string& bytes, std::size_t chunk) {
  Framed out;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const std::size_t n = std::min(chunk, bytes.size() - i);
    f.feed(
        bytes.data() + i, n, [&](std::string_view l) { out.lines.emplace_back(l); },
        [&](std::string_view p) { out.overlong.emplace_back(p); });
  }
  return out;
}
}  // namespace

TEST_CASE("integer fields: plain digits, exact 64-bit range", "[protocol]") {
  CHECK(parse_u64("0") == 0u);
  CHECK(parse_u64("18446744073709551615") == 18446744073709551615ull);
  for (const char* bad : {"", "18446744073709551616", "+1", "-1", "1a", " 1", "1 ", "0x10", "123456789012345678901"}) {
    INFO(bad);
    CHECK_FALSE(parse_u64(bad).has_value());
  }
  CHECK(parse_i64("-1") == -1);
  CHECK(parse_i64("-9223372036854775808") == INT64_MIN);
  CHECK(parse_i64("9223372036854775807") == INT64_MAX);
  CHECK_FALSE(parse_i64("9223372036854775808").has_value());
  CHECK_FALSE(parse_i64("-9223372036854775809").has_value());
  CHECK_FALSE(parse_i64("-").has_value());
  CHECK_FALSE(parse_i64("--1").has_value());
}

TEST_CASE("request grammar: every field's edge cases", "[protocol]") {
  const auto r = parse_request("17 42 AAPL B 100 187.25");
  REQUIRE(r);
  CHECK(r->req_id == 17);
  CHECK(r->corr == 42);
  CHECK(std::string(r->symbol.view()) == "AAPL");
  CHECK(r->side == hft::Side::Buy);
  CHECK(r->qty == 100);
  CHECK(r->price.ticks() == 1872500);
  CHECK(parse_request("1 -1 BRK.B S 2147483647 0.0001"));
  CHECK(parse_request("1 -5 ABCDEFGH S 1 1"));
  CHECK(parse_request("1 0 A1 S 1 100.1"));
  for (const char* bad : {
           "",                                // empty
           "17 42 AAPL B 100",                // missing field
           "17 42 AAPL B 100 187.25 extra",   // extra field
           "17  42 AAPL B 100 187.25",        // double space
           "17 42 AAPL B 100 187.25 ",        // trailing space
           " 17 42 AAPL B 100 187.25",        // leading space
           "x 42 AAPL B 100 187.25",          // req_id
           "17 4x2 AAPL B 100 187.25",        // correlation id
           "17 42 aapl B 100 187.25",         // lowercase symbol
           "17 42 ABCDEFGHI B 100 187.25",    // 9-char symbol
           "17 42 AA-PL B 100 187.25",        // bad symbol char
           "17 42 AAPL b 100 187.25",         // side
           "17 42 AAPL BS 100 187.25",        // side
           "17 42 AAPL B 0 187.25",           // qty 0
           "17 42 AAPL B -5 187.25",          // negative qty
           "17 42 AAPL B 2147483648 187.25",  // qty > 2^31-1
           "17 42 AAPL B 1.5 187.25",         // fractional qty
           "17 42 AAPL B 100 0",              // price 0
           "17 42 AAPL B 100 0.0000",         // price 0
           "17 42 AAPL B 100 187.25001",      // 5 decimals
           "17 42 AAPL B 100 -187.25",        // negative price
           "17 42 AAPL B 100 187.",           // dangling point
           "17 42 AAPL B 100 .25",            // no integer part
           "17 42 AAPL B 100 1e3",            // exponent
       }) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_request(bad).has_value());
  }
  CHECK_FALSE(parse_request(std::string("17 42 AA\0PL B 1 100", 19)).has_value());  // embedded NUL
}

TEST_CASE("header extraction for routing: req_id, then the correlation id", "[protocol]") {
  auto h = parse_header("17 42 AAPL B 100 187.25");
  CHECK(h.req_id == 17u);
  CHECK(h.corr == 42);
  h = parse_header("17 x AAPL");
  CHECK(h.req_id == 17u);
  CHECK_FALSE(h.corr.has_value());  // routes as uncorrelated; the parse stage rejects it
  CHECK_FALSE(parse_header("").req_id.has_value());
  CHECK_FALSE(parse_header("abc 1").req_id.has_value());
  CHECK(parse_header("5").req_id == 5u);
  CHECK(overlong_req_id("123 456 AAPL") == 123u);
  CHECK_FALSE(overlong_req_id("123456789").has_value());  // no complete req_id (no space yet)
  CHECK_FALSE(overlong_req_id("x23 456").has_value());
}

TEST_CASE("family keys and partition routing", "[protocol]") {
  const auto a = family_key(42, 0, 1);
  CHECK(a.correlated);
  CHECK(a.key == 42u);
  CHECK(family_key(-7, 3, 9).key == static_cast<std::uint64_t>(-7));
  const auto u1 = family_key(-1, 0, 1), u2 = family_key(-1, 0, 2), u3 = family_key(std::nullopt, 1, 1);
  CHECK_FALSE(u1.correlated);
  CHECK(u1.key != u2.key);
  CHECK(u1.key != u3.key);  // another I/O thread's counter never collides
  // Uncorrelated requests spread over partitions; one family always maps to one partition.
  int per[4] = {};
  for (std::uint64_t c = 1; c <= 4000; ++c) ++per[partition_of(family_key(-1, 0, c).key, 4)];
  for (int p : per) CHECK(p > 800);
  CHECK(partition_of(a.key, 4) == partition_of(family_key(42, 1, 77).key, 4));
  CHECK(partition_of(123, 1) == 0);
}

TEST_CASE("risk rules in order, with their exact boundaries", "[protocol]") {
  RiskLimits lim;
  const hft::Price ref = hft::Price::from_ticks(1'000'000);  // 100.00
  auto req = [](std::int64_t qty, const char* px) {
    Order r;
    r.qty = qty;
    r.price = *hft::parse_price(px, kTick);
    return r;
  };
  CHECK(check_static_risk(req(1'000'000, "100"), ref, lim) == Reason::RiskNotional);  // 100M notional
  CHECK(check_static_risk(req(1'000'001, "100"), ref, lim) == Reason::RiskQty);       // qty first
  CHECK(check_static_risk(req(10, "110"), ref, lim) == Reason::None);                 // +10% exactly
  CHECK(check_static_risk(req(10, "110.0001"), ref, lim) == Reason::RiskPrice);
  CHECK(check_static_risk(req(10, "90"), ref, lim) == Reason::None);
  CHECK(check_static_risk(req(10, "89.9999"), ref, lim) == Reason::RiskPrice);
  CHECK(check_static_risk(req(500'000, "100"), ref, lim) == Reason::None);  // exactly 50M
  CHECK(check_static_risk(req(500'000, "100.0001"), ref, lim) == Reason::RiskNotional);
  CHECK(check_static_risk(req(2'000'000, "500"), ref, lim) == Reason::RiskQty);  // order of rules
}

TEST_CASE("venue levels: 5 bp apart from one step out, rounded half-up", "[protocol]") {
  const hft::Price aapl = hft::Price::from_ticks(1872500);
  CHECK(venue_level_price(aapl, hft::Side::Sell, 1).ticks() == 1873436);  // 187.343625 -> 187.3436
  CHECK(venue_level_price(aapl, hft::Side::Buy, 1).ticks() == 1871564);   // 187.156375 -> 187.1564
  CHECK(venue_level_price(hft::Price::from_ticks(1'000'000), hft::Side::Sell, 10).ticks() == 1'005'000);
}

TEST_CASE("reply text: avg price rounding, trailing zeros, rejects", "[protocol]") {
  CHECK(ack(17, 3, 0, 0) == "17 ACK 3 0 0\n");
  CHECK(ack(17, 1, 100, hft::Notional{100} * 1'000'500) == "17 ACK 1 100 100.05\n");
  CHECK(ack(17, 1, 100, hft::Notional{100} * 1'000'000) == "17 ACK 1 100 100\n");
  CHECK(ack(1, 1, 3, 3) == "1 ACK 1 3 0.0001\n");  // 3 units at 1 tick each
  CHECK(ack(1, 1, 2, 3) == "1 ACK 1 2 0.0002\n");  // 1.5 ticks rounds half-up to 2
  CHECK(rej(17, Reason::Busy) == "17 REJ:BUSY\n");
  CHECK(rej(std::nullopt, Reason::BadMsg) == "- REJ:BAD_MSG\n");
  CHECK(rej(18446744073709551615ull, Reason::RiskNotional) == "18446744073709551615 REJ:RISK_NOTIONAL\n");
}

TEST_CASE("framing: lines split anywhere, CRLF, empty lines, the 256-byte limit", "[protocol]") {
  for (std::size_t chunk : {1u, 3u, 7u, 64u, 4096u}) {
    INFO("chunk " << chunk);
    LineFramer f;
    const std::string line255(255, 'a');  // + '\n' = 256 bytes: allowed
    const std::string line256(256, 'b');  // no newline within 256 bytes: over-long
    std::string in = "1 2 A B 1 1\r\n\n";
    in.append(line255).append("\n77 ").append(line256).append("tail\nnext\n").append(254, 'c').append("\r\n");
    const Framed out = frame(f, in, chunk);
    REQUIRE(out.lines.size() == 5);
    CHECK(out.lines[0] == "1 2 A B 1 1");
    CHECK(out.lines[1].empty());
    CHECK(out.lines[2] == line255);
    CHECK(out.lines[3] == "next");
    CHECK(out.lines[4] == std::string(254, 'c'));  // 254 + \r\n = 256: allowed, \r stripped
    REQUIRE(out.overlong.size() == 1);
    CHECK(overlong_req_id(out.overlong[0]) == 77u);
  }
  LineFramer f;
  std::string crlf257(255, 'x');  // appended piece by piece: g++ 12 -O3 flags `string + "\r\n"` (-Warray-bounds)
  crlf257 += "\r\n";              // 257 bytes with CRLF
  const Framed out = frame(f, crlf257, 4096);
  CHECK(out.lines.empty());
  CHECK(out.overlong.size() == 1);
}

TEST_CASE("line codec: decode into an Order, or an invalid Order routed by what parses", "[protocol]") {
  const auto ok = decode_line("17 42 AAPL S 300 187.25");
  REQUIRE(ok);
  CHECK(ok->valid);
  CHECK(ok->req_id == 17);
  CHECK(ok->corr == 42);
  CHECK(ok->symbol == hft::Symbol::of("AAPL"));
  CHECK(ok->side == hft::Side::Sell);
  CHECK(ok->qty == 300);
  CHECK(ok->price.ticks() == 1872500);
  // A malformed request that names its req_id and family travels as an invalid order.
  const auto bad = decode_line("18 42 AAPL X 300 187.25");
  REQUIRE(bad);
  CHECK(!bad->valid);
  CHECK(bad->req_id == 18);
  CHECK(bad->corr == 42);
  // A correlation id that does not parse routes as uncorrelated.
  const auto bad_corr = decode_line("19 4x2 AAPL B 1 1");
  REQUIRE(bad_corr);
  CHECK(!bad_corr->valid);
  CHECK(bad_corr->corr == -1);
  // Without a req_id there is no order at all (the gateway answers "- REJ:BAD_MSG").
  CHECK(!decode_line("x 42 AAPL B 1 1"));
  CHECK(!decode_line(""));
}

TEST_CASE("line codec: an Order's line parses back to the same Order", "[protocol]") {
  char buf[kMaxReply]{};
  for (const char* line : {"1 -1 MSFT B 1 0.0001",
                           "18446744073709551615 -9223372036854775808 ABCDEFGH S 2147483647 "
                           "922337203685477.5807",
                           "7 0 A B 10 410.5"}) {
    const auto o = parse_request(line);
    REQUIRE(o);
    const std::size_t n = format_order(buf, *o);
    CHECK(std::string_view(buf, n) == line);
    const auto back = parse_request(std::string_view(buf, n));
    REQUIRE(back);
    CHECK(back->req_id == o->req_id);
    CHECK(back->price == o->price);
  }
  Order bad;
  bad.req_id = 5;
  bad.corr = 9;
  bad.valid = false;
  CHECK(std::string_view(buf, format_order(buf, bad)) == "5 9 !");
  CHECK(!parse_request(std::string_view(buf, format_order(buf, bad))));
}

TEST_CASE("line codec: an Execution encodes as its ACK or REJ line", "[protocol]") {
  char buf[kMaxReply]{};
  CHECK(std::string_view(buf, format_execution(buf, Execution{3, 2, 300, hft::Notional{300} * 1872500,
                                                              Reason::None})) == "3 ACK 2 300 187.25\n");
  CHECK(std::string_view(buf, format_execution(buf, Execution{3, 0, 0, 0, Reason::None})) == "3 ACK 0 0 0\n");
  CHECK(std::string_view(buf, format_execution(buf, Execution{4, 0, 0, 0, Reason::RiskRate})) == "4 REJ:RISK_RATE\n");
  char avg[32]{};
  CHECK(std::string_view(avg, format_avg_price(avg, 3, 100000)) == "3.3333");  // 33,333.3 ticks: down
  CHECK(std::string_view(avg, format_avg_price(avg, 2, 3)) == "0.0002");       // 1.5 ticks: half-up
  CHECK(std::string_view(avg, format_avg_price(avg, 0, 0)) == "0");
}
