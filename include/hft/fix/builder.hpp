// hft/fix/builder.hpp: fix::MessageBuilder writes one FIX tag=value message into a caller's
// fixed buffer and fills in BodyLength(9) and CheckSum(10).
//
// What: start(msg_type) begins a message; add(tag, value) appends fields in the order given;
//   finish() writes the header's BeginString and BodyLength in front of the body and the
//   CheckSum after it, and returns the message as a view into the buffer. The body is written
//   at a fixed offset that leaves room for the longest BodyLength, so finish() never moves
//   it: the message starts a few bytes into the buffer when the length has fewer digits.
// Errors: a field that does not fit, a value that is empty or holds SOH (it would frame
//   differently on the wire), tag 0, or a field before start() puts the builder in an error
//   state (error() says which, error_tag() which tag); every later add() is ignored and
//   finish() returns an empty view. Nothing is written past the buffer.
// Fast paths: add_timestamp() keeps the text of the last second it formatted and rewrites
//   only the milliseconds while the second is the same (a busy sender formats the date once
//   a second, not twice a message); add_raw(fields) appends pre-formatted "tag=value<SOH>"
//   bytes verbatim, for a codec that writes its fixed tags as literals (a template) instead
//   of one add() per field. add_raw checks only that the bytes fit and end in SOH: the
//   caller vouches that they are well-formed fields with non-empty, SOH-free values.
// When to use: a gateway that writes replies into a per-connection buffer or straight into
//   its socket's output ring. When not: a message with repeating groups you want checked
//   against a dictionary: the builder writes what it is given, in that order.
// Thread-safety: one thread per builder (it owns a cursor into the buffer).
// Progress: wait-free. Memory ordering: none (not shared).
// Complexity: O(bytes written); allocates nothing.
// Compared with: QuickFIX's FIX::Message::toString walks its FieldMap, formats into a
//   std::string and computes both fields over it; hffix's message_writer also writes into a
//   caller's buffer but shifts nothing and leaves the caller to pick a BodyLength width.
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "hft/core/assert.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/tags.hpp"
#include "hft/trading/types.hpp"

namespace hft::fix {

/// Why MessageBuilder refused a field; the first error sticks and finish() then returns an
/// empty view.
enum class BuildError : std::uint8_t {
  None,
  NotStarted,   // add() or finish() before start()
  BufferFull,   // the field and the trailer do not fit in the buffer
  InvalidTag,   // tag 0
  EmptyValue,   // an empty value: the parser rejects "tag="
  SohInValue,   // a value holding SOH would split into two fields on the wire
};

/// A short English description of `e`, for logs.
[[nodiscard]] constexpr std::string_view to_string(BuildError e) noexcept {
  switch (e) {
    case BuildError::None: return "none";
    case BuildError::NotStarted: return "field added before start()";
    case BuildError::BufferFull: return "message does not fit in the buffer";
    case BuildError::InvalidTag: return "tag 0";
    case BuildError::EmptyValue: return "empty value";
    case BuildError::SohInValue: return "value contains SOH";
  }
  return "unknown";
}

/// Writes a FIX message into a caller's buffer: start(), add() fields, finish() fills in
/// BodyLength and CheckSum. No allocation; errors stick instead of throwing.
class MessageBuilder {
 public:
  /// Largest BodyLength the builder writes (6 digits are reserved for it).
  static constexpr std::size_t kMaxBodyLength = 999'999;

  /// Writes into `buffer`, which must outlive the builder and every view finish() returns.
  /// `begin_string` is BeginString(8)'s value, at most 16 characters.
  explicit MessageBuilder(std::span<char> buffer, std::string_view begin_string = "FIX.4.4") noexcept
      : buf_(buffer.data()), capacity_(buffer.size()), begin_string_(begin_string) {
    HFT_ASSERT(!begin_string.empty() && begin_string.size() <= 16,
               "fix::MessageBuilder: begin_string must be 1-16 characters");
    body_at_ = 2 + begin_string_.size() + 1 + 2 + kLengthDigits + 1;
  }

  /// Starts a new message of type `msg_type` (its first body field, MsgType(35)). Clears any
  /// error of the previous message. The views an earlier finish() returned become invalid.
  MessageBuilder& start(std::string_view msg_type) noexcept {
    error_ = BuildError::None;
    error_tag_ = 0;
    started_ = true;
    pos_ = body_at_;
    if (body_at_ + kTrailer > capacity_) return fail(BuildError::BufferFull, tag::kMsgType);
    return add(tag::kMsgType, msg_type);
  }

