// End-to-end: an in-process server on a loopback port, the load generator with
// verification on, every scenario; a shutdown with requests in flight; slow readers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "loadgen.hpp"
#include "server.hpp"

using namespace mini_oms;

namespace {
ServerConfig small_config() {
  ServerConfig c;
  c.partitions = 2;
  c.workers = 2;
  c.ring_size = 1024;
  c.family_table = 1u << 14;
  return c;
}
LoadResult run(Server& s, const std::string& scenario, std::uint64_t n, std::uint64_t base, unsigned window = 16) {
  LoadConfig l;
  l.port = s.port();
  l.scenario = scenario;
  l.requests = n;
  l.window = window;
  l.id_base = base;
  l.connections = 3;
  return run_load(l);
}
void require_clean(const LoadResult& r) {
  INFO(r.scenario << ": " << (r.samples.empty() ? "" : r.samples.front()));
  REQUIRE(r.violations == 0);
  REQUIRE(r.replies == r.requests);
}
int connect_raw(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}
template <class F>
void for_each_line(const std::string& out, F&& fn) {
  for (std::size_t pos = 0; pos < out.size();) {
    const std::size_t nl = out.find('\n', pos);
    fn(out.substr(pos, nl - pos));
    pos = nl == std::string::npos ? out.size() : nl + 1;
  }
}
std::string read_all(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}
}  // namespace

TEST_CASE("every scenario verifies clean end to end", "[e2e]") {
  Server s(small_config());
  s.start();
  const std::uint64_t n = hft::test::scaled(20'000) < 400 ? 400 : hft::test::scaled(20'000);
  require_clean(run(s, "mixed", n, 1));
  require_clean(run(s, "uncorrelated", n, 100'000'000));
  require_clean(run(s, "bad-input", n, 200'000'000));
  const LoadResult hot = run(s, "hot-family", n, 300'000'000);
  require_clean(hot);
  CHECK(hot.rtt_cold.count() > 0);  // the others were answered during the flood
  s.stop();
  // Uncorrelated requests spread across both partitions.
  CHECK(s.partition_counter(0, Count::Published) > 0);
  CHECK(s.partition_counter(1, Count::Published) > 0);
}

TEST_CASE("a tiny ring answers REJ:BUSY fast and loses nothing", "[e2e]") {
  ServerConfig c = small_config();
  c.ring_size = 4;
  c.workers = 1;
  c.work_us = 100;
  Server s(c);
  s.start();
  const LoadResult r = run(s, "burst", 3000, 1, 200);
  require_clean(r);
  CHECK(r.by_type.count("REJ:BUSY") == 1);
  s.stop();
}

TEST_CASE("FAMILY_FULL rejects only the family past its pending limit", "[e2e]") {
  ServerConfig c = small_config();
  c.max_pending_per_family = 4;
  c.workers = 1;
  c.work_us = 200;
  Server s(c);
  s.start();
  const int fd = connect_raw(s.port());
  std::string burst;
  for (int i = 1; i <= 40; ++i) burst += std::to_string(i) + " 5 AAPL B 1 187.25\n";  // one family
  burst += "1000 6 AAPL B 1 187.25\n";                                                 // another
  REQUIRE(::send(fd, burst.data(), burst.size(), 0) == static_cast<ssize_t>(burst.size()));
  ::shutdown(fd, SHUT_WR);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.stop();
  const std::string out = read_all(fd);
  ::close(fd);
  std::size_t full = 0, acks = 0;
  for_each_line(out, [&](const std::string& line) {
    if (line.find("REJ:FAMILY_FULL") != std::string::npos) {
      ++full;
      CHECK(line.rfind("1000 ", 0) != 0);  // never the other family
    }
    if (line.find(" ACK ") != std::string::npos) ++acks;
  });
  CHECK(full > 0);
  CHECK(full + acks == 41);
  CHECK(out.find("1000 ACK 1 ") != std::string::npos);
}

