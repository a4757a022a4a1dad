#include "hft/trading/market_data_generator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/catch.hpp"
#include "../support/contract.hpp"

using hft::MdType;
using hft::Side;

namespace {
// One message applied to an L3 book, as a feed handler would.
hft::BookUpdate apply(hft::OrderBookL3& book, const hft::MdMessage& m) {
  switch (m.type) {
    case MdType::Add:
      return book.add_order(m.id, m.side, m.price, m.qty);
    case MdType::Cancel:
      return book.cancel(m.id, m.qty);
    case MdType::Execute:
      return book.execute(m.id, m.qty);
    case MdType::Delete:
      return book.delete_order(m.id);
    case MdType::Replace:
      return book.replace(m.id, m.new_id, m.price, m.qty);
  }
  return {hft::BookError::InvalidQty, false};  // not an MdType: the generator never makes one
}
}  // namespace

TEST_CASE("the generator's engine is std::mt19937_64, output for output", "[mdgen]") {
  // The header carries its own MT19937-64 so that it need not include <random>: the streams,
  // and every recorded .bin file and benchmark input, must not change because of it.
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{5489}, std::uint64_t{42},
                                   ~std::uint64_t{0}}) {
    INFO("seed " << seed);
    hft::detail::Mt19937_64 ours(seed);
    std::mt19937_64 ref(seed);
    for (int i = 0; i < 2000; ++i) REQUIRE(ours() == ref());  // crosses six twists
  }
  hft::detail::Mt19937_64 std_default(5489);
  for (int i = 1; i < 10000; ++i) (void)std_default();
  CHECK(std_default() == 9981545732273789042ULL);  // [rand.predef]: the 10000th output
}

