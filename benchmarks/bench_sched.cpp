// bench_sched: costs of the scheduling/sync primitives.
//   - FamilyScheduler overhead per task (submit + dispatch + run + complete, no-op work)
//     with 1 and 2 workers, next to the conventional design: std::mutex +
//     std::unordered_map<key, std::deque<task>> + a condition_variable ready queue.
//     Threads: the dispatcher (main) + 1 or 2 workers, so the 2-worker case runs three
//     threads on this 2-core VM; idle workers sleep (futex / condvar), none spins forever.
//   - Cold-family wait (submit -> start) p50/p99 with one worker, with and without a hot
//     family flooding, for slice sizes 1, 8 and 32: the fairness knob's effect.
//   - SeqLock / DoubleBuffer read and publish, RateLimiter::try_acquire: single-threaded
//     (uncontended) costs.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "harness.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/sched/worker_pool.hpp"
#include "hft/sync/double_buffer.hpp"
#include "hft/sync/seqlock.hpp"

namespace {
using hft::bench::do_not_optimize;
using hft::bench::Metrics;
using clk = std::chrono::steady_clock;

struct Quote {
  std::uint64_t bid_px, bid_qty, ask_px, ask_qty;
};

// ---- FamilyScheduler overhead -------------------------------------------------------
struct Task {
  std::uint64_t id;
  std::uint64_t submit_tick;
};
using Sched = hft::FamilyScheduler<Task>;
constexpr std::uint64_t kWindow = 4096;  // outstanding tasks, same for both designs

// The conventional design: one mutex over a map of per-family deques (a key present means
// its family is busy; the front task is the one running) and a ready list of keys.
class MutexFamilyScheduler {
 public:
  explicit MutexFamilyScheduler(unsigned workers) {
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { worker(); });
  }
  ~MutexFamilyScheduler() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::uint64_t key, Task t) {
    std::lock_guard lock(mutex_);
    auto& d = pending_[key];
    d.push_back(t);
    if (d.size() == 1) {
      ready_.push_back(key);
      cv_.notify_one();
    }
  }
  std::uint64_t completed() const { return completed_.load(std::memory_order_acquire); }

 private:
  void worker() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !ready_.empty(); });
      if (ready_.empty()) return;
      const std::uint64_t key = ready_.front();
      ready_.pop_front();
      Task t = pending_.find(key)->second.front();
      lock.unlock();
      do_not_optimize(t);  // no-op work
      completed_.fetch_add(1, std::memory_order_release);
      lock.lock();
      auto it = pending_.find(key);
      it->second.pop_front();
      if (it->second.empty()) {
        pending_.erase(it);
      } else {
        ready_.push_back(key);  // round robin, slice 1
      }
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::unordered_map<std::uint64_t, std::deque<Task>> pending_;
  std::deque<std::uint64_t> ready_;
  bool stop_ = false;
  std::atomic<std::uint64_t> completed_{0};
  std::vector<std::thread> threads_;
};

template <class SubmitFn, class CompletedFn>
Metrics drive(std::uint64_t n, std::uint64_t families, SubmitFn submit, CompletedFn completed) {
  const auto t0 = clk::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    while (i - completed() >= kWindow) std::this_thread::yield();
    submit((i * 7) % families, Task{i, 0});
  }
  while (completed() != n) std::this_thread::yield();
  return {{"", std::chrono::duration<double, std::nano>(clk::now() - t0).count() / static_cast<double>(n)}};
}

Metrics hft_overhead(std::uint64_t n, unsigned workers, std::uint64_t families, const hft::bench::Options& o) {
  hft::WorkerPoolConfig pc;
  pc.threads = workers;
  pc.queue_capacity = 1u << 13;
  if (workers == 1) pc.cpus = {o.cpus[1]};  // never share the dispatcher's CPU with a pinned spinner
  (void)o;
  hft::WorkerPool<Sched::Job> pool(pc);
  auto handler = [](const Sched::TaskInfo&, Task& t) { do_not_optimize(t); };
  hft::FamilySchedulerConfig c;
  c.max_families = 4096;
  c.max_pending_tasks = 8192;
  c.max_tasks_per_slice = 8;
  Sched s(c, handler, pool);
  return drive(
      n, families,
      [&](std::uint64_t k, Task t) {
        while (!hft::accepted(s.submit(k, Task(t)))) std::this_thread::yield();
      },
      [&] { return s.completed(); });
}

