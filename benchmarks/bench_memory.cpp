// bench_memory: ReusePool, MemoryArena and ReusePoolAllocator next to glibc malloc,
// boost::pool / boost::object_pool and std::pmr. Single-threaded, pinned to the first
// --cpus CPU. See docs/memory.md.
#include <boost/pool/object_pool.hpp>
#include <boost/pool/pool.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory_resource>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"
#include "hft/memory/memory_arena.hpp"
#include "hft/memory/reuse_pool.hpp"
#include "hft/memory/reuse_pool_allocator.hpp"

namespace {

using hft::bench::do_not_optimize;
using hft::bench::Metrics;

// A user-provided constructor that leaves the bytes alone: `T()` would otherwise
// value-initialise (zero-fill) the object, which raw allocators like boost::pool::malloc
// never do. Every implementation then does the same work: allocate, write one byte.
template <std::size_t N>
struct Obj {
  Obj() noexcept {}
  unsigned char bytes[N];
};

constexpr std::uint64_t kPairs = 2'000'000;

// ---- allocate+free pairs -------------------------------------------------------------------

template <std::size_t N>
std::vector<hft::bench::Impl> pair_impls() {
  return {
      {"hft::ReusePool",
       [] {
         hft::ReusePool<Obj<N>> pool(1024);
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           Obj<N>* p = pool.create();
           p->bytes[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           pool.destroy(p);
         });
       }},
      {"hft::MemoryArena (bump; reset per 1024)",
       [] {
         hft::MemoryArena arena(1024 * N + 4096);
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           void* p = arena.try_allocate(N, alignof(Obj<N>));
           static_cast<unsigned char*>(p)[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           if ((i & 1023) == 1023) arena.reset();
         });
       }},
      {"glibc malloc/free",
       [] {
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           auto* p = static_cast<unsigned char*>(std::malloc(N));
           p[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           std::free(p);
         });
       }},
      {"boost::pool",
       [] {
         boost::pool<> pool(N);
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           auto* p = static_cast<unsigned char*>(pool.malloc());
           p[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           pool.free(p);
         });
       }},
      {"boost::object_pool",
       [] {
         boost::object_pool<Obj<N>> pool;
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           Obj<N>* p = pool.construct();
           p->bytes[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           pool.destroy(p);
         });
       }},
      {"std::pmr::unsynchronized_pool_resource",
       [] {
         std::pmr::unsynchronized_pool_resource res;
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           auto* p = static_cast<unsigned char*>(res.allocate(N, alignof(Obj<N>)));
           p[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           res.deallocate(p, N, alignof(Obj<N>));
         });
       }},
      {"std::pmr::monotonic_buffer_resource (release per 1024)",
       [] {
         std::vector<std::byte> buf(1024 * N + 4096);
         std::pmr::monotonic_buffer_resource res(buf.data(), buf.size(), std::pmr::null_memory_resource());
         return hft::bench::time_calls(kPairs, [&](std::uint64_t i) {
           auto* p = static_cast<unsigned char*>(res.allocate(N, alignof(Obj<N>)));
           p[0] = static_cast<unsigned char>(i);
           do_not_optimize(p);
           if ((i & 1023) == 1023) res.release();
         });
       }},
  };
}

// ---- 1024 allocations, then 1024 frees in a given order -----------------------------------

enum class Order { Lifo, Fifo, Random };

std::vector<std::size_t> free_order(Order o) {
  std::vector<std::size_t> idx(1024);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  if (o == Order::Lifo) std::reverse(idx.begin(), idx.end());
  if (o == Order::Random) std::shuffle(idx.begin(), idx.end(), std::mt19937_64(42));
  return idx;
}

template <class Alloc, class Free>
double batch_cycle(const std::vector<std::size_t>& order, int rounds, Alloc alloc, Free free_fn) {
  std::vector<void*> ptrs(order.size());
  const double per_round = hft::bench::ns_per_call(static_cast<std::uint64_t>(rounds), [&](std::uint64_t) {
    for (auto& p : ptrs) p = alloc();
    for (std::size_t i : order) free_fn(ptrs[i]);
  });
  return per_round / static_cast<double>(order.size());
}

