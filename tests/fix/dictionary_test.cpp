#include "hft/fix/dictionary.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "../support/catch.hpp"
#include "fix_support.hpp"
#include "hft/fix/builder.hpp"

using hft::fix::Dictionary;
using hft::fix::Message;
using hft::fix::MessageBuilder;
using hft::fix::SessionRejectReason;
using hft::fix::Violation;
using hft::test::frame;

namespace {

const Dictionary& dict() { return Dictionary::fix44(); }

// The standard header every test message starts with (after 35).
constexpr std::string_view kHead = "49=CLIENT|56=HFT|34=7|52=20261202-10:00:00.000|";

int reason(const Violation& v) { return static_cast<int>(v.reason); }

// Validates a framed message; the message must parse.
Violation check_wire(const std::string& wire) {
  Message m;
  const auto r = hft::fix::parse(wire, m);
  INFO(hft::test::bars(wire));
  REQUIRE(r.ok());
  return dict().validate(m);
}

// Validates "35=<type>|<header>|<body>".
Violation check(std::string_view type, std::string_view body) {
  return check_wire(frame("35=" + std::string(type) + "|" + std::string(kHead) + std::string(body)));
}

constexpr std::string_view kNosBody =
    "1=ACC1|11=ord-1|55=AAPL|54=1|38=100|40=2|44=187.25|59=3|60=20261202-10:00:00.000|";

// The body of a NewOrderSingle with `field` ("44=...") in place of Price.
std::string nos_with(std::string_view field) {
  return "11=ord-1|55=AAPL|54=1|38=100|40=2|" + std::string(field) + "|60=20261202-10:00:00.000|";
}

void expect(const Violation& v, SessionRejectReason r, std::uint32_t tag) {
  CHECK(reason(v) == static_cast<int>(r));
  CHECK(v.tag == tag);
  CHECK_FALSE(v.ok());
  CHECK_FALSE(v.text.empty());
}

}  // namespace

TEST_CASE("dictionary: a plain NewOrderSingle is valid") {
  const Violation v = check("D", kNosBody);
  CHECK(v.ok());
  CHECK(v.tag == 0);
  CHECK(v.text.empty());
  CHECK_FALSE(v.value_level);
}

TEST_CASE("dictionary: the MsgType set of FIX 4.4") {
  const std::string singles = "0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz";
  int valid = 0;
  for (const char c : singles) {
    INFO(c);
    CHECK(dict().is_valid_msg_type(std::string(1, c)));
    ++valid;
  }
  for (char c = 'A'; c <= 'Z'; ++c, ++valid) CHECK(dict().is_valid_msg_type(std::string("A") + c));
  for (char c = 'A'; c <= 'H'; ++c, ++valid) CHECK(dict().is_valid_msg_type(std::string("B") + c));
  CHECK(valid == 93);
  for (const char* bad : {"I", "O", "U", "*", "", "ZZ", "BI", "BZ", "CA", "AAA", "a1", "Aa"}) {
    INFO(bad);
    CHECK_FALSE(dict().is_valid_msg_type(bad));
  }
}

TEST_CASE("dictionary: describes the session and mini-OMS types only") {
  for (const char* t : {"0", "1", "2", "3", "4", "5", "A", "D", "F", "G", "H", "8", "9", "j"}) {
    INFO(t);
    CHECK(dict().describes(t));
  }
  for (const char* t : {"E", "W", "AE", "B", "6", "k", "*", "", "DD"}) {
    INFO(t);
    CHECK_FALSE(dict().describes(t));
  }
}

TEST_CASE("dictionary: an invalid MsgType is reason 11 on tag 35") {
  for (const char* t : {"*", "ZZ", "I", "U", "BI"}) {
    INFO(t);
    const Violation v = check(t, "58=x|");
    expect(v, SessionRejectReason::InvalidMsgType, 35);
    CHECK_FALSE(v.value_level);
  }
}

TEST_CASE("dictionary: an undefined tag is reason 0") {
  // 20 (ExecTransType) and 24 were retired before 4.4; 957 and up belong to later versions;
  // 5000-9999 and 10000+ are user-defined; 1128 (ApplVerID) is a FIX 5 header tag.
  for (const std::uint32_t t : {20u, 24u, 101u, 957u, 1000u, 5000u, 5001u, 9999u, 10000u, 20000u}) {
    INFO(t);
    const Violation v = check("D", std::string(kNosBody) + std::to_string(t) + "=x|");
    expect(v, SessionRejectReason::InvalidTagNumber, t);
    CHECK_FALSE(v.value_level);
  }
  expect(check("D", "1128=7|" + std::string(kNosBody)), SessionRejectReason::InvalidTagNumber, 1128);
  // OnBehalfOfSendingTime(370): a header tag of other versions, not of 4.4.
  expect(check_wire(frame("35=D|49=C|56=S|34=2|370=20261202-10:00:00|52=20261202-10:00:00|" + std::string(kNosBody))),
         SessionRejectReason::InvalidTagNumber, 370);
  // The same in a type without a definition: undefined there too.
  expect(check("W", "5001=x|"), SessionRejectReason::InvalidTagNumber, 5001);
  CHECK_FALSE(dict().defined(5001));
  CHECK_FALSE(dict().defined(0));
  CHECK(dict().defined(956));
  CHECK_FALSE(dict().defined(957));
  CHECK(Dictionary::kMaxTag == 956);
}

