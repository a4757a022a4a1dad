// Fuzz target: the logger's consumer side on arbitrary bytes: hft/log/log_ring.hpp's peek and
// release over a ring whose array and published tail come from the input, and
// hft/log/log_codec.hpp's log_format_record (with hft/log/log_format.hpp's run-time
// formatter) on every record that comes out, for several argument-type lists, with a fixed
// format string and with one taken from the input.
// Input: bytes 0-7: the published tail, as a distance from the head (modulo 3 capacities);
//   byte 8: where the head starts (in units of 8 bytes); byte 9: the length of the format
//   string that follows; the rest: the ring's array, from offset 0.
// Invariants: the consumer stops (empty or corrupt) within (tail - head) / 8 records; every
//   record lies inside the array, is a multiple of 8 between 8 and max_record bytes and starts
//   with its size; a record holding two strings formats exactly as they decode by hand; a
//   record without arguments is valid only when fewer than 8 bytes follow the header; two
//   strings that do not decode are reported with the "[corrupt record" marker.
//
// Build with -DHFT_LOG_RECORDS_WRITE_SEEDS (no libFuzzer) to get a main() that writes the
// seed corpus (valid rings, some wrapping) into the directory given as its argument.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "hft/log/log_backend.hpp"
#include "hft/log/log_codec.hpp"
#include "hft/log/log_ring.hpp"

namespace {

struct Px {  // a trivially copyable user type
  std::int64_t price;
  std::int32_t qty;
};
struct Levels {  // a user type with a full codec: int32 values
  std::array<std::int32_t, 3> v;
};

}  // namespace

namespace hft {
template <>
struct LogCodec<Px> : TriviallyCopyableLogCodec<Px> {
  static void format_value(const Px& p, std::string_view spec, std::string& out) {
    out += std::to_string(p.price);
    out += '@';
    out += std::to_string(p.qty);
    out.append(spec.substr(0, 16));
  }
};
template <>
struct LogCodec<Levels> {
  static std::size_t encoded_size(const Levels&) noexcept { return sizeof(Levels::v); }
  static void encode(const Levels& l, std::byte* dst) noexcept { std::memcpy(dst, l.v.data(), sizeof(Levels::v)); }
  static bool format(std::span<const std::byte> bytes, std::string_view spec, std::string& out) {
    if (bytes.size() % 4 != 0 || spec == "x") return false;
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
      std::int32_t x = 0;
      std::memcpy(&x, bytes.data() + i, sizeof x);
      out += std::to_string(x);
      out += ',';
    }
    return true;
  }
};
}  // namespace hft

