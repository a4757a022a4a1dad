// The logger's argument codec: every built-in kind encoded with detail::log_prepare +
// detail::log_encode (as Logger::write does) and decoded and formatted with
// detail::log_format_record (as the backend does); user types through
// TriviallyCopyableLogCodec and through a full codec; the string budget (truncation); and
// corrupted payloads: cut at every length, trailing bytes, lying length words (false, a
// marker, and no read outside the payload: the ASan build proves that half).
#include "hft/log/log_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../support/catch.hpp"

using hft::LogArgKind;
using hft::detail::log_arg_kind_v;

namespace {

// A trivially copyable user type, through TriviallyCopyableLogCodec.
struct Px {
  std::int64_t price;
  std::int32_t qty;
};

// A type that owns memory, through a full codec: the ints, 4 bytes each.
struct Levels {
  std::vector<std::int32_t> v;
};

// An enum with a codec: the codec wins over the underlying integer.
enum class Side : char { Buy = 'B', Sell = 'S' };

// Convertible to std::string_view: a string unless it has a codec.
struct Tag {
  operator std::string_view() const noexcept { return "tag"; }  // NOLINT(google-explicit-constructor)
};
struct CodecTag {
  operator std::string_view() const noexcept { return "codec-tag"; }  // NOLINT(google-explicit-constructor)
};

enum class EU : unsigned { A = 7, Max = 0xFFFF'FFFFu };
enum class ES : signed char { M = -3 };
enum class E64 : std::uint64_t { Big = 0xFFFF'FFFF'FFFF'FFF0ull };
enum Plain : short { kPlainA = -12 };

}  // namespace

namespace hft {
template <>
struct LogCodec<Px> : TriviallyCopyableLogCodec<Px> {
  static void format_value(const Px& p, std::string_view spec, std::string& out) {
    out += "Px(";
    out += std::to_string(p.price);
    out += 'x';
    out += std::to_string(p.qty);
    if (!spec.empty()) {
      out += ';';
      out += spec;
    }
    out += ')';
  }
};

template <>
struct LogCodec<Levels> {
  static std::size_t encoded_size(const Levels& l) noexcept { return l.v.size() * sizeof(std::int32_t); }
  static void encode(const Levels& l, std::byte* dst) noexcept {
    if (!l.v.empty()) std::memcpy(dst, l.v.data(), l.v.size() * sizeof(std::int32_t));
  }
  static bool format(std::span<const std::byte> bytes, std::string_view spec, std::string& out) {
    if (bytes.size() % sizeof(std::int32_t) != 0 || spec == "bad") return false;
    if (spec == "n") {
      out += std::to_string(bytes.size() / sizeof(std::int32_t));
      return true;
    }
    out += '[';
    for (std::size_t i = 0; i < bytes.size(); i += sizeof(std::int32_t)) {
      std::int32_t x = 0;
      std::memcpy(&x, bytes.data() + i, sizeof x);
      if (i != 0) out += ',';
      out += std::to_string(x);
    }
    out += ']';
    return true;
  }
};

template <>
struct LogCodec<Side> : TriviallyCopyableLogCodec<Side> {
  static void format_value(Side s, std::string_view, std::string& out) { out += s == Side::Buy ? "BUY" : "SELL"; }
};

template <>
struct LogCodec<CodecTag> {
  static std::size_t encoded_size(const CodecTag&) noexcept { return 1; }
  static void encode(const CodecTag&, std::byte* dst) noexcept { *dst = std::byte{42}; }
  static bool format(std::span<const std::byte> bytes, std::string_view, std::string& out) {
    if (bytes.size() != 1) return false;
    out += "CT" + std::to_string(static_cast<int>(bytes[0]));
    return true;
  }
};
}  // namespace hft

// The kind of each C++ type, as the format-string check and the decoder see it.
static_assert(log_arg_kind_v<bool> == LogArgKind::Bool);
static_assert(log_arg_kind_v<char> == LogArgKind::Char);
static_assert(log_arg_kind_v<const char&> == LogArgKind::Char);
static_assert(log_arg_kind_v<signed char> == LogArgKind::Int);
static_assert(log_arg_kind_v<unsigned char> == LogArgKind::UInt);
static_assert(log_arg_kind_v<short> == LogArgKind::Int);
static_assert(log_arg_kind_v<unsigned short> == LogArgKind::UInt);
static_assert(log_arg_kind_v<int> == LogArgKind::Int);
static_assert(log_arg_kind_v<const int&> == LogArgKind::Int);
static_assert(log_arg_kind_v<unsigned> == LogArgKind::UInt);
static_assert(log_arg_kind_v<long> == LogArgKind::Int);
static_assert(log_arg_kind_v<unsigned long> == LogArgKind::UInt);
static_assert(log_arg_kind_v<long long> == LogArgKind::Int);
static_assert(log_arg_kind_v<unsigned long long> == LogArgKind::UInt);
static_assert(log_arg_kind_v<std::int64_t> == LogArgKind::Int);
static_assert(log_arg_kind_v<std::uint8_t> == LogArgKind::UInt);
static_assert(log_arg_kind_v<float> == LogArgKind::Float);
static_assert(log_arg_kind_v<double> == LogArgKind::Double);
static_assert(log_arg_kind_v<long double> == LogArgKind::LongDouble);
static_assert(log_arg_kind_v<const char*> == LogArgKind::String);
static_assert(log_arg_kind_v<char*> == LogArgKind::String);
static_assert(log_arg_kind_v<char[4]> == LogArgKind::String);
static_assert(log_arg_kind_v<const char (&)[6]> == LogArgKind::String);
static_assert(log_arg_kind_v<std::string> == LogArgKind::String);
static_assert(log_arg_kind_v<const std::string&> == LogArgKind::String);
static_assert(log_arg_kind_v<std::string_view> == LogArgKind::String);
static_assert(log_arg_kind_v<Tag> == LogArgKind::String);
static_assert(log_arg_kind_v<void*> == LogArgKind::Pointer);
static_assert(log_arg_kind_v<const void*> == LogArgKind::Pointer);
static_assert(log_arg_kind_v<std::nullptr_t> == LogArgKind::Pointer);
static_assert(log_arg_kind_v<EU> == LogArgKind::UInt);
static_assert(log_arg_kind_v<ES> == LogArgKind::Int);
static_assert(log_arg_kind_v<E64> == LogArgKind::UInt);
static_assert(log_arg_kind_v<Plain> == LogArgKind::Int);
static_assert(log_arg_kind_v<Px> == LogArgKind::Custom);
static_assert(log_arg_kind_v<const Px&> == LogArgKind::Custom);
static_assert(log_arg_kind_v<Levels> == LogArgKind::Custom);
static_assert(log_arg_kind_v<Side> == LogArgKind::Custom);  // the codec, not the underlying char
static_assert(log_arg_kind_v<CodecTag> == LogArgKind::Custom);
static_assert(hft::HasLogCodec<Px> && hft::HasLogCodec<Levels> && !hft::HasLogCodec<int> && !hft::HasLogCodec<Tag>);

// What each argument is prepared as before it is copied.
template <class A>
using Prepared = decltype(hft::detail::log_prepare(std::declval<const A&>()));
static_assert(std::is_same_v<Prepared<bool>, bool>);
static_assert(std::is_same_v<Prepared<signed char>, signed char>);
static_assert(std::is_same_v<Prepared<char[4]>, std::string_view>);
static_assert(std::is_same_v<Prepared<const char*>, std::string_view>);
static_assert(std::is_same_v<Prepared<std::string>, std::string_view>);
static_assert(std::is_same_v<Prepared<void*>, const void*>);
static_assert(std::is_same_v<Prepared<std::nullptr_t>, const void*>);
static_assert(std::is_same_v<Prepared<EU>, unsigned>);
static_assert(std::is_same_v<Prepared<ES>, signed char>);
static_assert(std::is_same_v<Prepared<Px>, hft::detail::LogCustomRef<Px>>);
static_assert(std::is_same_v<Prepared<Side>, hft::detail::LogCustomRef<Side>>);
static_assert(hft::detail::log_encoded_size(1) == sizeof(int));
static_assert(hft::detail::log_encoded_size(std::string_view("abc")) == 4 + 3);
static_assert(hft::detail::log_fixed_size(std::string_view("abc")) == 4);
static_assert(hft::detail::log_encoded_size(2.0L) == sizeof(long double));

namespace {

struct Encoded {
  std::vector<std::byte> bytes;  // the payload as the record carries it: padded to 8 with zeros
  std::size_t used = 0;          // bytes the arguments took, before the padding
  bool truncated = false;
};

template <class... Ps>
Encoded encode_prepared(std::size_t budget, const Ps&... ps) {
  Encoded e;
  const std::size_t raw = (std::size_t{0} + ... + hft::detail::log_encoded_size(ps));
  e.bytes.assign(raw + 8, std::byte{0xEE});
  [[maybe_unused]] std::byte* q = e.bytes.data();
  ((q = hft::detail::log_encode(ps, q, budget, e.truncated)), ...);
  e.used = static_cast<std::size_t>(q - e.bytes.data());
  e.bytes.resize((e.used + 7) / 8 * 8);
  std::fill(e.bytes.begin() + static_cast<std::ptrdiff_t>(e.used), e.bytes.end(), std::byte{0});
  return e;
}

template <class... Args>
Encoded encode(std::size_t budget, const Args&... args) {
  return encode_prepared(budget, hft::detail::log_prepare(args)...);
}

// Decodes `payload` as the prepared types of Args (copied to a heap block of its exact size,
// so ASan sees any read past it) and formats it with `fmt`.
template <class... Args>
std::pair<bool, std::string> decode(std::span<const std::byte> payload, std::string_view fmt) {
  const std::vector<std::byte> exact(payload.begin(), payload.end());
  std::string out;
  const bool ok = hft::detail::log_format_record<Prepared<Args>...>(exact, fmt, out);
  return {ok, out};
}

template <class... Args>
std::string fmt_one(std::string_view fmt, const Args&... args) {
  const Encoded e = encode(std::numeric_limits<std::size_t>::max(), args...);
  CHECK_FALSE(e.truncated);
  const auto [ok, out] = decode<Args...>(e.bytes, fmt);
  CHECK(ok);
  return out;
}

std::string hex_ptr(const void* p) {
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), reinterpret_cast<std::uintptr_t>(p), 16);
  return "0x" + std::string(buf.data(), r.ptr);
}

bool has_corrupt_marker(const std::string& s) { return s.find("[corrupt record") != std::string::npos; }

}  // namespace

