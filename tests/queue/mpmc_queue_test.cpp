// MpmcQueue beyond the family contract (ring_family_test.cpp): dead slots with several
// consumers, a throwing move in try_pop, the batch consume under concurrency and over dead
// slots, and what a stalled producer or consumer holds back.
#include "hft/queue/mpmc_queue.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"

using hft::MpmcQueue;

TEST_CASE("MpmcQueue stress: throwing constructors under 2 producers and 2 consumers lose nothing else",
          "[mpmc][stress][lifecycle]") {
  using hft::test::ThrowsOnNegative;
  constexpr int kProducers = 2, kConsumers = 2;
  const int per = static_cast<int>(hft::test::scaled(300'000));
  int throws_per_producer = 0;
  for (int i = 0; i < per; ++i) throws_per_producer += i % 7 == 3;  // every 7th construction throws
  const auto expected = static_cast<std::uint64_t>(per - throws_per_producer) * kProducers;
  {
    MpmcQueue<ThrowsOnNegative> q(8);
    std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(kProducers * per));
    std::atomic<std::uint64_t> received{0}, bad{0};
    std::atomic<int> thrown{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < kConsumers; ++c) {
      threads.emplace_back([&, c] {
        while (received.load() < expected) {
          // Alternate the batch form (noexcept fn: one CAS per run) and the single pop.
          std::size_t n = 0;
          if (c == 0) {
            n = q.consume(
                [&](ThrowsOnNegative& t) noexcept {
                  if (t.v < 0) bad.fetch_add(1);
                  else seen[static_cast<std::size_t>(t.v)].fetch_add(1);
                },
                16);
          } else if (auto t = q.try_pop()) {
            seen[static_cast<std::size_t>(t->v)].fetch_add(1);
            n = 1;
          }
          received.fetch_add(n);
          if (n == 0) std::this_thread::yield();  // 4 threads on 2 cores: do not spin
        }
      });
    }
    for (int p = 0; p < kProducers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per; ++i) {
          const int arg = i % 7 == 3 ? -1 : p * per + i;
          for (;;) {
            try {
              if (q.try_emplace(arg)) break;
            } catch (const std::runtime_error&) {
              thrown.fetch_add(1);
              break;
            }
            std::this_thread::yield();
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    std::uint64_t wrong = 0;
    for (int p = 0; p < kProducers; ++p) {
      for (int i = 0; i < per; ++i) wrong += seen[static_cast<std::size_t>(p) * static_cast<std::size_t>(per) + static_cast<std::size_t>(i)].load() != (i % 7 == 3 ? 0 : 1);
    }
    CHECK(wrong == 0);
    CHECK(bad.load() == 0);
    CHECK(thrown.load() == throws_per_producer * kProducers);
    CHECK(q.empty());
  }
  CHECK(ThrowsOnNegative::live == 0);
}

namespace {
struct MoveMayThrow {
  static inline bool fail = false;
  static inline std::atomic<long> live{0};
  int v = 0;
  MoveMayThrow() { ++live; }
  explicit MoveMayThrow(int x) : v(x) { ++live; }
  MoveMayThrow(const MoveMayThrow& o) : v(o.v) { ++live; }
  // NOLINTNEXTLINE(bugprone-exception-escape,performance-noexcept-move-constructor): throws on purpose
  MoveMayThrow& operator=(MoveMayThrow&& o) {
    if (fail) throw std::runtime_error("move failed");
    v = o.v;
    return *this;
  }
  ~MoveMayThrow() { --live; }
};
}  // namespace

TEST_CASE("MpmcQueue::try_pop(T&) whose move throws: that item is destroyed, the queue goes on", "[mpmc][lifecycle]") {
  // The position is claimed before the move, and a claimed position cannot be handed back
  // to other consumers: the header documents that the item is lost, never the queue.
  {
    MpmcQueue<MoveMayThrow> q(4);
    REQUIRE(q.try_emplace(1));
    REQUIRE(q.try_emplace(2));
    MoveMayThrow out;
    MoveMayThrow::fail = true;
    CHECK_THROWS_AS((void)q.try_pop(out), std::runtime_error);
    MoveMayThrow::fail = false;
    CHECK(q.size() == 1);
    REQUIRE(q.try_pop(out));
    CHECK(out.v == 2);
    CHECK(q.empty());
    REQUIRE(q.try_emplace(3));  // a lap later the slots work as before
    REQUIRE(q.try_emplace(4));
    REQUIRE(q.try_emplace(5));
    REQUIRE(q.try_emplace(6));
    CHECK_FALSE(q.try_emplace(7));
  }
  CHECK(MoveMayThrow::live == 0);
}

TEST_CASE("MpmcQueue::consume with a noexcept fn takes a run in order and stops at max_items", "[mpmc]") {
  MpmcQueue<int> q(16);
  for (int i = 0; i < 10; ++i) REQUIRE(q.try_push(i));
  std::vector<int> got;
  CHECK(q.consume([&](int v) noexcept { got.push_back(v); }, 4) == 4);
  CHECK(q.consume([&](int v) noexcept { got.push_back(v); }) == 6);
  CHECK(q.consume([&](int v) noexcept { got.push_back(v); }) == 0);
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(q.consume([&](int) noexcept {}, 0) == 0);
}

namespace {
// Construction blocks until `release`: a producer "preempted" between claim and publish.
struct Gated {
  static inline std::atomic<bool> release{false};
  static inline std::atomic<int> constructing{0};
  int v;
  Gated(int x, bool wait) : v(x) {
    if (wait) {
      constructing.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    }
  }
};
}  // namespace

TEST_CASE("MpmcQueue: a producer stalled between claim and publish holds back later items, consumers never wait",
          "[mpmc][progress]") {
  MpmcQueue<Gated> q(8);
  Gated::release = false;
  std::thread slow([&] { (void)q.try_emplace(1, true); });  // claims position 0, then stalls
  while (Gated::constructing.load() == 0) std::this_thread::yield();
  REQUIRE(q.try_emplace(2, false));  // position 1, published
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(q.try_pop().has_value());  // returns at once, every time
    CHECK(q.consume([](Gated&) noexcept {}) == 0);
  }
  Gated::release = true;
  slow.join();
  CHECK(q.try_pop()->v == 1);  // claim order: the stalled one first
  CHECK(q.try_pop()->v == 2);
}

TEST_CASE("MpmcQueue: a consumer stalled inside consume holds only its run, other consumers take the rest",
          "[mpmc][progress]") {
  MpmcQueue<int> q(16);
  for (int i = 0; i < 3; ++i) REQUIRE(q.try_push(i));
  std::atomic<bool> inside{false}, release{false};
  std::vector<int> slow_got;
  std::thread slow([&] {
    (void)q.consume([&](int v) noexcept {
      slow_got.push_back(v);
      inside = true;
      while (!release.load()) std::this_thread::yield();
    });
  });
  while (!inside.load()) std::this_thread::yield();
  CHECK_FALSE(q.try_pop().has_value());  // 0..2 belong to the stalled run
  REQUIRE(q.try_push(3));
  CHECK(q.try_pop() == 3);  // a later position is free for anyone
  release = true;
  slow.join();
  CHECK(slow_got == std::vector<int>{0, 1, 2});
  CHECK(q.empty());
}

namespace {
// Queues -1 (a constructor that throws: a dead slot) or the value, in this order.
void fill_with_dead_slots(MpmcQueue<hft::test::ThrowsOnNegative>& q, const std::vector<int>& pattern) {
  for (const int v : pattern) {
    if (v < 0) {
      CHECK_THROWS_AS((void)q.try_emplace(v), std::runtime_error);
    } else {
      REQUIRE(q.try_emplace(v));
    }
  }
}
}  // namespace

TEST_CASE("MpmcQueue::consume passes dead slots: 0 means nothing was ready, so while (consume(fn, k)) drains",
          "[mpmc][regression][lifecycle]") {
  // Settles a suspicion: a batch claim that held only dead slots returned 0 like an empty
  // queue, so `while (q.consume(fn, 1))` stopped with items still queued behind them.
  using hft::test::ThrowsOnNegative;
  {
    MpmcQueue<ThrowsOnNegative> q(8);
    fill_with_dead_slots(q, {-1, 1, -1, -1, 2, 3, -1});
    std::vector<int> got;
    std::vector<std::size_t> returns;
    SECTION("noexcept fn, one item per call") {
      std::size_t n;
      while ((n = q.consume([&](ThrowsOnNegative& t) noexcept { got.push_back(t.v); }, 1)) != 0) returns.push_back(n);
      CHECK(returns == std::vector<std::size_t>{1, 1, 1});
    }
    SECTION("noexcept fn, two per call: a run of dead slots counts for nothing") {
      std::size_t n;
      while ((n = q.consume([&](ThrowsOnNegative& t) noexcept { got.push_back(t.v); }, 2)) != 0) returns.push_back(n);
      CHECK(returns == std::vector<std::size_t>{2, 1});
    }
    SECTION("fn that may throw (one claim per item), one item per call") {
      std::size_t n;
      while ((n = q.consume([&](ThrowsOnNegative& t) { got.push_back(t.v); }, 1)) != 0) returns.push_back(n);
      CHECK(returns == std::vector<std::size_t>{1, 1, 1});
    }
    CHECK(got == std::vector<int>{1, 2, 3});
    CHECK(q.empty());  // the trailing dead slot was passed too
  }
  CHECK(ThrowsOnNegative::live == 0);
}

TEST_CASE("MpmcQueue: consumers draining with while (consume(fn, k)) take every item past dead slots",
          "[mpmc][stress][lifecycle]") {
  // The drain loop with several consumers at once (TSan runs it): each stops only when
  // the queue is empty, so between them they take everything.
  using hft::test::ThrowsOnNegative;
  const int rounds = static_cast<int>(hft::test::scaled(2'000));
  int short_rounds = 0;
  for (int r = 0; r < rounds; ++r) {
    MpmcQueue<ThrowsOnNegative> q(64);
    std::vector<int> pattern;
    int live = 0;
    std::mt19937 rng(static_cast<std::uint32_t>(r));
    for (int i = 0; i < 64; ++i) {
      const bool dead = rng() % 2 == 0;  // runs of dead slots of every length and place
      pattern.push_back(dead ? -1 : i);
      live += dead ? 0 : 1;
    }
    fill_with_dead_slots(q, pattern);
    std::atomic<int> taken{0};
    std::thread other([&] {
      while (q.consume([&](ThrowsOnNegative&) noexcept { taken.fetch_add(1); }, 1) != 0) {
      }
    });
    while (q.consume([&](ThrowsOnNegative&) noexcept { taken.fetch_add(1); }, 2) != 0) {
    }
    other.join();
    short_rounds += taken.load() != live || !q.empty();
  }
  CHECK(short_rounds == 0);
  CHECK(ThrowsOnNegative::live == 0);
}
