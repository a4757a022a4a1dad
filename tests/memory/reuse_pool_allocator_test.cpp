#include "hft/memory/reuse_pool_allocator.hpp"

#include <atomic>
#include <cstdlib>
#include <list>
#include <map>
#include <new>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

using hft::ReusePoolAllocator;

TEST_CASE("ReusePoolAllocator traits: rebinding shares the pools; equality follows the set", "[allocator]") {
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