Metrics mutex_overhead(std::uint64_t n, unsigned workers, std::uint64_t families) {
  MutexFamilyScheduler s(workers);
  return drive(
      n, families, [&](std::uint64_t k, Task t) { s.submit(k, t); }, [&] { return s.completed(); });
}

// ---- cold-family wait under a hot flood ----------------------------------------------
void spin_for_ticks(std::uint64_t ticks) {
  const std::uint64_t end = hft::TscClock::ticks() + ticks;
  while (hft::TscClock::ticks() < end) {
  }
}

// `workers` workers, 1 us of busy work per task. Cold tasks arrive every 20 us across 100
// families; with `flood`, a hot family is kept >= 256 deep the whole time. Returns the cold
// tasks' wait (submit -> handler start) p50 and p99 in microseconds. With one worker it
// busy-spins (2 busy threads on 2 cores), so the no-flood wait has no futex wake-up in it;
// with two, workers use the default spin-then-sleep (3 threads on 2 cores).
Metrics cold_wait(unsigned workers, std::uint32_t slice, bool flood, std::uint64_t cold_tasks,
                  const hft::bench::Options& o) {
  const double tpn = 1.0 / hft::bench::TickTimer::ns_per_tick();
  const auto work_ticks = static_cast<std::uint64_t>(1000 * tpn);   // 1 us per task
  const auto gap_ticks = static_cast<std::uint64_t>(20'000 * tpn);  // a cold task every 20 us
  constexpr std::uint64_t kHot = ~0ULL;
  hft::LatencyHistogram waits({.highest_trackable = 10'000'000'000ULL});
  std::mutex waits_mutex;  // two workers may record at once (cold tasks only: cheap)
  hft::WorkerPoolConfig pc;
  pc.threads = workers;
  if (workers == 1) {
    pc.cpus = {o.cpus[1]};
    pc.spin_iterations = 1u << 30;
  }
  hft::WorkerPool<Sched::Job> pool(pc);
  auto handler = [&](const Sched::TaskInfo& info, Task& t) {
    if (info.family != kHot) {
      const std::lock_guard lock(waits_mutex);
      waits.record(static_cast<std::uint64_t>(static_cast<double>(hft::TscClock::ticks() - t.submit_tick) / tpn));
    }
    spin_for_ticks(work_ticks);
  };
  hft::FamilySchedulerConfig c;
  c.max_families = 256;
  c.max_pending_tasks = 4096;
  c.max_pending_per_family = 2048;
  c.max_tasks_per_slice = slice;
  Sched s(c, handler, pool);
  std::uint64_t next_cold = hft::TscClock::ticks(), sent = 0, hot_sent = 0;
  while (sent < cold_tasks) {
    const std::uint64_t now = hft::TscClock::ticks();
    if (now >= next_cold) {
      (void)s.submit(sent % 100, Task{sent, now});
      ++sent;
      next_cold += gap_ticks;
    }
    if (flood) {
      while (hot_sent - s.completed() < 256 && hft::accepted(s.submit(kHot, Task{hot_sent, 0}))) ++hot_sent;
    }
    std::this_thread::yield();
  }
  while (s.completed() != sent + hot_sent) std::this_thread::yield();
  pool.stop();
  return {{"p50", static_cast<double>(waits.percentile(50)) / 1000.0},
          {"p99", static_cast<double>(waits.percentile(99)) / 1000.0}};
}
}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_sched", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    hft::bench::pin_this_thread(opts.cpus[0]);
    const std::uint64_t n = opts.quick ? 200'000 : 10'000'000;
    const std::uint64_t sched_n = opts.quick ? 50'000 : 1'000'000;
    suite.note(
        "family_overhead: dispatcher + N workers, 256 families, no-op tasks, <= 4096 outstanding; "
        "the 2-worker case runs 3 threads on 2 cores (idle workers sleep)");
    suite.note(
        "cold_wait_Nw: N workers, 1 us tasks, a cold task every 20 us over 100 families; 'flood' keeps "
        "a hot family >= 256 deep; wait = submit -> start, in us. 1w: the worker busy-spins; 2w: "
        "default spin-then-sleep");
    suite.note("read/publish/rate_limiter: uncontended, one thread: the cost of the operation itself");
    for (unsigned w : {1u, 2u}) {
      const std::string name = "family_overhead_" + std::to_string(w) + "w";
      suite.add_case(
          name, {{"", "ns/task", false}},
          {
              {"hft::FamilyScheduler + WorkerPool", [&, w] { return hft_overhead(sched_n, w, 256, opts); }},
              {"std::mutex + unordered_map<key,deque> + condvar", [&, w] { return mutex_overhead(sched_n, w, 256); }},
          });
      suite.add_ratio(name, "hft::FamilyScheduler + WorkerPool", "std::mutex + unordered_map<key,deque> + condvar",
                      hft::bench::Target::at_most(0.3),
                      "scheduler overhead, " + std::to_string(w) + " worker(s): hft / mutex baseline");
    }
    const std::uint64_t cold_n = opts.quick ? 200 : 2000;
    for (unsigned w : {1u, 2u}) {
      std::vector<hft::bench::Impl> cold_impls;
      for (std::uint32_t slice : {1u, 8u, 32u}) {
        for (bool flood : {false, true}) {
          cold_impls.push_back({"slice " + std::to_string(slice) + (flood ? " hot flood" : " no flood"),
                                [&, w, slice, flood] { return cold_wait(w, slice, flood, cold_n, opts); }});
        }
      }
      const std::string name = "cold_wait_" + std::to_string(w) + "w";
      suite.add_case(name, {{"p50", "us", false}, {"p99", "us", false}}, cold_impls);
      suite.add_ratio(name + "/p99", "slice 8 hot flood", "slice 8 no flood", hft::bench::Target::at_most(2.0),
                      "cold-family p99 wait, " + std::to_string(w) + " worker(s), slice 8: hot flood / no flood");
    }

    hft::SeqLock<Quote> seq(Quote{1, 2, 3, 4});
    std::mutex m;
    Quote guarded{1, 2, 3, 4};
    suite.add_case("read_32B_state", {{"", "ns/op", false}},
                   {
                       {"hft::SeqLock::load",
                        [&] { return hft::bench::time_calls(n, [&](std::uint64_t) { do_not_optimize(seq.load()); }); }},
                       {"std::mutex + copy",
                        [&] {
                          return hft::bench::time_calls(n, [&](std::uint64_t) {
                            std::lock_guard lock(m);
                            do_not_optimize(guarded);
                          });
                        }},
                   });
    suite.add_case("publish_32B_state", {{"", "ns/op", false}},
                   {
                       {"hft::SeqLock::store",
                        [&] {
                          return hft::bench::time_calls(n, [&](std::uint64_t i) { seq.store(Quote{i, i, i, i}); });
                        }},
                   });

    hft::DoubleBuffer<std::map<std::string, std::uint64_t>> table(
        std::map<std::string, std::uint64_t>{{"AAPL", 1}, {"MSFT", 2}, {"GOOG", 3}});
    suite.add_case("doublebuffer", {{"", "ns/op", false}},
                   {
                       {"hft::DoubleBuffer::read (map lookup)",
                        [&] {
                          return hft::bench::time_calls(n, [&](std::uint64_t) {
                            do_not_optimize(table.read([](const auto& t) { return t.find("MSFT")->second; }));
                          });
                        }},
                       {"hft::DoubleBuffer::modify (map update, x2)",
                        [&] {
                          return hft::bench::time_calls(
                              n / 20, [&](std::uint64_t i) { table.modify([i](auto& t) { t["AAPL"] = i; }); });
                        }},
                   });

    suite.add_case(
        "rate_limiter", {{"", "ns/op", false}},
        {
            {"hft::RateLimiter::try_acquire",
             [&] {
               hft::RateLimiter rl({.rate_per_sec = 1'000'000'000, .burst = 1'000'000}, 0);
               return hft::bench::time_calls(n, [&](std::uint64_t i) { do_not_optimize(rl.try_acquire(1, i)); });
             }},
            {"hft::ThreadSafeRateLimiter::try_acquire",
             [&] {
               hft::ThreadSafeRateLimiter rl({.rate_per_sec = 1'000'000'000, .burst = 1'000'000}, 0);
               return hft::bench::time_calls(n, [&](std::uint64_t i) { do_not_optimize(rl.try_acquire(1, i)); });
             }},
        });
    suite.add_absolute("read_32B_state", "hft::SeqLock::load", hft::bench::Target::at_most(3.0),
                       "SeqLock read, uncontended");
    suite.run_and_report();
  });
}
