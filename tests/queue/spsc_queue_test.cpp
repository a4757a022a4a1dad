#include "hft/queue/spsc_queue.hpp"

#include <algorithm>
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

using hft::SpscQueue;
using hft::test::Tracked;

TEST_CASE("SpscQueue rejects a zero or absurd capacity with a clear error", "[spsc]") {
  REQUIRE_THROWS_AS(SpscQueue<int>(0), std::invalid_argument);
  REQUIRE_THROWS_AS(SpscQueue<int>(SpscQueue<int>::max_capacity() + 1), std::length_error);
  try {
    SpscQueue<int> q(0);
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("capacity") != std::string::npos);
  }
}

TEST_CASE("SpscQueue holds exactly the requested capacity, power of two or not", "[spsc]") {
  for (std::size_t cap : {1u, 2u, 3u, 5u, 7u, 8u, 100u}) {
    SpscQueue<int> q(cap);
    REQUIRE(q.capacity() == cap);
    REQUIRE(q.empty());
    for (std::size_t i = 0; i < cap; ++i) REQUIRE(q.try_push(static_cast<int>(i)));
    REQUIRE_FALSE(q.try_push(-1));
    REQUIRE(q.size() == cap);
    for (std::size_t i = 0; i < cap; ++i) {
      int v = -1;
      REQUIRE(q.try_pop(v));
      REQUIRE(v == static_cast<int>(i));
    }
    int v;
    REQUIRE_FALSE(q.try_pop(v));
    REQUIRE(q.front() == nullptr);
  }
}

