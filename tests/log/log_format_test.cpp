// hft::detail::format_to and BasicLogFormatString: every rule of the header, with the expected text written
// out by hand (the random differential test against std::format is log_format_oracle.cpp).
#include "hft/log/log_format.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../support/catch.hpp"

namespace {

using hft::LogArgKind;
using hft::detail::FmtArg;
using hft::detail::FmtError;

FmtArg arg(bool v) {
  FmtArg a{};
  a.kind = LogArgKind::Bool;
  a.b = v;
  return a;
}
FmtArg arg(char v) {
  FmtArg a{};
  a.kind = LogArgKind::Char;
  a.c = v;
  return a;
}
FmtArg arg(long long v) {
  FmtArg a{};
  a.kind = LogArgKind::Int;
  a.i = v;
  return a;
}
FmtArg arg(int v) { return arg(static_cast<long long>(v)); }
FmtArg arg(unsigned long long v) {
  FmtArg a{};
  a.kind = LogArgKind::UInt;
  a.u = v;
  return a;
}
FmtArg arg(unsigned v) { return arg(static_cast<unsigned long long>(v)); }
FmtArg arg(float v) {
  FmtArg a{};
  a.kind = LogArgKind::Float;
  a.f = v;
  return a;
}
FmtArg arg(double v) {
  FmtArg a{};
  a.kind = LogArgKind::Double;
  a.d = v;
  return a;
}
FmtArg arg(long double v) {
  FmtArg a{};
  a.kind = LogArgKind::LongDouble;
  a.ld = v;
  return a;
}
FmtArg arg(std::string_view v) {
  FmtArg a{};
  a.kind = LogArgKind::String;
  a.s = {v.data(), v.size()};
  return a;
}
FmtArg arg(const char* v) { return arg(std::string_view(v)); }
FmtArg arg(const void* v) {
  FmtArg a{};
  a.kind = LogArgKind::Pointer;
  a.p = v;
  return a;
}
FmtArg arg(std::nullptr_t) { return arg(static_cast<const void*>(nullptr)); }

struct Formatted {
  bool ok;
  std::string text;
};

template <class... A>
Formatted run(std::string_view f, A... a) {
  const std::array<FmtArg, sizeof...(A)> args{arg(a)...};
  Formatted r{false, "<"};  // appends: what was in `out` stays
  r.ok = hft::detail::format_to(r.text, f, args);
  REQUIRE(r.text.substr(0, 1) == "<");
  r.text.erase(0, 1);
  return r;
}

// The text of a valid format; fails the test if format_to reports a mismatch.
template <class... A>
std::string fmt(std::string_view f, A... a) {
  const Formatted r = run(f, a...);
  CHECK(r.ok);
  return r.text;
}

template <class... K>
constexpr FmtError check(std::string_view f, K... k) {
  const std::array<LogArgKind, sizeof...(K)> kinds{k...};
  return hft::detail::validate(f, kinds);
}

constexpr LogArgKind I = LogArgKind::Int;
constexpr LogArgKind U = LogArgKind::UInt;
constexpr LogArgKind B = LogArgKind::Bool;
constexpr LogArgKind C = LogArgKind::Char;
constexpr LogArgKind D = LogArgKind::Double;
constexpr LogArgKind S = LogArgKind::String;
constexpr LogArgKind P = LogArgKind::Pointer;
constexpr LogArgKind X = LogArgKind::Custom;

}  // namespace

TEST_CASE("log_format: replacement fields and escaped braces", "[log_format]") {
  CHECK(fmt("plain text") == "plain text");
  CHECK(fmt("") == "");
  CHECK(fmt("{{}} {{{{") == "{} {{");
  CHECK(fmt("a{}b{}c", 1, 2) == "a1b2c");
  CHECK(fmt("{1} {0} {1}", 1, 2) == "2 1 2");
  CHECK(fmt("{{{}}}", 5) == "{5}");
  CHECK(fmt("{:}", 5) == "5");
  CHECK(fmt("{0:x}", 255) == "ff");
}

