// hft/fix/message.hpp: a zero-allocation FIX tag=value parser: fix::parse() frames one
// message at the front of a receive buffer, validates it and fills a fix::Message, a view of
// its fields by tag.
//
// What: one pass over the bytes. parse(buf, msg) checks, in this order:
//   framing  BeginString(8) first, with a value starting "FIX"; BodyLength(9) second, 1-9
//            digits, at most cfg.max_body_length; the body ends with SOH exactly where
//            BodyLength says; then CheckSum(10) with exactly three digits and SOH; the byte
//            sum mod 256 matches. A frame that fails one of these is *garbled*: the spec says
//            to ignore it, and ParseResult::consumed says how many bytes to drop (the whole
//            frame when its length was sound, also when its CheckSum field is malformed, so
//            nothing inside its body is ever parsed as a message; else up to the next
//            "8=FIX").
//   fields   MsgType(35) is the third field; every field is tag=value<SOH> with a tag of
//            1-9 digits and no leading zero, and a non-empty value; no standard-header field
//            after the first body field; no body field after a trailer field; at most
//            Message::kMaxFields fields. A message that frames but breaks one of these is
//            *rejectable*: the session answers Reject(3), ParseResult::reason() gives its
//            SessionRejectReason and ParseResult::tag the offending tag.
//   The result names the rule (ParseStatus) and the tag, never throws, and never reads
//   outside `buf`.
// Field access: get(tag) returns the value as a string_view into the caller's buffer (empty
//   when absent; a present value is never empty). Tags below kIndexedTags are found through a
//   direct index, others by a scan of the field table. A repeated tag is kept in fields() and
//   get() returns its first value: repeating groups are not interpreted.
// When to use: a FIX engine or gateway that owns its receive buffer and wants fields without
//   copying them. When not: messages with repeating groups you must interpret, or raw data
//   fields (95/96) whose value may hold SOH: both need a data dictionary (QuickFIX's
//   DataDictionary), which this codec does not have.
// Thread-safety: parse() is a pure function of its arguments. A Message is a plain value
//   owned by one thread; it points into the buffer it was parsed from, which must outlive it
//   and stay unchanged while it is read.
// Progress: wait-free (bounded by the message's length).
// Memory ordering: none (not shared).
// Complexity: O(length) to parse; get() O(1) below kIndexedTags, O(fields) above. Allocates
//   nothing: a Message is a fixed table of kMaxFields entries (about 1.7 KiB).
// Compared with: QuickFIX's FIX::Message::setString copies every field into a std::string
//   in a sorted FieldMap (one allocation per field); hffix is also zero-copy but leaves
//   checksum/length/order validation and lookup by tag to the caller. docs/fix.md lists where
//   this parser is stricter than QuickFIX (leading zeros, empty values, 3-digit CheckSum) and
//   the tests prove both agree everywhere else.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "hft/fix/tags.hpp"