namespace {

constexpr std::size_t kCapacity = 1024;
constexpr std::size_t kPrefix = 10;
using Header = hft::detail::LogRecordHeader;

template <class... Ps>
void run_list(std::span<const std::byte> payload, std::string_view fmt, std::string_view fixed) {
  for (const std::string_view f : {fmt, fixed}) {
    std::string out;
    // Any result is fine here: the point is that decoding and formatting random bytes with a
    // random format string neither crashes nor reads outside `payload` and `f`.
    (void)hft::detail::log_format_record<Ps...>(payload, f, out);
  }
}

bool read_string(std::span<const std::byte>& p, std::string_view& s) {
  std::uint32_t len = 0;
  if (p.size() < sizeof len) return false;
  std::memcpy(&len, p.data(), sizeof len);
  if (len > p.size() - sizeof len) return false;
  s = std::string_view(reinterpret_cast<const char*>(p.data() + sizeof len), len);
  p = p.subspan(sizeof len + len);
  return true;
}

void check_record(std::span<const std::byte> payload, std::string_view fmt) {
  // Two strings, decoded by hand: the formatted output must be exactly them.
  {
    std::span<const std::byte> p = payload;
    std::string_view a;
    std::string_view b;
    const bool decodes = read_string(p, a) && read_string(p, b);
    std::string out;
    const bool ok = hft::detail::log_format_record<std::string_view, std::string_view>(payload, "{}|{}", out);
    if (decodes) {
      FUZZ_CHECK(ok == (p.size() < 8), "two strings: ok %d with %zu bytes left", ok, p.size());
      FUZZ_CHECK(out == std::string(a) + "|" + std::string(b), "two strings: formatted differently");
    } else {
      FUZZ_CHECK(!ok && out.find("[corrupt record") != std::string::npos, "two strings: no corrupt marker");
    }
  }
  // No arguments: a fixed string, valid only with fewer than 8 bytes of padding.
  {
    std::string out;
    const bool ok = hft::detail::log_format_record<>(payload, "plain {{text}}", out);
    FUZZ_CHECK(out == "plain {text}", "no arguments: formatted differently");
    FUZZ_CHECK(ok == (payload.size() < 8), "no arguments: ok %d with %zu bytes", ok, payload.size());
  }
  run_list<int, double, std::string_view>(payload, fmt, "{} {:.3} {:>8}");
  run_list<std::string_view, std::string_view>(payload, fmt, "{1:*^9}{0}");
  run_list<bool, char, unsigned long long, const void*>(payload, fmt, "{} {} {:#x} {}");
  run_list<>(payload, fmt, "");
  run_list<hft::detail::LogCustomRef<Px>, hft::detail::LogCustomRef<Levels>, std::string_view>(payload, fmt,
                                                                                               "{:spec} {} {}");
  run_list<long double, float, short, signed char, unsigned char>(payload, fmt, "{:e} {:g} {:+} {:c} {:08b}");
}

void run(std::span<const std::uint8_t> in) {
  std::array<std::uint8_t, kPrefix> prefix{};
  std::memcpy(prefix.data(), in.data(), std::min(in.size(), prefix.size()));
  in = in.subspan(std::min(in.size(), prefix.size()));
  std::uint64_t delta = 0;
  std::memcpy(&delta, prefix.data(), sizeof delta);
  delta %= 3 * kCapacity;
  const std::size_t start = 8 * (prefix[8] % (kCapacity / 8));
  const std::size_t fmt_len = std::min<std::size_t>(prefix[9], in.size());
  const std::string_view fmt(reinterpret_cast<const char*>(in.data()), fmt_len);
  in = in.subspan(fmt_len);

  hft::LogRing ring(kCapacity);
  for (std::size_t done = 0; done < start; done += 8) {  // the head and tail at `start`, through the real path
    std::byte* p = ring.try_reserve(8);
    FUZZ_CHECK(p != nullptr, "empty ring refused 8 bytes at %zu", done);
    const std::uint32_t eight = 8;
    std::memcpy(p, &eight, sizeof eight);
    ring.commit(8);
    FUZZ_CHECK(ring.peek().size() == 8, "advance: record lost");
    ring.release(8);
  }
  std::byte* const base = ring.data();
  std::memcpy(base, in.data(), std::min(in.size(), kCapacity));
  ring.publish_tail_for_testing(start + delta);

  std::uint64_t consumed = 0;
  std::size_t records = 0;
  for (;;) {
    const auto rec = ring.peek();
    if (rec.empty()) break;
    ++records;
    FUZZ_CHECK(records <= delta / 8, "more records (%zu) than the published bytes allow (%llu)", records,
               static_cast<unsigned long long>(delta));
    FUZZ_CHECK(rec.data() >= base && rec.data() + rec.size() <= base + kCapacity, "record outside the array");
    FUZZ_CHECK(rec.size() >= 8 && rec.size() % 8 == 0 && rec.size() <= ring.max_record(), "record size %zu",
               rec.size());
    std::uint32_t word = 0;
    std::memcpy(&word, rec.data(), sizeof word);
    FUZZ_CHECK(word == rec.size(), "size word %u, record %zu", word, rec.size());
    consumed += rec.size();
    FUZZ_CHECK(consumed <= delta, "consumed past the tail");
    check_record(rec.subspan(std::min(rec.size(), sizeof(Header))), fmt);
    ring.release(rec.size());
  }
  FUZZ_CHECK(ring.corrupt() || ring.empty(), "peek stopped on a ring neither empty nor corrupt");
}

}  // namespace

#if !defined(HFT_LOG_RECORDS_WRITE_SEEDS)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(std::span<const std::uint8_t>(data, size));
  return 0;
}
#else
// The seed writer: rings as Logger::write fills them (header + arguments), some wrapping.
#include <cstdio>
#include <string>
#include <vector>