TEST_CASE("dictionary: a tag of FIX 4.4 not defined for the type is reason 2") {
  // ExecID(17) belongs to ExecutionReport, not to NewOrderSingle.
  const Violation v = check("D", std::string(kNosBody) + "17=x|");
  expect(v, SessionRejectReason::TagNotDefinedForMessageType, 17);
  CHECK_FALSE(v.value_level);
  // HeartBtInt(108) in a Heartbeat; OrdType(40) in an OrderCancelRequest.
  expect(check("0", "108=30|"), SessionRejectReason::TagNotDefinedForMessageType, 108);
  expect(check("F", "41=a|11=b|55=X|54=1|60=20261202-10:00:00|40=2|"), SessionRejectReason::TagNotDefinedForMessageType,
         40);
}

TEST_CASE("dictionary: header and trailer tags are defined for every described type") {
  const std::string extra_head =
      "35=0|49=C|56=S|115=OBO|128=DTC|34=2|50=SS|142=SL|57=TS|143=TL|116=OBS|144=OBL|129=DTS|145=DTL|43=N|97=N|"
      "52=20261202-10:00:00|122=20261202-09:59:59|347=UTF-8|369=1|627=1|628=HOP|629=20261202-10:00:00|630=3|";
  CHECK(check_wire(frame(extra_head)).ok());
  CHECK(check_wire(frame(extra_head + "93=3|89=abc|")).ok());
  CHECK(check_wire(frame("35=D|49=C|56=S|34=2|97=Y|52=20261202-10:00:00|" + std::string(kNosBody))).ok());
}

TEST_CASE("dictionary: a repeated tag outside a group is reason 13, the second occurrence's tag") {
  // The case: 40=2|40=1 on a NewOrderSingle.
  const Violation v = check("D", std::string(kNosBody) + "40=1|");
  expect(v, SessionRejectReason::TagAppearsMoreThanOnce, 40);
  CHECK_FALSE(v.value_level);
  // A repeated header field (the parser allows it before the body).
  expect(check_wire(frame("35=D|49=C|49=C|56=S|34=2|52=20261202-10:00:00|" + std::string(kNosBody))),
         SessionRejectReason::TagAppearsMoreThanOnce, 49);
  // In a type without a definition the header is still checked...
  expect(check_wire(frame("35=W|49=C|56=S|34=2|34=2|52=20261202-10:00:00|55=X|")),
         SessionRejectReason::TagAppearsMoreThanOnce, 34);
  // ...but not the body, whose groups are unknown.
  CHECK(check("W", "55=X|268=2|269=0|270=1.5|269=1|270=1.6|").ok());
}

TEST_CASE("dictionary: a tag repeated across group instances is fine, within one instance it is 13") {
  CHECK(check("D", std::string(kNosBody) + "453=2|448=A|447=D|452=1|448=B|447=D|452=3|").ok());
  expect(check("D", std::string(kNosBody) + "453=1|448=A|447=D|447=D|452=1|"),
         SessionRejectReason::TagAppearsMoreThanOnce, 447);
  // A top-level field after the group, and the same group tag again at top level.
  CHECK(check("D", "453=1|448=A|447=D|452=1|" + std::string(kNosBody)).ok());
  expect(check("D", "453=1|448=A|" + std::string(kNosBody) + "453=1|448=B|"),
         SessionRejectReason::TagAppearsMoreThanOnce, 453);
}

TEST_CASE("dictionary: NumInGroup too high or too low is reason 16 on the NumInGroup tag") {
  // Too high: 2 declared, 1 present.
  Violation v = check("D", std::string(kNosBody) + "453=2|448=A|447=D|452=1|");
  expect(v, SessionRejectReason::IncorrectNumInGroupCount, 453);
  CHECK_FALSE(v.value_level);
  // Too low: 1 declared, 2 present.
  expect(check("D", std::string(kNosBody) + "453=1|448=A|447=D|452=1|448=B|"),
         SessionRejectReason::IncorrectNumInGroupCount, 453);
  // Zero declared, one present; zero declared and none present is fine.
  expect(check("D", std::string(kNosBody) + "453=0|448=A|"), SessionRejectReason::IncorrectNumInGroupCount, 453);
  CHECK(check("D", std::string(kNosBody) + "453=0|").ok());
  // Closed by a top-level field in the middle of the message.
  expect(check("D", "453=3|448=A|448=B|" + std::string(kNosBody)), SessionRejectReason::IncorrectNumInGroupCount, 453);
  // A header group.
  expect(check_wire(frame("35=0|49=C|56=S|34=2|52=20261202-10:00:00|627=2|628=H|")),
         SessionRejectReason::IncorrectNumInGroupCount, 627);
  // NumInGroup must be digits.
  expect(check("D", std::string(kNosBody) + "453=x|448=A|"), SessionRejectReason::IncorrectDataFormat, 453);
}