TEST_CASE("log codec bool and char") {
  CHECK(fmt_one("{} {}", true, false) == "true false");
  CHECK(fmt_one("{:d}{:d}", true, false) == "10");
  CHECK(fmt_one("[{}]", 'x') == "[x]");
  CHECK(fmt_one("{:d}", 'A') == "65");
  CHECK(fmt_one("{}", '\0') == std::string(1, '\0'));
}

TEST_CASE("log codec integers of every width and signedness, at their limits") {
  CHECK(fmt_one("{} {}", static_cast<signed char>(-128), static_cast<signed char>(127)) == "-128 127");
  CHECK(fmt_one("{} {}", static_cast<unsigned char>(0), static_cast<unsigned char>(255)) == "0 255");
  CHECK(fmt_one("{} {}", std::numeric_limits<short>::min(), std::numeric_limits<short>::max()) == "-32768 32767");
  CHECK(fmt_one("{}", std::numeric_limits<unsigned short>::max()) == "65535");
  CHECK(fmt_one("{} {}", std::numeric_limits<int>::min(), std::numeric_limits<int>::max()) == "-2147483648 2147483647");
  CHECK(fmt_one("{}", std::numeric_limits<unsigned>::max()) == "4294967295");
  CHECK(fmt_one("{} {}", std::numeric_limits<long>::min(), std::numeric_limits<long>::max()) ==
        std::to_string(std::numeric_limits<long>::min()) + " " + std::to_string(std::numeric_limits<long>::max()));
  CHECK(fmt_one("{}", std::numeric_limits<unsigned long>::max()) ==
        std::to_string(std::numeric_limits<unsigned long>::max()));
  CHECK(fmt_one("{} {}", std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max()) ==
        "-9223372036854775808 9223372036854775807");
  CHECK(fmt_one("{}", std::numeric_limits<unsigned long long>::max()) == "18446744073709551615");
  CHECK(fmt_one("{} {}", INT64_MIN, INT64_MAX) == "-9223372036854775808 9223372036854775807");
  CHECK(fmt_one("{}", UINT64_MAX) == "18446744073709551615");
  CHECK(fmt_one("{:x} {:#o}", 255, 8u) == "ff 010");
  CHECK(fmt_one("{} {} {}", 0, -1, 1u) == "0 -1 1");
}