namespace {

template <class... Args>
void put(hft::LogRing& ring, const Args&... args) {
  constexpr std::size_t kHeader = sizeof(Header);
  [&](const auto&... ps) {
    const std::size_t raw = kHeader + (std::size_t{0} + ... + hft::detail::log_encoded_size(ps));
    const std::size_t size = hft::LogRing::record_bytes(raw);
    std::byte* p = ring.try_reserve(size);
    FUZZ_CHECK(p != nullptr, "seed ring full");
    std::memset(p, 0, size);
    std::size_t budget = ~std::size_t{0};
    bool truncated = false;
    [[maybe_unused]] std::byte* q = p + kHeader;
    ((q = hft::detail::log_encode(ps, q, budget, truncated)), ...);
    const Header h{static_cast<std::uint32_t>(size), 1, 12345, 0, 0};
    std::memcpy(p, &h, kHeader);
    ring.commit(size);
  }(hft::detail::log_prepare(args)...);
}

void write_seed(const std::string& path, std::size_t start, std::string_view fmt, void (*fill)(hft::LogRing&)) {
  hft::LogRing ring(kCapacity);
  for (std::size_t done = 0; done < start; done += 8) {
    std::byte* p = ring.try_reserve(8);
    const std::uint32_t eight = 8;
    std::memcpy(p, &eight, sizeof eight);
    ring.commit(8);
    ring.release(ring.peek().size());
  }
  std::memset(ring.data(), 0, kCapacity);
  fill(ring);
  const std::uint64_t delta = ring.size_approx();
  std::vector<std::uint8_t> bytes(kPrefix);
  std::memcpy(bytes.data(), &delta, sizeof delta);
  bytes[8] = static_cast<std::uint8_t>(start / 8);
  bytes[9] = static_cast<std::uint8_t>(fmt.size());
  bytes.insert(bytes.end(), fmt.begin(), fmt.end());
  const auto* arr = reinterpret_cast<const std::uint8_t*>(ring.data());
  std::size_t used = kCapacity;  // trailing zeros are implied: drop them
  while (used > 0 && arr[used - 1] == 0) --used;
  bytes.insert(bytes.end(), arr, arr + used);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr, "cannot write %s", path.c_str());
  FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size(), "short write");
  FUZZ_CHECK(std::fclose(f) == 0, "close");
  std::printf("%s: %zu bytes\n", path.c_str(), bytes.size());
  run(bytes);  // the target's own invariants hold on its seeds
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  write_seed(dir + "/mixed", 0, "{} {} {}", [](hft::LogRing& r) {
    put(r, 42, 2.5, std::string_view("hello"));
    put(r, std::string_view("ab"), std::string_view("cd"));
    put(r, true, 'x', 123456789ULL, static_cast<const void*>(nullptr));
    put(r);
    put(r, Px{100, 7}, Levels{{1, 2, 3}}, std::string_view("px"));
    put(r, 1.0L, 0.5f, static_cast<short>(-3), static_cast<signed char>(65), static_cast<unsigned char>(9));
  });
  write_seed(dir + "/wrap", 960, "{0}-{1:>{0}}", [](hft::LogRing& r) {
    put(r, 7, -1e300, std::string_view("before the end"));
    put(r, std::string_view("wrapped"), std::string_view("record"));
    put(r, 3, 4.0, std::string_view("third"));
  });
  write_seed(dir + "/strings", 512, "{:*^20}|{:.3}", [](hft::LogRing& r) {
    put(r, std::string_view(""), std::string_view("x"));
    put(r, std::string_view("a longer string with {braces}"), std::string_view("tail"));
    put(r, std::string_view("\xc3\xa9t\xc3\xa9"), std::string_view("\0nul", 4));
  });
  write_seed(dir + "/custom", 64, "{:spec} {:x} {}", [](hft::LogRing& r) {
    put(r, Px{-1, -2}, Levels{{-7, 0, 7}}, std::string_view("c"));
    put(r, Px{INT64_MIN, INT32_MAX}, Levels{{1, 1, 1}}, std::string_view(""));
  });
  return 0;
}
#endif