TEST_CASE("dictionary: fix44(true) accepts user-defined tags anywhere, also inside a group") {
  const Dictionary& udf = Dictionary::fix44(true);
  CHECK(udf.allows_user_defined_fields());
  CHECK_FALSE(dict().allows_user_defined_fields());
  auto check_udf = [&](std::string_view type, const std::string& body) {
    Message m;
    const std::string wire = frame("35=" + std::string(type) + "|" + std::string(kHead) + body);
    REQUIRE(hft::fix::parse(wire, m).ok());
    return udf.validate(m);
  };
  for (const std::uint32_t t : {5000u, 7928u, 9999u, 10000u, 20000u}) {
    INFO(t);
    CHECK(check_udf("D", std::string(kNosBody) + std::to_string(t) + "=x|").ok());
    CHECK(check_udf("0", std::to_string(t) + "=x|").ok());
  }
  // Inside Parties: the group stays open, so its count is still checked.
  CHECK(check_udf("D", std::string(kNosBody) + "453=2|448=A|5001=x|447=D|448=B|447=D|").ok());
  expect(check_udf("D", std::string(kNosBody) + "453=3|448=A|5001=x|447=D|448=B|447=D|"),
         SessionRejectReason::IncorrectNumInGroupCount, 453);
  // Still undefined below 5000, and everything else is still checked.
  expect(check_udf("D", std::string(kNosBody) + "4999=x|"), SessionRejectReason::InvalidTagNumber, 4999);
  expect(check_udf("D", std::string(kNosBody) + "957=x|"), SessionRejectReason::InvalidTagNumber, 957);
  expect(check_udf("D", std::string(kNosBody) + "5001=x|40=1|"), SessionRejectReason::TagAppearsMoreThanOnce, 40);
}

TEST_CASE("dictionary: nested groups, Parties with PartySubIDs") {
  const std::string two_deep =
      "453=2|448=A|447=D|452=1|802=2|523=s1|803=1|523=s2|803=2|448=B|447=D|452=3|802=1|523=s3|803=4|";
  CHECK(check("D", std::string(kNosBody) + two_deep).ok());
  CHECK(check("D", two_deep + std::string(kNosBody)).ok());
  // The inner count is checked when the inner group ends (at the outer delimiter).
  expect(check("D", std::string(kNosBody) + "453=2|448=A|802=3|523=s1|523=s2|448=B|"),
         SessionRejectReason::IncorrectNumInGroupCount, 802);
  expect(check("D", std::string(kNosBody) + "453=1|448=A|802=1|523=s1|523=s2|"),
         SessionRejectReason::IncorrectNumInGroupCount, 802);
  // Three deep: ExecutionReport legs > NestedParties > NstdPtySubIDs.
  const std::string er =
      "37=O1|17=E1|150=0|39=0|55=AAPL|54=1|151=100|14=0|6=0|"
      "555=2|600=L1|624=1|539=1|524=NP|525=D|804=1|545=sub|805=2|566=1.5|600=L2|624=2|";
  CHECK(check("8", er).ok());
  expect(check("8", er + "804=1|"), SessionRejectReason::RepeatingGroupFieldsOutOfOrder, 804);
}

TEST_CASE("dictionary: a group field before its delimiter or outside its group is reason 15") {
  // PartyIDSource before PartyID, the delimiter.
  expect(check("D", std::string(kNosBody) + "453=1|447=D|448=A|"), SessionRejectReason::RepeatingGroupFieldsOutOfOrder,
         447);
  // PartyID without NoPartyIDs.
  const Violation v = check("D", std::string(kNosBody) + "448=A|");
  expect(v, SessionRejectReason::RepeatingGroupFieldsOutOfOrder, 448);
  CHECK_FALSE(v.value_level);
}

TEST_CASE("dictionary: Int and unsigned formats are reason 6") {
  // HeartBtInt(108) is Int: a sign is allowed, letters are not.
  CHECK(check("A", "98=0|108=30|").ok());
  expect(check("A", "98=0|108=3x|"), SessionRejectReason::IncorrectDataFormat, 108);
  expect(check("A", "98=0|108=-|"), SessionRejectReason::IncorrectDataFormat, 108);
  expect(check("A", "98=0|108=1.0|"), SessionRejectReason::IncorrectDataFormat, 108);
  // SeqNum fields are non-negative digits.
  CHECK(check("2", "7=1|16=0|").ok());
  expect(check("2", "7=-1|16=0|"), SessionRejectReason::IncorrectDataFormat, 7);
  expect(check("2", "7=1|16=+5|"), SessionRejectReason::IncorrectDataFormat, 16);
  expect(check_wire(frame("35=0|49=C|56=S|34=-2|52=20261202-10:00:00|")), SessionRejectReason::IncorrectDataFormat, 34);
  // A Length.
  expect(check("A", "98=0|108=30|95=x|96=abc|"), SessionRejectReason::IncorrectDataFormat, 95);
}

