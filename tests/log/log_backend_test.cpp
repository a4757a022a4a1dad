#include "hft/log/log_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/log/file_sink.hpp"
#include "hft/log/logger.hpp"
#include "log_test_support.hpp"

using hft::test::CaptureSink;

namespace {

hft::LogBackendConfig small() {
  hft::LogBackendConfig c;
  c.ring_bytes = std::size_t{1} << 16;
  c.reorder_window = std::chrono::microseconds(50);
  c.idle_sleep = std::chrono::microseconds(50);
  return c;
}

std::string read_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

std::string temp_path(const char* name) {
  return "/tmp/hft_log_backend_test_" + std::to_string(::getpid()) + "_" + name + ".log";
}

enum class Death { Segv, Abort, Term, Fpe };

// In a child: a backend with the crash handler and a file sink; K lines, then death.
// The parent: the child died of the signal (or, under a sanitizer that owns the signal,
// exited with an error), and the file holds all K lines.
void crash_child(Death how, const std::string& path, int k) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The test framework's (and a sanitizer's) handlers are not the child's business: the
    // child should die exactly as an uninstrumented process would.
    for (const int sig : {SIGSEGV, SIGABRT, SIGTERM, SIGFPE}) (void)::signal(sig, SIG_DFL);
    hft::LogBackendConfig cfg = small();
    cfg.crash_handler = true;
    cfg.idle_sleep = std::chrono::milliseconds(200);  // asleep when the signal comes
    cfg.reorder_window = std::chrono::seconds(5);     // nothing would be written without the handler
    auto* backend = new hft::LogBackend(cfg);         // never destroyed: the process dies
    auto* log = new hft::Logger(*backend, "crash", {std::make_shared<hft::FileSink>(path)});
    for (int i = 0; i < k; ++i) HFT_LOG_ERROR(*log, "line {} of {}", i, k);
    switch (how) {
      case Death::Segv:
        (void)::raise(SIGSEGV);
        break;
      case Death::Abort:
        std::abort();
      case Death::Term:
        (void)::kill(::getpid(), SIGTERM);
        break;
      case Death::Fpe:
        (void)::raise(SIGFPE);
        break;
    }
    ::_exit(3);  // not reached when the handler re-raises
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const int expected = how == Death::Segv    ? SIGSEGV
                       : how == Death::Abort ? SIGABRT
                       : how == Death::Term  ? SIGTERM
                                             : SIGFPE;
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == expected);
  const std::string text = read_file(path);
  CHECK(count_lines(text, " of " + std::to_string(k)) == static_cast<std::size_t>(k));
  CHECK(text.find("line " + std::to_string(k - 1) + " of") != std::string::npos);
  ::unlink(path.c_str());
}

}  // namespace

TEST_CASE("LogBackendConfig fields out of range are refused at construction") {
  auto bad = [](auto mutate) {
    hft::LogBackendConfig c = small();
    mutate(c);
    return c;
  };
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.ring_bytes = 63; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.ring_bytes = (std::size_t{1} << 31) + 1; })),
                  std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.max_ring_bytes = 1024; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.reorder_window = std::chrono::nanoseconds(-1); })),
                  std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.reorder_window = std::chrono::seconds(11); })),
                  std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.idle_sleep = std::chrono::seconds(2); })), std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.thread_name = "a-name-longer-than-15"; })),
                  std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.crash_signals = {SIGKILL}; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.crash_signals = {0}; })), std::invalid_argument);
  CHECK_THROWS_AS(hft::LogBackend(bad([](auto& c) { c.cpu = 1 << 20; })), std::system_error);
  try {
    hft::LogBackend b(bad([](auto& c) { c.ring_bytes = 10; }));
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "hft::LogBackend: ring_bytes must be in [64, 2^31], got 10");
  }
  // The limits themselves are accepted: 0 window and 0 idle sleep (a spinning backend).
  hft::LogBackend ok(bad([](auto& c) {
    c.reorder_window = std::chrono::nanoseconds(0);
    c.idle_sleep = std::chrono::nanoseconds(0);
    c.ring_bytes = 64;
    c.max_ring_bytes = 64;
  }));
  auto sink = std::make_shared<CaptureSink>();
  {
    hft::Logger log(ok, "t", {sink});
    HFT_LOG_INFO(log, "tiny ring {}", 1);  // 24 + 4 bytes: fits a 32-byte record
    HFT_LOG_INFO(log, "tiny ring {}", "truncated to fit");
    log.flush();
  }
  REQUIRE(sink->size() == 2);
  CHECK(sink->messages()[0] == "tiny ring 1");
  CHECK(ok.config().ring_bytes == 64);
}