TEST_CASE("log_format: integers", "[log_format]") {
  CHECK(fmt("{}", 42) == "42");
  CHECK(fmt("{}", -42) == "-42");
  CHECK(fmt("{}", std::numeric_limits<long long>::min()) == "-9223372036854775808");
  CHECK(fmt("{}", std::numeric_limits<long long>::max()) == "9223372036854775807");
  CHECK(fmt("{}", std::numeric_limits<unsigned long long>::max()) == "18446744073709551615");
  CHECK(fmt("{:d} {:b} {:B} {:o} {:x} {:X}", 42, 42, 42, 42, 42, 42) == "42 101010 101010 52 2a 2A");
  CHECK(fmt("{:#b} {:#B} {:#o} {:#x} {:#X} {:#d}", 42, 42, 42, 42, 42, 42) == "0b101010 0B101010 052 0x2a 0X2A 42");
  CHECK(fmt("{:#o} {:#x}", 0, 0) == "0 0x0");  // octal's prefix 0 only for a nonzero value
  CHECK(fmt("{:x} {:#x}", -42, -42) == "-2a -0x2a");
  CHECK(fmt("{:+} {:-} {: } {:+}", 5, 5, 5, -5) == "+5 5  5 -5");
  CHECK(fmt("{:+}", 5U) == "+5");
  // width: numbers right-aligned; '0' pads after the sign and prefix; an align makes '0' ignored
  CHECK(fmt("{:6}", 42) == "    42");
  CHECK(fmt("{:<6}|{:^6}|{:>6}", 42, 42, 42) == "42    |  42  |    42");
  CHECK(fmt("{:*^7}", 42) == "**42***");
  CHECK(fmt("{:06}", -42) == "-00042");
  CHECK(fmt("{:+#010x}", 42) == "+0x000002a");
  CHECK(fmt("{:<06}", 42) == "42    ");
  CHECK(fmt("{:2}", 12345) == "12345");
  CHECK(fmt("{:#X}", std::numeric_limits<unsigned long long>::max()) == "0XFFFFFFFFFFFFFFFF");
  CHECK(fmt("{:b}", std::numeric_limits<long long>::min()) ==
        "-1000000000000000000000000000000000000000000000000000000000000000");
  // 'c': the char of that value, left-aligned like a char
  CHECK(fmt("{:c}", 65) == "A");
  CHECK(fmt("{:3c}|{:>3c}", 65, 66U) == "A  |  B");
  CHECK(fmt("{:<03c}", 65) == "A  ");  // '0' with an align is ignored (and allowed)
}

TEST_CASE("log_format: char and bool", "[log_format]") {
  CHECK(fmt("{}", 'x') == "x");
  CHECK(fmt("{:3}|{:>3}|{:^3}|{:c}", 'x', 'x', 'x', 'x') == "x  |  x| x |x");
  CHECK(fmt("{:d} {:x} {:#X} {:b} {:o} {:+d}", 'a', 'a', 'a', 'a', 'a', 'a') == "97 61 0X61 1100001 141 +97");
  CHECK(fmt("{:4d}|{:04d}", 'a', 'a') == "  97|0097");  // an integer presentation is right-aligned
  CHECK(fmt("{:d}", static_cast<char>(-1)) == "-1");    // char's (signed) int value, as libc++ 16
  CHECK(fmt("{} {}", true, false) == "true false");
  CHECK(fmt("{:s} {:6}|{:>6}|{:^7}", true, true, true, false) == "true true  |  true| false ");
  CHECK(fmt("{:d} {:d} {:#x} {:b} {:+d} {:03d}", true, false, true, true, true, true) == "1 0 0x1 1 +1 001");
}