namespace hft::fix {

/// SOH, the byte that ends every FIX field.
inline constexpr char kSoh = '\x01';

/// What parse() found. Ok and Incomplete are not errors; the garbled group comes first
/// (is_garbled()), then the rejectable group.
enum class ParseStatus : std::uint8_t {
  Ok,
  Incomplete,           // the buffer holds only the start of a message: read more
  // garbled: ignore the frame
  BadBeginString,       // not "8=FIX...<SOH>" at the start
  BadBodyLength,        // second field not 9=<1-9 digits><SOH>
  BodyLengthTooLarge,   // BodyLength above ParserConfig::max_body_length
  BodyLengthMismatch,   // no SOH + "10=" where BodyLength says the body ends
  BadCheckSum,          // CheckSum not exactly three digits and SOH
  CheckSumMismatch,     // the byte sum does not match CheckSum
  MissingMsgType,       // the third field is not MsgType(35)
  // rejectable: answer Reject(3)
  InvalidTag,           // a tag that is not 1-9 digits without a leading zero, or no '='
  EmptyValue,           // tag= with nothing before SOH
  HeaderFieldOutOfOrder,// a standard-header field after a body field, or 8/9 repeated
  BodyFieldAfterTrailer,// a body field after SignatureLength(93)/Signature(89)
  TooManyFields,        // more than Message::kMaxFields fields
};

/// A short English description of `s`, for logs and a Reject's Text(58).
[[nodiscard]] constexpr std::string_view to_string(ParseStatus s) noexcept {
  switch (s) {
    case ParseStatus::Ok: return "ok";
    case ParseStatus::Incomplete: return "incomplete";
    case ParseStatus::BadBeginString: return "BeginString(8) is not the first field or is not FIX";
    case ParseStatus::BadBodyLength: return "BodyLength(9) is not the second field or is not 1-9 digits";
    case ParseStatus::BodyLengthTooLarge: return "BodyLength(9) is above the configured maximum";
    case ParseStatus::BodyLengthMismatch: return "BodyLength(9) does not end the body at CheckSum(10)";
    case ParseStatus::BadCheckSum: return "CheckSum(10) is not three digits";
    case ParseStatus::CheckSumMismatch: return "CheckSum(10) does not match the bytes";
    case ParseStatus::MissingMsgType: return "MsgType(35) is not the third field";
    case ParseStatus::InvalidTag: return "invalid tag number";
    case ParseStatus::EmptyValue: return "tag specified without a value";
    case ParseStatus::HeaderFieldOutOfOrder: return "header field after a body field";
    case ParseStatus::BodyFieldAfterTrailer: return "body field after a trailer field";
    case ParseStatus::TooManyFields: return "too many fields";
  }
  return "unknown";
}

/// True for the statuses whose frame is ignored without a Reject: BadBeginString to
/// MissingMsgType.
[[nodiscard]] constexpr bool is_garbled(ParseStatus s) noexcept {
  return s >= ParseStatus::BadBeginString && s <= ParseStatus::MissingMsgType;
}
/// True for the statuses a Reject(3) answers: the frame is sound, a field is not.
[[nodiscard]] constexpr bool is_rejectable(ParseStatus s) noexcept { return s >= ParseStatus::InvalidTag; }

/// What parse() returns: the status, how many bytes to drop, and where the problem lies.
struct ParseResult {
  ParseStatus status = ParseStatus::Incomplete;  ///< Ok, Incomplete, or the rule the message broke
  /// Bytes to drop from the front of the buffer: the message (Ok, rejectable), the garbage
  /// to skip (garbled), 0 for Incomplete.
  std::uint32_t consumed = 0;
  /// The offending tag (0 when the rule has none, e.g. a checksum mismatch).
  std::uint32_t tag = 0;
  /// Byte offset of the offending field in the buffer.
  std::uint32_t offset = 0;

  /// True when a whole valid message was parsed.
  [[nodiscard]] constexpr bool ok() const noexcept { return status == ParseStatus::Ok; }
  /// The SessionRejectReason(373) a Reject(3) for a rejectable status carries.
  [[nodiscard]] constexpr SessionRejectReason reason() const noexcept {
    switch (status) {
      case ParseStatus::InvalidTag: return SessionRejectReason::InvalidTagNumber;
      case ParseStatus::EmptyValue: return SessionRejectReason::TagSpecifiedWithoutValue;
      case ParseStatus::HeaderFieldOutOfOrder:
      case ParseStatus::BodyFieldAfterTrailer: return SessionRejectReason::TagSpecifiedOutOfRequiredOrder;
      default: return SessionRejectReason::Other;
    }
  }
};

/// Limits the parser enforces.
struct ParserConfig {
  /// Largest BodyLength accepted. A larger one is garbled at once instead of making the
  /// reader wait for (and buffer) bytes that may never come.
  std::uint32_t max_body_length = 16 * 1024;
};

/// One field: the tag and where its value lies in the parsed buffer.
struct Field {
  std::uint32_t tag;     ///< the field's tag number
  std::uint32_t offset;  ///< of the value, from the start of the message
  std::uint32_t length;  ///< of the value
};

/// A parsed FIX message: views of its fields into the caller's buffer (valid while it is
/// unchanged), found by tag in O(1) for tags below kIndexedTags.
class Message {
 public:
  static constexpr std::size_t kMaxFields = 128;      ///< fields a message may hold; more is TooManyFields
  static constexpr std::uint32_t kIndexedTags = 192;  ///< covers every session and order tag we use but 371-380