TEST_CASE("one backend at a time has the crash handler") {
  hft::LogBackendConfig c = small();
  c.crash_handler = true;
  c.crash_signals = {SIGUSR2};
  {
    hft::LogBackend first(c);
    CHECK_THROWS_AS(hft::LogBackend(c), std::logic_error);
  }
  hft::LogBackend again(c);  // released by the first one's destruction
  struct sigaction now {};
  ::sigaction(SIGUSR2, nullptr, &now);
  CHECK((now.sa_flags & SA_SIGINFO) != 0);
}

TEST_CASE("the crash handler restores the previous action when the backend goes away") {
  struct sigaction before {};
  ::sigaction(SIGUSR2, nullptr, &before);
  {
    hft::LogBackendConfig c = small();
    c.crash_handler = true;
    c.crash_signals = {SIGUSR2};
    hft::LogBackend b(c);
  }
  struct sigaction after {};
  ::sigaction(SIGUSR2, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);
}

TEST_CASE("crash: a child killed by SIGSEGV after K lines leaves all K in its file") {
  crash_child(Death::Segv, temp_path("segv"), 500);
}

TEST_CASE("crash: a child that aborts after K lines leaves all K in its file") {
  crash_child(Death::Abort, temp_path("abort"), 500);
}

TEST_CASE("crash: a child sent SIGTERM after K lines leaves all K in its file and dies of SIGTERM") {
  crash_child(Death::Term, temp_path("term"), 500);
}

TEST_CASE("crash: SIGFPE drains too") { crash_child(Death::Fpe, temp_path("fpe"), 50); }

TEST_CASE("a clean exit drains every ring: the destructor writes what the window held back") {
  const std::string path = temp_path("exit");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    hft::LogBackendConfig cfg = small();
    cfg.reorder_window = std::chrono::seconds(5);
    static hft::LogBackend backend(cfg);  // destroyed by exit()
    static hft::Logger* log = new hft::Logger(backend, "x", {std::make_shared<hft::FileSink>(path)});
    for (int i = 0; i < 300; ++i) HFT_LOG_INFO(*log, "exit line {}", i);
    // The logger is leaked on purpose: a Logger's destructor would flush; this proves the
    // backend's own drain at exit.
    std::exit(0);  // NOLINT(concurrency-mt-unsafe): the test is what exit() does; one thread logs
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(count_lines(read_file(path), "exit line ") == 300);
  ::unlink(path.c_str());
}

TEST_CASE("records that name an unknown call site or logger are counted and skipped") {
  hft::LogBackend backend(small());
  auto sink = std::make_shared<CaptureSink>();
  hft::Logger log(backend, "t", {sink});
  HFT_LOG_INFO(log, "before");
  hft::detail::LogThread* t = backend.attach_thread();
  REQUIRE(t != nullptr);
  auto forge = [&](std::uint32_t site, std::uint32_t logger) {
    hft::detail::LogRecordHeader h{32, site, hft::TscClock::ticks(), logger, 0};
    std::byte* p = t->producer_ring().try_reserve(32);
    REQUIRE(p != nullptr);
    std::memset(p, 0, 32);
    std::memcpy(p, &h, sizeof h);
    t->producer_ring().commit(32);
  };
  forge(0, 0);
  forge(hft::detail::LogSiteTable::kMaxSites - 1, 0);
  forge(1, 9999);
  HFT_LOG_INFO(log, "after");
  log.flush();
  CHECK(sink->messages() == std::vector<std::string>{"before", "after"});
  CHECK(backend.stats().corrupt_records == 3);
}

TEST_CASE("flush from many threads at once: each returns with its own lines written") {
  hft::LogBackend backend(small());
  auto sink = std::make_shared<CaptureSink>();
  hft::Logger log(backend, "t", {sink});
  const int threads = 3, rounds = static_cast<int>(100 / std::min<std::size_t>(hft::test::stress_divisor, 10));
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const std::string mine = "t" + std::to_string(t) + " r" + std::to_string(r);
        HFT_LOG_INFO(log, "{}", mine);
        log.flush();
        bool found = false;
        for (const auto& m : sink->messages()) found = found || m == mine;
        if (!found) failures.fetch_add(1);
      }
    });
  for (auto& th : ts) th.join();
  CHECK(failures.load() == 0);
  CHECK(sink->size() == static_cast<std::size_t>(threads * rounds));
}

TEST_CASE("stats count what happened") {
  hft::LogBackend backend(small());
  auto sink = std::make_shared<CaptureSink>();
  {
    hft::Logger log(backend, "t", {sink});
    for (int i = 0; i < 10; ++i) HFT_LOG_INFO(log, "{}", i);
    std::thread([&] { HFT_LOG_INFO(log, "other thread"); }).join();
    log.flush();
  }
  const auto s = backend.stats();
  CHECK(s.lines_written == 11);
  CHECK(s.rings_created == 2);
  CHECK(s.lines_dropped == 0);
  CHECK(s.corrupt_records == 0);
  CHECK(s.flushes >= 2);  // the explicit one and the Logger destructor's
  CHECK(backend.id() != 0);
}
