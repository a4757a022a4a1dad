// LogPattern: every field, the brace escapes, the errors, the UTC timestamp against gmtime_r
// (random and chosen times, before 1970 too), the per-second cache, and no allocation per line.
#include "hft/log/log_pattern.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "../support/counting_new.hpp"

using hft::LogLevel;
using hft::LogPattern;
using hft::LogRecordView;

namespace {

LogRecordView sample() {
  LogRecordView r;
  r.time_ns = 1'796'642'514'123'456'789;  // 2026-12-07T11:21:54.123456789Z
  r.level = LogLevel::Warn;
  r.logger = "oms";
  r.thread = "gateway";
  r.tid = 4242;
  r.file = "src/oms/gateway.cpp";
  r.line = 77;
  r.message = "order 17 rejected";
  r.text = "ignored";
  return r;
}

std::string fmt(const LogPattern& p, const LogRecordView& r) {
  std::string out;
  p.format(r, out);
  return out;
}

// The oracle: gmtime_r on the floored second, the nanoseconds counted forward from it.
std::string oracle(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  REQUIRE(gmtime_r(&tt, &tm) != nullptr);
  std::array<char, 64> buf{};
  const int n =
      std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  REQUIRE(n == 30);
  return {buf.data(), static_cast<std::size_t>(n)};
}

std::string direct(std::int64_t ns) {
  std::string s(LogPattern::kTimeChars, '?');
  LogPattern::format_time(ns, s.data());
  return s;
}

constexpr std::int64_t kSec = 1'000'000'000;

}  // namespace

TEST_CASE("the default pattern lays out every field of the record") {
  const LogPattern p;
  CHECK(p.pattern() == hft::kDefaultLogPattern);
  CHECK(fmt(p, sample()) ==
        "2026-12-07T11:21:54.123456789Z WARN [gateway] src/oms/gateway.cpp:77 oms: order 17 rejected\n");
}

TEST_CASE("each field alone") {
  const LogRecordView r = sample();
  CHECK(fmt(LogPattern("{time}"), r) == "2026-12-07T11:21:54.123456789Z\n");
  CHECK(fmt(LogPattern("{level}"), r) == "WARN\n");
  CHECK(fmt(LogPattern("{logger}"), r) == "oms\n");
  CHECK(fmt(LogPattern("{thread}"), r) == "gateway\n");
  CHECK(fmt(LogPattern("{tid}"), r) == "4242\n");
  CHECK(fmt(LogPattern("{file}"), r) == "src/oms/gateway.cpp\n");
  CHECK(fmt(LogPattern("{basename}"), r) == "gateway.cpp\n");
  CHECK(fmt(LogPattern("{line}"), r) == "77\n");
  CHECK(fmt(LogPattern("{message}"), r) == "order 17 rejected\n");
}

TEST_CASE("level names are printed as log_level_name spells them, unpadded") {
  const LogPattern p("<{level}>");
  LogRecordView r = sample();
  const std::vector<std::pair<LogLevel, std::string>> all{
      {LogLevel::Trace, "<TRACE>\n"}, {LogLevel::Debug, "<DEBUG>\n"}, {LogLevel::Info, "<INFO>\n"},
      {LogLevel::Warn, "<WARN>\n"},   {LogLevel::Error, "<ERROR>\n"}, {LogLevel::Critical, "<CRITICAL>\n"},
      {LogLevel::Off, "<OFF>\n"}};
  for (const auto& [level, want] : all) {
    r.level = level;
    CHECK(fmt(p, r) == want);
  }
}

TEST_CASE("numbers at their extremes and basename edge cases") {
  LogRecordView r = sample();
  r.tid = 0;
  r.line = std::numeric_limits<std::uint32_t>::max();
  CHECK(fmt(LogPattern("{tid}:{line}"), r) == "0:4294967295\n");
  r.file = "main.cpp";
  CHECK(fmt(LogPattern("{basename}|{file}"), r) == "main.cpp|main.cpp\n");
  r.file = "/abs/dir/";
  CHECK(fmt(LogPattern("[{basename}]"), r) == "[]\n");
  r.file = "";
  CHECK(fmt(LogPattern("[{basename}][{file}]"), r) == "[][]\n");
}

