// Fuzz target: MarketDataGenerator::read_file on arbitrary files, and what it returns fed to
// an OrderBookL3 as a replay would.
// Invariants: read_file either throws std::runtime_error or returns messages whose type and
//   side are valid enumerators; what it accepts is byte for byte what write_file writes for
//   those messages (no trailing bytes, no count larger than the file); it never allocates
//   for a count the file cannot hold; the book refuses bad messages with an error code.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_check.hpp"
#include "hft/trading/market_data_generator.hpp"

namespace {

std::string temp_path(const char* what) { return "/tmp/hft_fuzz_md_" + std::to_string(::getpid()) + "_" + what; }

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string in_path = temp_path("in"), out_path = temp_path("out");
  {
    std::FILE* f = std::fopen(in_path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr, "cannot write %s", in_path.c_str());
    FUZZ_CHECK(std::fwrite(data, 1, size, f) == size, "short write");
    FUZZ_CHECK(std::fclose(f) == 0, "cannot close %s", in_path.c_str());  // a failed flush: not the reader's fault
  }
  std::vector<hft::MdMessage> msgs;
  try {
    msgs = hft::MarketDataGenerator::read_file(in_path);
  } catch (const std::runtime_error&) {
    return 0;
  }
  hft::MarketDataGenerator::write_file(out_path, msgs);
  FUZZ_CHECK(slurp(out_path) == std::string(reinterpret_cast<const char*>(data), size),
             "read_file accepted %zu bytes that do not write back the same", size);
  hft::OrderBookL3 book(64, 16);
  for (const auto& m : msgs) {
    FUZZ_CHECK(static_cast<unsigned>(m.type) <= static_cast<unsigned>(hft::MdType::Replace), "bad MdType");
    FUZZ_CHECK(m.side == hft::Side::Buy || m.side == hft::Side::Sell, "bad Side");
    switch (m.type) {
      case hft::MdType::Add:
        (void)book.add_order(m.id, m.side, m.price, m.qty);
        break;
      case hft::MdType::Cancel:
        (void)book.cancel(m.id, m.qty);
        break;
      case hft::MdType::Execute:
        (void)book.execute(m.id, m.qty);
        break;
      case hft::MdType::Delete:
        (void)book.delete_order(m.id);
        break;
      case hft::MdType::Replace:
        (void)book.replace(m.id, m.new_id, m.price, m.qty);
        break;
    }
  }
  return 0;
}
