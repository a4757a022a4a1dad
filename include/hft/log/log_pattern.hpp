// hft/log/log_pattern.hpp: LogPattern, the layout of a log line ("{time} {level} ... {message}"),
// compiled once, and the UTC calendar arithmetic behind its timestamps.
//
// What: the constructor parses the pattern into segments, each either literal text or one field;
//   format() walks them and appends the line plus '\n' to a std::string. Fields:
//     {time}      2026-12-07T11:21:54.123456789Z: UTC, nanoseconds, always 30 characters
//     {level}     the level's name as log_level_name spells it (no padding)
//     {logger}    the logger's name          {thread}  the thread's name
//     {tid}       the kernel thread id       {line}    the call site's line, decimal
//     {file}      the call site's file as given (__FILE__)
//     {basename}  the file without its directories (what follows the last '/')
//     {message}   the formatted message
//   "{{" and "}}" are literal braces; any other '{' opens a field that must close with '}'.
//   {time} is computed with days-since-epoch arithmetic (Howard Hinnant's civil_from_days), not
//   gmtime: no lock, no tz, no locale. The "YYYY-MM-DDTHH:MM:SS" part is cached per second, so
//   lines within the same second format only the nanoseconds. Times before 1970 print as the
//   proleptic Gregorian UTC time they denote, the nanoseconds counted forward from the second
//   (-1 ns is 1969-12-31T23:59:59.999999999Z), exactly as gmtime_r plus a floored division would.
//   Every int64 nanosecond count (1677-09-21 to 2262-04-11) has a four-digit year.
// When to use: the logger lays out every line with one; a sink that wants a layout of its own
//   (JSON, a terse console form) keeps another and formats the LogRecordView's fields itself.
// When not: structured output with escaping (JSON strings): the pattern inserts fields verbatim.
//
// Thread-safety: construction from any thread. format() is const but updates the per-second
//   cache (mutable): one thread at a time per object (the backend's). Copies are independent.
// Progress: format() is wait-free: no lock, no system call.
// Memory ordering: none (not shared).
// Complexity: construction O(pattern), allocates the segment table. format() O(line); it does
//   not allocate once `out` has the capacity for the line (the caller reuses one string).
// Errors: an unknown field, a '{' without its '}' or a lone '}' throws std::invalid_argument
//   naming the offset: "hft::LogPattern: unknown field '{foo}' at offset 7 in \"...\" (known: ...)".
// Compared with: spdlog's pattern_formatter ("%Y-%m-%d %H:%M:%S.%e %l %v", strftime-like
//   letters, compiled into a vector of flag formatters, caching the date per second like ours)
//   and Quill's PatternFormatter ("%(time) %(log_level) %(message)", named attributes, a
//   configurable strftime timestamp and timezone). Ours uses brace names like std::format and
//   has one fixed timestamp, ISO 8601 UTC with nanoseconds (what merging logs across hosts
//   needs); no padding/alignment specs, no colours, no local time.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hft/log/log_sink.hpp"

namespace hft {

/// The logger's default line layout.
inline constexpr std::string_view kDefaultLogPattern = "{time} {level} [{thread}] {file}:{line} {logger}: {message}";

namespace detail {

/// A UTC calendar time broken down (proleptic Gregorian).
struct UtcTime {
  std::int64_t year = 1970;  ///< Calendar year (1969 for the second before the epoch).
  unsigned month = 1;        ///< 1..12
  unsigned day = 1;          ///< 1..31
  unsigned hour = 0;         ///< 0..23
  unsigned minute = 0;       ///< 0..59
  unsigned second = 0;       ///< 0..59 (no leap seconds: POSIX time)
};

/// a / b rounded towards minus infinity (b > 0).
[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// a mod b in [0, b) (b > 0), without the overflow of a - floor_div(a, b) * b at the int64 extremes.
[[nodiscard]] constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t r = a % b;
  return r < 0 ? r + b : r;
}

/// The UTC calendar time of `secs` seconds since the Unix epoch (negative: before it). Hinnant's civil_from_days.
[[nodiscard]] constexpr UtcTime utc_from_seconds(std::int64_t secs) noexcept {
  const std::int64_t days = floor_div(secs, 86400);
  const std::int64_t sod = floor_mod(secs, 86400);
  const std::int64_t z = days + 719468;          // days since 0000-03-01
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365], from March 1
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11], March = 0
  UtcTime t;
  t.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  t.hour = static_cast<unsigned>(sod / 3600);
  t.minute = static_cast<unsigned>(sod % 3600 / 60);
  t.second = static_cast<unsigned>(sod % 60);
  return t;
}

