#include "hft/fix/message.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "fix_support.hpp"

using hft::fix::Message;
using hft::fix::parse;
using hft::fix::ParseResult;
using hft::fix::ParseStatus;
using hft::test::bars;
using hft::test::frame;
using hft::test::soh;

namespace {

// A function, not a global: a static std::string's constructor may throw before main, where
// no test can report it (cert-err58-cpp).
const std::string& nos() {
  static const std::string s = frame(
      "35=D|49=CLIENT|56=HFT|34=7|52=20261202-10:00:00.000|1=ACC1|11=ord-1|55=AAPL|54=1|38=100|40=2|44=187.25|59=3|"
      "60=20261202-10:00:00.000|");
  return s;
}

// Parses from a heap copy of exactly the input's size, so ASan sees any read past the end.
ParseResult parse_exact(const std::string& s, Message& m, hft::fix::ParserConfig cfg = {}) {
  static std::vector<std::vector<char>> keep;  // the message views the copy
  keep.emplace_back(s.begin(), s.end());
  if (keep.size() > 64) keep.erase(keep.begin(), keep.begin() + 32);
  return parse(std::string_view(keep.back().data(), keep.back().size()), m, cfg);
}

ParseStatus status_of(const std::string& s, hft::fix::ParserConfig cfg = {}) {
  Message m;
  return parse_exact(s, m, cfg).status;
}

// The message with its body length and checksum recomputed after `edit` changes the body.
std::string with_body(std::string_view body) { return frame(body); }

}  // namespace

TEST_CASE("parse: a NewOrderSingle gives every field by tag") {
  Message m;
  const ParseResult r = parse_exact(nos(), m);
  REQUIRE(r.ok());
  CHECK(r.consumed == nos().size());
  CHECK(m.raw() == nos());
  CHECK(m.begin_string() == "FIX.4.4");
  CHECK(m.msg_type() == "D");
  CHECK(m.get(49) == "CLIENT");
  CHECK(m.get(11) == "ord-1");
  CHECK(m.get(44) == "187.25");
  CHECK(m.get_char(54) == '1');
  CHECK(m.get_int(38) == 100);
  CHECK(m.seq_num() == 7);
  CHECK(m.get(9) == std::to_string(nos().size() - 7 - std::string_view("8=FIX.4.4|9=xxx|").size()));
  CHECK(m.get(10) == nos().substr(nos().size() - 4, 3));
  CHECK(m.get(58).empty());
  CHECK_FALSE(m.has(58));
  CHECK(m.get_int(58) == std::nullopt);
  REQUIRE(m.fields().size() == 17);
  const std::uint32_t order[] = {8, 9, 35, 49, 56, 34, 52, 1, 11, 55, 54, 38, 40, 44, 59, 60, 10};
  for (std::size_t i = 0; i < 17; ++i) CHECK(m.fields()[i].tag == order[i]);
}

TEST_CASE("parse: every proper prefix of a message is Incomplete") {
  for (std::size_t n = 0; n < nos().size(); ++n) {
    Message m;
    const ParseResult r = parse_exact(nos().substr(0, n), m);
    INFO("prefix " << n << ": " << bars(nos().substr(0, n)));
    CHECK(r.status == ParseStatus::Incomplete);
    CHECK(r.consumed == 0);
  }
}

TEST_CASE("parse: bytes after the message are left for the next call") {
  const std::string two = nos() + nos().substr(0, 20);
  Message m;
  const ParseResult r = parse_exact(two, m);
  REQUIRE(r.ok());
  CHECK(r.consumed == nos().size());
}

TEST_CASE("parse: BeginString rules") {
  CHECK(status_of(soh("9=5|35=0|10=000|")) == ParseStatus::BadBeginString);
  CHECK(status_of(soh("8=FIY.4.4|9=5|35=0|10=000|")) == ParseStatus::BadBeginString);
  CHECK(status_of(soh("8=FIX.4.4.4.4.4.4.4.4|9=5|35=0|10=000|")) == ParseStatus::BadBeginString);
  CHECK(status_of(soh("8=FIX=4|9=5|")) == ParseStatus::BadBeginString);
  CHECK(status_of(frame("35=0|", "FIX.4.2")) == ParseStatus::Ok);  // the session checks the version
  CHECK(status_of(soh("x")) == ParseStatus::BadBeginString);
  CHECK(status_of(soh("8")) == ParseStatus::Incomplete);
}