  /// The whole frame, from "8=" to the SOH after CheckSum.
  [[nodiscard]] std::string_view raw() const noexcept { return {base_, size_}; }
  /// BeginString(8); empty when the parse stopped before it.
  [[nodiscard]] std::string_view begin_string() const noexcept { return count_ > 0 ? value_at(0) : std::string_view{}; }
  /// MsgType(35); empty when the parse stopped before it (a rejectable MsgType).
  [[nodiscard]] std::string_view msg_type() const noexcept { return count_ > 2 ? value_at(2) : std::string_view{}; }
  /// Every field in wire order, BeginString to CheckSum, repeats included.
  [[nodiscard]] std::span<const Field> fields() const noexcept { return {fields_.data(), count_}; }
  /// The value of field `f` (one of fields()).
  [[nodiscard]] std::string_view value(const Field& f) const noexcept { return {base_ + f.offset, f.length}; }

  /// The first value of `tag`, or an empty view when the message has no such field.
  [[nodiscard]] std::string_view get(std::uint32_t t) const noexcept {
    if (t < kIndexedTags) {
      const std::uint8_t i = index_[t];
      return i == 0 || i > count_ ? std::string_view{} : value_at(i - 1u);  // count_ guards a failed parse
    }
    for (std::size_t i = 0; i < count_; ++i)
      if (fields_[i].tag == t) return value_at(i);
    return {};
  }
  /// True when the message has a non-empty field `t`.
  [[nodiscard]] bool has(std::uint32_t t) const noexcept { return !get(t).empty(); }

  /// An int field ([-]digits, at most 18 digits); nullopt when absent or malformed.
  [[nodiscard]] std::optional<std::int64_t> get_int(std::uint32_t t) const noexcept { return to_int(get(t)); }
  /// A field of one character (Side, OrdType, ExecType...); '\0' when absent or longer.
  [[nodiscard]] char get_char(std::uint32_t t) const noexcept {
    const std::string_view v = get(t);
    return v.size() == 1 ? v[0] : '\0';
  }
  /// A Boolean field: 'Y' true, 'N' false, nullopt otherwise.
  [[nodiscard]] std::optional<bool> get_bool(std::uint32_t t) const noexcept {
    const char c = get_char(t);
    if (c == 'Y') return true;
    if (c == 'N') return false;
    return std::nullopt;
  }
  /// A UTCTimestamp field (YYYYMMDD-HH:MM:SS with an optional fraction of 1-9 digits) as
  /// nanoseconds since the Unix epoch; nullopt when absent or malformed. A leap second (:60)
  /// reads as the next minute's first instant.
  [[nodiscard]] std::optional<std::uint64_t> get_utc_ns(std::uint32_t t) const noexcept { return to_utc_ns(get(t)); }
  /// MsgSeqNum(34), or 0 when absent or malformed (sequence numbers start at 1).
  [[nodiscard]] std::uint64_t seq_num() const noexcept {
    const auto v = get_int(tag::kMsgSeqNum);
    return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
  }