/// Writes `v` as exactly `width` decimal digits (zero-padded, high digits dropped) at `p`.
constexpr void put_digits(char* p, std::uint64_t v, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace detail

/// A log line layout compiled from a pattern of literal text and {field}s; appends formatted lines to a string.
class LogPattern {
 public:
  /// Compiles `pattern`. Throws std::invalid_argument ("hft::LogPattern: ...", with the offset) for an unknown
  /// field, a '{' without '}' or a lone '}'. Any thread.
  explicit LogPattern(std::string_view pattern = kDefaultLogPattern) : pattern_(pattern) { compile(); }

  /// Appends `r` laid out by the pattern, then '\n', to `out` (r.text is not used). Allocates only if `out` lacks
  /// the capacity. One thread at a time (updates the per-second time cache).
  void format(const LogRecordView& r, std::string& out) const {
    format_with(r, out, [&r](std::string& o) { o.append(r.message); });
  }

  /// As format(), but the message is written in place by `write_message(out)` where the pattern's first {message}
  /// is (r.message is not used; a later {message} repeats what it wrote): the backend formats a message straight
  /// into the line, without a copy. Returns the message's offset and size in `out`; {npos, 0} when the pattern has
  /// no {message} (then write_message is not called).
  template <class WriteMessage>
  std::pair<std::size_t, std::size_t> format_with(const LogRecordView& r, std::string& out,
                                                  WriteMessage&& write_message) const {
    std::size_t msg_offset = std::string::npos;
    std::size_t msg_size = 0;
    for (const Segment& s : segments_) {
      switch (s.field) {
        case Field::Literal: out.append(literals_, s.offset, s.size); break;
        case Field::Time: append_time(r.time_ns, out); break;
        case Field::Level: out.append(log_level_name(r.level)); break;
        case Field::Logger: out.append(r.logger); break;
        case Field::Thread: out.append(r.thread); break;
        case Field::Tid: append_uint(r.tid, out); break;
        case Field::File: out.append(r.file); break;
        case Field::Basename: {
          const std::size_t slash = r.file.rfind('/');
          out.append(slash == std::string_view::npos ? r.file : r.file.substr(slash + 1));
          break;
        }
        case Field::Line: append_uint(r.line, out); break;
        case Field::Message:
          if (msg_offset == std::string::npos) {
            msg_offset = out.size();
            write_message(out);
            msg_size = out.size() - msg_offset;
          } else {
            out.append(out, msg_offset, msg_size);
          }
          break;
      }
    }
    out.push_back('\n');
    return {msg_offset, msg_size};
  }

  /// True when the pattern has a {message} field.
  [[nodiscard]] bool has_message() const noexcept {
    for (const Segment& s : segments_)
      if (s.field == Field::Message) return true;
    return false;
  }

  /// The pattern as given to the constructor.
  [[nodiscard]] const std::string& pattern() const noexcept { return pattern_; }

  /// Length of the {time} field: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
  static constexpr std::size_t kTimeChars = 30;

  /// Writes the {time} text of `time_ns` (UTC ns since the epoch) to `dst` (kTimeChars bytes, no terminator).
  /// Uncached; any thread.
  static void format_time(std::int64_t time_ns, char* dst) noexcept {
    write_prefix(detail::floor_div(time_ns, 1'000'000'000), dst);
    write_fraction(detail::floor_mod(time_ns, 1'000'000'000), dst + 19);
  }

 private:
  enum class Field : std::uint8_t { Literal, Time, Level, Logger, Thread, Tid, File, Basename, Line, Message };
  struct Segment {
    Field field = Field::Literal;
    std::size_t offset = 0;  // literal text: literals_[offset, offset + size)
    std::size_t size = 0;
  };

  static void write_prefix(std::int64_t secs, char* p) noexcept {
    const detail::UtcTime t = detail::utc_from_seconds(secs);
    detail::put_digits(p, static_cast<std::uint64_t>(t.year), 4);  // int64 ns spans years 1677..2262
    p[4] = '-';
    detail::put_digits(p + 5, t.month, 2);
    p[7] = '-';
    detail::put_digits(p + 8, t.day, 2);
    p[10] = 'T';
    detail::put_digits(p + 11, t.hour, 2);
    p[13] = ':';
    detail::put_digits(p + 14, t.minute, 2);
    p[16] = ':';
    detail::put_digits(p + 17, t.second, 2);
  }
  static void write_fraction(std::int64_t nanos, char* p) noexcept {
    p[0] = '.';
    detail::put_digits(p + 1, static_cast<std::uint64_t>(nanos), 9);
    p[10] = 'Z';
  }

  void append_time(std::int64_t time_ns, std::string& out) const {
    const std::int64_t secs = detail::floor_div(time_ns, 1'000'000'000);
    if (secs != cached_sec_) {
      write_prefix(secs, cached_.data());
      cached_sec_ = secs;
    }
    write_fraction(detail::floor_mod(time_ns, 1'000'000'000), cached_.data() + 19);
    out.append(cached_.data(), kTimeChars);
  }
  static void append_uint(std::uint32_t v, std::string& out) {
    std::array<char, 10> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
  }

  [[noreturn]] void fail(const std::string& what, std::size_t offset, std::string_view hint) const {
    throw std::invalid_argument("hft::LogPattern: " + what + " at offset " + std::to_string(offset) + " in \"" +
                                pattern_ + "\" (" + std::string(hint) + ")");
  }

  void add_literal(std::string_view text) {
    if (text.empty()) return;
    if (!segments_.empty() && segments_.back().field == Field::Literal) {
      segments_.back().size += text.size();  // literals_ is contiguous: extend the previous run
    } else {
      segments_.push_back({Field::Literal, literals_.size(), text.size()});
    }
    literals_.append(text);
  }

  void compile() {
    static constexpr std::array<std::pair<std::string_view, Field>, 9> kFields{{{"time", Field::Time},
                                                                                {"level", Field::Level},
                                                                                {"logger", Field::Logger},
                                                                                {"thread", Field::Thread},
                                                                                {"tid", Field::Tid},
                                                                                {"file", Field::File},
                                                                                {"basename", Field::Basename},
                                                                                {"line", Field::Line},
                                                                                {"message", Field::Message}}};
    const std::string_view p = pattern_;
    std::size_t i = 0;
    std::size_t lit_start = 0;
    while (i < p.size()) {
      const char c = p[i];
      if (c != '{' && c != '}') {
        ++i;
        continue;
      }
      add_literal(p.substr(lit_start, i - lit_start));
      if (i + 1 < p.size() && p[i + 1] == c) {  // "{{" or "}}"
        add_literal(p.substr(i, 1));
        i += 2;
        lit_start = i;
        continue;
      }
      if (c == '}') fail("unmatched '}'", i, "write '}}' for a literal brace");
      const std::size_t close = p.find('}', i + 1);
      if (close == std::string_view::npos) fail("unterminated '{'", i, "write '{{' for a literal brace");
      const std::string_view name = p.substr(i + 1, close - i - 1);
      bool found = false;
      for (const auto& [field_name, field] : kFields) {
        if (name == field_name) {
          segments_.push_back({field, 0, 0});
          found = true;
          break;
        }
      }
      if (!found) {
        fail("unknown field '{" + std::string(name) + "}'", i,
             "known: time level logger thread tid file basename line message");
      }
      i = close + 1;
      lit_start = i;
    }
    add_literal(p.substr(lit_start));
  }

  std::string pattern_;
  std::string literals_;
  std::vector<Segment> segments_;
  mutable std::int64_t cached_sec_ = std::numeric_limits<std::int64_t>::min();
  mutable std::array<char, kTimeChars> cached_{};
};

}  // namespace hft