TEST_CASE("SpscQueue matches std::deque over random operations with wrap-around", "[spsc]") {
  std::mt19937_64 rng(12345);
  for (std::size_t cap : {1u, 3u, 4u, 13u}) {
    SpscQueue<std::uint64_t> q(cap);
    std::deque<std::uint64_t> model;
    std::uint64_t next = 0;
    for (int step = 0; step < 20000; ++step) {
      switch (rng() % 6) {
        case 0: {
          const bool ok = q.try_push(next);
          REQUIRE(ok == (model.size() < cap));
          if (ok) model.push_back(next);
          ++next;
          break;
        }
        case 1: {
          std::vector<std::uint64_t> batch(rng() % 6);
          for (auto& b : batch) b = next++;
          const std::size_t n = q.try_push_n(batch.begin(), batch.end());
          REQUIRE(n == std::min(batch.size(), cap - model.size()));
          model.insert(model.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
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
        case 3: {
          const std::size_t max = rng() % 5;
          std::vector<std::uint64_t> got;
          const std::size_t n = q.consume([&](std::uint64_t& x) { got.push_back(x); }, max);
          REQUIRE(n == std::min(max, model.size()));
          REQUIRE(got.size() == n);
          for (auto x : got) {
            REQUIRE(x == model.front());
            model.pop_front();
          }
          break;
        }
        case 4: {
          std::uint64_t* f = q.front();
          REQUIRE((f != nullptr) == !model.empty());
          if (f) {
            REQUIRE(*f == model.front());
            q.pop();
            model.pop_front();
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

TEST_CASE("SpscQueue constructs and destroys every element exactly once", "[spsc][lifecycle]") {
  Tracked::reset();
  {
    SpscQueue<Tracked> q(4);
    REQUIRE(q.try_emplace(1u));
    REQUIRE(q.try_push(Tracked(2)));
    Tracked t3(3);
    REQUIRE(q.try_push(t3));
    REQUIRE(q.try_emplace(4u));
    REQUIRE_FALSE(q.try_emplace(5u));  // full: nothing constructed
    Tracked out(0);
    REQUIRE(q.try_pop(out));
    REQUIRE(out.value == 1);
    REQUIRE(q.consume([](Tracked& t) { REQUIRE(t.value == 2); }, 1) == 1);
    std::vector<Tracked> batch;
    batch.emplace_back(6u);
    batch.emplace_back(7u);
    REQUIRE(q.try_push_n(batch.begin(), batch.end()) == 2);
    // 3, 4, 6, 7 are left in the queue when it dies.
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
  REQUIRE(Tracked::constructed > 0);
}

TEST_CASE("SpscQueue works with move-only and non-default-constructible types", "[spsc]") {
  SpscQueue<std::unique_ptr<int>> q(2);
  REQUIRE(q.try_push(std::make_unique<int>(7)));
  auto p = std::make_unique<int>(8);
  REQUIRE(q.try_push(std::move(p)));
  auto rejected = std::make_unique<int>(9);
  REQUIRE_FALSE(q.try_push(std::move(rejected)));
  REQUIRE(rejected != nullptr);  // a failed push leaves the argument untouched
  std::unique_ptr<int> out;
  REQUIRE(q.try_pop(out));
  REQUIRE(*out == 7);

  SpscQueue<hft::test::MoveOnlyNoDefault> q2(3);
  REQUIRE(q2.try_emplace(5));
  q2.emplace(6);
  REQUIRE(q2.front()->v == 5);
  q2.pop();
  REQUIRE(q2.front()->v == 6);
}

TEST_CASE("SpscQueue batch operations move items and stop at the capacity", "[spsc]") {
  SpscQueue<std::unique_ptr<int>> q(3);
  std::vector<std::unique_ptr<int>> in;
  for (int i = 0; i < 5; ++i) in.push_back(std::make_unique<int>(i));
  const auto n = q.try_push_n(std::make_move_iterator(in.begin()), std::make_move_iterator(in.end()));
  REQUIRE(n == 3);
  REQUIRE(in[0] == nullptr);
  REQUIRE(in[3] != nullptr);  // not moved from: did not fit
  int expect = 0;
  REQUIRE(q.consume([&](std::unique_ptr<int>& p) { REQUIRE(*p == expect++); }) == 3);
  REQUIRE(q.empty());
}

TEST_CASE("SpscQueue::consume counts a throwing item as consumed and keeps the rest", "[spsc]") {
  Tracked::reset();
  {
    SpscQueue<Tracked> q(8);
    for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(q.try_emplace(i));
    REQUIRE_THROWS_AS(q.consume([](Tracked& t) {
      if (t.value == 2) throw std::runtime_error("handler failed");
    }),
                      std::runtime_error);
    REQUIRE(q.size() == 2);
    REQUIRE(q.front()->value == 3);
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("SpscQueue allocates once through the allocator and frees it", "[spsc][allocator]") {
  hft::test::AllocStats stats;
  {
    SpscQueue<std::string, hft::test::CountingAllocator<std::string>> q(
        10, hft::test::CountingAllocator<std::string>(&stats));
    REQUIRE(stats.allocations == 1);
    for (int round = 0; round < 100; ++round) {
      REQUIRE(q.try_emplace("a string long enough to defeat the small string optimisation"));
      std::string s;
      REQUIRE(q.try_pop(s));
    }
    REQUIRE(stats.allocations == 1);  // the queue itself never allocates again
  }
  REQUIRE(stats.deallocations == 1);
  REQUIRE(stats.bytes_live == 0);
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("SpscQueue::pop on an empty queue asserts with a message in debug builds", "[spsc][assert]") {
  auto r = hft::test::run_expecting_abort([] {
    SpscQueue<int> q(2);
    q.pop();
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("SpscQueue::pop on an empty queue") != std::string::npos);
  REQUIRE(r.stderr_text.find("spsc_queue.hpp") != std::string::npos);
}
#endif

TEST_CASE("SpscQueue stress: every item arrives once and in order", "[spsc][stress]") {
  const std::uint64_t total = hft::test::scaled(10'000'000);
  SpscQueue<std::uint64_t> q(1024);
  std::thread producer([&] {
    std::uint64_t next = 0;
    std::uint64_t batch[16];
    while (next < total) {
      if (next % 3 == 0) {
        // batch path
        std::uint64_t k = 0;
        for (; k < 16 && next + k < total; ++k) batch[k] = next + k;
        next += q.try_push_n(batch, batch + k);
      } else if (q.try_push(next)) {
        ++next;
      } else {
        hft::cpu_relax();
      }
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t errors = 0;
  while (expected < total) {
    if (expected % 2 == 0) {
      q.consume([&](std::uint64_t v) { errors += (v != expected++); }, 64);
    } else if (auto* f = q.front()) {
      errors += (*f != expected++);
      q.pop();
    }
  }
  producer.join();
  REQUIRE(errors == 0);
  REQUIRE(expected == total);
  REQUIRE(q.empty());
}

TEST_CASE("SpscQueue stress with a lifecycle-tracked type leaks nothing", "[spsc][stress][lifecycle]") {
  Tracked::reset();
  const std::uint64_t total = hft::test::scaled(1'000'000);
  {
    SpscQueue<Tracked> q(64);
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < total; ++i) q.emplace(i);
    });
    std::uint64_t expected = 0;
    bool in_order = true;
    // Leave some items behind for the destructor.
    while (expected < total - 10) {
      if (auto* f = q.front()) {
        in_order &= (f->value == expected++);
        q.pop();
      }
    }
    producer.join();
    REQUIRE(in_order);
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("SpscQueue::size() is never above what is queued, even right after a pop", "[spsc][stress][regression]") {
  // Ping-pong: the producer pushes i and waits for the consumer's ack, so when the consumer
  // has popped i the queue is empty. size() used to return capacity() there now and then:
  // head had moved past a tail the producer had not stored yet, and tail - head wrapped.
  const int n = static_cast<int>(hft::test::scaled(400'000));
  SpscQueue<int> q(64);
  std::atomic<int> ack{-1};
  std::thread producer([&] {
    for (int i = 0; i < n; ++i) {
      while (!q.try_push(i)) hft::cpu_relax();
      while (ack.load(std::memory_order_acquire) != i) hft::cpu_relax();
    }
  });
  std::size_t wrong = 0, worst = 0;
  for (int i = 0; i < n; ++i) {
    int v = -1;
    while (!q.try_pop(v)) hft::cpu_relax();
    const std::size_t s = q.size();
    if (s != 0) ++wrong;
    worst = std::max(worst, s);
    if (q.empty() != (s == 0)) ++wrong;
    ack.store(i, std::memory_order_release);
  }
  producer.join();
  CHECK(wrong == 0);
  CHECK(worst == 0);
  CHECK(q.size() == 0);
}

TEST_CASE("SpscQueue::size() stays within [0, capacity] while both sides run", "[spsc][stress]") {
  // Both sides call size() between their operations (two spinning threads on two cores).
  const std::uint64_t total = hft::test::scaled(2'000'000);
  SpscQueue<std::uint64_t> q(16);
  std::atomic<std::uint64_t> out_of_range{0};
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < total; ++i) {
      q.push(i);
      if (q.size() > q.capacity()) out_of_range.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::uint64_t expected = 0, misordered = 0;
  while (expected < total) {
    std::uint64_t v;
    if (q.try_pop(v)) misordered += v != expected++;
    if (q.size() > q.capacity()) out_of_range.fetch_add(1, std::memory_order_relaxed);
  }
  producer.join();
  CHECK(misordered == 0);
  CHECK(out_of_range.load() == 0);
  CHECK(q.size() == 0);
}

TEST_CASE("SpscQueue lifecycle contract: not copyable or movable, capacity 1, a throwing constructor publishes nothing",
          "[spsc][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<SpscQueue<int>, Copy::No, Move::No>());
  SpscQueue<hft::test::ThrowsOnNegative> q(1);
  CHECK_THROWS_AS((void)q.try_emplace(-1), std::runtime_error);
  CHECK(q.empty());
  CHECK(q.try_emplace(1));
  CHECK_FALSE(q.try_emplace(2));
  CHECK(q.size() == 1);
  q.pop();
  CHECK(q.empty());
}

TEST_CASE("SpscQueue: consumer calls never wait for a producer stalled inside a push", "[spsc][progress]") {
  struct Gated {
    std::atomic<bool>* release;
    explicit Gated(std::atomic<bool>* r, std::atomic<bool>* started) : release(r) {
      started->store(true);
      while (!release->load()) std::this_thread::yield();
    }
  };
  SpscQueue<Gated> q(4);
  std::atomic<bool> release{false}, started{false};
  std::thread producer([&] { (void)q.try_emplace(&release, &started); });
  while (!started.load()) std::this_thread::yield();
  for (int i = 0; i < 1000; ++i) {
    CHECK(q.front() == nullptr);  // nothing published: returns at once
    CHECK(q.consume([](Gated&) {}) == 0);
  }
  release = true;
  producer.join();
  CHECK(q.front() != nullptr);
  q.pop();
}
