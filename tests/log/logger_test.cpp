#include "hft/log/logger.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/counting_new.hpp"
#include "../support/scale.hpp"
#include "log_test_support.hpp"

using hft::test::CaptureSink;

namespace {

enum class Side : std::uint8_t { Buy = 1, Sell = 2 };
enum Plain : int { kMinusOne = -1 };

struct Px {
  std::int64_t ticks;
};

// A codec that is not a byte copy: the value travels as text and prints with its spec.
struct Name {
  std::string text;
};

}  // namespace

template <>
struct hft::LogCodec<Px> : hft::TriviallyCopyableLogCodec<Px> {
  static void format_value(const Px& p, std::string_view spec, std::string& out) {
    out += "px(";
    out += std::to_string(p.ticks);
    if (!spec.empty()) {
      out += ':';
      out += spec;
    }
    out += ')';
  }
};

template <>
struct hft::LogCodec<Name> {
  static std::size_t encoded_size(const Name& n) noexcept { return n.text.size(); }
  static void encode(const Name& n, std::byte* dst) noexcept { std::memcpy(dst, n.text.data(), n.text.size()); }
  static bool format(std::span<const std::byte> b, std::string_view, std::string& out) {
    if (b.size() == 3 && std::memcmp(b.data(), "bad", 3) == 0) return false;
    if (b.size() == 5 && std::memcmp(b.data(), "throw", 5) == 0) throw std::runtime_error("codec failed");
    out += '<';
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    out += '>';
    return true;
  }
};

namespace {

hft::LogBackendConfig quick_backend(std::size_t ring = std::size_t{1} << 16) {
  hft::LogBackendConfig c;
  c.ring_bytes = ring;
  c.max_ring_bytes = std::size_t{1} << 24;
  c.reorder_window = std::chrono::microseconds(50);
  c.idle_sleep = std::chrono::microseconds(50);
  return c;
}

std::shared_ptr<CaptureSink> capture() { return std::make_shared<CaptureSink>(); }

// The integer right after `key` in `text` (the first occurrence), or `fallback`.
template <class Int>
Int number_after(std::string_view text, std::string_view key, Int fallback = -1) {
  const std::size_t at = text.find(key);
  if (at == std::string_view::npos) return fallback;
  Int v = fallback;
  const char* first = text.data() + at + key.size();
  const auto r = std::from_chars(first, text.data() + text.size(), v);
  return r.ec == std::errc() ? v : fallback;
}

std::vector<std::shared_ptr<hft::LogSink>> sinks(const std::shared_ptr<CaptureSink>& s) { return {s}; }

}  // namespace

TEST_CASE("a line carries every built-in argument type and formats as std::format would") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  {
    hft::Logger log(backend, "t", sinks(sink), {.level = hft::LogLevel::Trace});
    const std::string s = "owned";
    const char* cstr = "cstr";
    const char* null_cstr = nullptr;
    char buf[4] = {'a', 'b', 'c', 'd'};  // not NUL-terminated: bounded by the array
    const int x = 0;
    HFT_LOG_INFO(log, "{} {} {} {} {}", true, 'c', -5, 7u, std::numeric_limits<std::int64_t>::min());
    HFT_LOG_INFO(log, "{} {:.2f} {:e} {}", 1.5f, 2.345, 1e10, 0.1L);
    HFT_LOG_INFO(log, "{}|{}|{}|{}|{}|{}", s, std::string_view("sv"), "lit", cstr, null_cstr, buf);
    HFT_LOG_INFO(log, "{} {}", static_cast<const void*>(&x) != nullptr, nullptr);
    HFT_LOG_INFO(log, "{} {}", Side::Sell, kMinusOne);
    HFT_LOG_INFO(log, "{:>6}|{:<4}|{:^5}|{:+}|{:#x}|{:08.3f}", 42, "ab", 'z', 3, 255, -3.14159);
    HFT_LOG_INFO(log, "{1} {0}", "first", "second");
    HFT_LOG_INFO(log, "{} and {:spec}", Px{42}, Px{-1});
    HFT_LOG_INFO(log, "{} {}", Name{"abc"}, Name{""});
    HFT_LOG_INFO(log, "no arguments, {{escaped}}");
    HFT_LOG_INFO(log, "{}", std::numeric_limits<std::uint64_t>::max());
    log.flush();
  }
  const auto m = sink->messages();
  REQUIRE(m.size() == 11);
  CHECK(m[0] == "true c -5 7 -9223372036854775808");
  CHECK(m[1] == "1.5 2.35 1.000000e+10 0.1");
  CHECK(m[2] == "owned|sv|lit|cstr|(null)|abcd");
  CHECK(m[3] == "true 0x0");
  CHECK(m[4] == "2 -1");
  CHECK(m[5] == "    42|ab  |  z  |+3|0xff|-003.142");
  CHECK(m[6] == "second first");
  CHECK(m[7] == "px(42) and px(-1:spec)");
  CHECK(m[8] == "<abc> <>");
  CHECK(m[9] == "no arguments, {escaped}");
  CHECK(m[10] == "18446744073709551615");
}

