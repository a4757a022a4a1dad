// The "no allocation per task, memory bounded by live work" proof for FamilyScheduler and
// WorkerPool. Its own binary: it replaces the global operator new to count calls (the
// sanitizer runtimes own operator new, so there this test only checks the counters).
#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "hft/sched/worker_pool.hpp"

#include "../support/counting_new.hpp"
using hft::test::g_news;

namespace {
struct Order {
  std::uint64_t id;
  char payload[48];
};
using Sched = hft::FamilyScheduler<Order>;
}  // namespace

TEST_CASE("10M distinct families and 10M tasks: no allocation after construction", "[family][stress]") {
  hft::WorkerPoolConfig pc;
  pc.threads = 2;
  pc.queue_capacity = 1u << 12;
  hft::WorkerPool<Sched::Job> pool(pc);
  std::atomic<std::uint64_t> sum{0};
  auto handler = [&](const Sched::TaskInfo&, Order& o) { sum.fetch_add(o.id, std::memory_order_relaxed); };
  hft::FamilySchedulerConfig c;
  c.max_families = 4096;
  c.max_pending_tasks = 8192;
  Sched s(c, handler, pool);
  // Warm-up: the worker threads' first wake-ups and thread-local state.
  for (std::uint64_t k = 0; k < 1000; ++k) (void)s.submit(k, Order{1, {}});
  while (s.completed() < 1000) std::this_thread::yield();
  const long before = g_news.load();
  const std::uint64_t n = hft::test::scaled(10'000'000);
  std::uint64_t want = 1000;
  for (std::uint64_t k = 0; k < n; ++k) {
    // Half distinct keys, half a small set of hot ones: both reclaim and queueing paths.
    const std::uint64_t key = (k & 1) ? 1'000'000 + k : k % 8;
    while (!hft::accepted(s.submit(key, Order{k, {}}))) std::this_thread::yield();
    want += k;
  }
  while (s.completed() < n + 1000) std::this_thread::yield();
  const long after = g_news.load();
  CHECK(sum.load() == want);
  CHECK(s.families_live() <= c.max_families);
  HFT_CHECK_NO_NEW(before, after);
  pool.stop();
}