  /// Appends tag=value. The value must be non-empty and free of SOH.
  MessageBuilder& add(std::uint32_t t, std::string_view value) noexcept {
    if (!check(t)) return *this;
    if (value.empty()) return fail(BuildError::EmptyValue, t);
    char* out = field_start(t, value.size());
    if (out == nullptr) return *this;
    // Copy and look for SOH in one pass: most values are a few bytes, where calls to memchr
    // and memcpy cost more than the bytes.
    bool soh = false;
    if (value.size() <= 32) {
      for (std::size_t k = 0; k < value.size(); ++k) {
        out[k] = value[k];
        soh |= value[k] == kSoh;
      }
    } else {
      soh = std::memchr(value.data(), kSoh, value.size()) != nullptr;
      std::memcpy(out, value.data(), value.size());
    }
    if (soh) {
      pos_ = tag_at_;  // unwrite "tag=": the message stays as it was before this field
      return fail(BuildError::SohInValue, t);
    }
    out[value.size()] = kSoh;
    pos_ += value.size() + 1;
    return *this;
  }

  /// Appends an integer field (Int, SeqNum, Qty as whole units, Length...).
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  MessageBuilder& add(std::uint32_t t, I value) noexcept {
    char digits[24];
    const auto len = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, value).ptr - digits);
    if (!check(t)) return *this;
    char* out = field_start(t, len);  // digits: never empty, never SOH
    if (out == nullptr) return *this;
    std::memcpy(out, digits, len);
    out[len] = kSoh;
    pos_ += len + 1;
    return *this;
  }
  MessageBuilder& add(std::uint32_t, char) = delete;  // use add_char: a char is not a number

  /// A one-character field (Side, OrdType, ExecType...).
  MessageBuilder& add_char(std::uint32_t t, char c) noexcept { return add(t, std::string_view(&c, 1)); }
  /// A Boolean field: 'Y' or 'N'.
  MessageBuilder& add_bool(std::uint32_t t, bool b) noexcept { return add_char(t, b ? 'Y' : 'N'); }
  /// A Price field in decimal text ("187.25", "100").
  MessageBuilder& add_price(std::uint32_t t, Price p, TickSize tick) noexcept {
    char text[24];
    return add(t, std::string_view(text, format_price(p, tick, text)));
  }
  /// A UTCTimestamp field, "YYYYMMDD-HH:MM:SS.sss", from nanoseconds since the Unix epoch.
  /// The date and time of day are formatted once per second (cached in the builder).
  MessageBuilder& add_timestamp(std::uint32_t t, std::uint64_t unix_ns) noexcept {
    const std::uint64_t ms_total = unix_ns / 1'000'000;
    const std::uint64_t sec = ms_total / 1000;
    if (sec != ts_sec_) {
      format_timestamp(unix_ns, ts_text_);
      ts_sec_ = sec;
    } else {
      const auto ms = static_cast<unsigned>(ms_total % 1000);
      ts_text_[18] = static_cast<char>('0' + ms / 100);
      ts_text_[19] = static_cast<char>('0' + ms / 10 % 10);
      ts_text_[20] = static_cast<char>('0' + ms % 10);
    }
    if (!check(t)) return *this;
    char* out = field_start(t, sizeof ts_text_);  // digits, '-', ':' and '.': never SOH
    if (out == nullptr) return *this;
    std::memcpy(out, ts_text_, sizeof ts_text_);
    out[sizeof ts_text_] = kSoh;
    pos_ += sizeof ts_text_ + 1;
    return *this;
  }

  /// Appends pre-formatted fields verbatim: one or more "tag=value<SOH>" (a template's
  /// bytes). Fails (BufferFull) when they do not fit, EmptyValue when `fields` is empty and
  /// SohInValue when it does not end in SOH; the rest of the framing is the caller's to get
  /// right (no tag is parsed and no value scanned).
  MessageBuilder& add_raw(std::string_view fields) noexcept {
    if (!check(tag::kMsgType)) return *this;
    if (fields.empty()) return fail(BuildError::EmptyValue, 0);
    if (fields.back() != kSoh) return fail(BuildError::SohInValue, 0);
    if (pos_ + fields.size() + kTrailer > capacity_ || pos_ + fields.size() - body_at_ > kMaxBodyLength)
      return fail(BuildError::BufferFull, 0);
    std::memcpy(buf_ + pos_, fields.data(), fields.size());
    pos_ += fields.size();
    return *this;
  }

  /// Writes BeginString, BodyLength and CheckSum and returns the message, or an empty view
  /// when the builder is in an error state.
  [[nodiscard]] std::string_view finish() noexcept {
    if (!started_ && error_ == BuildError::None) fail(BuildError::NotStarted, 0);
    if (error_ != BuildError::None) return {};
    started_ = false;
    const std::size_t body_len = pos_ - body_at_;
    char digits[8];
    const auto res = std::to_chars(digits, digits + sizeof digits, body_len);
    const auto nd = static_cast<std::size_t>(res.ptr - digits);
    std::size_t start = body_at_ - 1 - nd - 2 - 1 - begin_string_.size() - 2;
    char* h = buf_ + start;
    h[0] = '8';
    h[1] = '=';
    std::memcpy(h + 2, begin_string_.data(), begin_string_.size());
    h += 2 + begin_string_.size();
    *h++ = kSoh;
    *h++ = '9';
    *h++ = '=';
    std::memcpy(h, digits, nd);
    h[nd] = kSoh;
    const std::uint32_t sum = detail::fix_checksum(buf_ + start, pos_ - start);
    char* t = buf_ + pos_;
    t[0] = '1';
    t[1] = '0';
    t[2] = '=';
    t[3] = static_cast<char>('0' + sum / 100);
    t[4] = static_cast<char>('0' + sum / 10 % 10);
    t[5] = static_cast<char>('0' + sum % 10);
    t[6] = kSoh;
    return {buf_ + start, pos_ + kTrailer - start};
  }

  /// The first error since start(); None when every field fitted.
  [[nodiscard]] BuildError error() const noexcept { return error_; }
  /// The tag whose add() failed (0 when none did).
  [[nodiscard]] std::uint32_t error_tag() const noexcept { return error_tag_; }
  /// The buffer's size in bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  /// "YYYYMMDD-HH:MM:SS.sss" (21 characters, UTC) into out.
  static void format_timestamp(std::uint64_t unix_ns, char* out) noexcept {
    const std::uint64_t ms_total = unix_ns / 1'000'000;
    const auto ms = static_cast<unsigned>(ms_total % 1000);
    const std::uint64_t s_total = ms_total / 1000;
    const auto sod = static_cast<unsigned>(s_total % 86400);
    const auto days = static_cast<std::int64_t>(s_total / 86400);
    int y = 0;
    unsigned mo = 0, d = 0;
    civil_from_days(days, y, mo, d);
    auto two = [](char* o, unsigned v) {
      o[0] = static_cast<char>('0' + v / 10);
      o[1] = static_cast<char>('0' + v % 10);
    };
    two(out, static_cast<unsigned>(y) / 100);
    two(out + 2, static_cast<unsigned>(y) % 100);
    two(out + 4, mo);
    two(out + 6, d);
    out[8] = '-';
    two(out + 9, sod / 3600);
    out[11] = ':';
    two(out + 12, sod / 60 % 60);
    out[14] = ':';
    two(out + 15, sod % 60);
    out[17] = '.';
    out[18] = static_cast<char>('0' + ms / 100);
    two(out + 19, ms % 100);
  }

 private:
  static constexpr std::size_t kLengthDigits = 6;
  static constexpr std::size_t kTrailer = 7;  // "10=ddd\x01"

  // Days since 1970-01-01 to a proleptic Gregorian date, by 400-year eras of 146097 days
  // whose years start on 1 March (so the leap day is the era's last).
  static void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) noexcept {
    z += 719468;  // 0000-03-01 to 1970-01-01
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
  }

  bool check(std::uint32_t t) noexcept {
    if (error_ != BuildError::None) return false;
    if (!started_) {
      fail(BuildError::NotStarted, t);
      return false;
    }
    if (t == 0) {
      fail(BuildError::InvalidTag, t);
      return false;
    }
    return true;
  }

  MessageBuilder& fail(BuildError e, std::uint32_t t) noexcept {
    if (error_ == BuildError::None) {
      error_ = e;
      error_tag_ = t;
    }
    return *this;
  }

  // Writes "tag=" and returns where the value goes, or nullptr (BufferFull) when the field,
  // its SOH and the trailer do not fit.
  char* field_start(std::uint32_t t, std::size_t value_len) noexcept {
    char tag_text[10];
    const auto res = std::to_chars(tag_text, tag_text + sizeof tag_text, t);
    const auto tl = static_cast<std::size_t>(res.ptr - tag_text);
    const std::size_t need = tl + 1 + value_len + 1;
    if (pos_ + need + kTrailer > capacity_ || pos_ + need - body_at_ > kMaxBodyLength) {
      fail(BuildError::BufferFull, t);
      return nullptr;
    }
    char* out = buf_ + pos_;
    tag_at_ = pos_;
    std::memcpy(out, tag_text, tl);
    out[tl] = '=';
    pos_ += tl + 1;
    return out + tl + 1;
  }

  char* buf_;
  std::size_t capacity_;
  std::string_view begin_string_;
  std::size_t body_at_;
  std::size_t pos_ = 0;
  std::size_t tag_at_ = 0;  // where the field being written starts
  bool started_ = false;
  BuildError error_ = BuildError::None;
  std::uint32_t error_tag_ = 0;
  std::uint64_t ts_sec_ = ~std::uint64_t{0};  // the second ts_text_ holds (add_timestamp)
  char ts_text_[21] = {};
};

}  // namespace hft::fix
