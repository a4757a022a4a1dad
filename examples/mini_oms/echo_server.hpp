// mini_oms/echo_server.hpp: the TCP round-trip floor the load generator and `mini_oms bench`
// measure against: a single-threaded epoll server that writes back every byte it reads.
// May call: net.hpp.
#pragma once

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "net.hpp"

namespace mini_oms {

/// The TCP floor: a single-threaded epoll server that writes back every byte it reads.
class EchoServer {
 public:
  EchoServer() {
    const net::Listener l = net::listen_tcp("127.0.0.1", 0, false, 128);
    lfd_ = l.fd;
    port_ = l.port;
    thread_ = std::thread([this] { run(); });
    if (::pthread_getcpuclockid(thread_.native_handle(), &cpu_clock_) != 0) cpu_clock_ = CLOCK_THREAD_CPUTIME_ID;
  }
  ~EchoServer() {
    stop_.store(true);
    thread_.join();
    ::close(lfd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// CPU time its thread has used so far (ns).
  [[nodiscard]] std::uint64_t cpu_ns() const {
    timespec ts{};
    if (::clock_gettime(cpu_clock_, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
  }

 private:
  void run() {
    const int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd_, &ev);
    epoll_event evs[64];
    char buf[65536];
    while (!stop_.load()) {
      const int n = ::epoll_wait(ep, evs, 64, 20);
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == lfd_) {
          const int c = ::accept(lfd_, nullptr, nullptr);
          if (c < 0) continue;
          net::set_nodelay(c);
          ev.events = EPOLLIN;
          ev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
          continue;
        }
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          ::close(fd);
          continue;
        }
        for (ssize_t off = 0; off < got;) {  // blocking socket: the client reads
          const ssize_t w = ::send(fd, buf + off, static_cast<std::size_t>(got - off), MSG_NOSIGNAL);
          if (w <= 0) break;
          off += w;
        }
      }
    }
    ::close(ep);
  }
  int lfd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  clockid_t cpu_clock_{};
};

}  // namespace mini_oms
