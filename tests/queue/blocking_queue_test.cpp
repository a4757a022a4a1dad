#include "hft/queue/blocking_queue.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"

using hft::BlockingQueue;
using namespace std::chrono_literals;

TEST_CASE("BlockingQueue basics: FIFO, try_ and timed variants, capacity", "[blocking]") {
  BlockingQueue<int> q(2);
  CHECK(q.try_push(1));
  CHECK(q.push(2));
  CHECK_FALSE(q.try_push(3));
  CHECK_FALSE(q.try_push_for(3, 5ms));
  CHECK(q.size() == 2);
  CHECK(q.try_pop() == 1);
  CHECK(q.pop() == 2);
  CHECK_FALSE(q.try_pop().has_value());
  CHECK_FALSE(q.try_pop_for(5ms).has_value());
  CHECK_THROWS_AS(BlockingQueue<int>(0), std::invalid_argument);
}

TEST_CASE("BlockingQueue close: pushes fail, pops drain then report closed", "[blocking]") {
  BlockingQueue<int> q(4);
  REQUIRE(q.push(1));
  REQUIRE(q.push(2));
  q.close();
  q.close();  // idempotent
  CHECK(q.closed());
  CHECK_FALSE(q.push(3));
  CHECK_FALSE(q.try_push(3));
  CHECK(q.pop() == 1);
  CHECK(q.try_pop_for(1ms) == 2);
  CHECK_FALSE(q.pop().has_value());  // closed and drained: no blocking
}

TEST_CASE("BlockingQueue lifecycle: every element constructed is destroyed once", "[blocking]") {
  hft::test::Tracked::reset();
  {
    BlockingQueue<hft::test::Tracked> q(8);
    for (std::uint64_t i = 0; i < 6; ++i) REQUIRE(q.push(hft::test::Tracked(i)));
    for (int i = 0; i < 3; ++i) REQUIRE(q.pop().has_value());
    for (std::uint64_t i = 0; i < 4; ++i) REQUIRE(q.push(hft::test::Tracked(i)));  // wraps
    CHECK(q.size() == 7);
  }  // 7 left inside: destroyed by the queue
  CHECK(hft::test::Tracked::live() == 0);
  CHECK(hft::test::Tracked::errors.load() == 0);
}

TEST_CASE("close() wakes every blocked producer and consumer", "[blocking][stress]") {
  BlockingQueue<int> full(1), empty(1);
  REQUIRE(full.push(0));
  std::atomic<int> woke{0};
  std::vector<std::thread> t;
  for (int i = 0; i < 3; ++i) t.emplace_back([&] { woke += full.push(1) ? 100 : 1; });   // blocked: full
  for (int i = 0; i < 3; ++i) t.emplace_back([&] { woke += empty.pop() ? 100 : 1; });   // blocked: empty
  std::this_thread::sleep_for(20ms);
  full.close();
  empty.close();
  for (auto& th : t) th.join();
  CHECK(woke.load() == 6);  // all six woke, none succeeded
}

TEST_CASE("many producers and consumers, then close: every item delivered exactly once", "[blocking][stress]") {
  constexpr int kProducers = 3, kConsumers = 3;
  const int per = static_cast<int>(hft::test::scaled(200'000));
  BlockingQueue<std::uint64_t> q(64);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(kProducers * per));
  std::vector<std::vector<std::uint64_t>> last(kConsumers, std::vector<std::uint64_t>(kProducers, 0));
  std::atomic<bool> order_ok{true};
  std::vector<std::thread> cons;
  for (int c = 0; c < kConsumers; ++c) {
    cons.emplace_back([&, c] {
      while (auto v = q.pop()) {
        const auto producer = *v / static_cast<std::uint64_t>(per), n = *v % static_cast<std::uint64_t>(per) + 1;
        seen[*v].fetch_add(1, std::memory_order_relaxed);
        // Per producer, one consumer sees that producer's items in increasing order.
        if (n <= last[static_cast<std::size_t>(c)][producer]) order_ok = false;
        last[static_cast<std::size_t>(c)][producer] = n;
      }
    });
  }
  std::vector<std::thread> prods;
  for (int p = 0; p < kProducers; ++p) {
    prods.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) {
        if (!q.push(static_cast<std::uint64_t>(p * per + i))) order_ok = false;  // no Catch macros off the main thread
      }
    });
  }
  for (auto& t : prods) t.join();
  q.close();  // consumers drain the rest, then stop
  for (auto& t : cons) t.join();
  CHECK(order_ok.load());
  for (const auto& s : seen) REQUIRE(s.load() == 1);
}
