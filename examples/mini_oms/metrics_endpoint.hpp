// mini_oms/metrics_endpoint.hpp: the HTTP server a Prometheus scraper reads the operator's
// metrics from (`mini_oms serve --metrics-port N`), off every hot path.
//
// Owns: MetricsEndpoint, GET /metrics over HTTP/1.1 on a thread of its own, and the
// connections it accepts. The body is prom_text.hpp's format, written by a render callback.
// May call: net.hpp (the listening socket), poll/accept4/recv/send, and the owner's render
// callback (on this thread, once per scrape). Nothing here touches the pipeline: render
// reads the counters and snapshots the owner keeps.
//
// Up to max_clients connections are served at once with poll(); each has one deadline
// (request read and reply written, 2 s by default), so a client that connects and sends
// nothing holds a slot for 2 s at most and never delays another's scrape. A request over
// 8 KiB or not HTTP is answered 400, a method other than GET/HEAD 405, a path other than
// /metrics 404, a render that throws 500. Every reply closes the connection (after the
// reply, unread input is drained for up to 0.5 s, so the client reads the reply, not a
// reset). Hostile input costs a slot for the deadline at most, never the process.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net.hpp"
#include "prom_text.hpp"

namespace mini_oms {

struct MetricsEndpointConfig {
  std::chrono::milliseconds deadline{2000};  ///< per connection: request read and reply written
  std::size_t max_request = 8192;            ///< bytes of request line + headers (without the blank line); more is 400
  std::size_t max_clients = 16;              ///< connections served at once (more wait in the backlog)
};

/// Relaxed counters: statistics, not synchronisation.
struct MetricsEndpointStats {
  std::uint64_t scrapes = 0;        ///< 200 replies (render called)
  std::uint64_t bad_requests = 0;   ///< 400, 404, 405
  std::uint64_t timeouts = 0;       ///< connections cut at their deadline before a reply
  std::uint64_t render_errors = 0;  ///< render threw: 500
};

/// GET /metrics over HTTP/1.1 on its own thread: `render(body)` fills the (cleared, reused)
/// body on that thread per scrape. start() and stop() from the owner's thread.
class MetricsEndpoint {
 public:
  using Render = std::function<void(std::string&)>;

  MetricsEndpoint(std::string host, std::uint16_t port, Render render)
      : MetricsEndpoint(std::move(host), port, MetricsEndpointConfig{}, std::move(render)) {}
  MetricsEndpoint(std::string host, std::uint16_t port, const MetricsEndpointConfig& cfg, Render render)
      : host_(std::move(host)), port_(port), cfg_(cfg), render_(std::move(render)) {}
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  ~MetricsEndpoint() { stop(); }

