#include "hft/fix/builder.hpp"

#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "fix_support.hpp"

using hft::Price;
using hft::TickSize;
using hft::fix::BuildError;
using hft::fix::Message;
using hft::fix::MessageBuilder;
using hft::test::frame;

TEST_CASE("builder: writes exactly the framed message, length and checksum included") {
  std::vector<char> buf(512);
  MessageBuilder b(buf);
  b.start("8").add(49, "HFT").add(56, "CLIENT").add(34, 12).add(11, "ord-1").add_char(150, 'F');
  b.add_price(44, Price::from_ticks(18725), TickSize{1, 2}).add(38, std::int64_t{-5}).add_bool(114, true);
  const std::string_view out = b.finish();
  CHECK(b.error() == BuildError::None);
  CHECK(out == frame("35=8|49=HFT|56=CLIENT|34=12|11=ord-1|150=F|44=187.25|38=-5|114=Y|"));
  Message m;
  REQUIRE(hft::fix::parse(out, m).ok());
  CHECK(m.get(44) == "187.25");
}

TEST_CASE("builder: BodyLength of every width frames correctly") {
  std::vector<char> buf(MessageBuilder::kMaxBodyLength + 64);
  MessageBuilder b(buf);
  for (std::size_t len : {0ul, 1ul, 5ul, 80ul, 95ul, 990ul, 9990ul, 99990ul, 999990ul - 10}) {
    b.start("0");
    if (len > 0) b.add(58, std::string(len, 'x'));
    const std::string_view out = b.finish();
    INFO("value length " << len);
    REQUIRE(b.error() == BuildError::None);
    Message m;
    REQUIRE(hft::fix::parse(out, m, {.max_body_length = MessageBuilder::kMaxBodyLength}).ok());
    CHECK(m.get(58).size() == len);
  }
  // One byte more than BodyLength's six digits allow.
  b.start("0").add(58, std::string(MessageBuilder::kMaxBodyLength, 'x'));
  CHECK(b.error() == BuildError::BufferFull);
  CHECK(b.finish().empty());
}

TEST_CASE("builder: too small a buffer fails cleanly at every size") {
  std::vector<char> big(256);
  MessageBuilder ref(big);
  const std::string want(ref.start("D").add(11, "abc").add(55, "AAPL").finish());
  // The body starts at a fixed offset: the smallest buffer that fits is the message plus
  // the unused BodyLength digits in front of it.
  std::size_t fits = 0;
  for (std::size_t cap = 0; cap <= want.size() + 8; ++cap) {
    std::vector<char> buf(cap + 16, '#');  // guard bytes after the span
    MessageBuilder b(std::span<char>(buf.data(), cap));
    const std::string_view out = b.start("D").add(11, "abc").add(55, "AAPL").finish();
    for (std::size_t i = cap; i < buf.size(); ++i) REQUIRE(buf[i] == '#');
    if (b.error() == BuildError::None) {
      CHECK(out == want);
      if (fits == 0) fits = cap;
    } else {
      CHECK(b.error() == BuildError::BufferFull);
      CHECK(out.empty());
      CHECK(fits == 0);  // once it fits, every larger buffer fits
    }
  }
  CHECK(fits == want.size() + 4);  // "9=" has six digits of room, this body needs two
}

TEST_CASE("builder: bad fields put it in an error state until the next start") {
  std::vector<char> buf(256);
  MessageBuilder b(buf);
  CHECK(b.finish().empty());
  CHECK(b.error() == BuildError::NotStarted);
  b.add(11, "x");
  CHECK(b.error() == BuildError::NotStarted);

  b.start("D").add(11, "");
  CHECK(b.error() == BuildError::EmptyValue);
  CHECK(b.error_tag() == 11);
  b.add(55, "AAPL");  // ignored: the first error stays
  CHECK(b.error_tag() == 11);
  CHECK(b.finish().empty());

  b.start("D").add(58, std::string_view("a\x01"
                                        "b",
                                        3));
  CHECK(b.error() == BuildError::SohInValue);
  CHECK(b.finish().empty());

  b.start("D").add(0, "x");
  CHECK(b.error() == BuildError::InvalidTag);

  b.start("");
  CHECK(b.error() == BuildError::EmptyValue);
  CHECK(b.error_tag() == 35);

  b.start("D").add(11, "ok");
  CHECK(b.finish() == frame("35=D|11=ok|"));
  CHECK(hft::fix::to_string(BuildError::SohInValue) == "value contains SOH");
}

TEST_CASE("builder: integers at their limits") {
  std::vector<char> buf(256);
  MessageBuilder b(buf);
  b.start("D")
      .add(1, std::numeric_limits<std::int64_t>::min())
      .add(2, std::numeric_limits<std::uint64_t>::max())
      .add(3, 0)
      .add(4, std::uint16_t{65535});
  CHECK(b.finish() == frame("35=D|1=-9223372036854775808|2=18446744073709551615|3=0|4=65535|"));
}

