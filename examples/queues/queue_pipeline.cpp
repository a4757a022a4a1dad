// queue_pipeline: the README's demo until the mini-OMS lands.
//
// Stage 1: an "I/O thread" hands 5M order ids to a "worker" through an SpscQueue; the
//          worker checks that every id arrives once, in order, and reports throughput.
// Stage 2: the same hand-off measured as a round trip (request there, reply back on a
//          second queue): the latency an I/O thread -> worker -> I/O thread pipeline adds.
// Stage 3: two "I/O threads" share one MpscQueue to a dispatcher; a full queue is
//          answered at once (as the mini-OMS answers REJ:BUSY) and counted, never lost.
// Flags: --quick (smaller counts, for CI).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "hft/hft.hpp"

namespace {

using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

bool stage_throughput(std::uint64_t n) {
  hft::SpscQueue<std::uint64_t> q(4096);
  const auto t0 = clk::now();
  std::thread io([&] {
    for (std::uint64_t id = 0; id < n; ++id) q.push(id);
  });
  std::uint64_t expected = 0, out_of_order = 0;
  while (expected < n) {
    q.consume([&](std::uint64_t id) { out_of_order += (id != expected++); });
  }
  io.join();
  const double ms = ms_since(t0);
  std::printf("  1. SPSC hand-off      %9llu orders in %7.1f ms  = %6.1f M orders/s   %s\n",
              static_cast<unsigned long long>(n), ms, static_cast<double>(n) / ms / 1e3,
              out_of_order == 0 ? "every order once, in order" : "ORDER VIOLATED");
  return out_of_order == 0;
}

bool stage_round_trip(std::size_t n) {
  hft::SpscQueue<std::uint64_t> to_worker(64), to_io(64);
  std::vector<double> rtt_ns(n);
  std::thread worker([&] {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t* req;
      while ((req = to_worker.front()) == nullptr) hft::cpu_relax();
      const std::uint64_t reply = *req + 1;
      to_worker.pop();
      to_io.push(reply);
    }
  });
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = clk::now();
    to_worker.push(i);
    std::uint64_t reply;
    while (!to_io.try_pop(reply)) hft::cpu_relax();
    rtt_ns[i] = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
    ok &= (reply == i + 1);
  }
  worker.join();
  std::sort(rtt_ns.begin(), rtt_ns.end());
  auto pct = [&](double p) {
    return rtt_ns[std::min(n - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(n)))];
  };
  std::printf("  2. round trip         %9zu requests: p50 %6.0f ns  p99 %6.0f ns  p99.9 %7.0f ns  max %8.0f ns\n", n,
              pct(50), pct(99), pct(99.9), rtt_ns.back());
  std::printf(
      "                        (timed with steady_clock, which adds its own ~20-40 ns; bench_queues uses the TSC)\n");
  return ok;
}

bool stage_mpsc_busy(std::uint64_t per_thread) {
  hft::MpscQueue<std::uint64_t> q(1024);
  std::atomic<std::uint64_t> busy{0};
  std::atomic<int> done{0};
  auto io_thread = [&](std::uint64_t base) {
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      if (!q.try_push(base + i)) busy.fetch_add(1, std::memory_order_relaxed);  // REJ:BUSY
    }
    done.fetch_add(1, std::memory_order_release);
  };
  const auto t0 = clk::now();
  std::thread a(io_thread, 0), b(io_thread, std::uint64_t{1} << 40);
  std::uint64_t accepted = 0;
  std::uint64_t last[2] = {0, 0};
  bool first[2] = {true, true};
  bool in_order = true;
  // A deliberately slow dispatcher (every 64 items it yields) so the queue fills up.
  for (;;) {
    const bool producers_done = done.load(std::memory_order_acquire) == 2;
    const std::size_t k = q.consume(
        [&](std::uint64_t v) {
          const int p = static_cast<int>(v >> 40);
          if (!first[p] && v <= last[p]) in_order = false;
          first[p] = false;
          last[p] = v;
        },
        64);
    accepted += k;
    if (k == 0 && producers_done) break;
    std::this_thread::yield();
  }
  a.join();
  b.join();
  const double ms = ms_since(t0);
  const std::uint64_t total = 2 * per_thread;
  const bool ok = in_order && accepted + busy.load() == total;
  std::printf("  3. MPSC, 2 I/O threads %8llu requests in %7.1f ms: %llu accepted, %llu answered BUSY at once; %s\n",
              static_cast<unsigned long long>(total), ms, static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(busy.load()),
              ok ? "accepted + busy == sent, per-thread order kept" : "MISMATCH");
  return ok;
}

}  // namespace

int main(int argc, char** argv) try {
  bool quick = false;
  hft::cli::Parser cli("queue_pipeline", "[options]",
                       "Three stages of an I/O thread -> worker pipeline on hft's queues: SPSC throughput,\n"
                       "the SPSC round trip, and two producers on one MPSC queue answering BUSY when full.");
  cli.flag("--quick", quick, "smaller counts (CI's smoke run)");
  cli.parse(argc, argv);
  std::printf("hft %d.%d.%d queue pipeline demo (%u CPUs)\n", hft::version_major, hft::version_minor,
              hft::version_patch, std::thread::hardware_concurrency());
  bool ok = stage_throughput(quick ? 200'000 : 5'000'000);
  ok &= stage_round_trip(quick ? 10'000 : 200'000);
  ok &= stage_mpsc_busy(quick ? 50'000 : 1'000'000);
  std::printf("%s\n", ok ? "demo OK" : "demo FAILED");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  return hft::cli::report_fatal("queue_pipeline", e);
}
