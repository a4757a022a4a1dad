#include "hft/sync/double_buffer.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
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

TEST_CASE("DoubleBuffer::modify whose function throws publishes nothing, and later writes stay consistent",
          "[doublebuffer][regression]") {
  // fn mutated the inactive copy and threw; the next modify() published that copy, so
  // readers saw "1 666 2" and the two copies diverged from then on.
  hft::DoubleBuffer<std::vector<int>> buf(std::vector<int>{1});
  CHECK_THROWS_AS(buf.modify([](std::vector<int>& v) {
                    v.push_back(666);
                    throw std::runtime_error("validation failed half-way");
                  }),
                  std::runtime_error);
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1});
  buf.modify([](std::vector<int>& v) { v.push_back(2); });
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1, 2});
  buf.modify([](std::vector<int>&) {});  // switch back to the other copy: it must match too
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1, 2});
  buf.modify([](std::vector<int>& v) { v.push_back(3); });
  buf.modify([](std::vector<int>&) {});
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1, 2, 3});
}

TEST_CASE("DoubleBuffer::modify whose second run throws keeps the change and re-syncs the other copy",
          "[doublebuffer][lifecycle]") {
  hft::DoubleBuffer<std::vector<int>> buf(std::vector<int>{1});
  int runs = 0;
  CHECK_THROWS_AS(buf.modify([&](std::vector<int>& v) {
                    if (++runs == 2) throw std::bad_alloc();  // the second application only
                    v.push_back(7);
                  }),
                  std::bad_alloc);
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1, 7});
  buf.modify([](std::vector<int>&) {});
  CHECK(buf.read([](const auto& v) { return v; }) == std::vector<int>{1, 7});
}

TEST_CASE("DoubleBuffer: a throwing read callable leaves no reader registered", "[doublebuffer][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<hft::DoubleBuffer<int>>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<hft::DoubleBuffer<int>>);
  hft::DoubleBuffer<int> buf(1);
  CHECK_THROWS_AS(buf.read([](const int&) -> int { throw std::runtime_error("reader"); }), std::runtime_error);
  // A reader left registered would make this write wait forever.
  std::atomic<bool> written{false};
  std::thread w([&] {
    buf.store(2);
    buf.store(3);
    written = true;
  });
  w.join();
  CHECK(written.load());
  CHECK(buf.read([](const int& v) { return v; }) == 3);
}
