// hft/core/inflate.hpp: a bounds-checked zlib (RFC 1950) / DEFLATE (RFC 1951) decoder, a
// stored-block zlib encoder, and Adler-32.
//
// What: `zlib_inflate(in, out, max_out)` decodes one zlib stream (2-byte header, DEFLATE
//   blocks of all three kinds: stored, fixed Huffman, dynamic Huffman; then the big-endian
//   Adler-32 of the output, which is checked) and appends the output to `out`.
//   `inflate_raw` does the same for a bare DEFLATE stream. `zlib_store(in, out)` writes a
//   valid zlib stream without compressing: stored blocks of at most 65,535 bytes plus the
//   Adler-32, which every inflater (zlib, java.util.zip.Inflater, this one) reads. Huffman
//   codes are decoded canonically, one bit at a time against the per-length first code
//   (RFC 1951 section 3.2.2): simple to check, about 10-20 ns per output byte, enough for
//   histogram payloads of a few KiB; not a replacement for zlib on bulk data.
//   Every read of the input and every back-reference is bounds-checked: a truncated,
//   corrupt or hostile stream throws std::runtime_error ("hft::zlib_inflate: ...") and
//   never reads outside `in` or writes past `max_out` bytes of output (a "zip bomb" stops
//   at the cap with an error).
// When to use: reading HdrHistogram's compressed histograms (hft/metrics/histogram_log.hpp)
//   or any small zlib payload without linking zlib. When not: bulk or speed-sensitive
//   decompression, and any compression (use zlib, libdeflate or zstd).
// Thread-safety: pure functions of their arguments; any thread, concurrently on distinct
//   outputs.
// Memory: the output vector grows as needed (up to max_out bytes); the decoder's tables
//   (about 1.3 KiB) live on the stack. Nothing else is allocated.
// Limits: preset dictionaries (FDICT) are refused; only the first stream is decoded (bytes
//   after its Adler-32 are left to the caller: the returned count says where it ended).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace hft {

/// Adler-32 (RFC 1950 section 8.2) of `data`, continuing from `adler` (start: 1). Any thread.
[[nodiscard]] inline std::uint32_t adler32(std::span<const std::uint8_t> data, std::uint32_t adler = 1) noexcept {
  constexpr std::uint32_t kMod = 65521;
  std::uint32_t a = adler & 0xffffu, b = adler >> 16;
  std::size_t i = 0;
  while (i < data.size()) {
    // 5552 bytes is the longest run whose sums cannot overflow 32 bits before the modulo.
    const std::size_t end = std::min(data.size(), i + 5552);
    for (; i < end; ++i) {
      a += data[i];
      b += a;
    }
    a %= kMod;
    b %= kMod;
  }
  return (b << 16) | a;
}

/// Appends to `out` a zlib stream holding `in` in stored (uncompressed) DEFLATE blocks, then
/// its Adler-32: 11 bytes plus 5 per 65,535 bytes of overhead. Any thread.
inline void zlib_store(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  out.push_back(0x78);  // CM = 8 (deflate), CINFO = 7 (32 KiB window)
  out.push_back(0x01);  // FLEVEL = 0, no dictionary, FCHECK making 0x7801 a multiple of 31
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(in.size() - pos, 65535);
    const bool last = pos + n == in.size();
    out.push_back(last ? 1 : 0);  // BFINAL, BTYPE = 00 (stored); the header ends on a byte boundary
    out.push_back(static_cast<std::uint8_t>(n & 0xff));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(~n & 0xff));
    out.push_back(static_cast<std::uint8_t>((~n >> 8) & 0xff));
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
               in.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < in.size());
  const std::uint32_t a = adler32(in);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(a >> shift));
}

namespace detail {

[[noreturn]] inline void inflate_fail(const char* what) {
  throw std::runtime_error(std::string("hft::zlib_inflate: ") + what);
}

// LSB-first bit reader over a span; every refill is bounds-checked.
class InflateBits {
 public:
  explicit InflateBits(std::span<const std::uint8_t> in) noexcept : in_(in) {}

  std::uint32_t bits(int n) {  // n <= 16
    while (count_ < n) {
      if (pos_ >= in_.size()) inflate_fail("truncated stream (input ended inside a block)");
      buffer_ |= static_cast<std::uint32_t>(in_[pos_++]) << count_;
      count_ += 8;
    }
    const std::uint32_t v = buffer_ & ((1u << n) - 1u);
    buffer_ >>= n;
    count_ -= n;
    return v;
  }
  void align() noexcept {  // drop the bits left in the current byte
    buffer_ = 0;
    count_ = 0;
  }
  // Whole bytes not yet consumed (after align()).
  [[nodiscard]] std::size_t byte_pos() const noexcept { return pos_; }
  void skip_bytes(std::size_t n) noexcept { pos_ += n; }
  [[nodiscard]] std::span<const std::uint8_t> input() const noexcept { return in_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::uint32_t buffer_ = 0;
  int count_ = 0;
};

// A canonical Huffman code: how many codes of each length, and the symbols ordered by
// (length, symbol value), which is the order in which canonical codes are assigned.
struct InflateCode {
  std::array<std::uint16_t, 16> per_length{};
  std::array<std::uint16_t, 288> by_code{};