TEST_CASE("a codec that fails or throws marks its line and the backend goes on") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  {
    hft::Logger log(backend, "t", sinks(sink));
    HFT_LOG_INFO(log, "a {} b", Name{"bad"});
    HFT_LOG_INFO(log, "c {} d", Name{"throw"});
    HFT_LOG_INFO(log, "after");
    log.flush();
  }
  const auto m = sink->messages();
  REQUIRE(m.size() == 3);
  CHECK(m[0] == "a {?} b");
  CHECK(m[1].find("[format error: codec failed]") != std::string::npos);
  CHECK(m[2] == "after");
  CHECK(backend.stats().corrupt_records == 2);  // both lines counted: the bytes did not format
}

TEST_CASE("the line carries level, logger, thread, file and line, laid out by the pattern") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  int line = 0;
  {
    hft::Logger log(backend, "orders", sinks(sink),
                    {.pattern = "{level}|{logger}|{thread}|{basename}:{line}|{message}"});
    std::thread t([&] {
      hft::set_current_thread_name("worker-7");
      line = __LINE__ + 1;
      HFT_LOG_WARN(log, "qty={}", 100);
    });
    t.join();
    log.flush();
  }
  const auto l = sink->lines();
  REQUIRE(l.size() == 1);
  CHECK(l[0].level == hft::LogLevel::Warn);
  CHECK(l[0].logger == "orders");
  CHECK(l[0].thread == "worker-7");
  CHECK(l[0].tid != 0);
  CHECK(l[0].line == static_cast<std::uint32_t>(line));
  CHECK(l[0].file.find("logger_test.cpp") != std::string::npos);
  CHECK(l[0].text == "WARN|orders|worker-7|logger_test.cpp:" + std::to_string(line) + "|qty=100\n");
  // The timestamp is UTC now, within a generous minute.
  const auto now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(std::llabs(now - l[0].time_ns) < 60'000'000'000LL);
}

TEST_CASE("the run-time level skips lower lines without evaluating their arguments") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  {
    hft::Logger log(backend, "t", sinks(sink), {.level = hft::LogLevel::Warn});
    CHECK(log.level() == hft::LogLevel::Warn);
    CHECK_FALSE(log.should_log(hft::LogLevel::Info));
    CHECK(log.should_log(hft::LogLevel::Error));
    HFT_LOG_INFO(log, "{}", count());
    HFT_LOG_DEBUG(log, "{}", count());
    HFT_LOG_TRACE(log, "{}", count());
    HFT_LOG_WARN(log, "w{}", count());
    HFT_LOG_ERROR(log, "e{}", count());
    HFT_LOG_CRITICAL(log, "c{}", count());
    log.set_level(hft::LogLevel::Trace);
    HFT_LOG_TRACE(log, "t{}", count());
    log.set_level(hft::LogLevel::Off);
    CHECK_FALSE(log.should_log(hft::LogLevel::Critical));
    HFT_LOG_CRITICAL(log, "off{}", count());
    log.flush();
  }
  CHECK(evaluated == 4);
  CHECK(sink->messages() == std::vector<std::string>{"w1", "e2", "c3", "t4"});
}