TEST_CASE("log codec float, double and long double, including inf and nan") {
  CHECK(fmt_one("{} {}", 1.5f, 0.1f) == "1.5 0.1");  // float's own shortest form, not 0.10000000149011612
  CHECK(fmt_one("{}", std::numeric_limits<float>::denorm_min()) == "1e-45");
  CHECK(fmt_one("{} {}", 0.1, -2.5e-300) == "0.1 -2.5e-300");
  CHECK(fmt_one("{}", std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(fmt_one("{:.3f}", 3.14159) == "3.142");
  CHECK(fmt_one("{}", 0.1L) == "0.1");
  CHECK(fmt_one("{}", -0.0) == "-0");
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(fmt_one("{} {} {} {}", inf, -inf, nan, -nan) == "inf -inf nan -nan");
  CHECK(fmt_one("{} {}", std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()) == "inf nan");
  CHECK(fmt_one("{} {}", -std::numeric_limits<long double>::infinity(),
                std::numeric_limits<long double>::quiet_NaN()) == "-inf nan");
}

TEST_CASE("log codec strings: const char*, null, char arrays, std::string, string_view") {
  const char* s = "abc";
  CHECK(fmt_one("<{}>", s) == "<abc>");
  const char* null = nullptr;
  CHECK(fmt_one("<{}>", null) == "<(null)>");
  char* null_mut = nullptr;
  CHECK(fmt_one("<{}>", null_mut) == "<(null)>");
  std::array<char, 6> storage{'m', 'u', 't', '\0', 'x', 'y'};
  char* mut = storage.data();
  CHECK(fmt_one("<{}>", mut) == "<mut>");
  CHECK(fmt_one("<{}>", "literal") == "<literal>");
  // Arrays: up to the first NUL, never past the end (no NUL: the whole array; ASan checks the bound).
  const char unterminated[4] = {'a', 'b', 'c', 'd'};  // NOLINT(modernize-avoid-c-arrays): the case under test
  CHECK(fmt_one("<{}>", unterminated) == "<abcd>");
  char with_nul[8] = {'a', 'b', '\0', 'c', 'd', 'e', 'f', 'g'};  // NOLINT(modernize-avoid-c-arrays)
  CHECK(fmt_one("<{}>", with_nul) == "<ab>");
  char empty_buf[3] = {};  // NOLINT(modernize-avoid-c-arrays)
  CHECK(fmt_one("<{}>", empty_buf) == "<>");
  const std::string str("a\0b", 3);  // embedded NUL: its size counts
  CHECK(fmt_one("<{}>", str) == std::string("<a\0b>", 5));
  CHECK(fmt_one("<{}>", std::string()) == "<>");
  CHECK(fmt_one("<{}>", std::string_view()) == "<>");
  CHECK(fmt_one("<{}>", std::string_view("x\0y\0", 4)) == std::string("<x\0y\0>", 6));
  CHECK(fmt_one("<{:>5}|{:.2}>", std::string_view("ab"), std::string("xyz")) == "<   ab|xy>");
  CHECK(fmt_one("{}", Tag{}) == "tag");
  const std::string big(5000, 'q');
  CHECK(fmt_one("{}", big) == big);
}

TEST_CASE("log codec pointers and nullptr") {
  int x = 0;
  void* p = &x;
  const void* cp = &x;
  CHECK(fmt_one("{}", p) == hex_ptr(&x));
  CHECK(fmt_one("{}", cp) == hex_ptr(&x));
  CHECK(fmt_one("{}", nullptr) == "0x0");
  void* np = nullptr;
  CHECK(fmt_one("{:p}", np) == "0x0");
}

TEST_CASE("log codec enums print their underlying integer") {
  CHECK(fmt_one("{} {}", EU::A, EU::Max) == "7 4294967295");
  CHECK(fmt_one("{}", ES::M) == "-3");
  CHECK(fmt_one("{}", E64::Big) == "18446744073709551600");
  CHECK(fmt_one("{}", kPlainA) == "-12");
  CHECK(fmt_one("{:x}", EU::A) == "7");
}

TEST_CASE("log codec user types: TriviallyCopyableLogCodec and a full codec") {
  CHECK(fmt_one("{} {:spec}", Px{-5, 3}, Px{INT64_MAX, -1}) == "Px(-5x3) Px(9223372036854775807x-1;spec)");
  CHECK(fmt_one("{}|{:n}|{}", Levels{{1, -2, 3}}, Levels{{4, 5}}, Levels{}) == "[1,-2,3]|2|[]");
  CHECK(fmt_one("{} {}", Side::Buy, Side::Sell) == "BUY SELL");
  CHECK(fmt_one("{}", CodecTag{}) == "CT42");
  // Mixed with built-ins, in order.
  CHECK(fmt_one("{}-{}-{}-{}", 1, Px{2, 3}, std::string_view("s"), Levels{{9}}) == "1-Px(2x3)-s-[9]");
  // Manual indexing and reuse.
  CHECK(fmt_one("{1}{0}{1}", Px{1, 1}, 'z') == "zPx(1x1)z");
}

TEST_CASE("log codec a codec that refuses its bytes or its spec prints the {?} marker") {
  {
    const Encoded e = encode(std::numeric_limits<std::size_t>::max(), Levels{{1}});
    const auto [ok, out] = decode<Levels>(e.bytes, "<{:bad}>");
    CHECK(out == "<{?}>");
    CHECK_FALSE(ok);  // the backend counts the record as not formatted (corrupt_records)
  }
  // A TriviallyCopyableLogCodec payload of the wrong size: a length word of 3.
  std::vector<std::byte> payload(8, std::byte{0});
  payload[0] = std::byte{3};
  const auto [ok, out] = decode<Px>(payload, "<{}>");
  CHECK(out == "<{?}>");
  CHECK_FALSE(ok);
  // A full codec whose length word is not a multiple of 4.
  std::vector<std::byte> odd(8, std::byte{0});
  odd[0] = std::byte{2};
  CHECK(decode<Levels>(odd, "{}").second == "{?}");
}

TEST_CASE("log codec strings are cut to the budget and the truncated flag is set") {
  const std::string first = "hello world";
  const std::string_view second = "abc";
  SECTION("a budget that holds everything truncates nothing") {
    const Encoded e = encode(first.size() + second.size(), 7, first, second);
    CHECK_FALSE(e.truncated);
    CHECK(decode<int, std::string, std::string_view>(e.bytes, "{}|{}|{}").second == "7|hello world|abc");
  }
  SECTION("the first string is cut, the second gets nothing") {
    const Encoded e = encode(8, 7, first, second);
    CHECK(e.truncated);
    CHECK(e.used == 4 + (4 + 8) + 4);
    const auto [ok, out] = decode<int, std::string, std::string_view>(e.bytes, "{}|{}|{}");
    CHECK(ok);
    CHECK(out == "7|hello wo|");
  }
  SECTION("the first fits exactly, the second is cut") {
    const Encoded e = encode(first.size() + 1, first, 'c', second);
    CHECK(e.truncated);
    CHECK(decode<std::string, char, std::string_view>(e.bytes, "{}|{}|{}").second == "hello world|c|a");
  }
  SECTION("a zero budget keeps the lengths and fixed-size arguments") {
    const Encoded e = encode(0, first, 2.5, Px{1, 2});
    CHECK(e.truncated);
    CHECK(decode<std::string, double, Px>(e.bytes, "{}|{}|{}").second == "|2.5|Px(1x2)");
  }
  SECTION("an empty string is never truncated") {
    bool truncated = false;
    std::size_t budget = 0;
    std::array<std::byte, 8> buf{};
    const std::byte* end = hft::detail::log_encode(std::string_view(), buf.data(), budget, truncated);
    CHECK_FALSE(truncated);
    CHECK(end == buf.data() + 4);
  }
}

TEST_CASE("log codec a payload cut short at every length returns false with a marker") {
  const std::string s = "some string";
  const Encoded e = encode(std::numeric_limits<std::size_t>::max(), 42, s, 1.25, Px{7, 8}, 'c', Levels{{1, 2}},
                           std::string_view("tail"));
  const std::string want = "42 some string 1.25 Px(7x8) c [1,2] tail";
  const std::string_view fmt = "{} {} {} {} {} {} {}";
  REQUIRE(decode<int, std::string, double, Px, char, Levels, std::string_view>(e.bytes, fmt) ==
          std::make_pair(true, want));
  for (std::size_t len = 0; len < e.used; ++len) {
    CAPTURE(len);
    const auto [ok, out] = decode<int, std::string, double, Px, char, Levels, std::string_view>(
        std::span<const std::byte>(e.bytes).first(len), fmt);
    CHECK_FALSE(ok);
    CHECK(has_corrupt_marker(out));
  }
  // The padding after the last argument (fewer than 8 bytes) is allowed.
  for (std::size_t len = e.used; len < e.used + 8; ++len) {
    CAPTURE(len);
    std::vector<std::byte> padded(e.bytes.begin(), e.bytes.begin() + static_cast<std::ptrdiff_t>(e.used));
    padded.resize(len);
    CHECK(decode<int, std::string, double, Px, char, Levels, std::string_view>(padded, fmt) ==
          std::make_pair(true, want));
  }
}

TEST_CASE("log codec 8 or more bytes after the last argument make the record corrupt") {
  const Encoded e = encode(std::numeric_limits<std::size_t>::max(), 5, std::string_view("ab"));
  for (const std::size_t extra : {8u, 9u, 16u, 100u}) {
    CAPTURE(extra);
    std::vector<std::byte> longer(e.bytes.begin(), e.bytes.begin() + static_cast<std::ptrdiff_t>(e.used));
    longer.resize(e.used + extra);
    const auto [ok, out] = decode<int, std::string_view>(longer, "{}{}");
    CHECK_FALSE(ok);
    CHECK(out.rfind("5ab", 0) == 0);  // still formatted: the arguments decoded
  }
  // No arguments: fewer than 8 bytes is padding, 8 is not.
  for (std::size_t n = 0; n < 8; ++n)
    CHECK(decode<>(std::vector<std::byte>(n), "plain") == std::make_pair(true, std::string("plain")));
  CHECK_FALSE(decode<>(std::vector<std::byte>(8), "plain").first);
  CHECK_FALSE(decode<>(std::vector<std::byte>(64), "plain").first);
}

TEST_CASE("log codec length words that claim more than the payload holds") {
  for (const std::uint32_t len : {5u, 0x7FFF'FFFFu, 0xFFFF'FFFCu, 0xFFFF'FFFFu}) {
    CAPTURE(len);
    std::vector<std::byte> payload(8, std::byte{'a'});
    std::memcpy(payload.data(), &len, sizeof len);
    const auto s = decode<std::string_view>(payload, "{}");
    CHECK_FALSE(s.first);
    CHECK(has_corrupt_marker(s.second));
    const auto c = decode<Levels>(payload, "{}");
    CHECK_FALSE(c.first);
    CHECK(has_corrupt_marker(c.second));
  }
}

TEST_CASE("log codec a format string that does not match the arguments returns false") {
  const Encoded e = encode(std::numeric_limits<std::size_t>::max(), std::string_view("ab"), 1);
  const auto [ok, out] = decode<std::string_view, int>(e.bytes, "{:d} {} {}");
  CHECK_FALSE(ok);
  CHECK(out.find("{?}") != std::string::npos);
}

TEST_CASE("log codec a corrupt bool byte decodes to a valid bool") {
  // A record's bool is one byte; in a corrupted record it may be anything. Reading it back
  // as a bool must not be undefined behaviour (UBSan's -fsanitize=bool stops the test).
  for (const unsigned b : {0u, 1u, 2u, 0x80u, 0xFFu}) {
    CAPTURE(b);
    std::vector<std::byte> payload(8, std::byte{0});
    payload[0] = static_cast<std::byte>(b);
    const auto [ok, out] = decode<bool>(payload, "{}");
    CHECK(ok);
    CHECK(out == (b == 0 ? "false" : "true"));
  }
}
