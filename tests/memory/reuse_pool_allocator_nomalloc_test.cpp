// The "no allocation after warm-up" proof for ReusePoolAllocator. Its own binary: it
// replaces the global operator new to count calls, which would confuse valgrind (it
// intercepts libstdc++'s operator new) and the sanitizer runtimes.
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <random>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/memory/reuse_pool_allocator.hpp"

#include "../support/counting_new.hpp"
using hft::test::g_news;

using hft::ReusePoolAllocator;

TEST_CASE("after warm-up, map insert/erase churn performs no allocation at all", "[allocator]") {
  auto set = std::make_shared<hft::PoolSet>(128);
  std::map<int, int, std::less<>, ReusePoolAllocator<std::pair<const int, int>>> m{
      ReusePoolAllocator<std::pair<const int, int>>(set)};
  for (int i = 0; i < 1000; ++i) m[i] = i;  // warm-up: high-water mark of 1000 nodes
  for (int i = 0; i < 1000; ++i) m.erase(i);
  const std::size_t slabs = set->slab_count();
  const long news_before = g_news.load();
  std::mt19937 rng(1);
  for (int step = 0; step < 100'000; ++step) {
    const int k = static_cast<int>(rng() % 2000);
    if (m.size() < 1000 && (rng() & 1)) {
      m.emplace(k, step);
    } else if (!m.empty()) {
      m.erase(m.begin());
    }
  }
#if defined(HFT_TEST_COUNTS_NEW)
  REQUIRE(g_news.load() == news_before);  // not one call to operator new
#else
  (void)news_before;
#endif
  REQUIRE(set->slab_count() == slabs);
}
