#include "hft/memory/reuse_pool.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/counting_new.hpp"
#include "../support/lifecycle.hpp"
#include "../support/scale.hpp"

using hft::ReusePool;
using hft::test::Tracked;

TEST_CASE("ReusePool: capacity, exhaustion and LIFO reuse of the warmest slot", "[pool]") {
  ReusePool<std::uint64_t> pool(4);
  REQUIRE(pool.capacity() == 4);
  std::vector<std::uint64_t*> ps;
  for (int i = 0; i < 4; ++i) ps.push_back(pool.create(static_cast<std::uint64_t>(i)));
  REQUIRE(pool.live() == 4);
  REQUIRE(pool.try_create(9u) == nullptr);
  REQUIRE_THROWS_AS(pool.create(9u), std::bad_alloc);
  REQUIRE(std::set<std::uint64_t*>(ps.begin(), ps.end()).size() == 4);
  pool.destroy(ps[2]);
  pool.destroy(ps[0]);
  REQUIRE(pool.create(7u) == ps[0]);  // most recently freed first
  REQUIRE(pool.create(8u) == ps[2]);
  REQUIRE(pool.owns(ps[1]));
  int outside = 0;
  REQUIRE_FALSE(pool.owns(&outside));
  REQUIRE_THROWS_AS(ReusePool<int>(0), std::invalid_argument);
}

