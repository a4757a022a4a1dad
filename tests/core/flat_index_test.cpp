#include "hft/core/flat_index.hpp"

#include <random>
#include <unordered_map>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

TEST_CASE("FlatIndex equals std::unordered_map under random insert/erase churn", "[flat_index]") {
  hft::FlatIndex idx(1000);
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 500'000; ++i) {
    // Keys from a small range so that inserts collide with live keys and erases hit.
    const std::uint64_t k = (rng() % 1500) * ((i % 2) ? 1 : 0x100000000ULL);
    if (rng() % 2) {
      const auto slot = static_cast<std::uint32_t>(rng() % 100000);
      const bool ok = idx.try_insert(k, slot);
      const bool want = ref.size() < 1000 && ref.count(k) == 0;
      REQUIRE(ok == want);
      if (want) ref[k] = slot;
    } else {
      const auto it = ref.find(k);
      REQUIRE(idx.erase(k) == (it == ref.end() ? hft::FlatIndex::npos : it->second));
      if (it != ref.end()) ref.erase(it);
    }
    REQUIRE(idx.size() == ref.size());
    if (i % 1000 == 0) {
      for (const auto& [key, slot] : ref) REQUIRE(idx.find(key) == slot);
    }
  }
  idx.clear();
  CHECK(idx.size() == 0);
  CHECK(idx.find(0) == hft::FlatIndex::npos);
  CHECK_THROWS_AS(hft::FlatIndex(0), std::invalid_argument);
}

TEST_CASE("FlatIndex lifecycle contract: move-only, limits 1 and 2^30", "[flat_index][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::FlatIndex, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::FlatIndex>([] { return hft::FlatIndex(4); },
                                               [](hft::FlatIndex& f) {
                                                 (void)f.try_insert(12345, 1);  // absent in a fresh index
                                                 REQUIRE(f.find(12345) == 1);
                                               });
  hft::FlatIndex one(1);
  CHECK(one.try_insert(7, 0));
  CHECK_FALSE(one.try_insert(8, 1));  // full
  CHECK(one.erase(7) == 0);
  CHECK(one.try_insert(8, 1));
  CHECK_THROWS_AS(hft::FlatIndex(0), std::invalid_argument);
  CHECK_THROWS_AS(hft::FlatIndex((std::size_t{1} << 30) + 1), std::invalid_argument);
}
