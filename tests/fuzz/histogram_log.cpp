// Fuzz target: hft/core/inflate.hpp and hft/metrics/histogram_log.hpp on arbitrary bytes.
// The first byte picks the entry point, the rest is its input:
//   0: zlib_inflate with a small output cap     1: inflate_raw with a small output cap
//   2: decode_histogram with tight limits       3: HistogramLogReader over the bytes as text
// Invariants: every entry point either returns or throws std::runtime_error whose message
//   names the function (any other exception escapes and is a crash); the output never
//   exceeds the cap; what inflates re-stores and inflates back to the same bytes; what
//   decodes re-encodes (both forms) and decodes to the same counts, and that re-encoding is a
//   fixed point; zlib_store(x) always inflates back to x.
#include <cstdint>
#include <cstring>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "hft/core/inflate.hpp"
#include "hft/metrics/histogram_log.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr hft::HistogramDecodeLimits kLimits{.max_decoded_bytes = std::size_t{1} << 16,
                                             .max_counts = std::size_t{1} << 16};

bool starts_with(const std::runtime_error& e, std::string_view prefix) {
  return std::string_view(e.what()).starts_with(prefix);
}

void check_restore(std::span<const std::uint8_t> data) {
  Bytes z, back;
  hft::zlib_store(data, z);
  FUZZ_CHECK(hft::zlib_inflate(z, back, data.size()) == z.size(), "zlib_store: stream length");
  FUZZ_CHECK(back.size() == data.size() && std::equal(back.begin(), back.end(), data.begin()),
             "zlib_store: round trip differs");
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets(const hft::LatencyHistogram& h) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> b;
  h.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t c) { b.emplace_back(lo, c); });
  return b;
}

// Whatever decoded re-encodes, in both forms, to something that decodes to the same counts.
void check_histogram(const hft::LatencyHistogram& h) {
  std::uint64_t sum = 0;
  for (const auto& [lo, c] : buckets(h)) sum += c;
  FUZZ_CHECK(sum == h.count(), "decoded bucket counts sum to %llu, count() is %llu",
             static_cast<unsigned long long>(sum), static_cast<unsigned long long>(h.count()));
  Bytes plain, packed, again;
  hft::encode_histogram(h, plain);
  hft::encode_histogram_compressed(h, packed);
  const hft::LatencyHistogram a = hft::decode_histogram(plain);  // default limits: what decoded re-decodes
  const hft::LatencyHistogram b = hft::decode_histogram(packed);
  FUZZ_CHECK(a.config() == h.config() && b.config() == h.config(), "re-decoded configuration differs");
  FUZZ_CHECK(a.count() == h.count() && b.count() == h.count(), "re-decoded count differs");
  FUZZ_CHECK(buckets(a) == buckets(h) && buckets(b) == buckets(h), "re-decoded buckets differ");
  FUZZ_CHECK(a.max() == h.max() && a.min() == h.min(), "re-decoded min/max differ");
  hft::encode_histogram(a, again);
  FUZZ_CHECK(again == plain, "re-encoding is not a fixed point");
}

void run(std::uint8_t mode, std::span<const std::uint8_t> in) {
  switch (mode % 4) {
    case 0:
    case 1: {
      const std::size_t cap = in.empty() ? 0 : std::size_t{in[0]} * 64;
      if (!in.empty()) in = in.subspan(1);
      Bytes out{7};  // output is appended: a prefix must be kept and not counted
      try {
        const std::size_t used = mode % 4 == 0 ? hft::zlib_inflate(in, out, cap) : hft::inflate_raw(in, out, cap);
        FUZZ_CHECK(used <= in.size(), "used %zu of %zu bytes", used, in.size());
        check_restore(std::span(out).subspan(1));
      } catch (const std::runtime_error& e) {
        FUZZ_CHECK(starts_with(e, "hft::zlib_inflate: "), "unexpected message: %s", e.what());
      }
      FUZZ_CHECK(out.size() <= cap + 1, "output %zu above the cap %zu", out.size() - 1, cap);
      FUZZ_CHECK(out[0] == 7, "the existing output was overwritten");
      break;
    }
    case 2: {
      Bytes scratch;
      try {
        check_histogram(hft::decode_histogram(in, scratch, kLimits));
      } catch (const std::runtime_error& e) {
        FUZZ_CHECK(starts_with(e, "hft::decode_histogram: ") || starts_with(e, "hft::zlib_inflate: "),
                   "unexpected message: %s", e.what());
      }
      FUZZ_CHECK(scratch.size() <= kLimits.max_decoded_bytes, "inflated past the limit");
      break;
    }
    default: {
      std::istringstream text(std::string(reinterpret_cast<const char*>(in.data()), in.size()));
      hft::HistogramLogReader reader(text, kLimits);
      try {
        while (auto interval = reader.next()) check_histogram(interval->histogram);
      } catch (const std::runtime_error& e) {
        FUZZ_CHECK(starts_with(e, "hft::HistogramLogReader: line "), "unexpected message: %s", e.what());
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  run(data[0], in);
  check_restore(in);
  return 0;
}