TEST_CASE("log_format: floating point, default and precision", "[log_format]") {
  // default: the shortest round trip (std::to_chars)
  CHECK(fmt("{}", 1.5) == "1.5");
  CHECK(fmt("{}", 0.1) == "0.1");
  CHECK(fmt("{}", 1e20) == "1e+20");
  CHECK(fmt("{}", 1e-7) == "1e-07");
  CHECK(fmt("{}", 123456789.0) == "123456789");
  CHECK(fmt("{}", 0.1F) == "0.1");  // float's own shortest
  CHECK(fmt("{}", 0.1L) == "0.1");  // long double's own shortest
  CHECK(fmt("{}", std::numeric_limits<double>::denorm_min()) == "5e-324");
  CHECK(fmt("{}", 1e300) == "1e+300");
  CHECK(fmt("{} {}", 0.0, -0.0) == "0 -0");
  // a precision without a type: general with that precision
  CHECK(fmt("{:.3}", 3.14159) == "3.14");
  CHECK(fmt("{:.3}", 1234.5) == "1.23e+03");
  CHECK(fmt("{:.0}", 2.5) == "2");
  // e E f F g G a A
  CHECK(fmt("{:e} {:.2E}", 1.5, 1.5) == "1.500000e+00 1.50E+00");
  CHECK(fmt("{:f} {:.0f} {:.2F} {:.1f}", 1.5, 2.5, 1.005, -0.05) == "1.500000 2 1.00 -0.1");
  CHECK(fmt("{:f}", 1e300).size() == 301 + 7);
  CHECK(fmt("{:g} {:g} {:g} {:G} {:.3g}", 1e-5, 100000.0, 1e6, 1e-10, 0.0001234) ==
        "1e-05 100000 1e+06 1E-10 0.000123");
  CHECK(fmt("{:a} {:.2a} {:A} {:a}", 1.0, 1.0, 255.5, 0.0) == "1p+0 1.00p+0 1.FFP+7 0p+0");
  CHECK(fmt("{:.20e}", 0.1L) == "1.00000000000000000001e-01");  // converted at long double's precision
  CHECK(fmt("{:.20e}", 0.1) == "1.00000000000000005551e-01");
  CHECK(fmt("{:.3f}", 2.0F / 3.0F) == "0.667");
  CHECK(fmt("{:.60f}", 1.0).size() == 62);
}

TEST_CASE("log_format: floating point, '#', sign, '0', inf and nan", "[log_format]") {
  // '#': always a decimal point; g/G keep their trailing zeros (printf's %#g)
  CHECK(fmt("{:#} {:#} {:#.0f} {:#.0e}", 1.0, 1e20, 2.0, 3.0) == "1. 1.e+20 2. 3.e+00");
  CHECK(fmt("{:#g} {:#g} {:#.3g} {:#G}", 1.0, 1e6, 2.0, 1e-5) == "1.00000 1.00000e+06 2.00 1.00000E-05");
  CHECK(fmt("{:#g} {:#g} {:#.0g}", 0.000123, 0.0, 5.0) == "0.000123000 0.00000 5.");
  CHECK(fmt("{:#.3}", 1.0) == "1.");  // no type: general, but not a g conversion: no trailing zeros
  CHECK(fmt("{:#a}", 1.0) == "1.p+0");
  // sign
  CHECK(fmt("{:+} {: } {:-} {:+}", 1.5, 1.5, 1.5, -1.5) == "+1.5  1.5 1.5 -1.5");
  CHECK(fmt("{:+}", 0.0) == "+0");
  // '0' pads after the sign; an align makes it ignored
  CHECK(fmt("{:06} {:+06} {:06.2f} {:<06}", -1.5, 1.5, 3.14159, 1.5) == "-001.5 +001.5 003.14 1.5   ");
  CHECK(fmt("{:010.1e}", -1.5) == "-001.5e+00");
  CHECK(fmt("{:*^9.2f}", 1.5) == "**1.50***");
  // inf and nan: lower case, upper case for A E F G, the sign as for numbers, '0' does not pad them
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(fmt("{} {} {} {}", inf, -inf, nan, -nan) == "inf -inf nan -nan");
  CHECK(fmt("{:+} {: } {:F} {:E} {:G} {:A} {:e}", inf, nan, inf, nan, -inf, nan, inf) ==
        "+inf  nan INF NAN -INF NAN inf");
  CHECK(fmt("{:06} {:<6}| {:06}", inf, nan, -inf) == "   inf nan   |   -inf");
  CHECK(fmt("{:.3f} {}", std::numeric_limits<float>::infinity(), -std::numeric_limits<long double>::infinity()) ==
        "inf -inf");
}

TEST_CASE("log_format: strings count code points", "[log_format]") {
  CHECK(fmt("{}", "abc") == "abc");
  CHECK(fmt("{:s}", std::string_view()) == "");
  CHECK(fmt("{:5}|{:>5}|{:^5}|{:*<4}", "ab", "ab", "ab", "ab") == "ab   |   ab| ab  |ab**");
  CHECK(fmt("{:.1} {:.0}| {:*<4.2} {:.9}", "abc", "abc", "abc", "abc") == "a | ab** abc");
  CHECK(fmt("{:1}", "abc") == "abc");
  // UTF-8: width and precision count code points (std::format would count East-Asian wide ones as 2)
  CHECK(fmt("{:5}|", "h\xc3\xa9\xc3\xa9") == "h\xc3\xa9\xc3\xa9  |");
  CHECK(fmt("{:.2}", "h\xc3\xa9llo") == "h\xc3\xa9");
  CHECK(fmt("{:>3}", "\xe6\x97\xa5") == "  \xe6\x97\xa5");
  // a UTF-8 fill character
  CHECK(fmt("{:\xc3\xa9^6}", "ab") ==
        "\xc3\xa9\xc3\xa9"
        "ab"
        "\xc3\xa9\xc3\xa9");
  CHECK(fmt("{:\xe2\x80\xa2>4}", 7) ==
        "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
        "7");
  CHECK(fmt("{:\xe2\x80\xa2^6.1f}", 1.25) ==
        "\xe2\x80\xa2"
        "1.2"
        "\xe2\x80\xa2\xe2\x80\xa2");
}

