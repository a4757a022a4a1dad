// "No heap allocation per request after warm-up on the server's path": counts operator new
// on server threads only (marked through ServerConfig::on_thread_start) while the load
// generator, in the same process, allocates freely. Its own binary: it replaces operator new.
#include <atomic>
#include <cstdlib>
#include <new>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "fix_loadgen.hpp"
#include "loadgen.hpp"
#include "server.hpp"

#include "../support/counting_new.hpp"

TEST_CASE("after warm-up the server allocates nothing per request, over many families", "[e2e][alloc]") {
  // Without a journal, and with one (records appended, the dedup window, replies held
  // for the group commit under batch).
  const int journal = GENERATE(0, 1, 2);
  CAPTURE(journal);
  hft::test::TempDir dir;
  mini_oms::ServerConfig c;
  if (journal != 0) {
    c.journal_dir = dir.path();
    c.durability = journal == 1 ? hft::Durability::none : hft::Durability::batch;
  }
  c.ring_size = 1024;
  c.family_table = 1024;                   // small: the run also exercises family eviction
  hft::test::g_count_this_thread = false;  // this thread runs the load generator: not counted
  c.on_thread_start = [] { hft::test::g_count_this_thread = true; };
  mini_oms::Server s(c);
  s.start();
  auto load = [&](const char* scenario, std::uint64_t n, std::uint64_t base) {
    mini_oms::LoadConfig l;
    l.port = s.port();
    l.scenario = scenario;
    l.requests = n;
    l.id_base = base;
    l.connections = 2;
    return mini_oms::run_load(l);
  };
  // Warm-up: every symbol seen, every worker's histogram made, connection buffers made.
  REQUIRE(load("mixed", 5000, 1).violations == 0);
  s.log().main().flush();  // a warm-up line's first formatting (the log's thread) happens now
  const long before = hft::test::g_news.load();
  const std::uint64_t n = hft::test::scaled(60'000) < 2000 ? 2000 : hft::test::scaled(60'000);
  const auto r1 = load("mixed", n, 10'000'000);  // 1,000 families per run
  const auto r2 = load("uncorrelated", n, 20'000'000);
  const auto r3 = load("mixed", n, 30'000'000);  // new families: evictions
  const long after = hft::test::g_news.load();
  CHECK(r1.violations + r2.violations + r3.violations == 0);
  s.stop();
  const std::uint64_t evicted = s.counter(mini_oms::Count::FamiliesEvicted);
  CHECK(evicted > 0);
  INFO("server-thread allocations during " << 3 * n << " requests: " << after - before);
  HFT_CHECK_NO_NEW(before, after);
}

// The FIX port: a connection's session is made at accept (and a CompID's state at its first
// logon), so the claim is per message: a run of 3n orders over the same number of
// connections allocates exactly what a run of n does.
TEST_CASE("after warm-up the FIX port allocates nothing per message", "[e2e][alloc][fix]") {
  // Without a journal, and with one: each message then appends to its session's store
  // journal, and each order its admission and outcome records. A segment roll allocates
  // (its file name; 4 MiB segments roll every ~7,000 orders per session), so the segments
  // here hold the whole run (~25 MB per session).
  const bool journal = GENERATE(false, true);
  CAPTURE(journal);
  hft::test::TempDir dir;
  mini_oms::ServerConfig c;
  if (journal) {
    c.journal_dir = dir.path();
    c.fix_journal_segment = std::size_t{64} << 20;
  }
  c.ring_size = 1024;
  c.family_table = 1024;
  c.fix_port = 0;
  hft::test::g_count_this_thread = false;
  c.on_thread_start = [] { hft::test::g_count_this_thread = true; };
  mini_oms::Server s(c);
  s.start();
  std::uint64_t ids = 1;
  auto load = [&](std::uint64_t n) {
    mini_oms::FixLoadConfig f;
    f.port = s.fix_port();
    f.connections = 2;
    f.orders = n;
    f.id_base = ids;
    ids += n;
    const long before = hft::test::g_news.load();
    const mini_oms::LoadResult r = mini_oms::run_fix_load(f);
    INFO((r.samples.empty() ? std::string() : r.samples.front()));
    CHECK(r.violations == 0);
    CHECK(r.replies == n);
    return hft::test::g_news.load() - before;
  };
  (void)load(5000);  // warm-up: both CompIDs' state, every symbol, the worker's histograms
  // The log's backend thread (counted too: every thread but this one is) takes up the I/O
  // thread's ring and grows its line buffers when it writes the warm-up's first lines (the
  // FIX disconnects), asynchronously: flush so that happens in the warm-up.
  s.log().main().flush();
  const std::uint64_t n = hft::test::scaled(20'000) < 2000 ? 2000 : hft::test::scaled(20'000);
  const long small = load(n);
  const long large = load(3 * n);
  s.stop();
#ifdef HFT_TEST_COUNTS_NEW
  INFO("server-thread allocations: " << small << " for " << n << " orders, " << large << " for " << 3 * n);
  CHECK(large == small);
#else
  (void)small;
  (void)large;
#endif
}
