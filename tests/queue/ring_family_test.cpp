// The bounded-ring family's shared contract, once for SpscQueue, MpscQueue and MpmcQueue
// (TEMPLATE_TEST_CASE): the capacity rule and its errors, FIFO against a model, both pop
// forms, failed pushes that leave their arguments alone, throwing constructors and
// handlers, exact construction/destruction counts, one allocation, and a stress run with
// as many producers and consumers as each type allows. What only one type has (SpscQueue's
// batch push, MpscQueue's dead-slot laps, MpmcQueue's concurrent batch consume) stays in
// that type's own file.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"
#include "../support/counting_allocator.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"
#include "hft/queue/blocking_queue.hpp"
#include "hft/queue/mpmc_queue.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "hft/queue/spsc_queue.hpp"

using hft::test::Tracked;

namespace {

// One traits type per queue: the template, its name in errors, and what it allows.
struct Spsc {
  template <class T, class A = std::allocator<T>>
  using Q = hft::SpscQueue<T, A>;
  static constexpr const char* name = "hft::SpscQueue";
  static constexpr unsigned producers = 1, consumers = 1;
  static constexpr bool exact_capacity = true;  // else rounded up to a power of two >= 2
  static constexpr bool dead_slots = false;     // a throwing constructor leaves a passed slot
};
struct Mpsc {
  template <class T, class A = std::allocator<T>>
  using Q = hft::MpscQueue<T, A>;
  static constexpr const char* name = "hft::MpscQueue";
  static constexpr unsigned producers = 3, consumers = 1;
  static constexpr bool exact_capacity = false;
  static constexpr bool dead_slots = true;
};
struct Mpmc {
  template <class T, class A = std::allocator<T>>
  using Q = hft::MpmcQueue<T, A>;
  static constexpr const char* name = "hft::MpmcQueue";
  static constexpr unsigned producers = 3, consumers = 3;
  static constexpr bool exact_capacity = false;
  static constexpr bool dead_slots = true;
};

template <class Q>
constexpr bool has_front = requires(Q& q) { q.front(); };
template <class Q>
constexpr bool has_try_push_n = requires(Q& q, std::vector<std::uint64_t>& v) { q.try_push_n(v.begin(), v.end()); };

// Built from a string it takes over; the constructor may throw, the move never does.
struct Named {
  std::string name;
  explicit Named(std::string&& s) : name(std::move(s)) {
    if (name == "throw") throw std::runtime_error("bad name");
  }
  Named(Named&&) noexcept = default;
  Named& operator=(Named&&) noexcept = default;
};

}  // namespace

TEMPLATE_TEST_CASE("ring family: the capacity rule and its errors", "[queue][family]", Spsc, Mpsc, Mpmc) {
  using Q = typename TestType::template Q<int>;
  CHECK_THROWS_AS(Q(0), std::invalid_argument);
  CHECK_THROWS_WITH(Q(0), std::string(TestType::name) + ": capacity must be >= 1, got 0");
  CHECK_THROWS_AS(Q(Q::max_capacity() + 1), std::length_error);
  CHECK_THROWS_WITH(Q(Q::max_capacity() + 1), Catch::StartsWith(std::string(TestType::name) + ": capacity ") &&
                                                  Catch::Contains("exceeds max_capacity()"));
  for (std::size_t cap : {1u, 2u, 3u, 5u, 8u, 100u}) {
    Q q(cap);
    const std::size_t want = TestType::exact_capacity ? cap : std::max<std::size_t>(2, std::bit_ceil(cap));
    CHECK(q.capacity() == want);
    for (std::size_t i = 0; i < q.capacity(); ++i) REQUIRE(q.try_push(static_cast<int>(i)));
    CHECK_FALSE(q.try_push(-1));
    CHECK(q.size() == q.capacity());
    for (std::size_t i = 0; i < q.capacity(); ++i) CHECK(q.try_pop() == static_cast<int>(i));
    CHECK(q.empty());
  }
}

