#include "hft/queue/blocking_queue.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"

using hft::BlockingQueue;
using namespace std::chrono_literals;

TEST_CASE("BlockingQueue basics: FIFO, try_ and timed variants, capacity", "[blocking]") {
  BlockingQueue<int> q(2);
  CHECK(q.try_push(1));
  q.push(2);
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
  q.push(1);
  q.push(2);
  q.close();
  q.close();  // idempotent
  CHECK(q.closed());
  CHECK_THROWS_AS(q.push(3), hft::QueueClosed);
  CHECK_FALSE(q.try_push(3));
  CHECK(q.pop() == 1);
  CHECK(q.try_pop_for(1ms) == 2);
  CHECK_FALSE(q.pop().has_value());  // closed and drained: no blocking
}

TEST_CASE("BlockingQueue lifecycle: every element constructed is destroyed once", "[blocking]") {
  hft::test::Tracked::reset();
  {
    BlockingQueue<hft::test::Tracked> q(8);
    for (std::uint64_t i = 0; i < 6; ++i) q.push(hft::test::Tracked(i));
    for (int i = 0; i < 3; ++i) REQUIRE(q.pop().has_value());
    for (std::uint64_t i = 0; i < 4; ++i) q.push(hft::test::Tracked(i));  // wraps
    CHECK(q.size() == 7);
  }  // 7 left inside: destroyed by the queue
  CHECK(hft::test::Tracked::live() == 0);
  CHECK(hft::test::Tracked::errors.load() == 0);
}

TEST_CASE("close() wakes every blocked producer and consumer", "[blocking][stress]") {
  BlockingQueue<int> full(1), empty(1);
  full.push(0);
  std::atomic<int> woke{0};
  std::vector<std::thread> t;
  for (int i = 0; i < 3; ++i) {
    t.emplace_back([&] {  // blocked: full
      try {
        full.push(1);
        woke += 100;
      } catch (const hft::QueueClosed&) {
        woke += 1;
      }
    });
  }
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
        q.push(static_cast<std::uint64_t>(p * per + i));  // open until every producer is joined
      }
    });
  }
  for (auto& t : prods) t.join();
  q.close();  // consumers drain the rest, then stop
  for (auto& t : cons) t.join();
  CHECK(order_ok.load());
  for (const auto& s : seen) REQUIRE(s.load() == 1);
}

// ---- regressions and lifecycle contract ------------------------------------------------

namespace {
// Counts constructions at an address that is not aligned as the type demands.
struct alignas(64) AlignProbe {
  static inline std::atomic<int> misaligned{0};
  std::uint64_t v;
  explicit AlignProbe(std::uint64_t x) : v(x) { check(); }
  AlignProbe(const AlignProbe& o) : v(o.v) { check(); }
  AlignProbe(AlignProbe&& o) noexcept : v(o.v) { check(); }
  AlignProbe& operator=(const AlignProbe&) = default;
  void check() noexcept {
    // Through a volatile: the compiler may assume `this` is aligned and fold the test away.
    const volatile std::uintptr_t address = reinterpret_cast<std::uintptr_t>(this);
    if (address % alignof(AlignProbe) != 0) ++misaligned;
  }
};

// Copying throws while `fail` is set; moving never does.
struct CopyMayThrow {
  static inline bool fail = false;
  int v;
  explicit CopyMayThrow(int x) : v(x) {}
  CopyMayThrow(const CopyMayThrow& o) : v(o.v) {
    if (fail) throw std::runtime_error("copy failed");
  }
  CopyMayThrow(CopyMayThrow&&) noexcept = default;
};
}  // namespace

TEST_CASE("BlockingQueue stores an over-aligned T at its alignment", "[blocking][regression]") {
  AlignProbe::misaligned = 0;
  // 4096 x 64 B = 256 KiB: glibc serves it by mmap at page + 16, so plain operator new
  // (16-byte alignment) would misalign every slot.
  BlockingQueue<AlignProbe> q(4096);
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(q.try_push(AlignProbe(i)));
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(q.pop()->v == i);
  CHECK(AlignProbe::misaligned.load() == 0);
}

TEST_CASE("BlockingQueue rejects a capacity whose slot array overflows, with a clear error", "[blocking][regression]") {
  CHECK_THROWS_AS(BlockingQueue<std::uint64_t>(std::numeric_limits<std::size_t>::max() / 4), std::length_error);
  CHECK_THROWS_AS(BlockingQueue<std::uint64_t>(BlockingQueue<std::uint64_t>::max_capacity() + 1), std::length_error);
  try {
    BlockingQueue<std::uint64_t> q(std::numeric_limits<std::size_t>::max() / 2);
  } catch (const std::length_error& e) {
    CHECK(std::string(e.what()).find("hft::BlockingQueue: capacity") != std::string::npos);
  }
  CHECK_THROWS_WITH(BlockingQueue<int>(0), Catch::Contains("capacity must be >= 1"));
}