TEST_CASE("shutdown with requests in flight answers every admitted request", "[e2e]") {
  ServerConfig c = small_config();
  c.workers = 1;
  c.work_us = 300;  // a slow stage: plenty still queued when stop() begins
  Server s(c);
  s.start();
  const int fd = connect_raw(s.port());
  std::string burst;
  const int n = 300;
  for (int i = 1; i <= n; ++i) burst += std::to_string(i) + " " + std::to_string(i % 7) + " MSFT S 3 410.5\n";
  REQUIRE(::send(fd, burst.data(), burst.size(), 0) == static_cast<ssize_t>(burst.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::thread stopper([&] { s.stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string late = "9999 1 MSFT S 3 410.5\n";  // after shutdown began: SHUTDOWN (or closed)
  (void)::send(fd, late.data(), late.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  const std::string out = read_all(fd);
  stopper.join();
  ::close(fd);
  std::vector<int> replies(n + 1, 0);
  int shutdown_rejects = 0;
  for_each_line(out, [&](const std::string& line) {
    const auto id = parse_u64(line.substr(0, line.find(' ')));
    REQUIRE(id);
    if (*id == 9999) {
      CHECK(line == "9999 REJ:SHUTDOWN");
      ++shutdown_rejects;
      return;
    }
    REQUIRE(*id <= static_cast<std::uint64_t>(n));
    ++replies[*id];
  });
  for (int i = 1; i <= n; ++i) {
    INFO("req " << i);
    CHECK(replies[static_cast<std::size_t>(i)] == 1);  // every request sent before stop: one reply
  }
  CHECK(shutdown_rejects <= 1);
}

TEST_CASE("a client that never reads is disconnected, the others are unaffected", "[e2e]") {
  ServerConfig c = small_config();
  c.out_buffer = 4096;
  Server s(c);
  s.start();
  const int lazy = connect_raw(s.port());
  const int rcv = 4096;
  ::setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  std::string burst;
  for (int i = 1; i <= 20000; ++i) burst += std::to_string(i) + " -1 AAPL B 1 187.25\n";
  std::thread writer([&] { (void)::send(lazy, burst.data(), burst.size(), MSG_NOSIGNAL); });
  const LoadResult r = run(s, "mixed", 2000, 1);  // meanwhile a well-behaved client
  writer.join();
  require_clean(r);
  for (int i = 0; i < 200 && s.counter(Count::SlowDisconnects) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(s.counter(Count::SlowDisconnects) == 1);
  ::close(lazy);
  s.stop();
}

TEST_CASE("replies of one family keep their order when some of its tasks run inline and some on workers", "[e2e]") {
  // Slice 1 and inline execution: an idle family's task runs on the I/O thread, its re-queued
  // slices on the worker; an inline reply written at once used to overtake a worker's reply
  // still queued for the same connection.
  for (const ExecuteMode mode : {ExecuteMode::Inline, ExecuteMode::Auto}) {
    ServerConfig c = small_config();
    c.execute = mode;
    c.slice = 1;
    c.workers = 1;
    Server s(c);
    s.start();
    require_clean(run(s, "hot-family", 4000, 1, 64));
    require_clean(run(s, "mixed", hft::test::scaled(40'000) + 2000, 50'000'000, 64));
    s.stop();
    CHECK(s.counter(Count::RanInline) > 0);
  }
}

TEST_CASE("every dispatch and execute mode verifies clean", "[e2e]") {
  for (const DispatchMode d : {DispatchMode::Ring, DispatchMode::Inline}) {
    for (const ExecuteMode e : {ExecuteMode::Pool, ExecuteMode::Inline, ExecuteMode::Auto}) {
      ServerConfig c = small_config();
      c.dispatch = d;
      c.execute = e;
      Server s(c);
      s.start();
      INFO("dispatch " << static_cast<int>(d) << " execute " << static_cast<int>(e));
      require_clean(run(s, "mixed", hft::test::scaled(20'000) + 1000, 1, 32));
      s.stop();
      CHECK(s.inline_dispatch() == (d == DispatchMode::Inline));
      if (e == ExecuteMode::Pool) CHECK(s.counter(Count::RanInline) == 0);
      if (e == ExecuteMode::Inline) CHECK(s.counter(Count::RanInline) > 0);
    }
  }
  ServerConfig two_io = small_config();
  two_io.io_threads = 2;
  two_io.dispatch = DispatchMode::Inline;
  CHECK_THROWS_WITH(Server(two_io), Catch::Contains("--dispatch inline needs --io-threads 1"));
}
