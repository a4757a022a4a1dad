#include "hft/queue/mpsc_queue.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/counting_allocator.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"

using hft::MpscQueue;
using hft::test::Tracked;

TEST_CASE("MpscQueue rejects capacities that are not a power of two >= 2", "[mpsc]") {
  for (std::size_t bad : {0u, 1u, 3u, 6u, 100u}) {
    REQUIRE_THROWS_AS(MpscQueue<int>(bad), std::invalid_argument);
  }
  try {
    MpscQueue<int> q(3);
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("power of two") != std::string::npos);
  }
  REQUIRE(MpscQueue<int>(2).capacity() == 2);
}

TEST_CASE("MpscQueue matches std::deque over random single-thread operations", "[mpsc]") {
  std::mt19937_64 rng(99);
  for (std::size_t cap : {2u, 4u, 16u}) {
    MpscQueue<std::uint64_t> q(cap);
    std::deque<std::uint64_t> model;
    std::uint64_t next = 0;
    for (int step = 0; step < 20000; ++step) {
      switch (rng() % 4) {
        case 0:
        case 1: {
          const bool ok = q.try_push(next);
          REQUIRE(ok == (model.size() < cap));
          if (ok) model.push_back(next);
          ++next;
          break;
        }
        case 2: {
          std::uint64_t v = 0;
          const bool ok = q.try_pop(v);
          REQUIRE(ok == !model.empty());
          if (ok) {
            REQUIRE(v == model.front());
            model.pop_front();
          }
          break;
        }
        default: {
          const std::size_t max = rng() % 4;
          const std::size_t n = q.consume(
              [&](std::uint64_t& x) {
                REQUIRE(x == model.front());
                model.pop_front();
              },
              max);
          REQUIRE(n <= max);
        }
      }
      REQUIRE(q.size() == model.size());
    }
  }
}