TEST_CASE("log_format: pointers", "[log_format]") {
  CHECK(fmt("{}", nullptr) == "0x0");
  const void* p = reinterpret_cast<const void*>(std::uintptr_t{0x12ab});  // NOLINT(performance-no-int-to-ptr)
  CHECK(fmt("{} {:p}", p, p) == "0x12ab 0x12ab");
  CHECK(fmt("{:8}|{:<8}|{:^8}", p, p, p) == "  0x12ab|0x12ab  | 0x12ab ");
}

TEST_CASE("log_format: nested width and precision", "[log_format]") {
  CHECK(fmt("{:{}}", 42, 5) == "   42");
  CHECK(fmt("{:{}.{}f}", 3.14159, 8, 2) == "    3.14");
  CHECK(fmt("{0:{1}.{2}f}|{1}", 3.14159, 8, 2) == "    3.14|8");
  CHECK(fmt("{:{}}", "ab", 4U) == "ab  ");
  CHECK(fmt("{:.{}}", "abcdef", 0) == "");
  CHECK(fmt("{:{}}", 7, 0) == "7");
}

TEST_CASE("log_format: a custom argument gets its raw spec", "[log_format]") {
  struct Point {
    int x;
    int y;
  };
  const Point pt{1, 2};
  FmtArg a{};
  a.kind = LogArgKind::Custom;
  a.custom.obj = &pt;
  a.custom.fn = [](const void* obj, std::string_view spec, std::string& out) {
    const auto* q = static_cast<const Point*>(obj);
    // Appended piece by piece: g++ 12 -O3 warns (stringop-overflow, a false positive) on
    // "literal" + std::to_string(...).
    out += '(';
    out += std::to_string(q->x);
    out += ',';
    out += std::to_string(q->y);
    out += ")[";
    out += spec;
    out += "]";
  };
  const std::array<FmtArg, 2> args{a, arg(3)};
  std::string out;
  CHECK(hft::detail::format_to(out, "{0} {0:>10.3q{x} {1}", args));
  CHECK(out == "(1,2)[] (1,2)[>10.3q{x] 3");
  CHECK(check("{:anything at all}", X) == FmtError::None);
  CHECK(check("{:abc", X) == FmtError::UnmatchedBrace);
}