TEST_CASE("parse: garbage before a message is skipped up to 8=FIX") {
  const std::string in = soh("garbage 8=FOO|") + nos();
  Message m;
  ParseResult r = parse_exact(in, m);
  REQUIRE(r.status == ParseStatus::BadBeginString);
  REQUIRE(r.consumed == in.size() - nos().size());
  r = parse_exact(in.substr(r.consumed), m);
  CHECK(r.ok());
  // With no 8=FIX in sight, all but a tail that may start one is dropped.
  r = parse_exact(std::string(100, 'x'), m);
  CHECK(r.status == ParseStatus::BadBeginString);
  CHECK(r.consumed == 96);
}

TEST_CASE("parse: BodyLength rules") {
  CHECK(status_of(soh("8=FIX.4.4|35=0|10=000|")) == ParseStatus::BadBodyLength);
  CHECK(status_of(soh("8=FIX.4.4|9=|35=0|10=000|")) == ParseStatus::BadBodyLength);
  CHECK(status_of(soh("8=FIX.4.4|9=1a|35=0|10=000|")) == ParseStatus::BadBodyLength);
  CHECK(status_of(soh("8=FIX.4.4|9=-5|35=0|10=000|")) == ParseStatus::BadBodyLength);
  CHECK(status_of(soh("8=FIX.4.4|9=1234567890|35=0|")) == ParseStatus::BadBodyLength);
  CHECK(status_of(soh("8=FIX.4.4|9=123456789")) == ParseStatus::Incomplete);
  CHECK(status_of(nos(), {.max_body_length = 20}) == ParseStatus::BodyLengthTooLarge);
  // Leading zeros are a valid Length (QuickFIX agrees).
  const std::string b = soh("35=0|49=A|");
  std::string padded =
      "8=FIX.4.4\x01"
      "9=00" +
      std::to_string(b.size()) + "\x01" + b;
  char cs[8];
  (void)std::snprintf(cs, sizeof cs, "%03u", hft::test::byte_sum(padded));  // three digits
  CHECK(status_of(padded + "10=" + cs + "\x01") == ParseStatus::Ok);
}

TEST_CASE("parse: BodyLength that misses the trailer is garbled") {
  const std::string body = "35=0|49=A|56=B|34=1|";
  const std::string b = soh(body);
  for (int delta : {-2, -1, 1, 2}) {
    std::string msg =
        "8=FIX.4.4\x01"
        "9=" +
        std::to_string(static_cast<int>(b.size()) + delta) + "\x01" + b;
    char cs[8];
    (void)std::snprintf(cs, sizeof cs, "%03u", hft::test::byte_sum(msg));  // three digits
    msg += std::string("10=") + cs + "\x01" + "8=FIX";                     // enough bytes after for delta > 0
    INFO("delta " << delta);
    CHECK(status_of(msg) == ParseStatus::BodyLengthMismatch);
  }
  CHECK(status_of(soh("8=FIX.4.4|9=0|10=000|")) == ParseStatus::BodyLengthMismatch);
}

TEST_CASE("parse: CheckSum must be three digits") {
  std::string m = nos();
  m.replace(m.size() - 4, 3, "12\x01");
  m.pop_back();
  CHECK(status_of(m + "x") == ParseStatus::BadCheckSum);
  std::string letters = nos();
  letters[letters.size() - 3] = 'a';
  CHECK(status_of(letters) == ParseStatus::BadCheckSum);
  std::string no_soh = nos();
  no_soh.back() = '0';
  CHECK(status_of(no_soh) == ParseStatus::BadCheckSum);
}