TEST_CASE("BlockingQueue: a push that fails leaves the caller's object untouched", "[blocking][regression]") {
  BlockingQueue<std::string> q(1);
  REQUIRE(q.try_push(std::string("first")));
  std::string s = "order-2 with a heap-allocated payload";  // past the small-string buffer
  // NOLINTBEGIN(bugprone-use-after-move): a failed push must leave s intact; that is the test
  CHECK_FALSE(q.try_push(std::move(s)));  // full
  CHECK(s == "order-2 with a heap-allocated payload");
  CHECK_FALSE(q.try_push_for(std::move(s), 1ms));  // full, timed out
  CHECK(s == "order-2 with a heap-allocated payload");
  q.close();
  CHECK_THROWS_AS(q.push(std::move(s)), hft::QueueClosed);  // closed
  CHECK(s == "order-2 with a heap-allocated payload");
  CHECK_FALSE(q.try_push(std::move(s)));
  CHECK_FALSE(q.try_push_for(std::move(s), 1ms));
  CHECK(s == "order-2 with a heap-allocated payload");
  // NOLINTEND(bugprone-use-after-move)
  const std::string c = "copy";
  CHECK_THROWS_AS(q.push(c), hft::QueueClosed);
  CHECK(q.pop() == "first");
}

TEST_CASE("BlockingQueue: a throwing copy leaves the queue unchanged", "[blocking][lifecycle]") {
  BlockingQueue<CopyMayThrow> q(2);
  const CopyMayThrow a(1);
  q.push(a);
  CopyMayThrow::fail = true;
  CHECK_THROWS_AS(q.push(a), std::runtime_error);
  CHECK_THROWS_AS(q.try_push(a), std::runtime_error);
  CopyMayThrow::fail = false;
  CHECK(q.size() == 1);
  q.push(CopyMayThrow(2));
  CHECK(q.pop()->v == 1);
  CHECK(q.pop()->v == 2);
}

namespace {
struct AssignMayThrow {
  static inline bool fail = false;
  int v = 0;
  AssignMayThrow() = default;
  explicit AssignMayThrow(int x) : v(x) {}
  AssignMayThrow(AssignMayThrow&&) noexcept = default;
  // NOLINTNEXTLINE(bugprone-exception-escape,performance-noexcept-move-constructor): throws on purpose
  AssignMayThrow& operator=(AssignMayThrow&& o) {
    if (fail) throw std::runtime_error("assignment failed");
    v = o.v;
    return *this;
  }
};
}  // namespace

TEST_CASE("BlockingQueue::try_pop(T&) whose move assignment throws leaves the item queued", "[blocking][lifecycle]") {
  BlockingQueue<AssignMayThrow> q(2);
  q.push(AssignMayThrow(1));
  q.push(AssignMayThrow(2));
  AssignMayThrow out;
  AssignMayThrow::fail = true;
  CHECK_THROWS_AS((void)q.try_pop(out), std::runtime_error);
  AssignMayThrow::fail = false;
  CHECK(q.size() == 2);
  REQUIRE(q.try_pop(out));
  CHECK(out.v == 1);
  CHECK(q.pop()->v == 2);
}

TEST_CASE("BlockingQueue timeouts at their limits: duration::max() waits, zero and negative do not", "[blocking][regression]") {
  BlockingQueue<int> q(1);
  CHECK_FALSE(q.try_pop_for(0ns).has_value());
  CHECK_FALSE(q.try_pop_for(-5s).has_value());
  // A wait "forever" must really wait (an overflowing deadline returned after a few ms, and
  // is signed-overflow UB that UBSan reports).
  std::thread late([&] {
    std::this_thread::sleep_for(50ms);
    q.push(7);
  });
  CHECK(q.try_pop_for(std::chrono::nanoseconds::max()) == 7);
  late.join();
  q.push(1);  // now full
  std::thread popper([&] {
    std::this_thread::sleep_for(50ms);
    (void)q.pop();
  });
  CHECK(q.try_push_for(2, std::chrono::hours::max()));  // hours::max() overflows nanoseconds
  popper.join();
  std::thread late2([&] {
    std::this_thread::sleep_for(50ms);
    (void)q.pop();
  });
  CHECK(q.try_push_for(3, std::chrono::duration<double>(std::numeric_limits<double>::infinity())));
  late2.join();
  CHECK(q.pop() == 3);
  CHECK(q.try_push_for(4, 0ns));        // room: a zero timeout still pushes
  CHECK_FALSE(q.try_push_for(5, 0ns));  // full: returns at once
}

TEST_CASE("BlockingQueue: the consumer may destroy the queue as soon as pop() reports closed", "[blocking][stress][regression]") {
  // close() used to notify after unlocking: the consumer could see "closed", destroy the
  // queue, and race with the notify (TSan: pthread_cond_destroy vs pthread_cond_broadcast).
  const int rounds = static_cast<int>(hft::test::scaled(20'000));
  for (int r = 0; r < rounds; ++r) {
    auto* q = new BlockingQueue<int>(4);
    std::thread consumer([q] {
      while (q->pop()) {
      }
      delete q;
    });
    q->push(r);
    q->close();
    consumer.join();
  }
  SUCCEED();
}

TEST_CASE("BlockingQueue lifecycle contract", "[blocking][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<BlockingQueue<int>>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<BlockingQueue<int>>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<BlockingQueue<int>>);
  // Capacity 1: every push after the first waits for a pop.
  BlockingQueue<int> q(1);
  q.push(1);
  CHECK_FALSE(q.try_push(2));
  CHECK(q.pop() == 1);
  q.push(2);
  CHECK(q.pop() == 2);
  // Closing while producers and consumers are blocked returns them all (see "close() wakes
  // every blocked producer and consumer"); a closed queue stays closed (no restart).
  q.close();
  CHECK(q.closed());
  CHECK_FALSE(q.try_push(3));
}