TEST_CASE("dictionary: Float, Qty and Price formats") {
  for (const char* ok : {"44=187.25", "44=100", "44=-1.5", "44=0", "44=1.", "44=.5", "44=-.5", "44=000.000"}) {
    INFO(ok);
    CHECK(check("D", nos_with(ok)).ok());
  }
  for (const char* bad : {"44=1.2.3", "44=abc", "44=-", "44=.", "44=+1", "44=1e5", "44=1,5", "44= 1", "44=--1"}) {
    INFO(bad);
    const Violation v = check("D", nos_with(bad));
    expect(v, SessionRejectReason::IncorrectDataFormat, 44);
    CHECK(v.value_level);
  }
  expect(check("D", nos_with("38=1x")), SessionRejectReason::TagAppearsMoreThanOnce, 38);  // 38 is already there
  expect(check("D", "11=o|55=A|54=1|38=1x|40=2|60=20261202-10:00:00|"), SessionRejectReason::IncorrectDataFormat, 38);
}

TEST_CASE("dictionary: Char and Boolean formats") {
  // Side(54) is a Char: more than one character is a format error, not an enum error.
  expect(check("D", "11=o|55=A|54=12|40=2|60=20261202-10:00:00|"), SessionRejectReason::IncorrectDataFormat, 54);
  CHECK(check("D", std::string(kNosBody) + "114=Y|").ok());
  CHECK(check("D", std::string(kNosBody) + "114=N|").ok());
  for (const char* bad : {"114=y", "114=1", "114=YES", "114=T"}) {
    INFO(bad);
    expect(check("D", std::string(kNosBody) + bad + "|"), SessionRejectReason::IncorrectDataFormat, 114);
  }
  // PossDupFlag(43), PossResend(97), GapFillFlag(123), ResetSeqNumFlag(141).
  expect(check_wire(frame("35=0|49=C|56=S|34=2|43=X|52=20261202-10:00:00|")), SessionRejectReason::IncorrectDataFormat,
         43);
  expect(check_wire(frame("35=0|49=C|56=S|34=2|97=n|52=20261202-10:00:00|")), SessionRejectReason::IncorrectDataFormat,
         97);
  expect(check("4", "123=Q|36=5|"), SessionRejectReason::IncorrectDataFormat, 123);
  expect(check("A", "98=0|108=30|141=1|"), SessionRejectReason::IncorrectDataFormat, 141);
  CHECK(check("4", "123=Y|36=5|").ok());
  CHECK(check("A", "98=0|108=30|141=Y|").ok());
}

TEST_CASE("dictionary: UTCTimestamp format, leap second, calendar and fraction lengths") {
  auto at = [](std::string_view ts) { return check("D", "11=o|55=A|54=1|40=2|60=" + std::string(ts) + "|"); };
  for (const char* ok :
       {"20261202-10:00:00", "20261202-10:00:00.123", "20261202-10:00:00.123456", "20261202-10:00:00.123456789",
        "20261231-23:59:60", "20240229-00:00:00", "20000229-12:00:00", "20261202-23:59:59.999"}) {
    INFO(ok);
    CHECK(at(ok).ok());
  }
  for (const char* bad : {"20261202-10:00:61",      "20260230-10:00:00",
                          "20260229-10:00:00",      "19000229-10:00:00",
                          "20261302-10:00:00",      "20260002-10:00:00",
                          "20261200-10:00:00",      "20261131-10:00:00",
                          "20261202-24:00:00",      "20261202-10:60:00",
                          "20261202-10:00:00.1",    "20261202-10:00:00.12",
                          "20261202-10:00:00.1234", "20261202-10:00:00.1234567",
                          "20261202-10:00:00.",     "20261202 10:00:00",
                          "20261202-10:00",         "2026120-10:00:00",
                          "20261202-10:0a:00",      "20261202-10:00:00.12a",
                          "20261202-10.00.00",      "20261202"}) {
    INFO(bad);
    const Violation v = at(bad);
    expect(v, SessionRejectReason::IncorrectDataFormat, 60);
    CHECK(v.value_level);
  }
  // SendingTime(52) is a header field: the same format, but never value-level.
  const Violation v = check_wire(frame("35=D|49=C|56=S|34=2|52=20261202-10:00:61|" + std::string(kNosBody)));
  expect(v, SessionRejectReason::IncorrectDataFormat, 52);
  CHECK_FALSE(v.value_level);
  expect(check_wire(frame("35=0|49=C|56=S|34=2|43=Y|52=20261202-10:00:00|122=2026-12-02|")),
         SessionRejectReason::IncorrectDataFormat, 122);
}

TEST_CASE("dictionary: UTCTimeOnly, UTCDateOnly, LocalMktDate and MonthYear formats") {
  // MDEntryTime(273), MDEntryDate(272) in a MarketDataSnapshot (an undescribed type: only
  // defined tags, formats and enumerations are checked there).
  CHECK(check("W", "55=X|273=10:00:00|272=20261202|").ok());
  CHECK(check("W", "273=23:59:60.123|").ok());
  CHECK(check("W", "273=10:00:00.123456789|").ok());
  for (const char* bad : {"273=24:00:00", "273=10:00", "273=10:00:00.1", "273=1:00:00"}) {
    INFO(bad);
    expect(check("W", std::string(bad) + "|"), SessionRejectReason::IncorrectDataFormat, 273);
  }
  expect(check("W", "272=20260230|"), SessionRejectReason::IncorrectDataFormat, 272);
  // TradeDate(75), a LocalMktDate.
  CHECK(check("D", std::string(kNosBody) + "75=20240229|").ok());
  for (const char* bad : {"75=20230229", "75=2026-12-02", "75=202612", "75=20261232", "75=20261202-10:00:00"}) {
    INFO(bad);
    expect(check("D", std::string(kNosBody) + bad + "|"), SessionRejectReason::IncorrectDataFormat, 75);
  }
  // MaturityMonthYear(200).
  for (const char* ok : {"200=202612", "200=20261218", "200=202612w1", "200=202612w5"}) {
    INFO(ok);
    CHECK(check("D", std::string(kNosBody) + ok + "|").ok());
  }
  for (const char* bad : {"200=202613", "200=202600", "200=202612w6", "200=202612w0", "200=2026121", "200=20260231",
                          "200=2026-12", "200=202612x1"}) {
    INFO(bad);
    expect(check("D", std::string(kNosBody) + bad + "|"), SessionRejectReason::IncorrectDataFormat, 200);
  }
}