TEST_CASE("exactly once: every line from N threads under Block appears once with its arguments") {
  const int threads = 4;  // 4 loggers + the backend on 2 cores: oversubscribed on purpose
  const int per_thread = static_cast<int>(200'000 / hft::test::stress_divisor);
  hft::LogBackend backend(quick_backend(4096));  // small rings: the callers block often
  auto sink = capture();
  {
    hft::Logger log(backend, "t", sinks(sink), {.overflow = hft::OverflowPolicy::Block});
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) HFT_LOG_INFO(log, "t={} i={} s={}", t, i, std::to_string(i * 7));
      });
    for (auto& th : ts) th.join();
    log.flush();
    CHECK(log.dropped() == 0);
  }
  std::vector<std::vector<int>> seen(threads);
  for (const auto& m : sink->messages()) {
    const int t = number_after<int>(m, "t=");
    const int i = number_after<int>(m, " i=");
    const auto s = m.find(" s=");
    REQUIRE(t >= 0);
    REQUIRE(t < threads);
    REQUIRE(s != std::string::npos);
    REQUIRE(m.substr(s + 3) == std::to_string(i * 7));
    seen[static_cast<std::size_t>(t)].push_back(i);
  }
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t);
    const auto& v = seen[static_cast<std::size_t>(t)];
    REQUIRE(v.size() == static_cast<std::size_t>(per_thread));
    for (int i = 0; i < per_thread; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == i);  // once each, in order
  }
  const auto st = backend.stats();
  CHECK(st.lines_dropped == 0);
  CHECK(st.lines_written == static_cast<std::uint64_t>(threads * per_thread));
}

TEST_CASE("exactly once under Drop: lines written plus lines dropped is lines logged, and the log says so") {
  const int threads = 2;
  const int per_thread = static_cast<int>(100'000 / hft::test::stress_divisor);
  auto cfg = quick_backend(1024);  // tiny rings: most calls find them full
  cfg.idle_sleep = std::chrono::milliseconds(1);
  hft::LogBackend backend(cfg);
  auto sink = capture();
  std::uint64_t dropped = 0;
  {
    hft::Logger log(backend, "t", sinks(sink), {.overflow = hft::OverflowPolicy::Drop});
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) HFT_LOG_INFO(log, "t={} i={}", t, i);
      });
    for (auto& th : ts) th.join();
    log.flush();
    dropped = log.dropped();
  }
  std::uint64_t lines = 0, reported = 0;
  std::map<int, int> last;
  for (const auto& l : sink->lines()) {
    if (l.message.rfind("hft::Logger: ", 0) == 0) {
      CHECK(l.level == hft::LogLevel::Warn);
      const auto n = number_after<std::uint64_t>(l.message, "hft::Logger: ", 0);
      const auto total = number_after<std::uint64_t>(l.message, "; ", 0);
      REQUIRE(n > 0);
      REQUIRE(l.message.find(" lines dropped ") != std::string::npos);
      REQUIRE(l.message.find(" in total") != std::string::npos);
      reported += n;
      CHECK(total == reported);  // each notice's total is the running sum
      continue;
    }
    const int t = number_after<int>(l.message, "t=");
    const int i = number_after<int>(l.message, " i=");
    REQUIRE(t >= 0);
    REQUIRE(i >= 0);
    auto it = last.find(t);
    if (it != last.end()) REQUIRE(i > it->second);  // no duplicate, per-thread order
    last[t] = i;
    ++lines;
  }
  INFO("written " << lines << " dropped " << dropped);
  CHECK(lines + dropped == static_cast<std::uint64_t>(threads * per_thread));
  CHECK(reported == dropped);
  CHECK(backend.stats().lines_dropped == dropped);
}