TEST_CASE("MpscQueue constructs and destroys every element exactly once", "[mpsc][lifecycle]") {
  Tracked::reset();
  {
    MpscQueue<Tracked> q(4);
    REQUIRE(q.try_emplace(1u));
    REQUIRE(q.try_push(Tracked(2)));
    const Tracked t3(3);
    REQUIRE(q.try_push(t3));
    q.emplace(4u);
    REQUIRE_FALSE(q.try_emplace(5u));
    REQUIRE(q.front()->value == 1);
    q.pop();
    Tracked out(0);
    REQUIRE(q.try_pop(out));
    REQUIRE(out.value == 2);
    // 3 and 4 are left for the destructor.
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("MpscQueue: a throwing constructor wedges nothing, the consumer skips its slot", "[mpsc][lifecycle]") {
  using hft::test::ThrowsOnNegative;
  {
    MpscQueue<ThrowsOnNegative> q(2);
    REQUIRE(q.try_emplace(1));
    REQUIRE_THROWS_AS((void)q.try_emplace(-1), std::runtime_error);
    CHECK(q.size() == 2);             // the dead slot holds its place until the consumer passes it
    CHECK_FALSE(q.try_emplace(2));    // so the queue is full, as with a real item
    REQUIRE(q.front()->v == 1);
    q.pop();
    CHECK(q.front() == nullptr);      // the dead slot is passed, not returned
    CHECK(q.size() == 0);
    REQUIRE(q.try_emplace(2));
    REQUIRE(q.try_emplace(3));
    REQUIRE(q.front()->v == 2);
    q.pop();
    REQUIRE(q.front()->v == 3);
    q.pop();
    // Laps over dead slots: every second construction throws.
    for (int i = 0; i < 100; ++i) {
      if (i % 2) {
        REQUIRE_THROWS_AS((void)q.try_emplace(-i), std::runtime_error);
      } else {
        REQUIRE(q.try_emplace(i));
      }
      if (i % 2) {
        REQUIRE(q.front() != nullptr);
        CHECK(q.front()->v == i - 1);
        q.pop();
        CHECK(q.front() == nullptr);
      }
    }
    // Dead slots left for the destructor are passed as well.
    REQUIRE(q.try_emplace(5));
    REQUIRE_THROWS_AS((void)q.try_emplace(-5), std::runtime_error);
  }
  REQUIRE(ThrowsOnNegative::live == 0);
}

namespace {
// Built from a string it takes over; the constructor may throw (so the queue cannot
// construct in place under a noexcept guarantee), the move never does.
struct Named {
  std::string name;
  explicit Named(std::string&& s) : name(std::move(s)) {
    if (name == "throw") throw std::runtime_error("bad name");
  }
  Named(Named&&) noexcept = default;
  Named& operator=(Named&&) noexcept = default;
};
}  // namespace

TEST_CASE("MpscQueue::try_emplace on a full queue leaves its arguments untouched", "[mpsc][regression]") {
  // It used to build T before claiming (for a constructor that may throw), so a full queue
  // returned false with the argument already moved from.
  MpscQueue<Named> q(2);
  REQUIRE(q.try_emplace(std::string("a")));
  REQUIRE(q.try_emplace(std::string("b")));
  std::string keep = "an order payload longer than the small-string buffer";
  CHECK_FALSE(q.try_emplace(std::move(keep)));
  CHECK(keep == "an order payload longer than the small-string buffer");
  Named n(std::string("c"));
  CHECK_FALSE(q.try_push(std::move(n)));
  CHECK(n.name == "c");
}

TEST_CASE("MpscQueue stress: producers whose constructors throw lose nothing else", "[mpsc][stress][lifecycle]") {
  using hft::test::ThrowsOnNegative;
  constexpr unsigned kProducers = 2;
  const int per = static_cast<int>(hft::test::scaled(400'000));
  {
    MpscQueue<ThrowsOnNegative> q(8);
    std::vector<std::thread> threads;
    std::atomic<int> thrown{0};
    for (unsigned p = 0; p < kProducers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per; ++i) {
          const int v = static_cast<int>(p) * per + i;
          const int arg = i % 7 == 3 ? -1 : v;  // every 7th construction throws
          for (;;) {
            try {
              if (q.try_emplace(arg)) break;
            } catch (const std::runtime_error&) {
              thrown.fetch_add(1, std::memory_order_relaxed);
              break;
            }
            std::this_thread::yield();
          }
        }
      });
    }
    std::vector<int> next(kProducers, 0);
    int throws_per_producer = 0;
    for (int i = 0; i < per; ++i) throws_per_producer += i % 7 == 3;
    const auto expected_total = static_cast<std::uint64_t>(per - throws_per_producer) * kProducers;
    std::uint64_t errors = 0, received = 0;
    while (received < expected_total) {
      const std::size_t n = q.consume([&](ThrowsOnNegative& t) {
        const auto p = static_cast<unsigned>(t.v / per);
        int i = t.v % per;
        if (p >= kProducers || i < next[p]) {
          ++errors;
          return;
        }
        for (int k = next[p]; k < i; ++k) errors += k % 7 != 3;  // only throwing ones may be missing
        next[p] = i + 1;
      });
      received += n;
      if (n == 0) std::this_thread::yield();
    }
    for (auto& t : threads) t.join();
    CHECK(errors == 0);
    CHECK(thrown.load() == throws_per_producer * static_cast<int>(kProducers));
    CHECK(q.front() == nullptr);
  }
  CHECK(ThrowsOnNegative::live == 0);
}

TEST_CASE("MpscQueue works with move-only, non-default-constructible types", "[mpsc]") {
  MpscQueue<std::unique_ptr<int>> q(2);
  REQUIRE(q.try_push(std::make_unique<int>(1)));
  REQUIRE(q.try_push(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  REQUIRE_FALSE(q.try_push(std::move(third)));
  REQUIRE(third != nullptr);
  std::unique_ptr<int> out;
  REQUIRE(q.try_pop(out));
  REQUIRE(*out == 1);

  MpscQueue<hft::test::MoveOnlyNoDefault> q2(4);
  REQUIRE(q2.try_emplace(9));
  REQUIRE(q2.front()->v == 9);
}

TEST_CASE("MpscQueue::consume counts a throwing item as consumed", "[mpsc]") {
  Tracked::reset();
  {
    MpscQueue<Tracked> q(8);
    for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(q.try_emplace(i));
    REQUIRE_THROWS(q.consume([](Tracked& t) {
      if (t.value == 1) throw std::runtime_error("x");
    }));
    REQUIRE(q.size() == 3);
    REQUIRE(q.front()->value == 2);
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("MpscQueue allocates once through the allocator", "[mpsc][allocator]") {
  hft::test::AllocStats stats;
  {
    MpscQueue<int, hft::test::CountingAllocator<int>> q(8, hft::test::CountingAllocator<int>(&stats));
    for (int i = 0; i < 100; ++i) {
      REQUIRE(q.try_push(i));
      int v;
      REQUIRE(q.try_pop(v));
    }
    REQUIRE(stats.allocations == 1);
  }
  REQUIRE(stats.deallocations == 1);
  REQUIRE(stats.bytes_live == 0);
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("MpscQueue::pop with nothing ready asserts in debug builds", "[mpsc][assert]") {
  auto r = hft::test::run_expecting_abort([] {
    MpscQueue<int> q(2);
    q.pop();
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("MpscQueue::pop with no ready item") != std::string::npos);
}
#endif

namespace {
// Each producer p sends (p << 40) | i for i = 0..per_producer-1. The consumer checks
// that every producer's items arrive exactly once and in that producer's order.
void run_mpsc_stress(unsigned producers, std::uint64_t per_producer, std::size_t capacity) {
  MpscQueue<std::uint64_t> q(capacity);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        const std::uint64_t item = (std::uint64_t{p} << 40) | i;
        // More threads than cores: yield instead of spinning when full.
        while (!q.try_push(item)) std::this_thread::yield();
      }
    });
  }
  std::vector<std::uint64_t> next(producers, 0);
  std::uint64_t errors = 0;
  std::uint64_t received = 0;
  const std::uint64_t total = per_producer * producers;
  go.store(true, std::memory_order_release);
  while (received < total) {
    const std::size_t n = q.consume([&](std::uint64_t v) {
      const auto p = static_cast<unsigned>(v >> 40);
      const std::uint64_t i = v & ((std::uint64_t{1} << 40) - 1);
      if (p >= producers || i != next[p]) {
        ++errors;
      } else {
        ++next[p];
      }
    });
    received += n;
    if (n == 0) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  REQUIRE(errors == 0);
  for (unsigned p = 0; p < producers; ++p) REQUIRE(next[p] == per_producer);
  REQUIRE(q.empty());
}
}  // namespace

TEST_CASE("MpscQueue stress, 2 producers: every item once, per-producer order", "[mpsc][stress]") {
  run_mpsc_stress(2, hft::test::scaled(2'000'000), 1024);
}

TEST_CASE("MpscQueue stress, 4 producers: every item once, per-producer order", "[mpsc][stress]") {
  run_mpsc_stress(4, hft::test::scaled(2'000'000), 1024);
}

TEST_CASE("MpscQueue stress with a tiny ring (constant full/empty races)", "[mpsc][stress]") {
  run_mpsc_stress(3, hft::test::scaled(300'000), 2);
}

TEST_CASE("MpscQueue lifecycle contract: not copyable or movable, the smallest ring", "[mpsc][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<MpscQueue<int>, Copy::No, Move::No>());
  MpscQueue<int> q(2);
  CHECK(q.try_push(1));
  CHECK(q.try_push(2));
  CHECK_FALSE(q.try_push(3));
  int v = 0;
  CHECK(q.try_pop(v));
  CHECK(v == 1);
  CHECK(q.try_push(3));
  CHECK(q.size() == 2);
}

namespace {
// Construction blocks until `release`: a producer "preempted" between claim and publish.
struct Gated {
  static inline std::atomic<bool> release{false};
  static inline std::atomic<int> constructing{0};
  int v;
  explicit Gated(int x, bool wait) : v(x) {
    if (wait) {
      constructing.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    }
  }
};
}  // namespace

TEST_CASE("MpscQueue: a producer stalled between claim and publish holds back later items, the consumer never waits",
          "[mpsc][progress]") {
  MpscQueue<Gated> q(8);
  Gated::release = false;
  std::thread slow([&] { (void)q.try_emplace(1, true); });  // claims position 0, then stalls
  while (Gated::constructing.load() == 0) std::this_thread::yield();
  REQUIRE(q.try_emplace(2, false));  // position 1, published
  CHECK(q.size() == 2);
  for (int i = 0; i < 1000; ++i) CHECK(q.front() == nullptr);  // returns at once, every time
  Gated::release = true;
  slow.join();
  REQUIRE(q.front() != nullptr);
  CHECK(q.front()->v == 1);  // claim order: the stalled one first
  q.pop();
  CHECK(q.front()->v == 2);
  q.pop();
}
