// SpscQueue beyond the family contract (ring_family_test.cpp): the batch push, size()
// under concurrency, the debug assertion, and progress.
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

TEST_CASE("SpscQueue::try_push_n constructs and destroys every element exactly once", "[spsc][lifecycle]") {
  Tracked::reset();
  {
    SpscQueue<Tracked> q(4);
    REQUIRE(q.try_emplace(1u));
    std::vector<Tracked> batch;
    for (std::uint64_t i = 2; i < 7; ++i) batch.emplace_back(i);
    CHECK(q.try_push_n(batch.begin(), batch.end()) == 3);  // copies 2, 3, 4; no room for 5, 6
    CHECK(q.try_pop()->value == 1);
    CHECK(q.try_push_n(batch.begin() + 3, batch.end()) == 1);  // 5
    // 2, 3, 4, 5 are left in the queue when it dies.
  }
  CHECK(Tracked::errors == 0);
  CHECK(Tracked::live() == 0);
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
