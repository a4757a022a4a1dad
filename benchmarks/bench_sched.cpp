// bench_sched: costs of the scheduling/sync primitives. So far SeqLock and DoubleBuffer
// read/publish and RateLimiter::try_acquire; the FamilyScheduler cases (issue 6) join
// here when it lands. Single-threaded (uncontended) costs, pinned to the first --cpus CPU.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "harness.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/sync/double_buffer.hpp"
#include "hft/sync/seqlock.hpp"

namespace {
using hft::bench::Metrics;
using hft::bench::do_not_optimize;
using clk = std::chrono::steady_clock;

struct Quote {
  std::uint64_t bid_px, bid_qty, ask_px, ask_qty;
};

template <class F>
Metrics time_ns(std::uint64_t n, F&& f) {
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n; ++i) f(i);
  return {{"", std::chrono::duration<double, std::nano>(clk::now() - t0).count() / static_cast<double>(n)}};
}
}  // namespace

int main(int argc, char** argv) {
  return hft::bench::guarded_main([&] {
    const auto opts = hft::bench::parse_options(argc, argv);
    hft::bench::pin_this_thread(opts.cpus[0]);
    hft::bench::Suite suite("bench_sched", opts);
    const std::uint64_t n = opts.quick ? 200'000 : 10'000'000;
    suite.note("uncontended, one thread: the cost of the operation itself");

    hft::SeqLock<Quote> seq(Quote{1, 2, 3, 4});
    std::mutex m;
    Quote guarded{1, 2, 3, 4};
    suite.add_case("read_32B_state", {{"", "ns/op", false}},
                   {
                       {"hft::SeqLock::load", [&] { return time_ns(n, [&](std::uint64_t) { do_not_optimize(seq.load()); }); }},
                       {"std::mutex + copy",
                        [&] {
                          return time_ns(n, [&](std::uint64_t) {
                            std::lock_guard lock(m);
                            do_not_optimize(guarded);
                          });
                        }},
                   });
    suite.add_case("publish_32B_state", {{"", "ns/op", false}},
                   {
                       {"hft::SeqLock::store",
                        [&] { return time_ns(n, [&](std::uint64_t i) { seq.store(Quote{i, i, i, i}); }); }},
                   });

    hft::DoubleBuffer<std::map<std::string, std::uint64_t>> table(
        std::map<std::string, std::uint64_t>{{"AAPL", 1}, {"MSFT", 2}, {"GOOG", 3}});
    suite.add_case("doublebuffer", {{"", "ns/op", false}},
                   {
                       {"hft::DoubleBuffer::read (map lookup)",
                        [&] {
                          return time_ns(n, [&](std::uint64_t) {
                            do_not_optimize(table.read([](const auto& t) { return t.find("MSFT")->second; }));
                          });
                        }},
                       {"hft::DoubleBuffer::modify (map update, x2)",
                        [&] {
                          return time_ns(n / 20, [&](std::uint64_t i) { table.modify([i](auto& t) { t["AAPL"] = i; }); });
                        }},
                   });

    suite.add_case("rate_limiter", {{"", "ns/op", false}},
                   {
                       {"hft::RateLimiter::try_acquire",
                        [&] {
                          hft::RateLimiter rl(1'000'000'000, 1'000'000, 0);
                          return time_ns(n, [&](std::uint64_t i) { do_not_optimize(rl.try_acquire(1, i)); });
                        }},
                       {"hft::ThreadSafeRateLimiter::try_acquire",
                        [&] {
                          hft::ThreadSafeRateLimiter rl(1'000'000'000, 1'000'000, 0);
                          return time_ns(n, [&](std::uint64_t i) { do_not_optimize(rl.try_acquire(1, i)); });
                        }},
                   });
    suite.run();
    suite.print();
    std::printf("\nTarget (issue 6): SeqLock read <= 3 ns uncontended: the hft::SeqLock::load row.\n");
    suite.write_json();
    return 0;
  });
}
