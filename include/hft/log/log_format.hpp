// hft/log/log_format.hpp: the logger's formatter, std::format's replacement-field syntax and std-format-spec
// without <format>, with the format string checked at compile time.
//
// What: detail::format_to(out, fmt, args) appends `fmt` with its replacement fields ({}, {n}, {:spec}, {n:spec},
//   {{ and }}) replaced by type-erased arguments (detail::FmtArg), producing the bytes std::format produces for
//   the same values and specs: fill-and-align, sign, '#', '0', width, precision, nested {} / {n} width and
//   precision, and the presentation types of [format.string.std] per kind (integers b B c d o x X; char c and
//   the integer ones; bool s and the integer ones; floating point a A e E f F g G, shortest round trip by
//   default; strings s; pointers p). Numbers go through std::to_chars. BasicLogFormatString<K...> is built by
//   a consteval constructor that runs the same parser over the string against the argument kinds K..., so a
//   bad string is a compile error naming the rule it breaks (e.g. format_string_error_type_not_allowed_for_
//   argument_kind), the way std::basic_format_string works. The logger's backend thread runs format_to on
//   decoded records; detail::validate(fmt, kinds) is the checker itself, usable at run time.
// When to use: formatting log arguments on the logger's backend thread (libstdc++ 12 has no <format>).
// When not: general-purpose text formatting: use std::format (or fmt) where the standard library has it;
//   locale-dependent output (the 'L' option is rejected at compile time), chrono or range formatting.
//
// Thread-safety: every function is pure: any thread, on its own `out`.
// Progress: wait-free apart from `out`'s allocation (bounded by the format string and arguments).
// Memory ordering: none (nothing is shared).
// Complexity: O(|fmt| + output) per call; each spec is parsed once per field. Nothing is allocated except by
//   growing `out` (the backend reuses its capacity): integers are converted in a stack buffer, floating-point
//   values are converted in place at the end of `out`, padding is out.append(n, fill).
// Errors: the format string is checked at compile time; at run time format_to never throws for a mismatch
//   between fmt and args (a corrupted record): an argument index out of range, a bad spec, a spec not valid
//   for the argument's kind, a nested width/precision argument that is not an integer or is negative or above
//   kMaxFmtWidth, an integer outside char's range for 'c' or an unknown kind append "{?}" for that field,
//   formatting continues with the rest, and format_to returns false. It reads nothing outside fmt and args.
//   Exceptions: std::bad_alloc from growing `out`, and whatever a Custom argument's function throws.
// Limits: width and precision are at most kMaxFmtWidth (65536), literal or from an argument (std allows up to
//   2^31 - 1; a corrupted record must not make the backend allocate gigabytes): above it, a compile error
//   for a literal, "{?}" at run time.
//
// Compared with:
//   - std::format (C++20): the same syntax and output for the types the logger passes, with these
//     differences: no locale ('L' is a compile error); no chrono, range or tuple formatters, no '?' debug
//     type (C++23); the width of a string is its count of Unicode code points (UTF-8), while std::format
//     estimates display width (East-Asian wide characters and emoji count 2 there, 1 here); a multi-byte
//     UTF-8 fill character is accepted (as C++23 does; libc++ 16 takes one code unit only); width and
//     precision are capped (Limits). Like libc++ 16: bool has no 'c' type, and char with b B d o x X
//     formats the char's (signed) int value; nested width/precision arguments must be standard integers
//     (LWG 3720: bool and char are refused). Unlike libc++ 16, a long double is converted at its own
//     precision (libc++ 16 goes through double) and '#' with g/G keeps printf's %#g trailing zeros also
//     for 0 < |x| < 1 (libc++ 16 keeps one fewer there). A Custom argument gets its raw spec text.
//   - fmt (libfmt): the same syntax as std::format (fmt's extensions are not supported: named arguments,
//     fmt::styled, 'n'/'L' locale types); no compile-time format-string compilation (FMT_COMPILE), the
//     string is parsed again per record on the backend, where the time is not on the hot path.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace hft {

/// The kind of a log argument, as the codec stores it and as format strings are checked against.
enum class LogArgKind : std::uint8_t {
  Bool,        ///< bool
  Char,        ///< char
  Int,         ///< a signed integer (long long), or an enum with a signed underlying type
  UInt,        ///< an unsigned integer (unsigned long long), or an enum with an unsigned underlying type
  Float,       ///< float
  Double,      ///< double
  LongDouble,  ///< long double
  String,      ///< a UTF-8 string (string_view, std::string, const char*)
  Pointer,     ///< a pointer or nullptr_t
  Custom       ///< a user type formatted by its own function, which receives the raw spec text
};