TEST_CASE("log_format: run-time mismatches append {?} and return false", "[log_format]") {
  const auto bad = [](const Formatted& r, std::string_view want) {
    CHECK_FALSE(r.ok);
    CHECK(r.text == want);
  };
  bad(run("a{1}b{0}c", 5), "a{?}b5c");                        // index out of range, the rest goes on
  bad(run("a{}b{}c", 5), "a5b{?}c");                          // too few arguments
  bad(run("{} {0}", 5, 6), "5 {?}");                          // mixed indexing
  bad(run("x{:q}y", 5), "x{?}y");                             // unknown type
  bad(run("{:.2}|{:.2d}", 5, 5), "{?}|{?}");                  // precision for an integer
  bad(run("{:s} {:f}", 5, "s"), "{?} {?}");                   // type not valid for the kind
  bad(run("{:+}|{:#}|{:0}", "s", true, 'c'), "{?}|{?}|{?}");  // flags not valid for the kind
  bad(run("{:+c}", 65), "{?}");                               // sign with 'c'
  bad(run("{:L}", 5), "{?}");                                 // no locale
  bad(run("{:{}}", 5, -1), "{?}");                            // negative nested width
  bad(run("{:{}}", 5, 65537), "{?}");                         // above kMaxFmtWidth
  bad(run("{:{}}", 5, 1.5), "{?}");                           // nested argument not an integer
  bad(run("{:{}}", 5, true), "{?}");                          // bool is not an integer here (LWG 3720)
  bad(run("{:.{}f}", 1.5, std::numeric_limits<long long>::min()), "{?}");
  bad(run("{:c}|{:c}|{:c}", 1000, -129, 200U), "{?}|{?}|{?}");  // outside char's range
  bad(run("{:99999}", 5), "{?}");                               // literal width above kMaxFmtWidth
  bad(run("abc{", 5), "abc{?}");                                // unterminated
  bad(run("a}b", 5), "a{?}b");                                  // single '}'
  bad(run("{:{x}}z", 5), "{?}z");                               // bad nested id, skipped to its '}'
  bad(run("{:}<3}", "a"), "{?}<3{?}");  // '}' as fill: the field ends at that '}', the second is single
  bad(run("{:{<3}", "a"), "{?}");       // '{' as fill
  bad(run("{:00}", 5), "{?}");          // a width with a leading zero
  bad(run("{01}", 5, 6), "{?}");        // an id with a leading zero
  bad(run("{ }", 5), "{?}");
  bad(run("{:.}", 1.5), "{?}");
  bad(run("{:", 1.5), "{?}");
  FmtArg corrupt = arg(5);
  corrupt.kind = static_cast<LogArgKind>(200);
  FmtArg no_data{};
  no_data.kind = LogArgKind::String;
  no_data.s = {nullptr, 4};
  FmtArg no_fn{};
  no_fn.kind = LogArgKind::Custom;
  no_fn.custom = {nullptr, nullptr};
  const std::array<FmtArg, 3> args{corrupt, no_data, no_fn};
  std::string out;
  CHECK_FALSE(hft::detail::format_to(out, "{}|{:x}|{}|{:5}|{}|{:q}", args));
  CHECK(out == "{?}|{?}|{?}|{?}|{?}|{?}");
}

TEST_CASE("log_format: random format strings never crash or overrun", "[log_format]") {
  std::mt19937_64 rng(20260107);
  const std::string_view alphabet = "{}{}{}:.<>^+-# 0123456789abcdefgopsxXLc\xc3\xa9";
  const std::array<FmtArg, 6> args{arg(7), arg(3U), arg(2.5), arg("str"), arg(true), arg(nullptr)};
  std::string out;
  int failures = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string f;
    const auto n = rng() % 24;
    for (std::size_t i = 0; i < n; ++i) f += alphabet[rng() % alphabet.size()];
    out.clear();
    const std::size_t used = rng() % (args.size() + 1);
    const bool ok = hft::detail::format_to(out, f, std::span<const FmtArg>(args.data(), used));
    // Whenever the string is valid for the kinds, formatting succeeds (in-range argument values).
    std::array<LogArgKind, 6> kinds{};
    for (std::size_t i = 0; i < used; ++i) kinds[i] = args[i].kind;
    const FmtError e = hft::detail::validate(f, std::span<const LogArgKind>(kinds.data(), used));
    if (e == FmtError::None && !ok) ++failures;
    if (e != FmtError::None && ok) ++failures;
    if (!ok) CHECK(out.find("{?}") != std::string::npos);
  }
  CHECK(failures == 0);
}

