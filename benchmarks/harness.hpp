// benchmarks/harness.hpp: the shared benchmark harness for every bench_* binary.
//
// Why it looks like this: this machine is a noisy 2-core VM where the median of a
// cross-thread throughput benchmark moves 2-3x between invocations. Comparing our
// primitive's median from one minute with an anchor's median from the next is then
// meaningless. So the harness
//   - runs every implementation of a case interleaved, round by round (A B C D, A B C D,
//     ...), after one discarded warm-up round, so slow drift hits all of them alike;
//   - reports median/min/max over >= 7 rounds per implementation;
//   - computes each target ratio per round (ours / anchor in the same round) and reports
//     the median of those paired ratios: drift between rounds cancels in the quotient;
//   - pins threads to the CPUs given by --cpus, each checked against the process's affinity
//     mask while parsing (a CPU that does not exist: exit 2 with a message, not an abort);
//   - prints a table and, with --json FILE, writes the machine-readable results, with the
//     date, the commit, the build type and flags, the CPU model, the core count (online
//     and allowed to this process), the kernel and the compiler.
// Options: --runs N (default 9, minimum 7), --cpus A,B, --json FILE (its temporary file
//   PATH.tmp.<pid> is opened before the run, so a bad path fails at once, and renamed over
//   PATH at the end, so an interrupted run leaves an earlier result whole), --filter TEXT (run only cases whose name contains TEXT),
//   --quick (shorter runs, for CI smoke tests); --help lists them.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/cpu.hpp"
#include "hft/core/thread.hpp"

// Set by benchmarks/CMakeLists.txt for every benchmark; a build outside it says so.
#ifndef HFT_BENCH_COMMIT
#define HFT_BENCH_COMMIT "unknown"
#endif
#ifndef HFT_BENCH_BUILD_TYPE
#define HFT_BENCH_BUILD_TYPE "unknown"
#endif

