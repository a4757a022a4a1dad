#include "hft/sync/seqlock.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

namespace {
// 40 bytes: 5 words, so a torn read would mix fields from different writes.
struct Quote {
  std::uint64_t a, b, c, d, e;
};
struct Odd {  // a size that is not a multiple of 8
  char bytes[13];
};
}  // namespace

TEST_CASE("SeqLock stores and loads whole values", "[seqlock]") {
  hft::SeqLock<Quote> s(Quote{1, 1, 1, 1, 1});
  REQUIRE(s.load().c == 1);
  REQUIRE(s.version() == 0);
  s.store(Quote{2, 2, 2, 2, 2});
  REQUIRE(s.version() == 2);
  const auto q = s.try_load();
  REQUIRE(q.has_value());
  REQUIRE(q->e == 2);
  hft::SeqLock<Odd> o;
  Odd v{};
  for (int i = 0; i < 13; ++i) v.bytes[i] = static_cast<char>(i + 1);
  o.store(v);
  REQUIRE(o.load().bytes[12] == 13);
}

TEST_CASE("SeqLock readers never see a torn value while the writer publishes", "[seqlock][stress]") {
  hft::SeqLock<Quote> s(Quote{0, 0, 0, 0, 0});
  const std::uint64_t writes = hft::test::scaled(2'000'000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last = 0, local_reads = 0;
      do {
        const Quote q = s.load();
        if (q.a != q.b || q.b != q.c || q.c != q.d || q.d != q.e || q.a < last) torn.fetch_add(1);
        last = q.a;  // values only grow: a reader never goes back in time
        ++local_reads;
      } while (!done.load(std::memory_order_acquire));
      reads.fetch_add(local_reads);
    });
  }
  for (std::uint64_t i = 1; i <= writes; ++i) s.store(Quote{i, i, i, i, i});
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  REQUIRE(torn == 0);
  REQUIRE(reads > 0);
  REQUIRE(s.load().a == writes);
  REQUIRE(s.version() == 2 * writes);
}

TEST_CASE("SeqLock progress as documented: try_load succeeds with no overlapping store, load returns once the writer pauses",
          "[seqlock][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<hft::SeqLock<Quote>>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<hft::SeqLock<Quote>>);
  hft::SeqLock<Quote> s(Quote{1, 2, 3, 4, 1});  // every value stored keeps a == e
  Quote q{};
  for (int i = 0; i < 1000; ++i) REQUIRE(s.try_load(q));  // no writer: the first attempt always succeeds
  // Obstruction-free, not lock-free: readers only finish between stores. A writer that
  // stores in bursts with pauses lets every blocked load() through in each pause.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> loads{0};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_acquire)) {
      const Quote v = s.load();
      if (v.a != v.e) std::abort();  // torn: caught by the stress test above as well
      loads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (std::uint64_t burst = 1; burst <= 20; ++burst) {
    for (std::uint64_t i = 0; i < 1000; ++i) s.store(Quote{burst, i, i, i, burst});
    const std::uint64_t before = loads.load(std::memory_order_relaxed);
    while (loads.load(std::memory_order_relaxed) == before) std::this_thread::yield();  // the pause lets it in
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  CHECK(loads.load() >= 20);
}