TEST_CASE("Grow: a full ring is replaced by a larger one and nothing is lost") {
  auto cfg = quick_backend(1024);
  cfg.max_ring_bytes = std::size_t{1} << 22;
  cfg.idle_sleep = std::chrono::milliseconds(20);  // a slow backend: the caller outruns it
  hft::LogBackend backend(cfg);
  auto sink = capture();
  const int n = 20'000;
  {
    hft::Logger log(backend, "t", sinks(sink), {.overflow = hft::OverflowPolicy::Grow});
    for (int i = 0; i < n; ++i) HFT_LOG_INFO(log, "i={} pad={}", i, "................................");
    // A line larger than the grown rings' half is a reason to grow too.
    const std::string big(3000, 'x');
    HFT_LOG_INFO(log, "big {}", big);
    log.flush();
    CHECK(log.dropped() == 0);
  }
  const auto m = sink->messages();
  REQUIRE(m.size() == static_cast<std::size_t>(n + 1));
  for (int i = 0; i < n; ++i) REQUIRE(m[static_cast<std::size_t>(i)].rfind("i=" + std::to_string(i) + " ", 0) == 0);
  CHECK(m.back() == "big " + std::string(3000, 'x'));
  CHECK(backend.stats().rings_grown >= 1);
  CHECK(backend.stats().lines_truncated == 0);
}

TEST_CASE("a line larger than half the ring is truncated under Block and says so") {
  hft::LogBackend backend(quick_backend(1024));
  auto sink = capture();
  {
    hft::Logger log(backend, "t", sinks(sink));
    const std::string big(5000, 'y');
    HFT_LOG_INFO(log, "{}|{}|{}", 7, big, "tail");
    log.flush();
  }
  const auto m = sink->messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].rfind("7|yyy", 0) == 0);
  CHECK(m[0].size() < 600);  // fits half of a 1 KiB ring
  CHECK(m[0].find(" [truncated]") == m[0].size() - 12);
  CHECK(backend.stats().lines_truncated == 1);
}

TEST_CASE("timestamp order across threads holds within the reorder window") {
  auto cfg = quick_backend(std::size_t{1} << 20);
  // A window wider than a scheduler time slice: a caller preempted between its timestamp
  // and its publication (3 busy threads on 2 cores) still lands in order.
  cfg.reorder_window = std::chrono::milliseconds(50);
  hft::LogBackend backend(cfg);
  auto sink = capture();
  const int per_thread = static_cast<int>(50'000 / hft::test::stress_divisor);
  {
    hft::Logger log(backend, "t", sinks(sink));
    std::atomic<int> ready{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t)
      ts.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        for (int i = 0; i < per_thread; ++i) {
          HFT_LOG_INFO(log, "{} {}", t, i);
          if (i % 64 == 0) std::this_thread::yield();  // let the other thread in: interleave
        }
      });
    for (auto& th : ts) th.join();
    log.flush();
  }
  const auto l = sink->lines();
  REQUIRE(l.size() == static_cast<std::size_t>(2 * per_thread));
  std::size_t interleavings = 0;
  for (std::size_t k = 1; k < l.size(); ++k) {
    INFO("line " << k << ": " << l[k - 1].message << " then " << l[k].message);
    REQUIRE(l[k - 1].time_ns <= l[k].time_ns);
    if (l[k - 1].message[0] != l[k].message[0]) ++interleavings;
  }
  WARN("thread switches in the merged output: " << interleavings);
}

