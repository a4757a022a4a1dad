#include "hft/memory/memory_arena.hpp"

#include <cstdint>
#include <limits>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../support/abort_check.hpp"
#include "../support/catch.hpp"
#include "../support/scale.hpp"

using hft::MemoryArena;

TEST_CASE("MemoryArena honours every power-of-two alignment from 1 to 4096", "[arena]") {
  MemoryArena a(1 << 20);
  for (std::size_t align = 1; align <= 4096; align *= 2) {
    for (std::size_t size : {1u, 3u, 17u, 100u}) {
      void* p = a.allocate(size, align);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      REQUIRE(a.owns(p));
      REQUIRE(a.owns(static_cast<char*>(p) + size - 1));
    }
  }
}

TEST_CASE("MemoryArena exhaustion: try_allocate returns null, allocate throws, nothing corrupts", "[arena]") {
  MemoryArena a(1024);
  REQUIRE(a.try_allocate(1024, 1) != nullptr);
  REQUIRE(a.remaining() == 0);
  REQUIRE(a.try_allocate(1, 1) == nullptr);
  REQUIRE_THROWS_AS(a.allocate(1, 1), std::bad_alloc);
  a.reset();
  REQUIRE(a.try_allocate(1025, 1) == nullptr);              // larger than the arena
  REQUIRE(a.try_allocate(SIZE_MAX, 1) == nullptr);          // no wrap-around
  REQUIRE(a.try_allocate(1000, 1) != nullptr);
  REQUIRE(a.try_allocate(30, 64) == nullptr);               // fits unaligned, not aligned
  REQUIRE(a.used() == 1000);                                 // a failed allocation uses nothing
  REQUIRE_THROWS_AS(MemoryArena(0), std::invalid_argument);
}

TEST_CASE("MemoryArena mark/rewind unwinds like a stack, reset frees all", "[arena]") {
  MemoryArena a(4096);
  (void)a.allocate(100);
  const auto m = a.mark();
  void* p1 = a.allocate(200);
  (void)a.allocate(300);
  a.rewind(m);
  REQUIRE(a.used() == m.offset);
  REQUIRE(a.allocate(200) == p1);  // the same memory again
  a.reset();
  REQUIRE(a.used() == 0);
  REQUIRE_FALSE(a.owns(&m));
}

TEST_CASE("MemoryArena make<T>, mmap, huge-page fallback and pre-fault", "[arena]") {
  struct Pod {
    int a;
    double b;
  };
  for (hft::MemoryArenaConfig o : {hft::MemoryArenaConfig{}, hft::MemoryArenaConfig{true, false, true},
                              hft::MemoryArenaConfig{true, true, true}}) {
    MemoryArena a(4 << 20, o);
    Pod* p = a.make<Pod>(Pod{3, 4.5});
    REQUIRE(p->a == 3);
    REQUIRE(reinterpret_cast<std::uintptr_t>(p) % alignof(Pod) == 0);
    if (o.huge_pages) {
      // Whatever the machine offers, the arena works; the state says what it got.
      REQUIRE(a.huge_pages_state() != hft::HugePages::NotRequested);
    }
    MemoryArena moved(std::move(a));
    REQUIRE(moved.owns(p));
    REQUIRE(moved.used() >= sizeof(Pod));
  }
}

TEST_CASE("MemoryArena as a std::pmr::memory_resource", "[arena][pmr]") {
  MemoryArena a(1 << 16);
  MemoryArena::Resource r(a);
  std::pmr::vector<int> v(&r);
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  REQUIRE(a.owns(v.data()));
  REQUIRE(v[999] == 999);
  REQUIRE(r.is_equal(r));
}

#if HFT_ENABLE_ASSERTS && !defined(HFT_TEST_TSAN)
TEST_CASE("MemoryArena precondition violations assert in debug builds", "[arena][assert]") {
  auto r = hft::test::run_expecting_abort([] {
    MemoryArena a(64);
    (void)a.try_allocate(8, 3);
  });
  REQUIRE(r.aborted);
  REQUIRE(r.stderr_text.find("alignment must be a power of two") != std::string::npos);
  auto r2 = hft::test::run_expecting_abort([] {
    MemoryArena a(64);
    a.rewind({32});
  });
  REQUIRE(r2.aborted);
  REQUIRE(r2.stderr_text.find("marker is ahead") != std::string::npos);
}
#endif

TEST_CASE("a moved-from MemoryArena is empty: every allocation fails cleanly", "[arena][regression]") {
  // base_ was nulled but capacity_/used_ were not: try_allocate returned (void*)0x10.
  MemoryArena a(4096);
  (void)a.allocate(16);
  MemoryArena b(std::move(a));
  CHECK(b.used() == 16);
  CHECK(b.capacity() == 4096);
  CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(a.used() == 0);
  CHECK(a.remaining() == 0);
  CHECK(a.try_allocate(16) == nullptr);
  CHECK(a.try_allocate(0) == nullptr);
  CHECK_THROWS_AS(a.allocate(1), std::bad_alloc);
  CHECK_FALSE(a.owns(b.try_allocate(8)));
  MemoryArena c(64, hft::MemoryArenaConfig{true, false, false});
  c = std::move(b);  // move assignment releases c's own mapping first
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is what is under test
  CHECK(b.capacity() == 0);
  CHECK(b.try_allocate(1) == nullptr);
  // NOLINTEND(bugprone-use-after-move)
  CHECK(c.capacity() == 4096);
  CHECK(c.try_allocate(8) != nullptr);
  a = MemoryArena(128);  // a moved-from arena may be assigned and used again
  CHECK(a.try_allocate(128, 1) != nullptr);
}

TEST_CASE("MemoryArena limits: size 0, the whole region, and one byte too many", "[arena][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<MemoryArena>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<MemoryArena>);
  MemoryArena a(256);
  CHECK(a.try_allocate(0, 1) != nullptr);
  CHECK(a.try_allocate(256, 1) != nullptr);
  CHECK(a.try_allocate(1, 1) == nullptr);
  a.reset();
  CHECK(a.try_allocate(257, 1) == nullptr);
  CHECK(a.try_allocate(std::numeric_limits<std::size_t>::max(), 1) == nullptr);
  CHECK(a.try_allocate(1, std::size_t{1} << 62) == nullptr);  // an alignment beyond the region
  CHECK(a.used() == 0);
}