  /// The owner's thread: binds host:port (0: an ephemeral port) and starts the thread. Throws std::runtime_error
  /// "mini_oms::MetricsEndpoint: bind/listen on HOST:PORT: <strerror>" when it cannot listen.
  void start() {
    if (thread_.joinable()) throw std::logic_error("mini_oms::MetricsEndpoint: already started");
    try {
      listener_ = net::listen_tcp(host_, port_, true, 64);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("mini_oms::MetricsEndpoint: ") + e.what());
    }
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      close_fds();
      net::fail("mini_oms::MetricsEndpoint: eventfd");
    }
    try {  // every allocation of the loop, here: the thread allocates only as a reply grows
      clients_.resize(std::max<std::size_t>(cfg_.max_clients, 1));
      fds_.reserve(clients_.size() + 2);
      owner_.reserve(clients_.size() + 2);
    } catch (...) {
      close_fds();
      throw;
    }
    stop_.store(false, std::memory_order_relaxed);
    thread_ = std::thread([this] { run(); });
  }

  /// Any thread, after start(): the bound port.
  [[nodiscard]] std::uint16_t port() const noexcept { return listener_.port; }
  [[nodiscard]] const MetricsEndpointConfig& config() const noexcept { return cfg_; }
  /// Any thread: the counters (relaxed loads).
  [[nodiscard]] MetricsEndpointStats stats() const noexcept {
    return {scrapes_.load(std::memory_order_relaxed), bad_.load(std::memory_order_relaxed),
            timeouts_.load(std::memory_order_relaxed), render_errors_.load(std::memory_order_relaxed)};
  }

  /// The owner's thread: closes every connection and the listener, joins the thread. Idempotent;
  /// the destructor calls it.
  void stop() noexcept {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_relaxed);  // the eventfd write below wakes the poll
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t w = ::write(wake_fd_, &one, sizeof one);
      thread_.join();
    }
    close_fds();
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    int fd = -1;
    bool draining = false;  // reply sent, SHUT_WR done: read and drop until EOF (no RST on unread input)
    std::size_t sent = 0;
    Clock::time_point deadline;
    std::string in, out;
  };

  void close_fds() noexcept {
    for (Client& c : clients_) close_client(c);
    if (listener_.fd >= 0) ::close(listener_.fd);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    listener_.fd = wake_fd_ = -1;
  }
  static void close_client(Client& c) noexcept {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }

  void run() noexcept {
    std::vector<pollfd>& fds = fds_;
    std::vector<Client*>& owner = owner_;
    Clock::time_point listen_paused_until{};
    while (!stop_.load(std::memory_order_relaxed)) {
      const Clock::time_point now = Clock::now();
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      owner.assign(1, nullptr);
      Clock::time_point wake_at = Clock::time_point::max();
      bool free_slot = false;
      for (Client& c : clients_) {
        if (c.fd < 0) {
          free_slot = true;
          continue;
        }
        if (now >= c.deadline) {
          if (!c.draining) timeouts_.fetch_add(1, std::memory_order_relaxed);
          close_client(c);
          free_slot = true;
          continue;
        }
        const short ev = (!c.draining && c.sent < c.out.size()) ? POLLOUT : POLLIN;
        fds.push_back(pollfd{c.fd, ev, 0});
        owner.push_back(&c);
        wake_at = std::min(wake_at, c.deadline);
      }
      if (free_slot && now >= listen_paused_until) {
        fds.push_back(pollfd{listener_.fd, POLLIN, 0});
        owner.push_back(nullptr);
      } else if (free_slot) {
        wake_at = std::min(wake_at, listen_paused_until);
      }
      int timeout = -1;
      if (wake_at != Clock::time_point::max()) {
        timeout = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count());
      }
      if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (owner[i] == nullptr) {
          if (!accept_all()) listen_paused_until = Clock::now() + std::chrono::milliseconds(100);
        } else {
          serve(*owner[i], fds[i].revents);
        }
      }
    }
  }

  // Accepts into free slots; false when out of descriptors (the caller pauses the listener,
  // which would otherwise stay readable and spin the loop).
  bool accept_all() noexcept {
    for (Client& c : clients_) {
      if (c.fd >= 0) continue;
      const int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return !(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM);
      c.fd = fd;
      c.draining = false;
      c.sent = 0;
      c.in.clear();
      c.out.clear();
      c.deadline = Clock::now() + cfg_.deadline;
    }
    return true;
  }

  void serve(Client& c, short revents) noexcept {
    try {
      if (!c.draining && c.sent < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return close_client(c);
        if (n > 0) c.sent += static_cast<std::size_t>(n);
        if (c.sent == c.out.size()) {
          ::shutdown(c.fd, SHUT_WR);
          c.draining = true;
          c.deadline = std::min(c.deadline, Clock::now() + std::chrono::milliseconds(500));
        }
        return;
      }
      std::array<char, 4096> buf{};
      const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || (revents & (POLLERR | POLLNVAL))) {
        return close_client(c);
      }
      if (n < 0 || c.draining) return;
      c.in.append(buf.data(), static_cast<std::size_t>(n));
      // Decided on the bytes alone, never on how TCP cut them into reads (the fuzz target
      // metrics_http checks it): the head ends at the first blank line, and may be
      // max_request bytes long, its ending not counted.
      const std::size_t end = head_length(c.in);
      if (end == std::string::npos) {
        // A blank line starting within the limit would already be here.
        if (c.in.size() >= cfg_.max_request + 4) reply(c, "400 Bad Request", "request too large\n", false);
        return;
      }
      if (end > cfg_.max_request) return reply(c, "400 Bad Request", "request too large\n", false);
      respond(c, std::string_view(c.in).substr(0, end));
    } catch (...) {  // an allocation failure, or a render that threw past respond: drop the client
      close_client(c);
    }
  }

  // The length of the request line and headers, without the line ending before the first
  // blank line (LF or CRLF, either mixed), or npos while no blank line has arrived.
  static std::size_t head_length(std::string_view in) noexcept {
    for (std::size_t i = in.find('\n'); i != std::string_view::npos; i = in.find('\n', i + 1)) {
      const bool blank =
          (i + 1 < in.size() && in[i + 1] == '\n') || (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n');
      if (blank) return i > 0 && in[i - 1] == '\r' ? i - 1 : i;
    }
    return std::string_view::npos;
  }

  // The request line and headers (without the blank line): 400 unless they are HTTP.
  void respond(Client& c, std::string_view head) {
    const std::size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    bool ok = sp1 != std::string_view::npos && sp2 != std::string_view::npos && sp1 > 0 && sp1 <= 16;
    const std::string_view method = ok ? line.substr(0, sp1) : std::string_view{};
    const std::string_view target = ok ? line.substr(sp1 + 1, sp2 - sp1 - 1) : std::string_view{};
    const std::string_view version = ok ? line.substr(sp2 + 1) : std::string_view{};
    for (const char ch : method) ok = ok && ch >= 'A' && ch <= 'Z';
    ok = ok && target.starts_with('/') && (version == "HTTP/1.1" || version == "HTTP/1.0");
    for (const char ch : target) ok = ok && ch > ' ' && ch < 127;
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
    while (ok && !rest.empty()) {  // each header: "Name: value", no control byte but tab
      const std::size_t e = rest.find('\n');
      std::string_view h = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 1);
      if (h.ends_with('\r')) h.remove_suffix(1);
      const std::size_t colon = h.find(':');
      ok = colon != std::string_view::npos && colon > 0;
      for (const char ch : h) ok = ok && (static_cast<unsigned char>(ch) >= ' ' || ch == '\t') && ch != 127;
    }
    if (!ok) return reply(c, "400 Bad Request", "bad request\n", false);
    if (method != "GET" && method != "HEAD") return reply(c, "405 Method Not Allowed", "only GET\n", false);
    if (target.substr(0, target.find('?')) != "/metrics") return reply(c, "404 Not Found", "try /metrics\n", false);
    body_.clear();
    try {
      render_(body_);
    } catch (const std::exception& e) {
      render_errors_.fetch_add(1, std::memory_order_relaxed);
      body_ = "render failed: ";
      body_ += e.what();
      body_ += '\n';
      return reply(c, "500 Internal Server Error", body_, false);
    }
    scrapes_.fetch_add(1, std::memory_order_relaxed);
    reply(c, "200 OK", body_, true, method == "HEAD");
  }

  void reply(Client& c, std::string_view status, std::string_view body, bool metrics, bool head_only = false) {
    if (!metrics && status.starts_with('4')) bad_.fetch_add(1, std::memory_order_relaxed);
    c.out = "HTTP/1.1 ";
    c.out += status;
    c.out += metrics ? "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8" : "\r\nContent-Type: text/plain";
    if (status.starts_with("405")) c.out += "\r\nAllow: GET, HEAD";
    c.out += "\r\nContent-Length: ";
    c.out += std::to_string(body.size());
    c.out += "\r\nConnection: close\r\n\r\n";
    if (!head_only) c.out += body;
    c.sent = 0;
    serve(c, 0);  // most replies leave in one send()
  }

  std::string host_;
  std::uint16_t port_;
  MetricsEndpointConfig cfg_;
  Render render_;
  net::Listener listener_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};  // set by stop(), read by the loop
  std::thread thread_;
  std::vector<Client> clients_;  // the thread's, sized by start()
  std::vector<pollfd> fds_;      // the thread's poll set: the eventfd, the clients, the listener
  std::vector<Client*> owner_;   // the client of each fds_ entry (nullptr: eventfd, listener)
  std::string body_;
  std::atomic<std::uint64_t> scrapes_{0}, bad_{0}, timeouts_{0}, render_errors_{0};
};

}  // namespace mini_oms