namespace detail {

/// A String argument: the bytes, not NUL-terminated.
struct FmtArgString {
  const char* data;  ///< first byte
  std::size_t size;  ///< length in bytes
};

/// A Custom argument: the object and the function that appends it to `out` given the spec text between ':'
/// and '}' (empty without a spec).
struct FmtArgCustom {
  const void* obj;                                                        ///< the object
  void (*fn)(const void* obj, std::string_view spec, std::string& out);  ///< its formatter
};

/// One decoded argument, type-erased: `kind` says which member is active.
struct FmtArg {
  LogArgKind kind;  ///< the active member
  union {
    bool b;                ///< Bool
    char c;                ///< Char
    long long i;           ///< Int
    unsigned long long u;  ///< UInt
    float f;               ///< Float
    double d;              ///< Double
    long double ld;        ///< LongDouble
    const void* p;         ///< Pointer
    FmtArgString s;        ///< String
    FmtArgCustom custom;   ///< Custom
  };
};

/// The largest width or precision accepted (literal or from an argument); std::format allows 2^31 - 1.
inline constexpr std::uint32_t kMaxFmtWidth = 65536;

/// Why a format string (or a field at run time) was refused.
enum class FmtError : std::uint8_t {
  None,                   ///< valid
  UnmatchedBrace,         ///< a '{' without its '}', or a single '}' in the text (write "{{" and "}}")
  BadArgId,               ///< an argument id that is not a number (or has a leading zero)
  MixedIndexing,          ///< automatic ({}) and manual ({0}) argument indexing mixed
  IndexOutOfRange,        ///< an argument id >= the number of arguments
  BadFill,                ///< '{' or '}' as the fill character
  BadSpec,                ///< the spec does not follow [[fill]align][sign][#][0][width][.precision][L][type]
  NumberTooLarge,         ///< a width or precision above kMaxFmtWidth
  LocaleNotSupported,     ///< the 'L' option (no locale on this path)
  TypeNotAllowed,         ///< a presentation type the argument's kind does not take
  FlagNotAllowed,         ///< sign, '#' or '0' where the kind or type does not take it
  PrecisionNotAllowed,    ///< a precision for an integer, char, bool or pointer
  NestedArgNotInteger,    ///< a {} width or precision naming an argument that is not Int or UInt
  NestedValueOutOfRange,  ///< (run time) a nested width or precision value < 0 or > kMaxFmtWidth
  CharOutOfRange,         ///< (run time) an integer outside char's range formatted with 'c'
  CorruptArg              ///< (run time) an unknown kind, a String without data, a Custom without a function
};

/// A sentence for each FmtError.
[[nodiscard]] constexpr std::string_view fmt_error_message(FmtError e) noexcept {
  switch (e) {
    case FmtError::None: return "valid";
    case FmtError::UnmatchedBrace: return "a '{' without its '}', or a single '}' (write {{ and }} for braces)";
    case FmtError::BadArgId: return "an argument id must be a number without leading zeros";
    case FmtError::MixedIndexing: return "automatic ({}) and manual ({0}) argument indexing are mixed";
    case FmtError::IndexOutOfRange: return "an argument id is not less than the number of arguments";
    case FmtError::BadFill: return "'{' and '}' cannot be fill characters";
    case FmtError::BadSpec: return "the spec is not [[fill]align][sign][#][0][width][.precision][type]";
    case FmtError::NumberTooLarge: return "a width or precision is above hft::detail::kMaxFmtWidth";
    case FmtError::LocaleNotSupported: return "the 'L' (locale) option is not supported";
    case FmtError::TypeNotAllowed: return "the presentation type is not valid for the argument's kind";
    case FmtError::FlagNotAllowed: return "sign, '#' or '0' is not valid for the argument's kind or type";
    case FmtError::PrecisionNotAllowed: return "a precision is only valid for floating point and strings";
    case FmtError::NestedArgNotInteger: return "a nested width or precision argument must be an integer";
    case FmtError::NestedValueOutOfRange: return "a nested width or precision value is negative or too large";
    case FmtError::CharOutOfRange: return "an integer formatted with 'c' is outside char's range";
    case FmtError::CorruptArg: return "a corrupted argument";
  }
  return "unknown error";
}

/// A parsed std-format-spec. `width` / `precision` hold the argument index when `width_arg` / `precision_arg`.
struct FmtSpec {
  std::array<char, 4> fill{' ', '\0', '\0', '\0'};  ///< the fill character's UTF-8 bytes
  std::uint8_t fill_size = 1;                         ///< bytes used in `fill`
  char align = 0;                                     ///< '<', '>', '^', or 0 (the kind's default)
  char sign = 0;                                      ///< '+', '-', ' ', or 0
  char type = 0;                                      ///< the presentation type letter, or 0
  bool alt = false;                                   ///< '#'
  bool zero = false;                                  ///< '0'
  bool locale = false;                                ///< 'L' (always refused)
  bool width_arg = false;                             ///< width given by an argument
  bool has_precision = false;                         ///< a precision was given
  bool precision_arg = false;                         ///< precision given by an argument
  std::uint32_t width = 0;                            ///< the width, or its argument index
  std::uint32_t precision = 0;                        ///< the precision, or its argument index
};

/// Automatic vs manual argument numbering, across the fields of one format string.
struct FmtIndexing {
  std::uint8_t mode = 0;   ///< 0 none yet, 1 automatic, 2 manual
  std::uint32_t next = 0;  ///< the next automatic index
};

/// One parsed replacement field.
struct FmtField {
  std::uint32_t index = 0;       ///< the argument formatted
  LogArgKind kind{};             ///< its kind
  FmtSpec spec{};                ///< its spec (defaults without one)
  std::string_view custom_spec;  ///< the raw spec text of a Custom argument
};

[[nodiscard]] constexpr bool fmt_is_integer_kind(LogArgKind k) noexcept {
  return k == LogArgKind::Int || k == LogArgKind::UInt;
}
[[nodiscard]] constexpr bool fmt_is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Digits up to the first non-digit; a value above kMaxFmtWidth is refused.
constexpr FmtError fmt_parse_number(const char*& p, const char* end, std::uint32_t& v) noexcept {
  std::uint64_t acc = 0;
  while (p != end && fmt_is_digit(*p)) {
    acc = acc * 10 + static_cast<std::uint64_t>(*p - '0');
    if (acc > kMaxFmtWidth) return FmtError::NumberTooLarge;
    ++p;
  }
  v = static_cast<std::uint32_t>(acc);
  return FmtError::None;
}

// An arg-id at p (possibly empty = automatic), up to but not including the terminator.
constexpr FmtError fmt_parse_arg_id(const char*& p, const char* end, FmtIndexing& ix, std::uint32_t& id) noexcept {
  if (p == end) return FmtError::UnmatchedBrace;
  if (*p == '}' || *p == ':') {
    if (ix.mode == 2) return FmtError::MixedIndexing;
    ix.mode = 1;
    id = ix.next++;
    return FmtError::None;
  }
  if (!fmt_is_digit(*p)) return FmtError::BadArgId;
  if (ix.mode == 1) return FmtError::MixedIndexing;
  ix.mode = 2;
  if (*p == '0') {
    ++p;
    id = 0;
    return FmtError::None;
  }
  const FmtError e = fmt_parse_number(p, end, id);
  return e == FmtError::NumberTooLarge ? FmtError::IndexOutOfRange : e;
}

// A nested {} / {n} after its '{': the index of an Int or UInt argument; consumes the '}'.
template <class KindAt>
constexpr FmtError fmt_parse_nested(const char*& p, const char* end, FmtIndexing& ix, std::size_t nargs,
                                    const KindAt& kind_at, std::uint32_t& id) {
  if (p == end) return FmtError::UnmatchedBrace;
  if (*p == ':') return FmtError::BadArgId;
  if (const FmtError e = fmt_parse_arg_id(p, end, ix, id); e != FmtError::None) return e;
  if (p == end) return FmtError::UnmatchedBrace;
  if (*p != '}') return FmtError::BadArgId;
  ++p;
  if (id >= nargs) return FmtError::IndexOutOfRange;
  if (!fmt_is_integer_kind(kind_at(id))) return FmtError::NestedArgNotInteger;
  return FmtError::None;
}

[[nodiscard]] constexpr bool fmt_is_align(char c) noexcept { return c == '<' || c == '>' || c == '^'; }
[[nodiscard]] constexpr bool fmt_is_type(char c) noexcept {
  switch (c) {
    case 'a': case 'A': case 'b': case 'B': case 'c': case 'd': case 'e': case 'E': case 'f': case 'F':
    case 'g': case 'G': case 'o': case 'p': case 's': case 'x': case 'X': return true;
    default: return false;
  }
}

// The std-format-spec at p, up to (not including) its closing '}'.
template <class KindAt>
constexpr FmtError fmt_parse_spec(const char*& p, const char* end, FmtIndexing& ix, std::size_t nargs,
                                  const KindAt& kind_at, FmtSpec& s) {
  if (p == end) return FmtError::UnmatchedBrace;
  // A fill is one code point: the length of a UTF-8 sequence from its lead byte, if its continuation bytes follow.
  std::size_t n = 1;
  const auto lead = static_cast<unsigned char>(*p);
  const std::size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (want > 1 && static_cast<std::size_t>(end - p) > want) {
    bool cont = lead < 0xF8;
    for (std::size_t k = 1; k < want; ++k) cont = cont && (static_cast<unsigned char>(p[k]) & 0xC0) == 0x80;
    if (cont) n = want;
  }
  if (static_cast<std::size_t>(end - p) > n && fmt_is_align(p[n])) {
    if (*p == '{' || *p == '}') return FmtError::BadFill;
    for (std::size_t k = 0; k < n; ++k) s.fill[k] = p[k];
    s.fill_size = static_cast<std::uint8_t>(n);
    s.align = p[n];
    p += n + 1;
  } else if (fmt_is_align(*p)) {
    s.align = *p++;
  }
  if (p != end && (*p == '+' || *p == '-' || *p == ' ')) s.sign = *p++;
  if (p != end && *p == '#') {
    s.alt = true;
    ++p;
  }
  if (p != end && *p == '0') {
    s.zero = true;
    ++p;
  }
  if (p != end && *p == '0') return FmtError::BadSpec;  // a width does not start with 0
  if (p != end && fmt_is_digit(*p)) {
    if (const FmtError e = fmt_parse_number(p, end, s.width); e != FmtError::None) return e;
  } else if (p != end && *p == '{') {
    ++p;
    s.width_arg = true;
    if (const FmtError e = fmt_parse_nested(p, end, ix, nargs, kind_at, s.width); e != FmtError::None) return e;
  }
  if (p != end && *p == '.') {
    ++p;
    s.has_precision = true;
    if (p != end && fmt_is_digit(*p)) {
      if (const FmtError e = fmt_parse_number(p, end, s.precision); e != FmtError::None) return e;
    } else if (p != end && *p == '{') {
      ++p;
      s.precision_arg = true;
      if (const FmtError e = fmt_parse_nested(p, end, ix, nargs, kind_at, s.precision); e != FmtError::None) return e;
    } else {
      return p == end ? FmtError::UnmatchedBrace : FmtError::BadSpec;
    }
  }
  if (p != end && *p == 'L') {
    s.locale = true;
    ++p;
  }
  if (p != end && fmt_is_type(*p)) s.type = *p++;
  if (p == end) return FmtError::UnmatchedBrace;
  return *p == '}' ? FmtError::None : FmtError::BadSpec;
}

// Whether a parsed spec is valid for the kind, as [format.string.std] (and libc++ 16) rule per type.
constexpr FmtError fmt_check_spec(const FmtSpec& s, LogArgKind kind) noexcept {
  if (s.locale) return FmtError::LocaleNotSupported;
  const char t = s.type;
  const bool flags = s.sign != 0 || s.alt || (s.zero && s.align == 0);
  const bool int_type = t == 'b' || t == 'B' || t == 'd' || t == 'o' || t == 'x' || t == 'X';
  switch (kind) {
    case LogArgKind::Int:
    case LogArgKind::UInt:
      if (!(t == 0 || int_type || t == 'c')) return FmtError::TypeNotAllowed;
      if (s.has_precision) return FmtError::PrecisionNotAllowed;
      return t == 'c' && flags ? FmtError::FlagNotAllowed : FmtError::None;
    case LogArgKind::Char:
      if (!(t == 0 || int_type || t == 'c')) return FmtError::TypeNotAllowed;
      if (s.has_precision) return FmtError::PrecisionNotAllowed;
      return (t == 0 || t == 'c') && flags ? FmtError::FlagNotAllowed : FmtError::None;
    case LogArgKind::Bool:
      if (!(t == 0 || int_type || t == 's')) return FmtError::TypeNotAllowed;
      if (s.has_precision) return FmtError::PrecisionNotAllowed;
      return (t == 0 || t == 's') && flags ? FmtError::FlagNotAllowed : FmtError::None;
    case LogArgKind::Float:
    case LogArgKind::Double:
    case LogArgKind::LongDouble:
      switch (t) {
        case 0: case 'a': case 'A': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': return FmtError::None;
        default: return FmtError::TypeNotAllowed;
      }
    case LogArgKind::String:
      if (!(t == 0 || t == 's')) return FmtError::TypeNotAllowed;
      return s.sign != 0 || s.alt || s.zero ? FmtError::FlagNotAllowed : FmtError::None;
    case LogArgKind::Pointer:
      if (!(t == 0 || t == 'p')) return FmtError::TypeNotAllowed;
      if (s.has_precision) return FmtError::PrecisionNotAllowed;
      return s.sign != 0 || s.alt || s.zero ? FmtError::FlagNotAllowed : FmtError::None;
    case LogArgKind::Custom: return FmtError::None;
  }
  return FmtError::CorruptArg;
}

[[nodiscard]] constexpr bool fmt_kind_valid(LogArgKind k) noexcept {
  return static_cast<std::uint8_t>(k) <= static_cast<std::uint8_t>(LogArgKind::Custom);
}

// One replacement field, p just after its '{'; on success p is just after its '}'. The one parser both
// validate() (compile time) and format_to() (run time) use; kind_at(i) gives argument i's kind, i < nargs.
template <class KindAt>
constexpr FmtError fmt_parse_field(const char*& p, const char* end, FmtIndexing& ix, std::size_t nargs,
                                   const KindAt& kind_at, FmtField& f) {
  if (const FmtError e = fmt_parse_arg_id(p, end, ix, f.index); e != FmtError::None) return e;
  if (p == end) return FmtError::UnmatchedBrace;
  if (*p != '}' && *p != ':') return FmtError::BadArgId;
  if (f.index >= nargs) return FmtError::IndexOutOfRange;
  f.kind = kind_at(f.index);
  if (!fmt_kind_valid(f.kind)) return FmtError::CorruptArg;
  if (*p++ == '}') return FmtError::None;
  if (f.kind == LogArgKind::Custom) {
    const char* const b = p;
    while (p != end && *p != '}') ++p;
    if (p == end) return FmtError::UnmatchedBrace;
    f.custom_spec = std::string_view(b, static_cast<std::size_t>(p - b));
    ++p;
    return FmtError::None;
  }
  if (const FmtError e = fmt_parse_spec(p, end, ix, nargs, kind_at, f.spec); e != FmtError::None) return e;
  ++p;
  return fmt_check_spec(f.spec, f.kind);
}

/// Checks `fmt` against argument kinds `kinds` by the rules BasicLogFormatString enforces at compile time:
/// FmtError::None when format_to would format it (given in-range nested width/precision values).
[[nodiscard]] constexpr FmtError validate(std::string_view fmt, std::span<const LogArgKind> kinds) {
  const char* p = fmt.data();
  const char* const end = p + fmt.size();
  FmtIndexing ix;
  const auto kind_at = [kinds](std::uint32_t i) { return kinds[i]; };
  while (p != end) {
    const char c = *p++;
    if (c == '}') {
      if (p == end || *p != '}') return FmtError::UnmatchedBrace;
      ++p;
    } else if (c == '{') {
      if (p != end && *p == '{') {
        ++p;
        continue;
      }
      FmtField f;
      if (const FmtError e = fmt_parse_field(p, end, ix, kinds.size(), kind_at, f); e != FmtError::None) return e;
    }
  }
  return FmtError::None;
}

// Called (and not constexpr) only when a format string is invalid: the compiler's diagnostic names the rule.
inline void format_string_error_unmatched_brace_write_double_braces_for_literals() {}
inline void format_string_error_bad_argument_id() {}
inline void format_string_error_mixed_automatic_and_manual_indexing() {}
inline void format_string_error_argument_index_out_of_range() {}
inline void format_string_error_fill_cannot_be_a_brace() {}
inline void format_string_error_bad_format_spec() {}
inline void format_string_error_width_or_precision_above_kMaxFmtWidth() {}
inline void format_string_error_locale_option_L_not_supported() {}
inline void format_string_error_type_not_allowed_for_argument_kind() {}
inline void format_string_error_sign_hash_or_zero_not_allowed_for_argument_kind() {}
inline void format_string_error_precision_not_allowed_for_argument_kind() {}
inline void format_string_error_nested_width_or_precision_argument_not_integer() {}
inline void format_string_error_invalid() {}

template <LogArgKind... K>
consteval void check_log_format_string(std::string_view format_text) {
  constexpr std::array<LogArgKind, sizeof...(K)> kinds{K...};
  switch (validate(format_text, kinds)) {
    case FmtError::None: return;
    case FmtError::UnmatchedBrace: format_string_error_unmatched_brace_write_double_braces_for_literals(); break;
    case FmtError::BadArgId: format_string_error_bad_argument_id(); break;
    case FmtError::MixedIndexing: format_string_error_mixed_automatic_and_manual_indexing(); break;
    case FmtError::IndexOutOfRange: format_string_error_argument_index_out_of_range(); break;
    case FmtError::BadFill: format_string_error_fill_cannot_be_a_brace(); break;
    case FmtError::BadSpec: format_string_error_bad_format_spec(); break;
    case FmtError::NumberTooLarge: format_string_error_width_or_precision_above_kMaxFmtWidth(); break;
    case FmtError::LocaleNotSupported: format_string_error_locale_option_L_not_supported(); break;
    case FmtError::TypeNotAllowed: format_string_error_type_not_allowed_for_argument_kind(); break;
    case FmtError::FlagNotAllowed: format_string_error_sign_hash_or_zero_not_allowed_for_argument_kind(); break;
    case FmtError::PrecisionNotAllowed: format_string_error_precision_not_allowed_for_argument_kind(); break;
    case FmtError::NestedArgNotInteger: format_string_error_nested_width_or_precision_argument_not_integer(); break;
    default: format_string_error_invalid(); break;
  }
}

// ---- run time -------------------------------------------------------------------------------------------

inline void fmt_append_fill(std::string& out, std::size_t n, const FmtSpec& s) {
  if (s.fill_size == 1) {
    out.append(n, s.fill[0]);
    return;
  }
  for (std::size_t k = 0; k < n; ++k) out.append(s.fill.data(), s.fill_size);
}

// [before-fill][prefix][zeros][body][after-fill]; `cols` is body's width (code points for strings).
inline void fmt_emit(std::string& out, std::string_view prefix, std::string_view body, std::size_t cols,
                     const FmtSpec& s, std::size_t width, char default_align, bool zero_ok) {
  const std::size_t len = prefix.size() + cols;
  if (width <= len) {
    out.append(prefix);
    out.append(body);
    return;
  }
  const std::size_t pad = width - len;
  if (zero_ok && s.zero && s.align == 0) {
    out.append(prefix);
    out.append(pad, '0');
    out.append(body);
    return;
  }
  const char a = s.align != 0 ? s.align : default_align;
  const std::size_t before = a == '>' ? pad : a == '^' ? pad / 2 : 0;
  fmt_append_fill(out, before, s);
  out.append(prefix);
  out.append(body);
  fmt_append_fill(out, pad - before, s);
}

// Pads out[start..] (a number whose sign takes its first prefix_len bytes) to `width`, right-aligned by default.
inline void fmt_pad_in_place(std::string& out, std::size_t start, std::size_t prefix_len, const FmtSpec& s,
                             std::size_t width, bool zero_ok) {
  const std::size_t len = out.size() - start;
  if (width <= len) return;
  const std::size_t pad = width - len;
  if (zero_ok && s.zero && s.align == 0) {
    out.insert(start + prefix_len, pad, '0');
    return;
  }
  const char a = s.align != 0 ? s.align : '>';
  const std::size_t before = a == '>' ? pad : a == '^' ? pad / 2 : 0;
  if (before != 0) {
    out.insert(start, before * s.fill_size, s.fill[0]);
    if (s.fill_size != 1)
      for (std::size_t k = 0; k < before; ++k)
        for (std::size_t j = 0; j < s.fill_size; ++j) out[start + k * s.fill_size + j] = s.fill[j];
  }
  fmt_append_fill(out, pad - before, s);
}

inline void fmt_upper(char* b, const char* e) noexcept {
  for (; b != e; ++b)
    if (*b >= 'a' && *b <= 'z') *b = static_cast<char>(*b - 'a' + 'A');
}

// An integer (magnitude and sign) with a spec of an integer presentation type (not 'c').
inline void fmt_integer(std::string& out, unsigned long long mag, bool neg, const FmtSpec& s, std::size_t width) {
  std::array<char, 4> prefix{};
  std::size_t plen = 0;
  if (neg) prefix[plen++] = '-';
  else if (s.sign == '+' || s.sign == ' ') prefix[plen++] = s.sign;
  int base = 10;
  switch (s.type) {
    case 'b': case 'B': base = 2; break;
    case 'o': base = 8; break;
    case 'x': case 'X': base = 16; break;
    default: break;
  }
  if (s.alt && base != 10) {
    if (base == 8) {
      if (mag != 0) prefix[plen++] = '0';
    } else {
      prefix[plen++] = '0';
      prefix[plen++] = s.type;
    }
  }
  std::array<char, 72> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): to_chars writes what is read
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), mag, base);
  if (s.type == 'X') fmt_upper(buf.data(), r.ptr);
  const auto n = static_cast<std::size_t>(r.ptr - buf.data());
  fmt_emit(out, std::string_view(prefix.data(), plen), std::string_view(buf.data(), n), n, s, width, '>', true);
}