  /// UTCTimestamp text -> Unix nanoseconds (get_utc_ns); nullopt when malformed or before 1970.
  [[nodiscard]] static constexpr std::optional<std::uint64_t> to_utc_ns(std::string_view v) noexcept {
    if (v.size() < 17 || v[8] != '-' || v[11] != ':' || v[14] != ':') return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len) -> int {
      int x = 0;
      for (std::size_t i = at; i < at + len; ++i) {
        const auto d = static_cast<unsigned>(v[i] - '0');
        if (d > 9) return -1;
        x = x * 10 + static_cast<int>(d);
      }
      return x;
    };
    const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(12, 2), sec = num(15, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
      return std::nullopt;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
    std::uint64_t frac = 0;
    if (v.size() > 17) {
      const std::size_t digits = v.size() - 18;
      if (v[17] != '.' || digits < 1 || digits > 9) return std::nullopt;
      const int f = num(18, digits);
      if (f < 0) return std::nullopt;
      frac = static_cast<std::uint64_t>(f);
      for (std::size_t i = digits; i < 9; ++i) frac *= 10;
    }
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's date algorithms.
    const int yy = y - (mo <= 2 ? 1 : 0);
    const int era = yy / 400;
    const int yoe = yy - era * 400;
    const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const auto days = static_cast<std::uint64_t>(era * 146097 + doe - 719468);
    const auto secs = days * 86400 + static_cast<std::uint64_t>(h * 3600 + mi * 60 + sec);
    return secs * 1'000'000'000ULL + frac;
  }

  /// [-]digits -> int64; nullopt for anything else or more than 18 digits.
  [[nodiscard]] static constexpr std::optional<std::int64_t> to_int(std::string_view v) noexcept {
    std::size_t i = 0;
    const bool neg = !v.empty() && v[0] == '-';
    if (neg) i = 1;
    if (i == v.size() || v.size() - i > 18) return std::nullopt;
    std::int64_t x = 0;
    for (; i < v.size(); ++i) {
      const auto d = static_cast<unsigned>(v[i] - '0');
      if (d > 9) return std::nullopt;
      x = x * 10 + static_cast<std::int64_t>(d);
    }
    return neg ? -x : x;
  }

 private:
  friend ParseResult parse(std::string_view, Message&, const ParserConfig&) noexcept;

  [[nodiscard]] std::string_view value_at(std::size_t i) const noexcept {
    return {base_ + fields_[i].offset, fields_[i].length};
  }

  const char* base_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t count_ = 0;
  std::array<std::uint8_t, kIndexedTags> index_{};  // field position + 1 of a tag's first occurrence
  std::array<Field, kMaxFields> fields_{};
  static_assert(kMaxFields < 255, "index_ holds position + 1 in a byte");
};

namespace detail {

/// Where the next message may start after garbage at `buf[0..from)`: the next "8=FIX", or,
/// with none, everything but a tail that could be the start of one.
[[nodiscard]] inline std::uint32_t fix_resync(std::string_view buf, std::size_t from) noexcept {
  const std::size_t at = buf.find("8=FIX", from);
  if (at != std::string_view::npos) return static_cast<std::uint32_t>(at);
  const std::size_t keep = buf.size() - from < 4 ? buf.size() - from : 4;
  return static_cast<std::uint32_t>(buf.size() - keep);
}

/// True when `buf` (shorter than `want`) could still become `want`.
[[nodiscard]] constexpr bool fix_is_prefix(std::string_view buf, std::string_view want) noexcept {
  return buf.size() < want.size() && want.substr(0, buf.size()) == buf;
}

[[nodiscard]] constexpr unsigned fix_digit(char c) noexcept { return static_cast<unsigned>(c - '0'); }

[[nodiscard]] inline std::uint32_t fix_checksum(const char* p, std::size_t n) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<unsigned char>(p[i]);
  return sum & 0xFFu;
}

}  // namespace detail