namespace hft::bench {

struct Options {
  int runs = 9;
  int min_runs = 7;  // fewer rounds make the median of paired ratios meaningless
  std::vector<int> cpus{0, 1};
  bool cpus_given = false;  // --cpus was on the command line
  std::shared_ptr<hft::cli::OutputFile> json = std::make_shared<hft::cli::OutputFile>();  // --json
  std::string filter;
  bool quick = false;
};

/// The options every bench_* binary takes (examples/common/cli.hpp: --help, --opt=value,
/// range checks, the JSON file opened before the run). `extra` adds a binary's own.
/// `defaults` sets runs/min_runs for binaries whose rounds are long (mini_oms bench).
inline Options parse_options(int argc, char** argv, const char* summary = "",
                             const std::function<void(hft::cli::Parser&)>& extra = {}, Options defaults = {},
                             const std::string& program = "", int first = 1) {
  Options o = std::move(defaults);
  hft::cli::Parser p(program.empty() ? std::string(argv[0]) : program, "[options]", summary);
  p.integer("--runs", o.runs, o.min_runs, 1000, "interleaved rounds after the warm-up")
      .custom("--cpus", "A,B", "CPUs to pin the threads to (default 0,1)",
              [&](std::string_view v) {
                o.cpus = hft::cli::parse_integer_list(v, 0, 1023);
                hft::cli::check_cpus(o.cpus);  // exit 2 now, not an exception when a thread pins
                o.cpus_given = true;
              })
      .output("--json", *o.json, "write the results here (opened before the run)")
      .text("--filter", o.filter, "TEXT", "run only the cases whose name contains TEXT")
      .flag("--quick", o.quick, "shorter runs (CI smoke tests)");
  if (extra) extra(p);
  p.parse(argc, argv, first);
  if (o.cpus.empty()) o.cpus.push_back(0);
  if (o.cpus.size() < 2) o.cpus.push_back(o.cpus[0]);
  return o;
}

/// Pins the calling thread to one CPU; throws on failure (never silently unpinned).
inline void pin_this_thread(int cpu) { hft::pin_current_thread(cpu); }

/// Cycle counter for per-sample timing (rdtsc is several times cheaper than
/// clock_gettime, so it distorts a ~100 ns round trip far less).
class TickTimer {
 public:
  static std::uint64_t now() noexcept { return hft::TscClock::ticks(); }
  static double ns_per_tick() {
    static const hft::TscClock clock(std::chrono::milliseconds(50));
    return 1.0 / clock.ticks_per_ns();
  }
};

/// Keeps a value alive without a fence: the optimiser must assume the asm reads it (and
/// any memory), so the computation producing it cannot be elided.
template <class T>
inline void do_not_optimize(const T& v) {
  asm volatile("" : : "r,m"(v) : "memory");
}

/// Percentile of a sample set (nearest rank); sorts in place.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

/// One run of one implementation: named metrics (the first is the headline).
using Metrics = std::vector<std::pair<std::string, double>>;

/// Per-sample round-trip ticks -> {p50, p99, p99.9} in nanoseconds.
inline Metrics round_trip_metrics(const std::vector<std::uint64_t>& ticks) {
  std::vector<double> ns(ticks.size());
  const double scale = TickTimer::ns_per_tick();
  for (std::size_t i = 0; i < ticks.size(); ++i) ns[i] = static_cast<double>(ticks[i]) * scale;
  const double p50 = percentile(ns, 50);
  const double p99 = percentile(ns, 99);
  const double p999 = percentile(ns, 99.9);
  return {{"p50", p50}, {"p99", p99}, {"p99.9", p999}};
}

/// Spins briefly, then yields: benchmarks that run more threads than cores use it, so a
/// waiting thread does not burn the quantum of the thread it waits for. Every
/// implementation in a case gets the same loop.
struct SpinThenYield {
  int spins = 0;
  void pause() {
    if (++spins < 64) {
      hft::cpu_relax();
    } else {
      spins = 0;
      std::this_thread::yield();
    }
  }
};

/// Throughput (items/ms) of `producers` threads each pushing per_producer distinct uint64
/// values and `consumers` threads taking them, every thread unpinned and waiting with
/// SpinThenYield. make_push() / make_pop() are called once on each thread (a
/// token-holding handle, or a plain lambda): push(v) -> bool (false: full, retry),
/// pop(sum) adds what it took to sum and returns how many (0: empty). Checks that every
/// item came out exactly once (by count and by sum).
template <class MakePush, class MakePop>
Metrics many_to_many_throughput(std::uint64_t per_producer, int producers, int consumers, MakePush make_push,
                                MakePop make_pop) {
  using clk = std::chrono::steady_clock;
  const std::uint64_t total = per_producer * static_cast<std::uint64_t>(producers);
  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> taken{0};
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(consumers), 0);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      auto push = make_push();
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with the release below
      const std::uint64_t base = static_cast<std::uint64_t>(p) * per_producer;
      SpinThenYield b;
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        while (!push(base + i)) b.pause();
      }
    });
  }
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      auto pop = make_pop();
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with the release below
      std::uint64_t sum = 0;
      SpinThenYield b;
      while (taken.load(std::memory_order_relaxed) < total) {
        const std::uint64_t k = pop(sum);
        if (k == 0) {
          b.pause();
        } else {
          taken.fetch_add(k, std::memory_order_relaxed);
        }
      }
      sums[static_cast<std::size_t>(c)] = sum;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));  // threads reach the start line
  const auto t0 = clk::now();
  go.store(true, std::memory_order_release);  // pairs with every thread's acquire
  for (auto& t : threads) t.join();
  const auto t1 = clk::now();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums) sum += s;
  if (taken.load() != total || sum != total * (total - 1) / 2) {
    throw std::logic_error("many-to-many throughput: lost or duplicated items");
  }
  return {{"", static_cast<double>(total) / std::chrono::duration<double, std::milli>(t1 - t0).count()}};
}