// Code points of UTF-8 (bytes that are not continuation bytes).
[[nodiscard]] inline std::size_t fmt_code_points(std::string_view t) noexcept {
  std::size_t n = 0;
  for (const char c : t) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

inline void fmt_string(std::string& out, std::string_view t, const FmtSpec& s, std::size_t width, int precision) {
  if (precision >= 0) {
    std::size_t cps = 0;
    std::size_t i = 0;
    for (; i < t.size(); ++i) {
      if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) {
        if (cps == static_cast<std::size_t>(precision)) break;
        ++cps;
      }
    }
    t = t.substr(0, i);
  }
  if (width == 0) {
    out.append(t);
    return;
  }
  fmt_emit(out, {}, t, fmt_code_points(t), s, width, '<', false);
}

template <class F>
void fmt_floating(std::string& out, F v, const FmtSpec& s, std::size_t width, int precision) {
  const std::size_t start = out.size();
  const bool neg = std::signbit(v);
  if (neg) out.push_back('-');
  else if (s.sign == '+' || s.sign == ' ') out.push_back(s.sign);
  const std::size_t sign_len = out.size() - start;
  const char t = s.type;
  const bool upper = t == 'A' || t == 'E' || t == 'F' || t == 'G';
  if (!std::isfinite(v)) {
    out.append(std::isnan(v) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"), 3);
    fmt_pad_in_place(out, start, sign_len, s, width, false);  // '0' does not pad inf and nan
    return;
  }
  if (neg) v = -v;
  const std::size_t p = precision < 0 ? 6 : static_cast<std::size_t>(precision);
  std::size_t bound = 0;
  std::chars_format cf = std::chars_format::general;
  bool shortest = false;
  switch (t) {
    case 'a': case 'A': cf = std::chars_format::hex; shortest = precision < 0; bound = p + 40; break;
    case 'e': case 'E': cf = std::chars_format::scientific; bound = p + 24; break;
    case 'f': case 'F': {
      cf = std::chars_format::fixed;
      const int e2 = v < F(1) ? 0 : std::ilogb(v);
      bound = static_cast<std::size_t>(e2) * 302 / 1000 + p + 24;
      break;
    }
    case 'g': case 'G': bound = p + 24; break;
    default: shortest = precision < 0; bound = p + 24; break;
  }
  if (shortest) bound = 64;
  const std::size_t body = out.size();
  std::to_chars_result r{};
  for (int attempt = 0; attempt < 2; ++attempt) {
    out.resize(body + bound);
    char* const first = out.data() + body;
    r = shortest ? (t == 0 ? std::to_chars(first, first + bound, v) : std::to_chars(first, first + bound, v, cf))
                 : std::to_chars(first, first + bound, v, cf, static_cast<int>(p));
    if (r.ec == std::errc{}) break;
    bound = p + 5000;  // not reached with the bounds above; a second try keeps a wrong estimate harmless
  }
  if (r.ec != std::errc{}) {
    out.resize(start);
    out.append("{?}");
    return;
  }
  out.resize(static_cast<std::size_t>(r.ptr - out.data()));
  if (upper) fmt_upper(out.data() + body, out.data() + out.size());
  if (s.alt) {
    const char expc = (t == 'a' || t == 'A') ? 'p' : 'e';
    std::size_t exp = out.find(upper ? static_cast<char>(expc - 'a' + 'A') : expc, body);
    if (exp == std::string::npos) exp = out.size();
    if (out.find('.', body) >= exp) {
      out.insert(exp, 1, '.');
      ++exp;
    }
    if (t == 'g' || t == 'G') {
      const std::size_t want = p == 0 ? 1 : p;
      std::size_t sig = 0;
      bool leading = true;
      for (std::size_t k = body; k < exp; ++k) {
        const char c = out[k];
        if (c == '.') continue;
        if (leading && c == '0') continue;
        leading = false;
        ++sig;
      }
      if (sig == 0) sig = 1;
      if (want > sig) out.insert(exp, want - sig, '0');
    }
  }
  fmt_pad_in_place(out, start, sign_len, s, width, true);
}

inline void fmt_pointer(std::string& out, const void* ptr, const FmtSpec& s, std::size_t width) {
  std::array<char, 2 + 2 * sizeof(std::uintptr_t)> buf{'0', 'x'};
  const auto r = std::to_chars(buf.data() + 2, buf.data() + buf.size(), reinterpret_cast<std::uintptr_t>(ptr), 16);
  const auto n = static_cast<std::size_t>(r.ptr - buf.data());
  fmt_emit(out, {}, std::string_view(buf.data(), n), n, s, width, '>', false);
}

// A nested width or precision value from argument `a` (Int or UInt, checked by the parser).
[[nodiscard]] inline bool fmt_dynamic(const FmtArg& a, std::uint32_t& v) noexcept {
  if (a.kind == LogArgKind::Int) {
    if (a.i < 0 || a.i > static_cast<long long>(kMaxFmtWidth)) return false;
    v = static_cast<std::uint32_t>(a.i);
    return true;
  }
  if (a.kind == LogArgKind::UInt && a.u <= kMaxFmtWidth) {
    v = static_cast<std::uint32_t>(a.u);
    return true;
  }
  return false;
}

// Formats one parsed field; false (nothing appended) on a run-time mismatch.
[[nodiscard]] inline bool fmt_field(std::string& out, const FmtField& f, std::span<const FmtArg> args) {
  const FmtArg& a = args[f.index];
  const FmtSpec& s = f.spec;
  std::uint32_t width = s.width;
  std::uint32_t prec = s.precision;
  if (s.width_arg && !fmt_dynamic(args[s.width], width)) return false;
  if (s.precision_arg && !fmt_dynamic(args[s.precision], prec)) return false;
  const int precision = s.has_precision ? static_cast<int>(prec) : -1;
  const auto as_char = [&](char c) {
    fmt_emit(out, {}, std::string_view(&c, 1), 1, s, width, '<', false);
  };
  switch (a.kind) {
    case LogArgKind::Bool:
      if (s.type == 0 || s.type == 's') {
        const std::string_view t = a.b ? std::string_view("true") : std::string_view("false");
        fmt_emit(out, {}, t, t.size(), s, width, '<', false);
      } else {
        fmt_integer(out, a.b ? 1U : 0U, false, s, width);
      }
      return true;
    case LogArgKind::Char:
      if (s.type == 0 || s.type == 'c') {
        as_char(a.c);
      } else {
        // NOLINTNEXTLINE(bugprone-signed-char-misuse,cert-str34-c): char's int value, as libc++ 16 formats it
        const int v = a.c;
        fmt_integer(out, v < 0 ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v), v < 0,
                    s, width);
      }
      return true;
    case LogArgKind::Int:
      if (s.type == 'c') {
        if (a.i < std::numeric_limits<char>::min() || a.i > std::numeric_limits<char>::max()) return false;
        as_char(static_cast<char>(a.i));
      } else {
        const auto m = static_cast<unsigned long long>(a.i);
        fmt_integer(out, a.i < 0 ? 0ULL - m : m, a.i < 0, s, width);
      }
      return true;
    case LogArgKind::UInt:
      if (s.type == 'c') {
        if (a.u > static_cast<unsigned long long>(std::numeric_limits<char>::max())) return false;
        as_char(static_cast<char>(a.u));
      } else {
        fmt_integer(out, a.u, false, s, width);
      }
      return true;
    case LogArgKind::Float: fmt_floating(out, a.f, s, width, precision); return true;
    case LogArgKind::Double: fmt_floating(out, a.d, s, width, precision); return true;
    case LogArgKind::LongDouble: fmt_floating(out, a.ld, s, width, precision); return true;
    case LogArgKind::String:
      if (a.s.data == nullptr && a.s.size != 0) return false;
      fmt_string(out, std::string_view(a.s.data, a.s.size), s, width, precision);
      return true;
    case LogArgKind::Pointer: fmt_pointer(out, a.p, s, width); return true;
    case LogArgKind::Custom:
      if (a.custom.fn == nullptr) return false;
      a.custom.fn(a.custom.obj, f.custom_spec, out);
      return true;
  }
  return false;
}