TEST_CASE("flush returns only when every earlier line of every thread is with the sinks") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  hft::Logger log(backend, "t", sinks(sink));
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> logged{0};
    std::thread t([&] {
      for (int i = 0; i < 100; ++i) HFT_LOG_INFO(log, "r{} i{}", round, i);
      logged.store(100, std::memory_order_release);
    });
    t.join();
    REQUIRE(logged.load(std::memory_order_acquire) == 100);
    const auto before = sink->flushes();
    log.flush();
    REQUIRE(sink->size() == static_cast<std::size_t>((round + 1) * 100));
    REQUIRE(sink->flushes() > before);  // the sinks' own flush ran too
  }
  CHECK(backend.stats().flushes >= 20);
}

TEST_CASE("threads that exit with lines still in their ring lose none, and their rings are freed") {
  auto cfg = quick_backend();
  cfg.idle_sleep = std::chrono::milliseconds(5);
  hft::LogBackend backend(cfg);
  auto sink = capture();
  const int threads = 16, per_thread = 300;
  {
    hft::Logger log(backend, "t", sinks(sink));
    for (int t = 0; t < threads; ++t) {
      std::thread([&, t] {
        for (int i = 0; i < per_thread; ++i) HFT_LOG_INFO(log, "{}:{}", t, i);
      }).join();  // gone before the backend has drained it
    }
    log.flush();
  }
  CHECK(sink->size() == static_cast<std::size_t>(threads * per_thread));
  const auto st = backend.stats();
  CHECK(st.rings_created == static_cast<std::uint64_t>(threads));
  CHECK(st.rings_retired == static_cast<std::uint64_t>(threads));
}

