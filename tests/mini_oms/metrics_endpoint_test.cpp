#include "metrics_endpoint.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"

using namespace mini_oms;
using Ms = std::chrono::milliseconds;

namespace {

// The whole response to `request` (read until the server closes), or what came before `limit`.
std::string http(std::uint16_t port, const std::string& request, Ms limit = Ms(5000)) {
  const int fd = net::connect_tcp("127.0.0.1", port, false);
  std::size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (400) and stop reading before all is sent
    off += static_cast<std::size_t>(n);
  }
  std::string out;
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<Ms>(end - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string get(std::uint16_t port, const std::string& path) {
  std::string req = "GET ";
  req += path;
  req += " HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
  return http(port, req);
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

std::string body_of(const std::string& response) {
  const std::size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

void fixed_body(std::string& out) {
  PromText t(out);
  t.begin("mini_oms_requests_total", MetricType::counter, "Requests.");
  t.sample({{"partition", "0"}}, 42);
}

}  // namespace

TEST_CASE("PromText writes counters and gauges as the golden text", "[prom]") {
  std::string out;
  PromText t(out);
  t.begin("mini_oms_requests_total", MetricType::counter, "Requests published into the pipeline.");
  t.sample({{"partition", "0"}, {"port", "line"}}, std::uint64_t{10});
  t.sample({{"partition", "1"}, {"port", "fix"}}, 7);
  t.begin("mini_oms_connections", MetricType::gauge, "Open connections, with a \\ and a\nnewline.");
  t.sample({}, 3);
  t.begin("mini_oms_ratio", MetricType::gauge, "A double.");
  t.sample({}, 0.25);
  t.sample({{"k", "neg"}}, -2);
  const std::string expected =
      "# HELP mini_oms_requests_total Requests published into the pipeline.\n"
      "# TYPE mini_oms_requests_total counter\n"
      "mini_oms_requests_total{partition=\"0\",port=\"line\"} 10\n"
      "mini_oms_requests_total{partition=\"1\",port=\"fix\"} 7\n"
      "# HELP mini_oms_connections Open connections, with a \\\\ and a\\nnewline.\n"
      "# TYPE mini_oms_connections gauge\n"
      "mini_oms_connections 3\n"
      "# HELP mini_oms_ratio A double.\n"
      "# TYPE mini_oms_ratio gauge\n"
      "mini_oms_ratio 0.25\n"
      "mini_oms_ratio{k=\"neg\"} -2\n";
  CHECK(out == expected);
}

TEST_CASE("PromText escapes label values and writes special floats", "[prom]") {
  std::string out;
  PromText t(out);
  t.begin("x", MetricType::gauge, "h");
  t.sample({{"peer", "a\\b\"c\nd"}}, 1.5);
  t.sample({{"v", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  t.sample({{"v", "inf"}}, std::numeric_limits<double>::infinity());
  t.sample({{"v", "-inf"}}, -std::numeric_limits<double>::infinity());
  CHECK(out ==
        "# HELP x h\n# TYPE x gauge\n"
        "x{peer=\"a\\\\b\\\"c\\nd\"} 1.5\n"
        "x{v=\"nan\"} NaN\nx{v=\"inf\"} +Inf\nx{v=\"-inf\"} -Inf\n");
}

TEST_CASE("PromText refuses bad names and misuse", "[prom]") {
  std::string out;
  PromText t(out);
  for (const char* bad : {"", "1abc", "a-b", "a b", "é", "a.b"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(t.begin(bad, MetricType::counter, "h"), std::invalid_argument);
  }
  REQUIRE_THROWS_WITH(t.begin("a-b", MetricType::counter, "h"), Catch::Contains("bad metric name 'a-b'"));
  REQUIRE_THROWS_AS(t.sample({}, 1), std::logic_error);  // no family yet
  t.begin("ok:name_1", MetricType::counter, "h");
  for (const char* bad : {"", "__reserved", "a:b", "9x", "a-b"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(t.sample({{bad, "v"}}, 1), std::invalid_argument);
  }
  REQUIRE_THROWS_AS(t.begin("ok:name_1", MetricType::counter, "h"), std::logic_error);  // twice
  const hft::LatencyHistogram h;
  REQUIRE_THROWS_AS(t.histogram({}, h), std::logic_error);  // not a histogram family
  t.begin("lat_seconds", MetricType::histogram, "h");
  REQUIRE_THROWS_AS(t.sample({}, 1), std::logic_error);
  REQUIRE_THROWS_AS(t.histogram({{"le", "1"}}, h), std::invalid_argument);
  const std::vector<double> unsorted{0.1, 0.01};
  REQUIRE_THROWS_AS(t.histogram({}, h, unsorted), std::invalid_argument);
  const std::vector<double> inf{0.1, std::numeric_limits<double>::infinity()};
  REQUIRE_THROWS_AS(t.histogram({}, h, inf), std::invalid_argument);
}

TEST_CASE("PromText histogram is cumulative in seconds with +Inf equal to count", "[prom]") {
  hft::LatencyHistogram h;
  h.record(500, 3);        // 0.5 us
  h.record(2000, 2);       // 2 us
  h.record(1'000'000, 1);  // 1 ms
  std::string out;
  PromText t(out);
  t.begin("mini_oms_admit_seconds", MetricType::histogram, "Receive to admitted.");
  const std::vector<double> bounds{1e-6, 1e-5, 1e-3, 0.5};
  t.histogram({{"partition", "0"}}, h, bounds);
  const std::string head =
      "# HELP mini_oms_admit_seconds Receive to admitted.\n"
      "# TYPE mini_oms_admit_seconds histogram\n"
      "mini_oms_admit_seconds_bucket{partition=\"0\",le=\"1e-06\"} 3\n"
      "mini_oms_admit_seconds_bucket{partition=\"0\",le=\"1e-05\"} 5\n"
      "mini_oms_admit_seconds_bucket{partition=\"0\",le=\"0.001\"} 6\n"
      "mini_oms_admit_seconds_bucket{partition=\"0\",le=\"0.5\"} 6\n"
      "mini_oms_admit_seconds_bucket{partition=\"0\",le=\"+Inf\"} 6\n"
      "mini_oms_admit_seconds_sum{partition=\"0\"} ";
  REQUIRE(out.substr(0, head.size()) == head);
  const std::size_t sum_end = out.find('\n', head.size());
  const double sum = std::stod(out.substr(head.size(), sum_end - head.size()));
  CHECK(sum == Approx(1'005'500e-9).epsilon(1e-3));
  CHECK(out.substr(sum_end + 1) == "mini_oms_admit_seconds_count{partition=\"0\"} 6\n");

  SECTION("an empty histogram: every bucket 0, sum 0") {
    std::string e;
    PromText te(e);
    te.begin("empty_seconds", MetricType::histogram, "h");
    te.histogram({}, hft::LatencyHistogram{}, std::vector<double>{0.001});
    CHECK(e ==
          "# HELP empty_seconds h\n# TYPE empty_seconds histogram\n"
          "empty_seconds_bucket{le=\"0.001\"} 0\nempty_seconds_bucket{le=\"+Inf\"} 0\n"
          "empty_seconds_sum 0\nempty_seconds_count 0\n");
  }
}

TEST_CASE("PromText histogram counts agree with the recorded values within precision", "[prom]") {
  std::mt19937_64 rng(38);
  for (int round = 0; round < 20; ++round) {
    hft::LatencyHistogram h;
    std::vector<std::uint64_t> values;
    std::uniform_int_distribution<int> mag(0, 9);
    for (int i = 0; i < 2000; ++i) {
      const auto scale = static_cast<std::uint64_t>(std::pow(10.0, mag(rng)));
      values.push_back(std::uniform_int_distribution<std::uint64_t>(0, scale)(rng));
      h.record(values.back());
    }
    std::string out;
    PromText t(out);
    t.begin("r_seconds", MetricType::histogram, "h");
    t.histogram({}, h);
    std::vector<std::uint64_t> cum;
    std::size_t pos = 0;
    for (double b : kLatencyBucketsSeconds) {
      pos = out.find("r_seconds_bucket{le=", pos);
      REQUIRE(pos != std::string::npos);
      pos = out.find("} ", pos) + 2;
      cum.push_back(std::stoull(out.substr(pos)));
      std::uint64_t exact = 0, loose = 0;  // values <= b, and <= b widened by the precision
      for (auto v : values) {
        exact += static_cast<double>(v) <= b * 1e9 ? 1 : 0;
        loose += static_cast<double>(v) <= b * 1e9 * 1.002 ? 1 : 0;
      }
      INFO("bound " << b);
      CHECK(cum.back() >= exact);
      CHECK(cum.back() <= loose);
      if (cum.size() > 1) CHECK(cum.back() >= cum[cum.size() - 2]);
    }
    CHECK(out.find("r_seconds_bucket{le=\"+Inf\"} 2000\n") != std::string::npos);
    CHECK(out.find("r_seconds_count 2000\n") != std::string::npos);
  }
}

TEST_CASE("write_counters renders counter groups as one family per counter", "[prom]") {
  hft::CounterGroup p0{"requests", "admitted", "rejected_total"};
  hft::CounterGroup p1{"requests", "admitted"};
  p0.add(0, 5);
  p0.add(1, 4);
  p0.add(2, 1);
  p1.add(0, 2);
  const std::vector<Label> l0{{"partition", "0"}}, l1{{"partition", "1"}};
  const std::vector<LabeledCounters> groups{{&p0, l0}, {&p1, l1}};
  std::string out;
  PromText t(out);
  write_counters(t, groups);
  CHECK(out ==
        "# HELP mini_oms_requests_total mini_oms counter requests.\n"
        "# TYPE mini_oms_requests_total counter\n"
        "mini_oms_requests_total{partition=\"0\"} 5\n"
        "mini_oms_requests_total{partition=\"1\"} 2\n"
        "# HELP mini_oms_admitted_total mini_oms counter admitted.\n"
        "# TYPE mini_oms_admitted_total counter\n"
        "mini_oms_admitted_total{partition=\"0\"} 4\n"
        "mini_oms_admitted_total{partition=\"1\"} 0\n"
        "# HELP mini_oms_rejected_total mini_oms counter rejected_total.\n"
        "# TYPE mini_oms_rejected_total counter\n"
        "mini_oms_rejected_total{partition=\"0\"} 1\n");

  std::string one;
  PromText t1(one);
  hft::CounterGroup bad{"has-dash"};
  write_counters(t1, p1, {{"port", "line"}}, "gw_");
  CHECK(one.find("gw_requests_total{port=\"line\"} 2\n") != std::string::npos);
  REQUIRE_THROWS_AS(write_counters(t1, bad), std::invalid_argument);
}

TEST_CASE("MetricsEndpoint answers GET /metrics with the exposition body", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, fixed_body);
  ep.start();
  REQUIRE(ep.port() != 0);
  std::string expected;
  fixed_body(expected);
  for (int i = 0; i < 3; ++i) {  // the body buffer is reused: the same bytes each time
    const std::string r = get(ep.port(), "/metrics");
    CHECK(status_line(r) == "HTTP/1.1 200 OK");
    CHECK(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
    std::string length = "\r\nContent-Length: ";
    length += std::to_string(expected.size());
    length += "\r\n";
    CHECK(r.find(length) != std::string::npos);
    CHECK(r.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(body_of(r) == expected);
  }
  CHECK(body_of(get(ep.port(), "/metrics?name[]=x")) == expected);
  const std::string head = http(ep.port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
  CHECK(status_line(head) == "HTTP/1.1 200 OK");
  CHECK(body_of(head).empty());
  CHECK(ep.stats().scrapes == 5);
}

TEST_CASE("MetricsEndpoint answers 404, 405 and 400", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, fixed_body);
  ep.start();
  const std::uint16_t port = ep.port();
  CHECK(status_line(get(port, "/")) == "HTTP/1.1 404 Not Found");
  CHECK(status_line(get(port, "/metricsx")) == "HTTP/1.1 404 Not Found");
  const std::string post = http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(status_line(post) == "HTTP/1.1 405 Method Not Allowed");
  CHECK(post.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
  CHECK(status_line(http(port, "DELETE /metrics HTTP/1.1\r\n\r\n")) == "HTTP/1.1 405 Method Not Allowed");
  for (const char* bad : {"garbage\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
                          "GET metrics HTTP/1.1\r\n\r\n", "get /metrics HTTP/1.1\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                          "GET /met\x01rics HTTP/1.1\r\n\r\n", "\r\n\r\n"}) {
    INFO(bad);
    CHECK(status_line(http(port, bad)) == "HTTP/1.1 400 Bad Request");
  }
  std::string nul = "GET /metrics HTTP/1.1\r\nX: a";
  nul += '\0';
  nul += "b\r\n\r\n";
  CHECK(status_line(http(port, nul)) == "HTTP/1.1 400 Bad Request");
  SECTION("a request over 8 KiB is 400, with or without its end") {
    CHECK(status_line(http(port, std::string(9000, 'a'))) == "HTTP/1.1 400 Bad Request");
    std::string big = "GET /metrics HTTP/1.1\r\nX-Pad: ";
    big += std::string(20000, 'p');
    big += "\r\n\r\n";
    CHECK(status_line(http(port, big)) == "HTTP/1.1 400 Bad Request");
  }
  CHECK(status_line(get(port, "/metrics")) == "HTTP/1.1 200 OK");  // still serving
  CHECK(ep.stats().bad_requests >= 14);
}

TEST_CASE("MetricsEndpoint survives random bytes and answers the next scrape", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, {.deadline = Ms(200)}, fixed_body);
  ep.start();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 60; ++i) {
    std::string junk(std::uniform_int_distribution<std::size_t>(0, 12000)(rng), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 3 == 0) junk += "\r\n\r\n";
    (void)http(ep.port(), junk, Ms(1000));
  }
  CHECK(status_line(get(ep.port(), "/metrics")) == "HTTP/1.1 200 OK");
}

TEST_CASE("MetricsEndpoint answers 500 when render throws and serves on", "[http]") {
  std::atomic<bool> fail{true};
  MetricsEndpoint ep("127.0.0.1", 0, [&](std::string& out) {
    if (fail) throw std::runtime_error("boom");
    fixed_body(out);
  });
  ep.start();
  const std::string r = get(ep.port(), "/metrics");
  CHECK(status_line(r) == "HTTP/1.1 500 Internal Server Error");
  CHECK(body_of(r) == "render failed: boom\n");
  fail = false;  // the previous reply, read to EOF, orders this write before the next render
  CHECK(status_line(get(ep.port(), "/metrics")) == "HTTP/1.1 200 OK");
  CHECK(ep.stats().render_errors == 1);
}

TEST_CASE("MetricsEndpoint answers a scrape while another client sends nothing", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, fixed_body);
  ep.start();
  const int silent = net::connect_tcp("127.0.0.1", ep.port(), false);
  const int half = net::connect_tcp("127.0.0.1", ep.port(), false);
  REQUIRE(::send(half, "GET /metr", 9, MSG_NOSIGNAL) == 9);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(status_line(get(ep.port(), "/metrics")) == "HTTP/1.1 200 OK");
  CHECK(std::chrono::steady_clock::now() - t0 < Ms(1000));  // not behind the silent ones' 2 s deadline
  ::close(silent);
  ::close(half);
}

TEST_CASE("MetricsEndpoint with one slot answers the next client after the deadline", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, {.deadline = Ms(300), .max_clients = 1}, fixed_body);
  ep.start();
  const int silent = net::connect_tcp("127.0.0.1", ep.port(), false);
  std::this_thread::sleep_for(Ms(50));  // the silent client takes the only slot first
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(status_line(get(ep.port(), "/metrics")) == "HTTP/1.1 200 OK");
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited < Ms(2000));
  char c = 0;
  CHECK(::recv(silent, &c, 1, 0) == 0);  // cut at its deadline without a reply
  ::close(silent);
  CHECK(ep.stats().timeouts == 1);
}

TEST_CASE("MetricsEndpoint stop returns while a client is connected and is idempotent", "[http]") {
  MetricsEndpoint ep("127.0.0.1", 0, fixed_body);
  ep.start();
  const int silent = net::connect_tcp("127.0.0.1", ep.port(), false);
  std::this_thread::sleep_for(Ms(50));
  const auto t0 = std::chrono::steady_clock::now();
  ep.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < Ms(1000));
  ep.stop();
  char c = 0;
  CHECK(::recv(silent, &c, 1, 0) <= 0);
  ::close(silent);
  MetricsEndpoint never_started("127.0.0.1", 0, fixed_body);
  never_started.stop();  // and the destructor after it
}

TEST_CASE("MetricsEndpoint refuses a port in use naming host and port", "[http]") {
  MetricsEndpoint a("127.0.0.1", 0, fixed_body);
  a.start();
  MetricsEndpoint b("127.0.0.1", a.port(), fixed_body);
  std::string where = "127.0.0.1:";
  where += std::to_string(a.port());
  REQUIRE_THROWS_WITH(
      b.start(), Catch::Contains("mini_oms::MetricsEndpoint") && Catch::Contains(where) && Catch::Contains("in use"));
  MetricsEndpoint c("not-an-address", 0, fixed_body);
  REQUIRE_THROWS_AS(c.start(), std::runtime_error);
  CHECK(status_line(get(a.port(), "/metrics")) == "HTTP/1.1 200 OK");  // the first one is untouched
}