TEST_CASE("the synthetic stream is deterministic, valid, and shaped like a real feed", "[mdgen]") {
  hft::MarketDataGenerator a(99), b(99), c(100);
  std::vector<hft::MdMessage> msgs;
  hft::OrderBookL3 book(100'000);
  std::size_t counts[5] = {}, near_touch_adds = 0, adds = 0, sweeps = 0, differs = 0;
  hft::MdType prev_type = MdType::Add;
  std::int64_t prev_exec_price = 0;
  std::size_t exec_run = 0, exec_run_levels = 0;
  for (int i = 0; i < 200'000; ++i) {
    const auto m = a.next();
    const auto n = b.next();
    const auto o = c.next();
    REQUIRE(m == n);  // field by field: padding bytes are indeterminate
    differs += m != o;
    msgs.push_back(m);
    ++counts[static_cast<int>(m.type)];
    if (m.type == MdType::Add) {
      if (const auto best = book.l2().best(m.side)) {
        ++adds;
        if (std::llabs(m.price - best->price) <= 5) ++near_touch_adds;
      }
    }
    const hft::BookUpdate u = apply(book, m);
    REQUIRE(u.ok());
    REQUIRE_FALSE(book.l2().crossed());
    // A sweep: consecutive executions on one side across two or more prices.
    if (m.type == MdType::Execute && prev_type == MdType::Execute) {
      if (m.price.ticks() != prev_exec_price) ++exec_run_levels;
      ++exec_run;
    } else {
      if (exec_run >= 2 && exec_run_levels >= 1) ++sweeps;
      exec_run = 0;
      exec_run_levels = 0;
    }
    if (m.type == MdType::Execute) prev_exec_price = m.price.ticks();
    prev_type = m.type;
  }
  CHECK(differs > 100'000);  // another seed, another stream
  const std::size_t executes = counts[static_cast<int>(MdType::Execute)];
  const std::size_t cancels = counts[static_cast<int>(MdType::Cancel)] + counts[static_cast<int>(MdType::Delete)];
  INFO("adds " << counts[0] << " cancels " << counts[1] << " executes " << executes << " deletes " << counts[3]
               << " replaces " << counts[4] << " sweeps " << sweeps << " near-touch adds " << near_touch_adds << "/"
               << adds);
  CHECK(cancels > 3 * executes);
  CHECK(executes > 0);
  CHECK(counts[static_cast<int>(MdType::Replace)] > 0);
  CHECK(near_touch_adds * 10 > adds * 6);  // most adds within 5 ticks of their touch
  CHECK(sweeps > 20);

  const std::string path = "mdgen_test.bin";
  hft::MarketDataGenerator::write_file(path, msgs);
  const auto back = hft::MarketDataGenerator::read_file(path);
  REQUIRE(back.size() == msgs.size());
  CHECK(back == msgs);
  (void)std::remove(path.c_str());  // clean-up of a temp file
  CHECK_THROWS_AS(hft::MarketDataGenerator::read_file("/nonexistent/file"), std::runtime_error);
}

// Found by tests/fuzz/md_reader: the count was trusted, so a 16-byte file claiming 2^32 - 1
// records made read_file allocate ~200 GB before reading anything; trailing bytes and
// out-of-range enum values were accepted as data.
TEST_CASE("read_file refuses a count the file cannot hold, trailing bytes and bad enums", "[mdgen]") {
  const std::string path = "mdgen_bad_test.bin";
  const std::vector<hft::MdMessage> two = {
      {MdType::Add, hft::Side::Buy, hft::OrderId(1), hft::OrderId(0), hft::Price::from_ticks(100), hft::Qty(5)},
      {MdType::Delete, hft::Side::Buy, hft::OrderId(1), hft::OrderId(0), hft::Price{}, hft::Qty(0)}};
  auto bytes = [&](const std::vector<hft::MdMessage>& m) {
    hft::MarketDataGenerator::write_file(path, m);
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  auto put = [&](const std::string& b) { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; };
  auto refused = [&] {
    try {
      (void)hft::MarketDataGenerator::read_file(path);
      return false;
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).find("is not a valid HFTMD001 file") != std::string::npos;
    }
  };
  const std::string good = bytes(two);
  REQUIRE(hft::MarketDataGenerator::read_file(path) == two);
  SECTION("a count larger than the file") {
    std::string b = good;
    const std::uint64_t huge = (1ULL << 32) - 1;
    std::memcpy(b.data() + 8, &huge, sizeof huge);
    put(b);
    CHECK(refused());
    put(b.substr(0, 16));  // header only
    CHECK(refused());
  }
  SECTION("trailing bytes, or a record cut short") {
    put(good + "x");
    CHECK(refused());
    put(good.substr(0, good.size() - 1));
    CHECK(refused());
  }
  SECTION("a type or side that is not an enumerator") {
    auto bad = two;
    bad[1].type = static_cast<MdType>(5);
    (void)bytes(bad);
    CHECK(refused());
    bad = two;
    bad[0].side = static_cast<hft::Side>(2);
    (void)bytes(bad);
    CHECK(refused());
  }
  SECTION("an empty stream is valid") {
    (void)bytes({});
    CHECK(hft::MarketDataGenerator::read_file(path).empty());
  }
  (void)std::remove(path.c_str());  // clean-up of a temp file
}

TEST_CASE("write_file reports a failed flush: a full disk is an error, not a short file", "[mdgen][regression]") {
  // /dev/full accepts fopen and buffered fwrites, then fails the flush in fclose with
  // ENOSPC: the old code ignored fclose and returned as if the file were written.
  std::FILE* probe = std::fopen("/dev/full", "wb");
  REQUIRE(probe != nullptr);  // Linux always has it
  (void)std::fclose(probe);
  const std::vector<hft::MdMessage> few(3);
  CHECK_THROWS_AS(hft::MarketDataGenerator::write_file("/dev/full", few), std::runtime_error);
}

TEST_CASE("MarketDataGenerator lifecycle contract: move-only, a moved-from one may be assigned and reused",
          "[mdgen][lifecycle]") {
  using namespace hft::test::contract;
  STATIC_REQUIRE(copy_move_is<hft::MarketDataGenerator, Copy::No, Move::DestroyOrAssign>());
  moved_from_destroy_or_assign<hft::MarketDataGenerator>([] { return hft::MarketDataGenerator(42); },
                                                         [](hft::MarketDataGenerator& g) {
                                                           for (int i = 0; i < 100; ++i) (void)g.next();
                                                           REQUIRE(g.book().order_count() > 0);
                                                         });
}

TEST_CASE("the deep-book profile: hundreds to thousands of levels, a long distance tail, still valid", "[mdgen]") {
  const auto cfg = hft::MarketDataGeneratorConfig::deep_book();
  hft::MarketDataGenerator g(7, cfg);
  hft::MarketDataGenerator shallow(7);
  hft::OrderBookL3 book(cfg.target_live_orders * 4, cfg.max_levels);
  std::size_t far_adds = 0, adds = 0, far_adds_shallow = 0, adds_shallow = 0, near_touch = 0;
  std::size_t min_levels = SIZE_MAX, max_levels = 0;
  const int n = 400'000;
  for (int i = 0; i < n; ++i) {
    const auto m = g.next();
    if (m.type == MdType::Add) {
      if (const auto best = book.l2().best(m.side)) {
        ++adds;
        far_adds += std::llabs(m.price - best->price) >= 100;
        near_touch += std::llabs(m.price - best->price) <= 5;
      }
    }
    const hft::BookUpdate u = apply(book, m);
    REQUIRE(u.ok());
    REQUIRE_FALSE(book.l2().crossed());
    const auto s = shallow.next();
    if (s.type == MdType::Add) {
      if (const auto best = shallow.book().l2().best(s.side)) {
        ++adds_shallow;
        far_adds_shallow += std::llabs(s.price - best->price) >= 100;
      }
    }
    if (i >= n / 2) {  // after the build-up
      for (const Side side : {Side::Buy, Side::Sell}) {
        min_levels = std::min(min_levels, book.l2().level_count(side));
        max_levels = std::max(max_levels, book.l2().level_count(side));
      }
    }
  }
  INFO("levels per side " << min_levels << ".." << max_levels << ", adds >= 100 ticks away " << far_adds << "/" << adds
                          << " (default profile " << far_adds_shallow << "/" << adds_shallow << ")");
  CHECK(min_levels >= 200);
  CHECK(max_levels <= 2'000);
  CHECK(near_touch * 2 > adds);                                  // most adds still near the touch
  CHECK(far_adds * 100 > adds * 2);                              // but a long tail: >2% at 100+ ticks
  CHECK(far_adds * adds_shallow > 5 * far_adds_shallow * adds);  // far heavier than the default's
}

TEST_CASE("a generator config outside its domain is refused", "[mdgen]") {
  auto bad = [](auto edit) {
    hft::MarketDataGeneratorConfig c;
    edit(c);
    return c;
  };
  CHECK_THROWS_AS(hft::MarketDataGenerator(1, bad([](auto& c) { c.distance_exponent = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::MarketDataGenerator(1, bad([](auto& c) { c.target_live_orders = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::MarketDataGenerator(1, bad([](auto& c) { c.max_qty = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::MarketDataGenerator(1, bad([](auto& c) { c.max_distance = -1; })), std::invalid_argument);
  CHECK_NOTHROW(hft::MarketDataGenerator(1, bad([](auto& c) { c.max_distance = 0; })));  // limit: the touch only
}