TEST_CASE("parse: a malformed CheckSum drops its whole frame, so a message inside its body is never parsed") {
  // A sound BodyLength, a complete NewOrderSingle at a field boundary inside the garbled
  // frame, and a CheckSum that is not three digits. Resyncing from the frame's second byte
  // would find "8=FIX" inside the body and accept the embedded order (issue 35, defect 5).
  const std::string body =
      "35=0\x01"
      "49=CLIENT\x01"
      "56=HFT\x01"
      "34=8\x01"
      "52=20261202-10:00:00.000\x01"
      "58=x\x01" +
      nos();
  std::string garbled =
      "8=FIX.4.4\x01"
      "9=" +
      std::to_string(body.size()) + "\x01" + body + "10=1x3\x01";
  for (const std::string& tail : {std::string(), nos()}) {
    const std::string in = garbled + tail;
    Message m;
    const ParseResult r = parse_exact(in, m);
    CHECK(r.status == ParseStatus::BadCheckSum);
    CHECK(r.tag == 10);
    REQUIRE(r.consumed == garbled.size());
    if (!tail.empty()) CHECK(parse_exact(in.substr(r.consumed), m).ok());
  }
  // Two digits then SOH: the frame ends at that SOH.
  std::string short_cs =
      "8=FIX.4.4\x01"
      "9=" +
      std::to_string(body.size()) + "\x01" + body + "10=12\x01";
  const std::string in = short_cs + nos();
  Message m;
  const ParseResult r = parse_exact(in, m);
  CHECK(r.status == ParseStatus::BadCheckSum);
  CHECK(r.consumed == short_cs.size());
  CHECK(parse_exact(in.substr(r.consumed), m).ok());
}