std::vector<hft::bench::Impl> order_impls(Order o, bool include_object_pool) {
  const auto order = free_order(o);
  constexpr int rounds = 400;
  std::vector<hft::bench::Impl> v = {
      {"hft::ReusePool",
       [order] {
         hft::ReusePool<Obj<64>> pool(1024);
         return Metrics{{"", batch_cycle(
                                 order, rounds, [&] { return static_cast<void*>(pool.create()); },
                                 [&](void* p) { pool.destroy(static_cast<Obj<64>*>(p)); })}};
       }},
      {"glibc malloc/free",
       [order] {
         return Metrics{{"", batch_cycle(
                                 order, rounds, [] { return std::malloc(64); }, [](void* p) { std::free(p); })}};
       }},
      {"boost::pool",
       [order] {
         boost::pool<> pool(64);
         return Metrics{{"", batch_cycle(
                                 order, rounds, [&] { return pool.malloc(); }, [&](void* p) { pool.free(p); })}};
       }},
      {"std::pmr::unsynchronized_pool_resource",
       [order] {
         std::pmr::unsynchronized_pool_resource res;
         return Metrics{
             {"", batch_cycle(
                      order, rounds, [&] { return res.allocate(64, 8); }, [&](void* p) { res.deallocate(p, 64, 8); })}};
       }},
  };
  if (include_object_pool) {
    v.push_back({"boost::object_pool (destroy is O(n))", [order] {
                   boost::object_pool<Obj<64>> pool;
                   return Metrics{{"", batch_cycle(
                                           order, 20, [&] { return static_cast<void*>(pool.construct()); },
                                           [&](void* p) { pool.destroy(static_cast<Obj<64>*>(p)); })}};
                 }});
  }
  return v;
}

// ---- std::map churn ------------------------------------------------------------------------

// A book-sized map (~256 live keys): alternately insert a random key and erase the
// first key >= another random one, so the size hovers and every op allocates or frees.
template <class Map>
double map_churn(Map& m) {
  std::mt19937 rng(7);
  constexpr int key_range = 512;
  while (m.size() < 256) m.emplace(static_cast<int>(rng() % key_range), 0);  // warm-up
  constexpr std::uint64_t ops = 2'000'000;
  const double ns = hft::bench::ns_per_call(ops, [&](std::uint64_t i) {
    const int k = static_cast<int>(rng() % key_range);
    if (i & 1) {
      auto it = m.lower_bound(k);
      m.erase(it == m.end() ? m.begin() : it);
    } else {
      m.emplace(k, static_cast<int>(i));
    }
  });
  do_not_optimize(m.size());
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_memory", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    suite.note("single thread pinned to CPU " + std::to_string(opts.cpus[0]) +
               "; every allocation writes one byte so it cannot be elided");
    suite.add_case("pair_16B", {{"", "ns/pair", false}}, pair_impls<16>());
    suite.add_case("pair_64B", {{"", "ns/pair", false}}, pair_impls<64>());
    suite.add_case("pair_256B", {{"", "ns/pair", false}}, pair_impls<256>());
    suite.add_case("batch1024_lifo_64B", {{"", "ns/(alloc+free)", false}}, order_impls(Order::Lifo, true));
    suite.add_case("batch1024_fifo_64B", {{"", "ns/(alloc+free)", false}}, order_impls(Order::Fifo, true));
    suite.add_case("batch1024_random_64B", {{"", "ns/(alloc+free)", false}}, order_impls(Order::Random, true));
    suite.add_case("map_churn", {{"", "ns/op", false}},
                   {
                       {"std::map + hft::ReusePoolAllocator",
                        [] {
                          std::map<int, int, std::less<>, hft::ReusePoolAllocator<std::pair<const int, int>>> m;
                          return Metrics{{"", map_churn(m)}};
                        }},
                       {"std::map + std::allocator",
                        [] {
                          std::map<int, int> m;
                          return Metrics{{"", map_churn(m)}};
                        }},
                       {"std::pmr::map + unsynchronized_pool_resource",
                        [] {
                          std::pmr::unsynchronized_pool_resource res;
                          std::pmr::map<int, int> m(&res);
                          return Metrics{{"", map_churn(m)}};
                        }},
                   });
    // "x times faster": anchor time / our time, per round.
    for (const char* c : {"pair_16B", "pair_64B", "pair_256B"}) {
      suite.add_ratio(c, "glibc malloc/free", "hft::ReusePool", hft::bench::Target::at_least(5.0),
                      std::string(c) + ": malloc time / ReusePool time");
      suite.add_ratio(c, "boost::pool", "hft::ReusePool", hft::bench::Target::at_least(1.2),
                      std::string(c) + ": boost::pool time / ReusePool time");
    }
    suite.add_ratio("map_churn", "std::map + std::allocator", "std::map + hft::ReusePoolAllocator",
                    hft::bench::Target::at_least(1.5), "map churn: std::allocator time / ReusePoolAllocator time");
    for (const char* c : {"batch1024_fifo_64B", "batch1024_random_64B"}) {
      suite.add_ratio(c, "hft::ReusePool", "hft::ReusePool", hft::bench::Target::at_most(1.5),
                      std::string(c) + ": ReusePool / its LIFO time (order independence)", "batch1024_lifo_64B");
    }
    for (const char* c : {"pair_16B", "pair_64B", "pair_256B"}) {
      suite.add_absolute(c, "hft::MemoryArena (bump; reset per 1024)", hft::bench::Target::at_most(1.5),
                         std::string(c) + ": MemoryArena bump");
    }
    suite.run_and_report();
  });
}
