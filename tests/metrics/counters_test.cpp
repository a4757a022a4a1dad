#include "hft/metrics/counters.hpp"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/scale.hpp"

using hft::Counter;
using hft::CounterGroup;

TEST_CASE("Counter counts from many threads", "[counters]") {
  Counter c;
  const std::uint64_t n = hft::test::scaled(1'000'000);
  std::thread a([&] { for (std::uint64_t i = 0; i < n; ++i) c.inc(); });
  std::thread b([&] { for (std::uint64_t i = 0; i < n; ++i) c.add(2); });
  a.join();
  b.join();
  REQUIRE(c.load() == 3 * n);
  c.reset();
  REQUIRE(c.load() == 0);
}

TEST_CASE("CounterGroup names, one-line print and errors", "[counters]") {
  CounterGroup g{"published", "rejected_busy", "accepted"};
  REQUIRE(g.size() == 3);
  REQUIRE(g.index_of("accepted") == 2);
  g.add(0, 10);
  g.add(1, 2);
  g.add(2, 8);
  REQUIRE(g.line() == "published=10 rejected_busy=2 accepted=8");
  REQUIRE(g.line("p0") == "p0 published=10 rejected_busy=2 accepted=8");
  REQUIRE(g.snapshot() == std::vector<std::uint64_t>{10, 2, 8});
  g.reset();
  REQUIRE(g.line() == "published=0 rejected_busy=0 accepted=0");
  REQUIRE_THROWS_AS(g.index_of("nope"), std::out_of_range);
  REQUIRE_THROWS_AS(CounterGroup({"a", "a"}), std::invalid_argument);
  REQUIRE_THROWS_AS(CounterGroup({"has space"}), std::invalid_argument);
  REQUIRE_THROWS_AS(CounterGroup({"k=v"}), std::invalid_argument);
  REQUIRE_THROWS_AS(CounterGroup({""}), std::invalid_argument);
}

TEST_CASE("CounterGroup snapshots never show a later stage ahead of an earlier one",
          "[counters][stress]") {
  // Two "pipeline" threads move items through stages 0 -> 1 -> 2; a reader snapshots
  // concurrently and must always see published >= dispatched >= completed.
  CounterGroup g{"published", "dispatched", "completed"};
  const std::uint64_t n = hft::test::scaled(500'000);
  std::atomic<bool> stop{false};
  std::atomic<bool> reader_ready{false};
  std::uint64_t violations = 0, snapshots = 0;
  std::uint64_t s[3];
  // The reader starts first and the workers wait for it, so snapshots overlap the counting
  // even when the scheduler runs the workers to completion in one quantum.
  std::thread reader([&] {
    do {
      g.snapshot(s);
      violations += static_cast<std::uint64_t>((s[0] < s[1]) + (s[1] < s[2]));
      ++snapshots;
      reader_ready.store(true, std::memory_order_release);
    } while (!stop.load(std::memory_order_acquire));
  });
  while (!reader_ready.load(std::memory_order_acquire)) std::this_thread::yield();
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        g.add(0);
        g.add(1);
        g.add(2);
      }
    });
  }
  for (auto& w : workers) w.join();
  stop.store(true, std::memory_order_release);
  reader.join();
  REQUIRE(violations == 0);
  REQUIRE(g.snapshot() == std::vector<std::uint64_t>{2 * n, 2 * n, 2 * n});
  REQUIRE(snapshots > 0);
}

TEST_CASE("Counter and CounterGroup lifecycle contract", "[counters][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::Counter, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<hft::CounterGroup, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::CounterGroup>([] { return hft::CounterGroup{"a", "b"}; },
                                                  [](hft::CounterGroup& g) {
                                                    g.add(1, 2);
                                                    REQUIRE(g.load(1) >= 2);
                                                    REQUIRE(g.line().find("a=") == 0);
                                                  });
}