TEST_CASE("dictionary: String, MultipleValueString, Currency and data fields take any value") {
  CHECK(check("D", std::string(kNosBody) + "18=1 2 G|15=USD|100=XNAS|58=any text: 1=2|").ok());
  CHECK(check("A", "98=0|108=30|95=4|96=a=b;|553=user|554=pw|").ok());
}

TEST_CASE("dictionary: enumerations out of range are reason 5") {
  struct Case {
    const char* type;
    const char* body;
    std::uint32_t tag;
    bool value_level;
  };
  const std::string nos = std::string(kNosBody);
  const std::vector<Case> cases = {
      {"D", "11=o|55=A|54=1|40=2|60=20261202-10:00:00|21=4|", 21, true},  // the case
      {"D", "11=o|55=A|54=1|40=Z|60=20261202-10:00:00|", 40, true},
      {"D", "11=o|55=A|54=1|40=0|60=20261202-10:00:00|", 40, true},
      {"D", "11=o|55=A|54=H|40=2|60=20261202-10:00:00|", 54, true},
      {"D", "11=o|55=A|54=0|40=2|60=20261202-10:00:00|", 54, true},
      {"D", "11=o|55=A|54=1|40=2|60=20261202-10:00:00|59=8|", 59, true},
      {"A", "98=7|108=30|", 98, false},
      {"A", "98=-1|108=30|", 98, false},
      {"8", "37=O|17=E|150=1|39=0|55=A|54=1|151=0|14=0|6=0|", 150, true},  // Partial fill: retired in 4.3
      {"8", "37=O|17=E|150=0|39=F|55=A|54=1|151=0|14=0|6=0|", 39, true},
      {"8", "37=O|17=E|150=0|39=0|55=A|54=1|151=0|14=0|6=0|103=16|", 103, true},
      {"3", "45=3|373=18|", 373, false},
      {"3", "45=3|373=100|", 373, false},
      {"j", "372=D|380=8|", 380, true},
      {"9", "37=O|11=C|41=P|39=0|434=3|", 434, true},
      {"9", "37=O|11=C|41=P|39=0|434=1|102=7|", 102, true},
      {"A", "98=0|108=30|384=1|372=D|385=X|", 385, false},
  };
  for (const Case& c : cases) {
    INFO(c.type << " " << c.body);
    const Violation v = check(c.type, c.body);
    expect(v, SessionRejectReason::ValueIncorrect, c.tag);
    CHECK(v.value_level == c.value_level);
  }
  // The top values of each set, and a leading zero, are in range.
  CHECK(check("3", "45=3|373=99|").ok());
  CHECK(check("3", "45=3|373=17|").ok());
  CHECK(check("9", "37=O|11=C|41=P|39=E|434=2|102=99|").ok());
  CHECK(check("8", "37=O|17=E|150=I|39=0|55=A|54=G|151=0|14=0|6=0|103=99|40=P|59=7|21=3|").ok());
  CHECK(check("A", "98=06|108=30|").ok());
  CHECK(check("j", "372=D|380=7|").ok());
}

TEST_CASE("dictionary: every required field of every described type, removed, is reason 1 with its tag") {
  struct Type {
    const char* type;
    std::vector<std::string> required;  // "tag=value", the body's required fields
    bool admin;
  };
  const std::vector<Type> types = {
      {"0", {}, true},
      {"1", {"112=T1"}, true},
      {"2", {"7=1", "16=0"}, true},
      {"3", {"45=3"}, true},
      {"4", {"36=10"}, true},
      {"5", {}, true},
      {"A", {"98=0", "108=30"}, true},
      {"D", {"11=o1", "55=AAPL", "54=1", "60=20261202-10:00:00", "40=2"}, false},
      {"F", {"41=o1", "11=o2", "55=AAPL", "54=1", "60=20261202-10:00:00"}, false},
      {"G", {"41=o1", "11=o2", "55=AAPL", "54=1", "60=20261202-10:00:00", "40=2"}, false},
      {"H", {"11=o1", "55=AAPL", "54=1"}, false},
      {"8", {"37=O1", "17=E1", "150=0", "39=0", "55=AAPL", "54=1", "151=100", "14=0", "6=0"}, false},
      {"9", {"37=O1", "11=o2", "41=o1", "39=0", "434=1"}, false},
      {"j", {"372=D", "380=3"}, false},
  };
  const std::vector<std::string> header = {"49=CLIENT", "56=HFT", "34=7", "52=20261202-10:00:00"};
  for (const Type& t : types) {
    auto build = [&](std::size_t skip) {  // skip: index into header + required to leave out
      std::string body = "35=" + std::string(t.type) + "|";
      std::size_t k = 0;
      for (const auto& f : header)
        if (k++ != skip) body += f + "|";
      for (const auto& f : t.required)
        if (k++ != skip) body += f + "|";
      return frame(body);
    };
    INFO("MsgType " << t.type);
    CHECK(check_wire(build(~std::size_t{0})).ok());
    for (std::size_t skip = 0; skip < header.size() + t.required.size(); ++skip) {
      const bool in_header = skip < header.size();
      const std::string& f = in_header ? header[skip] : t.required[skip - header.size()];
      const auto tag = static_cast<std::uint32_t>(std::stoul(f.substr(0, f.find('='))));
      INFO("without " << f);
      const Violation v = check_wire(build(skip));
      expect(v, SessionRejectReason::RequiredTagMissing, tag);
      // Value-level only for a body field of an application message.
      CHECK(v.value_level == (!t.admin && !in_header));
    }
  }
}