TEST_CASE("builder: UTCTimestamp matches gmtime for any instant") {
  char out[21];
  MessageBuilder::format_timestamp(0, out);
  CHECK(std::string_view(out, 21) == "19700101-00:00:00.000");
  MessageBuilder::format_timestamp(951782400'123'456'789ull, out);  // 2000-02-29, a leap day
  CHECK(std::string_view(out, 21) == "20000229-00:00:00.123");
  MessageBuilder::format_timestamp(4107542399'999'000'000ull, out);  // 2100-02-28 23:59:59.999
  CHECK(std::string_view(out, 21) == "21000228-23:59:59.999");
  std::mt19937_64 rng(1);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t ns = rng() % (253402300799ull * 1'000'000'000ull);  // up to 9999-12-31
    MessageBuilder::format_timestamp(ns, out);
    const auto secs = static_cast<std::time_t>(ns / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    // g++ sizes each %02d for any int; room for that worst case keeps -Wformat-truncation quiet.
    char want[80];
    (void)std::snprintf(want, sizeof want, "%04d%02d%02d-%02d:%02d:%02d.%03u", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ns / 1'000'000 % 1000));
    REQUIRE(std::string_view(out, 21) == want);
  }
}

TEST_CASE("builder: add_timestamp's per-second cache writes what format_timestamp does") {
  std::vector<char> buf(256);
  MessageBuilder b(buf);
  std::mt19937_64 rng(7);
  std::uint64_t ns = 1'733'529'599'000'000'000ull;  // 2024-12-06 23:59:59: crosses a day
  for (int i = 0; i < 20000; ++i) {
    // Mostly small steps (the same second, the next one), sometimes back or far away.
    const std::uint64_t r = rng() % 100;
    if (r < 80) ns += rng() % 3'000'000;
    else if (r < 90) ns += rng() % 2'000'000'000;
    else if (r < 95) ns -= rng() % 1'500'000'000;
    else ns = rng() % (253402300799ull * 1'000'000'000ull);
    char want[21];
    MessageBuilder::format_timestamp(ns, want);
    b.start("0").add_timestamp(52, ns);
    REQUIRE(b.finish() == frame("35=0|52=" + std::string(want, 21) + "|"));
  }
}

TEST_CASE("builder: add_raw appends pre-formatted fields verbatim") {
  std::vector<char> buf(256);
  MessageBuilder b(buf);
  b.start("8").add(37, "O-1").add_raw("17=O-1.1\x01" "150=F\x01").add_char(39, '2');
  CHECK(b.finish() == frame("35=8|37=O-1|17=O-1.1|150=F|39=2|"));
  b.start("8").add_raw("");
  CHECK(b.error() == BuildError::EmptyValue);
  CHECK(b.finish().empty());
  b.start("8").add_raw("17=x");  // not ending in SOH
  CHECK(b.error() == BuildError::SohInValue);
  b.add(1, "y");  // the error sticks
  CHECK(b.finish().empty());
  for (std::size_t size = 8; size < 64; ++size) {
    std::vector<char> small(size);
    MessageBuilder s(small);
    s.start("0").add_raw("1=abc\x01");
    const std::string_view wire = s.finish();
    if (!wire.empty()) CHECK(wire == frame("35=0|1=abc|"));
    else CHECK(s.error() == BuildError::BufferFull);
  }
}

TEST_CASE("builder: random messages round-trip through the parser") {
  std::mt19937_64 rng(3);
  std::vector<char> buf(4096);
  MessageBuilder b(buf, "FIXT.1.1");
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::pair<std::uint32_t, std::string>> fields;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int f = 0; f < n; ++f) {
      std::string v(1 + rng() % 20, 'x');
      for (char& c : v) c = static_cast<char>(2 + rng() % 254);  // any byte but SOH and NUL
      fields.emplace_back(1000 + static_cast<std::uint32_t>(rng() % 100000), v);
    }
    b.start("D");
    for (const auto& [t, v] : fields) b.add(t, v);
    const std::string_view out = b.finish();
    REQUIRE(b.error() == BuildError::None);
    Message m;
    REQUIRE(hft::fix::parse(out, m).ok());
    CHECK(m.begin_string() == "FIXT.1.1");
    REQUIRE(m.fields().size() == fields.size() + 4);
    for (std::size_t k = 0; k < fields.size(); ++k) {
      REQUIRE(m.fields()[k + 3].tag == fields[k].first);
      REQUIRE(m.value(m.fields()[k + 3]) == fields[k].second);
    }
  }
}
