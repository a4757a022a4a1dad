#include "hft/sched/worker_pool.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

namespace {
struct Tick {
  std::atomic<std::uint64_t>* hits;
  void operator()() const noexcept { hits->fetch_add(1, std::memory_order_relaxed); }
};
}  // namespace

TEST_CASE("WorkerPool runs every job once, including jobs queued by jobs, then stops", "[worker_pool][stress]") {
  struct Counter {
    std::atomic<std::uint64_t>* hits;
    hft::WorkerPool<Counter>** pool;
    std::uint32_t depth;
    void operator()() const noexcept {
      hits->fetch_add(1, std::memory_order_relaxed);
      if (depth > 0) (*pool)->execute(Counter{hits, pool, depth - 1});
    }
  };
  std::atomic<std::uint64_t> hits{0};
  hft::WorkerPool<Counter>* self = nullptr;
  {
    hft::WorkerPoolConfig pc;
    pc.threads = 3;
    pc.queue_capacity = 1u << 12;
    pc.spin_iterations = 10;  // sleep early and often: exercises the wake-up path
    hft::WorkerPool<Counter> pool(pc);
    self = &pool;
    const std::uint64_t n = hft::test::scaled(200'000);
    for (std::uint64_t i = 0; i < n; ++i) {
      // Outstanding jobs must stay below the ring's capacity: a worker that re-queues into a
      // full ring would wait for itself (the sizing rule in the header).
      while (i * 4 - hits.load(std::memory_order_relaxed) > 2048) std::this_thread::yield();
      pool.execute(Counter{&hits, &self, 3});
      if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));  // let them sleep
    }
    pool.stop();  // drains, including chained jobs
    CHECK(hits.load() == n * 4);
    CHECK(pool.stats().jobs_run == n * 4);
  }
  hft::WorkerPoolConfig bad;
  bad.threads = 1;
  bad.queue_capacity = 0;
  CHECK_THROWS_AS(hft::WorkerPool<Counter>(bad), std::invalid_argument);
}

TEST_CASE("WorkerPool rejects a configuration it cannot run, before starting any thread", "[worker_pool][regression]") {
  // A name too long for Linux's 15-byte thread names used to throw inside each worker
  // (set_current_thread_name), which std::terminates.
  hft::WorkerPoolConfig c;
  c.threads = 2;
  c.name = "a-very-long-name";
  CHECK_THROWS_WITH(hft::WorkerPool<Tick>(c), Catch::Contains("hft::WorkerPool: name"));
  c.name = "twelve-chars";  // 12 + "-1" = 14: fits
  CHECK_NOTHROW(hft::WorkerPool<Tick>(c));
  c.threads = 0;
  CHECK_THROWS_WITH(hft::WorkerPool<Tick>(c), Catch::Contains("threads must be >= 1"));
  c.threads = 1;
  c.queue_capacity = 0;  // the ring family's rule: any capacity >= 1 (rounded up), with its message
  CHECK_THROWS_WITH(hft::WorkerPool<Tick>(c), "hft::WorkerPool: capacity must be >= 1, got 0");
  c.queue_capacity = 1000;
  CHECK_NOTHROW(hft::WorkerPool<Tick>(c));
}

#if !defined(HFT_TEST_ASAN) && !defined(HFT_TEST_TSAN)
// Sanitizer runtimes reserve terabytes of shadow address space: RLIMIT_AS cannot be used.
TEST_CASE("WorkerPool whose k-th thread fails to start stops the others and throws", "[worker_pool][regression]") {
  // Settles a suspicion: the constructor used to propagate std::system_error with joinable
  // std::threads (referencing *this) in threads_: std::terminate. Run in a child whose
  // address-space limit leaves room for about one more 8 MiB thread stack.
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::signal(SIGABRT, SIG_DFL) == SIG_ERR) ::_exit(99);  // the parent expects SIGABRT
    long pages = 0;
    {
      std::ifstream statm("/proc/self/statm");
      statm >> pages;
    }
    const auto vm = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
    const rlimit lim{vm + (12u << 20), vm + (12u << 20)};
    ::setrlimit(RLIMIT_AS, &lim);
    hft::WorkerPoolConfig c;
    c.threads = 8;
    c.queue_capacity = 64;
    try {
      hft::WorkerPool<Tick> pool(c);
      std::_Exit(3);  // every thread started: the limit did not bite
    } catch (const std::system_error&) {
      std::_Exit(0);  // the expected outcome: a clean exception
    } catch (...) {
      std::_Exit(4);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO("child status " << status);
  REQUIRE(WIFEXITED(status));        // not killed by std::terminate's SIGABRT
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

TEST_CASE("WorkerPool lifecycle contract: stop drains, is idempotent, and the destructor stops", "[worker_pool][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<hft::WorkerPool<Tick>>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<hft::WorkerPool<Tick>>);
  std::atomic<std::uint64_t> hits{0};
  {
    hft::WorkerPoolConfig c;
    c.threads = 2;
    c.queue_capacity = 1024;
    hft::WorkerPool<Tick> pool(c);
    for (int i = 0; i < 500; ++i) pool.execute(Tick{&hits});
    pool.stop();
    CHECK(hits.load() == 500);
    pool.stop();  // idempotent
    CHECK(pool.stats().jobs_run == 500);
  }
  {
    hft::WorkerPoolConfig c;
    c.threads = 1;
    c.queue_capacity = 1024;
    c.spin_iterations = 0;  // limit: no spin at all, sleep at once
    hft::WorkerPool<Tick> pool(c);
    for (int i = 0; i < 500; ++i) pool.execute(Tick{&hits});
  }  // the destructor drains the queue, then joins
  CHECK(hits.load() == 1000);
  {
    hft::WorkerPoolConfig c;
    c.threads = 2;
    c.queue_capacity = 2;  // limit: the smallest ring; execute() waits for room
    hft::WorkerPool<Tick> pool(c);
    for (int i = 0; i < 1000; ++i) pool.execute(Tick{&hits});
  }
  CHECK(hits.load() == 2000);
}
