#include "hft/core/crc32c.hpp"

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "../support/catch.hpp"

TEST_CASE("CRC32C matches the published check values", "[crc32c]") {
  // The standard check value, and the RFC 3720 (iSCSI) B.4 test vectors.
  constexpr std::string_view check = "123456789";
  REQUIRE(hft::crc32c(check.data(), check.size()) == 0xE3069283u);
  std::uint8_t buf[32];
  for (auto& b : buf) b = 0;
  REQUIRE(hft::crc32c(buf, 32) == 0x8A9136AAu);
  for (auto& b : buf) b = 0xFF;
  REQUIRE(hft::crc32c(buf, 32) == 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<std::uint8_t>(i);
  REQUIRE(hft::crc32c(buf, 32) == 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<std::uint8_t>(31 - i);
  REQUIRE(hft::crc32c(buf, 32) == 0x113FDB5Cu);
  REQUIRE(hft::crc32c(buf, 0) == 0u);
  REQUIRE(hft::crc32c_portable(0, check.data(), check.size()) == 0xE3069283u);
}

TEST_CASE("CRC32C: the accelerated and portable paths agree, and extend() equals one pass", "[crc32c]") {
  std::mt19937_64 rng(42);
  std::vector<std::uint8_t> data(4096 + 7);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n = 0; n < 300; ++n) {
    for (std::size_t off : {0u, 1u, 3u, 7u}) {
      const std::uint32_t fast = hft::crc32c(data.data() + off, n);
      REQUIRE(fast == hft::crc32c_portable(0, data.data() + off, n));
      const std::size_t cut = n / 3;
      const std::uint32_t split = hft::crc32c_extend(hft::crc32c(data.data() + off, cut), data.data() + off + cut, n - cut);
      REQUIRE(split == fast);
    }
  }
  REQUIRE(hft::crc32c(data.data(), data.size()) == hft::crc32c_portable(0, data.data(), data.size()));
}

TEST_CASE("CRC32C detects every single-bit flip of a record-sized buffer", "[crc32c]") {
  std::vector<std::uint8_t> data(88);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  const std::uint32_t good = hft::crc32c(data.data(), data.size());
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    REQUIRE(hft::crc32c(data.data(), data.size()) != good);
    data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}
