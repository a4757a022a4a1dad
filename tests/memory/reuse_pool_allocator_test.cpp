#include "hft/memory/reuse_pool_allocator.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../support/catch.hpp"
#include "../support/counting_new.hpp"
#include "../support/scale.hpp"

using hft::ReusePoolAllocator;

TEST_CASE("ReusePoolAllocator traits: rebinding shares the pools, equality follows the set", "[allocator]") {
  ReusePoolAllocator<int> a;
  ReusePoolAllocator<double> b(a);
  REQUIRE(a == b);
  ReusePoolAllocator<int> c;
  REQUIRE_FALSE(a == c);
  using T = std::allocator_traits<ReusePoolAllocator<int>>;
  STATIC_REQUIRE(T::propagate_on_container_move_assignment::value);
  STATIC_REQUIRE(T::propagate_on_container_swap::value);
  STATIC_REQUIRE_FALSE(T::is_always_equal::value);
  int* p = a.allocate(1);
  *p = 5;
  ReusePoolAllocator<int> copy(a);
  copy.deallocate(p, 1);  // freed through an equal allocator
  int* q = a.allocate(1);
  REQUIRE(q == p);  // reused
  a.deallocate(q, 1);
  int* many = a.allocate(10);  // upstream
  a.deallocate(many, 10);
}

TEST_CASE("node containers with ReusePoolAllocator behave exactly like with std::allocator",
          "[allocator][differential]") {
  std::mt19937_64 rng(11);
  std::list<int, ReusePoolAllocator<int>> list_p;
  std::list<int> list_s;
  std::map<int, int, std::less<>, ReusePoolAllocator<std::pair<const int, int>>> map_p;
  std::map<int, int> map_s;
  std::unordered_map<int, int, std::hash<int>, std::equal_to<>, ReusePoolAllocator<std::pair<const int, int>>> umap_p;
  std::unordered_map<int, int> umap_s;
  for (int step = 0; step < 50'000; ++step) {
    const int k = static_cast<int>(rng() % 500);
    switch (rng() % 5) {
      case 0:
        list_p.push_back(k);
        list_s.push_back(k);
        break;
      case 1:
        if (!list_s.empty()) {
          list_p.pop_front();
          list_s.pop_front();
        }
        break;
      case 2:
        map_p[k] = step;
        map_s[k] = step;
        umap_p[k] = step;
        umap_s[k] = step;
        break;
      case 3:
        REQUIRE(map_p.erase(k) == map_s.erase(k));
        REQUIRE(umap_p.erase(k) == umap_s.erase(k));
        break;
      default: {
        auto a = map_p.find(k);
        auto b = map_s.find(k);
        REQUIRE((a == map_p.end()) == (b == map_s.end()));
        if (b != map_s.end()) REQUIRE(a->second == b->second);
      }
    }
  }
  REQUIRE(std::equal(list_p.begin(), list_p.end(), list_s.begin(), list_s.end()));
  REQUIRE(std::equal(map_p.begin(), map_p.end(), map_s.begin(), map_s.end()));
  REQUIRE(umap_p.size() == umap_s.size());
  for (const auto& [k, v] : umap_s) REQUIRE(umap_p.at(k) == v);
  // Moves and swaps carry the pools with the nodes.
  auto moved = std::move(map_p);
  REQUIRE(moved.size() == map_s.size());
  decltype(moved) other;
  other.swap(moved);
  REQUIRE(std::equal(other.begin(), other.end(), map_s.begin(), map_s.end()));
}


// ---- regressions and lifecycle contract ------------------------------------------------

