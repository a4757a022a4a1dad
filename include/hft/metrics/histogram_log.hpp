// hft/metrics/histogram_log.hpp: HdrHistogram interval logs (.hlog): the V2 histogram
// encoding, its compressed form, base64, and a log writer and reader.
//
// What: the format HdrHistogram's tools exchange (HistogramLogProcessor, the plotters,
//   HdrHistogram_c's hdr_log_write/hdr_log_read):
//     encode_histogram(h, out)             V2 encoding: a 40-byte big-endian header (cookie
//                                          0x1c849313, payload length, normalizingIndexOffset 0,
//                                          significant digits, lowest discernible, highest
//                                          trackable, integer-to-double ratio 1.0), then the
//                                          counts array up to the max value's bucket as ZigZag
//                                          LEB128 longs, a run of n > 1 zero counts as -n
//     encode_histogram_compressed(h, out)  cookie 0x1c849314, length, and a zlib stream of
//                                          the V2 encoding, made of stored DEFLATE blocks (no
//                                          compressor needed; every inflater reads it)
//     decode_histogram(bytes)              either form back into a LatencyHistogram; the
//                                          compressed form may use any DEFLATE block type
//                                          (Java writes fixed and dynamic Huffman blocks),
//                                          decoded by hft/core/inflate.hpp
//     base64_encode / base64_decode        RFC 4648 standard alphabet, padded
//     HistogramLogWriter                   writes Java HistogramLogWriter's text: comments,
//                                          #[StartTime: ...], #[BaseTime: ...], the legend,
//                                          then one "[Tag=t,]start,length,max,base64" line
//                                          per interval (max divided by max_value_unit_ratio,
//                                          1e6 by default: ns recorded, ms in the column)
//     HistogramLogReader                   parses such logs line by line (comments, StartTime,
//                                          BaseTime, the legend, tags, blank lines, CRLF, and
//                                          fields separated by commas and/or spaces, as Java's
//                                          scanner accepts) and yields each interval's start,
//                                          length, tag and decoded histogram
//   The uncompressed V2 encoding is byte-for-byte Java's for the same counts (tested
//   against Java's HdrHistogram in scripts/hdr_oracle); the compressed bytes differ (Java
//   compresses), the decoded values do not.
// When to use: persisting interval histograms, merging them across processes or runs,
//   plotting a run over time with HdrHistogram's tools, reading logs those tools wrote.
// When not: the hot path (encoding walks the counts and formats text; record into an
//   IntervalRecorder and write from a monitor thread); one end-of-run report (use
//   percentile_distribution() in hft/metrics/histogram_report.hpp); DoubleHistogram logs
//   and the V0/V1 encodings of HdrHistogram before 2.1 (refused with a clear error).
// Thread-safety: the free functions are pure (any thread). A HistogramLogWriter or
//   HistogramLogReader is used by one thread at a time (it owns its stream and buffers);
//   the histogram written is only read (no concurrent writer on it).
// Progress: blocking (stream I/O, allocation); no locks.
// Memory ordering: none (not shared).
// Complexity: encode/decode O(counts up to the max value's bucket) plus the text;
//   inflating O(compressed input + output).
// Memory: where it allocates, and nothing else does:
//   - encode_* and base64_* append to the caller's vector/string (reserve it, or reuse it:
//     a cleared vector keeps its capacity);
//   - HistogramLogWriter keeps three buffers (encoding, compressed, line text) that grow to
//     the largest interval written and are reused: after the first few intervals a
//     write_interval allocates nothing beyond what the std::ostream does;
//   - decode_histogram allocates the returned LatencyHistogram's counts array (its size
//     follows from the header's range and digits, capped by HistogramDecodeLimits) and, for
//     the compressed form, the inflated bytes (in the caller's scratch vector when given);
//   - HistogramLogReader::next() allocates one LatencyHistogram per interval and reuses its
//     line and byte buffers; a line longer than HistogramDecodeLimits::max_line_bytes is an
//     error before more of it is buffered.
// Errors: malformed input (bad cookie, a length that disagrees with the bytes present,
//   truncated base64 or varints, corrupt DEFLATE data, an Adler-32 mismatch, a count beyond
//   the histogram's range, a total count past 2^64 - 1, output beyond the decode limits, a
//   line longer than max_line_bytes or that is not an interval)
//   throws std::runtime_error whose message starts with "hft::decode_histogram: ",
//   "hft::base64_decode: ", "hft::zlib_inflate: " or "hft::HistogramLogReader: line N: ".
//   Reading never reads outside its input and never crashes on hostile bytes (property
//   tests, and tests/fuzz/histogram_log.cpp). A bad argument to the writer (a tag with ',',
//   ' ' or '\t', a non-finite timestamp or max column, a start time beyond 2^55 s) throws
//   std::invalid_argument; a failed stream write throws std::runtime_error.
// Limits: decoding builds a LatencyHistogram, so the header must satisfy its constructor
//   (1 <= digits <= 5, 1 <= lowest, 2 * lowest <= highest <= 2^62) and
//   normalizingIndexOffset must be 0 (what Histogram writes; shifted histograms are
//   refused). A count in the top bucket above highest_trackable (Java accepts those up to
//   the bucket's end) is recorded as highest_trackable and counted in overflow_count().
//   A decoded histogram's max() is its top bucket's highest equivalent value and min() its
//   lowest bucket's lowest value, as Java's decoder reports them (when both are one bucket
//   holding a single count, min() == max(), the highest equivalent value); counts at value 0 are
//   counted in underflow_count() (LatencyHistogram's rule), their bucket is the same.
//   The integer-to-double ratio is returned but not applied (no DoubleHistogram).
// Compared with: Java's HistogramLogWriter/HistogramLogReader: the same text and encoding;
//   the writer does not compress (stored blocks: larger lines, typically 2-4x, but no zlib);
//   the reader returns intervals in file order and leaves time-range selection and the
//   StartTime/BaseTime arithmetic to the caller (start_time(), base_time() are exposed);
//   errors throw instead of silently ending the log. HdrHistogram_c's hdr_log_write /
//   hdr_log_read: same format without linking zlib; no V0/V1 decoding (hdr_log_read has it).
#pragma once

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hft/core/inflate.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace hft {

/// Cookies of HdrHistogram's V2 encodings (the 0x10 bit is the "word size" nibble Java sets).
inline constexpr std::uint32_t kHdrV2EncodingCookie = 0x1c849313u;
/// Cookie of the compressed (zlib) V2 encoding.
inline constexpr std::uint32_t kHdrV2CompressedEncodingCookie = 0x1c849314u;

/// Caps on what decode_histogram and HistogramLogReader accept: they bound the memory a
/// hostile log can make the reader allocate.
struct HistogramDecodeLimits {
  /// Largest inflated size of a compressed histogram, in bytes.
  std::size_t max_decoded_bytes = std::size_t{64} << 20;
  /// Largest counts array (LatencyHistogram::counts_length()) a header may ask for: 2^23
  /// counters (64 MiB) covers 1 ns .. 2^62 at 4 digits.
  std::size_t max_counts = std::size_t{1} << 23;
  /// Longest log line HistogramLogReader reads, in bytes (without its end of line): a line
  /// is read whole before it is parsed, so without a cap one endless line is an endless
  /// allocation. 128 MiB holds the base64 of a max_decoded_bytes payload stored uncompressed.
  std::size_t max_line_bytes = std::size_t{128} << 20;
};

namespace detail {

[[noreturn]] inline void hlog_decode_fail(const std::string& what) {
  throw std::runtime_error("hft::decode_histogram: " + what);
}

// HdrHistogram's index arithmetic for a LatencyHistogram's layout (the same formulas as
// LatencyHistogram's private index_of / value_at_index; the tests check they agree).
struct HdrLayout {
  int unit_magnitude = 0;
  int half_magnitude = 0;
  std::uint64_t sub_bucket_mask = 0;
  std::uint64_t half_count = 0;

  HdrLayout(std::uint64_t lowest, int digits) noexcept {
    std::uint64_t single_unit = 2;
    for (int i = 0; i < digits; ++i) single_unit *= 10;
    const int sub_magnitude = static_cast<int>(std::bit_width(single_unit - 1));
    half_magnitude = (sub_magnitude > 1 ? sub_magnitude : 1) - 1;
    unit_magnitude = static_cast<int>(std::bit_width(lowest)) - 1;
    half_count = std::uint64_t{1} << half_magnitude;
    sub_bucket_mask = ((half_count << 1) - 1) << unit_magnitude;
  }
  [[nodiscard]] std::size_t index_of(std::uint64_t v) const noexcept {
    const int pow2ceiling = 64 - std::countl_zero(v | sub_bucket_mask);
    const int b = pow2ceiling - unit_magnitude - (half_magnitude + 1);
    return (static_cast<std::size_t>(b) << half_magnitude) + (v >> (b + unit_magnitude));
  }
  [[nodiscard]] std::uint64_t value_at(std::size_t i) const noexcept {
    int b = static_cast<int>(i >> half_magnitude) - 1;
    std::uint64_t s = (i & (half_count - 1)) + half_count;
    if (b < 0) {
      s -= half_count;
      b = 0;
    }
    return s << (b + unit_magnitude);
  }
  // The counts length LatencyHistogram's constructor would allocate for (lowest, highest).
  [[nodiscard]] std::size_t counts_length(std::uint64_t highest) const noexcept {
    std::uint64_t smallest_untrackable = (half_count << 1) << unit_magnitude;
    std::size_t buckets = 1;
    while (smallest_untrackable <= highest) {
      if (smallest_untrackable > (std::uint64_t{1} << 62)) {
        ++buckets;
        break;
      }
      smallest_untrackable <<= 1;
      ++buckets;
    }
    return (buckets + 1) * static_cast<std::size_t>(half_count);
  }
};

inline void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline void put_be64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline void set_be32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
[[nodiscard]] inline std::uint64_t get_be(std::span<const std::uint8_t> in, std::size_t at, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

// ZigZag LEB128 with HdrHistogram's 9-byte cap: the 9th byte carries 8 bits.
inline void put_zigzag(std::vector<std::uint8_t>& out, std::int64_t value) {
  std::uint64_t v = (static_cast<std::uint64_t>(value) << 1) ^ (value < 0 ? ~std::uint64_t{0} : 0);
  for (int i = 0; i < 8; ++i) {
    if ((v >> 7) == 0) {
      out.push_back(static_cast<std::uint8_t>(v));
      return;
    }
    out.push_back(static_cast<std::uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
// Returns the raw ZigZag word (bit 0 set: negative); throws when the input ends inside it.
[[nodiscard]] inline std::uint64_t get_zigzag_raw(std::span<const std::uint8_t> in, std::size_t& pos) {
  std::uint64_t v = 0;
  for (int i = 0; i < 9; ++i) {
    if (pos >= in.size()) hlog_decode_fail("payload ends inside a count (truncated varint)");
    const std::uint8_t byte = in[pos++];
    if (i == 8) return v | (static_cast<std::uint64_t>(byte) << 56);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return v;
  }
  return v;  // not reached
}

inline constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

[[nodiscard]] inline int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Java's String.format("%.3f", v) (shortest digits, then HALF_UP), as append_java_fixed in
// histogram_report.hpp, but in a stack buffer: the writer must not allocate per line, and
// every finite double fits (the longest fixed forms are about 330 characters).
inline void append_java_fixed3(std::string& out, double v) {
  constexpr std::size_t kKeep = 3;
  char digits[400];
  const auto r = std::to_chars(digits, digits + sizeof digits, std::fabs(v), std::chars_format::fixed);
  if (r.ec != std::errc{}) throw std::invalid_argument("hft::HistogramLogWriter: cannot format a number");
  const std::string_view text(digits, static_cast<std::size_t>(r.ptr - digits));
  const std::size_t dot = std::min(text.find('.'), text.size());
  const std::string_view int_part = text.substr(0, dot), frac = text.substr(std::min(dot + 1, text.size()));
  char all[sizeof digits + 2];  // one carry digit in front, then int_part and kKeep decimals
  std::size_t n = 1;
  for (const char c : int_part) all[n++] = c;
  for (std::size_t i = 0; i < kKeep; ++i) all[n++] = i < frac.size() ? frac[i] : '0';
  std::size_t first = 1;
  if (frac.size() > kKeep && frac[kKeep] >= '5') {
    std::size_t i = n;
    for (;;) {
      --i;
      if (all[i] != '9') {
        ++all[i];
        break;
      }
      all[i] = '0';
      if (i == 1) {
        all[0] = '1';
        first = 0;
        break;
      }
    }
  }
  if (std::signbit(v) && v != 0.0) out += '-';
  out.append(all + first, n - kKeep - first);
  out += '.';
  out.append(all + n - kKeep, kKeep);
}

}  // namespace detail

/// Appends the standard (RFC 4648, padded) base64 text of `in` to `out`. Any thread.
inline void base64_encode(std::span<const std::uint8_t> in, std::string& out) {
  out.reserve(out.size() + (in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t w = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += detail::kBase64Alphabet[(w >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t w = std::uint32_t{in[i]} << 16;
    out += detail::kBase64Alphabet[(w >> 18) & 63];
    out += detail::kBase64Alphabet[(w >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t w = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    out += detail::kBase64Alphabet[(w >> 18) & 63];
    out += detail::kBase64Alphabet[(w >> 12) & 63];
    out += detail::kBase64Alphabet[(w >> 6) & 63];
    out += '=';
  }
}

/// Appends the bytes of the standard, padded base64 text `in` to `out`. Throws
/// std::runtime_error ("hft::base64_decode: ...") for a length that is not a multiple of 4
/// (truncated text), a character outside the alphabet, or misplaced padding. Any thread.
inline void base64_decode(std::string_view in, std::vector<std::uint8_t>& out) {
  if (in.size() % 4 != 0) {
    throw std::runtime_error("hft::base64_decode: length " + std::to_string(in.size()) +
                             " is not a multiple of 4 (truncated text)");
  }
  out.reserve(out.size() + in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int pad = 0;
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      int v = 0;
      if (c == '=' && last && k >= 2 && (k == 3 || in[i + 3] == '=')) {
        ++pad;
      } else if (pad != 0 || (v = detail::base64_value(c)) < 0) {
        throw std::runtime_error("hft::base64_decode: invalid character at offset " + std::to_string(i + k));
      }
      w = (w << 6) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(w >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(w >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(w));
  }
}

/// Appends the uncompressed V2 encoding of `h` to `out`: byte-for-byte what Java's
/// Histogram.encodeIntoByteBuffer writes for the same counts. Throws std::overflow_error if
/// a count exceeds 2^63 - 1 (the format's signed longs). Any thread (h is only read).
inline void encode_histogram(const LatencyHistogram& h, std::vector<std::uint8_t>& out) {
  const detail::HdrLayout layout(h.lowest_discernible(), h.significant_digits());
  const std::size_t at = out.size();
  detail::put_be32(out, kHdrV2EncodingCookie);
  detail::put_be32(out, 0);  // payload length, filled in below
  detail::put_be32(out, 0);  // normalizingIndexOffset
  detail::put_be32(out, static_cast<std::uint32_t>(h.significant_digits()));
  detail::put_be64(out, h.lowest_discernible());
  detail::put_be64(out, h.highest_trackable());
  std::uint64_t ratio_bits = 0;
  const double ratio = 1.0;
  std::memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
  detail::put_be64(out, ratio_bits);
  const std::size_t payload_start = out.size();
  // Java encodes indices 0 .. index(max): an empty histogram is one zero count.
  const std::size_t relevant = h.empty() ? 1 : layout.index_of(h.max()) + 1;
  std::size_t next = 0;  // first index not yet written
  const auto put_zeros = [&](std::size_t n) {
    if (n == 1) detail::put_zigzag(out, 0);
    if (n > 1) detail::put_zigzag(out, -static_cast<std::int64_t>(n));
  };
  h.for_each_bucket([&](std::uint64_t lowest, std::uint64_t, std::uint64_t count) {
    const std::size_t i = layout.index_of(lowest);
    if (count > static_cast<std::uint64_t>(INT64_MAX)) {
      throw std::overflow_error("hft::encode_histogram: count " + std::to_string(count) + " at value " +
                                std::to_string(lowest) + " exceeds 2^63 - 1");
    }
    put_zeros(i - next);
    detail::put_zigzag(out, static_cast<std::int64_t>(count));
    next = i + 1;
  });
  put_zeros(relevant - next);
  detail::set_be32(out, at + 4, static_cast<std::uint32_t>(out.size() - payload_start));
}

/// Appends the compressed V2 encoding of `h` to `out`: cookie 0x1c849314, the zlib stream's
/// length, and a zlib stream of stored blocks holding encode_histogram(h). `scratch` holds
/// the uncompressed encoding on the way (cleared first; reuse it to avoid allocating).
/// Any thread.
inline void encode_histogram_compressed(const LatencyHistogram& h, std::vector<std::uint8_t>& out,
                                        std::vector<std::uint8_t>& scratch) {
  scratch.clear();
  encode_histogram(h, scratch);
  const std::size_t at = out.size();
  detail::put_be32(out, kHdrV2CompressedEncodingCookie);
  detail::put_be32(out, 0);
  zlib_store(scratch, out);
  detail::set_be32(out, at + 4, static_cast<std::uint32_t>(out.size() - at - 8));
}

/// As above, with a temporary scratch buffer (allocates).
inline void encode_histogram_compressed(const LatencyHistogram& h, std::vector<std::uint8_t>& out) {
  std::vector<std::uint8_t> scratch;
  encode_histogram_compressed(h, out, scratch);
}

namespace detail {

// Decodes the uncompressed V2 form (header + payload) in `in`.
inline LatencyHistogram decode_v2(std::span<const std::uint8_t> in, const HistogramDecodeLimits& limits,
                                  double* ratio_out) {
  if (in.size() < 40) {
    hlog_decode_fail("V2 header needs 40 bytes, got " + std::to_string(in.size()));
  }
  const auto cookie = static_cast<std::uint32_t>(get_be(in, 0, 4));
  if ((cookie & ~0xf0u) != (kHdrV2EncodingCookie & ~0xf0u)) {
    hlog_decode_fail("bad cookie 0x" + [&] {
      char b[16];
      const auto r = std::to_chars(b, b + sizeof b, cookie, 16);
      return std::string(b, r.ptr);
    }() + " inside the compressed data (expected a V2 encoding)");
  }
  const std::uint64_t payload_len = get_be(in, 4, 4);
  const std::uint64_t offset = get_be(in, 8, 4);
  const std::uint64_t digits = get_be(in, 12, 4);
  const std::uint64_t lowest = get_be(in, 16, 8);
  const std::uint64_t highest = get_be(in, 24, 8);
  const std::uint64_t ratio_bits = get_be(in, 32, 8);
  if (payload_len > in.size() - 40) {
    hlog_decode_fail("payload length " + std::to_string(payload_len) + " exceeds the " +
                     std::to_string(in.size() - 40) + " bytes present");
  }
  if (offset != 0) {
    hlog_decode_fail("normalizingIndexOffset " + std::to_string(offset) + " is not supported (must be 0)");
  }
  if (digits < 1 || digits > 5) hlog_decode_fail("significant digits must be 1..5, got " + std::to_string(digits));
  if (lowest < 1 || highest > (std::uint64_t{1} << 62) || highest / 2 < lowest) {
    hlog_decode_fail("bad range: lowest " + std::to_string(lowest) + ", highest " + std::to_string(highest) +
                     " (need 1 <= lowest, 2 * lowest <= highest <= 2^62)");
  }
  const HdrLayout layout(lowest, static_cast<int>(digits));
  if (layout.unit_magnitude + layout.half_magnitude + 1 > 62) hlog_decode_fail("lowest discernible value too large");
  const std::size_t length = layout.counts_length(highest);
  if (length > limits.max_counts) {
    hlog_decode_fail("histogram needs " + std::to_string(length) + " counters, above the limit of " +
                     std::to_string(limits.max_counts));
  }
  if (ratio_out != nullptr) std::memcpy(ratio_out, &ratio_bits, sizeof(double));
  const std::span<const std::uint8_t> payload = in.subspan(40, static_cast<std::size_t>(payload_len));
  // Pass 1 validates and finds the top non-zero index; pass 2 records.
  const auto walk = [&](auto&& on_count) {
    std::size_t pos = 0;
    std::uint64_t index = 0;
    while (pos < payload.size()) {
      const std::uint64_t raw = get_zigzag_raw(payload, pos);
      if ((raw & 1) != 0) {  // a run of (raw >> 1) + 1 zero counts; saturates: a trailing run may overshoot
        const std::uint64_t run = (raw >> 1) + 1;
        index = run >= length - index ? length : index + run;
        continue;
      }
      const std::uint64_t count = raw >> 1;
      if (count != 0) {
        if (index >= length) {
          hlog_decode_fail("count at index " + std::to_string(index) + " beyond the histogram's " +
                           std::to_string(length) + " counters");
        }
        on_count(static_cast<std::size_t>(index), count);
      }
      if (index < length) ++index;
    }
  };
  // Counts above highest land in highest's bucket (record() clamps them): top and first are
  // found among those effective indices, so a decoded histogram decodes the same re-encoded.
  const std::size_t highest_index = layout.index_of(highest);
  const auto effective = [&](std::size_t index) { return layout.value_at(index) > highest ? highest_index : index; };
  std::size_t top = 0, first = SIZE_MAX;
  std::uint64_t total = 0, top_total = 0;
  walk([&](std::size_t index, std::uint64_t count) {
    // A total past 2^64 - 1 would wrap count() (to 0: an "empty" histogram holding counts).
    if (count > UINT64_MAX - total) hlog_decode_fail("total count exceeds 2^64 - 1");
    total += count;
    const std::size_t e = effective(index);
    top_total = e == top ? top_total + count : count;
    // Clamped counts share highest's bucket: past 2^63 - 1 the histogram could not be re-encoded.
    if (top_total > static_cast<std::uint64_t>(INT64_MAX)) hlog_decode_fail("a bucket's count exceeds 2^63 - 1");
    top = e;
    first = std::min(first, e);
  });
  LatencyHistogram h(LatencyHistogramConfig{.lowest_discernible = lowest,
                                            .highest_trackable = highest,
                                            .significant_digits = static_cast<int>(digits)});
  bool min_kept = false;
  walk([&](std::size_t index, std::uint64_t count) {
    std::uint64_t v = layout.value_at(index);
    const std::size_t e = effective(index);
    // The top bucket is recorded at its highest equivalent value, so that max() is what
    // Java's decoder reports. Above highest, record() clamps and counts the overflow.
    if (e == top) {
      if (e == first && top_total > 1 && !min_kept) {  // also the lowest bucket: min() stays its lowest value
        h.record(layout.value_at(e), 1);
        min_kept = true;
        if (--count == 0) return;
      }
      if (v <= highest) v = std::min(h.highest_equivalent_value(v), highest);
    }
    h.record(v, count);
  });
  return h;
}

}  // namespace detail

/// Decodes a V2 histogram, compressed (cookie 0x1c849314, any DEFLATE block types) or not
/// (0x1c849313), into a LatencyHistogram with the encoded range and digits. `scratch`
/// receives the inflated bytes (cleared first; reuse it to avoid allocating). `ratio`, when
/// given, receives the integer-to-double conversion ratio (1.0 for integer histograms).
/// Throws std::runtime_error for any malformed input (see the header's Errors). Any thread.
[[nodiscard]] inline LatencyHistogram decode_histogram(std::span<const std::uint8_t> in,
                                                       std::vector<std::uint8_t>& scratch,
                                                       const HistogramDecodeLimits& limits = {},
                                                       double* ratio = nullptr) {
  if (in.size() < 8) detail::hlog_decode_fail("need at least 8 bytes, got " + std::to_string(in.size()));
  const auto cookie = static_cast<std::uint32_t>(detail::get_be(in, 0, 4));
  const std::uint32_t base = cookie & ~0xf0u;
  if (base == (kHdrV2CompressedEncodingCookie & ~0xf0u)) {
    const std::uint64_t len = detail::get_be(in, 4, 4);
    if (len > in.size() - 8) {
      detail::hlog_decode_fail("compressed length " + std::to_string(len) + " exceeds the " +
                               std::to_string(in.size() - 8) + " bytes present");
    }
    scratch.clear();
    zlib_inflate(in.subspan(8, static_cast<std::size_t>(len)), scratch, limits.max_decoded_bytes);
    return detail::decode_v2(scratch, limits, ratio);
  }
  if (base == (kHdrV2EncodingCookie & ~0xf0u)) return detail::decode_v2(in, limits, ratio);
  if (base == 0x1c849301u || base == 0x1c849302u || base == 0x1c849308u || base == 0x1c849309u) {
    detail::hlog_decode_fail("V0/V1 encodings (HdrHistogram before 2.1) are not supported");
  }
  char hex[16];
  const auto r = std::to_chars(hex, hex + sizeof hex, cookie, 16);
  detail::hlog_decode_fail("bad cookie 0x" + std::string(hex, r.ptr) + " (not an HdrHistogram V2 encoding)");
}

/// As above, with a temporary scratch buffer.
[[nodiscard]] inline LatencyHistogram decode_histogram(std::span<const std::uint8_t> in,
                                                       const HistogramDecodeLimits& limits = {}) {
  std::vector<std::uint8_t> scratch;
  return decode_histogram(in, scratch, limits);
}

/// Settings of a HistogramLogWriter.
struct HistogramLogWriterConfig {
  /// The max column is the histogram's max divided by this (Java's default: 1e6, so
  /// nanoseconds are logged as milliseconds). Only that column; the histogram is unscaled.
  double max_value_unit_ratio = 1'000'000.0;
  /// true: compressed V2 payloads (cookie 0x1c849314, what Java writes and what
  /// HistogramLogProcessor expects); false: uncompressed V2 payloads (Java's reader accepts
  /// them too, but not every tool does).
  bool compressed = true;
};

/// Writes an HdrHistogram interval log to a std::ostream, line by line, as Java's
/// HistogramLogWriter does. One thread at a time. The stream must outlive the writer.
class HistogramLogWriter {
 public:
  /// Writes to `out`; nothing is written before the first call.
  explicit HistogramLogWriter(std::ostream& out, const HistogramLogWriterConfig& cfg = {})
      : out_(&out), cfg_(cfg) {
    if (!(cfg.max_value_unit_ratio > 0) || !std::isfinite(cfg.max_value_unit_ratio)) {
      throw std::invalid_argument("hft::HistogramLogWriter: max_value_unit_ratio must be finite and > 0, got " +
                                  std::to_string(cfg.max_value_unit_ratio));
    }
  }

  /// The settings given at construction.
  [[nodiscard]] const HistogramLogWriterConfig& config() const noexcept { return cfg_; }

  /// Writes "#<text>" (text must not contain a line break: std::invalid_argument).
  void write_comment(std::string_view text) {
    if (text.find_first_of("\r\n") != std::string_view::npos) {
      throw std::invalid_argument("hft::HistogramLogWriter: a comment cannot contain a line break");
    }
    line_.assign("#");
    line_ += text;
    line_ += '\n';
    flush_line();
  }

  /// Writes "#[Histogram log format version 1.3]", the version Java's writer declares.
  void write_log_format_version() { write_comment("[Histogram log format version 1.3]"); }

  /// Writes "#[StartTime: <seconds> (seconds since epoch), <date>]". Java's reader takes
  /// the first interval's time as the start when this line is absent. std::invalid_argument
  /// unless |epoch_seconds| < 2^55 (the date must exist).
  void write_start_time(double epoch_seconds) {
    check_finite(epoch_seconds, "start time");
    line_.assign("#[StartTime: ");
    append_seconds(epoch_seconds);
    line_ += " (seconds since epoch), ";
    // Beyond about 2^55 s the year overflows std::tm's int (and beyond 2^63 the cast is UB).
    if (!(std::fabs(epoch_seconds) < 0x1p55)) {
      throw std::invalid_argument("hft::HistogramLogWriter: start time " + std::to_string(epoch_seconds) +
                                  " is out of range (|t| < 2^55 s)");
    }
    const auto t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) {
      throw std::invalid_argument("hft::HistogramLogWriter: start time " + std::to_string(epoch_seconds) +
                                  " has no calendar date");
    }
    char date[64];
    const std::size_t n = std::strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
    line_.append(date, n);
    line_ += "]\n";
    flush_line();
  }

  /// Writes "#[BaseTime: <seconds> (seconds since epoch)]": interval start times in the log
  /// are then relative to it.
  void write_base_time(double epoch_seconds) {
    check_finite(epoch_seconds, "base time");
    line_.assign("#[BaseTime: ");
    append_seconds(epoch_seconds);
    line_ += " (seconds since epoch)]\n";
    flush_line();
  }

  /// Writes the CSV legend line Java writes before the first interval.
  void write_legend() {
    line_.assign("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n");
    flush_line();
  }

  /// The usual preamble: format version, StartTime and BaseTime (both `epoch_seconds`, so
  /// interval times are seconds since then), legend.
  void write_header(double epoch_seconds) {
    write_log_format_version();
    write_start_time(epoch_seconds);
    write_base_time(epoch_seconds);
    write_legend();
  }

  /// Writes one interval: "[Tag=<tag>,]<start>,<length>,<max>,<base64 payload>", seconds
  /// with 3 decimals as Java prints them. `tag` must not contain ',', ' ', a tab, `\r` or
  /// `\n`, and the max column must be finite (std::invalid_argument); an empty tag writes no
  /// Tag field. Allocates only while its
  /// buffers grow. Throws std::runtime_error when the stream fails.
  void write_interval(double start_seconds, double length_seconds, const LatencyHistogram& h,
                      std::string_view tag = {}) {
    check_finite(start_seconds, "start");
    check_finite(length_seconds, "length");
    // The reader splits fields on ',', ' ' and '\t': a tag holding one would not read back.
    if (tag.find_first_of(", \t\r\n") != std::string_view::npos) {
      throw std::invalid_argument("hft::HistogramLogWriter: tag '" + std::string(tag) +
                                  "' contains a comma, space, tab or line break");
    }
    const double max_v = h.empty() ? 0.0 : static_cast<double>(h.highest_equivalent_value(h.max()));
    const double max_column = max_v / cfg_.max_value_unit_ratio;
    // Java would print "Infinity", which HistogramLogReader (and HdrHistogram_c) refuse.
    check_finite(max_column, "max column (max / max_value_unit_ratio)");
    bytes_.clear();
    if (cfg_.compressed) {
      encode_histogram_compressed(h, bytes_, scratch_);
    } else {
      encode_histogram(h, bytes_);
    }
    line_.clear();
    if (!tag.empty()) {
      line_ += "Tag=";
      line_ += tag;
      line_ += ',';
    }
    append_seconds(start_seconds);
    line_ += ',';
    append_seconds(length_seconds);
    line_ += ',';
    append_seconds(max_column);
    line_ += ',';
    base64_encode(bytes_, line_);
    line_ += '\n';
    flush_line();
  }

  /// Flushes the stream (std::runtime_error when it fails).
  void flush() {
    out_->flush();
    if (!*out_) throw std::runtime_error("hft::HistogramLogWriter: flush failed");
  }

 private:
  static void check_finite(double v, const char* what) {
    if (!std::isfinite(v)) {
      throw std::invalid_argument(std::string("hft::HistogramLogWriter: ") + what + " is not finite");
    }
  }
  void append_seconds(double v) { detail::append_java_fixed3(line_, v); }
  void flush_line() {
    out_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
    if (!*out_) throw std::runtime_error("hft::HistogramLogWriter: write failed");
  }

  std::ostream* out_;
  HistogramLogWriterConfig cfg_;
  std::vector<std::uint8_t> bytes_, scratch_;
  std::string line_;
};

/// One interval of a log, as HistogramLogReader returns it.
struct HistogramLogInterval {
  /// The Tag= field, empty when absent.
  std::string tag;
  /// The start column, in seconds, as written (relative to base_time() when the log has one).
  double start_seconds = 0;
  /// The interval length column, in seconds.
  double length_seconds = 0;
  /// The max column as written (the histogram's max / the writer's max_value_unit_ratio).
  double max_column = 0;
  /// The payload's integer-to-double conversion ratio (1.0 for integer histograms).
  double integer_to_double_ratio = 1.0;
  /// The decoded histogram.
  LatencyHistogram histogram;
};

/// Reads an HdrHistogram interval log (Java's, HdrHistogram_c's or HistogramLogWriter's) from
/// a std::istream, one interval per next(). One thread at a time.
class HistogramLogReader {
 public:
  /// Reads from `in`, which must outlive the reader.
  explicit HistogramLogReader(std::istream& in, const HistogramDecodeLimits& limits = {})
      : in_(&in), limits_(limits) {}

  /// The next interval, or std::nullopt at the end of the stream. Comment, StartTime,
  /// BaseTime, legend and blank lines are consumed on the way. Throws std::runtime_error
  /// ("hft::HistogramLogReader: line N: ...") for a malformed line or payload.
  [[nodiscard]] std::optional<HistogramLogInterval> next() {
    while (read_line()) {
      ++line_no_;
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      const std::string_view line = line_;
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (line.front() == '#') {
        parse_comment(line);
        continue;
      }
      if (line.starts_with("\"StartTimestamp\"")) continue;  // legend
      return parse_interval(line);
    }
    if (in_->bad()) throw std::runtime_error("hft::HistogramLogReader: read error");
    return std::nullopt;
  }

  /// The #[StartTime: ...] value seen so far, in seconds since the epoch.
  [[nodiscard]] std::optional<double> start_time() const noexcept { return start_time_; }
  /// The #[BaseTime: ...] value seen so far, in seconds since the epoch.
  [[nodiscard]] std::optional<double> base_time() const noexcept { return base_time_; }
  /// The number of the last line read (1-based).
  [[nodiscard]] std::size_t line_number() const noexcept { return line_no_; }

 private:
  // std::getline without a length cap: reads up to '\n' or the end of the stream into line_,
  // refusing a line longer than max_line_bytes before buffering more of it. False at the end.
  bool read_line() {
    line_.clear();
    std::streambuf* const sb = in_->rdbuf();
    if (sb == nullptr || !in_->good()) return false;
    for (;;) {
      const int c = sb->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        in_->setstate(std::ios_base::eofbit);
        return !line_.empty();
      }
      if (c == '\n') return true;
      if (line_.size() >= limits_.max_line_bytes)
        throw std::runtime_error("hft::HistogramLogReader: line " + std::to_string(line_no_ + 1) +
                                 ": longer than max_line_bytes (" + std::to_string(limits_.max_line_bytes) + ")");
      line_.push_back(static_cast<char>(c));
    }
  }
  static std::optional<double> leading_double(std::string_view s) {
    const std::size_t b = s.find_first_not_of(' ');
    if (b == std::string_view::npos) return std::nullopt;
    double v = 0;
    const auto r = std::from_chars(s.data() + b, s.data() + s.size(), v);
    if (r.ec != std::errc{}) return std::nullopt;
    return v;
  }

  void parse_comment(std::string_view line) {
    if (line.starts_with("#[StartTime:")) {
      start_time_ = leading_double(line.substr(12));
    } else if (line.starts_with("#[BaseTime:")) {
      base_time_ = leading_double(line.substr(11));
    }
  }

  [[nodiscard]] std::runtime_error line_error(const std::string& what) const {
    return std::runtime_error("hft::HistogramLogReader: line " + std::to_string(line_no_) + ": " + what);
  }

  HistogramLogInterval parse_interval(std::string_view line) {
    // Java's scanner splits on ',', ' ', '\r' and '\n'; a run of them is one separator here.
    std::string_view fields[5];
    std::size_t n = 0, pos = 0;
    while (pos < line.size()) {
      pos = line.find_first_not_of(", \t", pos);
      if (pos == std::string_view::npos) break;
      const std::size_t end = std::min(line.find_first_of(", \t", pos), line.size());
      if (n == 5) throw line_error("too many fields (expected [Tag=t,]start,length,max,payload)");
      fields[n++] = line.substr(pos, end - pos);
      pos = end;
    }
    std::size_t f = 0;
    std::string_view tag;
    if (n > 0 && fields[0].starts_with("Tag=")) {
      tag = fields[0].substr(4);
      f = 1;
    }
    if (n - f != 4) {
      throw line_error("expected 4 fields ([Tag=t,]start,length,max,payload), got " + std::to_string(n - f));
    }
    const auto number = [&](std::string_view s, const char* what) {
      double v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
        throw line_error(std::string(what) + " '" + std::string(s) + "' is not a number");
      }
      return v;
    };
    const double start = number(fields[f], "start");
    const double length = number(fields[f + 1], "interval length");
    const double max_column = number(fields[f + 2], "max");
    bytes_.clear();
    double ratio = 1.0;
    std::optional<LatencyHistogram> h;
    try {
      base64_decode(fields[f + 3], bytes_);
      h.emplace(decode_histogram(bytes_, scratch_, limits_, &ratio));
    } catch (const std::runtime_error& e) {
      throw line_error(e.what());
    }
    return HistogramLogInterval{.tag = std::string(tag),
                                .start_seconds = start,
                                .length_seconds = length,
                                .max_column = max_column,
                                .integer_to_double_ratio = ratio,
                                .histogram = std::move(*h)};
  }

  std::istream* in_;
  HistogramDecodeLimits limits_;
  std::string line_;
  std::vector<std::uint8_t> bytes_, scratch_;
  std::size_t line_no_ = 0;
  std::optional<double> start_time_, base_time_;
};

}  // namespace hft