TEST_CASE("Message::to_utc_ns reads UTCTimestamp at every precision and refuses bad dates") {
  using hft::fix::Message;
  CHECK(Message::to_utc_ns("19700101-00:00:00") == 0u);
  CHECK(Message::to_utc_ns("19700101-00:00:01.5") == 1'500'000'000u);
  CHECK(Message::to_utc_ns("20261207-04:45:57.123") == 1'796'618'757'123'000'000ULL);
  CHECK(Message::to_utc_ns("20261207-04:45:57.123456") == 1'796'618'757'123'456'000ULL);
  CHECK(Message::to_utc_ns("20261207-04:45:57.123456789") == 1'796'618'757'123'456'789ULL);
  CHECK(Message::to_utc_ns("20240229-00:00:00") == 1'709'164'800'000'000'000ULL);             // a leap day
  CHECK(Message::to_utc_ns("20161231-23:59:60") == Message::to_utc_ns("20170101-00:00:00"));  // leap second
  for (const char* bad :
       {"", "20230229-00:00:00", "20261301-00:00:00", "20261200-00:00:00", "20261207-24:00:00", "20261207-23:60:00",
        "20261207-23:59:61", "19691231-23:59:59", "20261207 04:45:57", "20261207-04:45:57.",
        "20261207-04:45:57.1234567890", "20261207-04:45:5x", "20261207-04:45:57,123"}) {
    INFO(bad);
    CHECK_FALSE(Message::to_utc_ns(bad).has_value());
  }
}

TEST_CASE("parse: a wrong CheckSum skips exactly that frame") {
  std::string bad = nos();
  char& last = bad[bad.size() - 2];
  last = last == '9' ? '0' : static_cast<char>(last + 1);
  const std::string in = bad + nos();
  Message m;
  ParseResult r = parse_exact(in, m);
  CHECK(r.status == ParseStatus::CheckSumMismatch);
  CHECK(r.tag == 10);
  REQUIRE(r.consumed == bad.size());
  CHECK(parse_exact(in.substr(r.consumed), m).ok());
  // A flipped body byte is caught the same way.
  std::string flipped = nos();
  flipped[nos().find("AAPL")] = 'B';
  CHECK(status_of(flipped) == ParseStatus::CheckSumMismatch);
}

TEST_CASE("parse: MsgType must be the third field") {
  CHECK(status_of(frame("49=A|35=0|")) == ParseStatus::MissingMsgType);
  CHECK(status_of(frame("035=0|")) == ParseStatus::MissingMsgType);
  CHECK(status_of(frame("35|")) == ParseStatus::MissingMsgType);
  CHECK(hft::fix::is_garbled(ParseStatus::MissingMsgType));
}

TEST_CASE("parse: tag rules name the tag and the offset") {
  struct Case {
    const char* body;
    std::uint32_t tag;
  };
  for (const Case c :
       {Case{"35=0|049=A|", 49}, Case{"35=0|4a=A|", 4}, Case{"35=0|=A|", 0}, Case{"35=0|0=A|", 0},
        Case{"35=0|12345678901=A|", 1234567890}, Case{"35=0|58|", 58}, Case{"35=0|abc|", 0}, Case{"35=0|-5=A|", 0}}) {
    const std::string msg = frame(c.body);
    Message m;
    const ParseResult r = parse_exact(msg, m);
    INFO(c.body);
    CHECK(r.status == ParseStatus::InvalidTag);
    CHECK(r.tag == c.tag);
    CHECK(r.consumed == msg.size());
    CHECK(r.offset == msg.find(hft::test::soh(c.body).substr(5)));
    CHECK(r.reason() == hft::fix::SessionRejectReason::InvalidTagNumber);
    CHECK(hft::fix::is_rejectable(r.status));
  }
}

TEST_CASE("parse: a tag without a value is rejectable") {
  Message m;
  const std::string msg = frame("35=D|49=A|58=|");
  const ParseResult r = parse_exact(msg, m);
  CHECK(r.status == ParseStatus::EmptyValue);
  CHECK(r.tag == 58);
  CHECK(r.consumed == msg.size());
  CHECK(r.reason() == hft::fix::SessionRejectReason::TagSpecifiedWithoutValue);
  // The fields before the bad one are readable (the session's Reject needs MsgSeqNum).
  CHECK(m.get(49) == "A");
}

TEST_CASE("parse: header fields after the body, body after trailer") {
  Message m;
  ParseResult r = parse_exact(frame("35=D|34=5|11=a|49=X|"), m);
  CHECK(r.status == ParseStatus::HeaderFieldOutOfOrder);
  CHECK(r.tag == 49);
  CHECK(m.seq_num() == 5);
  CHECK(r.reason() == hft::fix::SessionRejectReason::TagSpecifiedOutOfRequiredOrder);
  CHECK(status_of(frame("35=D|9=5|")) == ParseStatus::HeaderFieldOutOfOrder);
  CHECK(status_of(frame("35=D|8=FIX.4.4|")) == ParseStatus::HeaderFieldOutOfOrder);
  r = parse_exact(frame("35=D|11=a|93=3|89=abc|58=x|"), m);
  CHECK(r.status == ParseStatus::BodyFieldAfterTrailer);
  CHECK(r.tag == 58);
  CHECK(status_of(frame("35=D|11=a|93=3|89=abc|")) == ParseStatus::Ok);
  // Header fields in any order before the body are fine.
  CHECK(status_of(frame("35=D|52=x|34=1|56=B|49=A|11=a|")) == ParseStatus::Ok);
  // A CheckSum inside the body means the length is off.
  CHECK(status_of(frame("35=D|10=000|11=a|")) == ParseStatus::BodyLengthMismatch);
}

TEST_CASE("parse: at most kMaxFields fields") {
  auto body_with = [](std::size_t extra) {
    std::string b = "35=D|";
    for (std::size_t i = 0; i < extra; ++i) b += std::to_string(5000 + i) + "=v|";
    return b;
  };
  // 8, 9, 35 and 10 plus the extras.
  CHECK(status_of(frame(body_with(Message::kMaxFields - 4))) == ParseStatus::Ok);
  Message m;
  const ParseResult r = parse_exact(frame(body_with(Message::kMaxFields - 3)), m);
  CHECK(r.status == ParseStatus::TooManyFields);
  CHECK(r.tag == 5000 + Message::kMaxFields - 4);
}

TEST_CASE("parse: repeated tags are kept and get returns the first") {
  Message m;
  REQUIRE(parse_exact(frame("35=D|58=one|58=two|9000=x|9000=y|"), m).ok());
  CHECK(m.get(58) == "one");
  CHECK(m.get(9000) == "x");
  std::size_t n58 = 0;
  for (const auto& f : m.fields()) n58 += f.tag == 58;
  CHECK(n58 == 2);
}

TEST_CASE("parse: tags above the index are found by scan") {
  Message m;
  REQUIRE(parse_exact(frame("35=3|45=7|371=44|372=D|373=5|58=why|20000=z|"), m).ok());
  CHECK(m.get(373) == "5");
  CHECK(m.get(372) == "D");
  CHECK(m.get(20000) == "z");
  CHECK(m.get(Message::kIndexedTags - 1).empty());
  CHECK(m.get(999999).empty());
}

TEST_CASE("parse: values may hold '=' and any byte but SOH") {
  Message m;
  REQUIRE(parse_exact(frame("35=D|58=a=b==c\x7f\xff|"), m).ok());
  CHECK(m.get(58) == "a=b==c\x7f\xff");
}

TEST_CASE("parse: int and bool accessors") {
  Message m;
  REQUIRE(parse_exact(frame("35=D|34=0|38=-12|39=1234567890123456789|40=12a|7000=Y|7001=N|7002=YY|"), m).ok());
  CHECK(m.get_int(38) == -12);
  CHECK(m.get_int(39) == std::nullopt);  // 19 digits
  CHECK(m.get_int(40) == std::nullopt);
  CHECK(m.seq_num() == 0);
  CHECK(m.get_bool(7000) == true);
  CHECK(m.get_bool(7001) == false);
  CHECK(m.get_bool(7002) == std::nullopt);
  CHECK(m.get_char(7002) == '\0');
  CHECK(Message::to_int("-") == std::nullopt);
  CHECK(Message::to_int("") == std::nullopt);
  CHECK(Message::to_int("999999999999999999") == 999999999999999999);
}

TEST_CASE("parse: a stream of messages and garbage yields every sound message") {
  std::mt19937_64 rng(42);
  std::string stream;
  std::vector<std::string> sent;
  for (int i = 0; i < 500; ++i) {
    const auto pick = rng() % 4;
    if (pick == 0) {
      stream += std::string(rng() % 30, static_cast<char>('a' + rng() % 26));  // noise
    } else {
      std::string body = "35=D|34=" + std::to_string(i) + "|11=c" + std::to_string(rng() % 1000) + "|";
      sent.push_back(with_body(body));
      stream += sent.back();
    }
  }
  std::vector<std::string> got;
  std::string_view rest(stream);
  Message m;
  while (!rest.empty()) {
    const ParseResult r = parse(rest, m);
    if (r.status == ParseStatus::Incomplete) break;
    REQUIRE(r.consumed > 0);
    if (r.ok()) got.emplace_back(m.raw());
    rest.remove_prefix(r.consumed);
  }
  CHECK(got == sent);
}

TEST_CASE("parse: mutated messages never crash, and Ok means consistent") {
  std::mt19937_64 rng(7);
  const int rounds = 20000;
  for (int i = 0; i < rounds; ++i) {
    std::string s = nos();
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = static_cast<char>(rng());
          break;
        case 1:
          s.erase(at, 1 + rng() % 3);
          break;
        case 2:
          s.insert(at, 1, static_cast<char>("0123456789=\x01|8"[rng() % 15]));
          break;
        default:
          s.resize(at);
          break;
      }
      // push_back, not `s = "8"`: g++-12 -O3 misreads that assignment as an overlapping
      // memcpy (-Wrestrict, GCC bug 105329) and -Werror fails the Release build.
      if (s.empty()) s.push_back('8');
    }
    Message m;
    const ParseResult r = parse_exact(s, m);
    REQUIRE(r.consumed <= s.size());
    if (r.status != ParseStatus::Incomplete) REQUIRE(r.consumed > 0);
    if (r.ok()) {
      for (const auto& f : m.fields()) {
        REQUIRE(f.offset + f.length <= s.size());
        REQUIRE(f.length > 0);
      }
      REQUIRE(m.fields().front().tag == 8);
      REQUIRE(m.fields()[2].tag == 35);
      REQUIRE(m.fields().back().tag == 10);
    }
  }
}
