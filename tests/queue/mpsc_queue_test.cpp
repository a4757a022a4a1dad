// MpscQueue beyond the family contract (ring_family_test.cpp): dead slots under
// concurrent producers, the debug assertion, and the consumer's progress.
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
