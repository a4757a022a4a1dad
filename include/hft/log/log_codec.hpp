// hft/log/log_codec.hpp: how the logger copies a call's arguments into its ring, and how the
// backend turns those bytes back into values to format: the built-in argument types and
// LogCodec<T>, the opt-in for user types.
//
// What: a log call does not format. It copies each argument's bytes after a 24-byte record
//   header (size, call-site id, TSC timestamp, logger id, flags):
//     bool, char, every other integer, float, double, long double: the value's bytes;
//     an enum without a LogCodec: its underlying integer (it prints as that number);
//     const char*, char*, string literals, std::string_view, std::string (anything
//       convertible to std::string_view): a 4-byte length and the characters, copied (a
//       null const char* is logged as "(null)");
//     void*, const void*, std::nullptr_t: the address (printed as std::format prints it);
//     a type T with a LogCodec<T> specialization: a 4-byte length and what the codec writes.
//   Nothing else compiles: another pointer type, a type without a codec, wchar_t and the
//   charN_t types stop the build with a static_assert that names the type's category. The
//   backend decodes the bytes into hft::detail::FmtArg values and formats them with
//   hft::detail::format_to (hft/log/log_format.hpp), in the backend thread.
//   A user type opts in by specialising LogCodec<T>:
//     - trivially copyable types derive from TriviallyCopyableLogCodec<T> and add
//       `static void format_value(const T&, std::string_view spec, std::string& out)`;
//     - any other type provides `static std::size_t encoded_size(const T&) noexcept`,
//       `static void encode(const T&, std::byte* dst) noexcept` (exactly encoded_size bytes)
//       and `static bool format(std::span<const std::byte>, std::string_view spec,
//       std::string& out)` (false: the bytes were not what encode writes).
//   `spec` is the text after the ':' of the replacement field ("" for "{}"); the format-string
//   check accepts any spec for a codec type, so the codec says what it supports.
// When to use: through the HFT_LOG_* macros (hft/log/logger.hpp); a user includes this header
//   only to write a codec. When not: values whose lifetime ends before the backend formats
//   them are fine (everything is copied); a type that is expensive to copy is better logged
//   through the fields the line needs.
// Thread-safety: the encoders run on the logging thread, the decoders on the backend thread;
//   neither keeps state. A codec's functions must be callable from either.
// Progress: wait-free (a bounded copy per argument); a codec's own functions decide theirs.
// Memory ordering: none (the ring that carries the bytes orders them: hft/log/log_ring.hpp).
// Complexity: O(total argument bytes) per call; no allocation on the logging thread (a
//   codec's encode must not allocate either). Decoding allocates nothing; formatting
//   appends to the backend's reused std::string.
// Limits: a string longer than the ring's record limit (half the ring) is truncated to fit,
//   and the line ends with " [truncated]"; arguments of fixed size that alone exceed the
//   limit make the line a counted drop ("oversize"). Lengths are 32-bit.
//
// Compared with:
//   - Quill: the same split (encode on the caller, decode and format on the backend) with
//     fmt; Quill's codecs (quill/core/Codec.h) encode user types member by member or format
//     them on the caller thread (deferred vs direct format); ours are bytes plus one format
//     function, and a type without a codec does not compile (never a silent formatting on
//     the hot path).
//   - fmtlog: copies arguments the same way and formats with fmt on its poll thread.
//   - NanoLog: a generated, compressed encoding per format string (a preprocessor pass in
//     its C++17 variant); ours is one generic encoding, not compressed.
//   - spdlog: formats on the caller (fmt) even in async mode; the queue carries finished text.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "hft/log/log_format.hpp"