// The fast path of a field without a spec.
[[nodiscard]] inline bool fmt_plain(std::string& out, const FmtArg& a) {
  std::array<char, 64> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): to_chars writes what is read
  switch (a.kind) {
    case LogArgKind::Int: {
      const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), a.i);
      out.append(buf.data(), r.ptr);
      return true;
    }
    case LogArgKind::UInt: {
      const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), a.u);
      out.append(buf.data(), r.ptr);
      return true;
    }
    case LogArgKind::Double: {
      if (!std::isfinite(a.d)) return false;  // to_chars spells nan differently across libraries ("nan(ind)")
      const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), a.d);
      if (r.ec != std::errc{}) return false;
      out.append(buf.data(), r.ptr);
      return true;
    }
    case LogArgKind::String:
      if (a.s.data == nullptr && a.s.size != 0) return false;
      out.append(a.s.data, a.s.size);
      return true;
    case LogArgKind::Bool: out.append(a.b ? std::string_view("true") : std::string_view("false")); return true;
    case LogArgKind::Char: out.push_back(a.c); return true;
    default: return false;  // the general path
  }
}

/// Appends `fmt` formatted with `args` to `out` as std::format would for the same values and specs. Returns
/// false after appending "{?}" in place of each field that does not match its argument at run time (see Errors
/// in the header comment); never throws for that and never reads outside `fmt` and `args`. Any thread.
inline bool format_to(std::string& out, std::string_view fmt, std::span<const FmtArg> args) {
  const char* p = fmt.data();
  const char* const end = p + fmt.size();
  FmtIndexing ix;
  bool ok = true;
  const auto kind_at = [args](std::uint32_t i) { return args[i].kind; };
  while (p != end) {
    const char* q = p;
    while (q != end && *q != '{' && *q != '}') ++q;
    out.append(p, q);
    if (q == end) break;
    p = q + 1;
    if (*q == '}') {
      if (p != end && *p == '}') {
        out.push_back('}');
        ++p;
      } else {
        out.append("{?}");
        ok = false;
      }
      continue;
    }
    if (p != end && *p == '{') {
      out.push_back('{');
      ++p;
      continue;
    }
    FmtField f;
    const FmtError e = fmt_parse_field(p, end, ix, args.size(), kind_at, f);
    if (e != FmtError::None) {
      // Skip to the '}' closing this field (one level of nested braces), or to the end.
      p = q + 1;
      int depth = 1;
      for (; p != end && depth > 0; ++p) depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
      out.append("{?}");
      ok = false;
      continue;
    }
    const std::size_t mark = out.size();
    const bool plain = p - q == 2 || (p - q == 3 && fmt_is_digit(q[1]));
    if ((plain && fmt_plain(out, args[f.index])) || fmt_field(out, f, args)) continue;
    out.resize(mark);
    out.append("{?}");
    ok = false;
  }
  return ok;
}

}  // namespace detail

/// A format string for arguments of kinds K..., checked at compile time by a consteval constructor (as
/// std::basic_format_string): an invalid string does not compile, and the diagnostic names a function
/// hft::detail::format_string_error_<reason>.
template <LogArgKind... K>
struct BasicLogFormatString {
  /// Checks `format_text` against K... (compile time only); see the header comment for the rules.
  template <class S>
    requires std::convertible_to<const S&, std::string_view>
  // NOLINTNEXTLINE(google-explicit-constructor): implicit, as std::basic_format_string
  consteval BasicLogFormatString(const S& format_text) : str(format_text) {
    detail::check_log_format_string<K...>(str);
  }
  std::string_view str;  ///< the checked format string
  /// The format string. Any thread.
  [[nodiscard]] constexpr std::string_view get() const noexcept { return str; }
};

}  // namespace hft
