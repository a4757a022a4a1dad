// bench_analytics: streaming statistics and the blocking queue next to their anchors.
//   - ns per update (one thread, pinned): RollingStats (window 1,024) vs Boost.Accumulators
//     rolling_mean + rolling_variance (same window) vs a naive recomputation; EMA; SMA;
//     VWAP; SlidingMedian and SortedWindowMedian (1,024; and 16 to 65,536) vs a naive
//     nth_element; P2Quantile; StreamingMedian.
//   - BlockingQueue: 1 producer -> 1 consumer throughput and a ping-pong hand-off (two
//     queues, half the round trip) next to std::mutex + std::condition_variable +
//     std::deque and TBB's concurrent_bounded_queue. Two threads on the two cores; they
//     sleep when they have to wait (that is the point of these queues).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <tbb/concurrent_queue.h>
#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/rolling_mean.hpp>
#include <boost/accumulators/statistics/rolling_variance.hpp>
#include <boost/accumulators/statistics/stats.hpp>

#include "harness.hpp"
#include "hft/metrics/moving_average.hpp"
#include "hft/metrics/p2_quantile.hpp"
#include "hft/metrics/rolling_stats.hpp"
#include "hft/metrics/sliding_median.hpp"
#include "hft/metrics/streaming_median.hpp"
#include "hft/queue/blocking_queue.hpp"
#include "hft/trading/vwap.hpp"