namespace hft {

/// The opt-in for a user type T: specialise it (see the header comment). The primary
/// template is deliberately incomplete.
template <class T>
struct LogCodec;

/// A base for the LogCodec of a trivially copyable T: copies the object's bytes and, in the
/// backend, calls LogCodec<T>::format_value(const T&, spec, out), which the specialisation adds.
template <class T>
struct TriviallyCopyableLogCodec {
  static_assert(std::is_trivially_copyable_v<T>, "TriviallyCopyableLogCodec<T>: T must be trivially copyable");
  /// sizeof(T).
  static constexpr std::size_t encoded_size(const T&) noexcept { return sizeof(T); }
  /// Copies the object's bytes to dst.
  static void encode(const T& v, std::byte* dst) noexcept { std::memcpy(dst, &v, sizeof(T)); }
  /// Rebuilds the object from its bytes and formats it; false when the size is not sizeof(T).
  static bool format(std::span<const std::byte> bytes, std::string_view spec, std::string& out) {
    if (bytes.size() != sizeof(T)) return false;
    struct Raw {
      std::byte b[sizeof(T)];
    } raw{};
    std::memcpy(raw.b, bytes.data(), sizeof(T));
    LogCodec<T>::format_value(std::bit_cast<T>(raw), spec, out);
    return true;
  }
};

/// True when T has a usable LogCodec specialisation.
template <class T>
concept HasLogCodec = requires(const T& v, std::byte* dst, std::span<const std::byte> b, std::string& out) {
  { LogCodec<T>::encoded_size(v) } -> std::convertible_to<std::size_t>;
  LogCodec<T>::encode(v, dst);
  { LogCodec<T>::format(b, std::string_view{}, out) } -> std::convertible_to<bool>;
};

namespace detail {

template <class T>
inline constexpr bool is_log_char_type_v =
    std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> || std::is_same_v<T, char16_t> ||
    std::is_same_v<T, char32_t>;

template <class T>
inline constexpr bool is_log_string_v = !HasLogCodec<T> && !std::is_same_v<T, std::nullptr_t> &&
                                        std::is_convertible_v<const T&, std::string_view>;

template <class T>
inline constexpr bool is_log_pointer_v = std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, void*> ||
                                         std::is_same_v<T, const void*>;

template <class T>
struct dependent_false : std::false_type {};

/// The argument kind a (decayed) C++ type is logged as.
template <class T>
consteval LogArgKind log_arg_kind() {
  if constexpr (std::is_same_v<T, bool>) {
    return LogArgKind::Bool;
  } else if constexpr (std::is_same_v<T, char>) {
    return LogArgKind::Char;
  } else if constexpr (is_log_char_type_v<T>) {
    static_assert(dependent_false<T>::value, "hft log: wchar_t, char8_t, char16_t and char32_t are not loggable");
    return LogArgKind::Custom;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return LogArgKind::Int;
  } else if constexpr (std::is_integral_v<T>) {
    return LogArgKind::UInt;
  } else if constexpr (std::is_same_v<T, float>) {
    return LogArgKind::Float;
  } else if constexpr (std::is_same_v<T, double>) {
    return LogArgKind::Double;
  } else if constexpr (std::is_same_v<T, long double>) {
    return LogArgKind::LongDouble;
  } else if constexpr (HasLogCodec<T>) {
    return LogArgKind::Custom;
  } else if constexpr (std::is_enum_v<T>) {
    return log_arg_kind<std::underlying_type_t<T>>();
  } else if constexpr (is_log_string_v<T>) {
    return LogArgKind::String;
  } else if constexpr (is_log_pointer_v<T>) {
    return LogArgKind::Pointer;
  } else if constexpr (std::is_pointer_v<T>) {
    static_assert(dependent_false<T>::value,
                  "hft log: a pointer other than void*/const void*/char* is not loggable: cast it to const void*");
    return LogArgKind::Custom;
  } else {
    static_assert(dependent_false<T>::value,
                  "hft log: this type is not loggable: specialise hft::LogCodec<T> (hft/log/log_codec.hpp)");
    return LogArgKind::Custom;
  }
}

/// The kind of a call's argument as written at the call site (arrays decay, cv-ref stripped).
template <class T>
inline constexpr LogArgKind log_arg_kind_v = log_arg_kind<std::decay_t<T>>();

/// A user-type argument on its way into the ring.
template <class T>
struct LogCustomRef {
  const T* value;
};

/// What a call-site argument is encoded as: the value itself for arithmetic types, the
/// underlying integer for enums, a string_view, a const void*, or a LogCustomRef.
template <class A>
[[nodiscard]] constexpr auto log_prepare(const A& a) noexcept {
  using T = std::decay_t<A>;
  constexpr LogArgKind kind = log_arg_kind_v<A>;
  if constexpr (kind == LogArgKind::Custom) {
    return LogCustomRef<T>{&a};
  } else if constexpr (kind == LogArgKind::String) {
    if constexpr (std::is_array_v<A>) {  // a literal or a char buffer: up to its first NUL, within its bounds
      return std::string_view(a, ::strnlen(a, std::extent_v<A>));
    } else if constexpr (std::is_pointer_v<T>) {
      return a == nullptr ? std::string_view("(null)") : std::string_view(a);
    } else {
      return std::string_view(a);
    }
  } else if constexpr (kind == LogArgKind::Pointer) {
    return static_cast<const void*>(a);
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<std::underlying_type_t<T>>(a);
  } else {
    return static_cast<T>(a);
  }
}

/// The length word of strings and codec payloads.
using LogLength = std::uint32_t;

/// Bytes an encoded argument takes before truncation.
template <class P>
[[nodiscard]] constexpr std::size_t log_encoded_size(const P& p) noexcept {
  if constexpr (std::is_same_v<P, std::string_view>) {
    return sizeof(LogLength) + p.size();
  } else if constexpr (requires { p.value; }) {
    using T = std::remove_cvref_t<decltype(*p.value)>;
    return sizeof(LogLength) + LogCodec<T>::encoded_size(*p.value);
  } else {
    return sizeof(P);
  }
}

/// Bytes an argument takes whatever the truncation (everything but the characters of a string).
template <class P>
[[nodiscard]] constexpr std::size_t log_fixed_size(const P& p) noexcept {
  if constexpr (std::is_same_v<P, std::string_view>) {
    return sizeof(LogLength);
  } else {
    return log_encoded_size(p);
  }
}

/// Copies n bytes without a call for the short strings log lines are made of (a variable-size
/// memcpy is a call into libc: measured ~3 ns of a ~20 ns log call).
inline void log_copy(std::byte* dst, const char* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {  // two overlapping 8-byte moves
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::byte>(src[i]);
  } else {
    std::memcpy(dst, src, n);
  }
}

/// Writes one argument at dst and returns the end. A string takes at most `budget` characters
/// (budget shrinks by what it takes; `truncated` is set when it took fewer than it has).
template <class P>
std::byte* log_encode(const P& p, std::byte* dst, std::size_t& budget, bool& truncated) noexcept {
  if constexpr (std::is_same_v<P, std::string_view>) {
    std::size_t n = p.size();
    if (n > budget) {
      n = budget;
      truncated = true;
    }
    budget -= n;
    const auto len = static_cast<LogLength>(n);
    std::memcpy(dst, &len, sizeof len);
    if (n != 0) std::memcpy(dst + sizeof len, p.data(), n);
    return dst + sizeof len + n;
  } else if constexpr (requires { p.value; }) {
    using T = std::remove_cvref_t<decltype(*p.value)>;
    const std::size_t n = LogCodec<T>::encoded_size(*p.value);
    const auto len = static_cast<LogLength>(n);
    std::memcpy(dst, &len, sizeof len);
    LogCodec<T>::encode(*p.value, dst + sizeof len);
    return dst + sizeof len + n;
  } else {
    std::memcpy(dst, &p, sizeof(P));
    return dst + sizeof(P);
  }
}

/// Writes one argument at dst and returns the end (the untruncated form: the record has room).
template <class P>
std::byte* log_encode(const P& p, std::byte* dst) noexcept {
  if constexpr (std::is_same_v<P, std::string_view>) {
    const auto len = static_cast<LogLength>(p.size());
    std::memcpy(dst, &len, sizeof len);
    log_copy(dst + sizeof len, p.data(), p.size());
    return dst + sizeof len + p.size();
  } else {
    std::size_t budget = std::numeric_limits<std::size_t>::max();
    bool truncated = false;
    return log_encode(p, dst, budget, truncated);
  }
}

/// A user-type argument on its way out of the ring: its bytes and the codec that reads them.
struct LogCustomView {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  mutable bool failed = false;  ///< the codec said the bytes are not what its encode writes
};

template <class T>
void log_custom_format(const void* obj, std::string_view spec, std::string& out) {
  const auto* v = static_cast<const LogCustomView*>(obj);
  if (!LogCodec<T>::format(std::span<const std::byte>(v->data, v->size), spec, out)) {
    out += "{?}";
    v->failed = true;
  }
}

/// Reads one argument of prepared type P from [p, end) into `arg`; false when it does not fit.
template <class P>
bool log_decode(const std::byte*& p, const std::byte* end, FmtArg& arg, LogCustomView& custom) noexcept {
  const auto left = static_cast<std::size_t>(end - p);
  if constexpr (std::is_same_v<P, std::string_view> || requires(P x) { x.value; }) {
    LogLength len = 0;
    if (left < sizeof len) return false;
    std::memcpy(&len, p, sizeof len);
    if (len > left - sizeof len) return false;
    if constexpr (std::is_same_v<P, std::string_view>) {
      arg.kind = LogArgKind::String;
      arg.s.data = reinterpret_cast<const char*>(p + sizeof len);
      arg.s.size = len;
    } else {
      using T = std::remove_cvref_t<decltype(*P{}.value)>;
      custom.data = p + sizeof len;
      custom.size = len;
      arg.kind = LogArgKind::Custom;
      arg.custom.obj = &custom;
      arg.custom.fn = &log_custom_format<T>;
    }
    p += sizeof len + len;
    return true;
  } else if constexpr (std::is_same_v<P, bool>) {
    // A byte, not a bool: a corrupt record's byte may be neither 0 nor 1, and loading that
    // as a bool is undefined.
    if (left < 1) return false;
    unsigned char byte = 0;
    std::memcpy(&byte, p, 1);
    p += 1;
    arg.kind = LogArgKind::Bool;
    arg.b = byte != 0;
    return true;
  } else {
    if (left < sizeof(P)) return false;
    P v{};
    std::memcpy(&v, p, sizeof(P));
    p += sizeof(P);
    if constexpr (std::is_same_v<P, char>) {
      arg.kind = LogArgKind::Char;
      arg.c = v;
    } else if constexpr (std::is_same_v<P, const void*>) {
      arg.kind = LogArgKind::Pointer;
      arg.p = v;
    } else if constexpr (std::is_same_v<P, float>) {
      arg.kind = LogArgKind::Float;
      arg.f = v;
    } else if constexpr (std::is_same_v<P, double>) {
      arg.kind = LogArgKind::Double;
      arg.d = v;
    } else if constexpr (std::is_same_v<P, long double>) {
      arg.kind = LogArgKind::LongDouble;
      arg.ld = v;
    } else if constexpr (std::is_signed_v<P>) {
      arg.kind = LogArgKind::Int;
      // A signed char logs as its value.
      arg.i = static_cast<long long>(v);  // NOLINT(bugprone-signed-char-misuse,cert-str34-c)
    } else {
      arg.kind = LogArgKind::UInt;
      arg.u = static_cast<unsigned long long>(v);
    }
    return true;
  }
}

/// The backend's entry point for one call site: decodes `payload` as the prepared types Ps
/// and appends the message formatted by `fmt` to out. False when the payload does not hold
/// the arguments (a corrupt record): out then holds what could be formatted and a marker.
template <class... Ps>
bool log_format_record(std::span<const std::byte> payload, std::string_view fmt, std::string& out) {
  const std::byte* p = payload.data();
  const std::byte* const end = p + payload.size();
  if constexpr (sizeof...(Ps) == 0) {
    return detail::format_to(out, fmt, std::span<const FmtArg>{}) && static_cast<std::size_t>(end - p) < 8;
  } else {
    std::array<FmtArg, sizeof...(Ps)> args{};
    std::array<LogCustomView, sizeof...(Ps)> customs{};
    std::size_t k = 0;
    const bool decoded = ((log_decode<Ps>(p, end, args[k], customs[k]) ? (++k, true) : false) && ...);
    if (!decoded) {
      out += "[corrupt record: arguments do not decode]";
      return false;
    }
    // Padding to the record alignment is all that may follow the last argument.
    const bool ok = detail::format_to(out, fmt, std::span<const FmtArg>(args));
    bool codecs_ok = true;
    for (const auto& c : customs) codecs_ok = codecs_ok && !c.failed;
    return ok && codecs_ok && static_cast<std::size_t>(end - p) < 8;
  }
}

/// The decoder a call site registers: one instantiation per list of prepared argument types.
using LogFormatFn = bool (*)(std::span<const std::byte> payload, std::string_view fmt, std::string& out);

}  // namespace detail

/// The format-string type of a log call with arguments Args: checked at compile time against
/// the kinds the arguments are logged as (hft/log/log_format.hpp).
template <class... Args>
using LogFormatString = BasicLogFormatString<detail::log_arg_kind_v<Args>...>;

}  // namespace hft