/// Frames and validates the message at the front of `buf` into `msg`. On Ok, `msg` views the
/// first `consumed` bytes of `buf`; on any other status its contents are unspecified.
/// Garbled: drop `consumed` bytes and call again. Incomplete: read more and call again with
/// the same front. Rejectable: the frame is sound (`consumed` is its length) and msg holds
/// the fields before the offending one.
[[nodiscard]] inline ParseResult parse(std::string_view buf, Message& msg, const ParserConfig& cfg = {}) noexcept {
  using detail::fix_digit;
  ParseResult r;
  msg.count_ = 0;  // a failed parse leaves no stale fields behind
  const std::size_t n = buf.size();
  const char* p = buf.data();
  auto garbled = [&](ParseStatus s, std::size_t skip_from) {
    r.status = s;
    r.consumed = detail::fix_resync(buf, skip_from);
    if (r.consumed == 0) r.consumed = 1;  // never report "drop nothing" for garbage
    return r;
  };

  // BeginString: "8=FIX..." up to SOH within 16 bytes.
  constexpr std::string_view kBegin = "8=FIX";
  if (n < kBegin.size()) {
    if (detail::fix_is_prefix(buf, kBegin)) return r;
    return garbled(ParseStatus::BadBeginString, 1);
  }
  if (buf.substr(0, kBegin.size()) != kBegin) return garbled(ParseStatus::BadBeginString, 1);
  std::size_t i = 2;
  constexpr std::size_t kMaxBeginString = 16;
  while (i < n && p[i] != kSoh && p[i] != '=' && i < 2 + kMaxBeginString) ++i;
  if (i == n) return r;
  if (p[i] != kSoh) return garbled(ParseStatus::BadBeginString, 1);
  msg.base_ = p;
  msg.index_.fill(0);
  msg.fields_[0] = Field{tag::kBeginString, 2, static_cast<std::uint32_t>(i - 2)};
  ++i;

  // BodyLength: "9=<1-9 digits><SOH>".
  if (n - i < 2) {
    if (detail::fix_is_prefix(buf.substr(i), "9=")) return r;
    return garbled(ParseStatus::BadBodyLength, 1);
  }
  if (p[i] != '9' || p[i + 1] != '=') return garbled(ParseStatus::BadBodyLength, 1);
  i += 2;
  std::uint64_t body_len = 0;
  const std::size_t digits_at = i;
  while (i < n && fix_digit(p[i]) <= 9 && i - digits_at < 10) body_len = body_len * 10 + fix_digit(p[i++]);
  if (i == n) return r;
  if (p[i] != kSoh || i == digits_at || i - digits_at > 9) return garbled(ParseStatus::BadBodyLength, 1);
  if (body_len > cfg.max_body_length) return garbled(ParseStatus::BodyLengthTooLarge, 1);
  msg.fields_[1] = Field{tag::kBodyLength, static_cast<std::uint32_t>(digits_at),
                         static_cast<std::uint32_t>(i - digits_at)};
  ++i;

  // Trailer: the body ends with SOH, then "10=ddd<SOH>".
  const std::size_t body_at = i;
  const std::size_t trailer_at = body_at + static_cast<std::size_t>(body_len);
  constexpr std::size_t kTrailer = 7;  // "10=ddd\x01"
  if (n < trailer_at + kTrailer) {
    // Garbage that can never be a trailer shows before all bytes arrive; a sound length
    // waits.
    return r;
  }
  if (body_len == 0 || p[trailer_at - 1] != kSoh || p[trailer_at] != '1' || p[trailer_at + 1] != '0' ||
      p[trailer_at + 2] != '=')
    return garbled(ParseStatus::BodyLengthMismatch, 1);
  const char* cs = p + trailer_at + 3;
  if (fix_digit(cs[0]) > 9 || fix_digit(cs[1]) > 9 || fix_digit(cs[2]) > 9 || cs[3] != kSoh) {
    // The length was sound, so the frame ends in this trailer: drop all of it. Resyncing
    // inside the body would parse a message embedded in its fields (smuggling).
    r.status = ParseStatus::BadCheckSum;
    const void* soh = std::memchr(cs, kSoh, kTrailer - 3);
    r.consumed = static_cast<std::uint32_t>(
        soh != nullptr ? static_cast<std::size_t>(static_cast<const char*>(soh) - p) + 1 : trailer_at + 3);
    r.tag = tag::kCheckSum;
    r.offset = static_cast<std::uint32_t>(trailer_at);
    return r;
  }
  const std::uint32_t frame = static_cast<std::uint32_t>(trailer_at + kTrailer);
  const unsigned want = fix_digit(cs[0]) * 100 + fix_digit(cs[1]) * 10 + fix_digit(cs[2]);
  if (detail::fix_checksum(p, trailer_at) != want) {
    r.status = ParseStatus::CheckSumMismatch;
    r.consumed = frame;  // the length was sound: skip exactly this frame
    r.tag = tag::kCheckSum;
    r.offset = static_cast<std::uint32_t>(trailer_at);
    return r;
  }
  msg.size_ = frame;

  // Fields of the body, then the CheckSum.
  std::uint32_t count = 2;
  bool in_body = false, in_trailer = false;
  auto fail = [&](ParseStatus s, std::uint32_t t, std::size_t at) {
    r.status = s;
    r.consumed = frame;
    r.tag = t;
    r.offset = static_cast<std::uint32_t>(at);
    msg.count_ = count;
    return r;
  };
  i = body_at;
  while (i < trailer_at) {
    const std::size_t field_at = i;
    std::uint32_t t = 0;
    const std::size_t tag_at = i;
    while (i < trailer_at && fix_digit(p[i]) <= 9 && i - tag_at < 10) t = t * 10 + fix_digit(p[i++]);
    const std::size_t tag_len = i - tag_at;
    if (count == 2) {  // the third field must be MsgType
      if (tag_len != 2 || t != tag::kMsgType || p[i] != '=') {
        r.status = ParseStatus::MissingMsgType;
        r.consumed = frame;
        r.tag = tag::kMsgType;
        r.offset = static_cast<std::uint32_t>(field_at);
        return r;
      }
    }
    if (tag_len == 0 || tag_len > 9 || p[tag_at] == '0' || p[i] != '=')
      return fail(ParseStatus::InvalidTag, t, field_at);
    ++i;
    const std::size_t value_at = i;
    // The body ends with SOH (checked above), so this scan stops inside it.
    const void* soh = std::memchr(p + i, kSoh, trailer_at - i);
    i = static_cast<std::size_t>(static_cast<const char*>(soh) - p);
    if (i == value_at) return fail(ParseStatus::EmptyValue, t, field_at);
    if (is_header_tag(t)) {
      if (in_body || in_trailer || t == tag::kBeginString || t == tag::kBodyLength)
        return fail(ParseStatus::HeaderFieldOutOfOrder, t, field_at);
    } else if (is_trailer_tag(t)) {
      if (t == tag::kCheckSum) return fail(ParseStatus::BodyLengthMismatch, t, field_at);
      in_trailer = true;
    } else {
      if (in_trailer) return fail(ParseStatus::BodyFieldAfterTrailer, t, field_at);
      in_body = true;
    }
    if (count == Message::kMaxFields - 1) return fail(ParseStatus::TooManyFields, t, field_at);
    msg.fields_[count] = Field{t, static_cast<std::uint32_t>(value_at), static_cast<std::uint32_t>(i - value_at)};
    if (t < Message::kIndexedTags && msg.index_[t] == 0) msg.index_[t] = static_cast<std::uint8_t>(count + 1);
    ++count;
    ++i;
  }
  msg.fields_[count] = Field{tag::kCheckSum, static_cast<std::uint32_t>(trailer_at + 3), 3};
  msg.index_[tag::kCheckSum] = static_cast<std::uint8_t>(count + 1);
  msg.index_[tag::kBeginString] = 1;
  msg.index_[tag::kBodyLength] = 2;
  msg.count_ = count + 1;
  r.status = ParseStatus::Ok;
  r.consumed = frame;
  return r;
}

}  // namespace hft::fix