TEST_CASE("dictionary: value_level is false for everything in an admin message") {
  CHECK_FALSE(check("A", "98=9|108=30|").value_level);    // 5
  CHECK_FALSE(check("A", "98=0|108=x|").value_level);     // 6
  CHECK_FALSE(check("A", "98=0|").value_level);           // 1
  CHECK_FALSE(check("5", "58=bye|58=bye|").value_level);  // 13
  CHECK(check("D", "11=o|55=A|54=1|40=2|").value_level);  // 1, TransactTime missing: value-level
  CHECK(check("D", "11=o|55=A|54=1|40=2|").tag == 60);
}

TEST_CASE("dictionary: a valid type without a definition gets the header and generic checks only") {
  // ListNewOrder(E), MarketDataSnapshot(W), SecurityDefinitionRequest(c), AllocationReportAck(AT).
  CHECK(check("E", "66=L1|394=1|68=2|73=2|11=a|67=1|55=X|54=1|11=b|67=2|55=Y|54=2|").ok());
  CHECK(check("W", "55=X|268=1|269=0|270=1.5|").ok());
  CHECK(check("c", "320=R|321=0|").ok());
  CHECK(check("AT", "755=R|").ok());
  CHECK(check("BH", "58=x|").ok());
  // Required header fields, defined tags, formats and enumerations still apply.
  expect(check_wire(frame("35=W|49=C|56=S|34=2|55=X|")), SessionRejectReason::RequiredTagMissing, 52);
  expect(check("W", "55=X|20=0|"), SessionRejectReason::InvalidTagNumber, 20);
  expect(check("E", "66=L1|54=X|"), SessionRejectReason::ValueIncorrect, 54);
  const Violation v = check("E", "66=L1|60=yesterday|");
  expect(v, SessionRejectReason::IncorrectDataFormat, 60);
  CHECK(v.value_level);
  // Any defined tag is allowed in its body: reason 2 needs a definition.
  CHECK(check("W", "108=30|17=x|").ok());
}

TEST_CASE("dictionary: the first violation in the documented order wins") {
  // Per field, in wire order: an undefined tag before a bad format after it...
  expect(check("D", "11=o|5001=x|44=abc|55=A|54=1|40=2|60=20261202-10:00:00|"), SessionRejectReason::InvalidTagNumber,
         5001);
  // ...and a bad format before an undefined tag after it.
  expect(check("D", "11=o|44=abc|5001=x|55=A|54=1|40=2|60=20261202-10:00:00|"),
         SessionRejectReason::IncorrectDataFormat, 44);
  // A field's own checks before the required fields: an enum error with TransactTime missing.
  expect(check("D", "11=o|55=A|54=9|40=X|"), SessionRejectReason::ValueIncorrect, 40);
  // Required fields before NumInGroup counts.
  expect(check("D", "11=o|55=A|54=1|40=2|453=2|448=A|"), SessionRejectReason::RequiredTagMissing, 60);
  // The MsgType before anything.
  expect(check("ZZ", "5001=x|"), SessionRejectReason::InvalidMsgType, 35);
}

TEST_CASE("dictionary: the Logon, admin and reject messages of a session pass") {
  CHECK(check("A", "98=0|108=30|141=Y|").ok());
  CHECK(check("A", "98=0|108=30|789=5|383=4096|384=2|372=D|385=R|372=8|385=S|553=u|554=p|").ok());
  CHECK(check("0", "").ok());
  CHECK(check("0", "112=TEST-1|").ok());
  CHECK(check("1", "112=TEST-1|").ok());
  CHECK(check("2", "7=5|16=0|").ok());
  CHECK(check("3", "45=5|371=40|372=D|373=5|58=value is incorrect (out of range) for this tag|").ok());
  CHECK(check("4", "123=Y|36=12|").ok());
  CHECK(check_wire(frame("35=4|49=C|56=S|34=5|43=Y|52=20261202-10:00:01|122=20261202-10:00:00|123=Y|36=12|")).ok());
  CHECK(check("5", "58=bye|").ok());
  CHECK(check("j", "45=9|372=E|379=X|380=3|58=unsupported MsgType|").ok());
}