TEST_CASE("loggers are created and destroyed while other threads log through the same backend") {
  hft::LogBackend backend(quick_backend());
  auto steady_sink = capture();
  hft::Logger steady(backend, "steady", sinks(steady_sink));
  std::atomic<bool> stop{false};
  std::atomic<int> logged{0};
  std::thread bg([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      HFT_LOG_INFO(steady, "bg {}", logged.load(std::memory_order_relaxed));
      logged.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const int rounds = static_cast<int>(200 / std::min<std::size_t>(hft::test::stress_divisor, 10));
  for (int r = 0; r < rounds; ++r) {
    auto sink = capture();
    {
      hft::Logger temp(backend, "temp" + std::to_string(r), sinks(sink));
      std::thread t([&] {
        for (int i = 0; i < 50; ++i) HFT_LOG_INFO(temp, "{} {}", r, i);
      });
      t.join();
      for (int i = 0; i < 50; ++i) HFT_LOG_INFO(temp, "main {} {}", r, i);
    }  // the destructor flushed: every line is in the sink now
    REQUIRE(sink->size() == 100);
  }
  stop = true;
  bg.join();
  steady.flush();
  CHECK(steady_sink->size() == static_cast<std::size_t>(logged.load()));
}

TEST_CASE("one thread logs through two backends, each in its own ring and order") {
  hft::LogBackend a(quick_backend());
  hft::LogBackend b(quick_backend());
  auto sa = capture();
  auto sb = capture();
  {
    hft::Logger la(a, "a", sinks(sa));
    hft::Logger lb(b, "b", sinks(sb));
    for (int i = 0; i < 1000; ++i) {
      HFT_LOG_INFO(la, "{}", i);
      HFT_LOG_INFO(lb, "{}", -i);
    }
    la.flush();
    lb.flush();
  }
  const auto ma = sa->messages();
  const auto mb = sb->messages();
  REQUIRE(ma.size() == 1000);
  REQUIRE(mb.size() == 1000);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(ma[static_cast<std::size_t>(i)] == std::to_string(i));
    REQUIRE(mb[static_cast<std::size_t>(i)] == std::to_string(-i));
  }
  CHECK(a.stats().rings_created == 1);
  CHECK(b.stats().rings_created == 1);
}

TEST_CASE("a backend destroyed and another created: the thread's stale cache is never used") {
  auto sink = capture();
  for (int round = 0; round < 5; ++round) {
    hft::LogBackend backend(quick_backend());
    hft::Logger log(backend, "t", sinks(sink));
    HFT_LOG_INFO(log, "round {}", round);
  }
  const auto m = sink->messages();
  REQUIRE(m.size() == 5);
  for (int r = 0; r < 5; ++r) CHECK(m[static_cast<std::size_t>(r)] == "round " + std::to_string(r));
}

TEST_CASE("a throwing sink is counted and the other sinks still get every line") {
  struct Throwing final : hft::LogSink {
    void write(const hft::LogRecordView&) override { throw std::runtime_error("disk on fire"); }
    void flush() override { throw std::runtime_error("still on fire"); }
  };
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  {
    hft::Logger log(backend, "t", {std::make_shared<Throwing>(), sink});
    for (int i = 0; i < 10; ++i) HFT_LOG_INFO(log, "{}", i);
    log.flush();
  }
  CHECK(sink->size() == 10);
  CHECK(backend.stats().sink_errors >= 10);
}

TEST_CASE("Logger construction refuses a null sink and a bad pattern") {
  hft::LogBackend backend(quick_backend());
  CHECK_THROWS_AS(hft::Logger(backend, "t", {nullptr}), std::invalid_argument);
  CHECK_THROWS_AS(hft::Logger(backend, "t", {capture()}, {.pattern = "{nope}"}), std::invalid_argument);
  static_assert(!std::is_copy_constructible_v<hft::Logger> && !std::is_move_constructible_v<hft::Logger>);
  hft::Logger ok(backend, "t", {});  // no sinks: lines are formatted and go nowhere
  HFT_LOG_INFO(ok, "nowhere");
  ok.flush();
  CHECK(ok.name() == "t");
  CHECK(ok.overflow() == hft::OverflowPolicy::Block);
  CHECK(&ok.backend() == &backend);
}

TEST_CASE("no allocation on the calling thread after its ring exists and its sites ran once") {
  // Counts the calling thread only: the sink stops counting on the backend thread.
  struct Uncounted final : hft::LogSink {
    std::atomic<int> lines{0};
    void write(const hft::LogRecordView&) override {
      hft::test::g_count_this_thread = false;
      lines.fetch_add(1, std::memory_order_relaxed);
    }
    void flush() override { hft::test::g_count_this_thread = false; }
  };
  hft::LogBackend backend(quick_backend(std::size_t{1} << 20));
  auto sink = std::make_shared<Uncounted>();
  hft::Logger log(backend, "t", {sink});
  const std::string s(40, 's');
  auto burst = [&](int n) {
    for (int i = 0; i < n; ++i) HFT_LOG_INFO(log, "{} {} {} {} {}", i, 2.5, s, Px{i}, "literal");
  };
  burst(1);  // the thread's ring and the site's registration
  log.flush();
  const long before = hft::test::g_news.load();
  burst(1000);
  const long after = hft::test::g_news.load();
  log.flush();
  HFT_CHECK_NO_NEW(before, after);
  CHECK(sink->lines.load() == 1001);
}

TEST_CASE("preallocate creates the calling thread's ring before its first line") {
  hft::LogBackend backend(quick_backend());
  auto sink = capture();
  hft::Logger log(backend, "t", sinks(sink));
  std::thread([&] {
    hft::set_current_thread_name("prealloc");
    CHECK(backend.preallocate());
    CHECK(backend.stats().rings_created == 1);
    CHECK(backend.preallocate());  // once per thread
    CHECK(backend.stats().rings_created == 1);
    HFT_LOG_INFO(log, "first line");
  }).join();
  log.flush();
  const auto l = sink->lines();
  REQUIRE(l.size() == 1);
  CHECK(l[0].thread == "prealloc");
  CHECK(backend.stats().rings_created == 1);
}