  // Throws for an over-subscribed set of lengths; an incomplete one is accepted (RFC 1951
  // allows a single distance code), and a code word it leaves unassigned fails in decode().
  void build(const std::uint8_t* lengths, std::size_t n) {
    per_length.fill(0);
    for (std::size_t s = 0; s < n; ++s) ++per_length[lengths[s]];
    per_length[0] = 0;
    int available = 1;
    for (std::size_t len = 1; len < 16; ++len) {
      available = available * 2 - per_length[len];
      if (available < 0) inflate_fail("over-subscribed Huffman code lengths");
    }
    std::array<std::uint16_t, 16> next{};
    for (std::size_t len = 1; len < 15; ++len) next[len + 1] = static_cast<std::uint16_t>(next[len] + per_length[len]);
    for (std::size_t s = 0; s < n; ++s) {
      if (lengths[s] != 0) by_code[next[lengths[s]]++] = static_cast<std::uint16_t>(s);
    }
  }

  std::uint32_t decode(InflateBits& bits) const {
    // code - first stays >= 0: a code longer than len starts at or after the first code of
    // length len, shifted (canonical codes are assigned in increasing order).
    std::uint32_t code = 0, first = 0, index = 0;
    for (std::size_t len = 1; len < 16; ++len) {
      code |= bits.bits(1);
      const std::uint32_t count = per_length[len];
      if (code - first < count) return by_code[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    inflate_fail("invalid Huffman code");
  }
};

struct InflateTables {
  std::array<std::uint16_t, 29> length_base{};
  std::array<std::uint8_t, 29> length_extra{};
  std::array<std::uint16_t, 30> dist_base{};
  std::array<std::uint8_t, 30> dist_extra{};
  constexpr InflateTables() {
    unsigned base = 3;
    for (std::size_t c = 0; c < 28; ++c) {
      length_extra[c] = static_cast<std::uint8_t>(c < 8 ? 0 : (c - 4) / 4);
      length_base[c] = static_cast<std::uint16_t>(base);
      base += 1u << length_extra[c];
    }
    length_base[28] = 258;  // RFC 1951: code 285 is 258 with no extra bits
    length_extra[28] = 0;
    base = 1;
    for (std::size_t d = 0; d < 30; ++d) {
      dist_extra[d] = static_cast<std::uint8_t>(d < 2 ? 0 : d / 2 - 1);
      dist_base[d] = static_cast<std::uint16_t>(base);
      base += 1u << dist_extra[d];
    }
  }
};
inline constexpr InflateTables kInflateTables{};

inline void inflate_block(InflateBits& bits, const InflateCode& lit, const InflateCode& dist,
                          std::vector<std::uint8_t>& out, std::size_t start, std::size_t max_out) {
  for (;;) {
    const std::uint32_t sym = lit.decode(bits);
    if (sym < 256) {
      if (out.size() - start >= max_out) inflate_fail("output exceeds the size limit");
      out.push_back(static_cast<std::uint8_t>(sym));
      continue;
    }
    if (sym == 256) return;
    if (sym > 285) inflate_fail("invalid literal/length symbol (286 or 287)");
    const std::size_t lc = sym - 257;
    const std::size_t len = kInflateTables.length_base[lc] + bits.bits(kInflateTables.length_extra[lc]);
    const std::size_t dc = dist.decode(bits);
    if (dc > 29) inflate_fail("invalid distance symbol (30 or 31)");
    const std::size_t d = kInflateTables.dist_base[dc] + bits.bits(kInflateTables.dist_extra[dc]);
    if (d > out.size() - start) inflate_fail("back-reference distance beyond the start of the output");
    if (len > max_out - (out.size() - start)) inflate_fail("output exceeds the size limit");
    // Byte by byte: a copy may overlap its own output (distance < length repeats a pattern).
    const std::size_t from = out.size() - d;
    for (std::size_t i = 0; i < len; ++i) out.push_back(out[from + i]);
  }
}

inline void inflate_dynamic_codes(InflateBits& bits, InflateCode& lit, InflateCode& dist) {
  const std::size_t nlit = bits.bits(5) + 257;
  const std::size_t ndist = bits.bits(5) + 1;
  const std::size_t nclen = bits.bits(4) + 4;
  if (nlit > 286) inflate_fail("dynamic block declares more than 286 literal/length codes");
  if (ndist > 30) inflate_fail("dynamic block declares more than 30 distance codes");
  static constexpr std::array<std::uint8_t, 19> kOrder = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                                          11, 4,  12, 3, 13, 2, 14, 1, 15};
  std::array<std::uint8_t, 19> clen{};
  for (std::size_t i = 0; i < nclen; ++i) clen[kOrder[i]] = static_cast<std::uint8_t>(bits.bits(3));
  InflateCode clcode;
  clcode.build(clen.data(), 19);
  std::array<std::uint8_t, 286 + 30> lengths{};
  std::size_t i = 0;
  while (i < nlit + ndist) {
    const std::uint32_t sym = clcode.decode(bits);
    if (sym < 16) {
      lengths[i++] = static_cast<std::uint8_t>(sym);
      continue;
    }
    std::uint8_t value = 0;
    std::size_t repeat = 0;
    if (sym == 16) {
      if (i == 0) inflate_fail("code-length repeat (16) with no previous length");
      value = lengths[i - 1];
      repeat = 3 + bits.bits(2);
    } else if (sym == 17) {
      repeat = 3 + bits.bits(3);
    } else {
      repeat = 11 + bits.bits(7);
    }
    if (i + repeat > nlit + ndist) inflate_fail("code-length repeat runs past the declared code count");
    for (std::size_t k = 0; k < repeat; ++k) lengths[i++] = value;
  }
  if (lengths[256] == 0) inflate_fail("dynamic block has no end-of-block code");
  lit.build(lengths.data(), nlit);
  dist.build(lengths.data() + nlit, ndist);
}

}  // namespace detail

/// Decodes a bare DEFLATE stream (RFC 1951) from `in`, appending at most `max_out` bytes to
/// `out`. Returns the number of input bytes used (up to the end of the final block's last
/// byte). Throws std::runtime_error for a malformed or truncated stream, or when the output
/// would exceed `max_out`. Any thread.
inline std::size_t inflate_raw(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                               std::size_t max_out) {
  detail::InflateBits bits(in);
  const std::size_t start = out.size();
  detail::InflateCode lit, dist;
  bool last = false;
  while (!last) {
    last = bits.bits(1) != 0;
    const std::uint32_t type = bits.bits(2);
    if (type == 0) {
      bits.align();
      const std::size_t p = bits.byte_pos();
      if (in.size() - p < 4) detail::inflate_fail("truncated stream (stored block header)");
      const std::size_t len = in[p] | (static_cast<std::size_t>(in[p + 1]) << 8);
      const std::size_t nlen = in[p + 2] | (static_cast<std::size_t>(in[p + 3]) << 8);
      if ((len ^ 0xffffu) != nlen) detail::inflate_fail("stored block length check (NLEN) mismatch");
      if (in.size() - p - 4 < len) detail::inflate_fail("truncated stream (stored block data)");
      if (len > max_out - (out.size() - start)) detail::inflate_fail("output exceeds the size limit");
      out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(p + 4),
                 in.begin() + static_cast<std::ptrdiff_t>(p + 4 + len));
      bits.skip_bytes(4 + len);
    } else if (type == 1) {
      // RFC 1951 3.2.6: 32 five-bit distance codes, of which 30 and 31 are invalid when used.
      std::array<std::uint8_t, 288 + 32> lengths{};
      for (std::size_t s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
      for (std::size_t s = 0; s < 32; ++s) lengths[288 + s] = 5;
      lit.build(lengths.data(), 288);
      dist.build(lengths.data() + 288, 32);
      detail::inflate_block(bits, lit, dist, out, start, max_out);
    } else if (type == 2) {
      detail::inflate_dynamic_codes(bits, lit, dist);
      detail::inflate_block(bits, lit, dist, out, start, max_out);
    } else {
      detail::inflate_fail("invalid block type 3");
    }
  }
  bits.align();
  return bits.byte_pos();
}

/// Decodes one zlib stream (RFC 1950: header, DEFLATE data, Adler-32) from `in`, appending
/// at most `max_out` bytes to `out`, and checks the Adler-32. Returns the number of input
/// bytes used. Throws std::runtime_error ("hft::zlib_inflate: ...") for a bad header, a
/// preset dictionary, a malformed or truncated stream, a checksum mismatch, or output beyond
/// `max_out`; `out` then holds a partial result. Any thread.
inline std::size_t zlib_inflate(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                                std::size_t max_out) {
  if (in.size() < 2) detail::inflate_fail("truncated stream (no zlib header)");
  const unsigned cmf = in[0], flg = in[1];
  if ((cmf & 0x0f) != 8) detail::inflate_fail("zlib header: compression method is not deflate (8)");
  if ((cmf >> 4) > 7) detail::inflate_fail("zlib header: window size above 32 KiB");
  if (((cmf << 8) | flg) % 31 != 0) detail::inflate_fail("zlib header: check bits (FCHECK) are wrong");
  if ((flg & 0x20) != 0) detail::inflate_fail("zlib header: preset dictionaries are not supported");
  const std::size_t start = out.size();
  const std::size_t used = 2 + inflate_raw(in.subspan(2), out, max_out);
  if (in.size() - used < 4) detail::inflate_fail("truncated stream (no Adler-32 trailer)");
  std::uint32_t expected = 0;
  for (std::size_t i = 0; i < 4; ++i) expected = (expected << 8) | in[used + i];
  const std::uint32_t actual =
      adler32(std::span<const std::uint8_t>(out.data() + start, out.size() - start));
  if (actual != expected) detail::inflate_fail("Adler-32 mismatch (corrupt data)");
  return used + 4;
}

}  // namespace hft