TEST_CASE("dictionary: a generous NewOrderSingle with components passes") {
  const std::string body =
      "11=ord-9|526=sec|583=link|453=1|448=FIRM|447=D|452=1|229=20261202|75=20261202|1=ACC|660=1|581=1|"
      "78=2|79=A1|80=60|79=A2|539=1|524=NP|525=D|538=1|80=40|63=0|64=20261204|544=1|21=1|18=G|110=10|111=50|"
      "100=XNAS|386=1|336=DAY|625=X|81=0|55=IBM|65=WI|48=459200101|22=1|454=1|455=US4592001014|456=4|460=5|"
      "167=CS|200=202612|541=20261218|201=1|202=150|231=100|207=XNYS|106=IBM Corp|864=1|865=1|866=20261218|"
      "711=1|311=IBM|315=0|457=1|458=X|459=4|887=1|888=K|889=V|54=1|114=N|60=20261202-10:00:00.123456|"
      "232=1|233=TYPE|234=VAL|854=0|38=100|152=18725|40=2|423=2|44=187.25|99=186|15=USD|376=CID|377=N|59=0|"
      "168=20261202-10:00:00|432=20261203|126=20261203-10:00:00|427=0|12=1.5|13=3|528=A|529=1|582=1|121=Y|"
      "120=USD|775=0|58=note|354=3|355=abc|193=20261210|192=50|640=187.5|77=O|203=0|210=10|211=0.5|388=0|"
      "389=0.1|847=1|848=P|849=10|480=Y|481=Y|513=R|494=D|";
  CHECK(check("D", body).ok());
  std::string g = "37=OID|41=ord-8|" + body;
  for (const std::string_view only_d : {"81=0|", "232=1|233=TYPE|234=VAL|"})  // not in FIX 4.4's G
    g.erase(g.find(only_d), only_d.size());
  const Violation gv = check("G", g);
  INFO(gv.text << " " << gv.tag);
  CHECK(gv.ok());
}

TEST_CASE("dictionary: messages built by MessageBuilder in bench and mini-OMS style pass") {
  std::vector<char> buf(1024);
  MessageBuilder b(buf);
  Message m;
  auto validate = [&](std::string_view wire) {
    REQUIRE_FALSE(wire.empty());
    REQUIRE(hft::fix::parse(wire, m).ok());
    return dict().validate(m);
  };
  constexpr std::uint64_t kNow = 1'796'000'000'000'000'000ULL;
  auto header = [&](std::string_view type, std::uint64_t seq) {
    b.start(type).add(49, "CLIENT01").add(56, "HFTOMS").add(34, seq).add_timestamp(52, kNow);
  };
  // NewOrderSingle as the load generator and bench_fix write it.
  header("D", 1000);
  b.add(11, "ORD-2026-100037").add(1, "ACC3").add(55, "AAPL").add_char(54, '1').add(38, 300).add_char(40, '2');
  b.add_price(44, hft::Price::from_ticks(18725), hft::TickSize{1, 2}).add_char(59, '3').add_timestamp(60, kNow);
  CHECK(validate(b.finish()).ok());
  // ExecutionReports as the acceptor writes them: a reject, a trade, a cancel.
  for (const char exec : {'8', 'F', '4'}) {
    INFO(exec);
    header("8", 5000);
    b.add(37, "OMS-1").add(11, "ORD-2026-100037").add(1, "ACC3").add(17, "OMS-1.0").add_char(150, exec);
    b.add_char(39, exec == 'F' ? '2' : exec).add(55, "AAPL").add_char(54, '1').add(38, 300).add_char(40, '2');
    b.add_price(44, hft::Price::from_ticks(18725), hft::TickSize{1, 2}).add_char(59, '3');
    b.add(32, exec == 'F' ? 300 : 0).add(31, 0).add(151, 0).add(14, exec == 'F' ? 300 : 0).add(6, 0);
    b.add_timestamp(60, kNow);
    if (exec == '8') b.add(103, 3U).add(58, "RISK_QTY");
    if (exec == '4') b.add(58, "IOC: remainder canceled");
    CHECK(validate(b.finish()).ok());
  }
  // bench_fix's ExecutionReport (no TransactTime: optional in 4.4).
  header("8", 5001);
  b.add(37, 9'000'000).add(17, 7'000'000).add(11, "ORD-2026-100037").add_char(150, 'F').add_char(39, '2');
  b.add(55, "AAPL").add_char(54, '1').add(38, 300).add_price(31, hft::Price::from_ticks(18725), hft::TickSize{1, 2});
  b.add(32, 300).add(151, 0).add(14, 300).add_price(6, hft::Price::from_ticks(18725), hft::TickSize{1, 2});
  CHECK(validate(b.finish()).ok());
  // Logon with ResetSeqNumFlag=Y, Heartbeat, OrderCancelReject and BusinessMessageReject.
  header("A", 1);
  b.add(98, 0).add(108, 30).add_bool(141, true);
  CHECK(validate(b.finish()).ok());
  header("0", 2);
  CHECK(validate(b.finish()).ok());
  header("9", 3);
  b.add(37, "NONE")
      .add(11, "C2")
      .add(41, "C1")
      .add_char(39, '8')
      .add_char(434, '1')
      .add(102, 1)
      .add(58, "unknown order");
  CHECK(validate(b.finish()).ok());
  header("j", 4);
  b.add(45, 17).add(372, "E").add(380, 3).add(58, "unsupported MsgType");
  CHECK(validate(b.finish()).ok());
  // OrderCancelRequest and OrderStatusRequest.
  header("F", 5);
  b.add(41, "C1").add(11, "C2").add(55, "AAPL").add_char(54, '2').add_timestamp(60, kNow).add(38, 100);
  CHECK(validate(b.finish()).ok());
  header("H", 6);
  b.add(37, "OMS-1").add(11, "C1").add(55, "AAPL").add_char(54, '1');
  CHECK(validate(b.finish()).ok());
}

