// mini_oms/net.hpp: the few socket calls every part of the example needs (the server's
// listener, the echo floor's, the load generator's and the tests' clients), once.
// Errors throw std::runtime_error naming the call, the address and strerror.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace mini_oms::net {

/// The text for an errno value, into the caller's buffer: no allocation, no virtual call and
/// thread-safe (strerror is not). The gateway logs with it while the process is out of
/// descriptors, where error_category::message's virtual call trips UBSan's vptr check (the
/// check probes memory through a pipe, which cannot be created then).
inline const char* errno_text(int err, char (&buf)[128]) noexcept {
  return ::strerror_r(err, buf, sizeof buf);  // the GNU form: returns the text, maybe not buf
}

[[noreturn]] inline void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::generic_category().message(errno));  // strerror is MT-unsafe
}

inline sockaddr_in address(const std::string& host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: '" + host + "'");
  }
  return a;
}

inline void set_nonblocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL, 0);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) fail("fcntl(O_NONBLOCK)");
}

/// Small requests and replies go out at once (no Nagle delay).
inline void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Listener {
  int fd = -1;
  std::uint16_t port = 0;  // the bound one (port 0 asks for an ephemeral port)
};

/// A listening socket on host:port (SO_REUSEADDR), non-blocking if asked.
inline Listener listen_tcp(const std::string& host, std::uint16_t port, bool nonblocking, int backlog = 512) {
  Listener l;
  l.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (l.fd < 0) fail("socket()");
  const int one = 1;
  ::setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = address(host, port);
  if (::bind(l.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l.fd, backlog) != 0) {
    const int e = errno;
    ::close(l.fd);
    errno = e;
    fail("bind/listen on " + host + ":" + std::to_string(port));
  }
  socklen_t len = sizeof a;
  ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&a), &len);
  l.port = ntohs(a.sin_port);
  if (nonblocking) set_nonblocking(l.fd);
  return l;
}

/// A connected TCP socket with TCP_NODELAY, non-blocking if asked.
inline int connect_tcp(const std::string& host, std::uint16_t port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket()");
  const sockaddr_in a = address(host, port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail("connect to " + host + ":" + std::to_string(port));
  }
  set_nodelay(fd);
  if (nonblocking) set_nonblocking(fd);
  return fd;
}

}  // namespace mini_oms::net