TEST_CASE("ReusePool: release in any order, random churn, every object destroyed once",
          "[pool][lifecycle]") {
  Tracked::reset();
  {
    ReusePool<Tracked> pool(256);
    std::vector<Tracked*> live;
    std::mt19937_64 rng(3);
    const auto steps = static_cast<int>(hft::test::scaled(100'000) * hft::test::stress_divisor);
    for (int step = 0; step < steps; ++step) {
      if (!live.empty() && (rng() % 2 || live.size() == 256)) {
        const std::size_t i = rng() % live.size();
        pool.destroy(live[i]);
        live[i] = live.back();
        live.pop_back();
      } else {
        live.push_back(pool.create(static_cast<std::uint64_t>(step)));
      }
      REQUIRE(pool.live() == live.size());
    }
    // Some objects are still live when the pool dies: it destroys them.
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("ReusePool: a throwing constructor gives the slot back", "[pool]") {
  ReusePool<hft::test::ThrowsOnNegative> pool(1);
  REQUIRE_THROWS(pool.create(-1));
  auto* p = pool.create(1);  // the only slot is free again
  REQUIRE(p->v == 1);
  pool.destroy(p);
}

TEST_CASE("ReusePool: growth by slabs", "[pool]") {
  ReusePool<int> pool(2, hft::ReusePoolConfig{true});
  std::vector<int*> ps;
  for (int i = 0; i < 7; ++i) ps.push_back(pool.create(i));
  REQUIRE(pool.slab_count() == 4);
  REQUIRE(pool.capacity() == 8);
  for (int i = 0; i < 7; ++i) REQUIRE(*ps[static_cast<std::size_t>(i)] == i);
  for (int* p : ps) pool.destroy(p);
  REQUIRE(pool.live() == 0);
}

TEST_CASE("PoolPtr and shared_ptr return their object to the pool", "[pool]") {
  Tracked::reset();
  {
    ReusePool<Tracked> pool(2);
    {
      auto a = pool.acquire(1u);
      auto b = pool.try_acquire(2u);
      REQUIRE(b);
      REQUIRE_FALSE(pool.try_acquire(3u));  // exhausted: empty handle
      REQUIRE(pool.live() == 2);
    }
    REQUIRE(pool.live() == 0);
    {
      std::shared_ptr<Tracked> s = pool.acquire_shared(5u);
      std::shared_ptr<Tracked> copy = s;
      s.reset();
      REQUIRE(pool.live() == 1);
      REQUIRE(copy->value == 5);
    }
    REQUIRE(pool.live() == 0);
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

TEST_CASE("ReusePool cross-thread pattern: objects released on another thread come back",
          "[pool][stress]") {
  Tracked::reset();
  {
    ReusePool<Tracked> pool(64);
    hft::test::Tracked::reset();
    std::atomic<Tracked*> mailbox[8] = {};
    std::atomic<bool> done{false};
    std::uint64_t released_remote = 0;
    // The consumer thread releases whatever the owner hands it.
    std::thread consumer([&] {
      while (!done.load(std::memory_order_acquire)) {
        for (auto& m : mailbox) {
          if (Tracked* t = m.exchange(nullptr, std::memory_order_acq_rel)) {
            pool.release_from_any_thread(t);
            ++released_remote;
          }
        }
      }
      for (auto& m : mailbox) {
        if (Tracked* t = m.exchange(nullptr, std::memory_order_acq_rel)) {
          pool.release_from_any_thread(t);
          ++released_remote;
        }
      }
    });
    const std::uint64_t n = hft::test::scaled(100'000);
    std::uint64_t sent = 0;
    while (sent < n) {
      Tracked* t = pool.try_create(sent);
      if (t == nullptr) {
        std::this_thread::yield();  // all 64 are with the consumer: wait for returns
        continue;
      }
      // (the consumer polls the 8 mailboxes continuously)
      auto& m = mailbox[sent % 8];
      Tracked* expected = nullptr;
      for (int spins = 0; !m.compare_exchange_weak(expected, t, std::memory_order_acq_rel); ++spins) {
        expected = nullptr;
        if (spins > 100) std::this_thread::yield();  // 2 threads on 2 cores: spin first
      }
      ++sent;
    }
    done.store(true, std::memory_order_release);
    consumer.join();
    REQUIRE(released_remote == n);
    REQUIRE(pool.capacity() == 64);  // never grew: every slot came back and was reused
    // Drain the return stack, then everything is free.
    std::vector<Tracked*> again;
    for (int i = 0; i < 64; ++i) again.push_back(pool.create(0u));
    REQUIRE(pool.live() == 64);
    for (Tracked* t : again) pool.destroy(t);
  }
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("ReusePool detects double release and foreign pointers in debug builds", "[pool][assert]") {
  auto twice = hft::test::run_expecting_abort([] {
    ReusePool<int> pool(2);
    int* p = pool.create(1);
    pool.destroy(p);
    pool.destroy(p);
  });
  REQUIRE(twice.aborted);
  REQUIRE(twice.stderr_text.find("double release") != std::string::npos);
  auto foreign = hft::test::run_expecting_abort([] {
    ReusePool<int> pool(2);
    int x = 0;
    pool.destroy(&x);
  });
  REQUIRE(foreign.aborted);
  REQUIRE(foreign.stderr_text.find("does not own") != std::string::npos);
}
#endif

#if defined(HFT_TEST_ASAN)
TEST_CASE("ReusePool under ASan: use after release is reported", "[pool][asan]") {
  auto r = hft::test::run_expecting_abort([] {
    ReusePool<std::uint64_t> pool(4);
    std::uint64_t* p = pool.create(42u);
    pool.destroy(p);
    volatile std::uint64_t v = *p;  // use after release
    (void)v;
  });
  // ASan reports and exits non-zero (abort_on_error=1 turns it into SIGABRT).
  REQUIRE(r.stderr_text.find("use-after-poison") != std::string::npos);
}
#endif

TEST_CASE("ReusePool: a growing pool destroys its survivors in every slab", "[pool][lifecycle]") {
  Tracked::reset();
  {
    ReusePool<Tracked> pool(3, hft::ReusePoolConfig{true});
    std::vector<Tracked*> ps;
    for (std::uint64_t i = 0; i < 10; ++i) ps.push_back(pool.create(i));  // 4 slabs
    REQUIRE(pool.slab_count() == 4);
    for (std::size_t i = 0; i < ps.size(); i += 3) pool.destroy(ps[i]);  // free some in each slab
    REQUIRE(Tracked::live() == 6);
  }  // the pool destroys the 6 survivors, spread over all slabs, exactly once
  REQUIRE(Tracked::errors == 0);
  REQUIRE(Tracked::live() == 0);
}

// ---- regressions and lifecycle contract ------------------------------------------------

#if defined(HFT_TEST_COUNTS_NEW)
TEST_CASE("ReusePool: growth whose allocation throws leaves the pool unchanged", "[pool][regression]") {
  // add_slab threaded the new slab onto the free list before slabs_.push_back; when that
  // threw, the slab was freed but the free list still pointed into it, and the next
  // create() wrote into freed memory.
  for (long k = 1; k <= 4; ++k) {
    ReusePool<std::uint64_t> pool(2, hft::ReusePoolConfig{true});
    std::vector<std::uint64_t*> live{pool.create(1u), pool.create(2u)};  // slab 1 full
    live.reserve(16);  // only the pool may allocate below
    bool threw = false;
    {
      hft::test::FailNthAllocation fail(k);
      try {
        live.push_back(pool.create(3u));
      } catch (const std::bad_alloc&) {
        threw = true;
      }
    }
    if (threw) {
      CHECK(pool.slab_count() == 1);
      CHECK(pool.capacity() == 2);
    }
    for (std::uint64_t i = 0; i < 6; ++i) {
      std::uint64_t* p = pool.create(10 + i);
      REQUIRE(pool.owns(p));  // a dangling free list hands out slots of the freed slab
      live.push_back(p);
    }
    for (auto* p : live) pool.destroy(p);
    CHECK(pool.live() == 0);
  }
}
#endif

#if defined(HFT_TEST_ASAN)
TEST_CASE("ReusePool under ASan: a slot released from another thread is poisoned too", "[pool][asan][regression]") {
  // release_from_any_thread never poisoned, although the header says every released slot is.
  ReusePool<std::uint64_t> pool(4);
  std::uint64_t* p = pool.create(42u);
  std::thread([&] { pool.release_from_any_thread(p); }).join();
  CHECK(__asan_address_is_poisoned(p));
  CHECK(__asan_address_is_poisoned(reinterpret_cast<char*>(p) + sizeof(std::uint64_t) - 1));
  // The owner gets it back (drains the return stack) and may use it again.
  std::vector<std::uint64_t*> again;
  for (int i = 0; i < 4; ++i) again.push_back(pool.create(static_cast<std::uint64_t>(i)));
  for (auto* q : again) CHECK_FALSE(__asan_address_is_poisoned(q));
  for (auto* q : again) pool.destroy(q);
}
#endif

TEST_CASE("ReusePool lifecycle contract: limits and a throwing constructor", "[pool][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<ReusePool<int>>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<ReusePool<int>>);
  CHECK_THROWS_WITH(ReusePool<int>(0), Catch::Contains("hft::ReusePool: capacity"));
  ReusePool<int> one(1);  // capacity 1
  int* a = one.create(1);
  CHECK(one.try_create(2) == nullptr);
  CHECK_THROWS_AS(one.create(2), std::bad_alloc);
  one.destroy(a);
  one.destroy(nullptr);  // ignored
  CHECK(one.try_create(3) != nullptr);
}