TEST_CASE("dictionary: validate keeps no state between calls") {
  // The same Message validated twice gives the same answer (no state kept between calls).
  Message m;
  const std::string wire = frame("35=D|" + std::string(kHead) + std::string(kNosBody) + "40=1|");
  REQUIRE(hft::fix::parse(wire, m).ok());
  const Violation a = dict().validate(m);
  const Violation b = dict().validate(m);
  CHECK(reason(a) == reason(b));
  CHECK(a.tag == b.tag);
  CHECK(&Dictionary::fix44() == &dict());
}

// Not an assertion: prints the cost of validate() for a typical NewOrderSingle. Run with
// `dictionary_test "[bench]"`.
TEST_CASE("dictionary: validate cost of a NewOrderSingle", "[.][bench]") {
  const std::string wire = frame(
      "35=D|49=CLIENT01|56=HFTOMS|34=1000|52=20261202-10:00:00.000|1=ACC3|11=ORD-2026-100037|55=AAPL|54=1|"
      "38=300|40=2|44=187.25|59=3|60=20261202-10:00:00.000|");
  Message m;
  REQUIRE(hft::fix::parse(wire, m).ok());
  constexpr int kIters = 2'000'000;
  int ok = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) {
    const Violation v = dict().validate(m);
    ok += v.ok() ? 1 : 0;
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) / kIters;
  std::printf("validate(NewOrderSingle, %zu fields): %.1f ns/msg\n", m.fields().size(), ns);
  CHECK(ok == kIters);
}

TEST_CASE("dictionary: tables, no tag both at top level and in a group, nesting within the stack") {
  // validate() finds a repeated top-level tag through Message::get() (the first occurrence):
  // exact only while no described type has a tag both at top level and inside one of its
  // groups. And the group stack holds kMaxGroupDepth levels.
  using hft::fix::detail::GroupDef;
  const auto& t = hft::fix::detail::fix44_tables();
  auto group_of = [&](std::uint32_t tag) -> const GroupDef* {
    const std::uint8_t g = tag <= Dictionary::kMaxTag ? t.info[tag].group : 0;
    return g == 0 ? nullptr : &t.groups[g - 1u];
  };
  std::size_t deepest = 0;
  for (const auto& m : t.msgs) {
    INFO("MsgType " << m.type);
    // Depth-first over the groups reachable from the top level.
    struct Item {
      const GroupDef* g;
      std::size_t depth;
    };
    std::vector<Item> todo;
    for (std::uint32_t tag = 1; tag <= Dictionary::kMaxTag; ++tag)
      if (m.allowed.has(tag) && group_of(tag) != nullptr) todo.push_back({group_of(tag), 1});
    while (!todo.empty()) {
      const Item it = todo.back();
      todo.pop_back();
      deepest = std::max(deepest, it.depth);
      CHECK(it.g->members.has(it.g->delimiter));
      for (std::uint32_t tag = 1; tag <= Dictionary::kMaxTag; ++tag) {
        if (!it.g->members.has(tag)) continue;
        INFO("group " << it.g->count_tag << " member " << tag);
        CHECK_FALSE(m.allowed.has(tag));
        if (const GroupDef* inner = group_of(tag)) todo.push_back({inner, it.depth + 1});
      }
    }
    for (const std::uint16_t r : m.required) CHECK(m.allowed.has(r));
  }
  CHECK(deepest == 3);  // ExecutionReport: NoLegs > NestedParties > NstdPtySubIDs
  CHECK(deepest <= hft::fix::detail::kMaxGroupDepth);
}

TEST_CASE("dictionary: retired values kept for older peers") {
  // OrdType 5 (market on close) and A (on close), OrdStatus 5 (replaced): retired by 4.4 but
  // still sent by peers that learnt them earlier, so they are accepted.
  CHECK(check("D", "11=o|55=A|54=1|40=5|60=20261202-10:00:00|").ok());
  CHECK(check("D", "11=o|55=A|54=1|40=A|60=20261202-10:00:00|").ok());
  CHECK(check("8", "37=O|17=E|150=5|39=5|55=A|54=1|151=0|14=0|6=0|").ok());
}

TEST_CASE("dictionary: a Message that was never parsed is an invalid MsgType, not a crash") {
  const Message m;
  expect(dict().validate(m), SessionRejectReason::InvalidMsgType, 35);
}
