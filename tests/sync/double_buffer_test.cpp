#include "hft/sync/double_buffer.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

TEST_CASE("DoubleBuffer reads, modifies and stores", "[doublebuffer]") {
  hft::DoubleBuffer<std::map<std::string, int>> limits(std::map<std::string, int>{{"AAPL", 100}});
  REQUIRE(limits.read([](const auto& m) { return m.at("AAPL"); }) == 100);
  limits.modify([](auto& m) { m["MSFT"] = 200; });
  REQUIRE(limits.read([](const auto& m) { return m.size(); }) == 2);
  limits.modify([](auto& m) { m["AAPL"] = 150; });
  // Both copies were updated: two more switches still show every change.
  limits.modify([](auto&) {});
  limits.modify([](auto&) {});
  REQUIRE(limits.read([](const auto& m) { return m.at("AAPL") + m.at("MSFT"); }) == 350);
  limits.store({{"GOOG", 1}});
  REQUIRE(limits.read([](const auto& m) { return m.count("AAPL") == 0 && m.at("GOOG") == 1; }));
}

TEST_CASE("DoubleBuffer readers always see a whole state while the writer publishes",
          "[doublebuffer][stress]") {
  // State k: (k % 64) + 1 elements, all equal to k. A torn or half-written state shows up
  // as mixed elements or a size that does not match the value; a stale copy as a value
  // going backwards.
  auto make = [](std::uint64_t k) { return std::vector<std::uint64_t>(k % 64 + 1, k); };
  hft::DoubleBuffer<std::vector<std::uint64_t>> buf(make(0));
  const std::uint64_t writes = hft::test::scaled(20'000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last = 0, n = 0;
      do {
        const std::uint64_t k = buf.read([&](const std::vector<std::uint64_t>& v) {
          const std::uint64_t value = v.front();
          if (v.size() != value % 64 + 1) bad.fetch_add(1);
          for (std::uint64_t x : v) {
            if (x != value) bad.fetch_add(1);
          }
          return value;
        });
        if (k < last) bad.fetch_add(1);
        last = k;
        ++n;
      } while (!done.load(std::memory_order_acquire));
      reads.fetch_add(n);
    });
  }
  for (std::uint64_t k = 1; k <= writes; ++k) {
    buf.modify([&make, k](std::vector<std::uint64_t>& v) { v = make(k); });
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  REQUIRE(bad == 0);
  REQUIRE(reads > 0);
  REQUIRE(buf.read([](const auto& v) { return v.front(); }) == writes);
}