TEST_CASE("log_format: validate() gives the reason (the compile-time check's)", "[log_format]") {
  // these are the strings BasicLogFormatString refuses to compile, with the reason its diagnostic names
  CHECK(check("{} {}", I, D) == FmtError::None);
  CHECK(check("{", I) == FmtError::UnmatchedBrace);
  CHECK(check("}", I) == FmtError::UnmatchedBrace);
  CHECK(check("{0", I) == FmtError::UnmatchedBrace);
  CHECK(check("{a}", I) == FmtError::BadArgId);
  CHECK(check("{01}", I, I) == FmtError::BadArgId);
  CHECK(check("{} {0}", I) == FmtError::MixedIndexing);
  CHECK(check("{0:{}}", I, I) == FmtError::MixedIndexing);
  CHECK(check("{1}", I) == FmtError::IndexOutOfRange);
  CHECK(check("{} {}", I) == FmtError::IndexOutOfRange);
  CHECK(check("{:{}}", I) == FmtError::IndexOutOfRange);
  CHECK(check("{:{<5}", I) == FmtError::BadFill);
  CHECK(check("{:!}", I) == FmtError::BadSpec);
  CHECK(check("{:00}", I) == FmtError::BadSpec);
  CHECK(check("{:.}", D) == FmtError::BadSpec);
  CHECK(check("{:5+}", I) == FmtError::BadSpec);
  CHECK(check("{:?}", C) == FmtError::BadSpec);  // no C++23 debug type
  CHECK(check("{:65536}", I) == FmtError::None);
  CHECK(check("{:65537}", I) == FmtError::NumberTooLarge);
  CHECK(check("{:.99999999999}", D) == FmtError::NumberTooLarge);
  CHECK(check("{:L}", I) == FmtError::LocaleNotSupported);
  CHECK(check("{:Lf}", D) == FmtError::LocaleNotSupported);
  CHECK(check("{:f}", I) == FmtError::TypeNotAllowed);
  CHECK(check("{:s}", I) == FmtError::TypeNotAllowed);
  CHECK(check("{:c}", B) == FmtError::TypeNotAllowed);  // as libc++ 16
  CHECK(check("{:s}", C) == FmtError::TypeNotAllowed);
  CHECK(check("{:d}", D) == FmtError::TypeNotAllowed);
  CHECK(check("{:x}", S) == FmtError::TypeNotAllowed);
  CHECK(check("{:x}", P) == FmtError::TypeNotAllowed);
  CHECK(check("{:+c}", I) == FmtError::FlagNotAllowed);
  CHECK(check("{:#c}", U) == FmtError::FlagNotAllowed);
  CHECK(check("{:05c}", I) == FmtError::FlagNotAllowed);
  CHECK(check("{:<05c}", I) == FmtError::None);
  CHECK(check("{:+}", C) == FmtError::FlagNotAllowed);
  CHECK(check("{:#s}", B) == FmtError::FlagNotAllowed);
  CHECK(check("{:+d}", B) == FmtError::None);
  CHECK(check("{:+}", S) == FmtError::FlagNotAllowed);
  CHECK(check("{:<05}", S) == FmtError::FlagNotAllowed);
  CHECK(check("{:#}", P) == FmtError::FlagNotAllowed);
  CHECK(check("{:.2}", I) == FmtError::PrecisionNotAllowed);
  CHECK(check("{:.2}", C) == FmtError::PrecisionNotAllowed);
  CHECK(check("{:.2}", B) == FmtError::PrecisionNotAllowed);
  CHECK(check("{:.2}", P) == FmtError::PrecisionNotAllowed);
  CHECK(check("{:{}}", I, D) == FmtError::NestedArgNotInteger);
  CHECK(check("{:{}}", I, B) == FmtError::NestedArgNotInteger);
  CHECK(check("{:{}}", I, C) == FmtError::NestedArgNotInteger);
  CHECK(check("{0:.{1}}", D, S) == FmtError::NestedArgNotInteger);
  CHECK(check("{:{}.{}}", D, I, U) == FmtError::None);
  CHECK(hft::detail::fmt_error_message(FmtError::TypeNotAllowed).find("type") != std::string_view::npos);
}

namespace {

// The call shape a logging macro uses: the kinds come from the arguments, the string is checked against them.
template <class T>
constexpr LogArgKind kind_of() {
  if constexpr (std::is_same_v<T, double>)
    return LogArgKind::Double;
  else if constexpr (std::is_same_v<T, const char*>)
    return LogArgKind::String;
  else
    return LogArgKind::Int;
}
template <class... A>
std::string_view checked(hft::BasicLogFormatString<kind_of<std::type_identity_t<A>>()...> f, A...) {
  return f.get();
}

// Valid strings are accepted at compile time (an invalid one is a compile error; validate() above is that check).
static_assert(check("{:>{}.{}f} {:#x} {:s} {{}}", D, I, U, I, S) == FmtError::None);
static_assert(check("{:f}", I) == FmtError::TypeNotAllowed);
constexpr hft::BasicLogFormatString<LogArgKind::Int, LogArgKind::Double> kChecked("{:#x} {:+.3e}");
static_assert(kChecked.get() == "{:#x} {:+.3e}");
constexpr hft::BasicLogFormatString<> kNoArgs(std::string_view("no fields {{}}"));
static_assert(kNoArgs.str == "no fields {{}}");

}  // namespace

TEST_CASE("log_format: BasicLogFormatString checks at compile time", "[log_format]") {
  CHECK(checked("{} {:.2f} {}", 1, 2.5, "x") == "{} {:.2f} {}");
  CHECK(kChecked.get() == "{:#x} {:+.3e}");
}