// The one-consumer case of many_to_many_throughput: pop_some(sum) is the consumer.
template <class MakePush, class PopSome>
Metrics many_to_one_throughput(std::uint64_t per_producer, int producers, MakePush make_push, PopSome pop_some) {
  return many_to_many_throughput(per_producer, producers, 1, make_push, [&pop_some] { return std::ref(pop_some); });
}

struct Stats {
  double median = 0, min = 0, max = 0;
  std::size_t runs = 0;
};
inline Stats summarize(std::vector<double> v) {
  Stats s;
  s.runs = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

struct MetricSpec {
  std::string name;  // suffix of the case name, "" for the headline metric
  std::string unit;
  bool higher_is_better;
};

struct Impl {
  std::string name;
  std::function<Metrics()> run;
};

/// A goal for a ratio (ours / anchor) or for an absolute value (ns per op): met when the
/// median is at least / at most `goal`.
class Target {
 public:
  [[nodiscard]] static Target at_least(double goal) noexcept { return Target(goal, false); }
  [[nodiscard]] static Target at_most(double goal) noexcept { return Target(goal, true); }
  [[nodiscard]] bool met(double v) const noexcept { return at_most_ ? v <= goal_ : v >= goal_; }
  [[nodiscard]] double goal() const noexcept { return goal_; }
  [[nodiscard]] const char* op() const noexcept { return at_most_ ? "<=" : ">="; }

 private:
  Target(double goal, bool at_most) noexcept : goal_(goal), at_most_(at_most) {}
  double goal_;
  bool at_most_;
};

class Suite {
 public:
  Suite(std::string name, Options opts) : name_(std::move(name)), opts_(std::move(opts)) {}

  const Options& options() const { return opts_; }

  void note(const std::string& text) { notes_.push_back(text); }

  /// Registers a case: every impl's run() returns one value per metric, in spec order.
  void add_case(const std::string& case_name, std::vector<MetricSpec> metrics, std::vector<Impl> impls) {
    if (!opts_.filter.empty() && case_name.find(opts_.filter) == std::string::npos) return;
    cases_.push_back({case_name, std::move(metrics), std::move(impls), {}});
  }

  /// Adds a ratio to report: value(ours) / value(anchor) in each round, the target
  /// checked against the median of those paired ratios.
  /// `anchor_case` names another case for the anchor (the same impl under two
  /// conditions, e.g. FIFO against LIFO order); empty: the same case.
  void add_ratio(const std::string& full_case, const std::string& ours, const std::string& anchor, Target target,
                 std::string label, const std::string& anchor_case = "") {
    ratios_.push_back(
        {full_case, ours, anchor, target, std::move(label), {}, anchor_case.empty() ? full_case : anchor_case});
  }

  /// Adds an absolute target: the median of `impl` in `full_case`, in the case's unit.
  void add_absolute(const std::string& full_case, const std::string& impl, Target target, std::string label) {
    absolutes_.push_back({full_case, impl, target, std::move(label)});
  }

  /// For a benchmark that drives its own rounds (mini_oms bench interleaves all its cases
  /// within a round): a case known by its impls' names. record() adds one round's metrics
  /// of one impl; finish() then computes the ratios for print() and write_json().
  void add_recorded_case(const std::string& case_name, std::vector<MetricSpec> metrics,
                         const std::vector<std::string>& impl_names) {
    std::vector<Impl> impls;
    for (const auto& n : impl_names) impls.push_back({n, {}});
    cases_.push_back({case_name, std::move(metrics), std::move(impls), {}});
  }
  void record(const std::string& case_name, const std::string& impl, const Metrics& m) {
    for (auto& c : cases_) {
      if (c.name != case_name) continue;
      for (std::size_t k = 0; k < c.metrics.size() && k < m.size(); ++k) {
        c.samples[full_name(c.name, c.metrics[k].name)][impl].push_back(m[k].second);
      }
      return;
    }
    throw std::logic_error("bench: record() for undeclared case " + case_name);
  }
  void finish() { compute_ratios(); }

  void run() {
    for (auto& c : cases_) {
      std::fprintf(stderr, "[%s] %s: warm-up", name_.c_str(), c.name.c_str());
      for (auto& impl : c.impls) {
        if (impl.run) (void)impl.run();  // recorded cases have no run()
      }
      for (int r = 0; r < opts_.runs; ++r) {
        std::fprintf(stderr, " %d", r + 1);
        for (auto& impl : c.impls) {
          if (!impl.run) continue;
          Metrics m = impl.run();
          for (std::size_t k = 0; k < c.metrics.size() && k < m.size(); ++k) {
            c.samples[full_name(c.name, c.metrics[k].name)][impl.name].push_back(m[k].second);
          }
        }
      }
      std::fprintf(stderr, "\n");
    }
    compute_ratios();
  }

  /// Median/min/max of one impl in one case ("case" or "case/metric"); zeros if absent.
  [[nodiscard]] Stats stats(const std::string& full_case, const std::string& impl) const {
    for (const auto& c : cases_) {
      auto it = c.samples.find(full_case);
      if (it == c.samples.end()) continue;
      auto s = it->second.find(impl);
      if (s != it->second.end()) return summarize(s->second);
    }
    return {};
  }

  void print() const {
    print_tables();
    print_targets();
  }
  /// run(), print(), write_json(): the end of every run_suite definition.
  void run_and_report() {
    run();
    print();
    write_json();
    reported_ = true;
  }
  [[nodiscard]] bool reported() const noexcept { return reported_; }
  void print_tables() const {
    std::printf("\n== %s  (%d interleaved rounds after a warm-up; median [min .. max])\n", name_.c_str(), opts_.runs);
    for (const auto& n : notes_) std::printf("   note: %s\n", n.c_str());
    for (const auto& c : cases_) {
      for (const auto& m : c.metrics) {
        const std::string fn = full_name(c.name, m.name);
        auto it = c.samples.find(fn);
        if (it == c.samples.end()) continue;
        std::printf("\n%-34s %14s %14s %14s  %s\n", fn.c_str(), "median", "min", "max",
                    (m.unit + (m.higher_is_better ? ", higher is better" : ", lower is better")).c_str());
        for (const auto& impl : c.impls) {
          auto s = it->second.find(impl.name);
          if (s == it->second.end()) continue;
          const Stats st = summarize(s->second);
          std::printf("  %-32s %14.1f %14.1f %14.1f\n", impl.name.c_str(), st.median, st.min, st.max);
        }
      }
    }
    (void)std::fflush(stdout);  // the table is for a terminal; the JSON file checks its writes
  }
  void print_targets() const {
    if (!ratios_.empty()) {
      std::printf("\nTargets (median of per-round paired ratios; spread is min..max over rounds)\n");
      for (const auto& r : ratios_) {
        if (r.values.empty()) continue;
        const Stats st = summarize(r.values);
        std::printf("  %-58s %6.2fx  [%5.2f .. %5.2f]  target %s %.2fx  %s\n", r.label.c_str(), st.median, st.min,
                    st.max, r.target.op(), r.target.goal(), r.target.met(st.median) ? "MET" : "NOT MET");
      }
    }
    bool header = false;
    for (const auto& a : absolutes_) {
      const Stats st = stats(a.case_name, a.impl);
      if (st.runs == 0) continue;
      if (!header) std::printf("\nAbsolute targets (median over rounds; spread is min..max)\n");
      header = true;
      const std::string unit = unit_of(a.case_name);
      std::printf("  %-58s %8.2f  [%8.2f .. %8.2f] %s  target %s %g  %s\n", a.label.c_str(), st.median, st.min, st.max,
                  unit.c_str(), a.target.op(), a.target.goal(), a.target.met(st.median) ? "MET" : "NOT MET");
    }
    (void)std::fflush(stdout);  // the table is for a terminal; the JSON file checks its writes
  }

  void write_json() const {
    if (!opts_.json->is_set()) return;
    std::ostringstream o;
    o << "{\n  \"benchmark\": " << quote(name_) << ",\n  \"date\": " << quote(utc_now())
      << ",\n  \"commit\": " << quote(HFT_BENCH_COMMIT) << ",\n  \"build_type\": " << quote(HFT_BENCH_BUILD_TYPE)
      << ",\n  \"machine\": " << machine_json() << ",\n";
    o << "  \"rounds\": " << opts_.runs << ",\n  \"notes\": [";
    for (std::size_t i = 0; i < notes_.size(); ++i) o << (i ? ", " : "") << quote(notes_[i]);
    o << "],\n  \"results\": [\n";
    bool first = true;
    for (const auto& c : cases_) {
      for (const auto& m : c.metrics) {
        const std::string fn = full_name(c.name, m.name);
        auto it = c.samples.find(fn);
        if (it == c.samples.end()) continue;
        for (const auto& impl : c.impls) {
          auto s = it->second.find(impl.name);
          if (s == it->second.end()) continue;
          const Stats st = summarize(s->second);
          o << (first ? "" : ",\n") << "    {\"case\": " << quote(fn) << ", \"impl\": " << quote(impl.name)
            << ", \"unit\": " << quote(m.unit) << ", \"better\": " << quote(m.higher_is_better ? "higher" : "lower")
            << ", \"median\": " << num(st.median) << ", \"min\": " << num(st.min) << ", \"max\": " << num(st.max)
            << ", \"runs\": " << s->second.size() << "}";
          first = false;
        }
      }
    }
    o << "\n  ],\n  \"ratios\": [\n";
    first = true;
    for (const auto& r : ratios_) {
      if (r.values.empty()) continue;
      const Stats st = summarize(r.values);
      o << (first ? "" : ",\n") << "    {\"case\": " << quote(r.case_name) << ", \"ours\": " << quote(r.ours)
        << ", \"anchor\": " << quote(r.anchor) << ", \"label\": " << quote(r.label)
        << ", \"median\": " << num(st.median) << ", \"min\": " << num(st.min) << ", \"max\": " << num(st.max)
        << ", \"target\": " << quote(std::string(r.target.op()) + " " + num(r.target.goal()))
        << ", \"met\": " << (r.target.met(st.median) ? "true" : "false") << "}";
      first = false;
    }
    o << "\n  ],\n  \"absolute_targets\": [\n";
    first = true;
    for (const auto& a : absolutes_) {
      const Stats st = stats(a.case_name, a.impl);
      if (st.runs == 0) continue;
      o << (first ? "" : ",\n") << "    {\"case\": " << quote(a.case_name) << ", \"impl\": " << quote(a.impl)
        << ", \"label\": " << quote(a.label) << ", \"unit\": " << quote(unit_of(a.case_name))
        << ", \"median\": " << num(st.median) << ", \"min\": " << num(st.min) << ", \"max\": " << num(st.max)
        << ", \"target\": " << quote(std::string(a.target.op()) + " " + num(a.target.goal()))
        << ", \"met\": " << (a.target.met(st.median) ? "true" : "false") << "}";
      first = false;
    }
    o << "\n  ]\n}\n";
    opts_.json->write_and_close(o.str());
    std::fprintf(stderr, "wrote %s\n", opts_.json->path().c_str());
  }

 private:
  struct Case {
    std::string name;
    std::vector<MetricSpec> metrics;
    std::vector<Impl> impls;
    // full case name -> impl -> per-round values
    std::map<std::string, std::map<std::string, std::vector<double>>> samples;
  };
  struct Ratio {
    std::string case_name, ours, anchor;
    Target target;
    std::string label;
    std::vector<double> values;
    std::string anchor_case;
  };
  struct Absolute {
    std::string case_name, impl;
    Target target;
    std::string label;
  };

  [[nodiscard]] std::string unit_of(const std::string& full_case) const {
    for (const auto& c : cases_) {
      for (const auto& m : c.metrics) {
        if (full_name(c.name, m.name) == full_case) return m.unit;
      }
    }
    return "";
  }

  static std::string full_name(const std::string& c, const std::string& m) { return m.empty() ? c : c + "/" + m; }

  [[nodiscard]] const std::vector<double>* samples_of(const std::string& full_case, const std::string& impl) const {
    for (const auto& c : cases_) {
      auto it = c.samples.find(full_case);
      if (it == c.samples.end()) continue;
      auto s = it->second.find(impl);
      if (s != it->second.end()) return &s->second;
    }
    return nullptr;
  }

  // Paired by round: round i of ours against round i of the anchor.
  void compute_ratios() {
    for (auto& r : ratios_) {
      r.values.clear();
      const std::vector<double>* a = samples_of(r.case_name, r.ours);
      const std::vector<double>* b = samples_of(r.anchor_case, r.anchor);
      if (a == nullptr || b == nullptr) continue;
      for (std::size_t i = 0; i < a->size() && i < b->size(); ++i) {
        if ((*b)[i] != 0) r.values.push_back((*a)[i] / (*b)[i]);
      }
    }
  }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        char buf[8];
        (void)std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
        out += buf;
      } else {
        out += ch;
      }
    }
    return out + "\"";
  }
  static std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    (void)std::snprintf(buf, sizeof buf, "%.6g", v);  // %.6g: 13 characters at most
    return buf;
  }

  static std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    (void)::gmtime_r(&t, &tm);
    char buf[32];
    (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  std::string machine_json() const {
    std::string model = "unknown";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
    utsname u{};
    ::uname(&u);
    std::ostringstream o;
    // online_cpus: the machine's logical CPUs; allowed_cpus: those this process may run on
    // (fewer under taskset or a container's cpuset).
    o << "{\"cpu\": " << quote(model) << ", \"online_cpus\": " << ::sysconf(_SC_NPROCESSORS_ONLN)
      << ", \"allowed_cpus\": " << allowed_cpus() << ", \"kernel\": " << quote(std::string(u.sysname) + " " + u.release)
      << ", \"compiler\": " << quote(compiler()) << ", \"pinned_cpus\": " << quote(cpus_text()) << "}";
    return o.str();
  }
  static std::size_t allowed_cpus() {
    try {
      return hft::available_cpus().size();
    } catch (const std::exception&) {
      return 0;  // unknown: the affinity could not be read
    }
  }
  static std::string compiler() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return "unknown";
#endif
  }
  std::string cpus_text() const {
    std::string s;
    for (int c : opts_.cpus) {
      if (!s.empty()) s += ',';
      s += std::to_string(c);
    }
    return s;
  }

  std::string name_;
  Options opts_;
  std::vector<std::string> notes_;
  std::vector<Case> cases_;
  std::vector<Ratio> ratios_;
  std::vector<Absolute> absolutes_;
  bool reported_ = false;
};

/// Nanoseconds per call of f(i), i = 0 .. n-1: one steady_clock pair around the whole loop
/// (a per-call timer would cost more than the calls being measured).
template <class F>
double ns_per_call(std::uint64_t n, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) f(i);
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(n);
}
/// ns_per_call as a one-metric run (the headline of a "ns/op" case).
template <class F>
Metrics time_calls(std::uint64_t n, F&& f) {
  return {{"", ns_per_call(n, std::forward<F>(f))}};
}

/// Runs main-like code, turning exceptions into a message and exit code 2.
template <class F>
int guarded_main(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

/// The main() of a benchmark: parse the common options, then `define(suite)` adds the
/// cases, ratios and absolute targets and ends with suite.run_and_report(). (The run
/// happens inside `define` because the cases capture define's locals by reference.)
template <class Define>
int run_suite(int argc, char** argv, const std::string& name, Define&& define) {
  return guarded_main([&] {
    Suite suite(name, parse_options(argc, argv));
    define(suite);
    if (!suite.reported()) throw std::logic_error(name + ": define() must end with suite.run_and_report()");
    return 0;
  });
}

}  // namespace hft::bench