TEST_CASE("brace escapes and literal text") {
  const LogRecordView r = sample();
  CHECK(fmt(LogPattern("{{}}"), r) == "{}\n");
  CHECK(fmt(LogPattern("{{{level}}}"), r) == "{WARN}\n");
  CHECK(fmt(LogPattern("a{{b}}c {line}{{"), r) == "a{b}c 77{\n");
  CHECK(fmt(LogPattern("plain text"), r) == "plain text\n");
  CHECK(fmt(LogPattern(""), r) == "\n");
  CHECK(fmt(LogPattern("{message}{message}"), r) == "order 17 rejectedorder 17 rejected\n");
}

TEST_CASE("format appends to what out already holds and ignores r.text") {
  const LogPattern p("{message}");
  std::string out = "prefix|";
  p.format(sample(), out);
  p.format(sample(), out);
  CHECK(out == "prefix|order 17 rejected\norder 17 rejected\n");
}

TEST_CASE("pattern errors name the problem and the offset") {
  auto what = [](const char* pattern) -> std::string {
    try {
      const LogPattern p(pattern);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
  };
  CHECK(what("ab {foo} c") ==
        "hft::LogPattern: unknown field '{foo}' at offset 3 in \"ab {foo} c\" "
        "(known: time level logger thread tid file basename line message)");
  CHECK(what("{}").rfind("hft::LogPattern: unknown field '{}' at offset 0", 0) == 0);
  CHECK(what("{Time}").rfind("hft::LogPattern: unknown field '{Time}' at offset 0", 0) == 0);
  CHECK(what("{time} {lvl}").rfind("hft::LogPattern: unknown field '{lvl}' at offset 7", 0) == 0);
  CHECK(what("x {time") ==
        "hft::LogPattern: unterminated '{' at offset 2 in \"x {time\" (write '{{' for a literal brace)");
  CHECK(what("{{{").rfind("hft::LogPattern: unterminated '{' at offset 2", 0) == 0);
  CHECK(what("ab }x") == "hft::LogPattern: unmatched '}' at offset 3 in \"ab }x\" (write '}}' for a literal brace)");
  CHECK(what("{level}}").rfind("hft::LogPattern: unmatched '}' at offset 7", 0) == 0);
}

TEST_CASE("time: chosen instants against gmtime_r") {
  const std::vector<std::int64_t> secs{
      0,   // 1970-01-01T00:00:00
      -1,  // 1969-12-31T23:59:59
      2'147'483'647,
      2'147'483'648,  // 2038-01-19T03:14:07 and :08
      951'782'400,    // 2000-02-29 (divisible by 400: leap)
      951'868'800,    // 2000-03-01
      4'107'542'399,
      4'107'542'400,   // 2100-02-28T23:59:59, 2100-03-01 (2100 is not leap)
      1'709'164'800,   // 2024-02-29
      -2'203'891'200,  // 1900-03-01 (1900 is not leap)
      -2'208'988'800,  // 1900-01-01
      -9'223'372'036,  // 1677-09-21
      9'223'372'035,   // 2262-04-11
  };
  for (const std::int64_t s : secs) {
    for (const std::int64_t frac : {std::int64_t{0}, std::int64_t{1}, std::int64_t{999'999'999}}) {
      const std::int64_t ns = s * kSec + frac;
      INFO("ns = " << ns);
      CHECK(direct(ns) == oracle(ns));
    }
  }
  CHECK(direct(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(direct(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(direct(2'147'483'648 * kSec) == "2038-01-19T03:14:08.000000000Z");
  CHECK(direct(4'107'542'399 * kSec) == "2100-02-28T23:59:59.000000000Z");
  CHECK(direct(4'107'542'400 * kSec) == "2100-03-01T00:00:00.000000000Z");
  CHECK(direct(std::numeric_limits<std::int64_t>::min()) == oracle(std::numeric_limits<std::int64_t>::min()));
  CHECK(direct(std::numeric_limits<std::int64_t>::max()) == "2262-04-11T23:47:16.854775807Z");
  CHECK(direct(std::numeric_limits<std::int64_t>::min()) == "1677-09-21T00:12:43.145224192Z");
}

TEST_CASE("time: random instants over the whole int64 range against gmtime_r") {
  const std::uint64_t seed = std::random_device{}();
  WARN("seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> any(std::numeric_limits<std::int64_t>::min(),
                                                  std::numeric_limits<std::int64_t>::max());
  // Near the epoch and the leap-day boundaries as well as anywhere.
  std::uniform_int_distribution<std::int64_t> near(-5'000'000'000 * kSec, 5'000'000'000 * kSec);
  for (int i = 0; i < 200'000; ++i) {
    const std::int64_t ns = (i % 2 == 0) ? any(rng) : near(rng);
    const std::string got = direct(ns);
    if (got != oracle(ns)) {
      INFO("ns = " << ns << ", seed " << seed);
      CHECK(got == oracle(ns));
    }
  }
}

TEST_CASE("time: the per-second cache follows jumps in both directions") {
  const LogPattern p("{time}");
  const std::uint64_t seed = std::random_device{}();
  WARN("seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> sec(-3'000'000'000, 6'000'000'000);
  std::uniform_int_distribution<std::int64_t> frac(0, kSec - 1);
  std::int64_t s = 1'700'000'000;
  for (int i = 0; i < 20'000; ++i) {
    switch (i % 4) {
      case 0:
        s = sec(rng);
        break;  // anywhere
      case 1:
        break;  // the same second again
      case 2:
        s += 1;
        break;  // the next second
      case 3:
        s -= 1;
        break;  // back
    }
    LogRecordView r;
    r.time_ns = s * kSec + frac(rng);
    const std::string got = fmt(p, r);
    if (got != oracle(r.time_ns) + "\n") {
      INFO("ns = " << r.time_ns << ", seed " << seed);
      CHECK(got == oracle(r.time_ns) + "\n");
    }
  }
}

TEST_CASE("utc_from_seconds matches gmtime_r field by field, day by day over 1600..2400") {
  // Every day from 1600-01-01 to 2400-12-31 at a varying time of day.
  for (std::int64_t day = -135'140; day <= 157'000; ++day) {
    const std::int64_t s = day * 86'400 + (day * 7919) % 86'400;
    const hft::detail::UtcTime t = hft::detail::utc_from_seconds(s);
    const auto tt = static_cast<std::time_t>(s);
    std::tm tm{};
    REQUIRE(gmtime_r(&tt, &tm) != nullptr);
    const bool same = t.year == tm.tm_year + 1900 && static_cast<int>(t.month) == tm.tm_mon + 1 &&
                      static_cast<int>(t.day) == tm.tm_mday && static_cast<int>(t.hour) == tm.tm_hour &&
                      static_cast<int>(t.minute) == tm.tm_min && static_cast<int>(t.second) == tm.tm_sec;
    if (!same) {
      INFO("s = " << s);
      CHECK(same);
    }
  }
}

TEST_CASE("format does not allocate once out has the capacity") {
  const LogPattern p;
  LogRecordView r = sample();
  std::string out;
  out.reserve(512);
  p.format(r, out);
  const long before = hft::test::g_news.load();
  const char* data = out.data();
  for (int i = 0; i < 1000; ++i) {
    out.clear();
    r.time_ns += 123'456'789;  // new seconds now and then: the cache refills without allocating
    p.format(r, out);
  }
  const long after = hft::test::g_news.load();
  HFT_CHECK_NO_NEW(before, after);
  // cppcheck-suppress invalidContainer ; comparing the address is the point: no reallocation
  CHECK(out.data() == data);
}

TEST_CASE("copies of a pattern format alike") {
  const LogPattern a("{level} {{x}} {message}");
  const LogPattern b = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  CHECK(b.pattern() == a.pattern());
  CHECK(fmt(b, sample()) == fmt(a, sample()));
  CHECK(fmt(b, sample()) == "WARN {x} order 17 rejected\n");
}