TEST_CASE("ring family: BlockingQueue follows the same capacity rule and message shape", "[queue][family]") {
  using Q = hft::BlockingQueue<int>;
  CHECK_THROWS_WITH(Q(0), "hft::BlockingQueue: capacity must be >= 1, got 0");
  CHECK_THROWS_AS(Q(Q::max_capacity() + 1), std::length_error);
  CHECK(Q(3).capacity() == 3);
}

TEMPLATE_TEST_CASE("ring family: FIFO against std::deque, both pop forms, consume and front", "[queue][family]", Spsc,
                   Mpsc, Mpmc) {
  std::mt19937_64 rng(12345);
  for (std::size_t requested : {1u, 2u, 3u, 4u, 13u}) {
    typename TestType::template Q<std::uint64_t> q(requested);
    const std::size_t cap = q.capacity();
    std::deque<std::uint64_t> model;
    std::uint64_t next = 0;
    for (int step = 0; step < 20000; ++step) {
      switch (rng() % 7) {
        case 0: {
          const bool ok = q.try_push(next);
          REQUIRE(ok == (model.size() < cap));
          if (ok) model.push_back(next);
          ++next;
          break;
        }
        case 1: {
          std::uint64_t v = 0;
          const bool ok = q.try_pop(v);
          REQUIRE(ok == !model.empty());
          if (ok) {
            REQUIRE(v == model.front());
            model.pop_front();
          }
          break;
        }
        case 2: {
          const std::optional<std::uint64_t> v = q.try_pop();
          REQUIRE(v.has_value() == !model.empty());
          if (v) {
            REQUIRE(*v == model.front());
            model.pop_front();
          }
          break;
        }
        case 3: {
          const std::size_t max = rng() % 5;
          std::vector<std::uint64_t> got;
          got.reserve(max);
          // Both consume paths: a noexcept fn (the rings claim a run at once) and one that
          // may throw (one item per claim).
          const std::size_t n = rng() % 2 ? q.consume([&](std::uint64_t& x) noexcept { got.push_back(x); }, max)
                                          : q.consume([&](std::uint64_t& x) { got.push_back(x); }, max);
          REQUIRE(n == std::min(max, model.size()));
          REQUIRE(got.size() == n);
          for (auto x : got) {
            REQUIRE(x == model.front());
            model.pop_front();
          }
          break;
        }
        case 4: {
          if constexpr (has_front<decltype(q)>) {
            std::uint64_t* f = q.front();
            REQUIRE((f != nullptr) == !model.empty());
            if (f) {
              REQUIRE(*f == model.front());
              q.pop();
              model.pop_front();
            }
          }
          break;
        }
        case 5: {
          if constexpr (has_try_push_n<decltype(q)>) {
            std::vector<std::uint64_t> batch(rng() % 6);
            for (auto& b : batch) b = next++;
            const std::size_t n = q.try_push_n(batch.begin(), batch.end());
            REQUIRE(n == std::min(batch.size(), cap - model.size()));
            model.insert(model.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
          }
          break;
        }
        default:
          if (model.size() < cap) {
            q.emplace(next);  // must not block: there is room
            model.push_back(next++);
          }
      }
      REQUIRE(q.size() == model.size());
      REQUIRE(q.empty() == model.empty());
    }
  }
}

TEMPLATE_TEST_CASE("ring family: every element constructed is destroyed exactly once", "[queue][family][lifecycle]",
                   Spsc, Mpsc, Mpmc) {
  Tracked::reset();
  {
    typename TestType::template Q<Tracked> q(4);
    REQUIRE(q.try_emplace(1u));
    REQUIRE(q.try_push(Tracked(2)));
    const Tracked t3(3);
    REQUIRE(q.try_push(t3));
    q.emplace(4u);
    REQUIRE_FALSE(q.try_emplace(5u));  // full: nothing constructed
    Tracked out(0);
    REQUIRE(q.try_pop(out));
    CHECK(out.value == 1);
    const std::optional<Tracked> second = q.try_pop();
    REQUIRE(second.has_value());
    CHECK(second->value == 2);
    CHECK(q.consume([](Tracked& t) noexcept { CHECK(t.value == 3); }, 1) == 1);
    REQUIRE(q.try_emplace(6u));
    // 4 and 6 are left for the destructor.
  }
  CHECK(Tracked::errors == 0);
  CHECK(Tracked::live() == 0);
}

TEMPLATE_TEST_CASE("ring family: move-only types, and a failed push leaves its argument untouched", "[queue][family]",
                   Spsc, Mpsc, Mpmc) {
  typename TestType::template Q<std::unique_ptr<int>> q(2);
  REQUIRE(q.try_push(std::make_unique<int>(1)));
  REQUIRE(q.try_push(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  CHECK_FALSE(q.try_push(std::move(third)));
  CHECK(third != nullptr);
  std::unique_ptr<int> out;
  REQUIRE(q.try_pop(out));
  CHECK(*out == 1);
  CHECK(**q.try_pop() == 2);

  typename TestType::template Q<Named> named(1);
  const std::size_t cap = named.capacity();
  for (std::size_t i = 0; i < cap; ++i) REQUIRE(named.try_emplace(std::string("a")));
  std::string keep = "an order payload longer than the small-string buffer";
  // NOLINTBEGIN(bugprone-use-after-move): a failed push must leave its argument intact; that is the test
  CHECK_FALSE(named.try_emplace(std::move(keep)));
  CHECK(keep == "an order payload longer than the small-string buffer");
  Named n(std::string("c"));
  CHECK_FALSE(named.try_push(std::move(n)));
  CHECK(n.name == "c");
  // NOLINTEND(bugprone-use-after-move)

  typename TestType::template Q<hft::test::MoveOnlyNoDefault> q2(4);
  REQUIRE(q2.try_emplace(9));
  q2.emplace(10);
  CHECK(q2.try_pop()->v == 9);
  CHECK(q2.try_pop()->v == 10);
}

TEMPLATE_TEST_CASE("ring family: a throwing constructor never wedges the queue", "[queue][family][lifecycle]", Spsc,
                   Mpsc, Mpmc) {
  using hft::test::ThrowsOnNegative;
  {
    typename TestType::template Q<ThrowsOnNegative> q(2);
    REQUIRE(q.try_emplace(1));
    REQUIRE_THROWS_AS((void)q.try_emplace(-1), std::runtime_error);
    if constexpr (TestType::dead_slots) {
      CHECK(q.size() == 2);            // the dead slot holds its place until a consumer passes it
      CHECK_FALSE(q.try_emplace(2));   // so the queue is full, as with a real item
    } else {
      CHECK(q.size() == 1);  // nothing was published
    }
    CHECK(q.try_pop()->v == 1);
    CHECK_FALSE(q.try_pop().has_value());  // a dead slot is passed, never returned
    CHECK(q.empty());
    for (int i = 0; i < 100; ++i) {  // laps: every second construction throws
      if (i % 2) {
        REQUIRE_THROWS_AS((void)q.try_emplace(-i), std::runtime_error);
        CHECK(q.try_pop()->v == i - 1);
        CHECK_FALSE(q.try_pop().has_value());
      } else {
        REQUIRE(q.try_emplace(i));
      }
    }
    REQUIRE(q.try_emplace(5));
    REQUIRE_THROWS_AS((void)q.try_emplace(-5), std::runtime_error);  // left for the destructor
  }
  CHECK(ThrowsOnNegative::live == 0);
}

TEMPLATE_TEST_CASE("ring family: consume(fn, k) returns less than k only when nothing is ready, past dead slots",
                   "[queue][family][lifecycle][regression]", Spsc, Mpsc, Mpmc) {
  // So `while (q.consume(fn, k) != 0)` drains the queue. MpmcQueue's batch claim used to
  // return 0 for a run of dead slots alone (the issue's `consume(fn, 1)` suspicion).
  using hft::test::ThrowsOnNegative;
  const std::size_t k = GENERATE(1u, 2u, 3u);
  const bool nothrow_fn = GENERATE(true, false);
  INFO("k " << k << (nothrow_fn ? ", noexcept fn" : ", fn that may throw"));
  {
    typename TestType::template Q<ThrowsOnNegative> q(16);
    std::vector<int> live;
    for (const int v : {-1, 1, -1, -1, 2, 3, -1, 4, -1, -1, -1, 5, -1}) {
      if (v < 0) {
        REQUIRE_THROWS_AS((void)q.try_emplace(v), std::runtime_error);
      } else {
        REQUIRE(q.try_emplace(v));
        live.push_back(v);
      }
    }
    std::vector<int> got;
    std::size_t calls = 0;
    for (;;) {
      const std::size_t n = nothrow_fn ? q.consume([&](ThrowsOnNegative& t) noexcept { got.push_back(t.v); }, k)
                                       : q.consume([&](ThrowsOnNegative& t) { got.push_back(t.v); }, k);
      const std::size_t ready = live.size() - (got.size() - n);  // items queued before this call
      INFO("call " << calls);
      CHECK(n == std::min(k, ready));  // single thread: every queued item is ready
      if (n == 0) break;
      ++calls;
    }
    CHECK(got == live);
    CHECK(q.empty());  // the trailing dead slot is passed too
  }
  CHECK(ThrowsOnNegative::live == 0);
}

namespace {
// Moving out may throw (when `fail` is set): the single-consumer pop forms promise that
// the item then stays queued.
struct MoveOutMayThrow {
  static inline bool fail = false;
  int v = 0;
  MoveOutMayThrow() = default;
  explicit MoveOutMayThrow(int x) : v(x) {}
  // NOLINTNEXTLINE(bugprone-exception-escape,performance-noexcept-move-constructor): throws on purpose
  MoveOutMayThrow(MoveOutMayThrow&& o) : v(o.v) {
    if (fail) throw std::runtime_error("move failed");
  }
  // NOLINTNEXTLINE(bugprone-exception-escape,performance-noexcept-move-constructor): throws on purpose
  MoveOutMayThrow& operator=(MoveOutMayThrow&& o) {
    if (fail) throw std::runtime_error("move failed");
    v = o.v;
    return *this;
  }
};
}  // namespace

TEMPLATE_TEST_CASE("ring family: a try_pop whose move throws leaves the item queued (single consumer)",
                   "[queue][family][lifecycle]", Spsc, Mpsc) {
  typename TestType::template Q<MoveOutMayThrow> q(4);
  REQUIRE(q.try_emplace(1));
  REQUIRE(q.try_emplace(2));
  MoveOutMayThrow out;
  MoveOutMayThrow::fail = true;
  CHECK_THROWS_AS((void)q.try_pop(out), std::runtime_error);
  CHECK_THROWS_AS((void)q.try_pop(), std::runtime_error);
  MoveOutMayThrow::fail = false;
  CHECK(q.size() == 2);
  REQUIRE(q.try_pop(out));
  CHECK(out.v == 1);
  const std::optional<MoveOutMayThrow> second = q.try_pop();
  REQUIRE(second.has_value());
  CHECK(second->v == 2);
  CHECK(q.empty());
}

TEMPLATE_TEST_CASE("ring family: consume counts a throwing item as consumed and keeps the rest", "[queue][family]",
                   Spsc, Mpsc, Mpmc) {
  Tracked::reset();
  {
    typename TestType::template Q<Tracked> q(8);
    for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(q.try_emplace(i));
    CHECK_THROWS_AS(q.consume([](Tracked& t) {
      if (t.value == 2) throw std::runtime_error("handler failed");
    }),
                    std::runtime_error);
    CHECK(q.size() == 2);
    CHECK(q.try_pop()->value == 3);
  }
  CHECK(Tracked::errors == 0);
  CHECK(Tracked::live() == 0);
}

TEMPLATE_TEST_CASE("ring family: one allocation through the allocator, freed at destruction", "[queue][family][allocator]",
                   Spsc, Mpsc, Mpmc) {
  hft::test::AllocStats stats;
  {
    using A = hft::test::CountingAllocator<std::string>;
    typename TestType::template Q<std::string, A> q(10, A(&stats));
    CHECK(stats.allocations == 1);
    for (int round = 0; round < 100; ++round) {
      REQUIRE(q.try_emplace("a string long enough to defeat the small string optimisation"));
      std::string s;
      REQUIRE(q.try_pop(s));
    }
    CHECK(stats.allocations == 1);  // the queue itself never allocates again
  }
  CHECK(stats.deallocations == 1);
  CHECK(stats.bytes_live == 0);
}

TEMPLATE_TEST_CASE("ring family lifecycle contract: not copyable or movable", "[queue][family][lifecycle]", Spsc, Mpsc,
                   Mpmc) {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<typename TestType::template Q<int>, Copy::No, Move::No>());
  STATIC_REQUIRE(copy_move_is<hft::BlockingQueue<int>, Copy::No, Move::No>());
}

namespace {
// P producers each send (p << 40) | i for i < per; C consumers take with all three forms.
// Checks every item arrives exactly once and that each consumer sees each producer's
// items in that producer's order. Producers yield when full and consumers when empty:
// with up to 6 threads on 2 cores a spinning waiter would starve the thread it waits for.
template <class Traits, class Item>
void stress(std::uint64_t per, std::size_t capacity) {
  constexpr unsigned P = Traits::producers, C = Traits::consumers;
  typename Traits::template Q<Item> q(capacity);
  std::vector<std::atomic<std::uint8_t>> seen(P * per);
  std::atomic<std::uint64_t> received{0}, misordered{0}, bogus{0};
  const std::uint64_t total = P * per;
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < C; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::int64_t> last(P, -1);
      auto take = [&](std::uint64_t v) {
        const auto p = static_cast<unsigned>(v >> 40);
        const std::uint64_t i = v & ((std::uint64_t{1} << 40) - 1);
        if (p >= P || i >= per) {
          bogus.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        if (static_cast<std::int64_t>(i) <= last[p]) misordered.fetch_add(1, std::memory_order_relaxed);
        last[p] = static_cast<std::int64_t>(i);
        seen[p * per + i].fetch_add(1, std::memory_order_relaxed);
      };
      std::uint64_t round = c;
      while (received.load(std::memory_order_relaxed) < total) {
        std::uint64_t got = 0;
        switch (round++ % 3) {
          case 0:
            got = q.consume([&](Item& v) noexcept { take(static_cast<std::uint64_t>(v)); }, 32);
            break;
          case 1: {
            Item v{};
            if (q.try_pop(v)) {
              take(static_cast<std::uint64_t>(v));
              got = 1;
            }
            break;
          }
          default:
            if (auto v = q.try_pop()) {
              take(static_cast<std::uint64_t>(*v));
              got = 1;
            }
        }
        if (got == 0) std::this_thread::yield();
        received.fetch_add(got, std::memory_order_relaxed);
      }
    });
  }
  for (unsigned p = 0; p < P; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < per; ++i) {
        const Item item(static_cast<std::uint64_t>((std::uint64_t{p} << 40) | i));
        while (!q.try_push(item)) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::uint64_t not_once = 0;
  for (auto& s : seen) not_once += s.load() != 1;
  CHECK(bogus.load() == 0);
  CHECK(misordered.load() == 0);
  CHECK(not_once == 0);
  CHECK(received.load() == total);
  CHECK(q.empty());
}

// A lifecycle-tracked item that converts to and from the stress payload.
struct TrackedItem : Tracked {
  TrackedItem() : Tracked(0) {}
  explicit TrackedItem(std::uint64_t v) : Tracked(v) {}
  explicit operator std::uint64_t() const { return value; }
};
}  // namespace

TEMPLATE_TEST_CASE("ring family stress: every item exactly once, each producer's order kept", "[queue][family][stress]",
                   Spsc, Mpsc, Mpmc) {
  stress<TestType, std::uint64_t>(hft::test::scaled(1'000'000), 1024);
}

TEMPLATE_TEST_CASE("ring family stress with the smallest ring (constant full/empty races)", "[queue][family][stress]",
                   Spsc, Mpsc, Mpmc) {
  stress<TestType, std::uint64_t>(hft::test::scaled(200'000), 1);
}

TEMPLATE_TEST_CASE("ring family stress with a lifecycle-tracked type leaks nothing", "[queue][family][stress][lifecycle]",
                   Spsc, Mpsc, Mpmc) {
  Tracked::reset();
  stress<TestType, TrackedItem>(hft::test::scaled(200'000), 64);
  CHECK(Tracked::errors == 0);
  CHECK(Tracked::live() == 0);
}