namespace {
using hft::bench::do_not_optimize;
using hft::bench::Metrics;
using clk = std::chrono::steady_clock;
namespace acc = boost::accumulators;

constexpr std::size_t kWindow = 1024;

std::vector<double> make_series(std::size_t n) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> d(100.0, 2.0);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// The conventional blocking queue.
template <class T>
class MutexDequeQueue {
 public:
  explicit MutexDequeQueue(std::size_t cap) : capacity_(cap) {}
  void push(T v) {
    std::unique_lock l(mutex_);
    not_full_.wait(l, [&] { return q_.size() < capacity_; });
    q_.push_back(v);
    l.unlock();
    not_empty_.notify_one();
  }
  T pop() {
    std::unique_lock l(mutex_);
    not_empty_.wait(l, [&] { return !q_.empty(); });
    T v = q_.front();
    q_.pop_front();
    l.unlock();
    not_full_.notify_one();
    return v;
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> q_;
};

struct HftQ {
  hft::BlockingQueue<std::uint64_t> q{1024};
  void push(std::uint64_t v) { (void)q.push(v); }
  std::uint64_t pop() { return *q.pop(); }
};
struct MutexQ {
  MutexDequeQueue<std::uint64_t> q{1024};
  void push(std::uint64_t v) { q.push(v); }
  std::uint64_t pop() { return q.pop(); }
};
struct TbbQ {
  TbbQ() { q.set_capacity(1024); }
  tbb::concurrent_bounded_queue<std::uint64_t> q;
  void push(std::uint64_t v) { q.push(v); }
  std::uint64_t pop() {
    std::uint64_t v = 0;  // tbb's pop assigns it; g++ 12 cannot see that through the wait
    q.pop(v);
    return v;
  }
};

template <class Q>
Metrics throughput(std::uint64_t n, const hft::bench::Options& o) {
  Q q;
  std::thread consumer([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += q.pop();
    do_not_optimize(sum);
  });
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n; ++i) q.push(i);
  consumer.join();
  const double s = std::chrono::duration<double>(clk::now() - t0).count();
  return {{"", static_cast<double>(n) / s / 1e6}};
}

template <class Q>
Metrics handoff(std::uint64_t n, const hft::bench::Options& o) {
  Q ping, pong;
  std::thread echo([&] {
    hft::bench::pin_this_thread(o.cpus[1]);
    for (std::uint64_t i = 0; i < n; ++i) pong.push(ping.pop());
  });
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    ping.push(i);
    do_not_optimize(pong.pop());
  }
  echo.join();
  return {{"", std::chrono::duration<double, std::nano>(clk::now() - t0).count() / static_cast<double>(n) / 2.0}};
}
}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_analytics", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    const std::size_t n = opts.quick ? 100'000 : 2'000'000;
    const std::vector<double> xs = make_series(n);
    suite.note("per-update costs: one thread; windows of 1,024; a normal(100, 2) series");
    suite.note("queues: 1 producer + 1 consumer on the two cores, capacity 1,024; they sleep when waiting");

    suite.add_case(
        "rolling_mean_variance", {{"", "ns/update", false}},
        {
            {"hft::RollingStats (+ min/max)",
             [&] {
               auto r = hft::RollingStats::count_window(kWindow);
               return hft::bench::time_calls(n, [&](std::size_t i) {
                 r.add(xs[i]);
                 do_not_optimize(r.mean());
                 do_not_optimize(r.variance());
               });
             }},
            {"hft::RollingStats (no min/max)",
             [&] {
               auto r = hft::RollingStats::count_window(kWindow, hft::RollingStats::Extremes::No);
               return hft::bench::time_calls(n, [&](std::size_t i) {
                 r.add(xs[i]);
                 do_not_optimize(r.mean());
                 do_not_optimize(r.variance());
               });
             }},
            {"boost::accumulators rolling_mean+rolling_variance",
             [&] {
               acc::accumulator_set<double, acc::stats<acc::tag::rolling_mean, acc::tag::rolling_variance>> a(
                   acc::tag::rolling_window::window_size = kWindow);
               return hft::bench::time_calls(n, [&](std::size_t i) {
                 a(xs[i]);
                 do_not_optimize(acc::rolling_mean(a));
                 do_not_optimize(acc::rolling_variance(a));
               });
             }},
            {"naive recompute (window 1,024)",
             [&] {
               const std::size_t m = n / 100;  // O(window) each: fewer updates
               return hft::bench::time_calls(m, [&](std::size_t i) {
                 const std::size_t lo = i + 1 > kWindow ? i + 1 - kWindow : 0;
                 double s = 0;
                 for (std::size_t k = lo; k <= i; ++k) s += xs[k];
                 const double mean = s / static_cast<double>(i + 1 - lo);
                 double v = 0;
                 for (std::size_t k = lo; k <= i; ++k) v += (xs[k] - mean) * (xs[k] - mean);
                 do_not_optimize(mean);
                 do_not_optimize(v);
               });
             }},
        });
    suite.add_ratio("rolling_mean_variance", "hft::RollingStats (no min/max)",
                    "boost::accumulators rolling_mean+rolling_variance", hft::bench::Target::at_most(1.0 / 3.0),
                    "rolling mean+variance (same work): hft / Boost.Accumulators (target <= 0.33x, i.e. >= 3x)");

    suite.add_case("moving_average_vwap", {{"", "ns/update", false}},
                   {
                       {"hft::ExponentialMovingAverage (alpha)",
                        [&] {
                          auto e = hft::ExponentialMovingAverage::with_alpha(0.05);
                          return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(e.add(xs[i])); });
                        }},
                       {"hft::ExponentialMovingAverage (half-life)",
                        [&] {
                          auto e = hft::ExponentialMovingAverage::with_half_life(1'000'000);
                          return hft::bench::time_calls(
                              n, [&](std::size_t i) { do_not_optimize(e.add(xs[i], i * 1000)); });
                        }},
                       {"hft::SimpleMovingAverage (1,024)",
                        [&] {
                          hft::SimpleMovingAverage s(kWindow);
                          return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(s.add(xs[i])); });
                        }},
                       {"hft::Vwap",
                        [&] {
                          hft::Vwap v;
                          return hft::bench::time_calls(n, [&](std::size_t i) {
                            v.add(hft::Price::from_ticks(static_cast<std::int64_t>(xs[i] * 100)),
                                  hft::Qty(static_cast<std::int64_t>(i % 500 + 1)));
                            do_not_optimize(v.notional_ticks());
                          });
                        }},
                       {"hft::WindowedVwap (1 ms, 1,024)",
                        [&] {
                          hft::WindowedVwap v(kWindow, {.window_ns = 1'000'000});
                          return hft::bench::time_calls(n, [&](std::size_t i) {
                            v.add(hft::Price::from_ticks(static_cast<std::int64_t>(xs[i] * 100)),
                                  hft::Qty(static_cast<std::int64_t>(i % 500 + 1)), i * 1000);
                          });
                        }},
                   });

    suite.add_case("median", {{"", "ns/update", false}},
                   {
                       {"hft::SlidingMedian (1,024)",
                        [&] {
                          hft::SlidingMedian m(kWindow);
                          return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add(xs[i])); });
                        }},
                       {"hft::SortedWindowMedian (1,024)",
                        [&] {
                          hft::SortedWindowMedian m(kWindow);
                          return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add(xs[i])); });
                        }},
                       {"naive nth_element (1,024)",
                        [&] {
                          std::vector<double> buf(kWindow);
                          const std::size_t m = n / 20;
                          return hft::bench::time_calls(m, [&](std::size_t i) {
                            const std::size_t lo = i + 1 > kWindow ? i + 1 - kWindow : 0;
                            const std::size_t len = i + 1 - lo;
                            std::copy(xs.begin() + static_cast<std::ptrdiff_t>(lo),
                                      xs.begin() + static_cast<std::ptrdiff_t>(i + 1), buf.begin());
                            std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len / 2),
                                             buf.begin() + static_cast<std::ptrdiff_t>(len));
                            do_not_optimize(buf[len / 2]);
                          });
                        }},
                       {"hft::P2Quantile (0.5)",
                        [&] {
                          hft::P2Quantile q(0.5);
                          return hft::bench::time_calls(n, [&](std::size_t i) {
                            q.add(xs[i]);
                            do_not_optimize(q.value());
                          });
                        }},
                       {"hft::StreamingMedian (all-time)",
                        [&] {
                          hft::StreamingMedian m;
                          m.reserve(n);
                          return hft::bench::time_calls(n, [&](std::size_t i) {
                            m.add(xs[i]);
                            do_not_optimize(m.median());
                          });
                        }},
                   });

    // Where the two exact structures cross over: the sorted array's move grows with the
    // window, the heaps' sifts with its logarithm.
    {
      std::vector<hft::bench::Impl> impls;
      // A random walk of whole ticks (the shape of a price series) at a tiny window: the one
      // place the sorted array's short moves beat the heaps on this machine.
      auto walk = std::make_shared<std::vector<double>>(xs.size());
      double p = 100.0;
      std::mt19937_64 wrng(13);
      for (double& x : *walk) x = p += static_cast<double>(wrng() % 3) - 1.0;
      impls.push_back({"hft::SlidingMedian (8, walk)", [&, walk] {
                         hft::SlidingMedian m(8);
                         return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add((*walk)[i])); });
                       }});
      impls.push_back({"hft::SortedWindowMedian (8, walk)", [&, walk] {
                         hft::SortedWindowMedian m(8);
                         return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add((*walk)[i])); });
                       }});
      for (const std::size_t w : {8u, 16u, 64u, 256u, 65'536u}) {
        const std::string ws = w == 65'536u ? "65,536" : std::to_string(w);
        impls.push_back({"hft::SlidingMedian (" + ws + ")", [&, w] {
                           hft::SlidingMedian m(w);
                           return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add(xs[i])); });
                         }});
        impls.push_back({"hft::SortedWindowMedian (" + ws + ")", [&, w] {
                           hft::SortedWindowMedian m(w);
                           return hft::bench::time_calls(n, [&](std::size_t i) { do_not_optimize(m.add(xs[i])); });
                         }});
      }
      suite.add_case("median_windows", {{"", "ns/update", false}}, std::move(impls));
    }

    const std::uint64_t qn = opts.quick ? 50'000 : 500'000;
    suite.add_case("blocking_queue_throughput", {{"", "M items/s", true}},
                   {
                       {"hft::BlockingQueue", [&] { return throughput<HftQ>(qn, opts); }},
                       {"std::mutex+condvar+deque", [&] { return throughput<MutexQ>(qn, opts); }},
                       {"tbb::concurrent_bounded_queue", [&] { return throughput<TbbQ>(qn, opts); }},
                   });
    suite.add_ratio("blocking_queue_throughput", "hft::BlockingQueue", "tbb::concurrent_bounded_queue",
                    hft::bench::Target::at_least(1.0),
                    "BlockingQueue throughput: hft / TBB concurrent_bounded_queue (target >= 1.0x)");
    const std::uint64_t hn = opts.quick ? 2'000 : 20'000;  // each hop is a futex wake-up: ~40 us here
    suite.add_case("blocking_queue_handoff", {{"", "ns (one way)", false}},
                   {
                       {"hft::BlockingQueue", [&] { return handoff<HftQ>(hn, opts); }},
                       {"std::mutex+condvar+deque", [&] { return handoff<MutexQ>(hn, opts); }},
                       {"tbb::concurrent_bounded_queue", [&] { return handoff<TbbQ>(hn, opts); }},
                   });
    for (const char* impl : {"hft::RollingStats (no min/max)", "hft::ExponentialMovingAverage (alpha)", "hft::Vwap"}) {
      const std::string c =
          std::string(impl).find("RollingStats") != std::string::npos ? "rolling_mean_variance" : "moving_average_vwap";
      suite.add_absolute(c, impl, hft::bench::Target::at_most(10.0), std::string(impl) + " update");
    }
    suite.add_absolute("median", "hft::SlidingMedian (1,024)", hft::bench::Target::at_most(60.0),
                       "SlidingMedian (1,024) update");
    suite.add_ratio("median", "hft::SlidingMedian (1,024)", "hft::SortedWindowMedian (1,024)",
                    hft::bench::Target::at_most(1.0), "SlidingMedian / SortedWindowMedian at 1,024 (ns: lower wins)");
    suite.run_and_report();
  });
}