TEST_CASE("a moved-from ReusePoolAllocator stays equal and usable, and keeps its pools alive", "[allocator][regression]") {
  // The implicit move nulled set_ but kept the raw pool_: a moved-from container that was
  // reused dereferenced null (PoolSet::pool_for), or used a BlockPool freed with its new
  // owner (heap-use-after-free).
  ReusePoolAllocator<int> a;
  int* warm = a.allocate(1);
  a.deallocate(warm, 1);
  const ReusePoolAllocator<int> before = a;
  ReusePoolAllocator<int> b = std::move(a);
  // The moved-from allocator is the point of the test (for cppcheck too):
  // cppcheck-suppress accessMoved
  CHECK(a == before);  // NOLINT(bugprone-use-after-move)
  // cppcheck-suppress accessMoved
  CHECK(a == b);
  int* p = a.allocate(1);
  *p = 1;
  a.deallocate(p, 1);
  ReusePoolAllocator<int> c;
  c = std::move(b);
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from allocator is what is under test
  // cppcheck-suppress accessMoved
  CHECK(b == c);
  CHECK(b.allocate(1) != nullptr);
  // NOLINTEND(bugprone-use-after-move)

  using List = std::list<int, ReusePoolAllocator<int>>;
  List l1;
  l1.push_back(1);
  {
    List l2 = std::move(l1);  // moves the allocator
    CHECK(l2.front() == 1);
  }  // l2 (and the allocator it took) is gone
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from list is what is under test
  l1.push_back(2);  // the moved-from list reuses its own allocator: still valid
  l1.push_back(3);
  CHECK(l1.size() == 2);
  // NOLINTEND(bugprone-use-after-move)
  CHECK(l1.front() == 2);
}

TEST_CASE("PoolSet rejects 0 blocks per slab and a slab size that overflows", "[allocator][regression]") {
  // PoolSet(0) crashed on the first allocation; block_size * blocks_per_slab could wrap.
  CHECK_THROWS_WITH(hft::PoolSet(0), Catch::Contains("blocks_per_slab must be >= 1"));
  auto huge = std::make_shared<hft::PoolSet>(std::numeric_limits<std::size_t>::max() / 2);
  ReusePoolAllocator<std::uint64_t> a(huge);
  CHECK_THROWS_AS(a.allocate(1), std::length_error);
  ReusePoolAllocator<std::uint64_t> ok(std::make_shared<hft::PoolSet>(1));  // one block per slab
  std::uint64_t* p = ok.allocate(1);
  std::uint64_t* q = ok.allocate(1);
  CHECK(p != q);
  ok.deallocate(p, 1);
  ok.deallocate(q, 1);
  CHECK(ok.pool_set()->slab_count() == 2);
}

#if defined(HFT_TEST_COUNTS_NEW)
TEST_CASE("ReusePoolAllocator: a slab allocation that throws leaves the pool unchanged and leaks nothing",
          "[allocator][regression]") {
  // BlockPool::add_slab allocated the slab, then push_back'ed it: a throw there leaked it.
  const long base = hft::test::g_live_blocks.load();
  {
    auto set = std::make_shared<hft::PoolSet>(4);
    ReusePoolAllocator<std::uint64_t> a(set);
    std::vector<std::uint64_t*> got;
    for (int i = 0; i < 4; ++i) got.push_back(a.allocate(1));  // the first slab, full
    for (long k = 1; k <= 4; ++k) {
      hft::test::FailNthAllocation fail(k);
      try {
        got.push_back(a.allocate(1));
      } catch (const std::bad_alloc&) {
        CHECK(fail.fired());
      }
    }
    for (int i = 0; i < 8; ++i) got.push_back(a.allocate(1));
    for (std::size_t i = 0; i < got.size(); ++i) {
      for (std::size_t j = i + 1; j < got.size(); ++j) REQUIRE(got[i] != got[j]);
    }
    for (auto* p : got) a.deallocate(p, 1);
  }
  CHECK(hft::test::g_live_blocks.load() == base);
}

TEST_CASE("ReusePoolAllocator::deallocate never allocates, even through a copy that never allocated",
          "[allocator][lifecycle]") {
  // Settles a suspicion: deallocate is noexcept but called pool_for, which may allocate.
  ReusePoolAllocator<double> a;
  double* p = a.allocate(1);
  const ReusePoolAllocator<double> fresh_copy(a);  // its pool_ cache is empty
  const long before = hft::test::g_news.load();
  ReusePoolAllocator<double>(fresh_copy).deallocate(p, 1);
  CHECK(hft::test::g_news.load() == before);
}
#endif
